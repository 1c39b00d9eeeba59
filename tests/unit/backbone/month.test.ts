import { describe, expect, it } from 'vitest';
import { addMonths, monthCutoffIso, monthRange, parseMonth } from '../../../lib/month';
import { downstreamOf, STAGE_NAMES } from '../../../lib/stageRegistry';
import { makeRunId, monthlyWorkflowId } from '../../../lib/ids';
import { Rng } from '../../../lib/random';

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
    expect(makeRunId(new Date('2026-11-22T08:13:36.898Z'), '019ae2f1-5f02-7b61-9c3d-4e5f60718293')).toBe(
      '20261122T081336Z-4e5f60718293',
    );
  });

  it('gives runs started in the same millisecond different ids (UUIDv7 run ids share their leading digits)', () => {
    const start = new Date('2026-12-03T06:44:01.000Z');
    const ids = new Set<string>();
    const rng = new Rng(12345);
    const hex = (digits: number): string => {
      let out = '';
      for (let i = 0; i < digits; i++) out += rng.int(16).toString(16);
      return out;
    };
    // 50 UUIDv7s of one millisecond: same 48-bit timestamp, random tails
    for (let i = 0; i < 50; i++) ids.add(makeRunId(start, `019ae2f1-5f02-7${hex(3)}-9${hex(3)}-${hex(12)}`));
    expect(ids.size).toBe(50);
  });
});
