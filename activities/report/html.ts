/**
 * The run report: one self-contained HTML5 document (inline CSS, inline SVG charts, no script, no external
 * resource) with an operational page and a strategic page. Every string from the data goes through
 * `escapeHtml`; table cells are escaped by default (see `Cell`). The same data renders the same bytes.
 */
import {
  currencySymbol,
  escapeHtml as esc,
  fmtCompact,
  fmtDate,
  fmtDuration,
  fmtInt,
  fmtMoney,
  fmtMoneyCompact,
  fmtNum,
  fmtP,
  fmtPPhrase,
  fmtPct,
  fmtSignedPct,
  fmtTimestamp,
  isNum,
  MISSING,
} from './format';
import type {
  ReportChurn,
  ReportClv,
  ReportCohorts,
  ReportData,
  ReportDataQuality,
  ReportExperiment,
  ReportExperiments,
  ReportFeatures,
  ReportForecast,
  ReportRankingMetrics,
  ReportRecommend,
  ReportRun,
  ReportSection,
  ReportSegments,
  ReportStage,
} from './model';
import {
  barChart,
  columnChart,
  forestPlot,
  FULL_WIDTH,
  groupedBarChart,
  HALF_WIDTH,
  heatmap,
  histogram,
  lineChart,
  PALETTE,
  xyChart,
} from './svg';

/** Rows shown in long customer lists (the full lists are in the CRM export). */
const LIST_ROWS = 20;

/** Forecast periods listed in the table (the chart shows them all). */
const FORECAST_ROWS = 12;

/** Lag between the last transaction and the cutoff above which data is flagged as stale. */
const STALE_AFTER_DAYS = 7;

/** A table cell: plain text (escaped here) or markup built by this module from escaped parts. */
type Cell = string | { html: string };

interface Column {
  label: string;
  numeric?: boolean;
}

/** Which stage produces each optional section (for the "not available" reason). */
const SECTION_STAGE: Record<Exclude<ReportSection, 'exports'>, string> = {
  dataQuality: 'clean',
  features: 'features',
  cohorts: 'features',
  segments: 'segment',
  clv: 'clv',
  churn: 'churn',
  forecast: 'forecast',
  experiments: 'experiment',
  recommend: 'recommend',
  topProducts: 'features',
};

const CSS = `
:root{--text:#1e293b;--muted:#64748b;--border:#e2e8f0;--bg:#f4f6f9;--card:#fff;--accent:#2f6fdf;--ink:#0f172a}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
.wrap{max-width:1100px;margin:0 auto;padding:0 20px}
.masthead{background:var(--ink);color:#fff;padding:28px 0 22px}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:#94a3b8;font-weight:600}
h1{font-size:26px;line-height:1.25;margin:4px 0 10px;font-weight:650;overflow-wrap:break-word}
.meta{display:flex;flex-wrap:wrap;gap:4px 22px;color:#cbd5e1;font-size:13px}
.meta b{color:#fff;font-weight:600}
.toc{margin-top:14px;font-size:13px}
.toc a{color:#93c5fd;text-decoration:none;margin-right:18px}
.page{padding:26px 0 8px}
.page-head{display:flex;align-items:baseline;gap:14px;border-bottom:2px solid var(--ink);padding-bottom:6px;margin-bottom:4px}
.page-head h2{font-size:21px;margin:0;font-weight:650}
.page-head span{color:var(--muted);font-size:13px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin:16px 0}
.kpi{background:var(--card);border:1px solid var(--border);border-radius:8px;padding:12px 14px}
.kpi .label{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.kpi .value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.3;margin-top:2px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.kpi .value.word{font-size:18px;line-height:1.6;text-overflow:clip;overflow:visible;letter-spacing:-.01em}
.kpi .sub{font-size:12px;color:var(--muted)}
.card{background:var(--card);border:1px solid var(--border);border-radius:10px;padding:18px 20px;margin:16px 0;break-inside:avoid}
.card h3{margin:0 0 2px;font-size:16px;font-weight:650}
.card h4{margin:14px 0 6px;font-size:13px;font-weight:650;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.lede{color:var(--muted);margin:0 0 12px;font-size:13px}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:20px;align-items:start}
@media (max-width:900px){.grid2{grid-template-columns:minmax(0,1fr)}}
table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
th{text-align:left;font-weight:600;color:var(--muted);font-size:12px;border-bottom:1px solid #cbd5e1;padding:6px 8px;white-space:nowrap}
td{padding:5px 8px;border-bottom:1px solid #eef1f5;vertical-align:top;overflow-wrap:break-word}
table.kv{width:auto;min-width:55%}
table.kv td:first-child{color:var(--muted);padding-right:28px}
tbody tr:nth-child(even){background:#fafbfd}
tr.chosen td{background:#eef4ff;font-weight:600}
.tw{overflow-x:auto}
.nowrap{white-space:nowrap}
td .sub{color:var(--muted);font-size:12px}
.num{text-align:right;white-space:nowrap}
th.num{text-align:right}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;background:#f1f5f9;padding:1px 4px;border-radius:4px;overflow-wrap:break-word}
/* only identifiers with no word in them (URIs, run ids) may break anywhere; names wrap at their underscores (<wbr>) */
code.id{overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.ok{background:#dcfce7;color:#166534}.warn{background:#fef3c7;color:#92400e}.bad{background:#fee2e2;color:#991b1b}.neutral{background:#e2e8f0;color:#334155}
.na{background:#f8fafc;border:1px dashed #cbd5e1;color:var(--muted);padding:10px 14px;border-radius:8px;margin:8px 0}
.note{color:var(--muted);font-size:12.5px;margin:8px 0 0}
.error{color:#991b1b;font-size:12.5px}
.warnings{background:#fff7e6;border:1px solid #f0b429;border-left:6px solid #d97706;border-radius:8px;padding:12px 16px;margin:18px 0 0;color:#3d2a00}
.warnings h2{font-size:15px;margin:0 0 6px;color:#92400e}
.warnings ul{margin:0;padding-left:18px;font-size:13.5px}
.warnings code{font-size:12px;color:#92400e}
svg.chart{display:block;max-width:100%;height:auto;font-family:inherit;font-size:11px;margin:4px 0}
.personas{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px;margin-top:12px}
.persona{border:1px solid var(--border);border-left-width:5px;border-radius:8px;padding:10px 14px}
.persona h5{margin:0;font-size:14.5px;font-weight:650;overflow-wrap:break-word}
.persona .figures{font-size:12.5px;color:var(--muted);margin:2px 0 6px;font-variant-numeric:tabular-nums}
.persona p{margin:0 0 6px;font-size:13px}
.persona ul{margin:0;padding-left:18px;font-size:13px}
.stats{display:flex;flex-wrap:wrap;gap:6px 22px;font-size:13px;margin:4px 0 10px}
.stats span{color:var(--muted)}
.stats b{font-variant-numeric:tabular-nums;font-weight:600}
details.appendix>summary{cursor:pointer;font-weight:650;font-size:15px}
details.appendix[open]>summary{margin-bottom:8px}
dl.reasons{margin:10px 0 0;font-size:13px}
dl.reasons dt{margin-top:6px}
dl.reasons dd{margin:2px 0 0 0;color:var(--text)}
footer{color:var(--muted);font-size:12px;padding:18px 0 36px;border-top:1px solid var(--border);margin-top:20px}
@media print{
  body{background:#fff;font-size:12px}
  .masthead{padding:16px 0}
  .page{break-before:page;padding-top:0}
  .page:first-of-type{break-before:auto}
  .card{border-color:#d5dbe3}
  .toc{display:none}
}
@page{size:A4;margin:12mm}
`;

