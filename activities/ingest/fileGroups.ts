/**
 * File groups of a sharded ingest (issue 10): the delivered transaction files of a run, in key order (the
 * order the bucket lists them and the order of ingest's output rows), cut into runs of consecutive files
 * of about `ingest.fileGroupBytes` each. One activity reads one group, so a worker holds one group's files
 * at a time, never the dataset, and any worker can take any group.
 *
 * The rule: walk the files in key order and close the current group as soon as its bytes reach the target
 * T = max(ingest.fileGroupBytes, ceil(total / (MAX_SHARDS - 1))). Every group but the last holds at least
 * T bytes, so there are at most MAX_SHARDS groups; a group exceeds T by less than its last file; a file is
 * never split. The same listing and target give the same groups on every worker.
 */
import { MAX_SHARDS } from '../../lib/shards';

/**
 * Bytes of delivered transaction files one ingest activity reads when the config does not say. Parsing
 * holds about 11 times a group's CSV bytes (141 MB of generated CSV peaked at 1.6 GB; a 256 MiB group at
 * 4.6 GB), so 128 MiB keeps a group activity near the 1-1.5 GB of a customer-shard activity.
 */
export const DEFAULT_FILE_GROUP_BYTES = 128 * 1024 * 1024;

/**
 * The groups of `sizes` (bytes of each file, in key order): the index of each group's first file, in
 * order. Group g holds files starts[g] .. starts[g + 1] - 1 (the last group runs to the end). No files
 * gives one empty group ([0]), so a stage without transaction files still has its one step.
 */
export function fileGroupStarts(
  sizes: readonly number[],
  targetBytes: number,
  maxGroups: number = MAX_SHARDS,
): number[] {
  if (!(targetBytes >= 1) || !Number.isFinite(targetBytes)) {
    throw new Error(`file group target must be a positive number of bytes, got ${targetBytes}`);
  }
  if (!Number.isInteger(maxGroups) || maxGroups < 2) throw new Error(`maxGroups must be >= 2: ${maxGroups}`);
  const total = sizes.reduce((a, b) => a + b, 0);
  const threshold = Math.max(targetBytes, Math.ceil(total / (maxGroups - 1)));
  const starts = [0];
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    bytes += sizes[i];
    if (bytes >= threshold && i + 1 < sizes.length) {
      starts.push(i + 1);
      bytes = 0;
    }
  }
  return starts;
}

/** The files of group `group` (indexes into the list `starts` was computed over). */
export function fileGroupRange(
  starts: readonly number[],
  fileCount: number,
  group: number,
): { from: number; to: number } {
  if (!Number.isInteger(group) || group < 0 || group >= starts.length) {
    throw new Error(`file group ${group} is outside 0..${starts.length - 1}`);
  }
  return { from: starts[group], to: group + 1 < starts.length ? starts[group + 1] : fileCount };
}
