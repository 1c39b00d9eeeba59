/**
 * `custflow data load | list | delete`. load checks files as ingest would and delivers the good ones into
 * raw/<dataset>/<format>/<table>/ as they are (dataFiles.ts), and records in
 * datasets/<dataset>/dataset.json which format the table came in (and, with --config, the dataset config),
 * so later runs of the dataset get the format's conventions without flags.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import {
  FORMAT_TABLES,
  isInputFormat,
  INPUT_FORMATS,
  TABLES,
  type TableName,
} from '../../activities/ingest/formats';
import { rawFileLimits } from '../../activities/ingest';
import { parseRunConfig, readRunConfigFile } from '../../lib/config';
import { checkDatasetConfig, readDatasetRecord, recordLoad, type DatasetRecord } from '../../lib/datasets';
import { assertDatasetName, rawPrefix } from '../../lib/layout';
import { mapConcurrent, ObjectStore } from '../../lib/objectStore';
import {
  checkFiles,
  type RejectedFile,
  listDataFiles as listStoredFiles,
  updateFileCatalog,
  type DataFileInfo,
} from './dataFiles';
import type { StageManifest } from '../../lib/manifest';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';

export interface LoadOptions {
  dataset: string;
  format: string;
  table: string;
  from: string;
  /** A dataset config file to store with the dataset (validated before anything is uploaded). */
  config?: string;
  /**
   * Check every file as ingest would and store only the good ones (what `custflow data load` does). Off,
   * the files are stored unchecked, as if delivered by other means (tests of run-time failures do this);
   * `data list` measures them when it first sees them.
   */
  check?: boolean;
}

export interface LoadedFile {
  /** The local file. */
  file: string;
  key: string;
  bytes: number;
  /** Parsed rows; null when the load did not check the file. */
  rows: number | null;
  firstDate: string | null;
  lastDate: string | null;
}

export interface LoadResult {
  dataset: string;
  format: string;
  table: TableName;
  /** Files stored. */
  files: number;
  bytes: number;
  prefix: string;
  /** The dataset record after the load: its sources and dataset config (null: nothing was ever stored). */
  datasetRecord: DatasetRecord | null;
  loaded: LoadedFile[];
  /** Files that failed the check, with the message a run would have failed with; none of them is stored. */
  rejected: { file: string; key: string; error: string }[];
}

const LOADABLE = /\.(csv|csv\.gz|txt|txt\.gz|parquet)$/i;

/**
 * Check every file as ingest would (header, encoding, gzip integrity, empty files, values) and store the
 * good ones; a bad file is rejected with ingest's file/line/column message and nothing of it is stored.
 */