/** Render the report document. Pure: no clock, no I/O. */
export function renderReport(data: ReportData): string {
  // the dataset's currency (format default or config); none: amounts are plain numbers
  const currency = data.run.currency;
  const ctx: Ctx = {
    data,
    currency,
    money: (v) => fmtMoney(v, currency),
    moneyShort: (v) => fmtMoneyCompact(v, currency),
  };
  const title = `${data.run.dataset} · ${monthName(data.run.month)}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // No script, no network: even markup that slipped past escaping could neither run nor load anything.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="custflow report">',
    `<title>${esc(`custflow report · ${title}`)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    masthead(ctx, title),
    '<main class="wrap">',
    operationalPage(ctx),
    strategicPage(ctx),
    appendix(ctx),
    '</main>',
    `<footer class="wrap">Generated by custflow for run <code class="id">${esc(data.run.runId)}</code> on ${esc(fmtTimestamp(data.run.generatedAt))}. ` +
      'This file is self-contained: charts are inline SVG, and it needs no network and no script.</footer>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

interface Ctx {
  data: ReportData;
  currency: string | undefined;
  money: (value: number | null | undefined) => string;
  moneyShort: (value: number) => string;
}

// ---------------------------------------------------------------- building blocks

/** 'YYYY-MM' as 'March 2011' (the input itself when it does not parse). */
function monthName(month: string): string {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) return month;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
  return new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}

function cellHtml(cell: Cell): string {
  return typeof cell === 'string' ? esc(cell) : cell.html;
}

function table(
  columns: Column[],
  rows: Cell[][],
  rowClasses?: (string | null)[],
  tableClass?: string,
): string {
  const head = columns.map((c) => `<th${c.numeric ? ' class="num"' : ''}>${esc(c.label)}</th>`).join('');
  const body = rows
    .map((row, i) => {
      const cls = rowClasses?.[i];
      const cells = row
        .map((cell, j) => `<td${columns[j]?.numeric ? ' class="num"' : ''}>${cellHtml(cell)}</td>`)
        .join('');
      return `<tr${cls ? ` class="${cls}"` : ''}>${cells}</tr>`;
    })
    .join('');
  return `<div class="tw"><table${tableClass ? ` class="${tableClass}"` : ''}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function badge(label: string, tone: 'ok' | 'warn' | 'bad' | 'neutral'): { html: string } {
  return { html: `<span class="badge ${tone}">${esc(label)}</span>` };
}

/**
 * A name in monospace (a feature, a reason code). It may wrap only after an underscore (<wbr>), never inside
 * a word: "frequency_orders" breaks as "frequency_" / "orders" on a narrow screen, not "frequency_order" / "s".
 */
function code(value: string): { html: string } {
  return { html: `<code>${wrapAtUnderscores(value)}</code>` };
}

/** An identifier with no words in it (an S3 URI, a run id): it may break anywhere to fit. */
function codeId(value: string): { html: string } {
  return { html: `<code class="id">${esc(value)}</code>` };
}

/** Escaped text with a <wbr> after each underscore, the only place a snake_case name may wrap. */
export function wrapAtUnderscores(value: string): string {
  return value
    .split('_')
    .map((part) => esc(part))
    .join('_<wbr>');
}

function card(title: string, lede: string | null, body: string, id?: string): string {
  return (
    `<section class="card"${id ? ` id="${id}"` : ''}><h3>${esc(title)}</h3>` +
    (lede ? `<p class="lede">${esc(lede)}</p>` : '') +
    body +
    '</section>'
  );
}

/** A headline card. `word`: the value is one word that must be read whole (a status), never cut to "COMPLE…". */
function kpi(label: string, value: string, sub?: string, options: { word?: boolean } = {}): string {
  return (
    `<div class="kpi"><div class="label">${esc(label)}</div><div class="value${options.word ? ' word' : ''}" title="${esc(value)}">${esc(value)}</div>` +
    (sub ? `<div class="sub">${esc(sub)}</div>` : '') +
    '</div>'
  );
}

/** Money for a headline card: millions as '£1.18M' so the figure fits the card. */
function kpiMoney(ctx: Ctx, value: number): string {
  if (!isNum(value) || Math.abs(value) < 1e6) return ctx.money(value);
  const millions = fmtNum(value / 1e6, Math.abs(value) >= 1e8 ? 0 : 2);
  return millions.startsWith('−')
    ? `−${currencySymbol(ctx.currency)}${millions.slice(1)}M`
    : `${currencySymbol(ctx.currency)}${millions}M`;
}

function stats(items: [string, string][]): string {
  return `<div class="stats">${items.map(([label, value]) => `<div><span>${esc(label)}</span> <b>${esc(value)}</b></div>`).join('')}</div>`;
}

function grid2(a: string, b: string): string {
  return `<div class="grid2"><div>${a}</div><div>${b}</div></div>`;
}

function notAvailable(reason: string): string {
  return `<div class="na">Not available: ${esc(reason)}</div>`;
}

/** Why a section is missing: the reason passed in, else the state of the stage that produces it. */
export function unavailableReason(data: ReportData, section: ReportSection): string {
  const given = data.unavailable?.[section];
  if (given) return given;
  if (section === 'exports') return 'no export was written with this report';
  const stageName = SECTION_STAGE[section];
  const stage = data.run.stages.find((s) => s.name === stageName);
  if (!stage) return `the ${stageName} stage did not run`;
  switch (stage.status) {
    case 'failed':
      return `the ${stageName} stage failed${stage.error ? `: ${stage.error}` : ''}`;
    case 'skipped':
      return `the ${stageName} stage was skipped`;
    case 'cancelled':
      return `the run was cancelled before the ${stageName} stage finished`;
    case 'pending':
    case 'running':
      return `the ${stageName} stage has not finished`;
    default:
      return `the ${stageName} stage produced no data for this part`;
  }
}

function runStatusTone(status: string): 'ok' | 'warn' | 'bad' | 'neutral' {
  if (status === 'COMPLETED') return 'ok';
  if (status === 'FAILED' || status === 'TIMED_OUT' || status === 'TERMINATED') return 'bad';
  if (status === 'RUNNING') return 'neutral';
  return 'warn';
}

function stageTone(status: ReportStage['status']): 'ok' | 'warn' | 'bad' | 'neutral' {
  if (status === 'completed' || status === 'thisReport') return 'ok';
  if (status === 'cached') return 'neutral';
  if (status === 'failed') return 'bad';
  return 'warn';
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) if (isNum(value)) total += value;
  return total;
}

/** Dates shown on chart axes: an ISO timestamp is cut to its date. */
function shortDate(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T/.test(value) ? value.slice(0, 10) : value;
}

// ---------------------------------------------------------------- masthead

function masthead(ctx: Ctx, title: string): string {
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
    '<nav class="toc"><a href="#operational">1 · Operational</a><a href="#strategic">2 · Strategic</a><a href="#appendix">Appendix</a></nav>' +
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

// ---------------------------------------------------------------- operational page

function operationalPage(ctx: Ctx): string {
  const { data } = ctx;
  const dq = data.dataQuality;
  const cards: string[] = [];
  const kpis: string[] = [
    kpi('Run status', data.run.status, `${data.run.stages.length} stages`, { word: true }),
  ];
  if (dq) {
    const quarantined = sum(Object.values(dq.quarantinedByReason));
    kpis.push(kpi('Rows in', fmtInt(dq.inputRows)));
    kpis.push(
      kpi(
        'Rows kept',
        fmtInt(dq.outputRows),
        dq.inputRows > 0 ? `${fmtPct(dq.outputRows / dq.inputRows)} of input` : undefined,
      ),
    );
    kpis.push(
      kpi(
        'Quarantined',
        fmtInt(quarantined),
        dq.inputRows > 0 ? `${fmtPct(quarantined / dq.inputRows, 2)} of input` : undefined,
      ),
    );
    kpis.push(kpi('Customers', fmtInt(dq.customers)));
    const lag = freshnessLagDays(dq.lastTs, data.run.cutoff);
    kpis.push(
      kpi('Data lag', isNum(lag) ? `${fmtNum(lag, 1)} days` : MISSING, `last row ${fmtDate(dq.lastTs)}`),
    );
  }
  cards.push(stagesCard(ctx));
  cards.push(
    dq
      ? dataQualityCard(ctx, dq)
      : card('Data quality', null, notAvailable(unavailableReason(data, 'dataQuality'))),
  );
  cards.push(dq ? freshnessCard(ctx, dq) : '');
  cards.push(exportsCard(ctx));
  return (
    '<section class="page" id="operational"><div class="page-head"><h2>1 · Operational</h2>' +
    '<span>Did the run work, and can its numbers be trusted?</span></div>' +
    `<div class="kpis">${kpis.join('')}</div>` +
    cards.join('') +
    '</section>'
  );
}

function stagesCard(ctx: Ctx): string {
  const stages = ctx.data.run.stages;
  if (stages.length === 0) return card('Stages', null, notAvailable('the run summary lists no stages'));
  // The report stage renders this file: its own duration is not known yet, so it is neither timed nor charted.
  const timed = stages.filter((s) => s.status !== 'thisReport');
  const total = sum(timed.map((s) => s.durationMs));
  const rows: Cell[][] = stages.map((stage) => [
    stage.name,
    badge(stage.status === 'thisReport' ? 'this report' : stage.status, stageTone(stage.status)),
    stage.status === 'thisReport' ? MISSING : fmtDuration(stage.durationMs),
    stage.status === 'thisReport'
      ? 'renders this file and the CRM export'
      : stage.error
        ? { html: `<span class="error">${esc(stage.error)}</span>` }
        : stage.computedByRunId
          ? `outputs reused from run ${stage.computedByRunId}`
          : '',
  ]);
  const colors: Record<string, string> = { failed: '#d94a4a', cached: '#9aa5b4', completed: PALETTE[0] };
  const chart = barChart({
    label: 'Stage durations',
    items: timed.map((stage) => ({
      label: stage.name,
      value: stage.durationMs / 1000,
      color: colors[stage.status] ?? '#f08c2e',
    })),
    format: (seconds) => fmtDuration(seconds * 1000),
    width: HALF_WIDTH,
  });
  const table1 = table(
    [{ label: 'Stage' }, { label: 'Status' }, { label: 'Duration', numeric: true }, { label: 'Note' }],
    rows,
  );
  return card(
    'Stages',
    `Wall time of each stage (${fmtDuration(total)} in all; parallel branches overlap). Cached stages reused earlier outputs.`,
    grid2(table1, chart),
  );
}

function dataQualityCard(ctx: Ctx, dq: ReportDataQuality): string {
  const reasons = Object.entries(dq.quarantinedByReason).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  );
  const quarantined = sum(reasons.map(([, n]) => n));
  const accounted = dq.outputRows + quarantined + dq.duplicateRows + dq.afterCutoffRows;
  const share = (n: number): string => (dq.inputRows > 0 ? fmtPct(n / dq.inputRows, 2) : MISSING);
  const flow = table(
    [{ label: 'Rows' }, { label: 'Count', numeric: true }, { label: 'Share of input', numeric: true }],
    [
      ['Delivered (input)', fmtInt(dq.inputRows), share(dq.inputRows)],
      ['Kept (clean)', fmtInt(dq.outputRows), share(dq.outputRows)],
      ...(dq.nonMerchandiseRows
        ? [
            [
              'of which non-merchandise (postage, fees; flagged, kept)',
              fmtInt(dq.nonMerchandiseRows),
              share(dq.nonMerchandiseRows),
            ],
          ]
        : []),
      ['Quarantined (broke a rule)', fmtInt(quarantined), share(quarantined)],
      ['Exact duplicates removed', fmtInt(dq.duplicateRows), share(dq.duplicateRows)],
      ['After the cutoff (set aside)', fmtInt(dq.afterCutoffRows), share(dq.afterCutoffRows)],
    ],
  );
  const byCode = Object.entries(dq.nonMerchandiseByCode ?? {});
  const nonMerchandise =
    byCode.length > 0
      ? `<p class="note">Non-merchandise lines by code: ${byCode.map(([c, n]) => `${esc(c)} ${esc(fmtInt(n))}`).join(', ')}. They count in revenue, not in product rankings or basket features.</p>`
      : '';
  const reconciled =
    accounted === dq.inputRows
      ? `<p class="note">${badge('reconciled', 'ok').html} every input row is kept, quarantined, a duplicate or after the cutoff.</p>`
      : `<p class="note">${badge('check', 'warn').html} ${esc(fmtInt(dq.inputRows - accounted))} input rows are not accounted for.</p>`;
  const reasonBlock =
    reasons.length === 0 || quarantined === 0
      ? '<p class="note">No row was quarantined.</p>'
      : barChart({
          label: 'Quarantined rows by reason',
          items: reasons.map(([reason, n]) => ({ label: reason, value: n, color: '#d97742' })),
          format: fmtInt,
        }) +
        table(
          [
            { label: 'Reason' },
            { label: 'Rows', numeric: true },
            { label: 'Share of quarantine', numeric: true },
          ],
          reasons.map(([reason, n]) => [code(reason), fmtInt(n), fmtPct(n / quarantined)]),
        ) +
        reasonExplanations(reasons.filter(([, n]) => n > 0).map(([reason]) => reason));
  let events = '';
  if (dq.events) {
    const ev = dq.events;
    const evReasons = Object.entries(ev.quarantinedByReason ?? {}).filter(([, n]) => n > 0);
    events =
      '<h4>Browsing events</h4>' +
      stats([
        ['Rows in', fmtInt(ev.inputRows)],
        ['Rows kept', fmtInt(ev.outputRows)],
        ['Sessions', fmtInt(ev.sessions)],
        ['Quarantined', evReasons.length ? evReasons.map(([r, n]) => `${r} ${fmtInt(n)}`).join(', ') : '0'],
      ]);
  } else {
    events = '<h4>Browsing events</h4><p class="note">The dataset has no events table for this run.</p>';
  }
  return card(
    'Data quality',
    'How the delivered rows were handled by the clean stage.',
    grid2(flow + reconciled + nonMerchandise + events, '<h4>Quarantine by reason</h4>' + reasonBlock),
  );
}

/**
 * One plain sentence per quarantine reason of the clean stage (activities/clean/rules.ts), saying what the rows
 * are and what happens to them. True to clean: a quarantined row is kept only in quarantine.parquet, so it
 * counts in no figure of this report, revenue included (revenue is the sum of the kept rows).
 */
export const QUARANTINE_REASON_SENTENCES: Readonly<Record<string, string>> = {
  missing_customer_id:
    'Rows without a customer id (guest checkouts, or internal adjustments with no customer): they cannot be tied to anyone, so they are kept out of the customer models and out of every revenue figure here.',
  unparsable_timestamp:
    'Rows whose date could not be read as a date and time: they cannot be placed in a month, so they are left out of every figure.',
  implausible_timestamp:
    'Rows dated before the plausible floor (clean.minTimestamp, 1990-01-01 by default), usually a placeholder such as 1900-01-01: kept, they would stretch every series and tenure by decades.',
  future_timestamp:
    'Rows dated after the end of the period their file says it covers (e.g. a 2099 date in a daily file): a typo, not a future sale.',
  zero_quantity:
    'Lines with a quantity of 0: they change neither revenue nor the number of items, and would count as empty orders.',
  non_positive_price:
    'Lines with a negative unit price, or a zero one unless the format counts free lines as purchases (CDNOW): write-offs, bad-debt adjustments and free items, not sales.',
  amount_out_of_range:
    'Lines whose price or amount is not a finite number or exceeds the limit (clean.maxAbsAmount, 1e9 by default): a typo that would swamp every total.',
};

/** The sentences of the reasons present, as a definition list (an unknown reason says so rather than vanish). */
function reasonExplanations(reasons: readonly string[]): string {
  if (reasons.length === 0) return '';
  const items = reasons
    .map(
      (reason) =>
        `<dt>${code(reason).html}</dt><dd>${esc(QUARANTINE_REASON_SENTENCES[reason] ?? 'A rule of the clean stage that this report has no explanation for; see quarantine.parquet.')}</dd>`,
    )
    .join('');
  return `<h4>What each reason means</h4><dl class="reasons">${items}</dl>`;
}

/** Days between the last transaction and the cutoff (NaN when either does not parse). */
function freshnessLagDays(lastTs: string | null, cutoff: string): number {
  if (!lastTs) return Number.NaN;
  return (Date.parse(cutoff) - Date.parse(lastTs)) / 86_400_000;
}

function freshnessCard(ctx: Ctx, dq: ReportDataQuality): string {
  const lag = freshnessLagDays(dq.lastTs, ctx.data.run.cutoff);
  const spanDays =
    dq.firstTs && dq.lastTs ? (Date.parse(dq.lastTs) - Date.parse(dq.firstTs)) / 86_400_000 : Number.NaN;
  const verdict = !isNum(lag)
    ? badge('unknown', 'neutral')
    : lag < 0
      ? badge('data after cutoff', 'bad')
      : lag <= STALE_AFTER_DAYS
        ? badge('fresh', 'ok')
        : badge('stale', 'warn');
  const rows: Cell[][] = [
    ['First transaction', fmtTimestamp(dq.firstTs)],
    ['Last transaction', fmtTimestamp(dq.lastTs)],
    ['Cutoff (end of month)', fmtTimestamp(ctx.data.run.cutoff)],
    ['History covered', isNum(spanDays) ? `${fmtInt(spanDays)} days` : MISSING],
    ['Lag of last transaction to cutoff', isNum(lag) ? `${fmtNum(lag, 1)} days` : MISSING],
    ['Verdict', verdict],
  ];
  return card(
    'Data freshness',
    `Data counts as fresh when the last transaction is at most ${STALE_AFTER_DAYS} days before the cutoff.`,
    table([{ label: 'Item' }, { label: 'Value' }], rows, undefined, 'kv'),
  );
}

// ---------------------------------------------------------------- appendix

/**
 * Reference material after both pages: the feature dictionary (30-odd rows) would otherwise fill the
 * operational page that answers "did the run work?". Collapsed (<details>), so it costs one line until opened.
 */
function appendix(ctx: Ctx): string {
  const features = ctx.data.features;
  const body = !features
    ? notAvailable(unavailableReason(ctx.data, 'features'))
    : features.dictionary.length === 0
      ? notAvailable('no features were defined')
      : '<p class="lede">Per-customer features computed at the cutoff, used by segmentation and churn.</p>' +
        table(
          [{ label: 'Feature' }, { label: 'Definition' }, { label: 'Unit' }],
          features.dictionary.map((f) => [code(f.name), f.definition, f.unit]),
        );
  const count = features ? ` (${features.dictionary.length} features)` : '';
  return (
    '<section class="page" id="appendix"><div class="page-head"><h2>Appendix</h2>' +
    '<span>Reference: what each customer feature means.</span></div>' +
    `<section class="card" id="feature-dictionary"><details class="appendix"><summary>${esc(`Feature dictionary${count}`)}</summary>` +
    body +
    '</details></section></section>'
  );
}

function exportsCard(ctx: Ctx): string {
  const exports = ctx.data.exports;
  if (!exports || exports.length === 0)
    return card('Exports', null, notAvailable(unavailableReason(ctx.data, 'exports')));
  return card(
    'Exports',
    'Files written with this report (CSV, RFC 4180; cells that a spreadsheet would read as a formula start with a quote).',
    table(
      [{ label: 'File' }, { label: 'Rows', numeric: true }, { label: 'Location' }, { label: 'Contents' }],
      exports.map((e) => [e.name, fmtInt(e.rows), codeId(e.uri), e.description ?? '']),
    ),
  );
}

// ---------------------------------------------------------------- strategic page

function strategicPage(ctx: Ctx): string {
  const { data } = ctx;
  const kpis = strategicKpis(ctx);
  const cards = [
    data.features
      ? kpiTrendCard(ctx, data.features)
      : card('Monthly KPIs', null, notAvailable(unavailableReason(data, 'features'))),
    data.segments
      ? personasCard(ctx, data.segments)
      : card('Personas', null, notAvailable(unavailableReason(data, 'segments'))),
    data.segments ? migrationCard(data.segments) : '',
    data.clv
      ? clvCard(ctx, data.clv)
      : card('Customer lifetime value', null, notAvailable(unavailableReason(data, 'clv'))),
    data.churn
      ? churnCard(ctx, data.churn)
      : card('Churn risk', null, notAvailable(unavailableReason(data, 'churn'))),
    data.cohorts
      ? cohortCard(data.cohorts)
      : card('Cohort retention', null, notAvailable(unavailableReason(data, 'cohorts'))),
    data.forecast
      ? forecastCard(ctx, data.forecast)
      : card('Revenue forecast', null, notAvailable(unavailableReason(data, 'forecast'))),
    data.experiments
      ? experimentsCard(ctx, data.experiments)
      : card('Experiments and policies', null, notAvailable(unavailableReason(data, 'experiments'))),
    data.recommend
      ? recommendCard(data.recommend)
      : card('Bundles and next best offer', null, notAvailable(unavailableReason(data, 'recommend'))),
    topProductsCard(ctx),
    data.features?.insights ? insightsCard(ctx, data.features) : '',
  ];
  return (
    '<section class="page" id="strategic"><div class="page-head"><h2>2 · Strategic</h2>' +
    '<span>Who the customers are, what they are worth, and what to do next.</span></div>' +
    (kpis ? `<div class="kpis">${kpis}</div>` : '') +
    cards.join('') +
    '</section>'
  );
}

function strategicKpis(ctx: Ctx): string {
  const { data } = ctx;
  const out: string[] = [];
  const months = data.features?.kpisMonthly ?? [];
  const revenue = data.headlines?.revenue;
  // Like with like (headlines.ts): a month whose data end early is compared over the same days of the
  // previous month, and the card says which spans; a whole-month comparison of 9 days read as a collapse.
  if (revenue) {
    const sub =
      revenue.change !== null
        ? `${revenue.label}: ${fmtSignedPct(revenue.change)}`
        : `${revenue.label}${revenue.note ? ` (${revenue.note})` : ''}`;
    out.push(kpi('Revenue', kpiMoney(ctx, revenue.current.revenue), sub));
  } else if (months.length > 0) {
    const last = months[months.length - 1];
    out.push(kpi('Revenue', kpiMoney(ctx, last.revenue), `${last.month} (no comparable span)`));
  }
  if (months.length > 0) {
    const last = months[months.length - 1];
    const span = revenue?.kind === 'monthToDate' ? revenue.currentLabel : last.month;
    out.push(
      kpi('Active customers', fmtInt(last.activeCustomers), `${span} · ${fmtInt(last.newCustomers)} new`),
    );
  }
  if (data.segments)
    out.push(kpi('Personas', String(data.segments.personas.length), `k = ${data.segments.k}`));
  if (data.clv) {
    const total = sum(data.clv.bySegment.map((s) => s.totalClv));
    const customers = sum(data.clv.bySegment.map((s) => s.customers));
    out.push(
      kpi(
        'Expected CLV',
        kpiMoney(ctx, total),
        customers > 0 ? `${ctx.money(total / customers)} per customer` : undefined,
      ),
    );
  }
  if (data.churn)
    out.push(
      kpi('Churn model AUC', fmtNum(data.churn.auc, 3), `baseline ${fmtNum(data.churn.baselineAuc, 3)}`),
    );
  // The forecast's first open period after the cutoff: never a closed Saturday forecast as 0 (headlines.ts).
  const next = data.headlines?.next;
  if (next) {
    out.push(
      kpi(
        next.label,
        kpiMoney(ctx, next.mean),
        `${next.dateText} · 80%: ${ctx.moneyShort(next.lower80)} – ${ctx.moneyShort(next.upper80)}`,
      ),
    );
  }
  return out.join('');
}

function kpiTrendCard(ctx: Ctx, features: ReportFeatures): string {
  const months = features.kpisMonthly;
  if (months.length === 0) return card('Monthly KPIs', null, notAvailable('the KPI table is empty'));
  const x = months.map((m) => m.month);
  const revenue = lineChart({
    label: 'Revenue by month',
    x,
    series: [{ name: 'Revenue', values: months.map((m) => m.revenue), markers: months.length <= 36 }],
    yFormat: ctx.moneyShort,
    width: HALF_WIDTH,
    height: 230,
  });
  const customers = lineChart({
    label: 'Active and new customers by month',
    x,
    series: [
      { name: 'Active', values: months.map((m) => m.activeCustomers), color: PALETTE[0] },
      { name: 'New', values: months.map((m) => m.newCustomers), color: PALETTE[1] },
      { name: 'Returning', values: months.map((m) => m.returningCustomers), color: PALETTE[2] },
    ],
    yFormat: fmtCompact,
    width: HALF_WIDTH,
    height: 230,
  });
  const hasSessions = months.some((m) => isNum(m.conversionPerSession));
  const recent = months.slice(-12).reverse();
  const columns: Column[] = [
    { label: 'Month' },
    { label: 'Active', numeric: true },
    { label: 'New', numeric: true },
    { label: 'Orders', numeric: true },
    { label: 'Revenue', numeric: true },
    { label: 'Avg order', numeric: true },
    { label: 'Repeat rate', numeric: true },
  ];
  if (hasSessions) columns.push({ label: 'Conv./session', numeric: true });
  const rows: Cell[][] = recent.map((m) => {
    const row: Cell[] = [
      m.month,
      fmtInt(m.activeCustomers),
      fmtInt(m.newCustomers),
      fmtInt(m.orders),
      ctx.money(m.revenue),
      ctx.money(m.averageOrderValue),
      fmtPct(m.repeatRate),
    ];
    if (hasSessions) row.push(fmtPct(m.conversionPerSession, 2));
    return row;
  });
  return card(
    'Monthly KPIs',
    `Revenue and customers per calendar month up to the cutoff; the table shows the last ${recent.length} months, newest first.`,
    grid2(revenue, customers) + table(columns, rows),
  );
}

function personasCard(ctx: Ctx, segments: ReportSegments): string {
  const personas = segments.personas;
  if (personas.length === 0) return card('Personas', null, notAvailable('segmentation produced no personas'));
  const shares = groupedBarChart({
    label: 'Share of customers and of revenue by persona',
    categories: personas.map((p) => p.name),
    series: [
      { name: 'Customers', values: personas.map((p) => p.customerShare), color: '#9aa5b4' },
      { name: 'Revenue', values: personas.map((p) => p.revenueShare), color: PALETTE[0] },
    ],
    format: (v) => fmtPct(v),
    width: HALF_WIDTH,
  });
  const quality = table(
    [
      { label: 'k' },
      { label: 'Silhouette', numeric: true },
      { label: 'Inertia', numeric: true },
      { label: 'Calinski-Harabasz', numeric: true },
      { label: 'Davies-Bouldin', numeric: true },
    ],
    segments.metricsByK.map((m) => [
      String(m.k),
      fmtNum(m.silhouette, 3),
      fmtCompact(m.inertia),
      fmtNum(m.calinskiHarabasz, 1),
      fmtNum(m.daviesBouldin, 3),
    ]),
    segments.metricsByK.map((m) => (m.k === segments.k ? 'chosen' : null)),
  );
  const cards = personas
    .map((p, i) => {
      const color = PALETTE[i % PALETTE.length];
      const actions = p.actions.map((a) => `<li>${esc(a)}</li>`).join('');
      return (
        `<div class="persona" style="border-left-color:${color}"><h5>${esc(p.name)}</h5>` +
        `<div class="figures">${esc(`${fmtInt(p.customers)} customers (${fmtPct(p.customerShare)}) · ${fmtPct(p.revenueShare)} of revenue`)}</div>` +
        `<p>${esc(p.description)}</p>` +
        (actions ? `<ul>${actions}</ul>` : '') +
        '</div>'
      );
    })
    .join('');
  const left =
    stats([
      ['Segments (k)', String(segments.k)],
      ['Silhouette', fmtNum(segments.silhouette, 3)],
      ...(segments.stability !== undefined
        ? ([['Stability (bootstrap ARI)', fmtNum(segments.stability, 2)]] as [string, string][])
        : []),
      ['Chosen by', segments.chosenBy],
    ]) + (segments.metricsByK.length > 0 ? '<h4>Cluster quality by k</h4>' + quality : '');
  const rules =
    segments.rules && segments.rules.length > 0
      ? `<h4>Decision rules a CRM can automate (${esc(fmtPct(segments.ruleFidelity ?? null))} of customers placed in their own persona)</h4>` +
        table(
          [{ label: 'If' }, { label: 'Persona' }, { label: 'Customers', numeric: true }],
          segments.rules.map((r) => {
            const suffix = ` -> ${r.persona}`;
            const condition = r.text.endsWith(suffix) ? r.text.slice(0, -suffix.length) : r.text;
            return [condition, r.persona, fmtInt(r.customers)];
          }),
        )
      : '';
  const none = segments.noNetPurchase;
  // Customers who returned everything are named for that in the CRM export, never after their cluster.
  const noNetPurchase =
    none && none.customers > 0
      ? `<p class="note">${badge(none.name, 'warn').html} ${esc(
          `${fmtInt(none.customers)} ${none.customers === 1 ? 'customer has' : 'customers have'} no net purchase ` +
            '(net revenue at or below zero: every purchase returned or cancelled). The CRM export names them ' +
            `"${none.name}" whatever their segment, with no P(alive), and suggests: ${none.actions[0] ?? 'no action'}.`,
        )}</p>`
      : '';
  return card(
    'Personas',
    'Behavioural personas (what and how customers buy: order value, price, basket, category mix, weekday habit), named from how each differs from the typical customer; value tiers (RFM scores) sit beside them in the CRM export.',
    grid2('<h4>Customers and revenue</h4>' + shares, left) +
      `<div class="personas">${cards}</div>` +
      noNetPurchase +
      rules,
    'personas',
  );
}

function migrationCard(segments: ReportSegments): string {
  const m = segments.migration;
  if (!m) return card('Persona migration', null, notAvailable('no previous run to compare with'));
  let stayed = 0;
  let inBoth = 0;
  let total = 0;
  const rowShares = m.counts.map((row) => {
    const rowTotal = sum(row);
    return row.map((n) => (rowTotal > 0 ? n / rowTotal : 0));
  });
  // The last row holds customers new this month and the last column those gone since; neither had the
  // chance to keep a persona.
  m.counts.forEach((row, r) =>
    row.forEach((n, c) => {
      total += n;
      if (r === m.counts.length - 1 || c === row.length - 1) return;
      inBoth += n;
      if (m.labelsFrom[r] === m.labelsTo[c]) stayed += n;
    }),
  );
  const chart = heatmap({
    label: 'Persona migration matrix',
    rowLabels: m.labelsFrom,
    colLabels: m.labelsTo,
    values: m.counts,
    shade: rowShares,
    format: fmtInt,
    rowTitle: 'Before',
    colTitle: 'Now',
    width: FULL_WIDTH,
    legendLabels: ['0% of row', '100% of row'],
    outline: (r, c) => m.labelsFrom[r] === m.labelsTo[c],
  });
  return card(
    'Persona migration',
    `Customers by persona ${m.previousMonth ? `in ${m.previousMonth}` : 'in the previous run'} (rows) and now (columns); segments sharing a persona (spend tiers) are one row and column. Shading is the share of the row; outlined cells kept their persona.`,
    stats([
      ['Customers compared', fmtInt(total)],
      ['In both months', fmtInt(inBoth)],
      ['Kept their persona', inBoth > 0 ? fmtPct(stayed / inBoth) : MISSING],
    ]) + chart,
  );
}

/** The repeat-buying model's name and parameters, whichever model scored (the limit has r, α, p). */
function purchaseModelStats(clv: ReportClv): [string, string][] {
  if (!clv.purchaseModel) {
    return [
      ['BG/NBD r, α', `${fmtNum(clv.params.r, 3)}, ${fmtNum(clv.params.alpha, 3)}`],
      ['a, b', `${fmtNum(clv.params.a, 3)}, ${fmtNum(clv.params.b, 3)}`],
    ];
  }
  const symbol: Record<string, string> = { alpha: 'α', beta: 'β' };
  const params = Object.entries(clv.purchaseModel.params)
    .map(([name, value]) => `${symbol[name] ?? name} ${fmtNum(value, Math.abs(value) < 0.01 ? 5 : 3)}`)
    .join(', ');
  return [
    ['Purchase model', clv.purchaseModel.name],
    ['Parameters', params],
  ];
}

function clvCard(ctx: Ctx, clv: ReportClv): string {
  const hist = histogram({
    label: 'Distribution of customer lifetime value',
    edges: clv.histogram.edges,
    counts: clv.histogram.counts,
    xFormat: ctx.moneyShort,
    xTitle: 'CLV',
    yTitle: 'Customers',
    width: HALF_WIDTH,
  });
  const bySegmentSorted = [...clv.bySegment].sort((a, b) => b.totalClv - a.totalClv);
  const bySegment = barChart({
    label: 'Total CLV by segment',
    items: bySegmentSorted.map((s, i) => ({
      label: s.segment,
      value: s.totalClv,
      color: PALETTE[i % PALETTE.length],
    })),
    format: ctx.moneyShort,
    width: HALF_WIDTH,
  });
  const segmentTable = table(
    [
      { label: 'Segment' },
      { label: 'Customers', numeric: true },
      { label: 'Mean CLV', numeric: true },
      { label: 'Total CLV', numeric: true },
    ],
    bySegmentSorted.map((s) => [s.segment, fmtInt(s.customers), ctx.money(s.meanClv), ctx.money(s.totalClv)]),
  );
  const holdout =
    clv.holdout && clv.holdout.length > 0
      ? columnChart({
          label: 'Holdout: predicted and actual purchases per customer by calibration frequency',
          categories: clv.holdout.map((b) => b.frequency),
          series: [
            { name: 'Predicted', values: clv.holdout.map((b) => b.predicted), color: PALETTE[0] },
            { name: 'Actual', values: clv.holdout.map((b) => b.actual), color: PALETTE[1] },
          ],
          yFormat: (v) => fmtNum(v, v < 10 ? 1 : 0),
          xTitle: 'Purchases in the calibration period',
          yTitle: 'Holdout purchases',
          width: HALF_WIDTH,
        })
      : notAvailable('the history is too short for a holdout period');
  const top = table(
    [
      { label: '#' },
      { label: 'Customer' },
      { label: 'CLV', numeric: true },
      { label: 'P(alive)', numeric: true },
    ],
    clv.top
      .slice(0, LIST_ROWS)
      .map((c, i) => [String(i + 1), c.customerId, ctx.money(c.clv), fmtPct(c.pAlive)]),
  );
  const params = stats([
    ['Time unit', clv.timeUnit],
    ...(isNum(clv.horizon)
      ? ([['Horizon', `${fmtInt(clv.horizon)} ${clv.timeUnit}s`]] as [string, string][])
      : []),
    ...purchaseModelStats(clv),
    [
      'Gamma-Gamma p, q, v',
      `${fmtNum(clv.spend.p, 2)}, ${fmtNum(clv.spend.q, 2)}, ${fmtNum(clv.spend.v, 2)}`,
    ],
  ]);
  return card(
    'Customer lifetime value',
    'Expected discounted revenue per customer: expected purchases from the repeat-buying model times Gamma-Gamma spend per order.',
    params +
      grid2('<h4>Distribution</h4>' + hist, '<h4>By segment</h4>' + bySegment) +
      grid2(
        segmentTable + '<h4>Model check on the holdout period</h4>' + holdout,
        `<h4>Most valuable customers (top ${Math.min(LIST_ROWS, clv.top.length)})</h4>` +
          (clv.top.length > 0 ? top : '<p class="note">No customers.</p>'),
      ),
    'clv',
  );
}

function churnCard(ctx: Ctx, churn: ReportChurn): string {
  const calibration = xyChart({
    label: 'Calibration: predicted churn probability against observed churn rate',
    points: churn.calibration.map((b) => ({
      x: b.meanPredicted,
      y: b.observedRate,
      weight: b.count,
      tooltip: `predicted ${fmtPct(b.meanPredicted)}, observed ${fmtPct(b.observedRate)}, ${fmtInt(b.count)} customers`,
    })),
    xDomain: [0, 1],
    yDomain: [0, 1],
    xFormat: (v) => fmtPct(v, 0),
    yFormat: (v) => fmtPct(v, 0),
    diagonal: true,
    xTitle: 'Mean predicted probability',
    yTitle: 'Observed churn rate',
    width: HALF_WIDTH,
  });
  const importance = barChart({
    label: 'Feature importance of the churn model',
    items: [...churn.importance]
      .sort((a, b) => b.importance - a.importance)
      .slice(0, 12)
      .map((f) => ({ label: f.feature, value: f.importance, color: PALETTE[3] })),
    format: (v) => fmtNum(v, 3),
    width: HALF_WIDTH,
  });
  const atRisk = table(
    [
      { label: '#' },
      { label: 'Customer' },
      { label: 'Persona' },
      { label: 'P(churn)', numeric: true },
      { label: 'CLV', numeric: true },
    ],
    churn.atRisk
      .slice(0, LIST_ROWS)
      .map((c, i) => [
        String(i + 1),
        c.customerId,
        c.persona ?? MISSING,
        fmtPct(c.churnProbability),
        ctx.money(c.clv),
      ]),
  );
  return card(
    'Churn risk',
    `Probability that an active customer makes no purchase in the churn window${churn.window ? ` (${churn.window})` : ''}, scored at the cutoff by a model trained on an earlier cutoff.`,
    stats([
      ['Model', churn.model],
      ['AUC', fmtNum(churn.auc, 3)],
      ['Baseline AUC', fmtNum(churn.baselineAuc, 3)],
      ['PR-AUC', fmtNum(churn.prAuc, 3)],
      ['Brier', fmtNum(churn.brier, 4)],
      ['Churn rate', fmtPct(churn.positiveRate)],
    ]) +
      grid2('<h4>Calibration</h4>' + calibration, '<h4>What drives the score</h4>' + importance) +
      `<h4>Valuable customers most at risk (top ${Math.min(LIST_ROWS, churn.atRisk.length)} of ${fmtInt(churn.atRisk.length)})</h4>` +
      (churn.atRisk.length > 0 ? atRisk : '<p class="note">No customer above the risk threshold.</p>'),
    'churn',
  );
}

function cohortCard(cohorts: ReportCohorts): string {
  if (cohorts.cohortMonths.length === 0) return card('Cohort retention', null, notAvailable('no cohorts'));
  const ages = Math.max(1, cohorts.maxAge + 1);
  const values = cohorts.retention.map((row) => Array.from({ length: ages }, (_, a) => row[a] ?? null));
  // Month 0 is 100% by definition; shade against the best later month so the pattern after it shows.
  const laterMax = Math.max(1e-9, ...values.flatMap((row) => row.slice(1).filter(isNum)));
  const shade = values.map((row) =>
    row.map((v, a) => (isNum(v) ? (a === 0 ? 1 : Math.min(1, v / laterMax)) : null)),
  );
  const rowLabels = cohorts.cohortMonths.map((m, i) =>
    cohorts.sizes && isNum(cohorts.sizes[i]) ? `${m} (${fmtInt(cohorts.sizes[i])})` : m,
  );
  const chart = heatmap({
    label: 'Cohort retention by months since first purchase',
    rowLabels,
    colLabels: Array.from({ length: ages }, (_, a) => `M${a}`),
    values,
    shade,
    format: (v) => fmtPct(v, 0),
    rowTitle: 'Acquisition month (customers)',
    colTitle: 'Months since first purchase',
    width: FULL_WIDTH,
    legendLabels: ['0%', `${fmtPct(laterMax, 0)}+`],
  });
  return card(
    'Cohort retention',
    'Share of each acquisition cohort that buys again in each later month.',
    chart,
    'cohorts',
  );
}

function forecastCard(ctx: Ctx, fc: ReportForecast): string {
  const history = fc.history;
  const future = fc.forecast;
  const x = [...history.map((h) => shortDate(h.date)), ...future.map((f) => shortDate(f.date))];
  const nh = history.length;
  const pad = (values: (number | null)[], before: number, after: number): (number | null)[] => [
    ...Array.from({ length: before }, () => null),
    ...values,
    ...Array.from({ length: after }, () => null),
  ];
  // The forecast line starts at the last actual so the two lines join.
  const lastActual = nh > 0 ? history[nh - 1].value : null;
  const chart = lineChart({
    label: `Revenue forecast by ${fc.grain} with 80% and 95% intervals`,
    x,
    series: [
      {
        name: 'Actual',
        values: pad(
          history.map((h) => h.value),
          0,
          future.length,
        ),
        color: '#334155',
      },
      {
        name: `Forecast (${fc.model})`,
        values: [
          ...pad([], Math.max(0, nh - 1), 0),
          ...(nh > 0 ? [lastActual] : []),
          ...future.map((f) => f.mean),
        ],
        color: PALETTE[0],
        dashed: true,
      },
    ],
    bands: [
      {
        name: '95% interval',
        lower: pad(
          future.map((f) => f.lower95),
          nh,
          0,
        ),
        upper: pad(
          future.map((f) => f.upper95),
          nh,
          0,
        ),
        color: PALETTE[0],
        opacity: 0.12,
      },
      {
        name: '80% interval',
        lower: pad(
          future.map((f) => f.lower80),
          nh,
          0,
        ),
        upper: pad(
          future.map((f) => f.upper80),
          nh,
          0,
        ),
        color: PALETTE[0],
        opacity: 0.2,
      },
    ],
    yFormat: ctx.moneyShort,
    dividerAt: nh > 0 && future.length > 0 ? nh : undefined,
    dividerLabel: 'forecast',
    width: FULL_WIDTH,
    height: 300,
  });
  const forecastTable = table(
    [
      { label: 'Period' },
      { label: 'Forecast', numeric: true },
      { label: '80% interval', numeric: true },
      { label: '95% interval', numeric: true },
    ],
    future
      .slice(0, FORECAST_ROWS)
      .map((f) => [
        shortDate(f.date),
        ctx.money(f.mean),
        `${ctx.money(f.lower80)} – ${ctx.money(f.upper80)}`,
        `${ctx.money(f.lower95)} – ${ctx.money(f.upper95)}`,
      ]),
  );
  const scores = table(
    [
      { label: 'Model' },
      { label: 'MASE', numeric: true },
      { label: 'MAPE', numeric: true },
      { label: '80% cover', numeric: true },
      { label: '95% cover', numeric: true },
    ],
    fc.scores.map((s) => [
      s.error ? { html: `${esc(s.model)} <span class="error">(${esc(s.error)})</span>` } : s.model,
      fmtNum(s.mase, 3),
      isNum(s.mape) ? `${fmtNum(s.mape, 1)}%` : MISSING,
      fmtPct(s.coverage80, 0),
      fmtPct(s.coverage95, 0),
    ]),
    fc.scores.map((s) => (s.model === fc.model ? 'chosen' : null)),
  );
  const notes = (fc.notes ?? []).map((n) => `<p class="note">${esc(n)}</p>`).join('');
  return card(
    'Revenue forecast',
    `Revenue by ${fc.grain}, with the model chosen by rolling-origin backtest (lowest MASE).`,
    stats([
      ['Model', fc.model],
      ['MASE', fmtNum(fc.mase, 3)],
      ['Baseline MASE', fmtNum(fc.baselineMase, 3)],
      ['MAPE', isNum(fc.mape) ? `${fmtNum(fc.mape, 1)}%` : MISSING],
      ['80% coverage', fmtPct(fc.coverage80, 0)],
      ['95% coverage', fmtPct(fc.coverage95, 0)],
    ]) +
      chart +
      grid2(
        `<h4>Forecast${future.length > FORECAST_ROWS ? ` (first ${FORECAST_ROWS} of ${future.length} periods)` : ''}</h4>` +
          (future.length > 0 ? forecastTable : '<p class="note">No forecast periods.</p>'),
        '<h4>Backtest scores</h4>' + scores,
      ) +
      notes,
    'forecast',
  );
}

/** 'revenuePerCustomer' -> 'revenue per customer'. */
function humanize(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`);
}

