/**
 * Recording workflow histories for the determinism test (tests/unit/backbone/workflowReplay.test.ts).
 * When CUSTFLOW_RECORD_HISTORIES=1, integration tests save the histories of the runs, backfills and
 * replays they complete under tests/histories/. Re-record after a deliberate, versioned workflow change.
 */
import { writeFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export const HISTORIES_DIR = new URL('../histories/', import.meta.url).pathname;

export async function recordHistory(
  client: Client,
  name: string,
  workflowId: string,
  runId?: string,
): Promise<void> {
  if (process.env.CUSTFLOW_RECORD_HISTORIES !== '1') return;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  // The proto3 JSON form that `temporal workflow show --output json` prints and historyFromJSON reads.
  const json = JSON.parse(historyToJSON(history)) as unknown;
  await writeFile(
    `${HISTORIES_DIR}${name}.json`,
    JSON.stringify({ workflowId, history: json }, null, 1) + '\n',
  );
}
