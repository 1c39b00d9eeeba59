/**
 * Analysis of one randomised experiment from per-customer assignments: for each treatment variant against
 * the control, conversion (two-proportion z-test, Beta-Binomial probability to beat control), revenue per
 * customer (Welch t-test) and, with a pre-period covariate, CUPED-adjusted revenue per customer; the sample
 * ratio mismatch check; power and minimum detectable effect; a per-segment breakdown with Holm-adjusted
 * p-values. Relative lifts are treatment / control - 1 with Fieller 95 % intervals.
 *
 * Undefined quantities (a relative lift over a zero control, a segment too small to test) are NaN, which
 * JSON.stringify writes as null.
 */
import { normalCdf } from '../../lib/numeric/distributions';
import { betaPosterior, probabilityToBeatControl, UNIFORM_PRIOR } from './betaBinomial';
import type { BetaParams } from './betaBinomial';
import { cupedAdjust } from './cuped';
import { groupMoments, type GroupMoments } from './groupMoments';
import {
  meanMinimumDetectableEffect,
  meanTestPower,
  proportionMinimumDetectableEffect,
  proportionTestPower,
} from './power';
import type { MinimumDetectableEffect } from './power';
import { DEFAULT_SRM_THRESHOLD, sampleRatioMismatch } from './srm';
import type { SampleRatioMismatch } from './srm';
import { segmentBreakdown, type SegmentCell, type SegmentResult } from './segmentBreakdown';
import { twoProportionZTest, welchTTest } from './twoSampleTests';
import type { SampleSummary, TwoSampleComparison } from './twoSampleTests';

/** Per-customer data of one experiment, one entry per assigned customer in every array. */
export interface ExperimentData {
  id: string;
  /** Variant names; the control is the one named 'control' (any case), otherwise the first. */
  variantNames: readonly string[];
  /** Index into variantNames per customer. */
  variant: ArrayLike<number>;
  /** 1 if the customer converted (bought) during the experiment, else 0. */
  converted: ArrayLike<number>;
  /** Revenue of the customer during the experiment (0 for non-converters). */
  revenue: ArrayLike<number>;
  /** Revenue of the customer in an equally long period before assignment, for CUPED. */
  preRevenue?: ArrayLike<number>;
  /** Index into segmentNames per customer, or -1 for no segment (left out of the breakdown). */
  segment?: ArrayLike<number>;
  segmentNames?: readonly string[];
  /** Planned traffic weights per variant, for the SRM check (default equal). */
  plannedSplit?: readonly number[];
}

/** Options of analyzeExperiment. */
export interface AbTestOptions {
  /** Significance level; intervals are 1 - alpha (default 0.05). */
  alpha?: number;
  /** Power for the minimum detectable effect (default 0.8). */
  power?: number;
  /** SRM p-value below which the experiment is flagged (default 0.001). */
  srmThreshold?: number;
  /** Beta prior of the conversion rates (default Beta(1, 1)). */
  prior?: BetaParams;
  /** Relative lift the experiment was designed to detect, for powerAtPlannedLift. */
  plannedRelativeLift?: number;
  /** Smallest arm size within a segment that gets tested (default 30). */
  minSegmentArmSize?: number;
}

/** Metrics reported per treatment. */
export type ExperimentMetric = 'conversion' | 'revenuePerCustomer' | 'revenuePerCustomerCuped';

/** One metric of one treatment versus the control. */
export interface MetricResult extends TwoSampleComparison {
  metric: ExperimentMetric;
  /**
   * P(treatment better than control): exact Beta-Binomial posterior for conversion; for revenue the
   * large-sample flat-prior posterior Phi(difference / se).
   */
  probabilityToBeatControl: number;
  probabilityMethod: 'betaBinomial' | 'normalApproximation';
  /** Power at the observed effect: a function of the p-value, shown for reference only. */
  powerAtObservedEffect: number;
  /** Power at options.plannedRelativeLift, or NaN when none was given. */
  powerAtPlannedLift: number;
  /** Minimum detectable increase at alpha and power for these sample sizes. */
  minimumDetectableEffect: MinimumDetectableEffect;
  /** CUPED only: theta = cov(Y, X) / var(X), pooled within arms. */
  theta?: number;
  /** CUPED only: 1 - var(adjusted lift) / var(unadjusted lift). */
  varianceReduction?: number;
}