function experimentValue(ctx: Ctx, metric: string, value: number | undefined): string {
  if (!isNum(value)) return MISSING;
  if (metric === 'conversion') return fmtPct(value, 2);
  if (/revenue|spend|value/i.test(metric)) return ctx.money(value);
  return fmtNum(value, 3);
}

function experimentsCard(ctx: Ctx, ex: ReportExperiments): string {
  const threshold = ex.srmThreshold ?? 0.001;
  let experimentsBlock: string;
  if (ex.experiments.length === 0) {
    experimentsBlock = notAvailable(ctx.data.unavailable?.experiments ?? 'no experiment ran in this period');
  } else {
    const label = (e: ReportExperiment): string =>
      `${e.id}${e.treatment ? ` · ${e.treatment}` : ''} · ${humanize(e.metric)}`;
    const forest = forestPlot({
      label: 'Relative lift of treatment over control with 95% intervals',
      items: ex.experiments.map((e) => ({
        label: label(e),
        estimate: e.lift,
        low: e.ci[0],
        high: e.ci[1],
        color: e.ci[0] > 0 ? '#23a37a' : e.ci[1] < 0 ? '#d94a4a' : '#7c8796',
      })),
      format: (v) => fmtSignedPct(v, 0),
      width: FULL_WIDTH,
    });
    const rows: Cell[][] = ex.experiments.map((e) => [
      {
        html:
          `<span class="nowrap">${esc(e.id)}</span>` +
          (e.treatment ? `<div class="sub">${esc(`vs ${e.treatment}`)}</div>` : ''),
      },
      humanize(e.metric),
      isNum(e.customersControl) || isNum(e.customersTreatment)
        ? `${fmtInt(e.customersControl)} / ${fmtInt(e.customersTreatment)}`
        : MISSING,
      experimentValue(ctx, e.metric, e.controlValue),
      experimentValue(ctx, e.metric, e.treatmentValue),
      fmtSignedPct(e.lift),
      `${fmtSignedPct(e.ci[0])} to ${fmtSignedPct(e.ci[1])}`,
      fmtP(e.pValue),
      fmtPct(e.probabilityToBeatControl),
      isNum(e.srmPValue) && e.srmPValue < threshold
        ? { html: `${esc(fmtP(e.srmPValue))} ${badge('SRM', 'bad').html}` }
        : fmtP(e.srmPValue),
    ]);
    experimentsBlock =
      forest +
      table(
        [
          { label: 'Experiment' },
          { label: 'Metric' },
          { label: 'n (ctrl / treat)', numeric: true },
          { label: 'Control', numeric: true },
          { label: 'Treatment', numeric: true },
          { label: 'Lift', numeric: true },
          { label: '95% CI', numeric: true },
          { label: 'p', numeric: true },
          { label: 'P(beat ctrl)', numeric: true },
          { label: 'SRM p', numeric: true },
        ],
        rows,
      );
  }
  let policiesBlock: string;
  if (ex.policies.length === 0) {
    policiesBlock = '<p class="note">No targeting policy was simulated.</p>';
  } else {
    const policies = [...ex.policies].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
    const forest = forestPlot({
      label: 'Incremental revenue by policy: mean and 5th to 95th percentile',
      items: policies.map((p, i) => ({
        label: p.name,
        estimate: p.incrementalRevenue.mean,
        low: p.incrementalRevenue.p5,
        high: p.incrementalRevenue.p95,
        color: PALETTE[i % PALETTE.length],
      })),
      format: ctx.moneyShort,
      width: FULL_WIDTH,
    });
    const showExact = policies.some((p) => isNum(p.exactProbabilityOfTarget));
    const columns: Column[] = [
      { label: 'Rank' },
      { label: 'Policy' },
      { label: 'Targeted', numeric: true },
      { label: 'Cost', numeric: true },
      { label: 'Incr. revenue', numeric: true },
      { label: '90% range', numeric: true },
      { label: 'ROI', numeric: true },
      { label: 'P(goal)', numeric: true },
    ];
    if (showExact) columns.push({ label: 'P(goal) exact', numeric: true });
    const rows: Cell[][] = policies.map((p) => {
      const row: Cell[] = [
        isNum(p.rank) ? String(p.rank) : MISSING,
        p.name,
        fmtInt(p.customersTargeted),
        ctx.money(p.cost),
        ctx.money(p.incrementalRevenue.mean),
        `${ctx.money(p.incrementalRevenue.p5)} – ${ctx.money(p.incrementalRevenue.p95)}`,
        fmtPct(p.roi, 0),
        fmtPct(p.probabilityOfTarget),
      ];
      if (showExact) row.push(fmtPct(p.exactProbabilityOfTarget));
      return row;
    });
    policiesBlock = forest + table(columns, rows);
  }
  return card(
    'Experiments and policies',
    `Treatment against control (relative lift, 95% interval; SRM flagged below p = ${fmtP(threshold)}), then simulated targeting policies ranked by expected incremental profit.`,
    '<h4>Experiments</h4>' + experimentsBlock + '<h4>Targeting policies</h4>' + policiesBlock,
    'experiments',
  );
}

