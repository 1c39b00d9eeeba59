/**
 * Data-quality gates between clean and the models, per dataset config (`clean.quality`): the share of rows
 * quarantined, how stale the data is at the cutoff, and how far the kept row count moved from last month's
 * run. Each gate has a warn and a fail threshold (null: off). A warning reaches the run summary; a failure
 * stops the run before any model reads data that is obviously incomplete. Pure: the stage gathers the
 * numbers (and last month's from its completed run) and reports the outcomes in its metrics.
 */
import type { QualityGateName, QualityGatesConfig } from '../../lib/stageConfig/clean';

export interface QualityGateOutcome {
  gate: QualityGateName;
  level: 'ok' | 'warn' | 'fail' | 'not_measured';
  /** The measured value (share, days, relative change), or null when not measurable. */
  value: number | null;
  warn: number | null;
  fail: number | null;
  message: string;
}

export interface QualityGateInputs {
  inputRows: number;
  outputRows: number;
  quarantinedRows: number;
  /** Last kept transaction, ISO, or null when nothing was kept. */
  lastTs: string | null;
  cutoffIso: string;
  /** The latest completed run of the previous month, when there is one. */
  previous?: { month: string; runId: string; outputRows: number };
}

const DAY_MS = 86_400_000;

export function evaluateQualityGates(
  inputs: QualityGateInputs,
  config: QualityGatesConfig,
): QualityGateOutcome[] {
  const share = inputs.inputRows > 0 ? inputs.quarantinedRows / inputs.inputRows : null;
  const staleDays =
    inputs.lastTs === null ? null : (Date.parse(inputs.cutoffIso) - Date.parse(inputs.lastTs)) / DAY_MS;
  const change =
    inputs.previous && inputs.previous.outputRows > 0
      ? inputs.outputRows / inputs.previous.outputRows - 1
      : null;
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  return [
    judge(
      'quarantineShare',
      share,
      config.quarantineShare,
      (v) =>
        `${pct(v)} of the ${inputs.inputRows} delivered rows were quarantined (${inputs.quarantinedRows})`,
    ),
    judge(
      'staleDays',
      staleDays,
      config.staleDays,
      (v) =>
        `the last transaction (${inputs.lastTs?.slice(0, 10) ?? 'none'}) is ${v.toFixed(1)} days before the cutoff ${inputs.cutoffIso.slice(0, 10)}`,
    ),
    judge(
      'rowCountChange',
      change === null ? null : Math.abs(change),
      config.rowCountChange,
      () =>
        `${inputs.outputRows} rows kept against ${inputs.previous?.outputRows} in ${inputs.previous?.month} (run ${inputs.previous?.runId}): ${change! >= 0 ? '+' : ''}${pct(change!)}`,
      inputs.previous ? undefined : 'no completed run of the previous month to compare with',
    ),
  ];
}

function judge(
  name: QualityGateName,
  value: number | null,
  thresholds: { warn: number | null; fail: number | null },
  describe: (value: number) => string,
  whyNotMeasured?: string,
): QualityGateOutcome {
  const base = { gate: name, value, warn: thresholds.warn, fail: thresholds.fail };
  if (value === null || !Number.isFinite(value)) {
    return { ...base, value: null, level: 'not_measured', message: whyNotMeasured ?? 'not measurable' };
  }
  const text = describe(value);
  if (thresholds.fail !== null && value > thresholds.fail) {
    return { ...base, level: 'fail', message: `${text}; fails above ${thresholds.fail}` };
  }
  if (thresholds.warn !== null && value > thresholds.warn) {
    return { ...base, level: 'warn', message: `${text}; warns above ${thresholds.warn}` };
  }
  return { ...base, level: 'ok', message: text };
}

/** The code a gate's warning carries in the run summary. */
export const qualityWarningCode = (gate: QualityGateName): string =>
  `quality_${gate.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
