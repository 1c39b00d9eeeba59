/**
 * Configured experiment metrics (experiment.metrics) and guardrails (experiment.guardrails), beside the
 * built-in conversion and revenue analysis of abTest.ts.
 *
 * - A measure metric is a per-customer aggregate of one column of the clean transactions over the outcome
 *   window (sum, count, count of distinct values, max; all rows, purchases or returns only), compared
 *   between treatment and control by Welch's t-test with a Fieller interval for the relative lift.
 * - A ratio metric is sum(numerator) / sum(denominator) over the customers of a variant (revenue per order,
 *   units per order), the customer being the randomisation unit: its variance is the delta method's
 *   var(R) = (var(y) - 2 R cov(x, y) + R^2 var(x)) / (n mean(x)^2) (Deng, Knoblich and Lu 2018, "Applying
 *   the delta method in metric analytics", KDD), the difference tested with a z-test and the relative lift
 *   given a Fieller interval of the two independent ratio estimates.
 * - A guardrail passes when the relative lift's interval lies wholly on the allowed side of its bound
 *   (non-inferiority at the tests' confidence): lower bound >= -maxRelativeDrop, upper bound <=
 *   maxRelativeIncrease. An undefined lift fails, saying so.
 *
 * Built-in names usable as ratio parts and guardrails: `conversion` (0/1 per customer) and `revenue`
 * (net revenue per customer).
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent } from '../../lib/duck';
import { ConfigError } from '../../lib/errors';
import { normalTwoSidedPValue } from '../../lib/numeric/distributions';
import type { ExperimentConfig, ExperimentMetricConfig } from '../../lib/stageConfig/experiment';
import { groupMoments } from './groupMoments';
import { fiellerRelativeLiftInterval } from './relativeLiftInterval';
import { criticalValue, type SampleSummary, type TwoSampleComparison, welchTTest } from './twoSampleTests';

/** Per-customer columns every experiment has, usable by name in ratio metrics and guardrails. */
export const BUILT_IN_METRICS = ['conversion', 'revenue'] as const;

/** One configured metric, treatment against control. Relative values are fractions (0.05 = +5 %). */
export interface CustomMetricResult extends Pick<
  TwoSampleComparison,
  | 'controlValue'
  | 'treatmentValue'
  | 'absoluteLift'
  | 'absoluteCi'
  | 'lift'
  | 'ci'
  | 'pValue'
  | 'standardError'
> {
  metric: string;
  kind: 'measure' | 'ratio';
  treatment: string;
}

/** A guardrail's verdict for one treatment. */
export interface GuardrailResult {
  metric: string;
  treatment: string;
  lift: number;
  ci: [number, number];
  maxRelativeDrop: number | null;
  maxRelativeIncrease: number | null;
  pass: boolean;
  /** One sentence with the numbers. */
  reason: string;
}

type MeasureConfig = Extract<ExperimentMetricConfig, { column: string }>;
type RatioConfig = Extract<ExperimentMetricConfig, { numerator: string }>;

function isMeasure(metric: ExperimentMetricConfig): metric is MeasureConfig {
  return 'column' in metric;
}

/** Column alias of the i-th configured metric in the per-customer outcome table. */
export function metricAlias(index: number): string {
  return `metric_${index}`;
}

/**
 * Check the configured metrics against the transactions' columns (a ConfigError naming
 * experiment.metrics[i] and the columns there are) and return the SELECT items of the measure metrics over
 * transactions `t` joined to units `u` (outcome window t.ts >= u.assigned_at).
 */
export async function customMetricColumns(
  duck: Duck,
  transactions: string,
  metrics: ExperimentConfig['metrics'],
): Promise<string[]> {
  if (metrics.length === 0) return [];
  const described = await duck.all<{ column_name: string; column_type: string }>(
    `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${transactions})`,
  );
  const types = new Map(described.map((c) => [c.column_name, c.column_type]));
  const numeric =
    /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/;
  const items: string[] = [];
  metrics.forEach((metric, index) => {
    if (!isMeasure(metric)) return;
    const where = `experiment.metrics[${index}] ('${metric.name}')`;
    const type = types.get(metric.column);
    if (type === undefined) {
      throw new ConfigError(
        `${where}.column: the transactions have no column '${metric.column}' (columns: ${[...types.keys()].join(', ')})`,
      );
    }
    if ((metric.aggregate === 'sum' || metric.aggregate === 'max') && !numeric.test(type)) {
      throw new ConfigError(
        `${where}.column: '${metric.column}' is ${type}; aggregate '${metric.aggregate}' needs a numeric column`,
      );
    }
    const rows =
      metric.rows === 'purchases'
        ? ' AND t.amount > 0'
        : metric.rows === 'returns'
          ? ' AND t.amount < 0'
          : '';
    const filter = `FILTER (WHERE t.ts >= u.assigned_at${rows})`;
    const column = `t.${sqlIdent(metric.column)}`;
    // Sums in integer micro-units: DuckDB's parallel summation order then cannot change the bytes.
    const expression =
      metric.aggregate === 'sum'
        ? `coalesce(sum(CAST(round(CAST(${column} AS DOUBLE) * 1000000) AS BIGINT)) ${filter}, 0) / 1e6`
        : metric.aggregate === 'max'
          ? `coalesce(max(CAST(${column} AS DOUBLE)) ${filter}, 0)`
          : metric.aggregate === 'countDistinct'
            ? `count(DISTINCT ${column}) ${filter}`
            : `count(${column}) ${filter}`;
    items.push(`CAST(${expression} AS DOUBLE) AS ${metricAlias(index)}`);
  });
  return items;
}

