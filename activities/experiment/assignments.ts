/**
 * Experiments from assignments: for each experiment id, the customers assigned to each variant and their
 * outcome over a window after assignment: conversion (any purchase, amount > 0) and revenue per customer
 * (net sum of amounts), with pre-period revenue as the CUPED covariate and the customer's persona for the
 * per-segment breakdown, plus the configured metrics (customMetrics.ts). Only experiments whose every
 * window has closed by the cutoff are tested (abTest.ts); the others are reported as 'running' with their
 * counts so far and the sample ratio check, which is valid at any time (Fabijan et al. 2019).
 *
 * Windows (experiment.windowDays, experiment.preWindowDays). The outcome window is [assigned_at,
 * assigned_at + windowDays), 14 days by default (the planted generator's window and a common choice for
 * retention campaigns); the pre-period is the preWindowDays (90) before assignment: a longer pre-period
 * predicts a sparse 14-day outcome better than an equally short one, so CUPED removes more variance; any
 * pre-assignment covariate keeps CUPED unbiased (Deng et al. 2013).
 *
 * Every per-customer aggregation runs in DuckDB; amounts are summed as integer micro-units so sums do not
 * depend on DuckDB's parallel summation order (byte-identical outputs).
 */
import type { Duck } from '../../lib/duck';
import { sqlString, sqlTimestamp } from '../../lib/duck';
import { ConfigError } from '../../lib/errors';
import { analyzeExperiment, controlIndex, type AbTestOptions, type ExperimentAnalysis } from './abTest';
import type { ExperimentConfig } from '../../lib/stageConfig/experiment';
import { DEFAULT_PRE_WINDOW_DAYS, DEFAULT_WINDOW_DAYS, UNSEGMENTED } from './contract';
import type { ExperimentReport, VariantProgress } from './contract';
import {
  analyzeCustomMetrics,
  customMetricColumns,
  type CustomMetricResult,
  type GuardrailResult,
  metricAlias,
  validateMetricConfig,
} from './customMetrics';
import { sampleRatioMismatch } from './srm';
import { checkDays } from './windowDays';

const DAY_MS = 86_400_000;

/** Options of analyzeAssignments. Table arguments are DuckDB table or view names (or read_parquet(...)). */
export interface AssignmentAnalysisOptions {
  /** Canonical transactions: customer_id, ts TIMESTAMP (UTC), amount. */
  transactions: string;
  /** customer_id, experiment_id, variant, assigned_at TIMESTAMP (UTC). */
  assignments: string;
  /** customer_id, persona (segment output); customers absent from it are 'unsegmented'. */
  segments?: string;
  /** The run's cutoff, ISO 8601 UTC. */
  cutoffIso: string;
  windowDays?: number;
  preWindowDays?: number;
  config: Pick<
    ExperimentConfig,
    'alpha' | 'power' | 'srmThreshold' | 'plannedSplits' | 'plannedRelativeLift' | 'minSegmentArmSize'
  > &
    Partial<Pick<ExperimentConfig, 'metrics' | 'guardrails'>>;
  /** Called between experiments (heartbeats). */
  progress?: (detail: Record<string, unknown>) => void;
}

/** Every experiment of the assignments table, sorted by id. */
export interface AssignmentAnalysis {
  experiments: ExperimentReport[];
  /** Assignment rows without experiment id, customer, variant or time: ignored. */
  invalidRows: number;
  /** Assignment rows after the cutoff: ignored (belong to later runs). */
  afterCutoffRows: number;
}

/**
 * Variant names (sorted union of those observed and those planned) and their planned weights. Throws a
 * ConfigError when a plannedSplits entry exists but gives no weight to an observed variant.
 */
export function resolveVariants(
  experimentId: string,
  observed: readonly string[],
  plannedSplits: ExperimentConfig['plannedSplits'],
): { variantNames: string[]; plannedSplit: number[] } {
  const planned = Object.hasOwn(plannedSplits, experimentId) ? plannedSplits[experimentId] : undefined;
  const names = new Set(observed);
  if (planned) {
    for (const name of observed) {
      if (!Object.hasOwn(planned, name)) {
        throw new ConfigError(
          `experiment.plannedSplits.${experimentId}: no weight for variant '${name}' ` +
            `(variants in the assignments: ${[...observed].sort().join(', ')})`,
        );
      }
    }
    for (const name of Object.keys(planned)) names.add(name);
  }
  const variantNames = [...names].sort();
  const plannedSplit = variantNames.map((name) => (planned ? planned[name] : 1));
  return { variantNames, plannedSplit };
}

