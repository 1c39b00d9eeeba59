/**
 * Sharded stages on the real Temporal dev server and S3 (issue 10): the same generated data run with
 * `shards.count` 1 and 8 gives the same customer-level rows and the same global tables; clean's parts
 * hold every kept row once, each in the shard Node's hash gives its customer; features runs as a child
 * workflow with one activity per shard. The S = 8 run also reads its raw files one file per ingest
 * activity (file groups) and must account for every delivered line as the one-group run does.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { parseRunConfig } from '../../lib/config';
import { Duck, sqlString } from '../../lib/duck';
import { computeChurn } from '../../activities/churn/computeChurn';
import type { ChurnMetrics } from '../../activities/churn/contract';
import type { ClvMetrics } from '../../activities/clv/contract';
import { computeExperiment } from '../../activities/experiment/computeExperiment';
import type { ExperimentMetrics } from '../../activities/experiment/contract';
import type { StageManifest } from '../../lib/manifest';
import type { RunSummary, StageResult } from '../../lib/runTypes';
import type {
  ShardedStageActivities,
  ShardedStageRequest,
  ShardPlan,
  ShardPlanOutcome,
} from '../../lib/shardedStageTypes';
import { isShardPartOutputName, shardOfCustomer, shardPartKey, type ShardIndex } from '../../lib/shards';
import { loadData } from '../../scripts/commands/data';
import { startRun, waitForRun } from '../../scripts/commands/run';
import { generateDataset } from '../../scripts/generate';
import { openHarness, type Harness } from './harness';
import { recordHistory } from './histories';
import { outputDifferences } from './outputDifferences';
import { closeDifferences } from '../closeDifferences';

const DATASET = 'sharded';
const MONTH = '2023-12';
/** Configured metrics, a guardrail and a policy, so the sharded experiment's every statistic is exercised. */
const EXPERIMENT_CONFIG = {
  metrics: [
    { name: 'units', column: 'quantity' },
    { name: 'orders', column: 'order_id', aggregate: 'countDistinct', rows: 'purchases' },
    { name: 'revenuePerOrder', numerator: 'revenue', denominator: 'orders' },
  ],
  guardrails: [{ metric: 'revenuePerOrder', maxRelativeDrop: 0.5 }],
  policies: [
    {
      name: 'winback',
      target: { topN: 200, rankBy: 'valueAtRisk' },
      upliftConversion: { dist: 'normal', mean: 0.1, sd: 0.05 },
      costPerContact: 1,
      goal: { extraOrders: 2 },
    },
  ],
};

