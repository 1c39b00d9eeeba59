/**
 * `custflow report RUN_ID` and `custflow export RUN_ID --crm FILE`: download what a run's report stage
 * wrote (the HTML report, the per-customer CRM export) to a local file.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ObjectStore } from '../../lib/objectStore';
import { readRunSummary } from './runs';

/** The report stage's outputs a person downloads, by the name the stage gives them. */
export type RunDownload = 'html' | 'crm';

const WHAT: Record<RunDownload, string> = { html: 'report', crm: 'CRM export' };

export interface DownloadedOutput {
  /** Where the output is in the bucket. */
  uri: string;
  /** The local file written (absolute). */
  file: string;
  bytes: number;
  /** The run's CRM export, for `report` to mention (null: none). */
  crm: string | null;
}

export async function downloadRunOutput(
  runId: string,
  output: RunDownload,
  file: string,
  store = ObjectStore.fromEnv(),
): Promise<DownloadedOutput> {
  const summary = await readRunSummary(runId, store);
  const report = summary.stages.report;
  const uri = report?.outputs[output];
  if (!uri)
    throw new Error(
      `run ${runId} has no ${WHAT[output]} (report stage: ${report?.status ?? 'missing'}${report?.error ? `: ${report.error.message}` : ''})`,
    );
  const local = resolve(file);
  await store.getToFile(store.keyFromUri(uri), local);
  return { uri, file: local, bytes: (await stat(local)).size, crm: report.outputs.crm ?? null };
}
