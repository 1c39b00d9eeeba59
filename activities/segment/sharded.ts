/**
 * segment as a sharded stage (lib/shardedStage.ts, issue 10).
 *
 * - prepare: the model (features, transform, weights, k, segments, stability, decision rules) fitted on a
 *   seeded sample of customers gathered across the shards' features (sample.ts: a hash of customer_id, so
 *   the sample does not depend on S; every customer when there are at most `segment.fitSampleCustomers`).
 *   The model is a few KB of JSON in the plan.
 * - shard i: every customer of shard i assigned with the model (model.ts): segment, distance, rule, the
 *   "no net purchase" flag, written as part i of `segmentLabels`; counts and exact sums for reduce
 *   (shardSummary.ts).
 * - reduce: sizes, revenue, centroids and distinguishing features from the merged partial aggregates
 *   (exact); RFM quintiles and profile medians (order statistics) by DuckDB over the merged tables
 *   (mergedTables.ts); personas named; segments.parquet, personas.json, segment_selection.json,
 *   segment_rules.json and the migration written as the unsharded stage writes them.
 *
 * Same data, any S: the same bytes in every output but the parts (tests/integration/shards.test.ts).
 */
import { join } from 'node:path';
import { rowIndexes, sqlString, withDuck, writeColumns } from '../../lib/duck';
import { runYielding } from '../../lib/yieldEvery';
import { OutputCheckError } from '../../lib/errors';
import { defineShardedStage, upstreamShardIndex } from '../../lib/shardedStage';
import { upstreamFingerprints } from '../../lib/stage';
import type { KMetrics, SegmentMetrics } from './contract';
import { distinguishingFromMoments } from './distinguishing';
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
  loadSegmentInput,
  metricsByK,
  planSegmentColumns,
  selectionDocument,
} from './fit';
import { createRfmTable, segmentQuantiles, writeMergedSegments } from './mergedTables';
import { assignSegments, segmentModelOf, type SegmentModel } from './model';
import { checkSegmentOutputs, writeJson } from './outputs';
import { describePersonas, hasNoNetPurchase, type PersonaFeatures, type SegmentProfile } from './personas';
import { writeSegmentAttributeProfiles } from './attributeProfiles';
import { fetchPreviousSegments, findPrevious, type PreviousLookup } from './previous';
import { inSampleSql, sampleRule, sampleThreshold } from './sample';
import { mergeShardSummaries, summarizeShard, type SegmentShardSummary } from './shardSummary';

/** What every shard needs, and what reduce reports about the fit. */
export interface SegmentPlan {
  model: SegmentModel;
  seed: number;
  customers: number;
  sample: { customers: number; rule: string };
  /** segment_selection.json without the run's sizes (reduce adds them). */
  selection: Record<string, unknown>;
  metricsByK: KMetrics[];
  kMin: number;
  kMax: number;
  silhouette: number;
  silhouetteSampleSize: number;
  fitSampleSize: number;
  stability: number;
  ruleFitSampleSize: number;
  ruleDepth: number;
  /**
   * Last month's segments as the plan found them for the cache key; reduce downloads exactly these. Absent
   * in plans made before it was carried (reduce then looks them up itself).
   */
  previous?: PreviousLookup;
}

const segmentSeed = (config: { seed: number; segment: { seed?: number } }): number =>
  config.segment.seed ?? config.seed;

