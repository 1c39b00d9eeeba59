/**
 * segment: who the customers are. The features stage's table, clustered on its behavioural dimensions
 * (clusterFeatures.ts: what and how people buy; log1p on the dictionary's skewed columns, standardized,
 * each dimension weighted once, then by how well its grouping is corroborated by another block,
 * corroboration.ts) by k-means++ with restarts or a diagonal Gaussian mixture. k is the largest k whose
 * segments are separated by density valleys and stable under resampling (selectK.ts), with silhouette,
 * inertia, Calinski-Harabasz and Davies-Bouldin beside it. Each segment becomes a persona (name, one-line
 * description with its numbers, actions, the features that set it apart, decision rules); every customer
 * gets RFM quintile scores (the value axis); and when last month's completed run has segments, the persona
 * migration matrix.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Duck, sqlIdent, sqlString } from '../../lib/duck';
import { DataValidationError, OutputCheckError } from '../../lib/errors';
import { checkParquetColumns } from '../../lib/outputChecks';
import type { StageWarning } from '../../lib/runTypes';
import { previousMonthStage } from '../../lib/previousRun';
import { sha256File } from '../../lib/objectStore';
import { Rng } from '../../lib/random';
import {
  defineStageActivity,
  upstreamFingerprints,
  type StageContext,
  type StageOutputFile,
} from '../../lib/stage';
import { FEATURE_DICTIONARY } from '../../lib/customerFeatures/dictionary';
import {
  WITNESS_DIMENSIONS,
  dimensionOf,
  dimensionWeights,
  distanceToCentroid,
  resolveClusterFeatures,
  scaleColumns,
  observationCountOf,
  shrinkToPopulation,
  summarizeSegments,
} from './clusterFeatures';
import { corroborateBlocks } from './corroboration';
import type { SegmentConfig } from './config';
import { deriveSeed, fromColumns, sampleIndices, takeRows } from './matrix';
import { migrationBetween, type MigrationKey } from './migration';
import {
  describePersonas,
  hasNoNetPurchase,
  NO_NET_PURCHASE,
  NO_NET_PURCHASE_ACTIONS,
  NO_NET_PURCHASE_RULE,
  profileSegments,
  type Persona,
  type PersonaColumns,
} from './personas';
import { rfmScores } from './rfm';
import { fitRuleTree, ruleOf, ruleText, type Rule } from './rules';
import { bootstrapStability } from './stability';
import { selectK, type Segmentation } from './selectK';
import { fitTransform, signedLog1p } from './transform';

/** Quality of the segmentation at one k (compact, for metrics and the report). */
export interface KMetrics {
  k: number;
  silhouette: number;
  inertia: number;
  calinskiHarabasz: number;
  daviesBouldin: number;
  /** BIC of the mixture (method gmm); null for k-means. */
  bic: number | null;
  /** Bootstrap stability at this k (criterion 'separation'; null otherwise). */
  stability: number | null;
  /** Worst density-valley ratio between two segments (criterion 'separation'; null otherwise). */
  separation: number | null;
}

/** Customers moving between last month's personas (rows) and this month's (columns). */
export interface MigrationSummary {
  previousRunId: string;
  previousMonth: string;
  /** The persona column customers were matched on (migration.ts). */
  matchedOn: MigrationKey;
  /** Row labels: last month's personas, then '(new)'. */
  from: string[];
  /** Column labels: this month's personas, then '(gone)'. */
  to: string[];
  counts: number[][];
  stayed: number;
  moved: number;
  newCustomers: number;
  goneCustomers: number;
}