describe('sharded stages give the same answers for any shard count', () => {
  let harness: Harness;
  let dataDir: string;
  let one: RunSummary;
  let eight: RunSummary;

  beforeAll(async () => {
    harness = await openHarness();
    await harness.startWorker();
    dataDir = await mkdtemp(join(tmpdir(), 'custflow-shards-'));
    await generateDataset({ outDir: dataDir, customers: 1200, months: 12, seed: 11, startMonth: '2023-01' });
    for (const table of ['transactions', 'events', 'assignments'] as const) {
      await loadData(
        { dataset: DATASET, format: 'canonical', table, from: join(dataDir, table) },
        harness.store,
      );
    }
    const runWith = async (count: number, fileGroupBytes?: number): Promise<RunSummary> => {
      const config = parseRunConfig({
        shards: { count, concurrency: 3 },
        experiment: EXPERIMENT_CONFIG,
        ...(fileGroupBytes ? { ingest: { fileGroupBytes } } : {}),
      });
      // File groups change nothing ingest writes, so its cache would answer: forced, it reads file by file.
      const force = fileGroupBytes ? ['ingest'] : [];
      const started = await startRun(harness.client, { dataset: DATASET, month: MONTH, config, force });
      return waitForRun(harness.client, started, { quiet: true });
    };
    one = await runWith(1);
    // One transaction file per group (each file is far above 1 byte): 12 ingest activities.
    eight = await runWith(8, 1);
  }, 900_000); // two whole runs: about 2.5 minutes on a quiet machine, more than 5 at a load of 30

  afterAll(async () => {
    await harness?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const manifestOf = (summary: RunSummary, stage: string): Promise<StageManifest> =>
    harness.store.getJson<StageManifest>(harness.store.keyFromUri(summary.stages[stage].manifestUri ?? ''));

  /** A stage's shard parts and shard indexes (in the S = 1 run): they differ with S by design. */
  const shardOutputsOf = async (stage: string): Promise<string[]> =>
    Object.keys((await manifestOf(one, stage)).outputs).filter(
      (n) => isShardPartOutputName(n) || n.endsWith('Shards'),
    );

  it('completes both runs, with S as configured', () => {
    expect(one.status).toBe('COMPLETED');
    expect(eight.status).toBe('COMPLETED');
    expect(one.stages.clean.metrics.shards).toBe(1);
    expect(eight.stages.clean.metrics.shards).toBe(8);
    expect(eight.stages.features.metrics.shards).toBe(8);
    expect(eight.stages.clean.status).toBe('completed');
    expect(eight.stages.features.status).toBe('completed');
    expect(eight.stages.segment.metrics.shards).toBe(8);
    // 1,200 customers, below segment.fitSampleCustomers: the model is fitted on every customer.
    expect(eight.stages.segment.metrics.segmentationSampleSize).toBe(eight.stages.segment.metrics.customers);
    expect(eight.stages.clv.metrics.shards).toBe(8);
    expect(one.stages.clv.metrics.shards).toBe(1);
  });

  it('fits clv to the same parameters (1e-9) and scores every customer the same, whatever S', async () => {
    // Customer-level rows after sorting: clv.parquet is written in customer_id order, so the same rows
    // mean the same bytes; outputDifferences compares rows where the bytes differ.
    expect(await outputDifferences(harness.store, one, eight, 'clv', await shardOutputsOf('clv'))).toEqual(
      [],
    );
    const [a, b] = [one.stages.clv.metrics as ClvMetrics, eight.stages.clv.metrics as ClvMetrics];
    expect(b.model).toBe(a.model);
    expect(b.customers).toBe(a.customers);
    expect(b.customers).toBeGreaterThan(1000);
    expect(b.uniqueTriples).toBe(a.uniqueTriples);
    const close = (x: Record<string, number>, y: Record<string, number>, what: string): void => {
      expect(Object.keys(y).sort(), what).toEqual(Object.keys(x).sort());
      for (const [name, value] of Object.entries(x))
        expect(Math.abs(y[name] - value), `${what}.${name}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(value)),
        );
    };
    close(
      a.params as unknown as Record<string, number>,
      b.params as unknown as Record<string, number>,
      'params',
    );
    // Gamma-Gamma, when the data allows it (this generator's spend often takes the documented empirical
    // fallback, clv_spend_empirical_fallback): the same outcome for both S, the same parameters when fitted.
    expect(b.spendMessage).toBe(a.spendMessage);
    if (a.spend === null) expect(b.spend).toBeNull();
    else
      close(
        a.spend as unknown as Record<string, number>,
        b.spend as unknown as Record<string, number>,
        'spend',
      );
    expect(Math.abs(b.totalClv - a.totalClv)).toBeLessThanOrEqual(1e-9 * Math.abs(a.totalClv));
  });

  it('writes the same bytes for every whole-table output of clean, features and segment', async () => {
    for (const stage of ['clean', 'features', 'segment']) {
      const [a, b] = [await manifestOf(one, stage), await manifestOf(eight, stage)];
      const names = Object.keys(a.outputs).filter((n) => !isShardPartOutputName(n) && !n.endsWith('Shards'));
      expect(names.length).toBeGreaterThan(2);
      for (const name of names)
        expect(b.outputs[name]?.sha256, `${stage}/${name}`).toBe(a.outputs[name].sha256);
    }
  });

  it('gives every downstream stage the same customer-level rows and documents', async () => {
    // Their cache keys include the shard indexes, which differ with S, so they recompute: to the same rows.
    // Sharded ones (clv, churn) also list their parts and shard indexes, which differ with S by design.
    for (const stage of ['clv', 'churn', 'forecast', 'experiment', 'recommend'] as const) {
      expect(eight.stages[stage].status, stage).toBe('completed');
      const parts = await shardOutputsOf(stage);
      expect(await outputDifferences(harness.store, one, eight, stage, parts), stage).toEqual([]);
    }
  });

  it('shards churn: samples cover these windows, so S = 1, S = 8 and the unsharded stage agree', async () => {
    const [a, b] = [one.stages.churn.metrics as ChurnMetrics, eight.stages.churn.metrics as ChurnMetrics];
    expect(b.shards).toBe(8);
    expect(b.model).not.toBeNull();
    // The sample rule (activities/churn/sharded.ts): every customer when a window has at most maxTrainingRows.
    expect(b.evalCustomers).toBeGreaterThan(500);
    expect(b.fitCustomers).toEqual({ train: b.trainCustomers, eval: b.evalCustomers });
    for (const key of ['auc', 'prAuc', 'brier', 'baselineAuc', 'positiveRate', 'trainPositiveRate'] as const)
      expect(b[key], key).toBe(a[key]);
    // The unsharded computation (computeChurn, version 3) on the S = 1 run's own inputs gives the same
    // scores and figures: the sharded stage keeps the published behaviour when the sample is the window.
    const dir = await mkdtemp(join(tmpdir(), 'custflow-shards-churn-'));
    const duck = await Duck.open();
    try {
      const fetch = async (stage: 'clean' | 'features', output: string): Promise<string> => {
        const path = join(dir, `${stage}-${output}.parquet`);
        await harness.store.getToFile(harness.store.keyFromUri(one.stages[stage].outputs[output]), path);
        return path;
      };
      for (const [table, stage, output] of [
        ['transactions', 'clean', 'transactions'],
        ['events', 'clean', 'events'],
        ['scoring_features', 'features', 'customerFeatures'],
      ] as const)
        await duck.run(
          `CREATE TABLE ${table} AS SELECT * FROM read_parquet(${sqlString(await fetch(stage, output))})`,
        );
      const config = parseRunConfig({});
      const unsharded = await computeChurn(duck, {
        transactionsTable: 'transactions',
        eventsTable: 'events',
        scoringFeaturesTable: 'scoring_features',
        cutoff: one.cutoff,
        config: config.churn,
        seed: config.seed,
        outDir: dir,
      });
      for (const key of ['auc', 'brier', 'baselineAuc', 'positiveRate', 'scoredCustomers', 'model'] as const)
        expect(b[key], key).toBe(unsharded.metrics[key]);
      const shardedScores = join(dir, 'sharded-scores.parquet');
      await harness.store.getToFile(
        harness.store.keyFromUri(eight.stages.churn.outputs.scores),
        shardedScores,
      );
      const { differing } = await duck.one<{ differing: number }>(
        `SELECT ((SELECT count(*) FROM (SELECT * FROM read_parquet(${sqlString(shardedScores)}) EXCEPT ALL SELECT * FROM read_parquet(${sqlString(unsharded.paths.scores)})))
               + (SELECT count(*) FROM (SELECT * FROM read_parquet(${sqlString(unsharded.paths.scores)}) EXCEPT ALL SELECT * FROM read_parquet(${sqlString(shardedScores)}))))::INTEGER AS differing`,
      );
      expect(differing).toBe(0);
    } finally {
      duck.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shards experiment: S = 1, S = 8 and the unsharded stage give the same statistics (1e-9)', async () => {
    const [a, b] = [one.stages.experiment.metrics, eight.stages.experiment.metrics] as ExperimentMetrics[];
    expect(b.shards).toBe(8);
    const analysed = b.experimentStatus.filter((e) => e.status === 'analyzed');
    expect(analysed.length).toBeGreaterThan(0);
    expect(b.experiments.map((e) => e.metric)).toContain('revenuePerCustomerCuped');
    expect(b.customMetrics?.map((m) => m.metric)).toEqual(['units', 'orders', 'revenuePerOrder']);
    expect(b.guardrails).toHaveLength(analysed.length);
    expect(b.policies.map((p) => p.name)).toEqual(['winback']);
    const { shards: _one, ...metricsOne } = a;
    const { shards: _eight, ...metricsEight } = b;
    expect(closeDifferences(metricsOne, metricsEight)).toEqual([]);
    // The unsharded computation (computeExperiment, version 1: two-pass moments over per-customer arrays)
    // on the S = 1 run's inputs: the merged moments give the same document to 1e-9.
    const dir = await mkdtemp(join(tmpdir(), 'custflow-shards-experiment-'));
    try {
      const fetch = async (stage: 'clean' | 'segment' | 'clv' | 'churn', output: string): Promise<string> => {
        const path = join(dir, `${stage}-${output}.parquet`);
        await harness.store.getToFile(harness.store.keyFromUri(one.stages[stage].outputs[output]), path);
        return path;
      };
      const config = parseRunConfig({ experiment: EXPERIMENT_CONFIG });
      const unsharded = await computeExperiment({
        transactionsPath: await fetch('clean', 'transactions'),
        assignmentsPath: await fetch('clean', 'assignments'),
        segmentsPath: await fetch('segment', 'segments'),
        clvPath: await fetch('clv', 'clv'),
        churnPath: await fetch('churn', 'scores'),
        clvMetrics: one.stages.clv.metrics,
        cutoffIso: one.cutoff,
        config: config.experiment,
        seed: config.seed,
        clvTimeUnit: config.clv.timeUnit,
        churnWindowDays: config.churn.window,
        scratchDir: dir,
      });
      const shardedPath = join(dir, 'sharded-results.json');
      await harness.store.getToFile(
        harness.store.keyFromUri(eight.stages.experiment.outputs.results),
        shardedPath,
      );
      const [reference, sharded] = await Promise.all(
        [unsharded.outputs.results.path, shardedPath].map(
          async (p): Promise<unknown> => JSON.parse(await readFile(p, 'utf8')) as unknown,
        ),
      );
      expect(closeDifferences(reference, sharded)).toEqual([]);
      expect(closeDifferences(unsharded.metrics, metricsEight)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const child = await harness.client.workflow.getHandle(`${eight.workflowId}/experiment`).fetchHistory();
    const shards = (child.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'shardedStageShard',
    );
    expect(shards).toHaveLength(8);
  });

  it('puts every kept row in exactly one part, in the shard of its customer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custflow-shards-cmp-'));
    const duck = await Duck.open();
    try {
      for (const [stage, output, whole] of [
        ['clean', 'transactions', 'transactions'],
        ['clean', 'events', 'events'],
        ['clean', 'assignments', 'assignments'],
        ['features', 'customerFeatures', 'customerFeatures'],
      ] as const) {
        const indexUri = eight.stages[stage].outputs[`${output}Shards`];
        expect(indexUri, `${stage}/${output}Shards`).toBeDefined();
        const indexKey = harness.store.keyFromUri(indexUri);
        const index = await harness.store.getJson<ShardIndex>(indexKey);
        expect(index.shardCount).toBe(8);
        const parts: string[] = [];
        for (const part of index.parts) {
          const path = join(dir, stage, part.name);
          await harness.store.getToFile(shardPartKey(indexKey, part.name), path);
          parts.push(path);
          const rows = await duck.all<{ customer_id: string }>(
            `SELECT DISTINCT customer_id FROM read_parquet(${sqlString(path)})`,
          );
          for (const { customer_id } of rows) expect(shardOfCustomer(customer_id, 8)).toBe(part.shard);
        }
        expect(index.parts.filter((p) => p.rows > 0).length).toBeGreaterThan(4);
        const wholePath = join(dir, stage, `${whole}.parquet`);
        await harness.store.getToFile(
          harness.store.keyFromUri(eight.stages[stage].outputs[whole]),
          wholePath,
        );
        const list = `[${parts.map(sqlString).join(', ')}]`;
        const { n, differing } = await duck.one<{ n: number; differing: number }>(
          `SELECT (SELECT count(*) FROM read_parquet(${list}))::INTEGER AS n,
                  ((SELECT count(*) FROM (SELECT * FROM read_parquet(${list}) EXCEPT ALL SELECT * FROM read_parquet(${sqlString(wholePath)})))
                 + (SELECT count(*) FROM (SELECT * FROM read_parquet(${sqlString(wholePath)}) EXCEPT ALL SELECT * FROM read_parquet(${list}))))::INTEGER AS differing`,
        );
        expect(differing, `${stage}/${output}`).toBe(0);
        expect(n).toBe(index.parts.reduce((sum, p) => sum + p.rows, 0));
      }
    } finally {
      duck.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ingests file group by file group with the outputs and row accounting of one group', async () => {
    const files = (await readdir(join(dataDir, 'transactions'))).filter((f) => f.endsWith('.csv')).sort();
    expect(files).toHaveLength(12);
    expect(one.stages.ingest.metrics.fileGroups).toBe(1);
    expect(eight.stages.ingest.status).toBe('completed');
    expect(eight.stages.ingest.metrics.fileGroups).toBe(files.length);
    const history = await harness.client.workflow.getHandle(`${eight.workflowId}/ingest`).fetchHistory();
    const groupSteps = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'shardedStageShard',
    );
    expect(groupSteps).toHaveLength(files.length);
    // The merged outputs are the bytes one group wrote; the metrics are the same but for timings and groups.
    const [a, b] = [await manifestOf(one, 'ingest'), await manifestOf(eight, 'ingest')];
    const whole = (m: StageManifest): string[] =>
      Object.keys(m.outputs)
        .filter((n) => !isShardPartOutputName(n) && !n.endsWith('Shards'))
        .sort();
    expect(whole(b)).toEqual(whole(a));
    expect(whole(a)).toEqual(expect.arrayContaining(['transactions', 'events', 'assignments']));
    for (const name of whole(a))
      expect(b.outputs[name].sha256, `ingest/${name}`).toBe(a.outputs[name].sha256);
    const figures = (m: StageManifest): Record<string, unknown> => {
      const { downloadMs: _d, parseMs: _p, fileGroups: _g, shards: _s, ...rest } = m.metrics;
      return rest;
    };
    expect(figures(b)).toEqual(figures(a));
    for (const key of ['inputRows', 'outputRows', 'quarantinedByReason', 'duplicateRows', 'afterCutoffRows'])
      expect(eight.stages.clean.metrics[key], `clean.${key}`).toEqual(one.stages.clean.metrics[key]);

    // Per delivered file, against the generator's own files: data lines = rows clean kept, quarantined or
    // found duplicate (nothing in a dated file is set aside for a later month).
    expect(eight.stages.clean.metrics.afterCutoffRows).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), 'custflow-shards-ingest-'));
    const duck = await Duck.open();
    try {
      const local: Record<string, string> = {};
      for (const output of ['transactions', 'quarantine', 'duplicates']) {
        local[output] = join(dir, `${output}.parquet`);
        await harness.store.getToFile(
          harness.store.keyFromUri(eight.stages.clean.outputs[output]),
          local[output],
        );
      }
      const perFile = await duck.all<{ file: string; n: number }>(
        `SELECT regexp_extract(source_file, '[^/]+$') AS file, count(*)::INTEGER AS n FROM (
           ${Object.values(local)
             .map((p) => `SELECT source_file FROM read_parquet(${sqlString(p)})`)
             .join(' UNION ALL ')}) GROUP BY ALL ORDER BY file`,
      );
      const delivered = await Promise.all(
        files.map(async (file) => {
          const lines = (await readFile(join(dataDir, 'transactions', file), 'utf8'))
            .split('\n')
            .filter((line) => line.trim() !== '');
          return { file, n: lines.length - 1 };
        }),
      );
      expect(perFile).toEqual(delivered);
      expect(delivered.reduce((sum, f) => sum + f.n, 0)).toBe(eight.stages.ingest.metrics.rawRows);
    } finally {
      duck.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never lets a late write of an abandoned shard or reduce attempt be read', async () => {
    // Every step writes under its attempt's folder; the manifest and the shard indexes name the completed
    // attempts' objects. An abandoned attempt (here: attempt 7, and the stage root where steps wrote before)
    // writing late puts bytes beside them, and readers, who follow the manifest and the indexes, never see it.
    const late = new TextEncoder().encode('late write of an abandoned attempt');
    const attemptFolder = /\/attempt-(\d+)\//;
    for (const stage of ['features', 'segment', 'clv', 'churn', 'experiment'] as const) {
      const manifest = await manifestOf(eight, stage);
      const root = harness.store
        .keyFromUri(eight.stages[stage].manifestUri ?? '')
        .replace(/_manifest\.json$/, '');
      const entries = Object.entries(manifest.outputs);
      for (const [name, entry] of entries) {
        // A shard index sits at the stage's root (its parts' names are relative to it); the rest in attempts.
        if (name.endsWith('Shards'))
          expect(entry.key.slice(root.length), `${stage}/${name}`).not.toContain('/');
        else expect(entry.key, `${stage}/${name}`).toMatch(attemptFolder);
        if (name.endsWith('Shards')) continue;
        const relative = entry.key.slice(root.length).replace(/^attempt-\d+\//, '');
        await harness.store.putBytes(`${root}attempt-7/${relative}`, late);
        await harness.store.putBytes(root + relative, late);
      }
      const receipts = await harness.store.list(root);
      for (const receipt of receipts.filter((o) => o.key.includes('/_shards/receipt-')))
        await harness.store.putBytes(receipt.key.replace(attemptFolder, '/attempt-7/'), late);
      // What readers reach: every manifest entry, and every part through its shard index.
      for (const [name, entry] of entries) {
        const bytes = await harness.store.getBytes(entry.key);
        expect(createHash('sha256').update(bytes).digest('hex'), `${stage}/${name}`).toBe(entry.sha256);
        if (!name.endsWith('Shards')) continue;
        const index = JSON.parse(new TextDecoder().decode(bytes)) as ShardIndex;
        for (const part of index.parts) {
          const key = shardPartKey(entry.key, part.name);
          expect(key, `${stage}/${name} part ${part.shard}`).toMatch(attemptFolder);
          const partBytes = await harness.store.getBytes(key);
          expect(createHash('sha256').update(partBytes).digest('hex')).toBe(part.sha256);
        }
      }
    }
  });

  it('keeps a sharded stage at S = 512 far below Temporal history and payload limits', async () => {
    // The real child workflow (workflows/shardedStage.ts) on a worker of its own, with the request the
    // S = 8 run gave its heaviest shard step (recorded in its history) and that plan at S = 512; the
    // three steps answer at once, as a step's result does (shard index, row count, attempt), so 512 shards
    // take seconds. The parent run's history does not grow with S: results list shard indexes, not parts.
    const requests: {
      stage: string;
      request: ShardedStageRequest;
      outcome: ShardPlanOutcome;
      size: number;
    }[] = [];
    for (const stage of ['features', 'segment', 'clv', 'churn', 'experiment']) {
      const history = await harness.client.workflow.getHandle(`${eight.workflowId}/${stage}`).fetchHistory();
      const events = history.events ?? [];
      const started = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
      const planned = events.find((e) => {
        const id = e.activityTaskCompletedEventAttributes?.scheduledEventId;
        return events.some(
          (s) =>
            s.eventId?.toString() === id?.toString() &&
            s.activityTaskScheduledEventAttributes?.activityType?.name === 'shardedStagePlan',
        );
      })?.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
      if (!started || !planned) throw new Error(`${stage}: no request or plan in its history`);
      const decode = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));
      requests.push({
        stage,
        request: decode(started) as ShardedStageRequest,
        outcome: decode(planned) as ShardPlanOutcome,
        size: started.length + planned.length,
      });
    }
    requests.sort((a, b) => b.size - a.size);
    const [{ stage, request, outcome }] = requests;
    if (outcome.kind !== 'planned') throw new Error(`${stage}: the S = 8 run planned no shards`);
    expect(outcome.planKey, 'shard steps take their request by reference').toBeDefined();
    const result = (await harness.client.workflow
      .getHandle(`${eight.workflowId}/${stage}`)
      .result()) as StageResult;
    const plan: ShardPlan = { ...outcome.plan, shardCount: 512 };
    const queue = `limits-${randomUUID().slice(0, 8)}`;
    const native = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
    const steps: ShardedStageActivities = {
      shardedStagePlan: () => Promise.resolve({ ...outcome, plan }),
      shardedStageShard: (t) =>
        Promise.resolve({
          shard: t.shard,
          rows: 2_000,
          attempt: 1,
          resources: { longestEventLoopBlockMs: 120, peakRssBytes: 1.5e9 },
        }),
      shardedStageReduce: () => Promise.resolve(result),
    };
    const worker = await Worker.create({
      connection: native,
      namespace: process.env.TEMPORAL_NAMESPACE,
      taskQueue: queue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: steps,
    });
    const workflowId = `limits-${randomUUID()}`;
    try {
      await worker.runUntil(
        harness.client.workflow.execute('shardedStage', {
          taskQueue: queue,
          workflowId,
          args: [request],
        }),
      );
    } finally {
      await native.close();
    }
    const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const bytes = temporal.api.history.v1.History.encode(history).finish().length;
    const largestEvent = Math.max(
      ...events.map((e) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length),
    );
    const shards = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'shardedStageShard',
    );
    expect(shards).toHaveLength(512);
    // Temporal's limits: 51,200 events and 50 MB per history (warnings at 10,240 and 10 MB), 2 MB per
    // payload. "Well below": under the warning thresholds, and no event near a payload's limit.
    expect(events.length, `${stage} child at S = 512: events`).toBeLessThan(10_240);
    expect(bytes, `${stage} child at S = 512: history bytes`).toBeLessThan(10 * 1024 * 1024);
    expect(largestEvent, `${stage} child at S = 512: largest event`).toBeLessThan(256 * 1024);
    console.log(
      `shard limits: ${stage} child at S = 512: ${events.length} events, ${(bytes / 1024 / 1024).toFixed(2)} MiB, largest event ${(largestEvent / 1024).toFixed(1)} KiB; request and plan at S = 8: ${requests.map((r) => `${r.stage} ${(r.size / 1024).toFixed(1)} KiB`).join(', ')}`,
    );
    // The parent run: the same number of events for S = 1 and S = 8, and sizes that differ only by the
    // few result fields that name S.
    const parents = await Promise.all(
      [one, eight].map((r) => harness.client.workflow.getHandle(r.workflowId).fetchHistory()),
    );
    const [parentOne, parentEight] = parents.map((h) => ({
      events: h.events?.length ?? 0,
      bytes: temporal.api.history.v1.History.encode(h).finish().length,
    }));
    expect(parentEight.events).toBe(parentOne.events);
    expect(Math.abs(parentEight.bytes - parentOne.bytes)).toBeLessThan(0.1 * parentOne.bytes);
  });

  it('runs segment as a child workflow with one activity per shard', async () => {
    const history = await harness.client.workflow.getHandle(`${eight.workflowId}/segment`).fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes
        ? [e.activityTaskScheduledEventAttributes.activityType?.name]
        : [],
    );
    expect(scheduled.filter((n) => n === 'shardedStageShard')).toHaveLength(8);
    expect(scheduled.filter((n) => n === 'shardedStageReduce')).toHaveLength(1);
  });

  it('runs features as a child workflow with one activity per shard', async () => {
    const child = harness.client.workflow.getHandle(`${eight.workflowId}/features`);
    const history = await child.fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes
        ? [e.activityTaskScheduledEventAttributes.activityType?.name]
        : [],
    );
    expect(scheduled.filter((n) => n === 'shardedStageShard')).toHaveLength(8);
    expect(scheduled.filter((n) => n === 'shardedStagePlan')).toHaveLength(1);
    expect(scheduled.filter((n) => n === 'shardedStageReduce')).toHaveLength(1);
    // clv runs the same way (patched 'sharded-clv').
    const clvChild = await harness.client.workflow.getHandle(`${eight.workflowId}/clv`).fetchHistory();
    const clvShards = (clvChild.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'shardedStageShard',
    );
    expect(clvShards).toHaveLength(8);
    // The replay test (tests/unit/backbone/workflowReplay.test.ts) keeps proving the sharded branch.
    await recordHistory(harness.client, 'monthly-sharded', eight.workflowId);
    await recordHistory(harness.client, 'sharded-stage-features', `${eight.workflowId}/features`);
  });
});
