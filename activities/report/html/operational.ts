/** Page 1 of the report: did the run work, and can its numbers be trusted (stages, data quality, freshness, exports). */
import {
  escapeHtml as esc,
  fmtDate,
  fmtDuration,
  fmtInt,
  fmtNum,
  fmtPct,
  fmtTimestamp,
  isNum,
  MISSING,
} from '../format';
import type { ReportDataQuality } from '../model';
import { barChart, HALF_WIDTH, PALETTE } from '../svg';
import {
  type Cell,
  type Ctx,
  table,
  badge,
  code,
  codeId,
  card,
  kpi,
  stats,
  grid2,
  unavailableReason,
  stageTone,
  sum,
  notAvailableCard,
  sectionOr,
} from './blocks';

/** Lag between the last transaction and the cutoff above which data is flagged as stale. */
const STALE_AFTER_DAYS = 7;

export function operationalPage(ctx: Ctx): string {
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
  cards.push(sectionOr(ctx, 'dataQuality', 'Data quality', dq, (q) => dataQualityCard(ctx, q)));
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
  if (stages.length === 0) return notAvailableCard('Stages', 'the run summary lists no stages');
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
          // Bars only for reasons that caught rows; the table below still lists every rule checked, with 0.
          items: reasons
            .filter(([, n]) => n > 0)
            .map(([reason, n]) => ({ label: reason, value: n, color: '#d97742' })),
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
  missing_price:
    'Purchase events of an events-only dataset (RetailRocket) whose item never had a price in item_properties: a sale of unknown value, so it counts in no revenue.',
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

function exportsCard(ctx: Ctx): string {
  const exports = ctx.data.exports;
  if (!exports || exports.length === 0)
    return notAvailableCard('Exports', unavailableReason(ctx.data, 'exports'));
  return card(
    'Exports',
    'Files written with this report (CSV, RFC 4180; cells that a spreadsheet would read as a formula start with a quote).',
    table(
      [{ label: 'File' }, { label: 'Rows', numeric: true }, { label: 'Location' }, { label: 'Contents' }],
      exports.map((e) => [e.name, fmtInt(e.rows), codeId(e.uri), e.description ?? '']),
    ),
  );
}