/** The stage's metrics: docs/DESIGN.md's contract (k, silhouette, sizes, personas) and more. */
export interface SegmentMetrics extends Record<string, unknown> {
  k: number;
  /** Mean silhouette of the final labels on the silhouette sample. */
  silhouette: number;
  /** Customers per segment, segment 0 first (the largest). */
  sizes: number[];
  /** Persona name per segment. */
  personas: string[];
  method: 'kmeans' | 'gmm';
  /** Customers the silhouettes were computed on. */
  silhouetteSampleSize: number;
  /** Customers the k search was fitted on. */
  fitSampleSize: number;
  seed: number;
  customers: number;
  /** Number of clustering features. */
  features: number;
  metricsByK: KMetrics[];
  /** Mean pairwise ARI of k-means refits on 80% subsamples (stability.ts); >= 0.7 is a stable k. */
  stability: number;
  /** Share of customers whose decision rule (rules.ts) names their own segment. */
  ruleFidelity: number;
  /** Customers with no net purchase (monetary_total <= 0): persona "No net purchase" whatever their segment. */
  noNetPurchase: number;
  /** Null when there is no previous month's segmentation; `migrationReason` says why. */
  migration: MigrationSummary | null;
  migrationReason?: string;
}

/** The feature columns the persona rules read, by persona key. R, F and M are required. */
const PERSONA_FEATURES: Partial<Record<keyof PersonaColumns, string>> &
  Record<'recencyDays' | 'frequency' | 'monetaryTotal', string> = {
  recencyDays: 'recency_days',
  frequency: 'frequency_orders',
  monetaryTotal: 'monetary_total',
  avgOrderValue: 'monetary_mean_order',
  tenureDays: 'tenure_days',
  returnRate: 'return_rate',
  spendTrend: 'spend_trend',
  distinctCategories: 'distinct_categories',
};

/** Last month's latest completed run's segments output. */
export interface PreviousSegments {
  /** The run that computed them (last month's latest completed run, or the run it took them from). */
  runId: string;
  month: string;
  sha256: string;
  /** Object key of its segments.parquet. */
  key: string;
}

type PreviousLookup = { previous: PreviousSegments } | { previous: undefined; reason: string };

const previousLookups = new WeakMap<StageContext, Promise<PreviousLookup>>();

/**
 * Last month's latest completed run's segment output, looked up once per stage attempt so that the cache
 * key and the migration read the same run.
 */
function findPrevious(ctx: StageContext): Promise<PreviousLookup> {
  let lookup = previousLookups.get(ctx);
  if (!lookup) {
    lookup = lookupPrevious(ctx);
    previousLookups.set(ctx, lookup);
  }
  return lookup;
}

async function lookupPrevious(ctx: StageContext): Promise<PreviousLookup> {
  // Resolved through computedByRunId: a fully cached run of last month keeps its segments under the run
  // that computed them, not under its own folder.
  const lookup = await previousMonthStage(ctx.store, ctx.run.dataset, ctx.run.month, 'segment');
  if (!lookup.found) return { previous: undefined, reason: lookup.reason };
  const { month, computedByRunId, latestRunId, manifest } = lookup.found;
  const output = manifest.outputs.segments;
  if (!output) {
    return { previous: undefined, reason: `the completed run ${latestRunId} of ${month} has no segments` };
  }
  return { previous: { runId: computedByRunId, month, sha256: output.sha256, key: output.key } };
}

