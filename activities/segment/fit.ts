/**
 * The segmentation model: reading the features table into typed columns (validated), then the clustering
 * features transformed (shrunk, log1p, standardised, block-weighted), k chosen and the segments fitted
 * (selectK.ts), their stability, and the decision rules. The unsharded stage fits on every customer; the
 * sharded stage fits on a seeded sample (sample.ts) and assigns every shard's customers with the result
 * (model.ts).
 */
import { FEATURE_DICTIONARY } from '../../lib/customerFeatures/dictionary';
import { type Duck, sqlIdent, sqlString } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import { Rng } from '../../lib/random';
import { runToEnd, type Steps } from '../../lib/yieldEvery';
import {
  WITNESS_DIMENSIONS,
  dimensionOf,
  dimensionWeights,
  observationCountOf,
  populationMean,
  resolveClusterFeatures,
  scaleColumns,
  shrinkTowards,
} from './clusterFeatures';
import type { SegmentConfig } from '../../lib/stageConfig/segment';
import type { KMetrics } from './contract';
import { corroborateBlocks, type BlockCorroboration } from './corroboration';
import { deriveSeed, fromColumns, sampleIndices, takeRows, type Matrix } from './matrix';
import type { PersonaColumns } from './personas';
import { fitRuleTree, type RuleTree } from './rules';
import { selectKSteps, type Segmentation } from './selectK';
import { bootstrapStability } from './stability';
import { fitTransform, type TransformParams } from './transform';

/** The feature columns the persona rules read, by persona key. R, F and M are required. */
export const PERSONA_FEATURES: Partial<Record<keyof PersonaColumns, string>> &
  Record<'recencyDays' | 'frequency' | 'monetaryTotal', string> = {
  recencyDays: 'recency_days',
  frequency: 'frequency_orders',
  monetaryTotal: 'monetary_total',
  avgOrderValue: 'monetary_mean_order',
  tenureDays: 'tenure_days',
  returnRate: 'return_rate',
  spendTrend: 'spend_trend',
  distinctCategories: 'distinct_categories',
  itemsPerOrder: 'items_per_order',
  browseOnlyShare: 'browse_only_share',
};

/** Customers the decision tree is fitted on (a seeded sample; fidelity is measured on everyone). */
const RULE_FIT_SAMPLE = 20_000;
/** Customers the block weights are scored on (corroboration.ts). */
const CORROBORATION_SAMPLE = 3000;
/** Blocks weighted below this (corroboration.ts) are not offered to the decision rules. */
const RULE_MIN_BLOCK_WEIGHT = 0.1;

/** Money and count columns are right-skewed: log1p before distances, as the dictionary marks them. */
export const SKEWED_FEATURES: ReadonlySet<string> = new Set(
  FEATURE_DICTIONARY.filter((f) => f.skewed).map((f) => f.name),
);

/** Which columns of a features table the stage reads, and why. */
export interface SegmentColumnPlan {
  /** Every column but customer_id, in table order. */
  available: string[];
  /** Clustering features, in table order. */
  features: string[];
  /** Value-axis columns that witness the block weights (corroboration.ts). */
  witnesses: string[];
  /** Every column loaded: features, witnesses, persona inputs, observation counts. */
  loaded: string[];
}

/** The features table as typed columns in customer_id order. */
export interface SegmentInput extends SegmentColumnPlan {
  rowCount: number;
  columns: Record<string, Float64Array>;
}

