/**
 * The unsharded segment stage on a DuckDB connection and local files (testable without Temporal or S3):
 * reads the feature table, clusters every customer (fit.ts), names personas, scores RFM, writes
 * segments.parquet, personas.json, segment_selection.json, segment_rules.json and (with `previous`)
 * segment_migration.json. Runs recorded before the sharded stage (sharded.ts) still run this.
 */
import { join } from 'node:path';
import { type Duck, sqlString } from '../../lib/duck';
import { runYielding } from '../../lib/yieldEvery';
import { OutputCheckError } from '../../lib/errors';
import type { StageWarning } from '../../lib/runTypes';
import { distanceToCentroid, summarizeSegments } from './clusterFeatures';
import type { SegmentConfig } from '../../lib/stageConfig/segment';
import type { PreviousSegments, SegmentMetrics } from './contract';
import { distinguishingFeatures } from './distinguishing';
import {
  personasDocument,
  ruleLabel,
  rulesDocument,
  segmentWarnings,
  withDistinguishing,
  writeMigration,
} from './documents';
import {
  PERSONA_FEATURES,
  SKEWED_FEATURES,
  segmentationSteps,
  metricsByK,
  readSegmentInput,
  selectionDocument,
} from './fit';
import { checkSegmentOutputs, writeJson, writeSegmentsParquet } from './outputs';
import { writeSegmentAttributeProfiles } from './attributeProfiles';
import {
  describePersonas,
  hasNoNetPurchase,
  profileSegments,
  type Persona,
  type PersonaColumns,
} from './personas';
import { rfmScores } from './rfm';
import { ruleOf } from './rules';
import type { Segmentation } from './selectK';

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
  paths: {
    segments: string;
    personas: string;
    selection: string;
    rules: string;
    migration?: string;
    /** segment_attribute_profiles.json, when the features have ext_* or attr_* columns. */
    attributeProfiles?: string;
  };
  /** A k at the edge of kRange, an unstable k (stability < STABILITY_THRESHOLD), low rule fidelity. */
  warnings: StageWarning[];
}

/** Persona rule inputs from loaded columns (R, F and M always; the rest when the table has them). */
export function personaInputOf(
  columns: Readonly<Record<string, ArrayLike<number>>>,
  available: readonly string[],
): PersonaColumns {
  const input: PersonaColumns = {
    recencyDays: columns.recency_days,
    frequency: columns.frequency_orders,
    monetaryTotal: columns.monetary_total,
  };
  for (const [key, feature] of Object.entries(PERSONA_FEATURES) as [keyof PersonaColumns, string][]) {
    if (available.includes(feature)) input[key] = columns[feature];
  }
  return input;
}

export async function computeSegments(
  duck: Duck,
  options: ComputeSegmentsOptions,
): Promise<ComputeSegmentsResult> {
  const { config } = options;
  const source = `read_parquet(${sqlString(options.featuresPath)})`;
  const input = await readSegmentInput(duck, options.featuresPath, config);
  const { rowCount, columns, features, loaded, available } = input;
  // Yielding to the event loop between clustering iterations, so heartbeats go through a long k search.
  const fit = await runYielding(
    segmentationSteps(input, {
      file: options.featuresPath,
      config,
      seed: options.seed,
      heartbeat: options.heartbeat,
    }),
  );
  const { segmentation, tree, ruleFitIdx, kMin, kMax, stability } = fit;
  const { k, labels } = segmentation;
  const distances = distanceToCentroid(fit.matrix, labels, segmentation.centroids);
  // Personas are described by every loaded column (value axis included), on the clustering scale.
  const distinguishing = distinguishingFeatures(columns, loaded, SKEWED_FEATURES, labels, k);
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

  const { segments, population } = profileSegments(personaInputOf(columns, available), labels, k);
  const personas = withDistinguishing(
    describePersonas(segments, population, config.personas),
    distinguishing,
  );
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
  await writeSegmentsParquet(duck, {
    source,
    path: paths.segments,
    labels,
    rfm,
    distances,
    personaName,
    personaBase,
    ruleIdOf,
    ruleLabels: tree.rules.map((r) => ruleLabel(r, personaName)),
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
  await writeJson(
    paths.rules,
    rulesDocument({
      tree,
      fidelity: ruleFidelity,
      fitSampleSize: ruleFitIdx ? ruleFitIdx.length : rowCount,
      customers: rowCount,
      personaName,
      customersOfRule: (r) =>
        ruleFitIdx ? ruleIdOf.reduce((n, id) => n + (id === r.id ? 1 : 0), 0) : r.customers,
    }),
  );
  await writeJson(
    paths.personas,
    personasDocument({
      personas,
      sizes: segmentation.sizes,
      segments,
      population,
      distinguishing,
      features,
      loaded,
      mean: summary.mean,
      median: summary.median,
      populationMedian: summary.populationMedian,
      noNetPurchaseCustomers,
    }),
  );
  await writeJson(
    paths.selection,
    selectionDocument(fit, input, {
      config,
      seed: options.seed,
      customers: rowCount,
      sizes: segmentation.sizes,
    }),
  );
  const {
    migration,
    migrationReason,
    path: migrationPath,
  } = await writeMigration(duck, {
    previous: options.previous,
    noPreviousReason: options.noPreviousReason,
    currentPath: paths.segments,
    personaBase,
    outDir: options.outDir,
  });
  if (migrationPath) paths.migration = migrationPath;
  const profilesPath = join(options.outDir, 'segment_attribute_profiles.json');
  if (
    await writeSegmentAttributeProfiles(duck, {
      featuresSource: source,
      segmentsPath: paths.segments,
      path: profilesPath,
    })
  )
    paths.attributeProfiles = profilesPath;

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
    metricsByK: metricsByK(segmentation),
    stability: stability.stability,
    ruleFidelity,
    noNetPurchase: noNetPurchaseCustomers,
    migration,
    ...(migrationReason !== undefined ? { migrationReason } : {}),
  };
  const warnings = segmentWarnings({ k, kMin, kMax, stability: stability.stability, ruleFidelity });
  return { metrics, segmentation, personas, features, paths, warnings };
}
