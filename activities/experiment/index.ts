/**
 * experiment: two questions about marketing actions, answered from the run's data.
 *
 * 1. Real experiments (when the dataset has assignments): for each experiment id, the customers assigned to
 *    each variant and their outcome over a fixed window after assignment: conversion (any purchase, amount
 *    > 0) and revenue per customer (net sum of amounts), with pre-period revenue as the CUPED covariate and
 *    the customer's persona for the per-segment breakdown. Only experiments whose every window has closed by
 *    the cutoff are tested (abTest.ts); the others are reported as 'running' with their counts so far and
 *    the sample ratio check, which is valid at any time (Fabijan et al. 2019).
 * 2. Policies from config (experiment.policies): customers at the cutoff with their baseline purchase
 *    probability over the policy horizon, spend per order, CLV, churn probability and persona, then a seeded
 *    Monte Carlo simulation of each policy (policySimulation.ts), ranked by expected incremental profit.
 *
 * Windows. The outcome window is [assigned_at, assigned_at + 14 days), the planted generator's window and a
 * common choice for retention campaigns; the pre-period is the 90 days before assignment (a longer
 * pre-period predicts a sparse 14-day outcome better than an equally short one, so CUPED removes more
 * variance; any pre-assignment covariate keeps CUPED unbiased, Deng et al. 2013). The policy horizon is the
 * same 14 days, so a lift measured by an experiment is directly an `upliftConversion` for a policy.
 *
 * Every per-customer aggregation runs in DuckDB; amounts are summed as integer micro-units so sums do not
 * depend on DuckDB's parallel summation order (byte-identical outputs).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DAYS_PER_UNIT } from '../../lib/timeUnits';
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlString, sqlTimestamp, withDuck } from '../../lib/duck';
import { ConfigError } from '../../lib/errors';
import { checkFiniteMetrics } from '../../lib/outputChecks';
import type { StageWarning } from '../../lib/runTypes';
import { defineStageActivity, type StageDefinition, type StageOutputFile } from '../../lib/stage';
import { analyzeExperiment, controlIndex, experimentMetricRows } from './abTest';
import type { ExperimentAnalysis, ExperimentMetric } from './abTest';
import type { ExperimentConfig } from './config';
import { policyMetricRows, simulatePolicies } from './policySimulation';
import type { Policy, PolicyMetricRow, PolicyResult } from './policySimulation';
import { sampleRatioMismatch } from './srm';
import type { SampleRatioMismatch } from './srm';
import type { CustomerScores } from './targeting';
import { upliftSampler } from './upliftDistribution';

/** Days after assignment over which an experiment's outcome is measured. */
export const DEFAULT_WINDOW_DAYS = 14;
/** Days before assignment whose revenue is the CUPED covariate. */
export const DEFAULT_PRE_WINDOW_DAYS = 90;
/** Segment label of customers the segment stage did not place. */
export const UNSEGMENTED = 'unsegmented';
/** At most this many experiment rows go into the metrics (the rest stay in experiment_results.json). */
export const MAX_METRIC_EXPERIMENT_ROWS = 200;
/** At most this many policy rows go into the metrics. */
export const MAX_METRIC_POLICY_ROWS = 100;

const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------------------
// Part 1: experiments from assignments
// ---------------------------------------------------------------------------------------------------------

/** Where an experiment stands at the cutoff. */
export type ExperimentStatus = 'analyzed' | 'running' | 'insufficient';

/** Counts of one variant (for a running experiment: so far, windows clipped at the cutoff). */
export interface VariantProgress {
  name: string;
  customers: number;
  conversions: number;
  revenue: number;
}

