/**
 * `custflow runs list | show` and the run summary for people: reading summaries from the bucket needs S3
 * only, so this module imports nothing of Temporal (`runs list` starts fast).
 */
import { join, resolve } from 'node:path';
import { stateDir } from '../../lib/env';
import { ObjectStore } from '../../lib/objectStore';
import type { RunSummary } from '../../lib/runTypes';
import { headlineFigures } from './headlines';
import { formatDuration } from './output';

export { headlineFigures } from './headlines';
// reading summaries lives in lib/ (the console reads them too); re-exported for the commands and tests
export { listRuns, readRunSummary, RunSummaryCache } from '../../lib/runSummaries';

/**
 * Where `run --wait` saves a run's HTML report: `file` when given, else reports/<dataset>-<month>-<runId>.html
 * under the stack's state directory. Undefined when the run has no report.
 */
export async function downloadReport(
  summary: RunSummary,
  file?: string,
  store = ObjectStore.fromEnv(),
): Promise<string | undefined> {
  const html = summary.stages.report?.outputs.html;
  if (!html) return undefined;
  const local = resolve(
    file ?? join(stateDir(), 'reports', `${summary.dataset}-${summary.month}-${summary.runId}.html`),
  );
  await store.getToFile(store.keyFromUri(html), local);
  return local;
}

/** Human-readable summary for the terminal; `reportFile`: where the report was saved locally. */
export function describeSummary(summary: RunSummary, options: { reportFile?: string } = {}): string {
  const lines = [
    `run ${summary.runId}  ${summary.dataset} ${summary.month}  ${summary.status}  ${formatDuration(summary.durationMs)}`,
  ];
  for (const [stage, s] of Object.entries(summary.stages)) {
    const detail = s.error ? `  ${s.error.message}` : s.retry ? `  ${s.retry.description}` : '';
    lines.push(
      `  ${stage.padEnd(10)} ${s.status.padEnd(9)} ${formatDuration(s.durationMs).padStart(9)}${detail}`,
    );
  }
  const headlines = headlineFigures(summary);
  if (headlines.length > 0) {
    lines.push('HEADLINES');
    for (const line of headlines) lines.push(`  ${line}`);
  }
  const warnings = summary.warnings ?? [];
  if (warnings.length > 0) {
    lines.push(`WARNINGS (${warnings.length}): read these before trusting the numbers`);
    for (const w of warnings) lines.push(`  ! ${w.stage} [${w.code}] ${w.message}`);
  }
  lines.push(`summary: ${summary.summaryUri}`);
  if (summary.reportUri) lines.push(`report:  ${summary.reportUri}`);
  if (options.reportFile) lines.push(`         saved as ${options.reportFile}`);
  const crm = summary.stages.report?.outputs.crm;
  if (crm) lines.push(`CRM export: ${crm} (npx custflow export ${summary.runId} --crm customers.csv)`);
  return lines.join('\n');
}
