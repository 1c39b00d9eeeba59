import { describe, expect, it } from 'vitest';
import { addMonths, monthCutoffIso, monthRange, parseMonth } from '../../../lib/month';
import { downstreamOf, STAGE_NAMES } from '../../../lib/dag';
import { makeRunId, monthlyWorkflowId } from '../../../lib/ids';

describe('months, cutoffs and the DAG', () => {
  it('puts the cutoff at the last instant of the month, UTC', () => {
    expect(monthCutoffIso('2011-12')).toBe('2011-12-31T23:59:59.999Z');
    expect(monthCutoffIso('2024-02')).toBe('2024-02-29T23:59:59.999Z');
    expect(monthCutoffIso('1997-09')).toBe('1997-09-30T23:59:59.999Z');
  });

  it('walks months across years', () => {
    expect(addMonths('2023-11', 3)).toBe('2024-02');
    expect(addMonths('2024-01', -1)).toBe('2023-12');
    expect(monthRange('2023-11', '2024-02')).toEqual(['2023-11', '2023-12', '2024-01', '2024-02']);
  });

  it('rejects a malformed month', () => {
    expect(() => parseMonth('2023-13')).toThrow(/YYYY-MM/);
    expect(() => parseMonth('23-01')).toThrow(/YYYY-MM/);
  });

  it('orders stages so that every dependency comes first', () => {
    expect(STAGE_NAMES.indexOf('ingest')).toBeLessThan(STAGE_NAMES.indexOf('clean'));
    expect(downstreamOf('ingest')).toEqual(STAGE_NAMES);
    expect(downstreamOf('clean')).not.toContain('ingest');
  });

  it('derives one workflow id per dataset and month, and sortable run ids', () => {
    expect(monthlyWorkflowId('shop', '2024-01')).toBe('custflow-shop-2024-01');
    expect(makeRunId(new Date('2026-11-22T08:13:36.898Z'), '01a20251-5f02-7b61')).toBe(
      '20261122T081336Z-01a20251',
    );
  });
});
