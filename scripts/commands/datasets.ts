/**
 * `custflow datasets list | show | set-config`: what each dataset remembers (formats, dataset config) and
 * the run config a run started now would get from it.
 */
import {
  formatConventions,
  listDatasetNames,
  readDatasetRecord,
  resolveDatasetRunConfig,
  resolveRunConfigLayers,
  setDatasetConfig,
  sourcesFromRaw,
  type DatasetSource,
} from '../../lib/datasets';
import type { RunConfig, RunConfigInput } from '../../lib/config';
import { assertDatasetName } from '../../lib/layout';
import { ObjectStore } from '../../lib/objectStore';

export interface DatasetListEntry {
  dataset: string;
  sources: DatasetSource[];
  /** Format whose defaults apply (null with none or several transaction formats). */
  format: string | null;
  hasConfig: boolean;
  currency: string | null;
  /** False for a dataset whose files were loaded before dataset records existed. */
  recorded: boolean;
  updatedAt: string | null;
  /** Why the dataset's config no longer resolves (e.g. a key a newer schema dropped); absent when it does. */
  configError?: string;
}

export interface DatasetDetails {
  dataset: string;
  sources: DatasetSource[];
  format: string | null;
  note?: string;
  formatDefaults: RunConfigInput;
  /** The dataset config as stored (null: none). */
  config: RunConfigInput | null;
  configSource: string | null;
  precedence: string;
  /** What a run started now without --config gets. */
  effective: RunConfig;
  updatedAt: string | null;
}

const PRECEDENCE = 'format defaults < dataset config < command --config';

export async function listDatasets(store = ObjectStore.fromEnv()): Promise<DatasetListEntry[]> {
  const out: DatasetListEntry[] = [];
  for (const dataset of await listDatasetNames(store)) {
    const record = await readDatasetRecord(store, dataset);
    const sources = record?.sources.length ? record.sources : await sourcesFromRaw(store, dataset);
    // one dataset whose stored config no longer validates must not hide the others
    let currency: string | null = null;
    let configError: string | undefined;
    try {
      currency = (await resolveDatasetRunConfig(store, dataset)).config.currency ?? null;
    } catch (error) {
      configError = error instanceof Error ? error.message : String(error);
    }
    out.push({
      dataset,
      sources,
      format: formatConventions(sources).format,
      hasConfig: Boolean(record?.config),
      currency,
      recorded: record !== undefined,
      updatedAt: record?.updatedAt ?? null,
      ...(configError ? { configError } : {}),
    });
  }
  return out;
}

export async function showDataset(dataset: string, store = ObjectStore.fromEnv()): Promise<DatasetDetails> {
  assertDatasetName(dataset);
  const record = await readDatasetRecord(store, dataset);
  const sources = record?.sources.length ? record.sources : await sourcesFromRaw(store, dataset);
  if (!record && sources.length === 0)
    throw new Error(
      `no dataset ${dataset}: nothing loaded and no config set (custflow data load --dataset ${dataset} ...)`,
    );
  const conventions = formatConventions(sources);
  const resolved = await resolveDatasetRunConfig(store, dataset);
  return {
    dataset,
    sources,
    format: conventions.format,
    ...(conventions.note ? { note: conventions.note } : {}),
    formatDefaults: conventions.defaults,
    config: record?.config ?? null,
    configSource: record?.configSource ?? null,
    precedence: PRECEDENCE,
    effective: resolved.config,
    updatedAt: record?.updatedAt ?? null,
  };
}

export async function setDatasetConfigCommand(
  options: { dataset: string; config?: string; clear?: boolean; dryRun?: boolean },
  store = ObjectStore.fromEnv(),
): Promise<DatasetDetails & { stored: boolean }> {
  assertDatasetName(options.dataset);
  if (options.clear && options.config !== undefined)
    throw new Error('give --config FILE or --clear, not both');
  if (!options.clear && options.config === undefined)
    throw new Error('set-config needs --config FILE (or --clear)');
  const record = await setDatasetConfig(store, options.dataset, options.clear ? null : options.config!, {
    dryRun: options.dryRun,
  });
  if (options.dryRun) {
    const conventions = formatConventions(record.sources);
    return {
      dataset: options.dataset,
      sources: record.sources,
      format: conventions.format,
      ...(conventions.note ? { note: conventions.note } : {}),
      formatDefaults: conventions.defaults,
      config: record.config,
      configSource: record.configSource,
      precedence: PRECEDENCE,
      effective: resolveRunConfigLayers(record).config,
      updatedAt: record.updatedAt,
      stored: false,
    };
  }
  return { ...(await showDataset(options.dataset, store)), stored: true };
}

/** Terminal rendering of `datasets show`. */
export function describeDataset(details: DatasetDetails): string {
  const lines = [
    `dataset ${details.dataset}`,
    `  sources:  ${details.sources.map((s) => `${s.table} (${s.format})`).join(', ') || 'none'}`,
    `  format defaults: ${details.format ?? 'none'}${details.note ? ` (${details.note})` : ''} ${JSON.stringify(details.formatDefaults)}`,
    `  dataset config:  ${details.config ? `${JSON.stringify(details.config)} (from ${details.configSource ?? '?'})` : 'none'}`,
    `  precedence: ${details.precedence}`,
    `  effective currency: ${details.effective.currency ?? 'none (amounts shown without a symbol)'}`,
    `  effective clean: ${JSON.stringify(details.effective.clean)}`,
  ];
  return lines.join('\n');
}
