/**
 * A dataset's delivered files: checking them before they are stored (`data load`), the catalog of what was
 * stored (`data list`), and taking one away again (`data delete`).
 *
 * The check is ingest's own, run on the local files: the byte scan (gzip end marker and checksum, line
 * length, size limits, record counts; activities/ingest/rawFileCheck.ts) and the parse with its header and
 * value checks (activities/ingest/parse.ts, sideTables.ts), plus two that ingest leaves to DuckDB's wording:
 * an empty file, and text that is not UTF-8. A file that fails is rejected with the same file/line/column
 * message a run would fail with, and nothing of it is stored; the parse also yields each good file's rows
 * and first and last timestamps, which the catalog keeps.
 *
 * The catalog is datasets/<dataset>/files.json: one entry per raw object key, valid while the object's
 * etag matches (a file delivered another way is measured when `data list` first sees it).
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { InputFormat, TableName } from '../../activities/ingest/formats';
import type { CustomerAttributesConfig } from '../../activities/ingest/customers';
import type { AttributeField } from '../../lib/attributesConfig';
import { DataValidationError } from '../../lib/errors';
import { assertDatasetName, rawPrefix } from '../../lib/layout';
import { monthOf } from '../../lib/month';
import { mapConcurrent, type ObjectStore } from '../../lib/objectStore';
import type { RawFileLimits } from '../../activities/ingest/rawFileCheck';
import type { RawFileToParse } from '../../activities/ingest/parse';
import type { Duck } from '../../lib/duck';

export const fileCatalogKey = (dataset: string): string => `datasets/${dataset}/files.json`;

/** What the catalog knows of one stored raw file. */
export interface CatalogEntry {
  table: TableName;
  format: InputFormat;
  size: number;
  /** The object's etag when it was measured: a different etag means the entry is stale. */
  etag: string;
  loadedAt: string;
  /** Parsed rows (header excluded). */
  rows: number;
  /** First and last timestamp in the file (UTC ISO), null when it has no parsable one. */
  firstTs: string | null;
  lastTs: string | null;
}

export interface FileCatalog {
  dataset: string;
  files: Record<string, CatalogEntry>;
}

export async function readFileCatalog(store: ObjectStore, dataset: string): Promise<FileCatalog> {
  return (await store.tryGetJson<FileCatalog>(fileCatalogKey(dataset))) ?? { dataset, files: {} };
}

/** Read-modify-write of the catalog (loads of one dataset are not expected to race). */
export async function updateFileCatalog(
  store: ObjectStore,
  dataset: string,
  change: (files: Record<string, CatalogEntry>) => void,
): Promise<void> {
  const catalog = await readFileCatalog(store, dataset);
  change(catalog.files);
  await store.putJson(fileCatalogKey(dataset), catalog);
}

/** A local file to check, and the object key it would be stored under. */
export interface FileToCheck {
  path: string;
  key: string;
}

export interface CheckedFile extends FileToCheck {
  rows: number;
  firstTs: string | null;
  lastTs: string | null;
}

export interface RejectedFile extends FileToCheck {
  error: string;
}

/** What a file's rows are timestamped by, per table, in the parsed Parquet. */
const TIME_COLUMN: Record<TableName, string> = {
  transactions: 'ts',
  events: 'ts',
  assignments: 'assigned_at',
  item_properties: 'ts',
  category_tree: 'ts', // always NULL: a tree has no time
  customers: 'NULL::TIMESTAMP', // attributes are not dated
};

/**
 * Checks every file as ingest would; returns the good ones with their rows and time range, and the bad
 * ones with the message that names file, line and column. `log` hears about each rejection as it happens.
 */
