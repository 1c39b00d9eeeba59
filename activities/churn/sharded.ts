/**
 * churn as a sharded stage (lib/shardedStage.ts, issue 10).
 *
 * - prepare: the timeline (T, E, D) from the first and last transaction of the whole data: a streaming
 *   min/max, as the unsharded stage takes it.
 * - shard i: from clean's part i, the labelled windows at T and at E (features and labels of every
 *   customer of the shard, the work that grows with the data) and the scoring features at D (the features
 *   stage's part, or recomputed at D when the history ends early). Each row carries its sample key.
 * - reduce: the windows' counts and churn rates merged exactly from the shards; the models fitted on a
 *   sample gathered across shards and judged on a sample of the evaluation window; then every shard's
 *   customers scored with the fitted models, one shard at a time, into churn_scores.parquet.
 *
 * The sample does not depend on S: of each window it is the churn.maxTrainingRows customers with the
 * smallest md5(salt || ':' || customer_id) (salts derived from the run's seed, one per window), every
 * customer when the window has no more. The held-out figures (AUC, PR-AUC, Brier, calibration,
 * Hosmer-Lemeshow, the baseline's AUC and the high-value metrics) are those of the evaluation sample; the
 * customer counts and churn rates are exact. When both windows have at most churn.maxTrainingRows
 * customers the samples are the windows: the scores and every figure equal the unsharded stage's and the
 * outputs are the same for any S (tests/integration/shards.test.ts; churn_model.json adds `sampling`); above that the fits see the same number of customers as the
 * unsharded stage's seeded sample (a different draw), and the held-out figures are a sample's, with a
 * standard error of about sqrt(AUC (1 - AUC) / min(positives, negatives)) of the sample.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlString, withDuck } from '../../lib/duck';
import { deriveSeed } from '../../lib/random';
import { defineShardedStage, upstreamShardIndex, type ReduceContext } from '../../lib/shardedStage';
import type { StageComputeResult } from '../../lib/stage';
import { stepTimer } from '../../lib/stepTimer';
import { buildCustomerFeatures } from '../../lib/customerFeatures/customerFeatures';
import { checkedChurnResult } from './checks';
import { loadChurnTables } from './inputs';
import { outlierTreatment, withOutlierConfig } from '../../lib/outlierTreatment';
import {
  churnFeatureNames,
  earlyEndWarning,
  windowJoinWarnings,
  type ComputeChurnResult,
} from './computeChurn';
import type { ChurnConfig } from '../../lib/stageConfig/churn';
import type { ChurnMetrics } from './contract';
import { churnDocuments, writeChurnDocument, writeWithoutModel } from './documents';
import { fitChurnModels, scoreChurn } from './fitChurn';
import { checkScoringColumns, mergeScoreParts, writeScores } from './scores';
import { churnTimeline, parseInstant, transactionSpan, type ChurnTimeline } from './timeline';
import { loadMatrix, readLabelledWindow, windowShortfallOfCounts, withLabelledWindow } from './windows';

/** What every shard needs: the timeline (or why there is none) and whether the dataset has events. */
export interface ChurnPlan {
  runCutoff: string;
  timeline: ChurnTimeline | null;
  reason: string | null;
  hasEvents: boolean;
}

/** One window's counts in one shard. */
interface WindowCounts {
  /** Customers with features and a label. */
  customers: number;
  churners: number;
  /** Customers with features at the cutoff (the join with the labels must keep them all). */
  featureRows: number;
}

/** What a shard reports to reduce. */
interface ChurnShardSummary {
  train: WindowCounts;
  eval: WindowCounts;
  scoring: number;
}

/** The two labelled windows of a run, by the names of their shard parts. */
const WINDOWS = [
  { part: 'trainWindow', key: 'train', salt: 1 },
  { part: 'evalWindow', key: 'eval', salt: 2 },
] as const;

