/**
 * Run configuration: one YAML or JSON file per dataset, a section per stage, every key optional with a
 * sane default. Unknown keys are errors that name the key, so a typo never silently falls back to a default.
 * Connection settings and secrets never live here; they come from the environment (lib/env.ts).
 */
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors';
import { qualityGatesSection } from './stageConfig/clean';
import { churnSection } from './stageConfig/churn';
import { clvSection } from './stageConfig/clv';
import { experimentSection } from './stageConfig/experiment';
import { featuresSection } from './stageConfig/features';
import { attributesSection } from './attributesConfig';
import { outliersSection } from './outlierTreatment';
import { forecastSection } from './stageConfig/forecast';
import { recommendSection } from './stageConfig/recommend';
import { segmentSection } from './stageConfig/segment';

const cleanSection = z
  .object({
    /** Flag (never drop) rows whose line amount lies beyond Q3 + k*IQR or below Q1 - k*IQR. */
    outlierIqrMultiplier: z.number().positive().default(3),
    /**
     * Quarantine lines with a zero unit price (default). Set false where free orders are real purchases:
     * CDNOW has $0 orders that the BG/NBD literature counts as purchases. Negative prices are always quarantined.
     */
    quarantineZeroPrice: z.boolean().default(true),
    /**
     * Product codes of lines that are not merchandise (postage, fees, manual adjustments, vouchers). Such lines
     * are kept and counted but flagged `line_kind = 'non_merchandise'`, so product rankings and basket features
     * leave them out while revenue totals keep them. The input format fills this (Online Retail's POST, DOT,
     * M, ...); set it to replace that list, or use extraNonMerchandiseCodes to add to it.
     */
    nonMerchandiseCodes: z.array(z.string().min(1)).default([]),
    /** More non-merchandise product codes, added to nonMerchandiseCodes (the dataset's own fee codes). */
    extraNonMerchandiseCodes: z.array(z.string().min(1)).default([]),
    /**
     * Quarantine (`amount_out_of_range`) a line whose |unit_price| or |amount| exceeds this: a typo or a
     * test value, not a sale, and beyond what the models' exact decimal sums hold.
     */
    maxAbsAmount: z.number().positive().default(1e9),
    /**
     * Quarantine (`implausible_timestamp`) a line dated before this day (YYYY-MM-DD, UTC): one row from 1900
     * stretches every daily series and tenure across a century.
     */
    minTimestamp: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
      .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'must be a real date')
      .default('1990-01-01'),
    /** Data-quality gates between clean and the models (activities/clean/qualityGates.ts). */
    quality: qualityGatesSection.default(() => qualityGatesSection.parse({})),
  })
  .strict();

const ingestSection = z
  .object({
    /** Download concurrency for raw objects. */
    downloadConcurrency: z.number().int().min(1).max(64).default(16),
    /**
     * Bytes of delivered transaction files one activity of a sharded ingest reads (consecutive files in key
     * order; activities/ingest/fileGroups.ts). Changes which worker reads what, never what ingest writes.
     */
    fileGroupBytes: z
      .number()
      .int()
      .min(1)
      .default(128 * 1024 * 1024),
    /** Longest line a delivered text file may have, in bytes; a longer one fails ingest naming file and line. */
    maxLineBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(1024 * 1024),
    /** Most bytes one delivered file may hold once decompressed (a gzip bomb stops here). */
    maxDecompressedBytesPerFile: z
      .number()
      .int()
      .min(1024)
      .default(4 * 1024 * 1024 * 1024),
    /** Most times a gzip file may inflate its size (checked past 64 MB inflated): a decompression bomb stops. */
    maxCompressionRatio: z.number().min(2).default(200),
    /** Most rows one delivered file may hold. */
    maxRowsPerFile: z.number().int().min(1).default(50_000_000),
    /**
     * A delivered file that breaks a rule (truncated gzip, wrong header, a value that does not parse): `fail`
     * fails the run naming file, line and rule; `skip` runs the month without it, names it in the run's
     * warnings and counts its rows as quarantined (activities/ingest/badFiles.ts).
     */
    onBadFile: z.enum(['fail', 'skip']).default('fail'),
  })
  .strict();

/** How stages retry transient infrastructure faults (lib/stageRegistry.ts). */
const retrySection = z
  .object({
    /** Total time one stage may spend across its attempts (waits included) before the run fails. */
    stageRetryHours: z.number().min(0.05).max(168).default(6),
    /** Cap of the exponential backoff between attempts (it doubles from 2 s). */
    maxRetryIntervalSeconds: z.number().int().min(1).max(3600).default(120),
    /**
     * How long a stage attempt may go without a heartbeat before it is retried elsewhere (the time a killed
     * worker costs). Unset: one minute. No default here, so configs without it hash as before.
     */
    heartbeatTimeoutSeconds: z.number().int().min(10).max(600).optional(),
  })
  .strict();