/** The columns of a features table the stage reads (ConfigError for unknown configured features). */
export async function planSegmentColumns(
  duck: Duck,
  source: string,
  file: string,
  config: SegmentConfig,
): Promise<SegmentColumnPlan> {
  const available = (await duck.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${source}`))
    .map((r) => r.column_name)
    .filter((c) => c !== 'customer_id');
  const features = resolveClusterFeatures(available, config.features);
  // The value axis witnesses the block weights without entering the distance (corroboration.ts).
  const witnesses = available.filter(
    (c) => (WITNESS_DIMENSIONS as readonly string[]).includes(dimensionOf(c)) && !features.includes(c),
  );
  const required = [PERSONA_FEATURES.recencyDays, PERSONA_FEATURES.frequency, PERSONA_FEATURES.monetaryTotal];
  const missing = required.filter((f) => !available.includes(f));
  if (missing.length > 0) {
    throw new DataValidationError({
      file,
      column: missing.join(', '),
      rule: 'the customer features must include recency_days, frequency_orders and monetary_total (personas and RFM)',
    });
  }
  const personaColumns = Object.values(PERSONA_FEATURES).filter((f) => available.includes(f));
  const counts = features.map(observationCountOf).filter((c): c is string => c !== null);
  const loaded = available.filter(
    (c) => features.includes(c) || witnesses.includes(c) || personaColumns.includes(c) || counts.includes(c),
  );
  return { available, features, witnesses, loaded };
}

/**
 * The loaded columns of the rows of `source` (a table expression with customer_id) matching `where`, in
 * customer_id order; customer_id unique and every value finite, else a DataValidationError naming `file`.
 */
export async function loadSegmentInput(
  duck: Duck,
  source: string,
  file: string,
  plan: SegmentColumnPlan,
  where = 'TRUE',
): Promise<SegmentInput> {
  const { loaded } = plan;
  const { rowCount, columns } = await duck.columns(
    `SELECT ${loaded.map((c) => `CAST(${sqlIdent(c)} AS DOUBLE) AS ${sqlIdent(c)}`).join(', ')}
     FROM ${source} WHERE ${where} ORDER BY customer_id`,
    loaded,
  );
  const { duplicates } = await duck.one<{ duplicates: number }>(
    `SELECT (count(*) - count(DISTINCT customer_id))::INTEGER AS duplicates FROM ${source} WHERE ${where}`,
  );
  if (duplicates > 0) {
    throw new DataValidationError({
      file,
      column: 'customer_id',
      rule: `customer_id must be unique and not null in the features table (${duplicates} rows break it)`,
    });
  }
  for (const name of loaded) {
    const col = columns[name];
    for (let i = 0; i < rowCount; i++) {
      if (!Number.isFinite(col[i])) {
        throw new DataValidationError({
          file,
          column: name,
          rule: `features must be finite numbers (customer ${i + 1} in customer_id order has ${col[i]})`,
        });
      }
    }
  }
  return { ...plan, rowCount, columns };
}

/** The features table of `featuresPath`, read and checked (the unsharded stage's input). */
export async function readSegmentInput(
  duck: Duck,
  featuresPath: string,
  config: SegmentConfig,
): Promise<SegmentInput> {
  const source = `read_parquet(${sqlString(featuresPath)})`;
  const plan = await planSegmentColumns(duck, source, featuresPath, config);
  return loadSegmentInput(duck, source, featuresPath, plan);
}

/** Everything fitted on the input rows. */
export interface SegmentFit {
  kMin: number;
  kMax: number;
  /** Clustering matrix: transformed and weighted rows of the input. */
  matrix: Matrix;
  params: TransformParams;
  /** Mean each shrunk feature was shrunk towards, by feature name. */
  shrinkMeans: Record<string, number>;
  weights: Float64Array;
  blocks: BlockCorroboration[];
  blockWeight: Map<string, number>;
  segmentation: Segmentation;
  stability: { k: number; stability: number };
  ruleFeatures: string[];
  /** Rows the rule tree was fitted on (null: every row). */
  ruleFitIdx: Int32Array | null;
  tree: RuleTree;
}

/** Transforms, weights, clusters and fits the rules on every row of `input`. */
export function fitSegmentation(input: SegmentInput, options: SegmentationOptions): SegmentFit {
  return runToEnd(segmentationSteps(input, options));
}

export interface SegmentationOptions {
  file: string;
  config: SegmentConfig;
  seed: number;
  heartbeat?: (step: string) => void;
}

/**
 * fitSegmentation with a step between iterations of its clusterings (lib/yieldEvery.ts): the stage runs it
 * with runYielding, so heartbeats keep going through a k search of many seconds.
 */
export function* segmentationSteps(input: SegmentInput, options: SegmentationOptions): Steps<SegmentFit> {
  const { config, seed } = options;
  const { rowCount, columns, features, witnesses } = input;
  const [kMin, kMaxConfigured] = config.kRange;
  if (rowCount < 2 * kMin) {
    throw new DataValidationError({
      file: options.file,
      rule: `segment needs at least ${2 * kMin} customers to try k = ${kMin} (segment.kRange); the features table has ${rowCount}`,
    });
  }
  options.heartbeat?.('loaded');
  const standardized = (names: readonly string[], values: (name: string) => ArrayLike<number>) =>
    fitTransform(fromColumns(names.map(values)), {
      columnNames: names,
      log1p: names.filter((f) => SKEWED_FEATURES.has(f)),
      standardize: true,
      inPlace: true,
    });
  // Habits measured on one or two orders or sessions are shrunk towards the population (clusterFeatures.ts).
  const shrinkMeans: Record<string, number> = {};
  const clusterValues = (f: string): ArrayLike<number> => {
    const count = observationCountOf(f);
    if (count === null || !columns[count]) return columns[f];
    shrinkMeans[f] = populationMean(columns[f]);
    return shrinkTowards(columns[f], columns[count], shrinkMeans[f]);
  };
  const { matrix, params } = standardized(features, clusterValues);
  // Block weights from a seeded sample; the witnesses are standardised on that sample only.
  const corroborationIdx = sampleIndices(
    rowCount,
    Math.min(CORROBORATION_SAMPLE, rowCount),
    new Rng(deriveSeed(seed, 0xc0bc)),
  );
  const blocks = corroborateBlocks(
    takeRows(matrix, corroborationIdx),
    features.map(dimensionOf),
    witnesses.length > 0
      ? {
          matrix: standardized(witnesses, (f) => Float64Array.from(corroborationIdx, (i) => columns[f][i]))
            .matrix,
          dimensions: witnesses.map(dimensionOf),
        }
      : null,
    { seed, sampleSize: CORROBORATION_SAMPLE },
  );
  yield;
  const blockWeight = new Map(blocks.filter((b) => b.clustered).map((b) => [b.dimension, b.weight ?? 1]));
  const perColumn = dimensionWeights(features);
  const weights = Float64Array.from(
    features,
    (f, j) => perColumn[j] * (blockWeight.get(dimensionOf(f)) ?? 1),
  );
  scaleColumns(matrix, weights);
  options.heartbeat?.('weighted');
  const kMax = Math.min(kMaxConfigured, rowCount - 1);
  const criterion = config.criterion ?? (config.method === 'kmeans' ? 'separation' : 'silhouette');
  const segmentation = yield* selectKSteps(matrix, {
    kMin,
    kMax,
    seed,
    method: config.method,
    criterion,
    nInit: config.restarts,
    silhouetteSampleSize: config.silhouetteSampleSize,
  });
  const { k, labels } = segmentation;
  options.heartbeat?.('clustered');
  yield;
  const chosenStability = segmentation.candidates.find((c) => c.k === k)?.stability ?? null;
  const stability =
    chosenStability !== null
      ? { k, stability: chosenStability }
      : { k, stability: bootstrapStability(matrix, { k, seed }).stability };
  options.heartbeat?.('stability');
  yield;
  // Rules read the blocks that define the personas, in their own units (a block weighted below
  // RULE_MIN_BLOCK_WEIGHT barely moved the clustering, so a rule on it would misdescribe the personas).
  const ruleFeatures = features.filter(
    (f) => (blockWeight.get(dimensionOf(f)) ?? 1) >= RULE_MIN_BLOCK_WEIGHT,
  );
  const ruleFitIdx =
    rowCount > RULE_FIT_SAMPLE
      ? sampleIndices(rowCount, RULE_FIT_SAMPLE, new Rng(deriveSeed(seed, 0x7e11)))
      : null;
  const ruleColumns: Record<string, Float64Array> = {};
  for (const f of ruleFeatures) {
    ruleColumns[f] = ruleFitIdx
      ? Float64Array.from(ruleFitIdx, (i) => columns[f][i])
      : Float64Array.from(columns[f]);
  }
  const tree = fitRuleTree(
    ruleColumns,
    ruleFeatures,
    ruleFitIdx ? Int32Array.from(ruleFitIdx, (i) => labels[i]) : labels,
    k,
    { maxDepth: 4 },
  );
  return {
    kMin,
    kMax,
    matrix,
    params,
    shrinkMeans,
    weights,
    blocks,
    blockWeight,
    segmentation,
    stability,
    ruleFeatures,
    ruleFitIdx: ruleFitIdx ? Int32Array.from(ruleFitIdx) : null,
    tree,
  };
}

/** segment_selection.json: how k and the features were chosen (sizes: customers per segment of the run). */
export function selectionDocument(
  fit: SegmentFit,
  input: SegmentColumnPlan,
  options: { config: SegmentConfig; seed: number; customers: number; sizes: number[] },
): Record<string, unknown> {
  const { segmentation, params, weights, blocks } = fit;
  const { features, witnesses } = input;
  return {
    method: segmentation.method,
    criterion: segmentation.criterion,
    kRange: [fit.kMin, fit.kMax],
    k: segmentation.k,
    silhouette: segmentation.final.silhouette,
    silhouetteSampleSize: segmentation.silhouetteSampleSize,
    silhouetteExact: segmentation.silhouetteExact,
    fitSampleSize: segmentation.fitSampleSize,
    customers: options.customers,
    seed: options.seed,
    restarts: options.config.restarts,
    features: features.map((name, j) => ({
      name,
      dimension: dimensionOf(name),
      weight: weights[j],
      log1p: params.log1p[j],
      mean: params.mean[j],
      sd: params.sd[j],
      constant: params.constant[j],
    })),
    metricsByK: metricsByK(segmentation),
    stability: fit.stability,
    witnesses,
    blocks: blocks.map((b) => ({
      dimension: b.dimension,
      columns: b.columns.map((j) => (b.clustered ? features[j] : witnesses[j])),
      clustered: b.clustered,
      corroboration: b.corroboration,
      corroboratedBy: b.witness,
      k: b.k,
      witnessK: b.witnessK,
      blockWeight: b.weight,
    })),
    candidates: segmentation.candidates,
    final: segmentation.final,
    sizes: options.sizes,
    notes: segmentation.notes,
  };
}

/** The compact quality of every k tried (metrics and the report). */
export function metricsByK(segmentation: Segmentation): KMetrics[] {
  return segmentation.candidates.map((c) => ({
    k: c.k,
    silhouette: c.silhouette,
    inertia: c.inertia,
    calinskiHarabasz: c.calinskiHarabasz,
    daviesBouldin: c.daviesBouldin,
    bic: c.bic,
    stability: c.stability,
    separation: c.separation,
  }));
}
