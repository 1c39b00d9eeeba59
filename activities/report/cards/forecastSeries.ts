/**
 * Strategic card: forecasts per category and per segment (the forecast stage's bySeries metrics and
 * forecast_by_series.parquet, issue 14). Per dimension: the coherence check in words, one small chart per
 * series (recent actuals, the forecast and its 80% interval), and a table of the model chosen, its backtest
 * MASE against seasonal naive's and the forecast total over the horizon. A series without a forecast says why.
 */
import { sqlString, type Duck } from '../../../lib/duck';
import type { SeriesDimensionSummary, SeriesForecastSummary, SeriesOutcome } from '../../forecast/contract';
import { escapeHtml as esc, fmtNum, fmtPct, fmtSignedPct, isNum, MISSING } from '../format';
import { type Ctx, badge, card, shortDate, table } from '../html/blocks';
import { lineChart, PALETTE } from '../svg';

/** Periods of actuals drawn before each series' forecast (day grain: eight weeks). */
const ACTUAL_PERIODS = { day: 56, week: 26, month: 24 } as const;

/** One series as the card draws it. */
export interface ReportSeries extends SeriesOutcome {
  history: { date: string; value: number }[];
  forecast: { date: string; mean: number; lower80: number; upper80: number }[];
}

export interface ReportForecastSeries extends Omit<SeriesForecastSummary, 'dimensions'> {
  dimensions: (Omit<SeriesDimensionSummary, 'series'> & { series: ReportSeries[] })[];
}

/** One period of forecast_by_series.parquet as the card draws it (the 80% interval only). */
// A type, not an interface: duck.all wants rows with an index signature, which only type literals have implicitly.
export type SeriesForecastRow = {
  dimension: string;
  series: string;
  date: string;
  mean: number;
  lower80: number;
  upper80: number;
};

/** The rows of forecast_by_series.parquet, by dimension, series and date (ISO dates). */
export async function readSeriesForecastRows(duck: Duck, path: string): Promise<SeriesForecastRow[]> {
  return duck.all<SeriesForecastRow>(
    `SELECT dimension, series, strftime(date, '%Y-%m-%d') AS date, mean, lower80, upper80
     FROM read_parquet(${sqlString(path)}) ORDER BY dimension, series, date`,
  );
}

/** The forecast stage's per-series forecasts, or undefined when it has none (older runs, both turned off). */
export async function forecastSeriesSection(
  duck: Duck,
  files: Record<string, string> | undefined,
  metrics: Record<string, unknown> | undefined,
): Promise<ReportForecastSeries | undefined> {
  const summary = metrics?.bySeries as SeriesForecastSummary | undefined;
  if (!summary || !files?.bySeries || !files.bySeriesHistory) return undefined;
  const recent = ACTUAL_PERIODS[summary.grain];
  const history = await duck.all<{ dimension: string; series: string; date: string; value: number }>(
    `SELECT dimension, series, strftime(date, '%Y-%m-%d') AS date, value FROM (
       SELECT *, row_number() OVER (PARTITION BY dimension, series ORDER BY date DESC) AS back
       FROM read_parquet(${sqlString(files.bySeriesHistory)})) WHERE back <= ${recent}
     ORDER BY dimension, series, date`,
  );
  const forecast = await readSeriesForecastRows(duck, files.bySeries);
  const key = (dimension: string, series: string) => `${dimension}\u0000${series}`;
  const histories = new Map<string, ReportSeries['history']>();
  for (const row of history) {
    const list = histories.get(key(row.dimension, row.series)) ?? [];
    list.push({ date: row.date, value: row.value });
    histories.set(key(row.dimension, row.series), list);
  }
  const forecasts = new Map<string, ReportSeries['forecast']>();
  for (const row of forecast) {
    const list = forecasts.get(key(row.dimension, row.series)) ?? [];
    list.push({ date: row.date, mean: row.mean, lower80: row.lower80, upper80: row.upper80 });
    forecasts.set(key(row.dimension, row.series), list);
  }
  return {
    ...summary,
    dimensions: summary.dimensions.map((d) => ({
      ...d,
      series: d.series.map((s) => ({
        ...s,
        history: histories.get(key(d.dimension, s.series)) ?? [],
        forecast: forecasts.get(key(d.dimension, s.series)) ?? [],
      })),
    })),
  };
}

const DIMENSION_TITLE = { category: 'By category', segment: 'By segment (persona)' } as const;

export function forecastSeriesCard(ctx: Ctx, data: ReportForecastSeries): string {
  const body = data.dimensions.map((d) => dimensionBlock(ctx, data, d)).join('');
  return card(
    'Forecasts by category and segment',
    `Each series gets the total forecast's model selection (rolling-origin backtest, lowest MASE). ` +
      `A series with under ${data.minHistoryDays} days from its first sale is not forecast; ` +
      `categories beyond the top ${data.topCategories} by revenue are summed as one series.`,
    body.length > 0 ? body : '<p class="note">Per-series forecasts are turned off.</p>',
    'forecast-series',
  );
}

