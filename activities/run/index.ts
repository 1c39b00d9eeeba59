/**
 * Run bookkeeping: the run summary (run.json) at start and at the end, the config the run used, the
 * runId index that lets `custflow runs show RUN_ID` find a run, and the latest completed run per month
 * (what backfill skips). Also the dataset facts backfill checks months against.
 */
import { parseRunConfig, stableHash, type RunConfig } from '../../lib/config';
import { withDuck } from '../../lib/duck';
import { latestCompletedKey, rawPrefix, runConfigKey, runIndexKey, runSummaryKey } from '../../lib/layout';
import { monthOf } from '../../lib/month';
import { ObjectStore, mapConcurrent } from '../../lib/objectStore';
import { notifyRunEnd, webhookSettings } from '../../lib/notify';
import type { RunIndexEntry, RunSummary } from '../../lib/runTypes';
import { log } from '@temporalio/activity';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  derivePurchaseEventsChecked,
  filePeriod,
  parseCheckedTransactionFiles,
  rawFileLimits,
} from '../ingest/contract';

/** The run's outcome to the configured webhook, if any; a webhook that stays down is logged, not fatal. */
async function notifyOutcome(summary: RunSummary): Promise<void> {
  const settings = await webhookSettings();
  if (!settings) return;
  const result = await notifyRunEnd(summary, settings);
  if (result && !result.delivered) {
    const fields = {
      runId: summary.runId,
      event: result.event,
      error: result.error,
      attempts: result.attempts,
    };
    try {
      log.warn('run notification not delivered', fields);
    } catch {
      console.warn('run notification not delivered', fields); // outside a worker (tools, tests)
    }
  }
}

/** Writes the index entry, the config and the RUNNING summary; returns the summary with its config hash and URI. */
export async function recordRunStart(initial: RunSummary, config: RunConfig): Promise<RunSummary> {
  const store = ObjectStore.fromEnv();
  const summaryKey = runSummaryKey(initial.dataset, initial.month, initial.runId);
  const summary: RunSummary = {
    ...initial,
    summaryUri: store.uri(summaryKey),
    configHash: stableHash(config).slice(0, 16),
  };
  const entry: RunIndexEntry = {
    runId: summary.runId,
    dataset: summary.dataset,
    month: summary.month,
    workflowId: summary.workflowId,
    summaryKey,
  };
  await store.putJson(runConfigKey(summary.dataset, summary.month, summary.runId), config);
  await store.putJson(runIndexKey(summary.runId), entry);
  await store.putJson(summaryKey, summary);
  return summary;
}

/** Stamps the finish time (real clock: this is an activity) and writes the final run.json. */
export async function recordRunEnd(summary: RunSummary): Promise<RunSummary> {
  const store = ObjectStore.fromEnv();
  const finishedAt = new Date();
  const final: RunSummary = {
    ...summary,
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - Date.parse(summary.startedAt),
  };
  await store.putJson(runSummaryKey(summary.dataset, summary.month, summary.runId), final);
  if (final.status === 'COMPLETED') {
    await store.putJson(latestCompletedKey(summary.dataset, summary.month), {
      runId: final.runId,
      finishedAt: final.finishedAt,
    });
  }
  await notifyOutcome(final); // last: the summary it points to is written
  return final;
}

/** For each month, the latest completed run, if any. */
export async function completedRuns(
  dataset: string,
  months: string[],
): Promise<Record<string, string | null>> {
  const store = ObjectStore.fromEnv();
  const found = await mapConcurrent(months, 8, async (month) => {
    const latest = await store.tryGetJson<{ runId: string }>(latestCompletedKey(dataset, month));
    return [month, latest?.runId ?? null] as const;
  });
  return Object.fromEntries(found);
}

export interface DatasetExtent {
  /** First month with transactions, or null when the dataset has none. */
  firstMonth: string | null;
  lastMonth: string | null;
  files: number;
}

/**
 * The months a dataset's transactions cover: from dated file names, and for undated files (a single
 * history file) from the timestamps inside them.
 */
export async function datasetExtent(dataset: string): Promise<DatasetExtent> {
  const store = ObjectStore.fromEnv();
  const listed = await store.list(rawPrefix(dataset));
  const transactionFiles = listed.filter((o) => o.key.split('/')[3] === 'transactions');
  // An events-only dataset (no transaction files): its transactions are its RetailRocket purchase events.
  const eventsOnly = transactionFiles.length === 0;
  const objects = eventsOnly
    ? listed.filter((o) => o.key.split('/')[2] === 'retailrocket' && o.key.split('/')[3] === 'events')
    : transactionFiles;
  let first = Infinity;
  let last = -Infinity;
  const undated = [];
  for (const object of objects) {
    const period = filePeriod(object.key);
    if (period) {
      first = Math.min(first, period.startMs);
      last = Math.max(last, period.startMs);
    } else undated.push(object);
  }
  if (undated.length > 0) {
    const dir = await mkdtemp(join(tmpdir(), 'custflow-extent-'));
    try {
      const files = await mapConcurrent(undated, 8, async (object, index) => {
        const path = join(dir, object.key);
        await store.getToFile(object.key, path);
        const format = object.key.split('/')[2] as 'canonical' | 'online-retail' | 'cdnow' | 'retailrocket';
        return { file: { key: object.key, format }, local: { key: object.key, path, index } };
      });
      const out = join(dir, 'extent.parquet');
      const range = await withDuck(async (duck) => {
        // Read to their ends under ingest's limits first: a gzip bomb stored without `data load` is refused
        // by name here (before `run` starts), not inflated whole into DuckDB.
        const limits = rawFileLimits(parseRunConfig({}).ingest);
        if (eventsOnly) await derivePurchaseEventsChecked(duck, files, out, limits);
        else await parseCheckedTransactionFiles(duck, files, out, limits);
        return duck.one<{ lo: Date | null; hi: Date | null }>(
          'SELECT min(ts) AS lo, max(ts) AS hi FROM read_parquet($path)',
          { path: out },
        );
      });
      if (range.lo) first = Math.min(first, range.lo.getTime());
      if (range.hi) last = Math.max(last, range.hi.getTime());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return {
    firstMonth: Number.isFinite(first) ? monthOf(first) : null,
    lastMonth: Number.isFinite(last) ? monthOf(last) : null,
    files: objects.length,
  };
}
