/**
 * What a dataset remembers about itself, in the bucket at datasets/<dataset>/dataset.json: the format(s) its
 * files were delivered in (per table) and an optional dataset config. Every command that starts runs
 * (run, schedule create, backfill, replay --config) resolves the run config from three layers, later
 * winning:
 *
 *   format defaults  <  dataset config  <  the command's --config
 *
 * Mappings merge key by key; lists and scalars replace. The resolved config is validated once more as a
 * whole and travels in the workflow input (RunInput.config): a run, and a schedule, keep the config they
 * started with. Secrets never enter any layer (the schema has no place for them, and unknown keys are
 * errors); connections come from the environment.
 */
import {
  checkRunConfigInput,
  mergeConfigLayers,
  parseRunConfig,
  readRunConfigFile,
  type RunConfig,
  type RunConfigInput,
} from './config';
import { ConfigError } from './errors';
import { assertDatasetName, rawPrefix } from './layout';
import type { ObjectStore } from './objectStore';
import {
  FORMAT_CONFIG_DEFAULTS,
  isInputFormat,
  TABLES,
  type InputFormat,
  type TableName,
} from './inputFormats';

export const datasetRecordKey = (dataset: string): string => `datasets/${dataset}/dataset.json`;
export const DATASETS_PREFIX = 'datasets/';

/** One (table, format) pair the dataset's files were delivered as. */
export interface DatasetSource {
  table: TableName;
  format: InputFormat;
}

export interface DatasetRecord {
  dataset: string;
  /** Sorted by table then format; one entry per pair ever loaded. */
  sources: DatasetSource[];
  /** The dataset config as written (validated; defaults not filled in), or null when none is set. */
  config: RunConfigInput | null;
  /** Where the dataset config came from (the file path given), for `datasets show`. */
  configSource: string | null;
  /** ISO time of the last change. */
  updatedAt: string;
}

/** The format whose conventions apply: the one format of the transactions table, when there is exactly one. */
export interface FormatConventions {
  format: InputFormat | null;
  defaults: RunConfigInput;
  /** Why no format defaults apply, when none do. */
  note?: string;
}

export interface ResolvedConfig {
  config: RunConfig;
  /** The layers in precedence order, lowest first, as they were merged. */
  layers: { name: 'format' | 'dataset' | 'command'; source: string; config: RunConfigInput }[];
}

function sortSources(sources: DatasetSource[]): DatasetSource[] {
  const seen = new Map(sources.map((s) => [`${s.table}\u0000${s.format}`, s]));
  return [...seen.values()].sort((a, b) =>
    a.table === b.table ? a.format.localeCompare(b.format) : a.table.localeCompare(b.table),
  );
}

export async function readDatasetRecord(
  store: ObjectStore,
  dataset: string,
): Promise<DatasetRecord | undefined> {
  assertDatasetName(dataset);
  return store.tryGetJson<DatasetRecord>(datasetRecordKey(dataset));
}

async function writeDatasetRecord(store: ObjectStore, record: DatasetRecord): Promise<DatasetRecord> {
  await store.ensureBucket();
  await store.putJson(datasetRecordKey(record.dataset), record);
  return record;
}

/** Check a dataset config layer: the schema, and a `dataset` key (if any) naming this dataset. */
export function checkDatasetConfig(dataset: string, raw: unknown, source: string): RunConfigInput {
  const config = checkRunConfigInput(raw, source);
  if (config.dataset !== undefined && config.dataset !== dataset)
    throw new ConfigError(`${source}: config is for dataset "${config.dataset}", not "${dataset}"`);
  return config;
}

/**
 * `data load` records what it delivered; with a config it also sets the dataset config (validated on top
 * of the format's defaults, so a layer that only works with them is caught here, not at run time).
 */
export async function recordLoad(
  store: ObjectStore,
  options: { dataset: string; table: TableName; format: InputFormat; configPath?: string },
  now = new Date(),
): Promise<DatasetRecord> {
  const existing = await readDatasetRecord(store, options.dataset);
  const sources = sortSources([
    ...(existing?.sources ?? []),
    { table: options.table, format: options.format },
  ]);
  let config = existing?.config ?? null;
  let configSource = existing?.configSource ?? null;
  if (options.configPath !== undefined) {
    config = checkDatasetConfig(
      options.dataset,
      await readRunConfigFile(options.configPath),
      options.configPath,
    );
    configSource = options.configPath;
  }
  const record: DatasetRecord = {
    dataset: options.dataset,
    sources,
    config,
    configSource,
    updatedAt: now.toISOString(),
  };
  resolveLayers(record, undefined); // the merged result must validate too
  return writeDatasetRecord(store, record);
}

