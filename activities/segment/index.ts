/**
 * segment: who the customers are. The features stage's table, log1p on the dictionary's skewed (money
 * and count) columns and standardized, clustered by k-means++ with restarts (or a diagonal Gaussian
 * mixture), k chosen by silhouette with inertia, Calinski-Harabasz and Davies-Bouldin beside it. Each
 * segment becomes a persona (name, one-line description with its numbers, actions); every customer gets
 * RFM quintile scores; and when last month's run exists, the persona migration matrix.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Duck, sqlIdent, sqlString } from '../../lib/duck';
import { ConfigError } from '../../lib/errors';
import { latestCompletedKey, manifestKey } from '../../lib/layout';
import type { StageManifest } from '../../lib/manifest';
import { addMonths } from '../../lib/month';
import {
  defineStageActivity,
  upstreamFingerprints,
  type StageContext,
  type StageOutputFile,
} from '../../lib/stage';
import { FEATURE_DICTIONARY } from '../features/dictionary';
import type { SegmentConfig } from './config';
import { fromColumns } from './matrix';
import { migrationMatrix, type MigrationMatrix } from './migration';
import { describePersonas, profileSegments, type Persona, type PersonaColumns } from './personas';
import { rfmScores } from './rfm';
import { selectK, type Segmentation } from './selectK';
import { fitTransform } from './transform';

export interface SegmentMetrics extends Record<string, unknown> {
  k: number;
  silhouette: number;
  sizes: number[];
  personas: string[];
  method: string;
  silhouetteSampleSize: number;
  fitSampleSize: number;
  customers: number;
  features: number;
  metricsByK: {
    k: number;
    silhouette: number;
    inertia: number;
    calinskiHarabasz: number;
    daviesBouldin: number;
  }[];
  migration: {
    previousRunId: string;
    previousMonth: string;
    stayed: number;
    moved: number;
    newCustomers: number;
    goneCustomers: number;
  } | null;
  migrationReason?: string;
}

/** The persona rules' inputs, by feature column name. */
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

interface PreviousSegments {
  runId: string;
  month: string;
  sha256: string;
  key: string;
}

/** Last month's latest completed run's segments, if any. */
async function findPrevious(ctx: StageContext): Promise<PreviousSegments | undefined> {
  const month = addMonths(ctx.run.month, -1);
  const latest = await ctx.store.tryGetJson<{ runId: string }>(latestCompletedKey(ctx.run.dataset, month));
  if (!latest) return undefined;
  const manifest = await ctx.store.tryGetJson<StageManifest>(
    manifestKey(ctx.run.dataset, month, latest.runId, 'segment'),
  );
  const output = manifest?.outputs.segments;
  return output ? { runId: latest.runId, month, sha256: output.sha256, key: output.key } : undefined;
}

export const segment = defineStageActivity<SegmentMetrics>({
  stage: 'segment',
  version: 1,
  configSection: (config) => ({ ...config.segment, seed: config.segment.seed ?? config.seed }),
  // Last month's personas are an input too: migration changes when they do.
  async fingerprintInputs(ctx) {
    const inputs = upstreamFingerprints(ctx);
    inputs.previousSegments = (await findPrevious(ctx))?.sha256 ?? 'none';
    return inputs;
  },
  async compute(ctx) {
    const featuresPath = await ctx.fetchUpstream('features', 'customerFeatures');
    const previous = await findPrevious(ctx);
    const duck = await Duck.open({ tempDirectory: join(ctx.scratchDir, 'duck') });
    try {
      let previousPath: string | undefined;
      if (previous) {
        previousPath = join(ctx.scratchDir, 'previous_segments.parquet');
        await ctx.store.getToFile(previous.key, previousPath);
      }
      const config = ctx.run.config.segment;
      const result = await computeSegments(duck, {
        featuresPath,
        config,
        seed: config.seed ?? ctx.run.config.seed,
        outDir: ctx.scratchDir,
        previous: previous && previousPath ? { ...previous, path: previousPath } : undefined,
        heartbeat: (step) => ctx.heartbeat({ step }),
      });
      const outputs: Record<string, StageOutputFile> = {
        segments: { path: result.paths.segments, rows: result.metrics.customers },
        personas: { path: result.paths.personas },
        selection: { path: result.paths.selection },
      };
      if (result.paths.migration) outputs.migration = { path: result.paths.migration };
      return { outputs, metrics: result.metrics };
    } finally {
      duck.close();
    }
  },
});