/** One experiment's row of the overview (counts over exp_units). */
export interface ExperimentOverview extends Record<string, unknown> {
  experiment_id: string;
  customers: number;
  conflicting: number;
  duplicate_rows: number;
  first_ms: number;
  last_ms: number;
}

/**
 * Analyse every experiment in the assignments table against the transactions: see the module comment for
 * the windows. Per-customer outcomes are computed in DuckDB; each closed experiment goes to
 * analyzeExperiment as Float64Arrays ordered by customer_id.
 */
export async function analyzeAssignments(
  duck: Duck,
  options: AssignmentAnalysisOptions,
): Promise<AssignmentAnalysis> {
  const tables = await buildOutcomeTables(duck, options);
  const experiments: ExperimentReport[] = [];
  for (const row of tables.overview) {
    options.progress?.({ step: 'experiment', id: row.experiment_id });
    experiments.push(await analyzeOne(duck, row, tables.context));
  }
  return { experiments, invalidRows: tables.invalidRows, afterCutoffRows: tables.afterCutoffRows };
}

/** The outcome tables of buildOutcomeTables and what the analysis of each experiment needs. */
export interface OutcomeTables {
  /** One row per experiment id (sorted) with its counts and assignment span. */
  overview: ExperimentOverview[];
  invalidRows: number;
  afterCutoffRows: number;
  context: ExperimentContext;
}

/** Windows, cutoff and the resolved config every experiment's analysis uses. */
export interface ExperimentContext {
  windowDays: number;
  preWindowDays: number;
  cutoffMs: number;
  config: AssignmentAnalysisOptions['config'] & Pick<ExperimentConfig, 'metrics' | 'guardrails'>;
}

/**
 * Check the config and build the temp tables exp_units (one row per experiment and customer) and
 * exp_outcomes (per customer with one variant: variant, persona, converted, revenue, pre_revenue and the
 * measure metrics' columns `metric_<i>`). A sharded run builds them per shard: a customer's rows are all in
 * its shard.
 */
export async function buildOutcomeTables(
  duck: Duck,
  options: AssignmentAnalysisOptions,
): Promise<OutcomeTables> {
  const windowDays = options.windowDays ?? DEFAULT_WINDOW_DAYS;
  const preWindowDays = options.preWindowDays ?? DEFAULT_PRE_WINDOW_DAYS;
  checkDays('windowDays', windowDays);
  checkDays('preWindowDays', preWindowDays);
  const cutoff = sqlTimestamp(options.cutoffIso, 'experiment');
  const cutoffMs = Date.parse(options.cutoffIso);
  const config = options.config;
  const metrics = config.metrics ?? [];
  const guardrails = config.guardrails ?? [];
  validateMetricConfig(metrics, guardrails);
  const metricItems = await customMetricColumns(duck, options.transactions, metrics);

  const counts = await duck.one<{ invalid: number; after: number }>(`
    SELECT count(*) FILTER (WHERE experiment_id IS NULL OR customer_id IS NULL OR trim(customer_id) = ''
                                  OR variant IS NULL OR trim(variant) = '' OR assigned_at IS NULL)::INTEGER AS invalid,
           count(*) FILTER (WHERE assigned_at > ${cutoff})::INTEGER AS after
    FROM ${options.assignments}`);

  // One row per experiment and customer: the earliest assignment, and how many variants the customer saw.
  await duck.run(`CREATE OR REPLACE TEMP TABLE exp_units AS
    SELECT CAST(experiment_id AS VARCHAR) AS experiment_id, trim(customer_id) AS customer_id,
           min(trim(variant)) AS variant, count(DISTINCT trim(variant)) AS variant_count,
           count(*) AS assignment_rows, min(assigned_at) AS assigned_at
    FROM ${options.assignments}
    WHERE experiment_id IS NOT NULL AND customer_id IS NOT NULL AND trim(customer_id) <> ''
      AND variant IS NOT NULL AND trim(variant) <> '' AND assigned_at IS NOT NULL AND assigned_at <= ${cutoff}
    GROUP BY ALL`);

  const segmentJoin = options.segments
    ? `LEFT JOIN (SELECT customer_id, min(persona) AS persona FROM ${options.segments} GROUP BY customer_id) g
         ON g.customer_id = u.customer_id`
    : '';
  const persona = options.segments
    ? `coalesce(CAST(g.persona AS VARCHAR), ${sqlString(UNSEGMENTED)})`
    : sqlString(UNSEGMENTED);
  const micro = (filter: string) =>
    `coalesce(sum(CAST(round(t.amount * 1000000) AS BIGINT)) FILTER (WHERE ${filter}), 0) / 1e6`;
  // Outcome window [a, a + w) and pre-period [a - pre, a), both clipped at the cutoff.
  await duck.run(`CREATE OR REPLACE TEMP TABLE exp_outcomes AS
    SELECT u.experiment_id, u.customer_id, u.variant, u.assigned_at, ${persona} AS persona,
           coalesce(bool_or(t.amount > 0 AND t.ts >= u.assigned_at), false) AS converted,
           CAST(${micro('t.ts >= u.assigned_at')} AS DOUBLE) AS revenue,
           CAST(${micro('t.ts < u.assigned_at')} AS DOUBLE) AS pre_revenue${metricItems.map((item) => `,\n           ${item}`).join('')}
    FROM exp_units u
    LEFT JOIN (SELECT ${metricItems.length > 0 ? '*' : 'customer_id, ts, amount'} FROM ${options.transactions} WHERE ts <= ${cutoff} AND amount IS NOT NULL) t
      ON t.customer_id = u.customer_id
     AND t.ts >= u.assigned_at - INTERVAL ${preWindowDays} DAY
     AND t.ts < u.assigned_at + INTERVAL ${windowDays} DAY
    ${segmentJoin}
    WHERE u.variant_count = 1
    GROUP BY ALL`);

  const overview = await duck.all<ExperimentOverview>(`
    SELECT experiment_id,
           count(*) FILTER (WHERE variant_count = 1)::INTEGER AS customers,
           count(*) FILTER (WHERE variant_count > 1)::INTEGER AS conflicting,
           (sum(assignment_rows) FILTER (WHERE variant_count = 1) - count(*) FILTER (WHERE variant_count = 1))::INTEGER AS duplicate_rows,
           epoch_ms(min(assigned_at) FILTER (WHERE variant_count = 1)) AS first_ms,
           epoch_ms(max(assigned_at) FILTER (WHERE variant_count = 1)) AS last_ms
    FROM exp_units GROUP BY experiment_id ORDER BY experiment_id`);

  return {
    overview,
    invalidRows: counts.invalid,
    afterCutoffRows: counts.after,
    context: { windowDays, preWindowDays, cutoffMs, config: { ...config, metrics, guardrails } },
  };
}