/** Check names: unique, not built-in, ratio parts and guardrails naming known metrics. */
export function validateMetricConfig(
  metrics: ExperimentConfig['metrics'],
  guardrails: ExperimentConfig['guardrails'],
): void {
  const names = new Set<string>(BUILT_IN_METRICS);
  metrics.forEach((metric, index) => {
    const where = `experiment.metrics[${index}].name`;
    if (names.has(metric.name)) {
      throw new ConfigError(`${where}: '${metric.name}' is already a metric (${[...names].join(', ')})`);
    }
    if (!isMeasure(metric)) {
      for (const part of ['numerator', 'denominator'] as const) {
        const ref = metric[part];
        const target = metrics.find((m) => m.name === ref);
        if (!(BUILT_IN_METRICS as readonly string[]).includes(ref) && (!target || !isMeasure(target))) {
          throw new ConfigError(
            `experiment.metrics[${index}].${part}: '${ref}' is not a measure metric defined before it or a built-in (${BUILT_IN_METRICS.join(', ')})`,
          );
        }
      }
    }
    names.add(metric.name);
  });
  guardrails.forEach((guardrail, index) => {
    if (!names.has(guardrail.metric)) {
      throw new ConfigError(
        `experiment.guardrails[${index}].metric: unknown metric '${guardrail.metric}' (metrics: ${[...names].join(', ')})`,
      );
    }
  });
}

/** Per-customer data of one experiment for the configured metrics, one entry per customer. */
export interface CustomMetricData {
  variantNames: readonly string[];
  control: number;
  variant: ArrayLike<number>;
  converted: ArrayLike<number>;
  revenue: ArrayLike<number>;
  /** Values of the i-th configured metric (measure metrics only; ratio metrics are computed). */
  measures: readonly (ArrayLike<number> | null)[];
}

/** Moments of a ratio metric's numerator (y) and denominator (x) in one variant. */
export interface RatioMoments {
  n: number;
  meanX: number;
  meanY: number;
  varianceX: number;
  varianceY: number;
  covarianceXY: number;
}

/**
 * What the configured metrics' tests need, per variant: a metric's summary (n, mean, unbiased variance) and
 * a ratio's joint moments. From per-customer arrays (statisticsFromCustomerMetrics) or, in a sharded run,
 * from merged per-shard moments (experimentMoments.ts).
 */
export interface CustomMetricStatistics {
  variantNames: readonly string[];
  control: number;
  /** A built-in or measure metric by name, in variant `variant`. */
  summary(name: string, variant: number): SampleSummary;
  /** Numerator and denominator (built-in or measure names) in variant `variant`. */
  ratioMoments(numerator: string, denominator: string, variant: number): RatioMoments;
}

/** The statistics of the configured metrics from per-customer arrays (two-pass moments). */
export function statisticsFromCustomerMetrics(
  data: CustomMetricData,
  config: Pick<ExperimentConfig, 'metrics'>,
): CustomMetricStatistics {
  const groups = data.variantNames.length;
  const columnOf = (name: string): ArrayLike<number> => {
    if (name === 'conversion') return data.converted;
    if (name === 'revenue') return data.revenue;
    const index = config.metrics.findIndex((m) => m.name === name);
    const values = data.measures[index];
    if (!values) throw new Error(`experiment: metric '${name}' has no per-customer values`);
    return values;
  };
  return {
    variantNames: data.variantNames,
    control: data.control,
    summary(name, variant) {
      const moments = groupMoments(data.variant, groups, columnOf(name));
      return {
        n: moments.count[variant],
        mean: moments.meanY[variant],
        variance: moments.varianceY[variant],
      };
    },
    ratioMoments(numerator, denominator, variant) {
      const moments = groupMoments(data.variant, groups, columnOf(numerator), columnOf(denominator));
      return {
        n: moments.count[variant],
        meanX: moments.meanX?.[variant] ?? NaN,
        meanY: moments.meanY[variant],
        varianceX: moments.varianceX?.[variant] ?? NaN,
        varianceY: moments.varianceY[variant],
        covarianceXY: moments.covarianceXY?.[variant] ?? NaN,
      };
    },
  };
}