function dimensionBlock(
  ctx: Ctx,
  data: ReportForecastSeries,
  d: ReportForecastSeries['dimensions'][number],
): string {
  const title = `<h4>${esc(DIMENSION_TITLE[d.dimension])}</h4>`;
  if (d.status === 'skipped') return title + `<p class="note">Not forecast: ${esc(d.reason ?? '')}.</p>`;
  const days = `next ${data.horizonDays} days`;
  const multiples = d.series.map((s, i) => smallMultiple(ctx, s, PALETTE[i % PALETTE.length])).join('');
  const rows = d.series.map((s) => [
    s.series,
    fmtPct(s.revenueShare),
    s.status === 'forecast' ? modelLabel(s) : MISSING,
    fmtNum(s.mase, 3),
    fmtNum(s.baselineMase, 3),
    s.status === 'forecast' ? ctx.money(s.horizonTotal) : MISSING,
    s.status === 'forecast'
      ? isNum(s.mase) && isNum(s.baselineMase) && s.mase < s.baselineMase
        ? badge('beats seasonal naive', 'ok')
        : badge('no better than seasonal naive', 'warn')
      : badge(s.status === 'too_short' ? 'too short' : 'no model', 'bad'),
  ]);
  const scores = table(
    [
      { label: 'Series' },
      { label: 'Revenue share', numeric: true },
      { label: 'Model chosen' },
      { label: 'MASE', numeric: true },
      { label: 'Seasonal naive MASE', numeric: true },
      { label: `Forecast, ${days}`, numeric: true },
      { label: 'Outcome' },
    ],
    rows,
  );
  return title + coherenceNote(ctx, d, days) + `<div class="multiples">${multiples}</div>` + scores;
}

/** The coherence check in words: do the series' forecasts add up to the total forecast? */
function coherenceNote(ctx: Ctx, d: ReportForecastSeries['dimensions'][number], days: string): string {
  const c = d.coherence;
  if (!c) return '';
  const parts: string[] = [];
  if (c.totalForecast !== null && c.gap !== null) {
    parts.push(
      `The ${d.dimension} forecasts sum to ${ctx.money(c.seriesTotal)} over the ${days}; the total forecast is ` +
        `${ctx.money(c.totalForecast)} (${fmtSignedPct(c.gap)}, ${c.coherent ? 'within' : 'outside'} the ` +
        `${fmtPct(c.tolerance, 0)} tolerance).`,
    );
  } else {
    parts.push(`The ${d.dimension} forecasts cannot be compared with the total: there is no total forecast.`);
  }
  if (c.unforecastShare > 0) {
    parts.push(
      `Series without a forecast hold ${fmtPct(c.unforecastShare)} of the revenue and are missing from the sum.`,
    );
  }
  if (c.historyGap !== null && Math.abs(c.historyGap) > 1e-9) {
    parts.push(`Their histories add up to ${fmtSignedPct(c.historyGap)} against the total revenue.`);
  }
  const tone = c.coherent === false ? 'warn' : c.coherent ? 'ok' : 'neutral';
  const label = c.coherent === false ? 'incoherent' : c.coherent ? 'coherent' : 'not checked';
  return `<p class="note">${badge(label, tone).html} ${esc(parts.join(' '))}</p>`;
}

/** One series: recent actuals, the forecast and its 80% interval, or why there is no forecast. */
function smallMultiple(ctx: Ctx, s: ReportSeries, color: string): string {
  const head =
    `<h5>${esc(s.series)}</h5><div class="figures">${esc(fmtPct(s.revenueShare))} of revenue` +
    (s.status === 'forecast' ? ` · ${esc(modelLabel(s))} · MASE ${esc(fmtNum(s.mase, 2))}` : '') +
    '</div>';
  if (s.status !== 'forecast') {
    return `<div class="multiple">${head}<p class="note">${esc(s.status === 'too_short' ? 'Too short' : 'No model')}: ${esc(s.reason ?? '')}</p></div>`;
  }
  const nh = s.history.length;
  const nf = s.forecast.length;
  const none = (n: number) => Array.from({ length: n }, () => null);
  const lastActual = nh > 0 ? s.history[nh - 1].value : null;
  const chart = lineChart({
    label: `${s.series}: actuals and forecast with 80% interval`,
    x: [...s.history.map((h) => shortDate(h.date)), ...s.forecast.map((f) => shortDate(f.date))],
    series: [
      { name: 'Actual', values: [...s.history.map((h) => h.value), ...none(nf)], color: '#334155' },
      {
        name: 'Forecast',
        values: [
          ...none(Math.max(0, nh - 1)),
          ...(nh > 0 ? [lastActual] : []),
          ...s.forecast.map((f) => f.mean),
        ],
        color,
        dashed: true,
      },
    ],
    bands: [
      {
        name: '80% interval',
        lower: [...none(nh), ...s.forecast.map((f) => f.lower80)],
        upper: [...none(nh), ...s.forecast.map((f) => f.upper80)],
        color,
        opacity: 0.2,
      },
    ],
    yFormat: ctx.moneyShort,
    dividerAt: nh > 0 && nf > 0 ? nh : undefined,
    width: 320,
    height: 170,
  });
  return `<div class="multiple">${head}${chart}</div>`;
}

/**
 * The model as fitted on the full history: a SARIMA's label then carries its order and season (a searched
 * order says so), other families keep their candidate name.
 */
function modelLabel(s: SeriesOutcome): string {
  if (!s.fitted || !s.model) return s.model ?? MISSING;
  if (s.model.startsWith('sarima(search')) return `${s.fitted} (AIC search)`;
  return s.fitted.startsWith(s.model) ? s.fitted : s.model;
}
