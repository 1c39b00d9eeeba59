/**
 * "Last month's run" after a fully cached month (issue 15, item 6): when the latest completed run of M-1
 * took every stage from the cache, its own folder holds no outputs. Segment's persona migration and clean's
 * row-count gate must follow computedByRunId to the run that computed them, on the real Temporal and S3
 * servers. A later cached rerun of M-1 must not make M recompute either.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../lib/config';
import { STAGE_NAMES } from '../../lib/stageRegistry';
import type { RunSummary } from '../../lib/runTypes';
import { loadData } from '../../scripts/commands/data';
import { startRun, waitForRun } from '../../scripts/commands/run';
import { generateDataset } from '../../scripts/generate';
import { openHarness, type Harness } from './harness';

const DATASET = 'prevrun';
const PREVIOUS = '2023-05';
const CURRENT = '2023-06';

interface RowCountGate {
  gate: string;
  level: string;
  value: number | null;
  message: string;
}

describe('previous-run lookups follow computedByRunId', () => {
  let harness: Harness;
  let dataDir: string;

  beforeAll(async () => {
    harness = await openHarness();
    await harness.startWorker();
    dataDir = await mkdtemp(join(tmpdir(), 'custflow-prevrun-'));
    await generateDataset({ outDir: dataDir, customers: 400, months: 6, seed: 11, startMonth: '2023-01' });
    await loadData(
      { dataset: DATASET, format: 'canonical', table: 'transactions', from: join(dataDir, 'transactions') },
      harness.store,
    );
  });

  afterAll(async () => {
    await harness?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const runMonth = async (month: string): Promise<RunSummary> => {
    const started = await startRun(harness.client, { dataset: DATASET, month, config: parseRunConfig({}) });
    const summary = await waitForRun(harness.client, started, { quiet: true });
    expect(summary.status, `${month}: ${JSON.stringify(summary.warnings)}`).toBe('COMPLETED');
    return summary;
  };

  it('migration and the row-count gate read the run that computed last month, not the cached one', async () => {
    const computed = await runMonth(PREVIOUS);
    for (const stage of STAGE_NAMES) expect(computed.stages[stage].status, stage).toBe('completed');

    // The latest completed run of M-1 now computed nothing: every output lives under `computed`.
    const cached = await runMonth(PREVIOUS);
    expect(cached.runId).not.toBe(computed.runId);
    for (const stage of STAGE_NAMES) {
      expect(cached.stages[stage].status, stage).toBe('cached');
      expect(cached.stages[stage].computedByRunId, stage).toBe(computed.runId);
    }

    const current = await runMonth(CURRENT);
    const segment = current.stages.segment;
    expect(segment.status).toBe('completed');
    const migration = segment.metrics.migration as {
      previousRunId: string;
      previousMonth: string;
      from: string[];
      counts: number[][];
      newCustomers: number;
    } | null;
    expect(migration, String(segment.metrics.migrationReason)).not.toBeNull();
    expect(migration!.previousMonth).toBe(PREVIOUS);
    expect(migration!.previousRunId).toBe(computed.runId);
    // Every customer segmented last month is in exactly one row other than '(new)'.
    const rowTotals = migration!.counts.map((row) => row.reduce((a, b) => a + b, 0));
    const newRow = migration!.from.indexOf('(new)');
    expect(rowTotals.filter((_, i) => i !== newRow).reduce((a, b) => a + b, 0)).toBe(
      computed.stages.segment.metrics.customers,
    );
    expect(rowTotals[newRow]).toBe(migration!.newCustomers);

    const previousRows = computed.stages.clean.metrics.outputRows as number;
    const currentRows = current.stages.clean.metrics.outputRows as number;
    expect(previousRows).toBeGreaterThan(0);
    expect(currentRows).toBeGreaterThan(previousRows); // history up to the cutoff grows by one month
    const gate = (current.stages.clean.metrics.qualityGates as RowCountGate[]).find(
      (g) => g.gate === 'rowCountChange',
    )!;
    expect(gate.level).not.toBe('not_measured');
    expect(gate.value).toBeCloseTo(Math.abs(currentRows / previousRows - 1), 12);
    expect(gate.message).toContain(`against ${previousRows} in ${PREVIOUS} (run ${computed.runId})`);

    // Another cached rerun of M-1 changes its latest run id, not what M compares with: M is all cache hits.
    await runMonth(PREVIOUS);
    const again = await runMonth(CURRENT);
    for (const stage of STAGE_NAMES) {
      expect(again.stages[stage].status, stage).toBe('cached');
      expect(again.stages[stage].computedByRunId, stage).toBe(current.runId);
    }
  });
});