function ratioComparison(
  control: RatioMoments,
  treatment: RatioMoments,
  confidence: number,
): Omit<CustomMetricResult, 'metric' | 'kind' | 'treatment'> {
  const ratio = (m: RatioMoments) => {
    const { n, meanX: mx, meanY: my } = m;
    const r = my / mx;
    const variance = (m.varianceY - 2 * r * m.covarianceXY + r * r * m.varianceX) / (n * mx * mx);
    return { r, variance };
  };
  const c = ratio(control);
  const t = ratio(treatment);
  const se = Math.sqrt(c.variance + t.variance);
  const diff = t.r - c.r;
  const q = criticalValue(confidence);
  const z = se > 0 ? diff / se : NaN;
  const interval = fiellerRelativeLiftInterval(t.r, t.variance, c.r, c.variance, q);
  return {
    controlValue: c.r,
    treatmentValue: t.r,
    absoluteLift: diff,
    absoluteCi: [diff - q * se, diff + q * se],
    lift: c.r !== 0 ? t.r / c.r - 1 : NaN,
    ci: [interval.low, interval.high],
    pValue: Number.isFinite(z) ? normalTwoSidedPValue(z) : NaN,
    standardError: se,
  };
}

function measureComparison(
  control: SampleSummary,
  treatment: SampleSummary,
  confidence: number,
): Omit<CustomMetricResult, 'metric' | 'kind' | 'treatment'> {
  const r = welchTTest(control, treatment, confidence);
  return {
    controlValue: r.controlValue,
    treatmentValue: r.treatmentValue,
    absoluteLift: r.absoluteLift,
    absoluteCi: r.absoluteCi,
    lift: r.lift,
    ci: r.ci,
    pValue: r.pValue,
    standardError: r.standardError,
  };
}

/**
 * Every configured metric for every treatment against the control, and the guardrails' verdicts on those
 * and on the built-ins. Needs at least 2 customers per variant (the caller analyses only such experiments).
 */
export function analyzeCustomMetrics(
  data: CustomMetricData,
  config: Pick<ExperimentConfig, 'metrics' | 'guardrails' | 'alpha'>,
): { metrics: CustomMetricResult[]; guardrails: GuardrailResult[] } {
  return analyzeCustomMetricStatistics(statisticsFromCustomerMetrics(data, config), config);
}

/** analyzeCustomMetrics from the metrics' statistics (per-customer or merged from shards). */
export function analyzeCustomMetricStatistics(
  data: CustomMetricStatistics,
  config: Pick<ExperimentConfig, 'metrics' | 'guardrails' | 'alpha'>,
): { metrics: CustomMetricResult[]; guardrails: GuardrailResult[] } {
  const confidence = 1 - config.alpha;
  const compare = (name: string, treatment: number) => {
    const metric = config.metrics.find((m) => m.name === name);
    if (metric && !isMeasure(metric)) {
      const ratio: RatioConfig = metric;
      return ratioComparison(
        data.ratioMoments(ratio.numerator, ratio.denominator, data.control),
        data.ratioMoments(ratio.numerator, ratio.denominator, treatment),
        confidence,
      );
    }
    return measureComparison(data.summary(name, data.control), data.summary(name, treatment), confidence);
  };
  const metrics: CustomMetricResult[] = [];
  const guardrails: GuardrailResult[] = [];
  data.variantNames.forEach((treatmentName, treatment) => {
    if (treatment === data.control) return;
    for (const metric of config.metrics) {
      metrics.push({
        metric: metric.name,
        kind: isMeasure(metric) ? 'measure' : 'ratio',
        treatment: treatmentName,
        ...compare(metric.name, treatment),
      });
    }
    for (const guardrail of config.guardrails) {
      const result = compare(guardrail.metric, treatment);
      guardrails.push(guardrailVerdict(guardrail, treatmentName, result.lift, result.ci, confidence));
    }
  });
  return { metrics, guardrails };
}

/** Pass when the whole interval of the relative lift is on the allowed side of each bound. */
export function guardrailVerdict(
  guardrail: ExperimentConfig['guardrails'][number],
  treatment: string,
  lift: number,
  ci: [number, number],
  confidence: number,
): GuardrailResult {
  const drop = guardrail.maxRelativeDrop ?? null;
  const increase = guardrail.maxRelativeIncrease ?? null;
  const percent = (x: number) => `${(100 * x).toFixed(2)} %`;
  const level = `${Math.round(confidence * 1000) / 10} %`;
  const base = {
    metric: guardrail.metric,
    treatment,
    lift,
    ci,
    maxRelativeDrop: drop,
    maxRelativeIncrease: increase,
  };
  if (![lift, ci[0], ci[1]].every(Number.isFinite)) {
    return {
      ...base,
      pass: false,
      reason: `the relative lift or its interval is undefined (control value 0 or too noisy)`,
    };
  }
  const failures: string[] = [];
  if (drop !== null && ci[0] < -drop)
    failures.push(
      `the ${level} interval reaches ${percent(ci[0])}, below the allowed drop of -${percent(drop)}`,
    );
  if (increase !== null && ci[1] > increase)
    failures.push(
      `the ${level} interval reaches ${percent(ci[1])}, above the allowed increase of ${percent(increase)}`,
    );
  return failures.length > 0
    ? { ...base, pass: false, reason: failures.join('; ') }
    : {
        ...base,
        pass: true,
        reason: `lift ${percent(lift)} with ${level} interval [${percent(ci[0])}, ${percent(ci[1])}] within the bounds`,
      };
}
