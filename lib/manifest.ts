/**
 * Stage manifests: the commit marker of a stage. A stage writes its data files first and its
 * `_manifest.json` last, so a manifest that exists describes outputs that are complete.
 *
 * Cache rule: a stage's cache key hashes its name, code version, config section, the run's cutoff and
 * the fingerprints of everything it reads. Same key, outputs still present with the recorded sizes:
 * a cache hit, and the stage is not recomputed (unless forced).
 */
import type { ObjectStore } from './objectStore';
import { stableHash } from './config';
import { cacheIndexKey } from './layout';
import type { StageWarning } from './runTypes';

export interface OutputEntry {
  key: string;
  uri: string;
  sha256: string;
  size: number;
  rows?: number;
}

export interface StageManifest {
  stage: string;
  stageVersion: number;
  codeVersion: string;
  dataset: string;
  month: string;
  runId: string;
  cutoff: string;
  cacheKey: string;
  configHash: string;
  /** Input name -> fingerprint (sha256 of upstream output, or etag/size of a raw file). */
  inputs: Record<string, string>;
  outputs: Record<string, OutputEntry>;
  metrics: Record<string, unknown>;
  /** Fallbacks and partial checks the stage reported (absent in manifests written before warnings existed). */
  warnings?: StageWarning[];
  startedAt: string;
  completedAt: string;
  durationMs: number;
  /** Where the time went: fingerprint, cache lookup, compute (download + work), upload. */
  phaseMs?: Record<string, number>;
  /**
   * The longest the worker's event loop was blocked during the attempt (lib/eventLoopBlock.ts); the
   * heartbeat timeout is one minute. Absent in manifests written before it was measured.
   */
  longestEventLoopBlockMs?: number;
  /**
   * The worker's peak resident memory sampled during the attempt, in bytes (lib/peakMemory.ts); for a
   * sharded stage the largest of its plan, shard and reduce steps. Absent in older manifests.
   */
  peakRssBytes?: number;
}

export interface CacheKeyParts {
  stage: string;
  stageVersion: number;
  codeVersion: string;
  cutoff: string;
  configHash: string;
  inputs: Record<string, string>;
}

export function computeCacheKey(parts: CacheKeyParts): string {
  return stableHash(parts).slice(0, 32);
}

export interface CacheIndexEntry {
  manifestKey: string;
  runId: string;
}

/**
 * The manifest of an earlier computation with this cache key, if its outputs are all still there with
 * the recorded sizes; undefined otherwise (never a partial hit).
 */
export async function findCachedManifest(
  store: ObjectStore,
  where: { dataset: string; month: string; stage: string; cacheKey: string },
): Promise<StageManifest | undefined> {
  const entry = await store.tryGetJson<CacheIndexEntry>(
    cacheIndexKey(where.dataset, where.month, where.stage, where.cacheKey),
  );
  if (!entry) return undefined;
  const manifest = await store.tryGetJson<StageManifest>(entry.manifestKey);
  if (!manifest || manifest.cacheKey !== where.cacheKey) return undefined;
  for (const output of Object.values(manifest.outputs)) {
    const head = await store.head(output.key);
    if (!head || head.size !== output.size) return undefined;
  }
  return manifest;
}

export async function writeCacheIndex(
  store: ObjectStore,
  manifest: StageManifest,
  manifestKey: string,
): Promise<void> {
  const entry: CacheIndexEntry = { manifestKey, runId: manifest.runId };
  await store.putJson(
    cacheIndexKey(manifest.dataset, manifest.month, manifest.stage, manifest.cacheKey),
    entry,
  );
}