/** `datasets set-config`: replace the dataset config (null clears it). Returns the record as stored. */
export async function setDatasetConfig(
  store: ObjectStore,
  dataset: string,
  configPath: string | null,
  options: { dryRun?: boolean; now?: Date } = {},
): Promise<DatasetRecord> {
  const existing = (await readDatasetRecord(store, dataset)) ?? {
    dataset,
    sources: await sourcesFromRaw(store, dataset),
    config: null,
    configSource: null,
    updatedAt: '',
  };
  const config =
    configPath === null ? null : checkDatasetConfig(dataset, await readRunConfigFile(configPath), configPath);
  const record: DatasetRecord = {
    ...existing,
    config,
    configSource: configPath,
    updatedAt: (options.now ?? new Date()).toISOString(),
  };
  resolveLayers(record, undefined);
  return options.dryRun ? record : writeDatasetRecord(store, record);
}

/**
 * Datasets loaded before datasets/<D>/dataset.json existed: the (format, table) folders under raw/<D>/
 * are what ingest reads, so they say the same thing.
 */
export async function sourcesFromRaw(store: ObjectStore, dataset: string): Promise<DatasetSource[]> {
  const sources: DatasetSource[] = [];
  for (const formatPrefix of await store.listPrefixes(rawPrefix(dataset))) {
    const format = formatPrefix.slice(rawPrefix(dataset).length).replace(/\/$/, '');
    if (!isInputFormat(format)) continue;
    for (const tablePrefix of await store.listPrefixes(formatPrefix)) {
      const table = tablePrefix.slice(formatPrefix.length).replace(/\/$/, '');
      if ((TABLES as readonly string[]).includes(table)) sources.push({ table: table as TableName, format });
    }
  }
  return sortSources(sources);
}

export function formatConventions(sources: readonly DatasetSource[]): FormatConventions {
  const formats = [...new Set(sources.filter((s) => s.table === 'transactions').map((s) => s.format))];
  if (formats.length === 1) return { format: formats[0], defaults: FORMAT_CONFIG_DEFAULTS[formats[0]] };
  if (formats.length === 0)
    return { format: null, defaults: {}, note: 'no transactions loaded yet: no format defaults apply' };
  return {
    format: null,
    defaults: {},
    note: `transactions come in ${formats.length} formats (${formats.join(', ')}): no format defaults apply; set currency and clean settings in the dataset config`,
  };
}

function resolveLayers(
  record: Pick<DatasetRecord, 'dataset' | 'sources' | 'config' | 'configSource'>,
  command: { source: string; config: RunConfigInput } | undefined,
): ResolvedConfig {
  const conventions = formatConventions(record.sources);
  const layers: ResolvedConfig['layers'] = [
    {
      name: 'format',
      source: conventions.format ? `format ${conventions.format}` : (conventions.note ?? 'no format'),
      config: conventions.defaults,
    },
  ];
  if (record.config)
    layers.push({
      name: 'dataset',
      source: record.configSource ?? datasetRecordKey(record.dataset),
      config: record.config,
    });
  if (command) layers.push({ name: 'command', ...command });
  const sources = layers.map((l) => l.source).join(' < ');
  const config = parseRunConfig(mergeConfigLayers(...layers.map((l) => l.config)), sources);
  if (config.dataset !== undefined && config.dataset !== record.dataset)
    throw new ConfigError(`config is for dataset "${config.dataset}", not "${record.dataset}"`);
  return { config, layers };
}

/**
 * The run config of a dataset: format defaults < dataset config < the command's --config file (when given).
 * Works for datasets loaded before the record existed (formats read from raw/).
 */
export async function resolveDatasetRunConfig(
  store: ObjectStore,
  dataset: string,
  commandConfigPath?: string,
): Promise<ResolvedConfig> {
  const record = (await readDatasetRecord(store, dataset)) ?? {
    dataset,
    sources: await sourcesFromRaw(store, dataset),
    config: null,
    configSource: null,
  };
  const sources = record.sources.length > 0 ? record.sources : await sourcesFromRaw(store, dataset);
  const command =
    commandConfigPath === undefined
      ? undefined
      : {
          source: commandConfigPath,
          config: checkDatasetConfig(dataset, await readRunConfigFile(commandConfigPath), commandConfigPath),
        };
  return resolveLayers({ ...record, sources }, command);
}

/** Same resolution without the bucket: for tests and for callers that already hold the record. */
export function resolveRunConfigLayers(
  record: Pick<DatasetRecord, 'dataset' | 'sources' | 'config' | 'configSource'>,
  command?: { source: string; config: unknown },
): ResolvedConfig {
  return resolveLayers(
    record,
    command
      ? { source: command.source, config: checkDatasetConfig(record.dataset, command.config, command.source) }
      : undefined,
  );
}

/** Every dataset with a record or with raw files, sorted by name. */
export async function listDatasetNames(store: ObjectStore): Promise<string[]> {
  const names = new Set<string>();
  for (const prefix of await store.listPrefixes(DATASETS_PREFIX))
    names.add(prefix.slice(DATASETS_PREFIX.length).replace(/\/$/, ''));
  for (const prefix of await store.listPrefixes('raw/'))
    names.add(prefix.slice('raw/'.length).replace(/\/$/, ''));
  return [...names].filter((n) => n.length > 0).sort();
}
