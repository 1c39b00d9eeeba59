/**
 * The experiment stage's per-shard statistics and their merge (sharded.ts). A customer's assignments and
 * transactions are all in its shard, so each shard builds the same per-customer outcome table the
 * unsharded stage builds (assignments.ts buildOutcomeTables) for its own customers and reduces it to:
 *
 * - per experiment: the overview counts (customers, conflicting customers, duplicate rows) and the
 *   assignment span (min and max), which add and take min/max across shards;
 * - per experiment and variant: customers, conversions and revenue summed in integer micro-units (exact,
 *   as the unsharded stage sums them), and the exact moments (experimentMoments.ts) of conversion, revenue,
 *   pre-period revenue (the CUPED covariate) and every measure metric, with all pairwise products (what
 *   CUPED and the ratio metrics' delta method need);
 * - per experiment, persona and variant: the moments of conversion and revenue (the segment breakdown).
 *
 * Reduce adds the shards' exact partials and rounds once, so every statistic is the same for any S.
 */
import type { Duck } from '../../lib/duck';
import { sqlString } from '../../lib/duck';
import { analyzeExperimentStatistics, controlIndex, type ExperimentStatistics } from './abTest';
import {
  abTestOptions,
  buildOutcomeTables,
  experimentReport,
  type AssignmentAnalysis,
  type AssignmentAnalysisOptions,
  type ExperimentContext,
  type ExperimentOverview,
} from './assignments';
import type { ExperimentConfig } from '../../lib/stageConfig/experiment';
import type { ExperimentReport, VariantProgress } from './contract';
import {
  analyzeCustomMetricStatistics,
  metricAlias,
  validateMetricConfig,
  type CustomMetricStatistics,
} from './customMetrics';
import { CoMoments, cupedFromMoments, type CoMomentsJson } from './experimentMoments';
import { checkDays } from './windowDays';

/** One shard's statistics of one experiment. */
export interface ShardExperiment {
  id: string;
  customers: number;
  conflicting: number;
  duplicateRows: number;
  /** Earliest and latest valid assignment (epoch ms), null when the shard has no valid customer. */
  firstMs: number | null;
  lastMs: number | null;
  variants: {
    name: string;
    customers: number;
    conversions: number;
    /** Net revenue in integer micro-units, as a decimal string (exact beyond 2^53). */
    revenueMicros: string;
    /** Columns: outcomeColumns(config). */
    moments: CoMomentsJson;
  }[];
  /** Columns: conversion, revenue. */
  cells: { persona: string; variant: string; moments: CoMomentsJson }[];
}

/** What one shard activity reports to reduce (its receipt's summary). */
export interface ExperimentShardSummary {
  invalidRows: number;
  afterCutoffRows: number;
  experiments: ShardExperiment[];
}

/**
 * The per-customer columns whose moments are kept per variant: conversion, revenue, the CUPED covariate,
 * then each measure metric (ratio metrics are built from these).
 */
export function outcomeColumns(metrics: ExperimentConfig['metrics']): { name: string; sql: string }[] {
  const columns = [
    { name: 'conversion', sql: 'CAST(converted AS DOUBLE)' },
    { name: 'revenue', sql: 'revenue' },
    { name: '(pre-period revenue)', sql: 'pre_revenue' },
  ];
  metrics.forEach((metric, index) => {
    if ('column' in metric) columns.push({ name: metric.name, sql: metricAlias(index) });
  });
  return columns;
}

const CONVERSION = 0;
const REVENUE = 1;
const PRE_REVENUE = 2;