export interface ComputeSegmentsOptions {
  featuresPath: string;
  config: SegmentConfig;
  seed: number;
  outDir: string;
  previous?: PreviousSegments & { path: string };
  heartbeat?: (step: string) => void;
}

/** The whole stage on a DuckDB connection and local files (testable without Temporal or S3). */
export async function computeSegments(
  duck: Duck,
  options: ComputeSegmentsOptions,
): Promise<{
  metrics: SegmentMetrics;
  segmentation: Segmentation;
  personas: Persona[];
  paths: { segments: string; personas: string; selection: string; migration?: string };
}> {
  const { config } = options;
  const source = `read_parquet(${sqlString(options.featuresPath)})`;
  const available = (await duck.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${source}`))
    .map((r) => r.column_name)
    .filter((c) => c !== 'customer_id');
  const features = config.features ?? available;
  const unknown = features.filter((f) => !available.includes(f));
  if (unknown.length > 0) {
    throw new ConfigError(
      `segment.features: unknown feature(s) ${unknown.join(', ')}; the features table has ${available.join(', ')}`,
    );
  }
  const required = [PERSONA_FEATURES.recencyDays, PERSONA_FEATURES.frequency, PERSONA_FEATURES.monetaryTotal];
  const missing = required.filter((f) => !available.includes(f));
  if (missing.length > 0)
    throw new Error(`segment: the features table lacks ${missing.join(', ')} (needed for personas and RFM)`);

  const personaColumns = Object.values(PERSONA_FEATURES).filter(
    (f): f is string => f !== undefined && available.includes(f),
  );
  const allColumns = [...new Set([...features, ...personaColumns])];
  const ids = (
    await duck.all<{ customer_id: string }>(`SELECT customer_id FROM ${source} ORDER BY customer_id`)
  ).map((r) => r.customer_id);
  const { rowCount, columns } = await duck.columns(
    `SELECT ${allColumns.map((c) => `CAST(${sqlIdent(c)} AS DOUBLE) AS ${sqlIdent(c)}`).join(', ')} FROM ${source} ORDER BY customer_id`,
    allColumns,
  );
  if (rowCount < config.kRange[0] * 2) {
    throw new Error(
      `segment: ${rowCount} customers are too few to search k in ${config.kRange[0]}..${config.kRange[1]}`,
    );
  }
  options.heartbeat?.('loaded');

  // Money and count columns are right-skewed: log1p before distances, as the dictionary marks them.
  const skewed = new Set(FEATURE_DICTIONARY.filter((f) => f.skewed).map((f) => f.name));
  const { matrix } = fitTransform(fromColumns(features.map((f) => columns[f])), {
    columnNames: features,
    log1p: features.filter((f) => skewed.has(f)),
    standardize: true,
  });
  const kMax = Math.min(config.kRange[1], Math.floor(rowCount / 2));
  const segmentation = selectK(matrix, {
    kMin: config.kRange[0],
    kMax,
    seed: options.seed,
    method: config.method,
    criterion: 'silhouette',
    nInit: config.restarts,
    silhouetteSampleSize: config.silhouetteSampleSize,
  });
  options.heartbeat?.('clustered');

  const personaInput: PersonaColumns = {
    recencyDays: columns.recency_days,
    frequency: columns.frequency_orders,
    monetaryTotal: columns.monetary_total,
  };
  for (const [key, feature] of Object.entries(PERSONA_FEATURES) as [keyof PersonaColumns, string][]) {
    if (available.includes(feature)) personaInput[key] = columns[feature];
  }
  const { segments, population } = profileSegments(personaInput, segmentation.labels, segmentation.k);
  const personas = describePersonas(segments, population);
  const rfm = rfmScores({
    recencyDays: columns.recency_days,
    frequency: columns.frequency_orders,
    monetary: columns.monetary_total,
  });

  const paths: { segments: string; personas: string; selection: string; migration?: string } = {
    segments: join(options.outDir, 'segments.parquet'),
    personas: join(options.outDir, 'personas.json'),
    selection: join(options.outDir, 'segment_selection.json'),
  };
  const personaName = personas.map((p) => p.name);
  // Labels leave through a table built from typed arrays in chunks (no row objects per customer).
  await duck.run(
    `CREATE OR REPLACE TABLE segment_labels (idx INTEGER, segment INTEGER, r_score UTINYINT, f_score UTINYINT, m_score UTINYINT)`,
  );
  const chunk = 50_000;
  for (let start = 0; start < rowCount; start += chunk) {
    const end = Math.min(rowCount, start + chunk);
    const values: string[] = [];
    for (let i = start; i < end; i++)
      values.push(
        `(${i},${segmentation.labels[i]},${rfm.recency[i]},${rfm.frequency[i]},${rfm.monetary[i]})`,
      );
    await duck.run(`INSERT INTO segment_labels VALUES ${values.join(',')}`);
  }
  await duck.run(
    `CREATE OR REPLACE TABLE segment_ids AS SELECT customer_id, (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS idx FROM ${source}`,
  );
  await duck.toParquet(
    `SELECT i.customer_id, l.segment, (${sqlString(JSON.stringify(personaName))}::JSON ->> l.segment)::VARCHAR AS persona,
            l.r_score, l.f_score, l.m_score, (l.r_score::VARCHAR || l.f_score::VARCHAR || l.m_score::VARCHAR) AS rfm_cell
     FROM segment_ids i JOIN segment_labels l USING (idx) ORDER BY i.customer_id`,
    paths.segments,
  );

  const personasDocument = personas.map((p) => ({
    segment: p.segment,
    name: p.name,
    baseName: p.baseName,
    description: p.description,
    customers: segmentation.sizes[p.segment],
    customerShare: p.customerShare,
    revenueShare: p.revenueShare,
    actions: p.actions,
    traits: p.traits,
    typical: segments[p.segment].typical,
  }));
  await writeFile(paths.personas, JSON.stringify({ personas: personasDocument, population }, null, 2) + '\n');
  const metricsByK = segmentation.candidates.map((c) => ({
    k: c.k,
    silhouette: c.silhouette,
    inertia: c.inertia,
    calinskiHarabasz: c.calinskiHarabasz,
    daviesBouldin: c.daviesBouldin,
  }));
  await writeFile(
    paths.selection,
    JSON.stringify(
      {
        method: segmentation.method,
        criterion: segmentation.criterion,
        kRange: [config.kRange[0], kMax],
        k: segmentation.k,
        silhouette: segmentation.final.silhouette,
        silhouetteSampleSize: segmentation.silhouetteSampleSize,
        fitSampleSize: segmentation.fitSampleSize,
        seed: options.seed,
        features,
        log1p: features.filter((f) => skewed.has(f)),
        metricsByK,
        final: segmentation.final,
        notes: segmentation.notes,
      },
      null,
      2,
    ) + '\n',
  );

  let migration: MigrationMatrix | undefined;
  let migrationReason: string | undefined;
  if (options.previous) {
    const previousRows = await duck.all<{ customer_id: string; persona: string }>(
      `SELECT customer_id, persona FROM read_parquet(${sqlString(options.previous.path)}) ORDER BY customer_id`,
    );
    migration = migrationMatrix(
      { customerIds: previousRows.map((r) => r.customer_id), personas: previousRows.map((r) => r.persona) },
      { customerIds: ids, personas: Array.from(segmentation.labels, (label) => personaName[label]) },
      { order: personaName },
    );
    paths.migration = join(options.outDir, 'segment_migration.json');
    await writeFile(
      paths.migration,
      JSON.stringify(
        { previousRunId: options.previous.runId, previousMonth: options.previous.month, ...migration },
        null,
        2,
      ) + '\n',
    );
  } else {
    migrationReason = 'no completed run of the previous month';
  }

  const metrics: SegmentMetrics = {
    k: segmentation.k,
    silhouette: segmentation.final.silhouette,
    sizes: segmentation.sizes,
    personas: personaName,
    method: segmentation.method,
    silhouetteSampleSize: segmentation.silhouetteSampleSize,
    fitSampleSize: segmentation.fitSampleSize,
    customers: rowCount,
    features: features.length,
    metricsByK,
    migration:
      migration && options.previous
        ? {
            previousRunId: options.previous.runId,
            previousMonth: options.previous.month,
            stayed: migration.stayed,
            moved: migration.moved,
            newCustomers: migration.newCustomers,
            goneCustomers: migration.goneCustomers,
          }
        : null,
    ...(migrationReason ? { migrationReason } : {}),
  };
  return { metrics, segmentation, personas, paths };
}
