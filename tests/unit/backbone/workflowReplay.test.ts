/**
 * Determinism: histories of real completed runs, backfills and replays (recorded by the integration
 * tests) are replayed against the current workflow code. A change that would break workflows already
 * running fails here: version it with `patched()` instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../../workers/worker';

const DIR = new URL('../../histories/', import.meta.url).pathname;
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('workflow histories replay against the current code', () => {
  it('has recorded histories of runs, backfills and replays', () => {
    expect(files.some((f) => f.startsWith('monthly'))).toBe(true);
    expect(files.some((f) => f.startsWith('backfill'))).toBe(true);
    expect(files.some((f) => f.startsWith('replay'))).toBe(true);
  });

  it('replays every history without nondeterminism', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
    for (const file of files) {
      const saved = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as {
        workflowId: string;
        history: unknown;
      };
      await expect(
        Worker.runReplayHistory(
          { workflowBundle: { code } },
          historyFromJSON(saved.history),
          saved.workflowId,
        ),
        file,
      ).resolves.toBeUndefined();
    }
  }, 180_000);
});
