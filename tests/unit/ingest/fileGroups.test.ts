/**
 * The file-group rule of a sharded ingest (activities/ingest/fileGroups.ts): consecutive files in key
 * order, a group closed once it reaches the target, never more than MAX_SHARDS groups, every file in
 * exactly one group.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FILE_GROUP_BYTES,
  fileGroupRange,
  fileGroupStarts,
} from '../../../activities/ingest/fileGroups';
import { parseRunConfig } from '../../../lib/config';
import { MAX_SHARDS } from '../../../lib/shards';
import { Rng } from '../../../lib/random';

const MB = 1024 * 1024;

/** The groups as lists of file indexes, from the rule's starts. */
function groupsOf(sizes: readonly number[], target: number, maxGroups?: number): number[][] {
  const starts = fileGroupStarts(sizes, target, maxGroups);
  return starts.map((_, g) => {
    const { from, to } = fileGroupRange(starts, sizes.length, g);
    return Array.from({ length: to - from }, (_, i) => from + i);
  });
}

describe('fileGroupStarts', () => {
  it('closes a group as soon as it reaches the target, never splitting a file', () => {
    // 24 monthly files of 70 MB against 256 MB: 4 files make 280 MB >= 256 MB, so groups of 4.
    const monthly = Array.from({ length: 24 }, () => 70 * MB);
    expect(groupsOf(monthly, 256 * MB).map((g) => g.length)).toEqual([4, 4, 4, 4, 4, 4]);
    // Uneven sizes: [100, 200] reaches 300 >= 250; [10, 10, 300] reaches 320; the rest is the last group.
    expect(groupsOf([100, 200, 10, 10, 300, 5, 5], 250)).toEqual([
      [0, 1],
      [2, 3, 4],
      [5, 6],
    ]);
    // A file larger than the target is a group of its own.
    expect(groupsOf([1000, 1, 1], 10)).toEqual([[0], [1, 2]]);
  });

  it('puts everything in one group when the whole is below the target, and no files in one empty group', () => {
    expect(groupsOf([1, 2, 3], 1000)).toEqual([[0, 1, 2]]);
    expect(fileGroupStarts([], 1000)).toEqual([0]);
    expect(groupsOf([], 1000)).toEqual([[]]);
  });

  it('assigns every file to exactly one group, in order, for random sizes and targets', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = rng.int(60);
      const sizes = Array.from({ length: n }, () => 1 + rng.int(1000));
      const target = 1 + rng.int(3000);
      const groups = groupsOf(sizes, target);
      expect(groups.flat()).toEqual(Array.from({ length: n }, (_, i) => i));
      // Every group but the last reaches the target; none is empty unless there are no files.
      for (const [g, files] of groups.entries()) {
        const bytes = files.reduce((a, i) => a + sizes[i], 0);
        if (g < groups.length - 1) expect(bytes).toBeGreaterThanOrEqual(target);
        if (n > 0) expect(files.length).toBeGreaterThan(0);
        // Without its last file a group is still below the target (it was closed at the first chance).
        if (files.length > 0) expect(bytes - sizes[files[files.length - 1]]).toBeLessThan(target);
      }
    }
  });

  it('raises the target so that there are never more than MAX_SHARDS groups', () => {
    const daily = Array.from({ length: 3000 }, () => 5 * MB); // 15 GB of 5 MB files against 1 MB groups
    const groups = groupsOf(daily, MB);
    expect(groups.length).toBeLessThanOrEqual(MAX_SHARDS);
    expect(groups.length).toBeGreaterThan(MAX_SHARDS / 2);
    expect(groups.flat().length).toBe(3000);
    expect(groupsOf([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 1, 4).length).toBeLessThanOrEqual(4);
  });

  it('depends only on the sizes in key order and the target: the same on every worker', () => {
    const sizes = [5, 9, 1, 30, 2, 2, 8];
    expect(fileGroupStarts(sizes, 10)).toEqual(fileGroupStarts([...sizes], 10));
    expect(fileGroupStarts(sizes, 10)).toEqual([0, 2, 4]);
  });

  it('refuses a target that is not a positive number of bytes', () => {
    expect(() => fileGroupStarts([1], 0)).toThrow(/positive number of bytes/);
    expect(() => fileGroupStarts([1], Number.NaN)).toThrow(/positive number of bytes/);
  });

  it('defaults to 128 MiB per group (ingest.fileGroupBytes)', () => {
    expect(DEFAULT_FILE_GROUP_BYTES).toBe(128 * MB);
    expect(parseRunConfig({}).ingest.fileGroupBytes).toBe(DEFAULT_FILE_GROUP_BYTES);
    expect(parseRunConfig({ ingest: { fileGroupBytes: 1000 } }).ingest.fileGroupBytes).toBe(1000);
  });
});
