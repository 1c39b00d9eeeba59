/**
 * Last month's segments, for the persona migration matrix: looked up once per stage attempt (the cache key
 * and the migration must read the same run) and downloaded with its sha256 checked against the manifest.
 */
import { join } from 'node:path';
import { sha256File } from '../../lib/objectStore';
import { previousMonthStage } from '../../lib/previousRun';
import type { StageContext } from '../../lib/stage';
import type { PreviousSegments } from './contract';

export type PreviousLookup = { previous: PreviousSegments } | { previous: undefined; reason: string };

const previousLookups = new WeakMap<StageContext, Promise<PreviousLookup>>();

/**
 * Last month's latest completed run's segment output, looked up once per stage attempt so that the cache
 * key and the migration read the same run.
 */
export function findPrevious(ctx: StageContext): Promise<PreviousLookup> {
  let lookup = previousLookups.get(ctx);
  if (!lookup) {
    lookup = lookupPrevious(ctx);
    previousLookups.set(ctx, lookup);
  }
  return lookup;
}

async function lookupPrevious(ctx: StageContext): Promise<PreviousLookup> {
  // Resolved through computedByRunId: a fully cached run of last month keeps its segments under the run
  // that computed them, not under its own folder.
  const lookup = await previousMonthStage(ctx.store, ctx.run.dataset, ctx.run.month, 'segment');
  if (!lookup.found) return { previous: undefined, reason: lookup.reason };
  const { month, computedByRunId, latestRunId, manifest } = lookup.found;
  const output = manifest.outputs.segments;
  if (!output) {
    return { previous: undefined, reason: `the completed run ${latestRunId} of ${month} has no segments` };
  }
  return { previous: { runId: computedByRunId, month, sha256: output.sha256, key: output.key } };
}

/** Last month's segments as a local file, or why there are none (for the metrics). */
export async function fetchPreviousSegments(
  ctx: StageContext,
  /** The lookup the cache key was built from, when it was made in another activity (a sharded plan). */
  named?: PreviousLookup,
): Promise<{ previous?: PreviousSegments & { path: string }; noPreviousReason?: string }> {
  const lookup = named ?? (await findPrevious(ctx));
  if (!lookup.previous) return { noPreviousReason: lookup.reason };
  const path = join(ctx.scratchDir, 'in', 'previous', 'segments.parquet');
  await ctx.store.getToFile(lookup.previous.key, path);
  const sha = await sha256File(path);
  // The cache key names these bytes; a different object under the key would make the key lie.
  if (sha !== lookup.previous.sha256) {
    throw new Error(
      `segment: ${lookup.previous.key} has sha256 ${sha}, its manifest says ${lookup.previous.sha256}`,
    );
  }
  return { previous: { ...lookup.previous, path } };
}