/** One experiment: its status, counts, SRM check and (when its windows have closed) the full analysis. */
export interface ExperimentReport {
  id: string;
  status: ExperimentStatus;
  /** Why there is no analysis (running, too few customers), else null. */
  reason: string | null;
  /** Customers analysed (one valid assignment each). */
  customers: number;
  /** Customers assigned to more than one variant of this experiment: left out. */
  conflictingCustomers: number;
  /** Repeated rows of the same customer and variant (the earliest assigned_at is kept). */
  duplicateRows: number;
  firstAssignedAt: string;
  lastAssignedAt: string;
  /** End of the last customer's outcome window; the experiment is analysed when this is <= the cutoff. */
  windowClosesAt: string;
  windowDays: number;
  preWindowDays: number;
  /** Variant names, sorted; the control is 'control' (any case) if present, else the first. */
  variantNames: string[];
  control: string;
  /** Planned traffic weights per variant (config plannedSplits, else equal). */
  plannedSplit: number[];
  variants: VariantProgress[];
  /** Sample ratio mismatch check (chi-square); null with fewer than 2 variants. */
  srm: SampleRatioMismatch | null;
  /** Full analysis (tests, CUPED, Bayesian, power/MDE, per-segment breakdown) when status is 'analyzed'. */
  analysis: ExperimentAnalysis | null;
}

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
  >;
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

function checkDays(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 3660) {
    throw new Error(`experiment: ${name} must be an integer number of days in [1, 3660] (got ${value})`);
  }
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

interface ExperimentOverview extends Record<string, unknown> {
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
  const windowDays = options.windowDays ?? DEFAULT_WINDOW_DAYS;
  const preWindowDays = options.preWindowDays ?? DEFAULT_PRE_WINDOW_DAYS;
  checkDays('windowDays', windowDays);
  checkDays('preWindowDays', preWindowDays);
  const cutoff = sqlTimestamp(options.cutoffIso, 'experiment');
  const cutoffMs = Date.parse(options.cutoffIso);
  const config = options.config;

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
           CAST(${micro('t.ts < u.assigned_at')} AS DOUBLE) AS pre_revenue
    FROM exp_units u
    LEFT JOIN (SELECT customer_id, ts, amount FROM ${options.transactions} WHERE ts <= ${cutoff} AND amount IS NOT NULL) t
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

  const experiments: ExperimentReport[] = [];
  for (const row of overview) {
    options.progress?.({ step: 'experiment', id: row.experiment_id });
    experiments.push(await analyzeOne(duck, row, { windowDays, preWindowDays, cutoffMs, config }));
  }
  return { experiments, invalidRows: counts.invalid, afterCutoffRows: counts.after };
}

