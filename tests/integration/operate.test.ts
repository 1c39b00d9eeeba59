/**
 * What the three users of custflow do, against the real Temporal dev server: a platform team's monthly
 * schedule, an engineer's replay (from a middle stage, and of a failed run after fixing its input), a
 * stakeholder's backfill (bounded concurrency, idempotent, refusing impossible months), and a backfill
 * that survives its worker being killed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../lib/config';
import { STAGE_NAMES, downstreamOf } from '../../lib/stageRegistry';
import { monthlyWorkflowId } from '../../lib/ids';
import { addMonths, monthOf } from '../../lib/month';
import { startBackfill, waitForBackfill } from '../../scripts/commands/backfill';
import { loadData } from '../../scripts/commands/data';
import { startReplay } from '../../scripts/commands/replay';
import { listRuns, readRunSummary, startRun, waitForRun } from '../../scripts/commands/run';
import {
  createSchedule,
  describeSchedule,
  listSchedules,
  scheduleAction,
} from '../../scripts/commands/schedule';
import { generateDataset } from '../../scripts/generate';
import { openHarness, type Harness } from './harness';
import { recordHistory } from './histories';
import { outputDifferences } from './outputDifferences';

const CLI = new URL('../../bin/custflow.mjs', import.meta.url).pathname;

describe('operating custflow on Temporal', () => {
  let harness: Harness;
  let dataDir: string;
  // Twelve months of data ending with the current month, so "the previous month" of a schedule has data.
  const currentMonth = monthOf(Date.now());
  const firstMonth = addMonths(currentMonth, -11);
  const previousMonth = addMonths(currentMonth, -1);

  beforeAll(async () => {
    harness = await openHarness();
    await harness.startWorker();
    dataDir = await mkdtemp(join(tmpdir(), 'custflow-ops-'));
    await generateDataset({ outDir: dataDir, customers: 800, months: 12, seed: 11, startMonth: firstMonth });
    for (const table of ['transactions', 'events', 'assignments'] as const) {
      await loadData(
        { dataset: 'ops', format: 'canonical', table, from: join(dataDir, table) },
        harness.store,
      );
    }
  });

  afterAll(async () => {
    await harness?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const waitForWorkflow = async (workflowId: string, timeoutMs = 240_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const description = await harness.client.workflow.getHandle(workflowId).describe();
        if (description.status.name === 'COMPLETED') return;
        if (description.status.name !== 'RUNNING')
          throw new Error(`${workflowId} ended ${description.status.name}`);
      } catch (error) {
        if (!(error instanceof Error) || !/not found/i.test(error.message)) throw error;
      }
      if (Date.now() > deadline) throw new Error(`${workflowId} did not complete in time`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };

  it('creates a monthly schedule; a trigger runs the previous month', async () => {
    const created = await createSchedule(harness.client, {
      dataset: 'ops',
      cron: '0 6 1 * *',
      timezone: 'Europe/London',
    });
    expect(created).toMatchObject({
      scheduleId: 'custflow-monthly-ops',
      dataset: 'ops',
      paused: false,
      spec: { cron: ['0 6 1 * *'], timezone: 'Europe/London' },
    });
    expect(Date.parse(created.nextRunAt ?? '')).toBeGreaterThan(Date.now());
    expect(created.applied).toBe('created');
    // Repeatable, as deploy pipelines run it: the same spec is a no-op, a changed one updates in place.
    const again = await createSchedule(harness.client, {
      dataset: 'ops',
      cron: '0 6 1 * *',
      timezone: 'Europe/London',
    });
    expect(again).toMatchObject({ applied: 'unchanged', spec: created.spec, nextRunAt: created.nextRunAt });
    await scheduleAction(harness.client, 'pause', 'ops');
    const changed = await createSchedule(harness.client, {
      dataset: 'ops',
      cron: '30 7 2 * *',
      timezone: 'UTC',
    });
    expect(changed).toMatchObject({
      applied: 'updated',
      paused: true,
      spec: { cron: ['30 7 2 * *'], timezone: 'UTC' },
    });
    expect(changed.nextRunAt).toMatch(/-02T07:30:00\.000Z$/);
    await scheduleAction(harness.client, 'unpause', 'ops');
    expect(
      await createSchedule(harness.client, { dataset: 'ops', cron: '0 6 1 * *', timezone: 'Europe/London' }),
    ).toMatchObject({ applied: 'updated', spec: created.spec, paused: false });
    expect((await listSchedules(harness.client)).map((s) => s.scheduleId)).toContain('custflow-monthly-ops');

    expect(await scheduleAction(harness.client, 'pause', 'ops')).toMatchObject({ paused: true });
    expect(await scheduleAction(harness.client, 'unpause', 'ops')).toMatchObject({ paused: false });
    await scheduleAction(harness.client, 'trigger', 'ops');
    await waitForWorkflow(monthlyWorkflowId('ops', previousMonth));
    const runs = await listRuns('ops', harness.store);
    expect(runs.find((r) => r.month === previousMonth)?.status).toBe('COMPLETED');
    const described = await describeSchedule(harness.client, 'ops');
    expect(described.recentRuns?.length).toBe(1);
    await recordHistory(harness.client, 'scheduled-run', described.recentRuns![0].workflowId);
    await scheduleAction(harness.client, 'delete', 'ops');
    await expect(describeSchedule(harness.client, 'ops')).rejects.toThrow(/no schedule for dataset ops/);
  });

  it('replays from a middle stage, reusing upstream outputs and recording the attempt', async () => {
    const original = (await listRuns('ops', harness.store)).find(
      (r) => r.month === previousMonth && r.status === 'COMPLETED',
    );
    expect(original).toBeDefined();
    const started = await startReplay(
      harness.client,
      { runId: original!.runId, fromStage: 'features', force: true },
      harness.store,
    );
    const replayed = await waitForRun(harness.client, started, { quiet: true });
    expect(replayed.status).toBe('COMPLETED');
    await recordHistory(harness.client, 'replay-from-stage', started.workflowId, started.temporalRunId);
    expect(replayed.replayOf).toBe(original!.runId);
    expect(replayed.attempts?.map((a) => a.runId)).toEqual([original!.runId]);
    const rerun = downstreamOf('features');
    for (const stage of STAGE_NAMES) {
      expect(replayed.stages[stage].status, stage).toBe(rerun.includes(stage) ? 'completed' : 'cached');
    }
    expect(replayed.stages.clean.outputs).toEqual(original!.stages.clean.outputs);
  });

  it('replays a failed run after its input is fixed, keeping the history of attempts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custflow-fix-'));
    const good = await readFile(join(dataDir, 'transactions', `${firstMonth}.csv`), 'utf8');
    const lines = good.split('\n');
    lines[5] = lines[5].replace(/,(\d+),([\d.]+),([\d.-]+),/, ',lots,$2,$3,'); // quantity "lots"
    await writeFile(join(dir, `${firstMonth}.csv`), lines.join('\n'));
    await loadData(
      { dataset: 'fixme', format: 'canonical', table: 'transactions', from: dir },
      harness.store,
    );
    const failed = await waitForRun(
      harness.client,
      await startRun(harness.client, { dataset: 'fixme', month: firstMonth, config: parseRunConfig({}) }),
      { quiet: true },
    );
    expect(failed.status).toBe('FAILED');
    expect(failed.stages.ingest.error?.message).toContain(
      `raw/fixme/canonical/transactions/${firstMonth}.csv, line 6, column quantity`,
    );

    await writeFile(join(dir, `${firstMonth}.csv`), good);
    await loadData(
      { dataset: 'fixme', format: 'canonical', table: 'transactions', from: dir },
      harness.store,
    );
    const fixed = await waitForRun(
      harness.client,
      await startReplay(harness.client, { runId: failed.runId }, harness.store),
      { quiet: true },
    );
    expect(fixed.status).toBe('COMPLETED');
    expect(fixed.attempts).toEqual([
      expect.objectContaining({ runId: failed.runId, status: 'FAILED', failedStage: 'ingest' }),
    ]);
    expect((await readRunSummary(fixed.runId, harness.store)).attempts?.[0].runId).toBe(failed.runId);
    await rm(dir, { recursive: true, force: true });
  });

  let firstBackfill: Awaited<ReturnType<typeof waitForBackfill>>;
  const from = addMonths(firstMonth, 3);
  const to = addMonths(firstMonth, 5);

  it('backfills three months with concurrency 2, then does no work the second time', async () => {
    const started = await startBackfill(harness.client, { dataset: 'ops', from, to, concurrency: 2 });
    firstBackfill = await waitForBackfill(harness.client, started.workflowId, { quiet: true });
    await recordHistory(harness.client, 'backfill-three-months', started.workflowId, started.runId);
    expect(firstBackfill.runs.map((r) => [r.month, r.status, r.skipped])).toEqual([
      [from, 'COMPLETED', false],
      [addMonths(from, 1), 'COMPLETED', false],
      [to, 'COMPLETED', false],
    ]);
    const again = await waitForBackfill(
      harness.client,
      (await startBackfill(harness.client, { dataset: 'ops', from, to, concurrency: 2 })).workflowId,
      { quiet: true },
    );
    expect(again.runs.every((r) => r.skipped && r.status === 'SKIPPED')).toBe(true);
    expect(again.runs.map((r) => r.runId)).toEqual(firstBackfill.runs.map((r) => r.runId));
  });

  it('refuses months in the future and months before the data starts', async () => {
    await expect(
      startBackfill(harness.client, {
        dataset: 'ops',
        from: currentMonth,
        to: addMonths(currentMonth, 1),
        concurrency: 1,
      }),
    ).rejects.toThrow(/has not ended yet/);
    const started = await startBackfill(harness.client, {
      dataset: 'ops',
      from: addMonths(firstMonth, -2),
      to: firstMonth,
      concurrency: 1,
    });
    await expect(waitForBackfill(harness.client, started.workflowId, { quiet: true })).rejects.toThrow(
      `the data of ops starts in ${firstMonth}`,
    );
  });

  it('survives its worker being killed midway and produces the same outputs', async () => {
    // Stop the in-process worker; run a worker as a separate process that can be killed outright.
    await harness.close();
    harness = await openHarness();
    const child = spawn(process.execPath, [CLI, 'worker'], {
      env: process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let childStderr = '';
    child.stderr.on('data', (chunk: Buffer) => (childStderr = (childStderr + chunk.toString()).slice(-4000)));
    // A short heartbeat timeout: the killed worker's stage is retried after 15 s instead of a minute (retry
    // settings change no output, so the outputs still match the first backfill's).
    const configPath = join(dataDir, 'fast-recovery.json');
    await writeFile(configPath, JSON.stringify({ retry: { heartbeatTimeoutSeconds: 15 } }));
    const started = await startBackfill(harness.client, {
      dataset: 'ops',
      from,
      to,
      concurrency: 2,
      force: ['all'],
      configPath,
    });
    // Kill it once the first month's new run has a stage activity in flight.
    const earlier = await harness.client.workflow.getHandle(monthlyWorkflowId('ops', from)).describe();
    let midway = false;
    for (let i = 0; i < 1200 && !midway; i++) {
      const description = await harness.client.workflow
        .getHandle(monthlyWorkflowId('ops', from))
        .describe()
        .catch(() => undefined);
      midway =
        description !== undefined &&
        description.runId !== earlier.runId &&
        description.status.name === 'RUNNING' &&
        (description.raw.pendingActivities?.length ?? 0) > 0;
      if (!midway) await new Promise((r) => setTimeout(r, 100));
    }
    expect(midway, `worker output:\n${childStderr}`).toBe(true);
    child.kill('SIGKILL');
    await harness.startWorker(); // the replacement
    const result = await waitForBackfill(harness.client, started.workflowId, { quiet: true });
    expect(result.runs.map((r) => r.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    for (const [i, run] of result.runs.entries()) {
      const before = await readRunSummary(firstBackfill.runs[i].runId!, harness.store);
      const after = await readRunSummary(run.runId!, harness.store);
      for (const stage of STAGE_NAMES) {
        // Segment migration compares with last month's latest run, which a backfill may have just produced.
        const ignore = stage === 'segment' ? ['migration'] : [];
        expect(
          await outputDifferences(harness.store, before, after, stage, ignore),
          `${run.month} ${stage}`,
        ).toEqual([]);
      }
    }
  });
});
