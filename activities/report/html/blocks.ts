/** Building blocks of the report HTML: tables, cards, headline figures, badges, the "not available" reason. Every string from the data is escaped here or by the caller. */
import { currencySymbol, escapeHtml as esc, fmtNum, isNum } from '../format';
import type { ReportData, ReportSection, ReportStage } from '../model';

/** Rows shown in long customer lists (the full lists are in the CRM export). */
export const LIST_ROWS = 20;

/** A table cell: plain text (escaped here) or markup built by this module from escaped parts. */
export type Cell = string | { html: string };

export interface Column {
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

export interface Ctx {
  data: ReportData;
  currency: string | undefined;
  money: (value: number | null | undefined) => string;
  moneyShort: (value: number) => string;
}

/** 'YYYY-MM' as 'March 2011' (the input itself when it does not parse). */
export function monthName(month: string): string {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) return month;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
  return new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}

function cellHtml(cell: Cell): string {
  return typeof cell === 'string' ? esc(cell) : cell.html;
}

export function table(
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

export function badge(label: string, tone: 'ok' | 'warn' | 'bad' | 'neutral'): { html: string } {
  return { html: `<span class="badge ${tone}">${esc(label)}</span>` };
}

/**
 * A name in monospace (a feature, a reason code). It may wrap only after an underscore (<wbr>), never inside
 * a word: "frequency_orders" breaks as "frequency_" / "orders" on a narrow screen, not "frequency_order" / "s".
 */
export function code(value: string): { html: string } {
  return { html: `<code>${wrapAtUnderscores(value)}</code>` };
}

/** An identifier with no words in it (an S3 URI, a run id): it may break anywhere to fit. */
export function codeId(value: string): { html: string } {
  return { html: `<code class="id">${esc(value)}</code>` };
}

/** Escaped text with a <wbr> after each underscore, the only place a snake_case name may wrap. */
export function wrapAtUnderscores(value: string): string {
  return value
    .split('_')
    .map((part) => esc(part))
    .join('_<wbr>');
}

export function card(title: string, lede: string | null, body: string, id?: string): string {
  return (
    `<section class="card"${id ? ` id="${id}"` : ''}><h3>${esc(title)}</h3>` +
    (lede ? `<p class="lede">${esc(lede)}</p>` : '') +
    body +
    '</section>'
  );
}

/** A headline card. `word`: the value is one word that must be read whole (a status), never cut to "COMPLE…". */
export function kpi(label: string, value: string, sub?: string, options: { word?: boolean } = {}): string {
  return (
    `<div class="kpi"><div class="label">${esc(label)}</div><div class="value${options.word ? ' word' : ''}" title="${esc(value)}">${esc(value)}</div>` +
    (sub ? `<div class="sub">${esc(sub)}</div>` : '') +
    '</div>'
  );
}

/** Money for a headline card: millions as '£1.18M' so the figure fits the card. */
export function kpiMoney(ctx: Ctx, value: number): string {
  if (!isNum(value) || Math.abs(value) < 1e6) return ctx.money(value);
  const millions = fmtNum(value / 1e6, Math.abs(value) >= 1e8 ? 0 : 2);
  return millions.startsWith('−')
    ? `−${currencySymbol(ctx.currency)}${millions.slice(1)}M`
    : `${currencySymbol(ctx.currency)}${millions}M`;
}

export function stats(items: [string, string][]): string {
  return `<div class="stats">${items.map(([label, value]) => `<div><span>${esc(label)}</span> <b>${esc(value)}</b></div>`).join('')}</div>`;
}

export function grid2(a: string, b: string): string {
  return `<div class="grid2"><div>${a}</div><div>${b}</div></div>`;
}

export function notAvailable(reason: string): string {
  return `<div class="na">Not available: ${esc(reason)}</div>`;
}

/** A card with only a title and the reason its content is missing. */
export function notAvailableCard(title: string, reason: string): string {
  return card(title, null, notAvailable(reason));
}

/**
 * The card of an optional section: `render(value)` when the section has data, else a card with the same title
 * saying why not (`unavailableReason`: the reason given, else the state of the stage that produces it).
 */
export function sectionOr<T>(
  ctx: Ctx,
  section: ReportSection,
  title: string,
  value: T | null | undefined,
  render: (value: T) => string,
): string {
  return value != null ? render(value) : notAvailableCard(title, unavailableReason(ctx.data, section));
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

export function runStatusTone(status: string): 'ok' | 'warn' | 'bad' | 'neutral' {
  if (status === 'COMPLETED') return 'ok';
  if (status === 'FAILED' || status === 'TIMED_OUT' || status === 'TERMINATED') return 'bad';
  if (status === 'RUNNING') return 'neutral';
  return 'warn';
}

export function stageTone(status: ReportStage['status']): 'ok' | 'warn' | 'bad' | 'neutral' {
  if (status === 'completed' || status === 'thisReport') return 'ok';
  if (status === 'cached') return 'neutral';
  if (status === 'failed') return 'bad';
  return 'warn';
}

export function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) if (isNum(value)) total += value;
  return total;
}

/** Dates shown on chart axes: an ISO timestamp is cut to its date. */
export function shortDate(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T/.test(value) ? value.slice(0, 10) : value;
}