async function analyzeOne(
  duck: Duck,
  row: ExperimentOverview,
  context: {
    windowDays: number;
    preWindowDays: number;
    cutoffMs: number;
    config: AssignmentAnalysisOptions['config'];
  },
): Promise<ExperimentReport> {
  const id = row.experiment_id;
  const { windowDays, preWindowDays, config } = context;
  const where = `experiment_id = ${sqlString(id)}`;
  const byVariant = await duck.all<{
    variant: string;
    customers: number;
    conversions: number;
    revenue: number;
  }>(`
    SELECT variant, count(*)::INTEGER AS customers, count(*) FILTER (WHERE converted)::INTEGER AS conversions,
           CAST(sum(CAST(round(revenue * 1000000) AS BIGINT)) / 1e6 AS DOUBLE) AS revenue
    FROM exp_outcomes WHERE ${where} GROUP BY variant ORDER BY variant`);
  const observed = byVariant.map((v) => v.variant);
  const { variantNames, plannedSplit } = resolveVariants(id, observed, config.plannedSplits);
  const variants: VariantProgress[] = variantNames.map((name) => {
    const found = byVariant.find((v) => v.variant === name);
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
    {
      alpha: config.alpha,
      power: config.power,
      srmThreshold: config.srmThreshold,
      plannedRelativeLift: config.plannedRelativeLift,
      minSegmentArmSize: config.minSegmentArmSize,
    },
  );
  return { ...base, status: 'analyzed', srm: analysis.srm, analysis };
}

// ---------------------------------------------------------------------------------------------------------
// Part 2: policy simulation
// ---------------------------------------------------------------------------------------------------------

/** Purchase-rate parameters of the CLV model (BG/NBD or Pareto/NBD: lambda ~ Gamma(r, alpha)). */
export interface PurchaseRateParams {
  r: number;
  alpha: number;
  /** Days per time unit of T and of alpha (clv.timeUnit). */
  unitDays: number;
}

/**
 * P(at least one purchase in the next t time units | x repeat purchases, age T, P(alive)).
 * Alive at T, purchases are Poisson(lambda) with lambda | alive, x, T ~ Gamma(r + x, alpha + T) (the
 * likelihood of an alive customer is lambda^x e^(-lambda T); Fader, Hardie and Lee 2005, "Counting your
 * customers the easy way", section 3; the same for Pareto/NBD, Schmittlein, Morrison and Colombo 1987), so
 * P(no purchase in t | alive) = ((alpha + T) / (alpha + T + t))^(r + x); a dead customer never buys.
 */
export function modelPurchaseProbability(
  params: Pick<PurchaseRateParams, 'r' | 'alpha'>,
  t: number,
  x: number,
  T: number,
  pAlive: number,
): number {
  const noPurchase = Math.exp((params.r + x) * Math.log1p(-t / (params.alpha + T + t)));
  return pAlive * (1 - noPurchase);
}

/**
 * Proxy P(at least one purchase in h days) from a churn probability c = P(no purchase in W days): with a
 * constant purchase rate, P(none in h) = c^(h / W). Customers are a mixture of rates, so for h < W this
 * overstates the probability a little (Jensen); it is used only when the CLV model's inputs are missing.
 */
export function churnProxyPurchaseProbability(
  churnProbability: number,
  horizonDays: number,
  windowDays: number,
): number {
  if (churnProbability <= 0) return 1;
  if (churnProbability >= 1) return 0;
  return -Math.expm1((horizonDays / windowDays) * Math.log(churnProbability));
}

/** Options of loadPolicyCustomers; table arguments are DuckDB table or view names. */
export interface PolicyCustomerOptions {
  /** clv output: customer_id, expected_spend, clv, and (for the model probability) x, T, p_alive. */
  clv: string;
  /** churn scores: customer_id, churn_probability. */
  churn: string;
  /** segment output: customer_id, persona. */
  segments?: string;
  /** Policy horizon in days. */
  horizonDays: number;
  /** CLV purchase-rate parameters; null to use the churn proxy for everyone. */
  purchaseModel: PurchaseRateParams | null;
  /** Window of churn_probability in days (churn.window). */
  churnWindowDays: number;
}

/** Customers the policies can target, as the columns simulatePolicies takes, and how they were built. */
export interface PolicyCustomers {
  scores: CustomerScores;
  customers: number;
  /** CLV customers without a churn score: left out of the policies. */
  withoutChurnScore: number;
  /** How many baseline purchase probabilities came from the CLV model and how many from the churn proxy. */
  purchaseProbabilitySource: { clvModel: number; churnProxy: number };
  /** Customers whose expected spend per order was missing and got the mean of the others. */
  spendImputed: number;
  horizonDays: number;
  meanPurchaseProbability: number;
  meanSpendPerOrder: number;
}

async function columnNames(duck: Duck, table: string): Promise<string[]> {
  const rows = await duck.all<{ column_name: string }>(
    `SELECT column_name FROM (DESCRIBE SELECT * FROM ${table})`,
  );
  return rows.map((r) => r.column_name);
}

function requireColumns(
  stage: string,
  table: string,
  present: readonly string[],
  needed: readonly string[],
): void {
  const missing = needed.filter((name) => !present.includes(name));
  if (missing.length > 0) {
    throw new Error(
      `experiment: ${stage} output lacks column(s) ${missing.join(', ')} (has ${present.join(', ')}) [${table}]`,
    );
  }
}

async function assertUniqueCustomers(duck: Duck, stage: string, table: string): Promise<void> {
  const dup = await duck.all<{ customer_id: string }>(
    `SELECT customer_id FROM ${table} GROUP BY customer_id HAVING count(*) > 1 ORDER BY customer_id LIMIT 1`,
  );
  if (dup.length > 0)
    throw new Error(`experiment: ${stage} output has customer_id '${dup[0].customer_id}' more than once`);
}

/**
 * Build the policy simulation's customer columns: CLV customers with a churn score, ordered by
 * customer_id; persona from the segments ('unsegmented' when absent). The baseline purchase probability
 * over the horizon is modelPurchaseProbability when the CLV model's parameters and the customer's x, T and
 * P(alive) are available, else churnProxyPurchaseProbability.
 */
export async function loadPolicyCustomers(
  duck: Duck,
  options: PolicyCustomerOptions,
): Promise<PolicyCustomers> {
  checkDays('policy horizonDays', options.horizonDays);
  const clvColumns = await columnNames(duck, options.clv);
  requireColumns('clv', options.clv, clvColumns, ['customer_id', 'expected_spend', 'clv']);
  requireColumns('churn', options.churn, await columnNames(duck, options.churn), [
    'customer_id',
    'churn_probability',
  ]);
  if (options.segments) {
    requireColumns('segment', options.segments, await columnNames(duck, options.segments), [
      'customer_id',
      'persona',
    ]);
  }
  await assertUniqueCustomers(duck, 'clv', options.clv);
  await assertUniqueCustomers(duck, 'churn', options.churn);
  // The clv stage names its time columns with their unit (T_week, T_day, ...).
  const ageColumn = clvColumns.find((name) => name === 'T' || /^T_(day|week|month)$/.test(name));
  const hasModelInputs =
    ageColumn !== undefined && ['x', 'p_alive'].every((name) => clvColumns.includes(name));
  const numeric = (name: string) =>
    clvColumns.includes(name) ? `CAST(c.${sqlIdent(name)} AS DOUBLE)` : 'CAST(NULL AS DOUBLE)';
  const segmentJoin = options.segments
    ? `LEFT JOIN ${options.segments} g ON g.customer_id = c.customer_id`
    : '';
  const persona = options.segments
    ? `coalesce(CAST(g.persona AS VARCHAR), ${sqlString(UNSEGMENTED)})`
    : sqlString(UNSEGMENTED);
  await duck.run(`CREATE OR REPLACE TEMP TABLE exp_policy_customers AS
    SELECT c.customer_id, ${numeric('x')} AS x, ${hasModelInputs ? numeric(ageColumn) : 'CAST(NULL AS DOUBLE)'} AS age,
           ${numeric('p_alive')} AS p_alive, ${numeric('expected_spend')} AS expected_spend, ${numeric('clv')} AS clv,
           CAST(s.churn_probability AS DOUBLE) AS churn_probability, ${persona} AS persona
    FROM ${options.clv} c
    JOIN ${options.churn} s ON s.customer_id = c.customer_id AND isfinite(CAST(s.churn_probability AS DOUBLE))
    ${segmentJoin}
    ORDER BY c.customer_id`);
  const { n: clvCustomers } = await duck.one<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM ${options.clv}`,
  );
  const segmentNames = (
    await duck.all<{ persona: string }>(`SELECT DISTINCT persona FROM exp_policy_customers ORDER BY persona`)
  ).map((r) => r.persona);
  const names = [
    'x',
    'age',
    'p_alive',
    'expected_spend',
    'clv',
    'churn_probability',
    'segment_index',
  ] as const;
  const { rowCount: n, columns } = await duck.columns(
    `SELECT x, age, p_alive, expected_spend, clv, churn_probability,
            CAST(list_position([${segmentNames.map(sqlString).join(', ')}]::VARCHAR[], persona) - 1 AS DOUBLE) AS segment_index
     FROM exp_policy_customers ORDER BY customer_id`,
    names,
  );
  return policyCustomersFromColumns(columns, segmentNames, {
    horizonDays: options.horizonDays,
    purchaseModel: hasModelInputs ? options.purchaseModel : null,
    churnWindowDays: options.churnWindowDays,
    withoutChurnScore: clvCustomers - n,
  });
}

/** The pure part of loadPolicyCustomers: probabilities, imputation and clamping over the columns. */
export function policyCustomersFromColumns(
  columns: Record<
    'x' | 'age' | 'p_alive' | 'expected_spend' | 'clv' | 'churn_probability' | 'segment_index',
    Float64Array
  >,
  segmentNames: readonly string[],
  options: {
    horizonDays: number;
    purchaseModel: PurchaseRateParams | null;
    churnWindowDays: number;
    withoutChurnScore: number;
  },
): PolicyCustomers {
  const n = columns.x.length;
  const model = options.purchaseModel;
  const t = model ? options.horizonDays / model.unitDays : NaN;
  const purchaseProbability = new Float64Array(n);
  const spendPerOrder = new Float64Array(n);
  const clv = new Float64Array(n);
  const churnProbability = new Float64Array(n);
  const segment = new Int32Array(n);
  let fromModel = 0;
  let spendSum = 0;
  let spendCount = 0;
  for (let i = 0; i < n; i++) {
    const s = columns.expected_spend[i];
    if (Number.isFinite(s) && s >= 0) {
      spendSum += s;
      spendCount++;
    }
  }
  const meanSpend = spendCount > 0 ? spendSum / spendCount : 0;
  let spendImputed = 0;
  let probabilitySum = 0;
  for (let i = 0; i < n; i++) {
    const churn = Math.min(1, Math.max(0, columns.churn_probability[i]));
    churnProbability[i] = churn;
    const x = columns.x[i];
    const age = columns.age[i];
    const alive = columns.p_alive[i];
    let p: number;
    if (model && x >= 0 && age >= 0 && alive >= 0 && alive <= 1) {
      p = modelPurchaseProbability(model, t, x, age, alive);
      fromModel++;
    } else {
      p = churnProxyPurchaseProbability(churn, options.horizonDays, options.churnWindowDays);
    }
    purchaseProbability[i] = Math.min(1, Math.max(0, p));
    probabilitySum += purchaseProbability[i];
    const s = columns.expected_spend[i];
    if (Number.isFinite(s) && s >= 0) spendPerOrder[i] = s;
    else {
      spendPerOrder[i] = meanSpend;
      spendImputed++;
    }
    clv[i] = Number.isFinite(columns.clv[i]) ? columns.clv[i] : 0;
    segment[i] = columns.segment_index[i];
  }
  return {
    scores: { purchaseProbability, spendPerOrder, clv, churnProbability, segment, segmentNames },
    customers: n,
    withoutChurnScore: options.withoutChurnScore,
    purchaseProbabilitySource: { clvModel: fromModel, churnProxy: n - fromModel },
    spendImputed,
    horizonDays: options.horizonDays,
    meanPurchaseProbability: n > 0 ? probabilitySum / n : NaN,
    meanSpendPerOrder: n > 0 ? spendPerOrder.reduce((a, b) => a + b, 0) / n : NaN,
  };
}

/**
 * Check every policy's uplift distributions (a ConfigError naming experiment.policies[i] when one is
 * invalid) and drop target segments this month's segmentation does not have (personas change from month
 * to month): a warning per dropped name; a policy left with no known segment targets nobody.
 */
export function preparePolicies(
  policies: readonly Policy[],
  segmentNames: readonly string[],
): { policies: Policy[]; warnings: Record<string, string[]> } {
  const warnings: Record<string, string[]> = {};
  const prepared = policies.map((policy, index) => {
    const where = `experiment.policies[${index}] ('${policy.name}')`;
    try {
      upliftSampler(policy.upliftConversion, `${where}.upliftConversion`);
      if (policy.upliftSpend) upliftSampler(policy.upliftSpend, `${where}.upliftSpend`);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    const segments = policy.target?.segments;
    if (!segments) return policy;
    const unknown = segments.filter((name) => !segmentNames.includes(name));
    if (unknown.length === 0) return policy;
    warnings[policy.name] = unknown.map(
      (name) => `target segment '${name}' does not exist this month (segments: ${segmentNames.join(', ')})`,
    );
    return {
      ...policy,
      target: { ...policy.target, segments: segments.filter((name) => segmentNames.includes(name)) },
    };
  });
  return { policies: prepared, warnings };
}

/** The CLV model's purchase-rate parameters from the clv stage metrics ({ params: { r, alpha, ... } }). */
export function purchaseRateParamsFromMetrics(
  metrics: Record<string, unknown> | undefined,
  timeUnit: keyof typeof DAYS_PER_UNIT,
): PurchaseRateParams | null {
  const params = metrics?.params;
  if (params === null || typeof params !== 'object') return null;
  const { r, alpha } = params as Record<string, unknown>;
  if (typeof r !== 'number' || typeof alpha !== 'number' || !(r > 0) || !(alpha > 0)) return null;
  return { r, alpha, unitDays: DAYS_PER_UNIT[timeUnit] };
}

// ---------------------------------------------------------------------------------------------------------
// Metrics and the stage
// ---------------------------------------------------------------------------------------------------------

/** One contract row per analysed experiment, treatment and metric (docs/DESIGN.md), plus context. */
export interface ExperimentMetricSummary {
  id: string;
  treatment: string;
  metric: ExperimentMetric;
  lift: number;
  ci: [number, number];
  pValue: number;
  srmPValue: number;
  srmFlagged: boolean;
  probabilityToBeatControl: number;
  controlValue: number;
  treatmentValue: number;
  customersControl: number;
  customersTreatment: number;
}

/** Status of every experiment, analysed or not. */
export interface ExperimentStatusSummary {
  id: string;
  status: ExperimentStatus;
  customers: number;
  srmPValue: number | null;
  reason: string | null;
}

/** Stage metrics: the docs/DESIGN.md contract fields `experiments` and `policies`, plus context. */
export interface ExperimentMetrics extends Record<string, unknown> {
  experiments: ExperimentMetricSummary[];
  policies: PolicyMetricRow[];
  experimentStatus: ExperimentStatusSummary[];
  /** Confidence level of every `ci` (1 - experiment.alpha; 0.95 by default). */
  confidence: number;
  windowDays: number;
  preWindowDays: number;
  policyHorizonDays: number;
  policyCustomers: number;
  /** Why a part is empty or incomplete. */
  notes: string[];
}

/** Contract rows of the analysed experiments, and the status of every experiment. */
export function experimentSummaries(reports: readonly ExperimentReport[]): {
  rows: ExperimentMetricSummary[];
  status: ExperimentStatusSummary[];
} {
  const rows: ExperimentMetricSummary[] = [];
  for (const report of reports) {
    if (!report.analysis) continue;
    for (const row of experimentMetricRows(report.analysis)) {
      rows.push({
        id: row.id,
        treatment: row.treatment,
        metric: row.metric,
        lift: row.lift,
        ci: row.ci,
        pValue: row.pValue,
        srmPValue: row.srmPValue,
        srmFlagged: row.srmFlagged,
        probabilityToBeatControl: row.probabilityToBeatControl,
        controlValue: row.controlValue,
        treatmentValue: row.treatmentValue,
        customersControl: row.customersControl,
        customersTreatment: row.customersTreatment,
      });
    }
  }
  const status = reports.map((r) => ({
    id: r.id,
    status: r.status,
    customers: r.customers,
    srmPValue: r.srm ? r.srm.pValue : null,
    reason: r.reason,
  }));
  return { rows, status };
}

/** Everything the stage found: written as experiment_results.json. */
export interface ExperimentResults {
  cutoff: string;
  confidence: number;
  windowDays: number;
  preWindowDays: number;
  experiments: ExperimentReport[];
  assignments: { invalidRows: number; afterCutoffRows: number } | null;
  policyHorizonDays: number;
  policyCustomers: Omit<PolicyCustomers, 'scores'> & { segmentNames: readonly string[] };
  /** Ranked by expected incremental profit. */
  policies: (PolicyResult & { warnings: string[] })[];
  notes: string[];
}

/** The stage definition (compute callable with a StageContext, e.g. in tests); `experiment` is the activity. */
export const experimentStage: StageDefinition<ExperimentMetrics> = {
  stage: 'experiment',
  version: 1,
  configSection: (c) => ({
    experiment: c.experiment,
    seed: c.seed,
    clvTimeUnit: c.clv.timeUnit,
    churnWindow: c.churn.window,
  }),
  async compute(ctx) {
    const config = ctx.run.config.experiment;
    const notes: string[] = [];
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    const assignmentsPath = ctx.upstream.clean?.outputs.assignments
      ? await ctx.fetchUpstream('clean', 'assignments')
      : null;
    const segmentsPath = await ctx.fetchUpstream('segment', 'segments');
    const clvPath = await ctx.fetchUpstream('clv', 'clv');
    const churnPath = await ctx.fetchUpstream('churn', 'scores');
    return withDuck(
      async (duck) => {
        const parquet = (path: string) => `read_parquet(${sqlString(path)})`;
        await duck.run(`CREATE TABLE segments AS SELECT customer_id, persona FROM ${parquet(segmentsPath)}`);

        let assignmentAnalysis: AssignmentAnalysis | null = null;
        if (assignmentsPath) {
          ctx.heartbeat({ step: 'experiments' });
          await duck.run(
            `CREATE TABLE transactions AS SELECT customer_id, ts, amount FROM ${parquet(transactionsPath)}`,
          );
          await duck.run(`CREATE TABLE assignments AS SELECT * FROM ${parquet(assignmentsPath)}`);
          assignmentAnalysis = await analyzeAssignments(duck, {
            transactions: 'transactions',
            assignments: 'assignments',
            segments: 'segments',
            cutoffIso: ctx.run.cutoff,
            config,
            progress: (detail) => ctx.heartbeat(detail),
          });
          if (assignmentAnalysis.experiments.length === 0)
            notes.push('assignments hold no experiment up to the cutoff');
        } else {
          notes.push('no experiments: the dataset has no assignments table');
        }
        const reports = assignmentAnalysis?.experiments ?? [];

        ctx.heartbeat({ step: 'policy customers' });
        const policyCustomers = await loadPolicyCustomers(duck, {
          clv: parquet(clvPath),
          churn: parquet(churnPath),
          segments: 'segments',
          horizonDays: DEFAULT_WINDOW_DAYS,
          purchaseModel: purchaseRateParamsFromMetrics(
            ctx.upstream.clv?.metrics,
            ctx.run.config.clv.timeUnit,
          ),
          churnWindowDays: ctx.run.config.churn.window,
        });
        if (policyCustomers.purchaseProbabilitySource.churnProxy > 0) {
          notes.push(
            `${policyCustomers.purchaseProbabilitySource.churnProxy} customers' baseline purchase probability is the churn proxy ` +
              `(CLV model parameters or x, T, p_alive unavailable)`,
          );
        }

        let policies: ExperimentResults['policies'] = [];
        if (config.policies.length === 0) {
          notes.push('no policies configured (experiment.policies)');
        } else {
          ctx.heartbeat({ step: 'policies' });
          const prepared = preparePolicies(config.policies, policyCustomers.scores.segmentNames);
          const results = simulatePolicies(policyCustomers.scores, prepared.policies, {
            simulations: config.simulations,
            seed: ctx.run.config.seed,
            method: config.method,
            bins: config.bins,
          });
          policies = results.map((r) => ({ ...r, warnings: prepared.warnings[r.name] ?? [] }));
        }

        const { scores, ...customerSummary } = policyCustomers;
        const results: ExperimentResults = {
          cutoff: ctx.run.cutoff,
          confidence: 1 - config.alpha,
          windowDays: DEFAULT_WINDOW_DAYS,
          preWindowDays: DEFAULT_PRE_WINDOW_DAYS,
          experiments: reports,
          assignments: assignmentAnalysis
            ? {
                invalidRows: assignmentAnalysis.invalidRows,
                afterCutoffRows: assignmentAnalysis.afterCutoffRows,
              }
            : null,
          policyHorizonDays: DEFAULT_WINDOW_DAYS,
          policyCustomers: { ...customerSummary, segmentNames: scores.segmentNames },
          policies,
          notes,
        };
        const resultsPath = join(ctx.scratchDir, 'experiment_results.json');
        await writeFile(resultsPath, JSON.stringify(results, null, 2));

        const summaries = experimentSummaries(reports);
        const metricNotes = [...notes];
        if (summaries.rows.length > MAX_METRIC_EXPERIMENT_ROWS) {
          metricNotes.push(
            `experiments: ${summaries.rows.length} rows, first ${MAX_METRIC_EXPERIMENT_ROWS} here (all in experiment_results.json)`,
          );
        }
        if (policies.length > MAX_METRIC_POLICY_ROWS) {
          metricNotes.push(
            `policies: ${policies.length}, top ${MAX_METRIC_POLICY_ROWS} here (all in experiment_results.json)`,
          );
        }
        const metrics: ExperimentMetrics = {
          experiments: summaries.rows.slice(0, MAX_METRIC_EXPERIMENT_ROWS),
          policies: policyMetricRows(policies.slice(0, MAX_METRIC_POLICY_ROWS)),
          experimentStatus: summaries.status.slice(0, MAX_METRIC_EXPERIMENT_ROWS),
          confidence: 1 - config.alpha,
          windowDays: DEFAULT_WINDOW_DAYS,
          preWindowDays: DEFAULT_PRE_WINDOW_DAYS,
          policyHorizonDays: DEFAULT_WINDOW_DAYS,
          policyCustomers: policyCustomers.customers,
          notes: metricNotes,
        };
        const outputs: Record<string, StageOutputFile> = { results: { path: resultsPath } };
        const warnings = checkExperimentResults(
          metrics,
          policies,
          policyCustomers.purchaseProbabilitySource.churnProxy,
        );
        return { outputs, metrics, warnings };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
};

