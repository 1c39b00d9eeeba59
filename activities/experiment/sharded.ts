/**
 * experiment as a sharded stage (lib/shardedStage.ts, issue 10).
 *
 * - plan: the persona of each (segment, no_net_purchase) pair, read once from segments.parquet, so a
 *   shard can name its customers' personas from segment's label part without the whole segments table.
 * - shard i: clean's parts i of the transactions and assignments and segment's label part i -> the
 *   per-customer outcomes of the shard's customers (the unsharded stage's SQL) -> exact per-variant and
 *   per-segment moments (shardSummary.ts) in the receipt. The per-customer work, which grows with the
 *   customers in experiments, fans out.
 * - reduce: merge the moments exactly, then the same reports and tests as the unsharded stage
 *   (assignments.ts experimentReport, abTest.ts and customMetrics.ts from statistics), so the results are
 *   the same doubles for any S. Policies are simulated in reduce over every customer, exactly as the
 *   unsharded stage does (computeExperiment.ts finishExperiment): targeting ranks customers across the whole
 *   base (topN, rankBy), which neither a shard nor a sample can do. Reduce holds 7 numbers per scored
 *   customer for that (about 56 MB per million customers), read from clv's and churn's whole tables.
 */
import { join } from 'node:path';
import { sqlString, withDuck } from '../../lib/duck';
import { defineShardedStage, upstreamShardIndex } from '../../lib/shardedStage';
import type { StageContext } from '../../lib/stage';
import type { AssignmentAnalysis } from './assignments';
import { finishExperiment } from './computeExperiment';
import type { ExperimentMetrics } from './contract';
import { experimentStage } from './index';
import { analyzeShardSummaries, summarizeExperimentShard, type ExperimentShardSummary } from './shardSummary';

/** What every shard needs, decided once. */
export interface ExperimentPlan {
  hasAssignments: boolean;
  /**
   * The persona of each (segment, no_net_purchase) pair of segment's label parts, as segments.parquet names
   * it; null when segment has no label parts (a shard then reads the whole segments table).
   */
  personaOf: { segment: number; noNetPurchase: boolean; persona: string }[] | null;
}

const SEGMENT_LABELS = 'segmentLabels';

function hasAssignments(ctx: Pick<StageContext, 'upstream'>): boolean {
  return Boolean(ctx.upstream.clean?.outputs.assignmentsShards);
}

/**
 * How segments.parquet names the personas of segment's label parts (customer_id, segment,
 * no_net_purchase), read from the table itself once: each (segment, no_net_purchase) pair has one persona
 * there. Null when segment wrote no label parts, or the table does not name them one to one.
 */
async function personaMap(ctx: StageContext): Promise<ExperimentPlan['personaOf']> {
  if (!ctx.upstream.segment?.outputs[`${SEGMENT_LABELS}Shards`]) return null;
  const segmentsPath = await ctx.fetchUpstream('segment', 'segments');
  return withDuck(
    async (duck) => {
      const rows = await duck.all<{
        segment: number;
        no_net_purchase: boolean;
        persona: string;
        names: number;
      }>(
        `SELECT segment::INTEGER AS segment, no_net_purchase, min(persona) AS persona,
                count(DISTINCT persona)::INTEGER AS names
         FROM read_parquet(${sqlString(segmentsPath)}) GROUP BY ALL ORDER BY ALL`,
      );
      if (rows.some((r) => r.names !== 1)) return null;
      return rows.map((r) => ({ segment: r.segment, noNetPurchase: r.no_net_purchase, persona: r.persona }));
    },
    { tempDirectory: join(ctx.scratchDir, 'duck') },
  );
}