/** Counts and raw means per variant. */
export interface VariantSummary {
  name: string;
  customers: number;
  conversions: number;
  conversionRate: number;
  revenuePerCustomer: number;
}

/** One treatment against the control. */
export interface TreatmentResult {
  treatment: string;
  customersControl: number;
  customersTreatment: number;
  metrics: MetricResult[];
}

export type { SegmentCell, SegmentResult };

/** Full analysis of one experiment. */
export interface ExperimentAnalysis {
  id: string;
  control: string;
  variants: VariantSummary[];
  srm: SampleRatioMismatch;
  treatments: TreatmentResult[];
  segments: SegmentResult[];
}

/** The run-summary row per treatment and metric (docs/DESIGN.md stage metrics), plus context fields. */
export interface ExperimentMetricRow {
  id: string;
  treatment: string;
  metric: ExperimentMetric;
  lift: number;
  ci: [number, number];
  pValue: number;
  srmPValue: number;
  srmFlagged: boolean;
  probabilityToBeatControl: number;
  absoluteLift: number;
  controlValue: number;
  treatmentValue: number;
  customersControl: number;
  customersTreatment: number;
}

function validate(data: ExperimentData): void {
  const where = `abTest.analyzeExperiment(${data.id})`;
  const n = data.variant.length;
  const variants = data.variantNames.length;
  if (variants < 2) throw new Error(`${where}: need at least 2 variants (got ${variants})`);
  if (new Set(data.variantNames).size !== variants) throw new Error(`${where}: variant names must be unique`);
  const arrays: [string, ArrayLike<number> | undefined][] = [
    ['converted', data.converted],
    ['revenue', data.revenue],
    ['preRevenue', data.preRevenue],
    ['segment', data.segment],
  ];
  for (const [name, values] of arrays) {
    if (values && values.length !== n) {
      throw new Error(`${where}: ${name} has ${values.length} values, variant has ${n}`);
    }
  }
  const segments = data.segmentNames?.length ?? 0;
  if (data.segment && !data.segmentNames) throw new Error(`${where}: segment given without segmentNames`);
  for (let i = 0; i < n; i++) {
    const v = data.variant[i];
    if (!Number.isInteger(v) || v < 0 || v >= variants) {
      throw new Error(
        `${where}: variant must be an integer in [0, ${variants}) (customer index ${i}, got ${v})`,
      );
    }
    const c = data.converted[i];
    if (c !== 0 && c !== 1)
      throw new Error(`${where}: converted must be 0 or 1 (customer index ${i}, got ${c})`);
    if (!Number.isFinite(data.revenue[i])) {
      throw new Error(`${where}: revenue must be finite (customer index ${i}, got ${data.revenue[i]})`);
    }
    if (data.preRevenue && !Number.isFinite(data.preRevenue[i])) {
      throw new Error(`${where}: preRevenue must be finite (customer index ${i}, got ${data.preRevenue[i]})`);
    }
    if (data.segment) {
      const s = data.segment[i];
      if (!Number.isInteger(s) || s < -1 || s >= segments) {
        throw new Error(
          `${where}: segment must be -1 or an integer in [0, ${segments}) (customer index ${i}, got ${s})`,
        );
      }
    }
  }
}

/** Index of the control variant: the one named 'control' (case-insensitive), otherwise 0. */
export function controlIndex(variantNames: readonly string[]): number {
  const named = variantNames.findIndex((name) => name.toLowerCase() === 'control');
  return named >= 0 ? named : 0;
}

/**
 * What the tests of one experiment need, per variant (and per segment and variant): counts and means with
 * unbiased variances. analyzeExperiment computes it from per-customer arrays; a sharded run builds it from
 * merged per-shard moments (experimentMoments.ts), so both share every test below.
 */
export interface ExperimentStatistics {
  id: string;
  variantNames: readonly string[];
  plannedSplit?: readonly number[];
  /** Conversions per variant. */
  conversions: readonly number[];
  /** Revenue per customer per variant; `n` is the variant's customers. */
  revenue: readonly SampleSummary[];
  /** Per variant index: CUPED against the control (null for the control); null without a covariate. */
  cuped: readonly (CupedSummaries | null)[] | null;
  /** The per-segment breakdown's cells (segment s, variant j at s * variants + j), or null. */
  segments: { names: readonly string[]; cells: readonly SegmentCell[] } | null;
}

