/**
 * Reading run summaries from the bucket: one run by id (through the runId index), or every run of a
 * dataset. Needs S3 only, nothing of Temporal. Shared by the CLI (`runs list | show`) and the console.
 *
 * The console lists runs on every page load and scrape; a `RunSummaryCache` makes that one LIST of the
 * index plus reads of only what can have changed: index entries are written once (their ETag is checked
 * anyway) and a summary is final once its status is not RUNNING (recordRunEnd writes it last and nothing
 * rewrites it), so only running runs and new runs are read again.
 */
import { runIndexKey } from './layout';
import { mapConcurrent, ObjectStore } from './objectStore';
import { collectRunWarnings, type RunIndexEntry, type RunSummary } from './runTypes';

export async function readRunSummary(runId: string, store = ObjectStore.fromEnv()): Promise<RunSummary> {
  const entry = await store.tryGetJson<RunIndexEntry>(runIndexKey(runId));
  if (!entry) throw new Error(`no run with id ${runId} (looked for ${store.uri(runIndexKey(runId))})`);
  return withWarnings(await store.getJson<RunSummary>(entry.summaryKey));
}

/** Summaries written before the run-level `warnings` list existed get it from their stages. */
function withWarnings(summary: RunSummary): RunSummary {
  if (Array.isArray(summary.warnings)) return summary;
  return { ...summary, warnings: collectRunWarnings(Object.keys(summary.stages), summary.stages) };
}

/** What one process remembers of the run index between listings (see the module comment). */
export class RunSummaryCache {
  private readonly entries = new Map<string, { etag: string; entry: RunIndexEntry }>();
  private readonly finished = new Map<string, RunSummary>();

  async entry(store: ObjectStore, key: string, etag: string): Promise<RunIndexEntry> {
    const known = this.entries.get(key);
    if (known && known.etag === etag && etag !== '') return known.entry;
    const entry = await store.getJson<RunIndexEntry>(key);
    this.entries.set(key, { etag, entry });
    return entry;
  }

  async summary(store: ObjectStore, summaryKey: string): Promise<RunSummary | undefined> {
    const known = this.finished.get(summaryKey);
    if (known) return known;
    const stored = await store.tryGetJson<RunSummary>(summaryKey);
    if (!stored) return undefined;
    const summary = withWarnings(stored);
    if (summary.status !== 'RUNNING') this.finished.set(summaryKey, summary);
    return summary;
  }

  /** Forget index entries whose objects are gone (deleted runs), so memory follows the bucket. */
  retainOnly(keys: ReadonlySet<string>): void {
    for (const [key, { entry }] of this.entries)
      if (!keys.has(key)) {
        this.entries.delete(key);
        this.finished.delete(entry.summaryKey);
      }
  }
}

/** Every run (of `dataset`, when given), newest first. With a cache, only what can have changed is read. */
export async function listRuns(
  dataset: string | undefined,
  store = ObjectStore.fromEnv(),
  cache?: RunSummaryCache,
): Promise<RunSummary[]> {
  const objects = await store.list('runs/_index/');
  const found = await mapConcurrent(objects, 16, async (object) => {
    const entry = cache
      ? await cache.entry(store, object.key, object.etag)
      : await store.getJson<RunIndexEntry>(object.key);
    if (dataset && entry.dataset !== dataset) return undefined;
    if (cache) return cache.summary(store, entry.summaryKey);
    const summary = await store.tryGetJson<RunSummary>(entry.summaryKey);
    return summary ? withWarnings(summary) : undefined;
  });
  cache?.retainOnly(new Set(objects.map((o) => o.key)));
  const summaries = found.filter((s): s is RunSummary => s !== undefined);
  return summaries.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
}

/**
 * Waits until the run's first activity has written its index entry and RUNNING summary (a moment after the
 * workflow starts), so a page that follows the run finds it. Returns false when it did not appear in time
 * (no worker polling, say): the caller still answers, and the run page says so until it appears.
 */
export async function waitForRunRecord(
  store: ObjectStore,
  runId: string,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await store.tryGetJson<RunIndexEntry>(runIndexKey(runId))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
