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
 *
 * This file is the unsharded activity's wiring (runs recorded before `patched('sharded-segment')`); the
 * computation is in computeSegments.ts and fit.ts, the sharded stage in sharded.ts, the contract (metrics,
 * documents others read) in contract.ts.
 */
import { join } from 'node:path';
import { withDuck } from '../../lib/duck';
import { defineStageActivity, upstreamFingerprints, type StageOutputFile } from '../../lib/stage';
import { computeSegments } from './computeSegments';
import type { SegmentMetrics } from './contract';
import { fetchPreviousSegments, findPrevious } from './previous';

export { computeSegments, type ComputeSegmentsOptions, type ComputeSegmentsResult } from './computeSegments';
export type { KMetrics, MigrationSummary, PreviousSegments, SegmentMetrics } from './contract';
export { distinguishingFeatures, type DistinguishingFeature } from './distinguishing';
export { RULE_FIDELITY_THRESHOLD, STABILITY_THRESHOLD } from './documents';

export const segment = defineStageActivity<SegmentMetrics>({
  stage: 'segment',
  // 3: segments.parquet gained persona_base; the migration matches on it.
  // 4: stability, decision rules (segment_rules.json; rule_id and rule per customer), distinguishing features,
  //    output checks and warnings.
  // 5: personas on the behavioural axis with corroboration block weights, k by separation and stability
  //    (kRange [3, 8]), merged sibling rules, distinguishing features over every described column.
  // 6: customers with no net purchase (monetary_total <= 0) are persona "No net purchase" with their own
  //    rule, and flagged (no_net_purchase); personas.json and the metrics count them (issue 15).
  // 7: persona rules as data and configurable (segment.personas); Bulk buyers, Category explorers and
  //    Window shoppers among the defaults; persona inputs and traits gain basket size, category breadth
  //    and browsing (issue 14).
  version: 7,
  configSection: (config) => ({ ...config.segment, seed: config.segment.seed ?? config.seed }),
  // Last month's segments are an input too: the migration output changes when they do.
  async fingerprintInputs(ctx) {
    const inputs = upstreamFingerprints(ctx);
    inputs.previousSegments = (await findPrevious(ctx)).previous?.sha256 ?? 'none';
    return inputs;
  },
  async compute(ctx) {
    const featuresPath = await ctx.fetchUpstream('features', 'customerFeatures');
    const { previous, noPreviousReason } = await fetchPreviousSegments(ctx);
    const config = ctx.run.config.segment;
    const result = await withDuck(
      (duck) =>
        computeSegments(duck, {
          featuresPath,
          config,
          seed: config.seed ?? ctx.run.config.seed,
          outDir: ctx.scratchDir,
          previous,
          noPreviousReason,
          heartbeat: (step) => ctx.heartbeat({ step }),
        }),
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
    const outputs: Record<string, StageOutputFile> = {
      segments: { path: result.paths.segments, rows: result.metrics.customers },
      personas: { path: result.paths.personas },
      selection: { path: result.paths.selection },
      rules: { path: result.paths.rules },
    };
    if (result.paths.migration) outputs.migration = { path: result.paths.migration };
    if (result.paths.attributeProfiles) outputs.attributeProfiles = { path: result.paths.attributeProfiles };
    return { outputs, metrics: result.metrics, warnings: result.warnings };
  },
});
