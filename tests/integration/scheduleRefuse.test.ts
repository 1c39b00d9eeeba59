/**
 * Schedules refuse what `run` refuses (issue 15, item 1), on the real Temporal and S3 servers:
 * `custflow schedule create` for a dataset with no data creates nothing and says so in run's words; a
 * scheduled run whose month is before the data, or has not ended, fails before any stage runs, in
 * backfill's words. Scheduled times are set with Temporal's own schedule backfill, which stamps each
 * start with its TemporalScheduledStartTime as a real firing would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthlyWorkflowId } from '../../lib/ids';
import { monthOf } from '../../lib/month';
import { loadData } from '../../scripts/commands/data';
import { createSchedule, scheduleIdFor } from '../../scripts/commands/schedule';
import { generateDataset } from '../../scripts/generate';
import { custflow } from './cliProcess';
import { openHarness, type Harness } from './harness';

const DATASET = 'sched-refuse';

describe('schedules refuse what run refuses', () => {
  let harness: Harness;
  let dir: string;

  beforeAll(async () => {
    harness = await openHarness();
    await harness.startWorker();
    dir = await mkdtemp(join(tmpdir(), 'custflow-sched-'));
    await generateDataset({ outDir: dir, customers: 200, months: 3, seed: 3, startMonth: '2023-01' });
    await loadData(
      { dataset: DATASET, format: 'canonical', table: 'transactions', from: join(dir, 'transactions') },
      harness.store,
    );
  });

  afterAll(async () => {
    await harness?.client.schedule
      .getHandle(scheduleIdFor(DATASET))
      .delete()
      .catch(() => undefined);
    await harness?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('schedule create refuses a dataset with no data, and creates nothing', async () => {
    const result = await custflow(['schedule', 'create', '--dataset', 'no-such-data']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'dataset no-such-data has no transactions loaded (load some with `custflow data load --dataset no-such-data ...`)',
    );
    expect(result.stderr).toMatch(new RegExp(`datasets here: .*${DATASET}`));
    await expect(
      harness.client.schedule.getHandle(scheduleIdFor('no-such-data')).describe(),
    ).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('a scheduled run of a month before the data or not yet ended fails before any stage', async () => {
    await createSchedule(
      harness.client,
      { dataset: DATASET, cron: '0 6 1 * *', timezone: 'UTC' },
      harness.store,
    );
    const handle = harness.client.schedule.getHandle(scheduleIdFor(DATASET));
    // The cron's next real firing is months away: only the backfilled times below start runs.
    const minute = 60_000;
    const firing = (iso: string) => ({
      start: new Date(Date.parse(iso) - minute),
      end: new Date(Date.parse(iso) + minute),
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
    });
    // Fired on 2023-01-01: runs 2022-12, before the data. Fired on 2027-03-01: runs 2027-02, not ended.
    await handle.backfill([firing('2023-01-01T06:00:00Z'), firing('2027-03-01T06:00:00Z')]);

    let actions: { workflowId: string; firstExecutionRunId: string }[] = [];
    for (let i = 0; i < 60 && actions.length < 2; i++) {
      const described = await handle.describe();
      actions = described.info.recentActions.map((a) => a.action.workflow);
      if (actions.length < 2) await new Promise((r) => setTimeout(r, 500));
    }
    expect(actions).toHaveLength(2);
    const messages = await Promise.all(
      actions.map(async ({ workflowId, firstExecutionRunId }) => {
        const error = await harness.client.workflow
          .getHandle(workflowId, firstExecutionRunId)
          .result()
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(WorkflowFailedError);
        return (error as WorkflowFailedError).cause?.message ?? '';
      }),
    );
    const now = monthOf(Date.now());
    expect(messages.sort()).toEqual([
      'cannot run 2022-12: the data of sched-refuse starts in 2023-01',
      `cannot run 2027-02: the month has not ended yet (it is ${now} now)`,
    ]);
    // Refused before the child: no monthly run of either month was started.
    for (const month of ['2022-12', '2027-02']) {
      await expect(
        harness.client.workflow.getHandle(monthlyWorkflowId(DATASET, month)).describe(),
      ).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }
  });
});