export async function loadData(
  options: LoadOptions,
  store = ObjectStore.fromEnv(),
  log: (message: string) => void = () => {},
): Promise<LoadResult> {
  assertDatasetName(options.dataset);
  if (!isInputFormat(options.format))
    throw new Error(`--format must be one of ${INPUT_FORMATS.join(', ')} (got "${options.format}")`);
  if (!(TABLES as readonly string[]).includes(options.table))
    throw new Error(`--table must be one of ${TABLES.join(', ')} (got "${options.table}")`);
  const table = options.table as TableName;
  const format = options.format;
  if (!FORMAT_TABLES[format].includes(table)) {
    throw new Error(`format ${format} holds ${FORMAT_TABLES[format].join(', ')}, not ${table}`);
  }
  // fail on a bad config before reading gigabytes; its ingest limits are the ones the check applies
  const configLayer =
    options.config !== undefined
      ? checkDatasetConfig(options.dataset, await readRunConfigFile(options.config), options.config)
      : ((await readDatasetRecord(store, options.dataset))?.config ?? {});
  const limits = rawFileLimits(parseRunConfig(configLayer).ingest);
  const files = await listFiles(options.from);
  if (files.length === 0) throw new Error(`${options.from}: no .csv, .csv.gz, .txt or .parquet files found`);
  const prefix = `${rawPrefix(options.dataset)}${format}/${table}/`;
  if (options.check) log(`checking ${files.length} file(s) as ${format} ${table} ...`);
  const toCheck = files.map((f) => ({ path: f.path, key: prefix + f.relative }));
  /** Stored files, with rows and dates when they were checked (null: stored unchecked). */
  type ToStore = {
    path: string;
    key: string;
    rows: number | null;
    firstTs: string | null;
    lastTs: string | null;
  };
  const { accepted, rejected }: { accepted: ToStore[]; rejected: RejectedFile[] } = options.check
    ? await checkFiles(
        toCheck,
        format,
        table,
        limits,
        log,
        parseRunConfig(configLayer).attributes?.customers,
        // declared extension columns: the file is checked against the dataset config, as ingest will
        table === 'transactions' || table === 'events'
          ? parseRunConfig(configLayer).attributes?.[table]?.fields
          : undefined,
      )
    : { accepted: toCheck.map((f) => ({ ...f, rows: null, firstTs: null, lastTs: null })), rejected: [] };
  let datasetRecord: DatasetRecord | null = null;
  const loaded: LoadedFile[] = [];
  if (accepted.length > 0) {
    await store.ensureBucket();
    const puts = await mapConcurrent(accepted, 16, (file) =>
      store.putFile(file.key, file.path, 'application/octet-stream'),
    );
    const loadedAt = new Date().toISOString();
    await updateFileCatalog(store, options.dataset, (catalog) => {
      for (const [i, file] of accepted.entries()) {
        if (file.rows === null) {
          delete catalog[file.key]; // unchecked: measured when `data list` first sees it
          continue;
        }
        catalog[file.key] = {
          table,
          format,
          size: puts[i].size,
          etag: puts[i].etag,
          loadedAt,
          rows: file.rows,
          firstTs: file.firstTs,
          lastTs: file.lastTs,
        };
      }
    });
    datasetRecord = await recordLoad(store, {
      dataset: options.dataset,
      table,
      format,
      configPath: options.config,
    });
    for (const [i, file] of accepted.entries())
      loaded.push({
        file: file.path,
        key: file.key,
        bytes: puts[i].size,
        rows: file.rows,
        firstDate: file.firstTs?.slice(0, 10) ?? null,
        lastDate: file.lastTs?.slice(0, 10) ?? null,
      });
  } else {
    datasetRecord = (await readDatasetRecord(store, options.dataset)) ?? null;
  }
  return {
    dataset: options.dataset,
    format,
    table,
    files: loaded.length,
    bytes: loaded.reduce((a, f) => a + f.bytes, 0),
    prefix: store.uri(prefix),
    datasetRecord,
    loaded,
    rejected: rejected.map((r) => ({ file: r.path, key: r.key, error: r.error })),
  };
}

/** The terminal lines of `data load`. */
export function describeLoad(result: LoadResult): string {
  const rows = result.loaded.reduce((a, f) => a + (f.rows ?? 0), 0);
  const firsts = result.loaded
    .map((f) => f.firstDate)
    .filter((d): d is string => d !== null)
    .sort();
  const lasts = result.loaded
    .map((f) => f.lastDate)
    .filter((d): d is string => d !== null)
    .sort();
  const span = firsts.length > 0 ? `, ${firsts[0]} to ${lasts[lasts.length - 1]}` : '';
  const lines = [
    `loaded ${result.files} file(s), ${result.bytes} bytes, ${rows} rows${span} -> ${result.prefix}`,
  ];
  if (result.rejected.length > 0) {
    lines.push(`REJECTED ${result.rejected.length} file(s), nothing of them stored:`);
    for (const r of result.rejected) lines.push(`  ${r.file}: ${r.error}`);
  }
  return lines.join('\n');
}

async function listFiles(from: string): Promise<{ path: string; relative: string }[]> {
  const info = await stat(from).catch(() => undefined);
  if (!info) throw new Error(`${from}: no such file or directory`);
  if (info.isFile()) return [{ path: from, relative: basename(from) }];
  const out: { path: string; relative: string }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (LOADABLE.test(entry.name)) out.push({ path, relative: relative(from, path) });
    }
  };
  await walk(from);
  return out;
}

/**
 * `data list --dataset D`: the dataset's stored files, sizes, load times, first and last dates, and for a
 * file that completed runs left out (`ingest.onBadFile: skip`), which runs and why.
 */
export async function listDataFiles(dataset: string, store = ObjectStore.fromEnv()): Promise<DataFileInfo[]> {
  const files = await listStoredFiles(store, dataset);
  const skipped = await filesSkippedByRuns(store, dataset);
  return files.map((f) => {
    const by = skipped.get(f.key);
    return by ? { ...f, skippedBy: by } : f;
  });
}