/**
 * The stage's own check of its results. Policy outcomes must be finite (a NaN incremental revenue is a
 * broken simulation, not a result). What a reader must know before acting becomes a warning: a sample
 * ratio mismatch (the split itself is suspect), an undefined lift (a control group with no conversions),
 * a policy naming segments that do not exist, customers whose baseline came from the churn proxy.
 */
export function checkExperimentResults(
  metrics: Pick<ExperimentMetrics, 'experiments' | 'policies'>,
  policies: readonly { name: string; warnings: readonly string[] }[],
  churnProxyCustomers: number,
): StageWarning[] {
  for (const policy of metrics.policies) {
    const { mean, p5, p95 } = policy.incrementalRevenue;
    checkFiniteMetrics(`experiment policy ${policy.name}`, { mean, p5, p95, roi: policy.roi });
  }
  const warnings: StageWarning[] = [];
  for (const row of metrics.experiments) {
    const where = `${row.id} (${row.treatment}, ${row.metric})`;
    if (row.srmFlagged) {
      warnings.push({
        code: 'experiment_sample_ratio_mismatch',
        message: `${where}: the split differs from the planned one (SRM p = ${row.srmPValue.toExponential(2)}); its lift is not trustworthy`,
      });
    }
    if (![row.lift, row.ci[0], row.ci[1], row.pValue].every(Number.isFinite)) {
      warnings.push({
        code: 'experiment_lift_undefined',
        message: `${where}: the relative lift is undefined (control value ${row.controlValue})`,
      });
    }
  }
  for (const policy of policies) {
    for (const message of policy.warnings)
      warnings.push({ code: 'experiment_policy', message: `${policy.name}: ${message}` });
  }
  if (churnProxyCustomers > 0) {
    warnings.push({
      code: 'experiment_churn_proxy',
      message: `${churnProxyCustomers} customers' baseline purchase probability comes from the churn proxy (no CLV purchase model)`,
    });
  }
  return warnings;
}

/** The experiment stage activity. */
export const experiment = defineStageActivity(experimentStage);
