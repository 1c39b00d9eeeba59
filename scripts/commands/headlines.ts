/**
 * The HEADLINES block of the human run summary: the figures a stakeholder looks for first, one line each,
 * from the stages' metrics. Revenue and the next open period come from the report's metrics (`headlines`),
 * so the terminal and the report say the same thing in the same words ("Dec 1-9 vs Nov 1-9"). Imports
 * nothing of Temporal or DuckDB: `runs show` must start fast.
 */
import {
  nextPeriodHeadlineText,
  revenueHeadlineText,
  type Headlines,
} from '../../activities/report/headlines';
import type { RunSummary } from '../../lib/runTypes';

const count = (n: unknown): string | undefined =>
  typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : undefined;
const decimal = (n: unknown, digits: number): string | undefined =>
  typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : undefined;

/**
 * The figures a stakeholder looks for first, one line each, from the stages' metrics (a stage that did not
 * finish contributes nothing): rows in, kept and quarantined; revenue of the month against the comparable span
 * of the previous one; segments; churn AUC; total CLV; the forecast and its next open period.
 */
export function headlineFigures(summary: RunSummary): string[] {
  const metrics = (stage: string): Record<string, unknown> | undefined => {
    const s = summary.stages[stage];
    return s && (s.status === 'completed' || s.status === 'cached') ? s.metrics : undefined;
  };
  const lines: string[] = [];
  const clean = metrics('clean');
  if (clean && count(clean.inputRows)) {
    const input = Number(clean.inputRows);
    const quarantined = Number(clean.quarantinedRows);
    const share =
      input > 0 && Number.isFinite(quarantined) ? ` (${((100 * quarantined) / input).toFixed(1)}%)` : '';
    const duplicates =
      Number(clean.duplicateRows) > 0 ? `, ${count(clean.duplicateRows)} duplicates dropped` : '';
    lines.push(
      `rows       ${count(clean.inputRows)} in, ${count(clean.outputRows) ?? '?'} kept, ${count(clean.quarantinedRows) ?? '?'} quarantined${share}${duplicates}`,
    );
  }
  const headlines = metrics('report')?.headlines as Headlines | null | undefined;
  if (headlines?.revenue) {
    lines.push(`revenue    ${revenueHeadlineText(headlines.revenue, headlines.currency)}`);
  }
  const segment = metrics('segment');
  if (segment && typeof segment.k === 'number') {
    const silhouette = decimal(segment.silhouette, 3);
    lines.push(`segments   k = ${segment.k}${silhouette ? ` (silhouette ${silhouette})` : ''}`);
  }
  const churn = metrics('churn');
  if (churn && decimal(churn.auc, 3)) {
    const baseline = decimal(churn.baselineAuc, 3);
    lines.push(`churn      AUC ${decimal(churn.auc, 3)}${baseline ? ` (baseline ${baseline})` : ''}`);
  }
  const clv = metrics('clv');
  if (clv && count(clv.totalClv)) {
    const horizon = typeof clv.horizonMonths === 'number' ? ` over ${clv.horizonMonths} months` : '';
    const customers = count(clv.customers);
    lines.push(
      `CLV        total ${count(clv.totalClv)}${horizon}${customers ? `, ${customers} customers` : ''}`,
    );
  }
  const forecast = metrics('forecast');
  if (forecast && typeof forecast.model === 'string') {
    const mase = decimal(forecast.mase, 3);
    const baseline = decimal(forecast.baselineMase, 3);
    lines.push(
      `forecast   ${forecast.model}${mase ? `, MASE ${mase}` : ''}${baseline ? ` (baseline ${baseline})` : ''}`,
    );
  }
  if (headlines?.next) lines.push(`next       ${nextPeriodHeadlineText(headlines.next, headlines.currency)}`);
  return lines;
}