/** Rules and bundles listed in the report (the full lists are in rules.parquet and bundles.parquet). */
const RECOMMEND_ROWS = 10;

function recommendCard(rec: ReportRecommend): string {
  const parts: string[] = [];
  const window = rec.evaluationWindow;
  if (rec.evaluation && window) {
    const rows: [string, ReportRankingMetrics | undefined][] = [
      [`Model (blend ${fmtNum(rec.blend, 1)})`, rec.evaluation.model],
      ['Item-to-item alone', rec.evaluation.itemToItem],
      ['Popularity baseline', rec.evaluation.popularity],
      ['Buy-again baseline', rec.evaluation.buyAgain],
    ];
    parts.push(
      '<h4>Judged on the following month</h4>' +
        table(
          [
            { label: 'Recommender' },
            { label: 'Hit rate @5', numeric: true },
            { label: 'Hit rate @10', numeric: true },
            { label: 'Precision @10', numeric: true },
            { label: 'Recall @10', numeric: true },
            { label: 'Coverage', numeric: true },
          ],
          rows
            .filter((r): r is [string, ReportRankingMetrics] => r[1] !== undefined)
            .map(([name, m]) => [
              name,
              fmtPct(m.hitRate5),
              fmtPct(m.hitRate10),
              fmtPct(m.precision10),
              fmtPct(m.recall10),
              fmtPct(m.coverage),
            ]),
          rows.filter((r) => r[1] !== undefined).map((_, i) => (i === 0 ? 'chosen' : null)),
        ) +
        `<p class="note">${esc(
          `Fitted on orders up to ${fmtDate(window.from)}, measured on what ${fmtInt(window.customers)} returning customers bought until ${fmtDate(window.to)}. ` +
            `Blend: weight of the customer's own purchases against co-purchases, ${rec.blendChosenBy === 'validation' ? 'chosen on the month before (never on the month shown)' : `set by ${rec.blendChosenBy}`}.`,
        )}</p>`,
    );
  } else {
    parts.push(
      '<h4>Judged on the following month</h4>' + notAvailable(rec.notes.join('; ') || 'not evaluated'),
    );
  }
  const rules = rec.topRules.filter((r) => r.level === 'product').slice(0, RECOMMEND_ROWS);
  const categoryRules = rec.topRules.filter((r) => r.level === 'category').slice(0, RECOMMEND_ROWS);
  const rulesTable = (list: ReportRecommend['topRules']): string =>
    table(
      [
        { label: 'In the basket' },
        { label: 'Also bought' },
        { label: 'Orders', numeric: true },
        { label: 'Support', numeric: true },
        { label: 'Confidence', numeric: true },
        { label: 'Lift', numeric: true },
      ],
      list.map((r) => [
        r.antecedent.join(' + '),
        r.consequent,
        fmtInt(r.orders),
        fmtPct(r.support, 2),
        fmtPct(r.confidence),
        fmtNum(r.lift, 1),
      ]),
    );
  parts.push(
    `<h4>Strongest rules (${fmtInt(rec.rules)} kept)</h4>` +
      (rules.length > 0 ? rulesTable(rules) : notAvailable('no rule reached the thresholds')),
  );
  if (categoryRules.length > 0) parts.push('<h4>Category rules</h4>' + rulesTable(categoryRules));
  const attachment = table(
    [
      { label: 'Persona' },
      { label: 'Orders with an antecedent', numeric: true },
      { label: 'With its add-on', numeric: true },
      { label: 'Attachment', numeric: true },
    ],
    rec.attachment.map((a) => [
      a.persona === '(all)' ? 'All orders' : a.persona,
      fmtInt(a.ordersWithAntecedent),
      fmtInt(a.ordersWithAddOn),
      fmtPct(a.attachmentRate),
    ]),
  );
  const bundles =
    rec.bundles.length > 0
      ? table(
          [
            { label: 'Persona' },
            { label: 'Bundle' },
            { label: 'Orders', numeric: true },
            { label: 'Confidence', numeric: true },
            { label: 'Lift', numeric: true },
          ],
          rec.bundles.map((b) => [
            b.persona,
            `${b.productA} + ${b.productB}`,
            fmtInt(b.orders),
            fmtPct(b.confidence),
            fmtNum(b.lift, 1),
          ]),
        )
      : notAvailable('no pair reached the thresholds within a persona');
  parts.push(
    grid2('<h4>Add-on attachment by persona</h4>' + attachment, '<h4>Top bundles by persona</h4>' + bundles),
  );
  return card(
    'Bundles and next best offer',
    'Products bought together (association rules over orders: support, confidence, lift), each persona’s bundles and how often an add-on joins its antecedent, and the per-customer recommendations judged against popularity and buy-again baselines. The top three per customer are in the CRM export.',
    parts.join(''),
    'recommend',
  );
}

function topProductsCard(ctx: Ctx): string {
  const products = ctx.data.topProducts;
  if (!products) return card('Top products', null, notAvailable(unavailableReason(ctx.data, 'topProducts')));
  if (products.length === 0) return card('Top products', null, notAvailable('no product sold in the period'));
  const sorted = [...products].sort((a, b) => b.revenue - a.revenue).slice(0, 15);
  const total = sum(products.map((p) => p.revenue));
  const chart = barChart({
    label: 'Revenue of the best-selling products',
    items: sorted.map((p) => ({ label: p.productName, value: p.revenue, color: PALETTE[2] })),
    format: ctx.moneyShort,
    width: HALF_WIDTH,
    maxLabelChars: 28,
  });
  const showOrders = sorted.some((p) => isNum(p.orders));
  const columns: Column[] = [
    { label: 'Product' },
    { label: 'Revenue', numeric: true },
    { label: 'Share', numeric: true },
  ];
  if (showOrders) columns.push({ label: 'Orders', numeric: true });
  const rows: Cell[][] = sorted.map((p) => {
    const row: Cell[] = [
      p.productName,
      ctx.money(p.revenue),
      total > 0 ? fmtPct(p.revenue / total) : MISSING,
    ];
    if (showOrders) row.push(fmtInt(p.orders));
    return row;
  });
  return card(
    'Top products',
    'Products with the most revenue up to the cutoff (share of the listed products).',
    grid2(chart, table(columns, rows)),
    'products',
  );
}

function insightsCard(ctx: Ctx, features: ReportFeatures): string {
  const insights = features.insights;
  if (!insights) return '';
  const parts: string[] = [];
  if (insights.strongestPairs && insights.strongestPairs.length > 0) {
    parts.push(
      '<h4>Strongest feature correlations</h4>' +
        table(
          [{ label: 'Feature' }, { label: 'Feature' }, { label: 'Pearson r', numeric: true }],
          insights.strongestPairs.map((p) => [code(p.a), code(p.b), fmtNum(p.r, 3)]),
        ),
    );
  }
  const spend = insights.categorySpend;
  if (spend) {
    const body = spend.skippedReason
      ? notAvailable(spend.skippedReason)
      : table(
          [
            { label: 'Category' },
            { label: 'Orders', numeric: true },
            { label: 'Mean', numeric: true },
            { label: 'Median', numeric: true },
          ],
          spend.categories.map((c) => [c.category, fmtInt(c.n), ctx.money(c.mean), ctx.money(c.median)]),
        ) +
        `<p class="note">${esc(`Test of equal means: ANOVA ${fmtPPhrase(spend.anovaPValue)}, Kruskal-Wallis ${fmtPPhrase(spend.kruskalWallisPValue)}.`)}</p>`;
    parts.push('<h4>Spend per order by category</h4>' + body);
  }
  if (parts.length === 0) return '';
  return card(
    'Insights',
    'Exploratory findings from the features stage.',
    parts.length === 2 ? grid2(parts[0], parts[1]) : parts[0],
  );
}
