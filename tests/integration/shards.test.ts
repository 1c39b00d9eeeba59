/**
 * Sharded stages on the real Temporal dev server and S3 (issue 10): the same generated data run with
 * `shards.count` 1 and 8 gives the same customer-level rows and the same global tables; clean's parts
 * hold every kept row once, each in the shard Node's hash gives its customer; features runs as a child
 * workflow with one activity per shard.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../lib/config';
import { Duck, sqlString } from '../../lib/duck';
import type { StageManifest } from '../../lib/manifest';
import type { RunSummary } from '../../lib/runTypes';
import { isShardPartOutputName, shardOfCustomer, shardPartKey, type ShardIndex } from '../../lib/shards';
import { loadData } from '../../scripts/commands/data';
import { startRun, waitForRun } from '../../scripts/commands/run';
import { generateDataset } from '../../scripts/generate';
import { openHarness, type Harness } from './harness';
import { recordHistory } from './histories';
import { outputDifferences } from './outputDifferences';

const DATASET = 'sharded';
const MONTH = '2023-12';

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
    const runWith = async (count: number): Promise<RunSummary> => {
      const config = parseRunConfig({ shards: { count, concurrency: 3 } });
      const started = await startRun(harness.client, { dataset: DATASET, month: MONTH, config });
      return waitForRun(harness.client, started, { quiet: true });
    };
    one = await runWith(1);
    eight = await runWith(8);
  });

  afterAll(async () => {
    await harness?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const manifestOf = (summary: RunSummary, stage: string): Promise<StageManifest> =>
    harness.store.getJson<StageManifest>(harness.store.keyFromUri(summary.stages[stage].manifestUri ?? ''));

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
    for (const stage of ['clv', 'churn', 'forecast', 'experiment', 'recommend'] as const) {
      expect(eight.stages[stage].status, stage).toBe('completed');
      expect(await outputDifferences(harness.store, one, eight, stage), stage).toEqual([]);
    }
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
    // The replay test (tests/unit/backbone/workflowReplay.test.ts) keeps proving the sharded branch.
    await recordHistory(harness.client, 'monthly-sharded', eight.workflowId);
    await recordHistory(harness.client, 'sharded-stage-features', `${eight.workflowId}/features`);
  });
});
