/**
 * Strategic card: customer attributes against spend (features' attribute_tests.json, issue 14). One row per
 * declared attribute: its test, the customers in it, the effect size, the raw and corrected p-values, and
 * whether it is associated with spend after the correction; the levels of each associated dimension below.
 */
import { readFile } from 'node:fs/promises';
import type { AttributeTestsResult } from '../../features/contract';
import { escapeHtml as esc, fmtInt, fmtNum, fmtP } from '../format';
import { type Ctx, badge, card, code, table } from '../html/blocks';

export type ReportAttributeTests = AttributeTestsResult;

/** attribute_tests.json, or undefined when the dataset has no customers table. */
export async function attributeTestsSection(
  path: string | undefined,
): Promise<ReportAttributeTests | undefined> {
  return path ? (JSON.parse(await readFile(path, 'utf8')) as ReportAttributeTests) : undefined;
}

const CORRECTION_NAME = { bh: 'Benjamini-Hochberg', holm: 'Holm' } as const;

export function attributeTestsCard(ctx: Ctx, result: ReportAttributeTests): string {
  const corrected = (t: ReportAttributeTests['tests'][number]) =>
    result.correction === 'holm' ? t.pHolm : t.pBenjaminiHochberg;
  const rows = result.tests.map((t) => [
    code(t.attribute),
    // extension columns: tested through each buyer's mean (measure) or first line's level (dimension)
    `${t.role} (${t.type})${t.source === 'transactions' || t.source === 'events' ? `, ${t.source} column` : ''}`,
    t.test,
    fmtInt(t.customers),
    fmtInt(t.missing),
    t.effectSize
      ? `${t.effectSize.name === 'eta_squared' ? 'η²' : 'r²'} ${fmtNum(t.effectSize.value, 3)}`
      : '',
    fmtP(t.pValue),
    fmtP(corrected(t)),
    t.skipped
      ? badge('not tested', 'neutral')
      : t.significant
        ? badge('associated', 'ok')
        : badge('no evidence', 'neutral'),
  ]);
  const levels = result.tests
    .filter((t) => t.significant && t.levels && t.levels.length > 0)
    .map(
      (t) =>
        `<h4>${esc(t.attribute)}: mean spend by level</h4>` +
        table(
          [{ label: 'Level' }, { label: 'Customers', numeric: true }, { label: 'Mean spend', numeric: true }],
          t.levels!.map((l) => [l.level, fmtInt(l.customers), ctx.money(l.meanSpend)]),
        ),
    );
  const skipped = result.tests.filter((t) => t.skipped);
  const extensionTests = result.tests.filter((t) => t.source === 'transactions' || t.source === 'events');
  const lede =
    (result.customers > 0
      ? `${fmtInt(result.customers)} customers with attributes and a purchase; `
      : 'No customers table; ') +
    (extensionTests.length > 0
      ? `extension columns over every buyer (a measure by the buyer's mean, a dimension by the level of the buyer's first line); `
      : '') +
    `outcome ${result.outcome}. ` +
    `${CORRECTION_NAME[result.correction]} correction across ${result.tests.filter((t) => t.pValue !== null).length} tests at ${fmtNum(result.alpha, 2)}` +
    (result.buyersWithoutAttributes > 0
      ? `; ${fmtInt(result.buyersWithoutAttributes)} buyers have no attributes row.`
      : '.');
  return card(
    'Customer attributes and spend',
    lede,
    table(
      [
        { label: 'Attribute' },
        { label: 'Kind' },
        { label: 'Test' },
        { label: 'Customers', numeric: true },
        { label: 'Missing', numeric: true },
        { label: 'Effect size' },
        { label: 'p', numeric: true },
        { label: 'p corrected', numeric: true },
        { label: 'Verdict' },
      ],
      rows,
    ) +
      levels.join('') +
      (skipped.length > 0
        ? `<p class="note">${skipped.map((t) => `${esc(t.attribute)}: ${esc(t.skipped ?? '')}`).join('; ')}.</p>`
        : ''),
    'attribute-tests',
  );
}