/** CUPED of one treatment against the control: theta and the adjusted outcome's summary in each arm. */
export interface CupedSummaries {
  theta: number;
  control: SampleSummary;
  treatment: SampleSummary;
}

/** Analyse one experiment: every treatment variant against the control. */
export function analyzeExperiment(data: ExperimentData, options: AbTestOptions = {}): ExperimentAnalysis {
  validate(data);
  return analyzeExperimentStatistics(statisticsFromCustomers(data), options);
}

/** The statistics of one experiment from its per-customer arrays (two-pass moments, typed arrays). */
export function statisticsFromCustomers(data: ExperimentData): ExperimentStatistics {
  const n = data.variant.length;
  const variantCount = data.variantNames.length;
  const control = controlIndex(data.variantNames);
  const conversions = new Float64Array(variantCount);
  for (let i = 0; i < n; i++) conversions[data.variant[i]] += data.converted[i];
  const revenueMoments = groupMoments(data.variant, variantCount, data.revenue);
  const summary = (moments: GroupMoments, g: number): SampleSummary => ({
    n: moments.count[g],
    mean: moments.meanY[g],
    variance: moments.varianceY[g],
  });
  let cuped: (CupedSummaries | null)[] | null = null;
  if (data.preRevenue) {
    const preRevenue = data.preRevenue;
    cuped = data.variantNames.map((_, j) => {
      if (j === control) return null;
      const arm = new Int8Array(n);
      for (let i = 0; i < n; i++) arm[i] = data.variant[i] === control ? 0 : data.variant[i] === j ? 1 : -1;
      const adjustment = cupedAdjust(data.revenue, preRevenue, arm, 2);
      const adjustedMoments = groupMoments(arm, 2, adjustment.adjusted);
      return {
        theta: adjustment.theta,
        control: summary(adjustedMoments, 0),
        treatment: summary(adjustedMoments, 1),
      };
    });
  }
  let segments: ExperimentStatistics['segments'] = null;
  if (data.segment && data.segmentNames) {
    const segment = data.segment;
    const cells = data.segmentNames.length * variantCount;
    const cell = new Int32Array(n);
    const cellConversions = new Float64Array(cells);
    for (let i = 0; i < n; i++) {
      const s = segment[i];
      cell[i] = s < 0 ? -1 : s * variantCount + data.variant[i];
      if (s >= 0) cellConversions[cell[i]] += data.converted[i];
    }
    const moments = groupMoments(cell, cells, data.revenue);
    segments = {
      names: data.segmentNames,
      cells: Array.from({ length: cells }, (_, c) => ({
        conversions: cellConversions[c],
        revenue: summary(moments, c),
      })),
    };
  }
  return {
    id: data.id,
    variantNames: data.variantNames,
    plannedSplit: data.plannedSplit,
    conversions: Array.from(conversions),
    revenue: data.variantNames.map((_, j) => summary(revenueMoments, j)),
    cuped,
    segments,
  };
}