export const segment = defineStageActivity<SegmentMetrics>({
  stage: 'segment',
  // 3: segments.parquet gained persona_base; the migration matches on it.
  // 4: stability, decision rules (segment_rules.json; rule_id and rule per customer), distinguishing features,
  //    output checks and warnings.
  // 5: personas on the behavioural axis with corroboration block weights, k by separation and stability
  //    (kRange [3, 8]), merged sibling rules, distinguishing features over every described column.
  // 6: customers with no net purchase (monetary_total <= 0) are persona "No net purchase" with their own
  //    rule, and flagged (no_net_purchase); personas.json and the metrics count them (issue 15).
  version: 6,
  configSection: (config) => ({ ...config.segment, seed: config.segment.seed ?? config.seed }),
  // Last month's segments are an input too: the migration output changes when they do.
  async fingerprintInputs(ctx) {
    const inputs = upstreamFingerprints(ctx);
    inputs.previousSegments = (await findPrevious(ctx)).previous?.sha256 ?? 'none';
    return inputs;
  },
  async compute(ctx) {
    const featuresPath = await ctx.fetchUpstream('features', 'customerFeatures');
    const lookup = await findPrevious(ctx);
    let previous: ComputeSegmentsOptions['previous'];
    if (lookup.previous) {
      const path = join(ctx.scratchDir, 'in', 'previous', 'segments.parquet');
      await ctx.store.getToFile(lookup.previous.key, path);
      const sha = await sha256File(path);
      // The cache key names these bytes; a different object under the key would make the key lie.
      if (sha !== lookup.previous.sha256) {
        throw new Error(
          `segment: ${lookup.previous.key} has sha256 ${sha}, its manifest says ${lookup.previous.sha256}`,
        );
      }
      previous = { ...lookup.previous, path };
    }
    const duck = await Duck.open({ tempDirectory: join(ctx.scratchDir, 'duck') });
    try {
      const config = ctx.run.config.segment;
      const result = await computeSegments(duck, {
        featuresPath,
        config,
        seed: config.seed ?? ctx.run.config.seed,
        outDir: ctx.scratchDir,
        previous,
        noPreviousReason: lookup.previous ? undefined : lookup.reason,
        heartbeat: (step) => ctx.heartbeat({ step }),
      });
      const outputs: Record<string, StageOutputFile> = {
        segments: { path: result.paths.segments, rows: result.metrics.customers },
        personas: { path: result.paths.personas },
        selection: { path: result.paths.selection },
        rules: { path: result.paths.rules },
      };
      if (result.paths.migration) outputs.migration = { path: result.paths.migration };
      return { outputs, metrics: result.metrics, warnings: result.warnings };
    } finally {
      duck.close();
    }
  },
});

/** Inputs of `computeSegments`. */
export interface ComputeSegmentsOptions {
  /** customer_features.parquet of the features stage. */
  featuresPath: string;
  config: SegmentConfig;
  seed: number;
  /** Where the output files are written. */
  outDir: string;
  /** Last month's segments (a local copy of its segments.parquet) for the migration matrix. */
  previous?: PreviousSegments & { path: string };
  /** Why there is no `previous` (reported in the metrics). */
  noPreviousReason?: string;
  heartbeat?: (step: string) => void;
}

/** What `computeSegments` wrote and found. */
export interface ComputeSegmentsResult {
  metrics: SegmentMetrics;
  segmentation: Segmentation;
  personas: Persona[];
  /** Clustering features, in table order. */
  features: string[];
  paths: { segments: string; personas: string; selection: string; rules: string; migration?: string };
  /** A k at the edge of kRange, an unstable k (stability < STABILITY_THRESHOLD), low rule fidelity. */
  warnings: StageWarning[];
}

/** Bootstrap stability (mean pairwise ARI) below this is reported as a warning (Lange et al. 2004 use 0.7-0.8). */
export const STABILITY_THRESHOLD = 0.7;
/** Rule fidelity below this is reported as a warning: the rules then misdescribe many customers. */
export const RULE_FIDELITY_THRESHOLD = 0.9;
/** Customers the decision tree is fitted on (a seeded sample; fidelity is measured on everyone). */
const RULE_FIT_SAMPLE = 20_000;
/** Customers the block weights are scored on (corroboration.ts). */
const CORROBORATION_SAMPLE = 3000;
/** Blocks weighted below this (corroboration.ts) are not offered to the decision rules. */
const RULE_MIN_BLOCK_WEIGHT = 0.1;

/**
 * The whole stage on a DuckDB connection and local files (testable without Temporal or S3): reads the
 * feature table, clusters, names personas, scores RFM, writes segments.parquet, personas.json,
 * segment_selection.json and (with `previous`) segment_migration.json into `outDir`.
 */
