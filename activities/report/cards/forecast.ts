/** Strategic card: revenue forecast. */
import { escapeHtml as esc, fmtNum, fmtPct, isNum, MISSING } from '../format';
import type { ReportForecast } from '../model';
import type { ForecastControls } from '../../forecast/contract';
import { FULL_WIDTH, lineChart, PALETTE } from '../svg';
import { type Ctx, table, card, stats, grid2, shortDate } from '../html/blocks';

/** Forecast periods listed in the table (the chart shows them all). */
const FORECAST_ROWS = 12;

export function forecastCard(ctx: Ctx, fc: ReportForecast): string {
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
  const controls = fc.controls ? controlsBlock(fc.controls) : '';
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
      controls +
      notes,
    'forecast',
  );
}

/** The forecast controls in use: pinned model, the SARIMA order and how it was set, holidays and windows. */
function controlsBlock(controls: ForecastControls): string {
  const window = ([before, after]: [number, number]): string =>
    before === 0 && after === 0 ? 'the day only' : `${before} to +${after} days`;
  const sarima =
    controls.sarima.method === 'airline'
      ? `airline model ${controls.sarima.order ?? ''} (fixed order; forecast.sarimaSearch searches instead)`
      : `searched by AIC within ${controls.sarima.bounds ?? 'the bounds'}: ` +
        (controls.sarima.order
          ? `${controls.sarima.order} (${controls.sarima.orderFrom ?? ''})`
          : 'no order within the bounds fits the full history');
  const calendars = controls.holidayCalendars.map(
    (c) =>
      `${c.country}${c.region ? `-${c.region}` : ''} calendar (${c.types.join(', ')}), window ${window(c.window)}`,
  );
  const named = controls.namedHolidays.map(
    (h) => `${h.name} (${h.rule ? `rule "${h.rule}"` : `${h.dates} dates`}), window ${window(h.window)}`,
  );
  const holidays = [
    ...calendars,
    ...named,
    ...(controls.holidayDates > 0 ? [`${controls.holidayDates} dates from forecast.holidays`] : []),
  ];
  const rows: [string, string][] = [
    [
      'Model',
      controls.model === 'auto'
        ? 'not pinned: the lowest backtest MASE wins (forecast.model: auto)'
        : `pinned to ${controls.model} (forecast.model)`,
    ],
    ['SARIMA order', sarima],
    ['Holidays', holidays.length > 0 ? holidays.join('; ') : 'none configured'],
  ];
  return (
    '<h4>Controls in use</h4>' +
    table(
      [{ label: 'Control' }, { label: 'Setting' }],
      rows.map(([label, value]) => [label, value]),
    )
  );
}