/** Every treatment against the control, from the experiment's statistics. */
export function analyzeExperimentStatistics(
  data: ExperimentStatistics,
  options: AbTestOptions = {},
): ExperimentAnalysis {
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  const confidence = 1 - alpha;
  const prior = options.prior ?? UNIFORM_PRIOR;
  const minArm = Math.max(2, options.minSegmentArmSize ?? 30);
  const variantCount = data.variantNames.length;
  const control = controlIndex(data.variantNames);
  const conversions = data.conversions;
  const customers = data.revenue.map((r) => r.n);
  if (customers[control] < 2) {
    throw new Error(
      `abTest.analyzeExperiment(${data.id}): control '${data.variantNames[control]}' has < 2 customers`,
    );
  }

  const variants: VariantSummary[] = data.variantNames.map((name, j) => ({
    name,
    customers: customers[j],
    conversions: conversions[j],
    conversionRate: customers[j] > 0 ? conversions[j] / customers[j] : NaN,
    revenuePerCustomer: data.revenue[j].mean,
  }));
  const srm = sampleRatioMismatch(
    customers,
    data.plannedSplit,
    options.srmThreshold ?? DEFAULT_SRM_THRESHOLD,
  );

  const treatments: TreatmentResult[] = [];
  for (let j = 0; j < variantCount; j++) {
    if (j === control) continue;
    if (customers[j] < 2) {
      throw new Error(
        `abTest.analyzeExperiment(${data.id}): variant '${data.variantNames[j]}' has fewer than 2 customers`,
      );
    }
    const nc = customers[control];
    const nt = customers[j];
    const metrics: MetricResult[] = [];

    const conversion = twoProportionZTest(conversions[control], nc, conversions[j], nt, confidence);
    const baseline = conversion.controlValue;
    metrics.push({
      metric: 'conversion',
      ...conversion,
      probabilityToBeatControl: probabilityToBeatControl(
        betaPosterior(conversions[control], nc, prior),
        betaPosterior(conversions[j], nt, prior),
      ),
      probabilityMethod: 'betaBinomial',
      powerAtObservedEffect: proportionTestPower(baseline, nc, nt, conversion.absoluteLift, alpha),
      powerAtPlannedLift:
        options.plannedRelativeLift === undefined
          ? NaN
          : proportionTestPower(baseline, nc, nt, baseline * options.plannedRelativeLift, alpha),
      minimumDetectableEffect: proportionMinimumDetectableEffect(baseline, nc, nt, alpha, power),
    });

    metrics.push(
      meanMetric('revenuePerCustomer', data.revenue[control], data.revenue[j], alpha, power, options),
    );

    const cuped = data.cuped?.[j];
    if (cuped) {
      const adjusted = meanMetric(
        'revenuePerCustomerCuped',
        cuped.control,
        cuped.treatment,
        alpha,
        power,
        options,
      );
      const raw = metrics[1];
      adjusted.theta = cuped.theta;
      adjusted.varianceReduction = 1 - (adjusted.standardError / raw.standardError) ** 2;
      metrics.push(adjusted);
    }
    treatments.push({
      treatment: data.variantNames[j],
      customersControl: nc,
      customersTreatment: nt,
      metrics,
    });
  }

  const segments = data.segments ? segmentBreakdown(data, data.segments, control, confidence, minArm) : [];
  return { id: data.id, control: data.variantNames[control], variants, srm, treatments, segments };
}

function meanMetric(
  metric: ExperimentMetric,
  control: SampleSummary,
  treatment: SampleSummary,
  alpha: number,
  power: number,
  options: AbTestOptions,
): MetricResult {
  const test = welchTTest(control, treatment, 1 - alpha);
  const sdC = Math.sqrt(control.variance);
  const sdT = Math.sqrt(treatment.variance);
  return {
    metric,
    ...test,
    probabilityToBeatControl:
      test.standardError > 0
        ? normalCdf(test.absoluteLift / test.standardError)
        : test.absoluteLift > 0
          ? 1
          : 0.5,
    probabilityMethod: 'normalApproximation',
    powerAtObservedEffect: meanTestPower(sdC, sdT, control.n, treatment.n, test.absoluteLift, alpha),
    powerAtPlannedLift:
      options.plannedRelativeLift === undefined
        ? NaN
        : meanTestPower(sdC, sdT, control.n, treatment.n, control.mean * options.plannedRelativeLift, alpha),
    minimumDetectableEffect: meanMinimumDetectableEffect(
      sdC,
      sdT,
      control.n,
      treatment.n,
      control.mean,
      alpha,
      power,
    ),
  };
}

/** The run-summary rows of an analysis: one per treatment and metric. */
export function experimentMetricRows(analysis: ExperimentAnalysis): ExperimentMetricRow[] {
  const rows: ExperimentMetricRow[] = [];
  for (const treatment of analysis.treatments) {
    for (const m of treatment.metrics) {
      rows.push({
        id: analysis.id,
        treatment: treatment.treatment,
        metric: m.metric,
        lift: m.lift,
        ci: m.ci,
        pValue: m.pValue,
        srmPValue: analysis.srm.pValue,
        srmFlagged: analysis.srm.flagged,
        probabilityToBeatControl: m.probabilityToBeatControl,
        absoluteLift: m.absoluteLift,
        controlValue: m.controlValue,
        treatmentValue: m.treatmentValue,
        customersControl: treatment.customersControl,
        customersTreatment: treatment.customersTreatment,
      });
    }
  }
  return rows;
}