/** Customer shards (issue 10, lib/shards.ts): how per-customer tables are split and fanned out. */
const shardsSection = z
  .object({
    /**
     * S, the number of customer shards (1 to 512). Absent: the smallest power of two keeping at most
     * 250,000 customers per shard (chooseShardCount). Clean decides it; sharded stages follow clean.
     */
    count: z.number().int().min(1).max(512).optional(),
    /** Shard activities of one stage in flight at once; the workers' activity slots bound the rest. */
    concurrency: z.number().int().min(1).max(512).default(16),
  })
  .strict();

export const runConfigSchema = z
  .object({
    /** Optional: when present it must equal the dataset the run is for. */
    dataset: z.string().optional(),
    /**
     * ISO 4217 code of the dataset's money (GBP, USD, EUR): what the report shows amounts in. The input format
     * supplies it where it is known (online-retail GBP, cdnow USD); canonical data has none unless configured,
     * and then amounts are shown as plain numbers rather than in a guessed currency.
     */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code in capitals, e.g. GBP')
      .optional(),
    /** Seed for every random choice in the run (sampling, restarts, simulations). */
    seed: z.number().int().min(0).default(42),
    retry: retrySection.default(() => retrySection.parse({})),
    shards: shardsSection.default(() => shardsSection.parse({})),
    ingest: ingestSection.default(() => ingestSection.parse({})),
    /** Customer attributes (a customers table) and their tests against spend; absent: none. */
    attributes: attributesSection.optional(),
    clean: cleanSection.default(() => cleanSection.parse({})),
    /**
     * How spend-based models read the lines clean flags as outliers: none (default), exclude or winsorize
     * (lib/outlierTreatment.ts). Absent means none, and configs without it hash as before.
     */
    outliers: outliersSection.optional(),
    features: featuresSection.default(() => featuresSection.parse({})),
    segment: segmentSection.default(() => segmentSection.parse({})),
    clv: clvSection.default(() => clvSection.parse({})),
    churn: churnSection.default(() => churnSection.parse({})),
    forecast: forecastSection.default(() => forecastSection.parse({})),
    experiment: experimentSection.default(() => experimentSection.parse({})),
    recommend: recommendSection.default(() => recommendSection.parse({})),
  })
  .strict();

export type RunConfig = z.infer<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

/** Validate a raw config object; the error lists every problem with its key path. */
export function parseRunConfig(raw: unknown, source = 'config'): RunConfig {
  const result = runConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((key) => (path ? `${path}.${key}` : key));
        return `unknown key ${keys.map((k) => `"${k}"`).join(', ')}`;
      }
      return `${path || '(root)'}: ${issue.message}`;
    });
    throw new ConfigError(`${source}: ${problems.join('; ')}`);
  }
  return result.data;
}

export async function loadRunConfigFile(path: string): Promise<RunConfig> {
  return parseRunConfig(await readRunConfigFile(path), path);
}

/**
 * The config file as written (no defaults filled in), after checking it against the schema. Layers of
 * config (format defaults, dataset config, a command's --config) are merged in this form, so a default
 * filled into one layer never overrides a value another layer set.
 */
export async function readRunConfigFile(path: string): Promise<RunConfigInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot read config file (${(error as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(error as Error).message})`,
    );
  }
  return checkRunConfigInput(raw, path);
}

/** Validate a raw config layer and return it as written; throws ConfigError naming every bad key. */
export function checkRunConfigInput(raw: unknown, source = 'config'): RunConfigInput {
  const value = raw ?? {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`${source}: a config must be a mapping of sections, not ${JSON.stringify(value)}`);
  parseRunConfig(value, source);
  return value;
}

/**
 * Merge config layers, later layers winning: mappings merge key by key, anything else (numbers, strings,
 * lists) is replaced whole. A list such as segment.kRange is one setting, not a set to union.
 */
export function mergeConfigLayers(...layers: (RunConfigInput | undefined)[]): RunConfigInput {
  let merged: Record<string, unknown> = {};
  for (const layer of layers) if (layer) merged = mergeMappings(merged, layer);
  return merged;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeMappings(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const existing = out[key];
    out[key] = isMapping(existing) && isMapping(value) ? mergeMappings(existing, value) : value;
  }
  return out;
}

/** Stable hash of any JSON value (object keys sorted), for config and input fingerprints. */
export function stableHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex');
}

export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}
