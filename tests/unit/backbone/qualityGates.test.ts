/**
 * Data-quality gates: each gate passes, warns or fails at its thresholds, says what it measured, and
 * says so when it cannot measure (no previous month, nothing kept). Thresholds come from the config
 * schema's defaults, so a dataset without a `clean.quality` section gets these outcomes.
 */
import { describe, expect, it } from 'vitest';
import {
  evaluateQualityGates,
  qualityWarningCode,
  type QualityGateInputs,
} from '../../../activities/clean/qualityGates';
import { qualityGatesSection } from '../../../lib/stageConfig/clean';

const DEFAULTS = qualityGatesSection.parse({});

// Online Retail 2011-12 as the clean stage counts it
const ONLINE_RETAIL: QualityGateInputs = {
  inputRows: 541_909,
  outputRows: 401_564,
  quarantinedRows: 135_077,
  lastTs: '2011-12-09T12:50:00.000Z',
  cutoffIso: '2011-12-31T23:59:59.999Z',
  previous: { month: '2011-11', runId: 'r-2011-11', outputRows: 384_000 },
};

describe('quality gates', () => {
  it('has documented defaults', () => {
    expect(DEFAULTS).toEqual({
      quarantineShare: { warn: 0.3, fail: 0.9 },
      staleDays: { warn: 7, fail: null },
      rowCountChange: { warn: 0.5, fail: null },
    });
  });

  it('passes Online Retail on quarantine and growth, and warns that it is 22.5 days stale', () => {
    const outcomes = evaluateQualityGates(ONLINE_RETAIL, DEFAULTS);
    expect(outcomes.map((o) => [o.gate, o.level])).toEqual([
      ['quarantineShare', 'ok'],
      ['staleDays', 'warn'],
      ['rowCountChange', 'ok'],
    ]);
    expect(outcomes[0].value).toBeCloseTo(0.24926, 5);
    expect(outcomes[1].value).toBeCloseTo(22.47, 2);
    expect(outcomes[1].message).toBe(
      'the last transaction (2011-12-09) is 22.5 days before the cutoff 2011-12-31; warns above 7',
    );
    expect(outcomes[2].message).toBe('401564 rows kept against 384000 in 2011-11 (run r-2011-11): +4.6%');
  });

  it('fails above the fail threshold and warns between the two', () => {
    const mostlyQuarantined = evaluateQualityGates(
      { ...ONLINE_RETAIL, quarantinedRows: 500_000, outputRows: 41_909 },
      DEFAULTS,
    );
    expect(mostlyQuarantined[0]).toMatchObject({ gate: 'quarantineShare', level: 'fail' });
    expect(mostlyQuarantined[0].message).toContain('92.3% of the 541909 delivered rows were quarantined');
    expect(mostlyQuarantined[2]).toMatchObject({ gate: 'rowCountChange', level: 'warn' });
    expect(mostlyQuarantined[2].message).toContain('-89.1%');
    const strict = qualityGatesSection.parse({ staleDays: { fail: 14 } });
    expect(evaluateQualityGates(ONLINE_RETAIL, strict)[1].level).toBe('fail');
  });

  it('says when a gate cannot be measured, and can be switched off', () => {
    const first = evaluateQualityGates({ ...ONLINE_RETAIL, previous: undefined, lastTs: null }, DEFAULTS);
    expect(first[1]).toMatchObject({ level: 'not_measured', value: null });
    expect(first[2]).toMatchObject({
      level: 'not_measured',
      message: 'no completed run of the previous month to compare with',
    });
    const off = qualityGatesSection.parse({ staleDays: { warn: null } });
    expect(evaluateQualityGates(ONLINE_RETAIL, off)[1].level).toBe('ok');
    expect(() => qualityGatesSection.parse({ staleDay: { warn: 1 } })).toThrow();
  });

  it('names its warnings in snake_case', () => {
    expect(qualityWarningCode('staleDays')).toBe('quality_stale_days');
    expect(qualityWarningCode('quarantineShare')).toBe('quality_quarantine_share');
  });
});