export const segmentSharded = defineShardedStage<SegmentMetrics, SegmentPlan>({
  stage: 'segment',
  // 8: sharded: the model is fitted on a seeded hash sample of customers (everyone up to
  //    segment.fitSampleCustomers) and every customer assigned to its nearest segment; sums exact, profile
  //    medians and RFM by DuckDB; segmentLabels parts and their index added; the persona rules of
  //    version 7 (index.ts). Above the unsharded versions so the two paths never share a cache key.
  version: 8,
  configSection: (config) => ({ ...config.segment, seed: segmentSeed(config) }),
  // Last month's segments are an input too: the migration output changes when they do.
  async fingerprintInputs(ctx) {
    const inputs = upstreamFingerprints(ctx);
    inputs.previousSegments = (await findPrevious(ctx)).previous?.sha256 ?? 'none';
    return inputs;
  },
  async shardCount(ctx) {
    return (await upstreamShardIndex(ctx, 'features', 'customerFeatures')).shardCount;
  },
  async prepare(ctx) {
    const config = ctx.run.config.segment;
    const seed = segmentSeed(ctx.run.config);
    const index = await upstreamShardIndex(ctx, 'features', 'customerFeatures');
    const customers = index.parts.reduce((n, p) => n + p.rows, 0);
    const featuresPath = await ctx.fetchUpstream('features', 'customerFeatures');
    return withDuck(
      async (duck) => {
        const source = `read_parquet(${sqlString(featuresPath)})`;
        const columns = await planSegmentColumns(duck, source, featuresPath, config);
        const threshold = sampleThreshold(customers, config.fitSampleCustomers);
        const input = await loadSegmentInput(
          duck,
          source,
          featuresPath,
          columns,
          inSampleSql('customer_id', seed, threshold),
        );
        // Yielding to the event loop between clustering iterations, so heartbeats go through the k search.
        const fit = await runYielding(
          segmentationSteps(input, {
            file: featuresPath,
            config,
            seed,
            heartbeat: (step) => ctx.heartbeat({ stage: 'segment', step }),
          }),
        );
        const { segmentation } = fit;
        const sample = { customers: input.rowCount, rule: sampleRule(seed, threshold) };
        const plan: SegmentPlan = {
          model: segmentModelOf(fit, columns),
          seed,
          customers,
          sample,
          selection: {
            ...selectionDocument(fit, columns, { config, seed, customers, sizes: [] }),
            sample,
          },
          metricsByK: metricsByK(segmentation),
          kMin: fit.kMin,
          kMax: fit.kMax,
          silhouette: segmentation.final.silhouette,
          silhouetteSampleSize: segmentation.silhouetteSampleSize,
          fitSampleSize: segmentation.fitSampleSize,
          stability: fit.stability.stability,
          ruleFitSampleSize: fit.ruleFitIdx ? fit.ruleFitIdx.length : input.rowCount,
          ruleDepth: fit.tree.depth,
          previous: await findPrevious(ctx),
        };
        return plan;
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
  async computeShard(ctx) {
    const { model } = ctx.prepared;
    const partPath = await ctx.fetchUpstreamShard('features', 'customerFeatures');
    return withDuck(
      async (duck) => {
        const source = `read_parquet(${sqlString(partPath)})`;
        const input = await loadSegmentInput(duck, source, partPath, model.columns);
        const { rowCount, columns } = input;
        const assigned = assignSegments(model, columns, rowCount);
        ctx.heartbeat({ stage: 'segment', shard: ctx.shard, step: 'assigned' });
        const noNetPurchase = new Uint8Array(rowCount);
        let noNetPurchaseCustomers = 0;
        for (let i = 0; i < rowCount; i++) {
          if (hasNoNetPurchase(columns.monetary_total[i])) {
            noNetPurchase[i] = 1;
            noNetPurchaseCustomers++;
          }
        }
        await writeColumns(duck, 'shard_labels', rowCount, [
          { name: 'idx', type: 'INTEGER', values: rowIndexes(rowCount) },
          { name: 'segment', type: 'INTEGER', values: assigned.labels },
          { name: 'distance_to_centroid', type: 'DOUBLE', values: assigned.distances },
          { name: 'rule_id', type: 'INTEGER', values: assigned.ruleIdOf },
          { name: 'no_net_purchase', type: 'BOOLEAN', values: Array.from(noNetPurchase, (v) => v === 1) },
        ]);
        const path = join(ctx.scratchDir, 'segment_labels.parquet');
        await duck.toParquet(
          `SELECT i.customer_id, l.segment, l.distance_to_centroid, l.rule_id, l.no_net_purchase
           FROM (SELECT customer_id, (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS idx FROM ${source}) i
             JOIN shard_labels l USING (idx)
           ORDER BY i.customer_id`,
          path,
        );
        const summary: SegmentShardSummary = summarizeShard({
          columns,
          loaded: model.columns.loaded,
          skewed: SKEWED_FEATURES,
          labels: assigned.labels,
          ruleIdOf: assigned.ruleIdOf,
          ruleAgrees: assigned.ruleAgrees,
          k: model.k,
          rules: model.rules.length,
          noNetPurchase: noNetPurchaseCustomers,
          heartbeat: (column) => ctx.heartbeat({ stage: 'segment', shard: ctx.shard, step: 'sums', column }),
        });
        return { outputs: { segmentLabels: { path, rows: rowCount } }, summary };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
  async reduce(ctx) {
    const plan = ctx.prepared;
    const { model } = plan;
    const { k } = model;
    const { features, loaded, available } = model.columns;
    const merged = mergeShardSummaries(
      ctx.receipts.map((r) => r.summary as SegmentShardSummary),
      loaded,
      k,
      model.rules.length,
    );
    const rowCount = merged.customers;
    const sizes = merged.counts;
    if (rowCount !== plan.customers || sizes.some((s) => s === 0)) {
      throw new OutputCheckError(
        `segments.parquet: segment sizes ${sizes.join('/')} must be non-empty and sum to the ${plan.customers} customers of the features table (got ${rowCount})`,
      );
    }
    if (!Number.isFinite(plan.silhouette)) {
      throw new OutputCheckError(`segment: silhouette must be finite (got ${plan.silhouette})`);
    }
    const partPaths: string[] = [];
    for (let shard = 0; shard < ctx.shardCount; shard++) {
      partPaths.push(await ctx.fetchShardPart('segmentLabels', shard));
    }
    const featuresPath = await ctx.fetchUpstream('features', 'customerFeatures');
    const { previous, noPreviousReason } = await fetchPreviousSegments(ctx, plan.previous);
    const config = ctx.run.config.segment;
    const outDir = ctx.scratchDir;
    const paths = {
      segments: join(outDir, 'segments.parquet'),
      personas: join(outDir, 'personas.json'),
      selection: join(outDir, 'segment_selection.json'),
      rules: join(outDir, 'segment_rules.json'),
    };
    return withDuck(
      async (duck) => {
        await duck.run(`CREATE VIEW features AS SELECT * FROM read_parquet(${sqlString(featuresPath)})`);
        await duck.run(
          `CREATE VIEW labels AS SELECT * FROM read_parquet([${partPaths.map(sqlString).join(', ')}])`,
        );
        const quantiles = await segmentQuantiles(duck, loaded, k);
        ctx.heartbeat({ stage: 'segment', step: 'quantiles' });
        // The persona rules' inputs the table has, in personaInputOf's order (R, F, M first).
        const personaKeys = (Object.keys(PERSONA_FEATURES) as (keyof typeof PERSONA_FEATURES)[]).filter(
          (key) => available.includes(PERSONA_FEATURES[key] ?? ''),
        );
        const profile = (values: Record<string, number>): PersonaFeatures => {
          const out: Partial<PersonaFeatures> = {};
          for (const key of personaKeys) out[key] = values[PERSONA_FEATURES[key] ?? ''];
          return out as PersonaFeatures;
        };
        const segments: SegmentProfile[] = Array.from({ length: k }, (_, c) => ({
          segment: c,
          customers: sizes[c],
          revenue: merged.sums.monetary_total[c],
          typical: profile(quantiles.median[c]),
        }));
        const population = {
          customers: rowCount,
          revenue: merged.totals.monetary_total,
          median: profile(quantiles.populationMedian),
          p25: profile(quantiles.p25),
          p75: profile(quantiles.p75),
        };
        const distinguishing = distinguishingFromMoments(loaded, merged.moments, sizes);
        const personas = withDistinguishing(
          describePersonas(segments, population, config.personas),
          distinguishing,
        );
        const personaName = personas.map((p) => p.name);
        const personaBase = personas.map((p) => p.baseName);
        await createRfmTable(duck);
        await writeMergedSegments(duck, {
          path: paths.segments,
          personaName,
          personaBase,
          ruleLabels: model.rules.map((r) => ruleLabel(r, personaName)),
        });
        ctx.heartbeat({ stage: 'segment', step: 'segments written' });
        await checkSegmentOutputs(duck, paths.segments, { k, rows: rowCount, rules: model.rules.length });
        const ruleFidelity = merged.ruleAgrees / rowCount;
        await writeJson(
          paths.rules,
          rulesDocument({
            tree: {
              rules: model.rules,
              depth: plan.ruleDepth,
              fidelity: ruleFidelity,
              leafOf: new Int32Array(0),
            },
            fidelity: ruleFidelity,
            fitSampleSize: plan.ruleFitSampleSize,
            customers: rowCount,
            personaName,
            customersOfRule: (r) => merged.ruleCounts[r.id],
          }),
        );
        const mean = Array.from({ length: k }, (_, c) =>
          Object.fromEntries(loaded.map((name) => [name, merged.sums[name][c] / sizes[c]])),
        );
        await writeJson(
          paths.personas,
          personasDocument({
            personas,
            sizes,
            segments,
            population,
            distinguishing,
            features,
            loaded,
            mean,
            median: quantiles.median,
            populationMedian: quantiles.populationMedian,
            noNetPurchaseCustomers: merged.noNetPurchase,
          }),
        );
        await writeJson(paths.selection, { ...plan.selection, sizes });
        const migration = await writeMigration(duck, {
          previous,
          noPreviousReason,
          currentPath: paths.segments,
          personaBase,
          outDir,
        });
        const metrics: SegmentMetrics = {
          k,
          silhouette: plan.silhouette,
          sizes,
          personas: personaName,
          method: model.method,
          silhouetteSampleSize: plan.silhouetteSampleSize,
          fitSampleSize: plan.fitSampleSize,
          seed: plan.seed,
          customers: rowCount,
          features: features.length,
          metricsByK: plan.metricsByK,
          stability: plan.stability,
          ruleFidelity,
          noNetPurchase: merged.noNetPurchase,
          migration: migration.migration,
          ...(migration.migrationReason !== undefined ? { migrationReason: migration.migrationReason } : {}),
          segmentationSampleSize: plan.sample.customers,
        };
        const outputs: Record<string, { path: string; rows?: number }> = {
          segments: { path: paths.segments, rows: rowCount },
          personas: { path: paths.personas },
          selection: { path: paths.selection },
          rules: { path: paths.rules },
        };
        if (migration.path) outputs.migration = { path: migration.path };
        const profilesPath = join(outDir, 'segment_attribute_profiles.json');
        if (
          await writeSegmentAttributeProfiles(duck, {
            featuresSource: 'features',
            segmentsPath: paths.segments,
            path: profilesPath,
          })
        )
          outputs.attributeProfiles = { path: profilesPath };
        const warnings = segmentWarnings({
          k,
          kMin: plan.kMin,
          kMax: plan.kMax,
          stability: plan.stability,
          ruleFidelity,
        });
        return { outputs, metrics, warnings };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
});
