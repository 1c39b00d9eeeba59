/**
 * Where everything lives in the bucket (docs/DESIGN.md, storage layout). Pure string functions.
 *
 *   raw/<dataset>/<format>/<table>/...                  files as delivered
 *   runs/<dataset>/<YYYY-MM>/<runId>/<stage>/...        stage outputs, _manifest.json last
 *   runs/<dataset>/<YYYY-MM>/<runId>/run.json           the run summary
 *   runs/<dataset>/<YYYY-MM>/_cache/<stage>/<key>.json  cache index: which manifest holds outputs for a key
 *   runs/_index/<runId>.json                            runId -> dataset, month (for `runs show RUN_ID`)
 */
import { parseMonth } from './month';

const DATASET_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function assertDatasetName(dataset: string): void {
  if (!DATASET_PATTERN.test(dataset)) {
    throw new Error(
      `dataset "${dataset}" must be 1-63 characters of lower-case letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
}

export const rawPrefix = (dataset: string): string => `raw/${dataset}/`;

export function runPrefix(dataset: string, month: string, runId: string): string {
  parseMonth(month);
  return `runs/${dataset}/${month}/${runId}/`;
}

export const stagePrefix = (dataset: string, month: string, runId: string, stage: string): string =>
  `${runPrefix(dataset, month, runId)}${stage}/`;

export const manifestKey = (dataset: string, month: string, runId: string, stage: string): string =>
  `${stagePrefix(dataset, month, runId, stage)}_manifest.json`;

export const runSummaryKey = (dataset: string, month: string, runId: string): string =>
  `${runPrefix(dataset, month, runId)}run.json`;

export const cacheIndexKey = (dataset: string, month: string, stage: string, cacheKey: string): string =>
  `runs/${dataset}/${month}/_cache/${stage}/${cacheKey}.json`;

export const runIndexKey = (runId: string): string => `runs/_index/${runId}.json`;

/** The run config as the workflow received it (for replays). */
export const runConfigKey = (dataset: string, month: string, runId: string): string =>
  `${runPrefix(dataset, month, runId)}config.json`;

/** The latest completed run of a dataset and month (what backfill skips). */
export const latestCompletedKey = (dataset: string, month: string): string =>
  `runs/${dataset}/${month}/_latest_completed.json`;