/** The shard's statistics: build its outcome tables, then sum each experiment's customers exactly. */
export async function summarizeExperimentShard(
  duck: Duck,
  options: AssignmentAnalysisOptions,
): Promise<ExperimentShardSummary> {
  const tables = await buildOutcomeTables(duck, options);
  const columns = outcomeColumns(tables.context.config.metrics);
  const experiments: ShardExperiment[] = [];
  for (const row of tables.overview) {
    options.progress?.({ step: 'experiment', id: row.experiment_id });
    const where = `experiment_id = ${sqlString(row.experiment_id)}`;
    const counts = await duck.all<{
      variant: string;
      customers: number;
      conversions: number;
      micros: string;
    }>(`
      SELECT variant, count(*)::INTEGER AS customers, count(*) FILTER (WHERE converted)::INTEGER AS conversions,
             CAST(sum(CAST(round(revenue * 1000000) AS BIGINT)) AS VARCHAR) AS micros
      FROM exp_outcomes WHERE ${where} GROUP BY variant ORDER BY variant`);
    const variantNames = counts.map((c) => c.variant);
    const personas = (
      await duck.all<{ persona: string }>(
        `SELECT DISTINCT persona FROM exp_outcomes WHERE ${where} ORDER BY persona`,
      )
    ).map((r) => r.persona);
    const list = (names: readonly string[]) => `[${names.map(sqlString).join(', ')}]::VARCHAR[]`;
    const aliases = columns.map((_, i) => `c${i}`);
    const { rowCount, columns: values } = await duck.columns(
      `SELECT CAST(list_position(${list(variantNames)}, variant) - 1 AS DOUBLE) AS variant_index,
              CAST(list_position(${list(personas)}, persona) - 1 AS DOUBLE) AS persona_index,
              ${columns.map((c, i) => `CAST(${c.sql} AS DOUBLE) AS ${aliases[i]}`).join(', ')}
       FROM exp_outcomes WHERE ${where} ORDER BY customer_id`,
      ['variant_index', 'persona_index', ...aliases],
    );
    const byVariant = variantNames.map(() => new CoMoments(columns.length));
    const byCell = new Map<number, CoMoments>();
    const customer = new Float64Array(columns.length);
    const cellValues = new Float64Array(2);
    for (let i = 0; i < rowCount; i++) {
      const v = values.variant_index[i];
      aliases.forEach((alias, c) => (customer[c] = values[alias][i]));
      byVariant[v].add(customer);
      const key = values.persona_index[i] * variantNames.length + v;
      let cell = byCell.get(key);
      if (!cell) byCell.set(key, (cell = new CoMoments(2)));
      cellValues[0] = customer[CONVERSION];
      cellValues[1] = customer[REVENUE];
      cell.add(cellValues);
    }
    experiments.push({
      id: row.experiment_id,
      customers: row.customers,
      conflicting: row.conflicting,
      duplicateRows: row.duplicate_rows ?? 0,
      firstMs: row.first_ms ?? null,
      lastMs: row.last_ms ?? null,
      variants: counts.map((c, v) => ({
        name: c.variant,
        customers: c.customers,
        conversions: c.conversions,
        revenueMicros: c.micros,
        moments: byVariant[v].toJson(),
      })),
      cells: [...byCell.entries()]
        .sort(([a], [b]) => a - b)
        .map(([key, moments]) => ({
          persona: personas[Math.floor(key / variantNames.length)],
          variant: variantNames[key % variantNames.length],
          moments: moments.toJson(),
        })),
    });
  }
  return {
    invalidRows: tables.invalidRows,
    afterCutoffRows: tables.afterCutoffRows,
    experiments,
  };
}

/** One experiment merged over every shard. */
export interface MergedExperiment {
  overview: ExperimentOverview;
  byVariant: VariantProgress[];
  /** Moments per variant name (outcomeColumns). */
  moments: Map<string, CoMoments>;
  /** Moments of conversion and revenue per persona, then variant name. */
  cells: Map<string, Map<string, CoMoments>>;
}

/** Every shard's statistics merged per experiment (sorted by id), exactly. */
export function mergeExperimentShards(
  summaries: readonly ExperimentShardSummary[],
  metrics: ExperimentConfig['metrics'],
): { experiments: MergedExperiment[]; invalidRows: number; afterCutoffRows: number } {
  const columns = outcomeColumns(metrics).length;
  const merged = new Map<
    string,
    MergedExperiment & { micros: Map<string, bigint>; first: number | null; last: number | null }
  >();
  let invalidRows = 0;
  let afterCutoffRows = 0;
  for (const summary of summaries) {
    invalidRows += summary.invalidRows;
    afterCutoffRows += summary.afterCutoffRows;
    for (const shard of summary.experiments) {
      let m = merged.get(shard.id);
      if (!m) {
        m = {
          overview: {
            experiment_id: shard.id,
            customers: 0,
            conflicting: 0,
            duplicate_rows: 0,
            first_ms: NaN,
            last_ms: NaN,
          },
          byVariant: [],
          moments: new Map(),
          cells: new Map(),
          micros: new Map(),
          first: null,
          last: null,
        };
        merged.set(shard.id, m);
      }
      m.overview.customers += shard.customers;
      m.overview.conflicting += shard.conflicting;
      m.overview.duplicate_rows += shard.duplicateRows;
      if (shard.firstMs !== null)
        m.first = m.first === null ? shard.firstMs : Math.min(m.first, shard.firstMs);
      if (shard.lastMs !== null) m.last = m.last === null ? shard.lastMs : Math.max(m.last, shard.lastMs);
      for (const v of shard.variants) {
        let progress = m.byVariant.find((p) => p.name === v.name);
        if (!progress) {
          progress = { name: v.name, customers: 0, conversions: 0, revenue: 0 };
          m.byVariant.push(progress);
          m.moments.set(v.name, new CoMoments(columns));
        }
        progress.customers += v.customers;
        progress.conversions += v.conversions;
        m.micros.set(v.name, (m.micros.get(v.name) ?? 0n) + BigInt(v.revenueMicros));
        m.moments.get(v.name)?.addJson(v.moments);
      }
      for (const cell of shard.cells) {
        let byPersona = m.cells.get(cell.persona);
        if (!byPersona) m.cells.set(cell.persona, (byPersona = new Map<string, CoMoments>()));
        let moments = byPersona.get(cell.variant);
        if (!moments) byPersona.set(cell.variant, (moments = new CoMoments(2)));
        moments.addJson(cell.moments);
      }
    }
  }
  const experiments = [...merged.values()]
    .sort((a, b) => compareText(a.overview.experiment_id, b.overview.experiment_id))
    .map(({ micros, first, last, ...m }) => {
      m.overview.first_ms = first ?? NaN;
      m.overview.last_ms = last ?? NaN;
      // As the unsharded stage: the exact micro-unit sum, divided once.
      for (const v of m.byVariant) v.revenue = Number(micros.get(v.name) ?? 0n) / 1e6;
      m.byVariant.sort((a, b) => compareText(a.name, b.name));
      return m;
    });
  return { experiments, invalidRows, afterCutoffRows };
}