/** The sample key of a customer in one window: md5 of the salt and customer_id, as a hex string. */
function sampleKeySql(seed: number, salt: number): string {
  return `md5(${sqlString(`${deriveSeed(seed, salt)}:`)} || f.customer_id)`;
}

/** The rule the document states, with the sizes it produced. */
function samplingRule(config: ChurnConfig): string {
  return (
    `per window, the ${config.maxTrainingRows} customers (churn.maxTrainingRows) with the smallest ` +
    `md5(salt || ':' || customer_id), salt = deriveSeed(seed, 1) for the training window and ` +
    `deriveSeed(seed, 2) for the evaluation window; every customer when a window has no more. Models are ` +
    `fitted on the samples and judged on the evaluation sample; counts and churn rates are exact.`
  );
}

export const churnSharded = defineShardedStage<ChurnMetrics, ChurnPlan>({
  stage: 'churn',
  // 4: sharded: windows, scoring-feature parts and their indexes added; fits on a sample chosen by a hash
  //    of customer_id (not the row sample of version 3) and held-out figures on the evaluation sample, so
  //    above churn.maxTrainingRows customers per window the bytes differ from version 3's.
  // 5: churn_model.json's highValue gains the depth-limited tree and the spend regression (valueModels.ts).
  version: 5,
  configSection: (config) => withOutlierConfig({ churn: config.churn, seed: config.seed }, config.outliers),
  async shardCount(ctx) {
    return (await upstreamShardIndex(ctx, 'clean', 'transactions')).shardCount;
  },
  async prepare(ctx) {
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    const runCutoff = new Date(parseInstant(ctx.run.cutoff, 'run cutoff')).toISOString();
    const span = await withDuck(
      async (duck) => {
        await duck.run(
          `CREATE VIEW transactions AS SELECT * FROM read_parquet(${sqlString(transactionsPath)})`,
        );
        return transactionSpan(duck, 'transactions', runCutoff);
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
    const planned = churnTimeline({ runCutoff, ...span, windowDays: ctx.run.config.churn.window });
    return {
      runCutoff,
      timeline: planned.timeline ?? null,
      reason: planned.reason ?? null,
      hasEvents: ctx.upstream.clean?.outputs.eventsShards !== undefined,
    };
  },
  async computeShard(ctx) {
    const { timeline, hasEvents } = ctx.prepared;
    if (!timeline) return { outputs: {}, summary: null };
    const transactionsPath = await ctx.fetchUpstreamShard('clean', 'transactions');
    const eventsPath = hasEvents ? await ctx.fetchUpstreamShard('clean', 'events') : undefined;
    const featuresPath = await ctx.fetchUpstreamShard('features', 'customerFeatures');
    const { featureNames } = churnFeatureNames(hasEvents);
    const outDir = join(ctx.scratchDir, 'shard');
    await mkdir(outDir, { recursive: true });
    return withDuck(
      async (duck) => {
        await loadChurnTables(
          duck,
          { transactionsPath, eventsPath, featuresPath },
          outlierTreatment(ctx.run.config.outliers, ctx.upstream.clean?.metrics),
        );
        await checkScoringColumns(duck, 'scoring_features', featureNames);
        const windowOptions = {
          windowDays: ctx.run.config.churn.window,
          featureNames,
          hasEvents,
          table: 'transactions',
          eventsTable: eventsPath ? 'events' : undefined,
        };
        const outputs: Record<string, { path: string; rows: number }> = {};
        const counts: Partial<Record<'train' | 'eval', WindowCounts>> = {};
        for (const window of WINDOWS) {
          const path = join(outDir, `${window.part}.parquet`);
          const cutoff = window.key === 'train' ? timeline.trainCutoff : timeline.evalCutoff;
          const { result, featureRows } = await withLabelledWindow(
            duck,
            { ...windowOptions, cutoff },
            async (sql) => {
              await duck.toParquet(sql, path);
              return duck.one<{ customers: number; churners: number }>(
                `SELECT count(*)::INTEGER AS customers, coalesce(sum(churned), 0)::INTEGER AS churners
                 FROM read_parquet(${sqlString(path)})`,
              );
            },
            `, ${sampleKeySql(ctx.run.config.seed, window.salt)} AS sample_key`,
          );
          outputs[window.part] = { path, rows: result.customers };
          counts[window.key] = { ...result, featureRows };
          ctx.heartbeat({ stage: 'churn', shard: ctx.shard, step: window.part });
        }
        const scoringTable = timeline.dataEndsEarly
          ? (
              await buildCustomerFeatures(duck, {
                cutoff: timeline.effectiveEnd,
                hasEvents,
                table: 'transactions',
                eventsTable: windowOptions.eventsTable,
                outputTable: 'churn_features_scoring',
              })
            ).table
          : 'scoring_features';
        const scoringPath = join(outDir, 'scoringFeatures.parquet');
        await duck.toParquet(
          `SELECT customer_id, ${featureNames.map(sqlIdent).join(', ')} FROM ${sqlIdent(scoringTable)} ORDER BY customer_id`,
          scoringPath,
        );
        const { scoring } = await duck.one<{ scoring: number }>(
          `SELECT count(*)::INTEGER AS scoring FROM read_parquet(${sqlString(scoringPath)})`,
        );
        outputs.scoringFeatures = { path: scoringPath, rows: scoring };
        const summary: ChurnShardSummary = { train: counts.train!, eval: counts.eval!, scoring };
        return { outputs, summary };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
  async reduce(ctx) {
    return withDuck((duck) => reduceChurnShards(duck, ctx), { tempDirectory: join(ctx.scratchDir, 'duck') });
  },
});

/** What reduce returns to the framework: the scores and model files, the metrics, the warnings. */
type ReduceOutcome = StageComputeResult<ChurnMetrics>;

/** Sum one window's counts over the shards (exact: integers). */
function mergedCounts(summaries: ChurnShardSummary[], key: 'train' | 'eval'): WindowCounts {
  const total: WindowCounts = { customers: 0, churners: 0, featureRows: 0 };
  for (const s of summaries) {
    total.customers += s[key].customers;
    total.churners += s[key].churners;
    total.featureRows += s[key].featureRows;
  }
  return total;
}

async function reduceChurnShards(duck: Duck, ctx: ReduceContext<ChurnPlan>): Promise<ReduceOutcome> {
  const config = ctx.run.config.churn;
  const seed = ctx.run.config.seed;
  const { timeline, runCutoff, hasEvents } = ctx.prepared;
  const outDir = join(ctx.scratchDir, 'reduce');
  await mkdir(join(outDir, 'scored'), { recursive: true });
  const paths = { scores: join(outDir, 'churn_scores.parquet'), model: join(outDir, 'churn_model.json') };
  const { timed, stepMs } = stepTimer((step) => ctx.heartbeat({ stage: 'churn', step }));
  const finish = (result: ComputeChurnResult): Promise<ReduceOutcome> => checkedChurnResult(duck, result);
  const options = { config, seed };
  if (!timeline) {
    return finish(
      await writeWithoutModel(duck, options, paths, {
        reason: ctx.prepared.reason ?? 'no timeline',
        counts: { train: 0, eval: 0 },
        stepMs,
        runCutoff,
      }),
    );
  }
  const summaries = ctx.receipts.map((r) => r.summary as ChurnShardSummary);
  const train = mergedCounts(summaries, 'train');
  const evaluation = mergedCounts(summaries, 'eval');
  const counts = { train: train.customers, eval: evaluation.customers };
  const shortfall =
    windowShortfallOfCounts(
      `training window (features at ${timeline.trainCutoff}, churn labels)`,
      train.customers,
      train.churners,
    ) ??
    windowShortfallOfCounts(
      `evaluation window (features at ${timeline.evalCutoff}, churn labels)`,
      evaluation.customers,
      evaluation.churners,
    );
  if (shortfall !== null) {
    return finish(
      await writeWithoutModel(duck, options, paths, {
        reason: shortfall,
        timeline,
        counts,
        stepMs,
        runCutoff,
      }),
    );
  }
  const warnings = windowJoinWarnings([
    { cutoff: timeline.trainCutoff, rows: train.customers, featureRows: train.featureRows },
    { cutoff: timeline.evalCutoff, rows: evaluation.customers, featureRows: evaluation.featureRows },
  ]);
  const { featureNames, log1pFeatures } = churnFeatureNames(hasEvents);
  const samples = await timed('sample', async () => {
    const read = async (part: string, cutoff: string) => {
      const files: string[] = [];
      for (let shard = 0; shard < ctx.shardCount; shard++) files.push(await ctx.fetchShardPart(part, shard));
      const sample = `SELECT * FROM read_parquet([${files.map(sqlString).join(', ')}])
                      ORDER BY sample_key, customer_id LIMIT ${config.maxTrainingRows}`;
      const window = await readLabelledWindow(duck, `SELECT * FROM (${sample}) ORDER BY customer_id`, {
        cutoff,
        featureNames,
      });
      return { ...window, rows: null };
    };
    return {
      train: await read('trainWindow', timeline.trainCutoff),
      evaluation: await read('evalWindow', timeline.evalCutoff),
    };
  });
  const fitted = await fitChurnModels(
    {
      train: samples.train,
      evaluation: samples.evaluation,
      trainFit: samples.train,
      evaluationFit: samples.evaluation,
    },
    { featureNames, log1pFeatures, config, seed },
    timed,
  );
  warnings.push(...fitted.warnings);
  if (timeline.dataEndsEarly) warnings.push(earlyEndWarning(timeline.effectiveEnd, runCutoff));
  const scored = await timed('score', async () => {
    const parts: string[] = [];
    let rows = 0;
    for (let shard = 0; shard < ctx.shardCount; shard++) {
      const featuresPath = await ctx.fetchShardPart('scoringFeatures', shard);
      await duck.run(
        `CREATE OR REPLACE TABLE churn_scoring AS SELECT * FROM read_parquet(${sqlString(featuresPath)})`,
      );
      const X = await loadMatrix(duck, `SELECT * FROM churn_scoring ORDER BY customer_id`, featureNames);
      const { churnProbability, interval } = scoreChurn(fitted, X);
      const path = join(outDir, 'scored', `shard-${shard}.parquet`);
      await writeScores(duck, {
        scoringTable: 'churn_scoring',
        path,
        model: fitted.choice.chosen,
        churnProbability,
        highValue: interval,
        atRiskListSize: 0,
      });
      parts.push(path);
      rows += X.rows;
      ctx.heartbeat({ stage: 'churn', step: 'score', shard });
    }
    return { parts, rows };
  });
  const atRisk = await timed('writeScores', () =>
    mergeScoreParts(duck, { parts: scored.parts, path: paths.scores, atRiskListSize: config.atRiskListSize }),
  );
  const { metrics, document } = churnDocuments({
    config,
    seed,
    log1pFeatures,
    timeline,
    runCutoff,
    scoringCutoff: timeline.effectiveEnd,
    scoringFeatures: timeline.dataEndsEarly ? 'recomputed at effective end' : 'features stage',
    counts: {
      train: train.customers,
      eval: evaluation.customers,
      fitTrain: samples.train.X.rows,
      fitEval: samples.evaluation.X.rows,
      scored: scored.rows,
      trainPositiveRate: train.churners / train.customers,
      evalPositiveRate: evaluation.churners / evaluation.customers,
    },
    fitted,
    atRisk,
    warnings,
    stepMs,
    sampling: {
      rule: samplingRule(config),
      sampled: { train: samples.train.X.rows, eval: samples.evaluation.X.rows },
      heldOutOn: 'the evaluation sample',
    },
  });
  await writeChurnDocument(paths.model, document);
  return finish({ metrics, paths, document });
}
