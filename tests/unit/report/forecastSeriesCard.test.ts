/** The per-series forecast card and the forecast card's controls: numbers, outcomes and reasons render. */
import { describe, expect, it } from 'vitest';
import { forecastCard } from '../../../activities/report/cards/forecast';
import {
  forecastSeriesCard,
  type ReportForecastSeries,
  type ReportSeries,
} from '../../../activities/report/cards/forecastSeries';
import type { Ctx } from '../../../activities/report/html/blocks';
import type { ReportData, ReportForecast } from '../../../activities/report/model';

const ctx: Ctx = {
  data: {} as ReportData,
  currency: 'GBP',
  money: (v) => (v === null || v === undefined ? '—' : `£${v.toFixed(0)}`),
  moneyShort: (v) => v.toFixed(0),
};

const days = (n: number, from: string) =>
  Array.from({ length: n }, (_, i) =>
    new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10),
  );

function series(over: Partial<ReportSeries>): ReportSeries {
  return {
    dimension: 'category',
    series: 'toys',
    revenue: 5000,
    revenueShare: 0.625,
    status: 'forecast',
    reason: null,
    firstDate: '2023-01-01',
    points: 400,
    model: 'holtWinters(additive, damped)',
    fitted: 'holtWinters(additive, damped)',
    mase: 0.612,
    baselineMase: 1.004,
    mape: 4.2,
    coverage80: 0.8,
    horizonTotal: 28_123,
    history: days(56, '2024-01-05').map((date, i) => ({ date, value: 1000 + (i % 7) * 50 })),
    forecast: days(28, '2024-03-01').map((date) => ({ date, mean: 1000, lower80: 900, upper80: 1100 })),
    ...over,
  };
}

const data: ReportForecastSeries = {
  horizon: 28,
  grain: 'day',
  horizonDays: 28,
  minHistoryDays: 112,
  topCategories: 10,
  dimensions: [
    {
      dimension: 'category',
      status: 'forecast',
      reason: null,
      series: [
        series({}),
        series({
          series: '<b>garden</b>',
          revenueShare: 0.3,
          mase: 1.2,
          baselineMase: 1.1,
          horizonTotal: 9_000,
        }),
        series({
          series: 'young',
          revenueShare: 0.075,
          status: 'too_short',
          reason:
            '60 days from its first sale (2024-01-01) to the last trading day, under forecast.bySeries.minHistoryDays (112)',
          model: null,
          fitted: null,
          mase: null,
          baselineMase: null,
          horizonTotal: null,
          history: [],
          forecast: [],
        }),
      ],
      coherence: {
        historyGap: 0,
        seriesTotal: 37_123,
        totalForecast: 40_000,
        gap: -0.0719,
        unforecastShare: 0.075,
        tolerance: 0.1,
        coherent: true,
      },
    },
    {
      dimension: 'segment',
      status: 'skipped',
      reason: 'the segment stage did not complete, so there are no assignments to read',
      series: [],
      coherence: null,
    },
  ],
};

describe('forecasts by category and segment card', () => {
  const html = forecastSeriesCard(ctx, data);

  it('shows one small chart per forecast series and says why the others have none', () => {
    expect(html.match(/<div class="multiple">/g)).toHaveLength(3);
    expect(html.match(/<svg/g)).toHaveLength(2);
    expect(html).toContain('Too short: 60 days from its first sale (2024-01-01)');
    expect(html).toContain('&lt;b&gt;garden&lt;/b&gt;');
    expect(html).not.toContain('<b>garden</b>');
  });

  it('tabulates the model, MASE against seasonal naive and the next-28-day total', () => {
    expect(html).toContain('Forecast, next 28 days');
    for (const figure of ['0.612', '1.004', '£28123', '62.5%', '1.200', '1.100', '£9000']) {
      expect(html).toContain(figure);
    }
    expect(html).toContain('beats seasonal naive');
    expect(html).toContain('no better than seasonal naive');
    expect(html).toContain('too short');
  });

  it('states the coherence check and the skipped dimension with its reason', () => {
    expect(html).toContain(
      'The category forecasts sum to £37123 over the next 28 days; the total forecast is £40000',
    );
    expect(html).toContain('−7.2%');
    expect(html).toContain('within the 10% tolerance');
    expect(html).toContain('hold 7.5% of the revenue');
    expect(html).toContain('Not forecast: the segment stage did not complete');
  });
});

describe('forecast card controls', () => {
  const fc: ReportForecast = {
    model: 'sarima(search <=2,1,<=2)(<=1,1,<=1)',
    grain: 'day',
    mase: 0.9,
    baselineMase: 1.1,
    mape: 12,
    coverage80: 0.8,
    coverage95: 0.95,
    history: [],
    forecast: [],
    scores: [],
    controls: {
      model: 'sarima',
      sarima: {
        method: 'search',
        order: 'sarima(1,1,1)(0,1,1)6',
        orderFrom: 'chosen model',
        bounds: 'p <= 2, d = 1, q <= 2, P <= 1, D = 1, Q <= 1',
      },
      holidayCalendars: [{ country: 'GB', region: 'ENG', types: ['public'], window: [-1, 2] }],
      namedHolidays: [
        { name: 'Black Friday', rule: 'friday after 4th thursday in November', dates: 0, window: [0, 3] },
      ],
      holidayDates: 2,
    },
  };

  it('names the pinned model, the SARIMA order and how it was found, the holidays and their windows', () => {
    const html = forecastCard(ctx, fc);
    expect(html).toContain('Controls in use');
    expect(html).toContain('pinned to sarima (forecast.model)');
    expect(html).toContain('searched by AIC within p &lt;= 2, d = 1, q &lt;= 2');
    expect(html).toContain('sarima(1,1,1)(0,1,1)6 (chosen model)');
    expect(html).toContain('GB-ENG calendar (public), window -1 to +2 days');
    expect(html).toContain(
      'Black Friday (rule &quot;friday after 4th thursday in November&quot;), window 0 to +3 days',
    );
    expect(html).toContain('2 dates from forecast.holidays');
  });

  it('says when nothing is pinned and the airline model is fixed', () => {
    const html = forecastCard(ctx, {
      ...fc,
      controls: {
        model: 'auto',
        sarima: { method: 'airline', order: 'sarima(0,1,1)(0,1,1)7', orderFrom: 'fixed' },
        holidayCalendars: [],
        namedHolidays: [],
        holidayDates: 0,
      },
    });
    expect(html).toContain('not pinned: the lowest backtest MASE wins');
    expect(html).toContain('airline model sarima(0,1,1)(0,1,1)7 (fixed order');
    expect(html).toContain('none configured');
  });
});
