/**
 * `custflow data load`: deliver files into raw/<dataset>/<format>/<table>/ as they are, and record in
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
import { readRunConfigFile } from '../../lib/config';
import { checkDatasetConfig, recordLoad, type DatasetRecord } from '../../lib/datasets';
import { assertDatasetName, rawPrefix } from '../../lib/layout';
import { mapConcurrent, ObjectStore } from '../../lib/objectStore';

export interface LoadOptions {
  dataset: string;
  format: string;
  table: string;
  from: string;
  /** A dataset config file to store with the dataset (validated before anything is uploaded). */
  config?: string;
}

export interface LoadResult {
  dataset: string;
  format: string;
  table: TableName;
  files: number;
  bytes: number;
  prefix: string;
  /** The dataset record after the load: its sources and dataset config. */
  datasetRecord: DatasetRecord;
}

const LOADABLE = /\.(csv|csv\.gz|txt|txt\.gz|parquet)$/i;

export async function loadData(options: LoadOptions, store = ObjectStore.fromEnv()): Promise<LoadResult> {
  assertDatasetName(options.dataset);
  if (!isInputFormat(options.format))
    throw new Error(`--format must be one of ${INPUT_FORMATS.join(', ')} (got "${options.format}")`);
  if (!(TABLES as readonly string[]).includes(options.table))
    throw new Error(`--table must be one of ${TABLES.join(', ')} (got "${options.table}")`);
  if (!FORMAT_TABLES[options.format].includes(options.table as TableName)) {
    throw new Error(
      `format ${options.format} holds ${FORMAT_TABLES[options.format].join(', ')}, not ${options.table}`,
    );
  }
  if (options.config !== undefined) {
    // fail on a bad config before uploading gigabytes
    checkDatasetConfig(options.dataset, await readRunConfigFile(options.config), options.config);
  }
  const files = await listFiles(options.from);
  if (files.length === 0) throw new Error(`${options.from}: no .csv, .csv.gz, .txt or .parquet files found`);
  const prefix = `${rawPrefix(options.dataset)}${options.format}/${options.table}/`;
  await store.ensureBucket();
  const sizes = await mapConcurrent(files, 16, async (file) => {
    const put = await store.putFile(prefix + file.relative, file.path, 'application/octet-stream');
    return put.size;
  });
  const datasetRecord = await recordLoad(store, {
    dataset: options.dataset,
    table: options.table as TableName,
    format: options.format,
    configPath: options.config,
  });
  return {
    dataset: options.dataset,
    format: options.format,
    table: options.table as TableName,
    files: files.length,
    bytes: sizes.reduce((a, b) => a + b, 0),
    prefix: store.uri(prefix),
    datasetRecord,
  };
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
