/**
 * The sharded experiment stage's computation on local tables (shardSummary.ts): the generator's planted
 * experiment split into S customer-hash shards (lib/shards.ts shardSql), each summarised as a shard
 * activity does, the summaries merged through JSON as reduce does. S = 1 and S = 8 give the same reports
 * (every number to 1e-9; in fact the same doubles), and both agree to 1e-9 with the unsharded
 * analyzeAssignments on the whole tables, including configured measure and ratio metrics and a guardrail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeAssignments } from '../../../activities/experiment/assignments';
import {
  analyzeShardSummaries,
  summarizeExperimentShard,
  type ExperimentShardSummary,
} from '../../../activities/experiment/shardSummary';
import { Duck, sqlString } from '../../../lib/duck';
import { shardSql } from '../../../lib/shards';
import { experimentSection } from '../../../lib/stageConfig/experiment';
import { generateDataset } from '../../../scripts/generate/index';
import { loadDataset, tempDir } from '../generate/helpers';
import { closeDifferences } from '../../closeDifferences';

const CUTOFF = '2024-12-31T23:59:59.999Z';
const config = experimentSection.parse({
  metrics: [
    { name: 'units', column: 'quantity' },
    { name: 'orders', column: 'order_id', aggregate: 'countDistinct', rows: 'purchases' },
    { name: 'revenuePerOrder', numerator: 'revenue', denominator: 'orders' },
  ],
  guardrails: [{ metric: 'revenuePerOrder', maxRelativeDrop: 0.3 }],
});

describe('sharded experiment statistics', () => {
  const out = tempDir('experiment-shards');
  let duck: Duck;
  let truth: { id: string; arms: { control: { assigned: number }; treatment: { assigned: number } } };

  beforeAll(async () => {
    const result = await generateDataset({
      outDir: out.dir,
      customers: 6000,
      seed: 3,
      events: false,
      experiment: { uplift: 0.3 },
    });
    truth = (JSON.parse(readFileSync(result.truthPath, 'utf8')) as { experiment: typeof truth }).experiment;
    duck = await Duck.open({ threads: 2 });
    await loadDataset(duck, out.dir, false);
    await duck.run(`CREATE TABLE asg AS
      SELECT customer_id, experiment_id, variant, CAST(assigned_at AS TIMESTAMP) AS assigned_at
      FROM read_csv(${sqlString(join(out.dir, 'assignments', 'assignments.csv'))}, all_varchar = true)`);
    // Planted groups as personas, one group left out (its customers are 'unsegmented').
    await duck.run(`CREATE TABLE seg AS SELECT customer_id, group_name AS persona FROM truth_customers
      WHERE group_name <> 'one_time_lapsed'`);
  }, 120_000);

  afterAll(() => {
    duck?.close();
    out.remove();
  });

  /** Shard summaries for S shards, each through JSON as a receipt carries it. */
  async function summaries(shardCount: number): Promise<ExperimentShardSummary[]> {
    const list: ExperimentShardSummary[] = [];
    for (let shard = 0; shard < shardCount; shard++) {
      for (const [table, source] of [
        ['shard_tx', 'tx'],
        ['shard_asg', 'asg'],
        ['shard_seg', 'seg'],
      ]) {
        await duck.run(
          `CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${source} WHERE ${shardSql('customer_id', shardCount)} = ${shard}`,
        );
      }
      const summary = await summarizeExperimentShard(duck, {
        transactions: 'shard_tx',
        assignments: 'shard_asg',
        segments: 'shard_seg',
        cutoffIso: CUTOFF,
        config,
      });
      list.push(JSON.parse(JSON.stringify(summary)) as ExperimentShardSummary);
    }
    return list;
  }

  it('gives the same reports for S = 1 and S = 8, equal to the unsharded analysis to 1e-9', async () => {
    const one = await analyzeShardSummaries(await summaries(1), { cutoffIso: CUTOFF, config });
    const eight = await analyzeShardSummaries(await summaries(8), { cutoffIso: CUTOFF, config });
    const unsharded = await analyzeAssignments(duck, {
      transactions: 'tx',
      assignments: 'asg',
      segments: 'seg',
      cutoffIso: CUTOFF,
      config,
    });
    expect(eight.experiments).toHaveLength(1);
    const report = eight.experiments[0];
    expect(report.id).toBe(truth.id);
    expect(report.status).toBe('analyzed');
    // Arm sizes are the planted ones; the breakdown, CUPED, measures, ratio and guardrail are all there.
    expect(report.variants.find((v) => v.name === 'control')?.customers).toBe(truth.arms.control.assigned);
    expect(report.variants.find((v) => v.name === 'treatment')?.customers).toBe(
      truth.arms.treatment.assigned,
    );
    expect(report.analysis?.segments.length).toBeGreaterThan(4);
    expect(report.analysis?.treatments[0].metrics.map((m) => m.metric)).toContain('revenuePerCustomerCuped');
    expect(report.customMetrics?.map((m) => m.metric)).toEqual(['units', 'orders', 'revenuePerOrder']);
    expect(report.guardrails).toHaveLength(1);
    expect(JSON.stringify(eight)).toBe(JSON.stringify(one));
    expect(closeDifferences(unsharded, eight)).toEqual([]);
  }, 120_000);
});
