/** The report's masthead and the run's warnings banner under it. */
import { escapeHtml as esc, fmtTimestamp } from '../format';
import type { ReportRun } from '../model';
import { type Ctx, badge, wrapAtUnderscores, runStatusTone } from './blocks';

export function masthead(ctx: Ctx, title: string): string {
  const run = ctx.data.run;
  const meta: string[] = [
    `<span>Run <b>${esc(run.runId)}</b></span>`,
    `<span>Status ${badge(run.status, runStatusTone(run.status)).html}</span>`,
    `<span>Cutoff <b>${esc(fmtTimestamp(run.cutoff))}</b></span>`,
    `<span>Generated <b>${esc(fmtTimestamp(run.generatedAt))}</b></span>`,
  ];
  if (run.configHash) meta.push(`<span>Config <b>${esc(run.configHash)}</b></span>`);
  if (run.codeVersion) meta.push(`<span>Code <b>${esc(run.codeVersion)}</b></span>`);
  return (
    '<header class="masthead"><div class="wrap">' +
    '<div class="eyebrow">custflow · customer analytics report</div>' +
    `<h1>${esc(title)}</h1>` +
    `<div class="meta">${meta.join('')}</div>` +
    '<nav class="toc"><a href="#operational">1 · Operational</a><a href="#strategic">2 · Strategic</a><a href="#eda">3 · Exploratory</a><a href="#appendix">Appendix</a></nav>' +
    '</div></header>' +
    warningsBanner(run.warnings ?? [])
  );
}

/** Every warning of the run, right under the masthead: nobody reads a number before passing it. */
function warningsBanner(warnings: NonNullable<ReportRun['warnings']>): string {
  if (warnings.length === 0) return '';
  const items = warnings
    .map(
      (w) => `<li><b>${esc(w.stage)}</b>: ${esc(w.message)} <code>${wrapAtUnderscores(w.code)}</code></li>`,
    )
    .join('');
  const noun = warnings.length === 1 ? 'warning' : 'warnings';
  return (
    '<div class="wrap"><section class="warnings" role="alert" id="warnings">' +
    `<h2>${warnings.length} ${noun}: read before trusting the numbers</h2><ul>${items}</ul></section></div>`
  );
}