export async function checkFiles(
  files: readonly FileToCheck[],
  format: InputFormat,
  table: TableName,
  limits: RawFileLimits,
  log: (message: string) => void = () => {},
  /** The customers table's column mapping (attributes.customers), needed to check a customers file. */
  customerAttributes?: CustomerAttributesConfig,
  /** Declared extension columns of the table (attributes.transactions/events.fields): accepted, typed. */
  extensionFields: readonly AttributeField[] = [],
): Promise<{ accepted: CheckedFile[]; rejected: RejectedFile[] }> {
  const scratch = await mkdtemp(join(tmpdir(), 'custflow-load-'));
  const rejected: RejectedFile[] = [];
  const reject = (file: FileToCheck, error: unknown): void => {
    const message = error instanceof Error ? error.message : String(error);
    rejected.push({ ...file, error: message });
    log(`rejected ${file.path}: ${message}`);
  };
  try {
    const { checkRawFile } = await import('../../activities/ingest/rawFileCheck');
    // 1. Bytes: empty, gzip integrity, limits, encoding (cheap, one stream per file, no DuckDB).
    const scanned = await mapConcurrent(files, 4, async (file, index) => {
      try {
        if ((await stat(file.path)).size === 0)
          throw new DataValidationError({ file: file.key, rule: 'the file is empty (no header, no rows)' });
        // A link in scratch: the byte scan inflates a .gz beside its input and removes the input (the
        // link), never the user's file.
        const link = join(scratch, String(index), file.key.slice(file.key.lastIndexOf('/') + 1));
        await mkdir(dirname(link), { recursive: true });
        await symlink(resolve(file.path), link); // a relative target would resolve from the link's folder
        if (link.endsWith('.parquet')) return { file, local: link, records: undefined };
        const checked = await checkRawFile(file.key, link, limits, format !== 'cdnow');
        if (checked.records === 0)
          throw new DataValidationError({
            file: file.key,
            rule: `the file is empty (${checked.bytes} bytes, no header and no rows${file.path.endsWith('.gz') ? ' once decompressed' : ''})`,
          });
        await checkUtf8(file.key, checked.path);
        return { file, local: checked.path, records: checked.records };
      } catch (error) {
        reject(file, error);
        return undefined;
      }
    });
    // 2. Values: the parse ingest runs. It stops at the first bad file, so that file is set aside and the
    // rest parsed again; a failure that names no single file is pinned down by parsing files one by one.
    let pending = scanned.filter((s) => s !== undefined);
    const accepted: CheckedFile[] = [];
    const { sqlString, withDuck } = await import('../../lib/duck');
    while (pending.length > 0) {
      const out = join(scratch, `parsed-${rejected.length}.parquet`);
      await withDuck(
        async (duck) => {
          try {
            await parseTable(
              duck,
              table,
              customerAttributes,
              extensionFields,
              pending.map((s, index) => ({
                file: { key: s.file.key, format },
                local: {
                  key: s.file.key,
                  path: s.local,
                  index,
                  ...(s.records !== undefined ? { checkedRecords: s.records } : {}),
                },
              })),
              out,
            );
            const column = TIME_COLUMN[table];
            const ranges = await duck.all<{ file: string; rows: number; lo: Date | null; hi: Date | null }>(
              `SELECT source_file AS file, count(*)::INTEGER AS rows, min(${column}) AS lo, max(${column}) AS hi
             FROM read_parquet(${sqlString(out)}) GROUP BY source_file`,
            );
            const byKey = new Map(ranges.map((r) => [r.file, r]));
            for (const s of pending) {
              const range = byKey.get(s.file.key);
              accepted.push({
                ...s.file,
                rows: range?.rows ?? 0,
                firstTs: range?.lo ? range.lo.toISOString() : null,
                lastTs: range?.hi ? range.hi.toISOString() : null,
              });
            }
            pending = [];
          } catch (error) {
            if (!(error instanceof DataValidationError)) throw error;
            const culprit = pending.find((s) => s.file.key === error.location.file);
            if (culprit) {
              reject(culprit.file, error);
              pending = pending.filter((s) => s !== culprit);
            } else if (pending.length === 1) {
              reject(pending[0].file, error);
              pending = [];
            } else {
              // Which of several files DuckDB could not read is not named: one at a time finds it.
              for (const s of pending) {
                const one = await checkFiles(
                  [s.file],
                  format,
                  table,
                  limits,
                  () => {},
                  customerAttributes,
                  extensionFields,
                );
                accepted.push(...one.accepted);
                for (const bad of one.rejected) reject(bad, bad.error);
              }
              pending = [];
            }
          }
        },
        { tempDirectory: join(scratch, 'duck') },
      );
    }
    return { accepted, rejected };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function parseTable(
  duck: Duck,
  table: TableName,
  customerAttributes: CustomerAttributesConfig | undefined,
  extensionFields: readonly AttributeField[],
  files: RawFileToParse[],
  out: string,
): Promise<void> {
  if (table === 'customers') {
    const { parseCustomerFiles } = await import('../../activities/ingest/customers');
    await parseCustomerFiles(duck, files, customerAttributes, {
      customers: out,
      quarantine: `${out}.quarantine.parquet`,
    });
  } else if (table === 'transactions') {
    const { parseTransactionFiles } = await import('../../activities/ingest/parse');
    await parseTransactionFiles(duck, files, out, () => {}, extensionFields);
  } else if (table === 'events') {
    const { parseEventFiles } = await import('../../activities/ingest/sideTables');
    await parseEventFiles(duck, files, out, extensionFields);
  } else if (table === 'assignments') {
    const { parseAssignmentFiles } = await import('../../activities/ingest/sideTables');
    await parseAssignmentFiles(duck, files, out);
  } else if (table === 'item_properties') {
    const { parseItemPropertyFiles } = await import('../../activities/ingest/eventTransactions');
    await parseItemPropertyFiles(duck, files, out);
  } else {
    const { parseCategoryTreeFiles } = await import('../../activities/ingest/eventTransactions');
    await parseCategoryTreeFiles(duck, files, out);
  }
}

/**
 * The text must be UTF-8 (DuckDB's CSV reader, and every report, assume it). Reads the file once; a bad
 * byte is reported with its line.
 */
export async function checkUtf8(key: string, path: string): Promise<void> {
  let line = 1;
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    // Hold back a multi-byte sequence cut by the chunk boundary (at most 3 bytes) for the next chunk.
    const end = completeUtf8Prefix(bytes);
    const body = bytes.subarray(0, end);
    if (!isUtf8(body)) {
      let start = 0;
      for (;;) {
        const newline = body.indexOf(0x0a, start);
        const lineBytes = body.subarray(start, newline < 0 ? body.length : newline);
        if (!isUtf8(lineBytes)) {
          throw new DataValidationError(
            { file: key, line, rule: 'the file must be UTF-8 text (re-save it as UTF-8)' },
            `bytes ${JSON.stringify(lineBytes.toString('latin1').slice(0, 80))} are not UTF-8`,
          );
        }
        if (newline < 0) break;
        line++;
        start = newline + 1;
      }
    }
    for (let i = body.indexOf(0x0a); i >= 0; i = body.indexOf(0x0a, i + 1)) line++;
    carry = Buffer.from(bytes.subarray(end));
  }
  if (carry.length > 0)
    throw new DataValidationError(
      { file: key, line, rule: 'the file must be UTF-8 text (re-save it as UTF-8)' },
      'it ends inside a multi-byte character',
    );
}

/** Length of the longest prefix of `bytes` that does not end inside a multi-byte UTF-8 sequence. */
function completeUtf8Prefix(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/** One stored raw file as `data list` shows it. */
export interface DataFileInfo {
  /** Path under raw/<dataset>/: <format>/<table>/<name>. */
  file: string;
  key: string;
  table: string;
  format: string;
  size: number;
  rows: number | null;
  loadedAt: string | null;
  /** First and last date (YYYY-MM-DD, UTC) of the file's rows. */
  firstDate: string | null;
  lastDate: string | null;
  /** Completed runs that ran without this file (`ingest.onBadFile: skip`), with the rule it broke. */
  skippedBy?: { runId: string; month: string; reason: string }[];
}

interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: string | null;
}

/** Every object under prefix with its last-modified time (ObjectStore.list does not return it). */
async function listWithTimes(store: ObjectStore, prefix: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await store.client.send(
      new ListObjectsV2Command({ Bucket: store.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) {
      if (!item.Key || item.Key.endsWith('/')) continue;
      out.push({
        key: item.Key,
        size: item.Size ?? 0,
        etag: (item.ETag ?? '').replaceAll('"', ''),
        lastModified: item.LastModified ? item.LastModified.toISOString() : null,
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const dateOf = (iso: string | null): string | null => (iso ? iso.slice(0, 10) : null);

/**
 * The dataset's stored raw files. Files the catalog does not know (loaded before it existed, or put there
 * by other means) are downloaded and parsed once, and the catalog remembers them.
 */
export async function listDataFiles(store: ObjectStore, dataset: string): Promise<DataFileInfo[]> {
  assertDatasetName(dataset);
  const prefix = rawPrefix(dataset);
  const objects = await listWithTimes(store, prefix);
  if (objects.length === 0)
    throw new Error(
      `dataset ${dataset} has no files (load some with \`custflow data load --dataset ${dataset} ...\`)`,
    );
  const catalog = await readFileCatalog(store, dataset);
  const unknown = objects.filter((o) => catalog.files[o.key]?.etag !== o.etag);
  if (unknown.length > 0) {
    const measured = await measureStoredFiles(store, dataset, unknown);
    await updateFileCatalog(store, dataset, (files) => Object.assign(files, measured));
    Object.assign(catalog.files, measured);
  }
  return objects.map((o) => {
    const [format = '', table = ''] = o.key.slice(prefix.length).split('/');
    const entry = catalog.files[o.key] as CatalogEntry | undefined;
    return {
      file: o.key.slice(prefix.length),
      key: o.key,
      table,
      format,
      size: o.size,
      rows: entry?.rows ?? null,
      loadedAt: entry?.loadedAt ?? o.lastModified,
      firstDate: dateOf(entry?.firstTs ?? null),
      lastDate: dateOf(entry?.lastTs ?? null),
    };
  });
}

/** Download and parse stored files the catalog does not know; a file that does not parse gets no dates. */
async function measureStoredFiles(
  store: ObjectStore,
  dataset: string,
  objects: readonly ListedObject[],
): Promise<Record<string, CatalogEntry>> {
  const { parseRunConfig } = await import('../../lib/config');
  const { rawFileLimits } = await import('../../activities/ingest');
  const limits = rawFileLimits(parseRunConfig({}).ingest);
  const dir = await mkdtemp(join(tmpdir(), 'custflow-list-'));
  const out: Record<string, CatalogEntry> = {};
  try {
    const prefix = rawPrefix(dataset);
    const groups = new Map<string, { format: InputFormat; table: TableName; objects: ListedObject[] }>();
    for (const o of objects) {
      const [format, table] = o.key.slice(prefix.length).split('/') as [InputFormat, TableName];
      const group = groups.get(`${format}/${table}`) ?? { format, table, objects: [] };
      group.objects.push(o);
      groups.set(`${format}/${table}`, group);
    }
    for (const group of groups.values()) {
      const local = await mapConcurrent(group.objects, 8, async (o) => {
        const path = join(dir, o.key);
        await store.getToFile(o.key, path);
        return { path, key: o.key };
      });
      const { accepted } = await checkFiles(local, group.format, group.table, limits);
      const byKey = new Map(accepted.map((a) => [a.key, a]));
      for (const o of group.objects) {
        const checked = byKey.get(o.key);
        out[o.key] = {
          table: group.table,
          format: group.format,
          size: o.size,
          etag: o.etag,
          loadedAt: o.lastModified ?? new Date().toISOString(),
          rows: checked?.rows ?? 0,
          firstTs: checked?.firstTs ?? null,
          lastTs: checked?.lastTs ?? null,
        };
      }
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The month of the dataset's first transaction, from the catalog, when the catalog knows every stored
 * transaction file as it is now; undefined when it cannot say (the caller measures instead).
 */
export async function firstTransactionMonthFromCatalog(
  store: ObjectStore,
  dataset: string,
): Promise<string | null | undefined> {
  const listed = await store.list(rawPrefix(dataset));
  const objects = listed.filter((o) => o.key.split('/')[3] === 'transactions');
  // An events-only dataset: its transactions are its purchase events, which datasetExtent measures.
  if (
    objects.length === 0 &&
    listed.some((o) => o.key.split('/').slice(2, 4).join('/') === 'retailrocket/events')
  )
    return undefined;
  if (objects.length === 0) return null;
  const catalog = await readFileCatalog(store, dataset);
  let first: string | null = null;
  for (const o of objects) {
    const entry = catalog.files[o.key];
    if (!entry || entry.etag !== o.etag) return undefined;
    if (entry.firstTs && (first === null || entry.firstTs < first)) first = entry.firstTs;
  }
  return first === null ? null : monthOf(Date.parse(first));
}