export const experimentSharded = defineShardedStage<ExperimentMetrics, ExperimentPlan>({
  stage: 'experiment',
  // 2: sharded; statistics from exact merged moments (equal to version 1's to ~1e-15, not to the bit).
  version: 2,
  configSection: (config) => experimentStage.configSection(config),
  async shardCount(ctx) {
    // Without assignments there is nothing per customer to do: one empty shard, then the policies.
    return hasAssignments(ctx) ? (await upstreamShardIndex(ctx, 'clean', 'transactions')).shardCount : 1;
  },
  async prepare(ctx) {
    if (!hasAssignments(ctx)) return { hasAssignments: false, personaOf: null };
    return { hasAssignments: true, personaOf: await personaMap(ctx) };
  },
  async computeShard(ctx) {
    if (!ctx.prepared.hasAssignments) return { outputs: {} };
    const config = ctx.run.config.experiment;
    const transactionsPath = await ctx.fetchUpstreamShard('clean', 'transactions');
    const assignmentsPath = await ctx.fetchUpstreamShard('clean', 'assignments');
    const { personaOf } = ctx.prepared;
    const segmentsPath = personaOf
      ? await ctx.fetchUpstreamShard('segment', SEGMENT_LABELS)
      : await ctx.fetchUpstream('segment', 'segments');
    const summary = await withDuck(
      async (duck) => {
        const parquet = (path: string) => `read_parquet(${sqlString(path)})`;
        const personaSql = personaOf
          ? `CASE ${personaOf.map((p) => `WHEN segment = ${p.segment} AND no_net_purchase = ${p.noNetPurchase} THEN ${sqlString(p.persona)}`).join(' ')} END`
          : 'persona';
        await duck.run(
          `CREATE TABLE segments AS SELECT customer_id, ${personaSql} AS persona FROM ${parquet(segmentsPath)}`,
        );
        // Configured metrics may read any column of the transactions.
        const columns = config.metrics.length > 0 ? '*' : 'customer_id, ts, amount';
        await duck.run(`CREATE TABLE transactions AS SELECT ${columns} FROM ${parquet(transactionsPath)}`);
        await duck.run(`CREATE TABLE assignments AS SELECT * FROM ${parquet(assignmentsPath)}`);
        return summarizeExperimentShard(duck, {
          transactions: 'transactions',
          assignments: 'assignments',
          segments: 'segments',
          cutoffIso: ctx.run.cutoff,
          windowDays: config.windowDays,
          preWindowDays: config.preWindowDays,
          config,
          progress: (detail) => ctx.heartbeat({ stage: 'experiment', shard: ctx.shard, ...detail }),
        });
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
    return { outputs: {}, summary };
  },
  async reduce(ctx) {
    const config = ctx.run.config.experiment;
    const notes: string[] = [];
    let analysis: AssignmentAnalysis | null = null;
    if (ctx.prepared.hasAssignments) {
      analysis = await analyzeShardSummaries(
        ctx.receipts.map((r) => r.summary as ExperimentShardSummary),
        { cutoffIso: ctx.run.cutoff, config },
        (id) => ctx.heartbeat({ stage: 'experiment', step: 'experiment', id }),
      );
      if (analysis.experiments.length === 0) notes.push('assignments hold no experiment up to the cutoff');
    } else {
      notes.push('no experiments: the dataset has no assignments table');
    }
    const segmentsPath = await ctx.fetchUpstream('segment', 'segments');
    const fetchIf = async (present: boolean, stage: 'clv' | 'churn', output: string) =>
      present ? ctx.fetchUpstream(stage, output) : null;
    const clvPath = await fetchIf(Boolean(ctx.upstream.clv?.outputs.clv), 'clv', 'clv');
    const churnPath = await fetchIf(Boolean(ctx.upstream.churn?.outputs.scores), 'churn', 'scores');
    return withDuck(
      async (duck) => {
        await duck.run(
          `CREATE TABLE segments AS SELECT customer_id, persona FROM read_parquet(${sqlString(segmentsPath)})`,
        );
        return finishExperiment(
          duck,
          {
            clvPath,
            churnPath,
            clvMetrics: ctx.upstream.clv?.metrics,
            cutoffIso: ctx.run.cutoff,
            config,
            seed: ctx.run.config.seed,
            clvTimeUnit: ctx.run.config.clv.timeUnit,
            churnWindowDays: ctx.run.config.churn.window,
            scratchDir: ctx.scratchDir,
            heartbeat: (detail) => ctx.heartbeat({ stage: 'experiment', ...detail }),
          },
          analysis,
          notes,
        );
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
});