export async function computeSegments(
  duck: Duck,
  options: ComputeSegmentsOptions,
): Promise<ComputeSegmentsResult> {
  const { config } = options;
  const source = `read_parquet(${sqlString(options.featuresPath)})`;
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
      file: options.featuresPath,
      column: missing.join(', '),
      rule: 'the customer features must include recency_days, frequency_orders and monetary_total (personas and RFM)',
    });
  }
  const personaColumns = Object.values(PERSONA_FEATURES).filter((f) => available.includes(f));
  const counts = features.map(observationCountOf).filter((c): c is string => c !== null);
  const loaded = available.filter(
    (c) => features.includes(c) || witnesses.includes(c) || personaColumns.includes(c) || counts.includes(c),
  );
  const { rowCount, columns } = await duck.columns(
    `SELECT ${loaded.map((c) => `CAST(${sqlIdent(c)} AS DOUBLE) AS ${sqlIdent(c)}`).join(', ')}
     FROM ${source} ORDER BY customer_id`,
    loaded,
  );
  const { duplicates } = await duck.one<{ duplicates: number }>(
    `SELECT (count(*) - count(DISTINCT customer_id))::INTEGER AS duplicates FROM ${source}`,
  );
  if (duplicates > 0) {
    throw new DataValidationError({
      file: options.featuresPath,
      column: 'customer_id',
      rule: `customer_id must be unique and not null in the features table (${duplicates} rows break it)`,
    });
  }
  const [kMin, kMaxConfigured] = config.kRange;
  if (rowCount < 2 * kMin) {
    throw new DataValidationError({
      file: options.featuresPath,
      rule: `segment needs at least ${2 * kMin} customers to try k = ${kMin} (segment.kRange); the features table has ${rowCount}`,
    });
  }
  for (const name of loaded) {
    const col = columns[name];
    for (let i = 0; i < rowCount; i++) {
      if (!Number.isFinite(col[i])) {
        throw new DataValidationError({
          file: options.featuresPath,
          column: name,
          rule: `features must be finite numbers (customer ${i + 1} in customer_id order has ${col[i]})`,
        });
      }
    }
  }
  options.heartbeat?.('loaded');

  // Money and count columns are right-skewed: log1p before distances, as the dictionary marks them.
  const skewed = new Set(FEATURE_DICTIONARY.filter((f) => f.skewed).map((f) => f.name));
  const standardized = (names: readonly string[], values: (name: string) => ArrayLike<number>) =>
    fitTransform(fromColumns(names.map(values)), {
      columnNames: names,
      log1p: names.filter((f) => skewed.has(f)),
      standardize: true,
      inPlace: true,
    });
  // Habits measured on one or two orders or sessions are shrunk towards the population (clusterFeatures.ts).
  const clusterValues = (f: string): ArrayLike<number> => {
    const count = observationCountOf(f);
    return count !== null && columns[count] ? shrinkToPopulation(columns[f], columns[count]) : columns[f];
  };
  const { matrix, params } = standardized(features, clusterValues);
  // Block weights from a seeded sample; the witnesses are standardised on that sample only.
  const corroborationIdx = sampleIndices(
    rowCount,
    Math.min(CORROBORATION_SAMPLE, rowCount),
    new Rng(deriveSeed(options.seed, 0xc0bc)),
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
    { seed: options.seed, sampleSize: CORROBORATION_SAMPLE },
  );
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
  const segmentation = selectK(matrix, {
    kMin,
    kMax,
    seed: options.seed,
    method: config.method,
    criterion,
    nInit: config.restarts,
    silhouetteSampleSize: config.silhouetteSampleSize,
  });
  const { k, labels } = segmentation;
  const distances = distanceToCentroid(matrix, labels, segmentation.centroids);
  options.heartbeat?.('clustered');
  const chosenStability = segmentation.candidates.find((c) => c.k === k)?.stability ?? null;
  const stability =
    chosenStability !== null
      ? { k, stability: chosenStability }
      : { k, stability: bootstrapStability(matrix, { k, seed: options.seed }).stability };
  options.heartbeat?.('stability');
  // Personas are described by every loaded column (value axis included), on the clustering scale.
  const distinguishing = distinguishingFeatures(columns, loaded, skewed, labels, k);
  // Rules read the blocks that define the personas, in their own units (a block weighted below
  // RULE_MIN_BLOCK_WEIGHT barely moved the clustering, so a rule on it would misdescribe the personas).
  const ruleFeatures = features.filter(
    (f) => (blockWeight.get(dimensionOf(f)) ?? 1) >= RULE_MIN_BLOCK_WEIGHT,
  );
  const ruleFitIdx =
    rowCount > RULE_FIT_SAMPLE
      ? sampleIndices(rowCount, RULE_FIT_SAMPLE, new Rng(deriveSeed(options.seed, 0x7e11)))
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
    {
      maxDepth: 4,
    },
  );
  const ruleIdOf = new Int32Array(rowCount);
  let ruleAgrees = 0;
  for (let i = 0; i < rowCount; i++) {
    const rule = ruleOf(tree.rules, (f) => columns[f][i]);
    if (!rule)
      throw new Error(`segment: customer ${i + 1} matches no decision rule (the leaves must cover everyone)`);
    ruleIdOf[i] = rule.id;
    if (rule.segment === labels[i]) ruleAgrees++;
  }
  const ruleFidelity = ruleAgrees / rowCount;
  options.heartbeat?.('rules');

  const personaInput: PersonaColumns = {
    recencyDays: columns.recency_days,
    frequency: columns.frequency_orders,
    monetaryTotal: columns.monetary_total,
  };
  for (const [key, feature] of Object.entries(PERSONA_FEATURES) as [keyof PersonaColumns, string][]) {
    if (available.includes(feature)) personaInput[key] = columns[feature];
  }
  const { segments, population } = profileSegments(personaInput, labels, k);
  const personas = describePersonas(segments, population).map((p) => ({
    ...p,
    description: `${p.description} Set apart by ${distinguishing[p.segment]
      .map(
        (d) =>
          `${d.feature} ${d.standardizedDifference > 0 ? 'higher' : 'lower'} (${d.standardizedDifference > 0 ? '+' : ''}${d.standardizedDifference.toFixed(1)} sd)`,
      )
      .join(', ')}.`,
  }));
  const personaName = personas.map((p) => p.name);
  const personaBase = personas.map((p) => p.baseName);
  const noNetPurchase = new Uint8Array(rowCount);
  let noNetPurchaseCustomers = 0;
  for (let i = 0; i < rowCount; i++) {
    if (hasNoNetPurchase(columns.monetary_total[i])) {
      noNetPurchase[i] = 1;
      noNetPurchaseCustomers++;
    }
  }
  const summary = summarizeSegments(columns, loaded, labels, k);
  const rfm = rfmScores({
    recencyDays: columns.recency_days,
    frequency: columns.frequency_orders,
    monetary: columns.monetary_total,
  });

  const paths: ComputeSegmentsResult['paths'] = {
    segments: join(options.outDir, 'segments.parquet'),
    personas: join(options.outDir, 'personas.json'),
    selection: join(options.outDir, 'segment_selection.json'),
    rules: join(options.outDir, 'segment_rules.json'),
  };
  const ruleLabel = (r: Rule): string => `${ruleText(r.conditions)} -> ${personaName[r.segment]}`;
  await writeSegmentsParquet(duck, {
    source,
    path: paths.segments,
    labels,
    rfm,
    distances,
    personaName,
    personaBase,
    ruleIdOf,
    ruleLabels: tree.rules.map(ruleLabel),
    noNetPurchase,
  });
  options.heartbeat?.('segments written');
  await checkSegmentOutputs(duck, paths.segments, { k, rows: rowCount, rules: tree.rules.length });
  if (segmentation.sizes.reduce((a, b) => a + b, 0) !== rowCount || segmentation.sizes.some((s) => s === 0)) {
    throw new OutputCheckError(
      `segments.parquet: segment sizes ${segmentation.sizes.join('/')} must be non-empty and sum to ${rowCount} customers`,
    );
  }
  if (!Number.isFinite(segmentation.final.silhouette)) {
    throw new OutputCheckError(`segment: silhouette must be finite (got ${segmentation.final.silhouette})`);
  }
  await writeJson(paths.rules, {
    depth: tree.depth,
    fidelity: ruleFidelity,
    fitSampleSize: ruleFitIdx ? ruleFitIdx.length : rowCount,
    customers: rowCount,
    notes: [
      'CART (Gini) of depth <= 4 fitted to the segment labels on readable features in their own units; each leaf is one rule',
      'fidelity: share of all customers whose rule names their own segment',
    ],
    rules: tree.rules.map((r) => ({
      id: r.id,
      text: ruleLabel(r),
      conditions: r.conditions,
      segment: r.segment,
      persona: personaName[r.segment],
      customers: ruleFitIdx ? ruleIdOf.reduce((n, id) => n + (id === r.id ? 1 : 0), 0) : r.customers,
      purity: r.purity,
    })),
  });

  const pick = (values: Record<string, number>, names: readonly string[]): Record<string, number> =>
    Object.fromEntries(names.map((name) => [name, values[name]]));
  const personasDocument = {
    personas: personas.map((p) => ({
      segment: p.segment,
      name: p.name,
      baseName: p.baseName,
      description: p.description,
      customers: segmentation.sizes[p.segment],
      customerShare: p.customerShare,
      revenue: segments[p.segment].revenue,
      revenueShare: p.revenueShare,
      actions: p.actions,
      traits: p.traits,
      distinguishing: distinguishing[p.segment],
      typical: segments[p.segment].typical,
      centroid: pick(summary.mean[p.segment], features),
      median: pick(summary.median[p.segment], loaded),
    })),
    population: {
      customers: population.customers,
      revenue: population.revenue,
      median: pick(summary.populationMedian, loaded),
      personaMedian: population.median,
      personaP25: population.p25,
      personaP75: population.p75,
    },
    // Customers of any segment whose net revenue is <= 0: persona "No net purchase" in segments.parquet.
    noNetPurchase: {
      name: NO_NET_PURCHASE,
      rule: NO_NET_PURCHASE_RULE,
      customers: noNetPurchaseCustomers,
      actions: NO_NET_PURCHASE_ACTIONS,
    },
    notes: [
      'centroid: mean of each clustering feature over the segment, original units; median: per-feature median',
      "typical, personaMedian: the persona rules' inputs (medians) that the names and descriptions come from",
    ],
  };
  await writeJson(paths.personas, personasDocument);

  const metricsByK: KMetrics[] = segmentation.candidates.map((c) => ({
    k: c.k,
    silhouette: c.silhouette,
    inertia: c.inertia,
    calinskiHarabasz: c.calinskiHarabasz,
    daviesBouldin: c.daviesBouldin,
    bic: c.bic,
    stability: c.stability,
    separation: c.separation,
  }));
  await writeJson(paths.selection, {
    method: segmentation.method,
    criterion: segmentation.criterion,
    kRange: [kMin, kMax],
    k,
    silhouette: segmentation.final.silhouette,
    silhouetteSampleSize: segmentation.silhouetteSampleSize,
    silhouetteExact: segmentation.silhouetteExact,
    fitSampleSize: segmentation.fitSampleSize,
    customers: rowCount,
    seed: options.seed,
    restarts: config.restarts,
    features: features.map((name, j) => ({
      name,
      dimension: dimensionOf(name),
      weight: weights[j],
      log1p: params.log1p[j],
      mean: params.mean[j],
      sd: params.sd[j],
      constant: params.constant[j],
    })),
    metricsByK,
    stability,
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
    sizes: segmentation.sizes,
    notes: segmentation.notes,
  });

  let migration: MigrationSummary | null = null;
  let migrationReason: string | undefined = options.noPreviousReason ?? 'no previous segmentation given';
  if (options.previous) {
    const prev = options.previous;
    const matrix = await migrationBetween(duck, {
      previousPath: prev.path,
      currentPath: paths.segments,
      order: personaBase,
    });
    migration = {
      previousRunId: prev.runId,
      previousMonth: prev.month,
      matchedOn: matrix.matchedOn,
      from: matrix.from,
      to: matrix.to,
      counts: matrix.counts,
      stayed: matrix.stayed,
      moved: matrix.moved,
      newCustomers: matrix.newCustomers,
      goneCustomers: matrix.goneCustomers,
    };
    migrationReason = undefined;
    paths.migration = join(options.outDir, 'segment_migration.json');
    await writeJson(paths.migration, {
      previousRunId: prev.runId,
      previousMonth: prev.month,
      previousSha256: prev.sha256,
      ...matrix,
    });
  }

  const metrics: SegmentMetrics = {
    k,
    silhouette: segmentation.final.silhouette,
    sizes: segmentation.sizes,
    personas: personaName,
    method: segmentation.method,
    silhouetteSampleSize: segmentation.silhouetteSampleSize,
    fitSampleSize: segmentation.fitSampleSize,
    seed: options.seed,
    customers: rowCount,
    features: features.length,
    metricsByK,
    stability: stability.stability,
    ruleFidelity,
    noNetPurchase: noNetPurchaseCustomers,
    migration,
    ...(migrationReason !== undefined ? { migrationReason } : {}),
  };
  const warnings: StageWarning[] = [];
  // The top of the range may hide finer groups. Its floor is a choice (three personas at least, config.ts),
  // and a continuum's k is reported in the selection notes instead.
  if (k === kMax && kMax > kMin) {
    warnings.push({
      code: 'segment_k_at_edge',
      message: `k = ${k} is at the top of kRange [${kMin}, ${kMax}]: finer segments may lie beyond the range searched`,
    });
  }
  if (stability.stability < STABILITY_THRESHOLD) {
    warnings.push({
      code: 'segment_unstable',
      message: `bootstrap stability ${stability.stability.toFixed(3)} at k = ${k} is below ${STABILITY_THRESHOLD}: the segments change with the sample`,
    });
  }
  if (ruleFidelity < RULE_FIDELITY_THRESHOLD) {
    warnings.push({
      code: 'segment_rules_low_fidelity',
      message: `decision rules reproduce ${(100 * ruleFidelity).toFixed(1)}% of segment assignments (below ${100 * RULE_FIDELITY_THRESHOLD}%)`,
    });
  }
  return { metrics, segmentation, personas, features, paths, warnings };
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * segments.parquet: one row per customer in customer_id order. Labels leave through DuckDB's appender
 * from the typed arrays (row i is the i-th customer by customer_id), then join the ids.
 */
