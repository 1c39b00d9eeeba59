/** The report's customer attributes card: verdicts from the configured correction, levels, escaping, skips. */
import { describe, expect, it } from 'vitest';
import {
  attributeTestsCard,
  type ReportAttributeTests,
} from '../../../activities/report/cards/attributeTests';
import type { Ctx } from '../../../activities/report/html/blocks';
import type { ReportData } from '../../../activities/report/model';

const ctx: Ctx = {
  data: {} as ReportData,
  currency: undefined,
  money: (v) => (v === null || v === undefined ? '—' : v.toFixed(2)),
  moneyShort: (v) => v.toFixed(0),
};

const test = (
  over: Partial<ReportAttributeTests['tests'][number]>,
): ReportAttributeTests['tests'][number] => ({
  attribute: 'tier',
  type: 'string',
  role: 'dimension',
  test: 'one-way ANOVA',
  customers: 100,
  missing: 0,
  statistic: 5,
  df1: 2,
  df2: 97,
  pValue: 0.02,
  pHolm: 0.06,
  pBenjaminiHochberg: 0.04,
  effectSize: { name: 'eta_squared', value: 0.09 },
  secondaryEffect: { name: 'omega_squared', value: 0.07 },
  significant: true,
  ...over,
});

const result: ReportAttributeTests = {
  outcome: 'log(1 + net spend)',
  correction: 'bh',
  alpha: 0.05,
  customers: 100,
  buyersWithoutAttributes: 4,
  associated: ['tier'],
  tests: [
    test({ levels: [{ level: '<b>gold</b>', customers: 40, meanSpend: 120, meanLogSpend: 4.8 }] }),
    test({ attribute: 'colour', pValue: 0.5, pHolm: 1, pBenjaminiHochberg: 0.5, significant: false }),
    test({
      attribute: 'region',
      pValue: null,
      pHolm: null,
      pBenjaminiHochberg: null,
      effectSize: null,
      significant: false,
      skipped: 'fewer than two levels among 100 customers',
    }),
  ],
};

describe('customer attributes card', () => {
  it('shows each test with its corrected p-value and verdict, the associated levels and the skips', () => {
    const html = attributeTestsCard(ctx, result);
    expect(html).toContain(
      'Benjamini-Hochberg correction across 2 tests at 0.05; 4 buyers have no attributes row.',
    );
    expect(html.match(/>associated</g)).toHaveLength(1);
    expect(html.match(/>no evidence</g)).toHaveLength(1);
    expect(html.match(/>not tested</g)).toHaveLength(1);
    expect(html).toContain('0.040'); // the BH-corrected p of tier, not Holm's 0.060
    expect(html).not.toContain('0.060');
    expect(html).toContain('&lt;b&gt;gold&lt;/b&gt;');
    expect(html).toContain('region: fewer than two levels among 100 customers.');
  });
});
