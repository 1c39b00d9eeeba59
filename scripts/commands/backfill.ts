/** `custflow backfill`: many months, at most N at once, as one Temporal workflow with child runs. */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { resolveDatasetRunConfig } from '../../lib/datasets';
import { STAGE_NAMES, isStageName, type StageName } from '../../lib/stageRegistry';
import { temporalSettings } from '../../lib/env';
import { assertDatasetName } from '../../lib/layout';
import { monthOf, monthRange, parseMonth } from '../../lib/month';
import { ObjectStore } from '../../lib/objectStore';
import { workflowUiLink } from '../../lib/temporal';
import type { backfill, BackfillResult } from '../../workflows/backfill';
import { backfillProgressQuery } from '../../workflows/queries';
import { unendedMonthsRefusal } from '../../lib/runnableMonths';
import { info } from './output';
import { MonthRefusedError } from './runnableMonths';

export interface BackfillOptions {
  dataset: string;
  from: string;
  to: string;
  concurrency: number;
  configPath?: string;
  /** Re-run months that already completed; with stage names, force those stages too. */
  force?: string[] | boolean;
}

export async function startBackfill(
  client: Client,
  options: BackfillOptions,
  store?: ObjectStore,
): Promise<{ workflowId: string; runId: string; uiLink?: string }> {
  assertDatasetName(options.dataset);
  parseMonth(options.from);
  parseMonth(options.to);
  if (options.from > options.to) throw new Error(`--from ${options.from} is after --to ${options.to}`);
  const unended = unendedMonthsRefusal('backfill', monthRange(options.from, options.to), monthOf(Date.now()));
  if (unended) throw new MonthRefusedError(unended);
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
    throw new Error('--concurrency must be a whole number >= 1');
  // format defaults < dataset config < --config, resolved once: every month of the backfill runs with it
  const { config } = await resolveDatasetRunConfig(
    store ?? ObjectStore.fromEnv(),
    options.dataset,
    options.configPath,
  );
  const forceStages = Array.isArray(options.force)
    ? options.force.flatMap((s) => (s === 'all' ? STAGE_NAMES : [s]))
    : [];
  const unknown = forceStages.filter((s) => !isStageName(s));
  if (unknown.length) throw new Error(`--force: unknown stage(s) ${unknown.join(', ')}`);
  const workflowId = `custflow-backfill-${options.dataset}-${options.from}-${options.to}`;
  const settings = temporalSettings();
  const handle = await client.workflow.start<typeof backfill>('backfill', {
    taskQueue: settings.taskQueue,
    workflowId,
    args: [
      {
        dataset: options.dataset,
        from: options.from,
        to: options.to,
        concurrency: options.concurrency,
        config,
        rerunCompleted: options.force !== undefined && options.force !== false,
        force: forceStages as StageName[],
      },
    ],
    workflowIdConflictPolicy: 'FAIL',
  });
  return {
    workflowId,
    runId: handle.firstExecutionRunId,
    uiLink: workflowUiLink(settings, workflowId, handle.firstExecutionRunId),
  };
}

export async function waitForBackfill(
  client: Client,
  workflowId: string,
  options: { quiet?: boolean } = {},
): Promise<BackfillResult> {
  const handle = client.workflow.getHandle<typeof backfill>(workflowId);
  const seen = new Map<string, string>();
  let done = false;
  const poll = async (): Promise<void> => {
    while (!done) {
      try {
        const progress = await handle.query(backfillProgressQuery);
        for (const run of progress.runs) {
          const key = `${run.status}:${run.runId ?? ''}`;
          if (seen.get(run.month) !== key) {
            seen.set(run.month, key);
            if (!options.quiet)
              info(
                `${run.month}  ${run.status}${run.runId ? `  ${run.runId}` : ''}${run.skipped ? '  (already completed)' : ''}`,
              );
          }
        }
      } catch {
        // not started yet, or finished
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const polling = poll();
  try {
    return await handle.result();
  } catch (error) {
    if (error instanceof WorkflowFailedError && error.cause) throw new Error(error.cause.message);
    throw error;
  } finally {
    done = true;
    await polling;
  }
}