async function analyzeOne(
  duck: Duck,
  row: ExperimentOverview,
  context: ExperimentContext,
): Promise<ExperimentReport> {
  const id = row.experiment_id;
  const { config } = context;
  const where = `experiment_id = ${sqlString(id)}`;
  const byVariant = await duck.all<VariantProgress & Record<string, unknown>>(`
    SELECT variant AS name, count(*)::INTEGER AS customers, count(*) FILTER (WHERE converted)::INTEGER AS conversions,
           CAST(sum(CAST(round(revenue * 1000000) AS BIGINT)) / 1e6 AS DOUBLE) AS revenue
    FROM exp_outcomes WHERE ${where} GROUP BY variant ORDER BY variant`);
  return experimentReport(row, byVariant, context, async (variantNames, plannedSplit) => {
    const segmentNames = (
      await duck.all<{ persona: string }>(
        `SELECT DISTINCT persona FROM exp_outcomes WHERE ${where} ORDER BY persona`,
      )
    ).map((r) => r.persona);
    const list = (names: readonly string[]) => `[${names.map(sqlString).join(', ')}]::VARCHAR[]`;
    const { columns } = await duck.columns(
      `SELECT CAST(list_position(${list(variantNames)}, variant) - 1 AS DOUBLE) AS variant_index,
              CAST(converted AS DOUBLE) AS converted, revenue, pre_revenue,
              CAST(list_position(${list(segmentNames)}, persona) - 1 AS DOUBLE) AS segment_index
       FROM exp_outcomes WHERE ${where} ORDER BY customer_id`,
      ['variant_index', 'converted', 'revenue', 'pre_revenue', 'segment_index'] as const,
    );
    const analysis = analyzeExperiment(
      {
        id,
        variantNames,
        variant: columns.variant_index,
        converted: columns.converted,
        revenue: columns.revenue,
        preRevenue: columns.pre_revenue,
        segment: columns.segment_index,
        segmentNames,
        plannedSplit,
      },
      abTestOptions(config),
    );
    if (config.metrics.length === 0 && config.guardrails.length === 0) return { analysis };
    const measures = await configuredMeasures(duck, where, config.metrics);
    const custom = analyzeCustomMetrics(
      {
        variantNames,
        control: controlIndex(variantNames),
        variant: columns.variant_index,
        converted: columns.converted,
        revenue: columns.revenue,
        measures,
      },
      config,
    );
    return { analysis, custom };
  });
}