/** Raw file key -> the completed runs whose ingest skipped it (oldest month first), from their summaries. */
async function filesSkippedByRuns(
  store: ObjectStore,
  dataset: string,
): Promise<Map<string, NonNullable<DataFileInfo['skippedBy']>>> {
  const { listRuns } = await import('./runs');
  const out = new Map<string, NonNullable<DataFileInfo['skippedBy']>>();
  for (const run of await listRuns(dataset, store)) {
    if (run.status !== 'COMPLETED') continue;
    const skippedFiles = run.stages.ingest?.metrics.skippedFiles;
    if (!Array.isArray(skippedFiles)) continue;
    for (const skipped of skippedFiles as { file: string; reason: string }[]) {
      const list = out.get(skipped.file) ?? [];
      list.push({ runId: run.runId, month: run.month, reason: skipped.reason });
      out.set(skipped.file, list);
    }
  }
  for (const list of out.values()) {
    list.sort((a, b) =>
      a.month === b.month ? a.runId.localeCompare(b.runId) : a.month.localeCompare(b.month),
    );
  }
  return out;
}

/** `data list`'s note on a file runs skipped: the months, and the rule of the latest. */
export function skippedNote(file: DataFileInfo): string {
  if (!file.skippedBy || file.skippedBy.length === 0) return '';
  const months = [...new Set(file.skippedBy.map((s) => s.month))];
  return `SKIPPED by runs of ${months.join(', ')}: ${file.skippedBy[file.skippedBy.length - 1].reason}`;
}

export interface DeleteResult {
  dataset: string;
  key: string;
  deleted: boolean;
  /** Completed runs whose ingest read the file: replay them to get results without it. */
  runs: { runId: string; month: string; finishedAt: string | null }[];
}

/**
 * `data delete --dataset D --file KEY`: remove one stored file (KEY as `data list` shows it, or the whole
 * object key) and name the completed runs that read it.
 */
export async function deleteDataFile(
  options: { dataset: string; file: string; dryRun?: boolean },
  store = ObjectStore.fromEnv(),
): Promise<DeleteResult> {
  assertDatasetName(options.dataset);
  const prefix = rawPrefix(options.dataset);
  const key = options.file.startsWith(prefix) ? options.file : prefix + options.file.replace(/^\/+/, '');
  if (!(await store.head(key))) {
    const names = (await store.list(prefix)).map((o) => o.key.slice(prefix.length));
    const near = names.filter((n) => n.endsWith(`/${options.file}`) || n.endsWith(options.file));
    throw new Error(
      `dataset ${options.dataset} has no file ${options.file}${near.length > 0 ? `; did you mean ${near.slice(0, 5).join(', ')}?` : ''} (\`custflow data list --dataset ${options.dataset}\` lists them)`,
    );
  }
  const runs = await runsThatRead(store, options.dataset, key);
  if (!options.dryRun) {
    await store.client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key }));
    await updateFileCatalog(store, options.dataset, (files) => {
      delete files[key];
    });
  }
  return { dataset: options.dataset, key, deleted: !options.dryRun, runs };
}

/** Completed runs of the dataset whose ingest manifest lists `key` among its inputs. */
async function runsThatRead(store: ObjectStore, dataset: string, key: string): Promise<DeleteResult['runs']> {
  const { listRuns } = await import('./runs');
  const completed = (await listRuns(dataset, store)).filter((r) => r.status === 'COMPLETED');
  const manifests = new Map<string, Promise<StageManifest | undefined>>();
  const readers = await mapConcurrent(completed, 8, async (run) => {
    const uri = run.stages.ingest?.manifestUri;
    if (!uri) return undefined;
    // a cached ingest points at the manifest of the run that computed it: read each manifest once
    let manifest = manifests.get(uri);
    if (!manifest) {
      manifest = store.tryGetJson<StageManifest>(store.keyFromUri(uri));
      manifests.set(uri, manifest);
    }
    const inputs = (await manifest)?.inputs ?? {};
    return Object.hasOwn(inputs, key)
      ? { runId: run.runId, month: run.month, finishedAt: run.finishedAt ?? null }
      : undefined;
  });
  return readers
    .filter((r): r is DeleteResult['runs'][number] => r !== undefined)
    .sort((a, b) => (a.month === b.month ? a.runId.localeCompare(b.runId) : a.month.localeCompare(b.month)));
}