async function writeSegmentsParquet(
  duck: Duck,
  options: {
    source: string;
    path: string;
    labels: Int32Array;
    rfm: { recency: Uint8Array; frequency: Uint8Array; monetary: Uint8Array };
    distances: Float64Array;
    personaName: string[];
    personaBase: string[];
    /** Decision rule (leaf id) of every customer, and each rule's text. */
    ruleIdOf: Int32Array;
    ruleLabels: string[];
    /** 1 for a customer with no net purchase: persona and rule say so, whatever the segment. */
    noNetPurchase: Uint8Array;
  },
): Promise<void> {
  const { labels, rfm, distances, ruleIdOf, noNetPurchase } = options;
  await duck.run(`CREATE OR REPLACE TABLE segment_rules (rule_id INTEGER, rule VARCHAR)`);
  await duck.run(
    `INSERT INTO segment_rules VALUES ${options.ruleLabels.map((text, id) => `(${id}, ${sqlString(text)})`).join(', ')}`,
  );
  await duck.run(
    `CREATE OR REPLACE TABLE segment_personas (segment INTEGER, persona VARCHAR, persona_base VARCHAR)`,
  );
  const personaRows = options.personaName.map(
    (name, c) => `(${c}, ${sqlString(name)}, ${sqlString(options.personaBase[c])})`,
  );
  await duck.run(`INSERT INTO segment_personas VALUES ${personaRows.join(', ')}`);
  await duck.run(`CREATE OR REPLACE TABLE segment_labels (
    idx INTEGER, segment INTEGER, r_score INTEGER, f_score INTEGER, m_score INTEGER, distance_to_centroid DOUBLE,
    rule_id INTEGER, no_net_purchase BOOLEAN)`);
  const appender = await duck.connection.createAppender('segment_labels');
  try {
    for (let i = 0; i < labels.length; i++) {
      appender.appendInteger(i);
      appender.appendInteger(labels[i]);
      appender.appendInteger(rfm.recency[i]);
      appender.appendInteger(rfm.frequency[i]);
      appender.appendInteger(rfm.monetary[i]);
      appender.appendDouble(distances[i]);
      appender.appendInteger(ruleIdOf[i]);
      appender.appendBoolean(noNetPurchase[i] === 1);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  await duck.run(`CREATE OR REPLACE TABLE segment_ids AS
    SELECT customer_id, (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS idx FROM ${options.source}`);
  await duck.toParquet(
    `SELECT i.customer_id, l.segment,
            CASE WHEN l.no_net_purchase THEN ${sqlString(NO_NET_PURCHASE)} ELSE p.persona END AS persona,
            CASE WHEN l.no_net_purchase THEN ${sqlString(NO_NET_PURCHASE)} ELSE p.persona_base END AS persona_base,
            l.r_score, l.f_score, l.m_score,
            l.r_score::VARCHAR || l.f_score::VARCHAR || l.m_score::VARCHAR AS rfm_cell, l.distance_to_centroid,
            l.rule_id, CASE WHEN l.no_net_purchase THEN ${sqlString(NO_NET_PURCHASE_RULE)} ELSE r.rule END AS rule,
            l.no_net_purchase
     FROM segment_ids i JOIN segment_labels l USING (idx) JOIN segment_personas p USING (segment)
       JOIN segment_rules r USING (rule_id)
     ORDER BY i.customer_id`,
    options.path,
  );
}

/** A feature that sets a segment apart: its standardised difference from the population (log1p scale where skewed). */
export interface DistinguishingFeature {
  feature: string;
  /** (segment mean - population mean) / population sd, after log1p where the column is skewed. */
  standardizedDifference: number;
}

/**
 * The three features whose segment mean differs most from the population's, in population standard
 * deviations (Cohen's d against the whole population), on the clustering scale: log1p for `skewed`
 * columns. One pass per column, no matrix: every described column counts, clustered or not.
 */
export function distinguishingFeatures(
  columns: Readonly<Record<string, ArrayLike<number>>>,
  features: readonly string[],
  skewed: ReadonlySet<string>,
  labels: Int32Array,
  k: number,
  top = 3,
): DistinguishingFeature[][] {
  const rows = labels.length;
  const counts = new Float64Array(k);
  for (let i = 0; i < rows; i++) counts[labels[i]]++;
  const differences: number[][] = Array.from({ length: k }, () => []);
  const sums = new Float64Array(k);
  for (const feature of features) {
    const col = columns[feature];
    const logged = skewed.has(feature);
    sums.fill(0);
    let total = 0;
    let totalSq = 0;
    for (let i = 0; i < rows; i++) {
      const v = logged ? signedLog1p(col[i]) : col[i];
      sums[labels[i]] += v;
      total += v;
      totalSq += v * v;
    }
    const mean = total / rows;
    const sd = Math.sqrt(Math.max(0, totalSq / rows - mean * mean));
    for (let c = 0; c < k; c++) {
      differences[c].push(
        sd > 1e-12 * Math.max(1, Math.abs(mean)) && counts[c] > 0 ? (sums[c] / counts[c] - mean) / sd : 0,
      );
    }
  }
  return differences.map((byFeature) => {
    const diffs = features.map((feature, j) => ({ feature, standardizedDifference: byFeature[j] }));
    diffs.sort(
      (a, b) =>
        Math.abs(b.standardizedDifference) - Math.abs(a.standardizedDifference) ||
        a.feature.localeCompare(b.feature),
    );
    return diffs.slice(0, top);
  });
}

/** Every customer once, segment and rule ids in range (lib/outputChecks.ts). */
async function checkSegmentOutputs(
  duck: Duck,
  path: string,
  expected: { k: number; rows: number; rules: number },
): Promise<void> {
  await checkParquetColumns(
    duck,
    path,
    'segments.parquet',
    [
      { column: 'customer_id', notNull: true },
      { column: 'segment', notNull: true, min: 0, max: expected.k - 1 },
      { column: 'persona', notNull: true },
      { column: 'rule_id', notNull: true, min: 0, max: expected.rules - 1 },
      { column: 'rule', notNull: true },
      { column: 'distance_to_centroid', notNull: true, finite: true, min: 0 },
      { column: 'r_score', notNull: true, min: 1, max: 5 },
      { column: 'f_score', notNull: true, min: 1, max: 5 },
      { column: 'm_score', notNull: true, min: 1, max: 5 },
    ],
    { expectRows: expected.rows, uniqueBy: ['customer_id'] },
  );
}