/** The A/B test options of the experiment config. */
export function abTestOptions(config: ExperimentContext['config']): AbTestOptions {
  return {
    alpha: config.alpha,
    power: config.power,
    srmThreshold: config.srmThreshold,
    plannedRelativeLift: config.plannedRelativeLift,
    minSegmentArmSize: config.minSegmentArmSize,
  };
}

/** The analysis of an experiment whose windows have closed, and its configured metrics when any. */
export type ClosedExperimentAnalysis = (
  variantNames: string[],
  plannedSplit: number[],
) => ClosedExperimentResult | Promise<ClosedExperimentResult>;

/** What ClosedExperimentAnalysis gives. */
export interface ClosedExperimentResult {
  analysis: ExperimentAnalysis;
  custom?: { metrics: CustomMetricResult[]; guardrails: GuardrailResult[] };
}

/**
 * One experiment's report from its overview row and per-variant counts: status, reason, SRM check and,
 * when every window has closed and each variant has 2 customers, the analysis `analyze` gives (from
 * per-customer arrays, or from merged shard moments in a sharded run).
 */
export async function experimentReport(
  row: ExperimentOverview,
  byVariant: readonly VariantProgress[],
  context: ExperimentContext,
  analyze: ClosedExperimentAnalysis,
): Promise<ExperimentReport> {
  const id = row.experiment_id;
  const { windowDays, preWindowDays, config } = context;
  const observed = byVariant.map((v) => v.name);
  const { variantNames, plannedSplit } = resolveVariants(id, observed, config.plannedSplits);
  const variants: VariantProgress[] = variantNames.map((name) => {
    const found = byVariant.find((v) => v.name === name);
    return {
      name,
      customers: found?.customers ?? 0,
      conversions: found?.conversions ?? 0,
      revenue: found?.revenue ?? 0,
    };
  });
  const emptyExperiment = row.customers === 0;
  const windowClosesMs = emptyExperiment ? NaN : row.last_ms + windowDays * DAY_MS;
  const iso = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : '');
  const srm =
    variantNames.length >= 2
      ? sampleRatioMismatch(
          variants.map((v) => v.customers),
          plannedSplit,
          config.srmThreshold,
        )
      : null;
  const base: ExperimentReport = {
    id,
    status: 'insufficient',
    reason: null,
    customers: row.customers,
    conflictingCustomers: row.conflicting,
    duplicateRows: row.duplicate_rows ?? 0,
    firstAssignedAt: iso(row.first_ms),
    lastAssignedAt: iso(row.last_ms),
    windowClosesAt: iso(windowClosesMs),
    windowDays,
    preWindowDays,
    variantNames,
    control: variantNames[controlIndex(variantNames)],
    plannedSplit,
    variants,
    srm,
    analysis: null,
  };

  if (variantNames.length < 2) {
    return { ...base, reason: `needs at least 2 variants (found ${variantNames.length})` };
  }
  const small = variants.filter((v) => v.customers < 2);
  if (small.length > 0) {
    return {
      ...base,
      reason: `variant(s) ${small.map((v) => `'${v.name}' (${v.customers})`).join(', ')} have fewer than 2 customers`,
    };
  }
  if (!(windowClosesMs <= context.cutoffMs)) {
    return {
      ...base,
      status: 'running',
      reason: `outcome windows close at ${base.windowClosesAt}, after the cutoff; counts so far, no test`,
    };
  }

  const { analysis, custom } = await analyze(variantNames, plannedSplit);
  const report: ExperimentReport = { ...base, status: 'analyzed', srm: analysis.srm, analysis };
  if (!custom) return report;
  return {
    ...report,
    ...(config.metrics.length > 0 ? { customMetrics: custom.metrics } : {}),
    ...(config.guardrails.length > 0 ? { guardrails: custom.guardrails } : {}),
  };
}

/** The measure metrics' per-customer values of one experiment, ordered by customer_id (ratio ones null). */
async function configuredMeasures(
  duck: Duck,
  where: string,
  metrics: ExperimentConfig['metrics'],
): Promise<(Float64Array | null)[]> {
  const aliases = metrics.flatMap((metric, index) => ('column' in metric ? [metricAlias(index)] : []));
  if (aliases.length === 0) return metrics.map(() => null);
  const { columns } = await duck.columns(
    `SELECT ${aliases.join(', ')} FROM exp_outcomes WHERE ${where} ORDER BY customer_id`,
    aliases,
  );
  return metrics.map((metric, index) => ('column' in metric ? columns[metricAlias(index)] : null));
}