/** Byte order of ASCII text, as DuckDB's ORDER BY on VARCHAR sorts the unsharded stage's ids. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The A/B tests' statistics of a merged experiment (its variants in `variantNames`' order). */
export function mergedStatistics(
  experiment: MergedExperiment,
  variantNames: readonly string[],
  plannedSplit: readonly number[],
  control: number,
): ExperimentStatistics {
  const empty = (columns: number): CoMoments => new CoMoments(columns);
  const columns = experiment.moments.values().next().value?.columns ?? 3;
  const moments = variantNames.map((name) => experiment.moments.get(name) ?? empty(columns));
  const personas = [...experiment.cells.keys()].sort(compareText);
  return {
    id: experiment.overview.experiment_id,
    variantNames,
    plannedSplit,
    conversions: moments.map((m) => m.sum(CONVERSION)),
    revenue: moments.map((m) => m.summary(REVENUE)),
    cuped: moments.map((m, j) =>
      j === control ? null : cupedFromMoments(moments[control], m, REVENUE, PRE_REVENUE),
    ),
    segments: {
      names: personas,
      cells: personas.flatMap((persona) =>
        variantNames.map((name) => {
          const cell = experiment.cells.get(persona)?.get(name) ?? empty(2);
          return { conversions: cell.sum(0), revenue: cell.summary(1) };
        }),
      ),
    },
  };
}

/** The configured metrics' statistics of a merged experiment. */
export function mergedMetricStatistics(
  experiment: MergedExperiment,
  variantNames: readonly string[],
  control: number,
  metrics: ExperimentConfig['metrics'],
): CustomMetricStatistics {
  const names = outcomeColumns(metrics).map((c) => c.name);
  const column = (name: string): number => {
    const index = names.indexOf(name);
    if (index < 0) throw new Error(`experiment: metric '${name}' has no per-customer moments`);
    return index;
  };
  const momentsOf = (variant: number): CoMoments => {
    const moments = experiment.moments.get(variantNames[variant]);
    if (!moments) throw new Error(`experiment: variant '${variantNames[variant]}' has no customers`);
    return moments;
  };
  return {
    variantNames,
    control,
    summary: (name, variant) => momentsOf(variant).summary(column(name)),
    ratioMoments: (numerator, denominator, variant) =>
      momentsOf(variant).ratioMoments(column(numerator), column(denominator)),
  };
}

/**
 * The experiments of every shard's summary, merged and analysed as the unsharded stage analyses them
 * (assignments.ts experimentReport), from exact moments: the same reports for any S.
 */
export async function analyzeShardSummaries(
  summaries: readonly ExperimentShardSummary[],
  options: { cutoffIso: string; config: ExperimentConfig },
  progress?: (experimentId: string) => void,
): Promise<AssignmentAnalysis> {
  const { config } = options;
  checkDays('windowDays', config.windowDays);
  checkDays('preWindowDays', config.preWindowDays);
  validateMetricConfig(config.metrics, config.guardrails);
  const merged = mergeExperimentShards(summaries, config.metrics);
  const context: ExperimentContext = {
    windowDays: config.windowDays,
    preWindowDays: config.preWindowDays,
    cutoffMs: Date.parse(options.cutoffIso),
    config,
  };
  const experiments: ExperimentReport[] = [];
  for (const experiment of merged.experiments) {
    progress?.(experiment.overview.experiment_id);
    experiments.push(
      await experimentReport(
        experiment.overview,
        experiment.byVariant,
        context,
        (variantNames, plannedSplit) => {
          const control = controlIndex(variantNames);
          const statistics = mergedStatistics(experiment, variantNames, plannedSplit, control);
          const analysis = analyzeExperimentStatistics(statistics, abTestOptions(config));
          if (config.metrics.length === 0 && config.guardrails.length === 0) return { analysis };
          const custom = analyzeCustomMetricStatistics(
            mergedMetricStatistics(experiment, variantNames, control, config.metrics),
            config,
          );
          return { analysis, custom };
        },
      ),
    );
  }
  return { experiments, invalidRows: merged.invalidRows, afterCutoffRows: merged.afterCutoffRows };
}
