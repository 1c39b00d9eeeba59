import { describe, expect, it } from 'vitest';
import { holidaysFromDates } from '../../../activities/forecast/holidays';
import { openPrefix, planBacktest } from '../../../activities/forecast/plan';
import {
  contiguousDaily,
  detectClosedWeekdays,
  prepareSeries,
  type DailyRevenue,
} from '../../../activities/forecast/prepare';
import { dayNumber, weekday, type RegularSeries } from '../../../activities/forecast/series';
import { ConfigError, DataValidationError } from '../../../lib/errors';

const MONDAY = dayNumber('2021-01-04');

/** A daily series from Monday 2021-01-04: revenue 100 + i on trading days, `trades(i)` says which. */
function daily(days: number, trades: (i: number, weekday: number) => boolean): DailyRevenue {
  const revenue = new Float64Array(days);
  const trading = new Uint8Array(days);
  for (let i = 0; i < days; i++) {
    if (trades(i, weekday(MONDAY + i))) {
      revenue[i] = 100 + i;
      trading[i] = 1;
    }
  }
  return { firstDay: MONDAY, revenue, trading, filledGaps: 0 };
}

function flat(grain: RegularSeries['grain'], start: string, n: number): RegularSeries {
  return { start, grain, values: Float64Array.from({ length: n }, (_, i) => 100 + (i % 5)) };
}

describe('contiguousDaily', () => {
  it('fills missing calendar days as days without trading and counts them', () => {
    const days = Float64Array.from([MONDAY, MONDAY + 1, MONDAY + 4]);
    const out = contiguousDaily(days, Float64Array.from([5, 6, 7]), Float64Array.from([1, 1, 1]));
    expect(out.firstDay).toBe(MONDAY);
    expect(Array.from(out.revenue)).toEqual([5, 6, 0, 0, 7]);
    expect(Array.from(out.trading)).toEqual([1, 1, 0, 0, 1]);
    expect(out.filledGaps).toBe(2);
  });

  it('rejects a repeated date and a NULL revenue, naming the column', () => {
    const twice = () =>
      contiguousDaily(
        Float64Array.from([MONDAY, MONDAY]),
        Float64Array.from([1, 2]),
        Float64Array.from([1, 1]),
        'd.parquet',
      );
    expect(twice).toThrow(DataValidationError);
    expect(twice).toThrow(/d\.parquet, column date: each date must appear once \(2021-01-04/);
    const missing = () =>
      contiguousDaily(
        Float64Array.from([MONDAY]),
        Float64Array.from([NaN]),
        Float64Array.from([1]),
        'd.parquet',
      );
    expect(missing).toThrow(/column revenue: revenue must be a finite number/);
  });
});

describe('detectClosedWeekdays', () => {
  it('finds the weekdays without trading in the last 52 weeks, not one that traded only before', () => {
    // Two years. Saturday never trades; Sunday trades only in the first 200 days; Wednesday "trades" at 0
    // revenue (has_trading with net zero) and so is open.
    const series = daily(728, (i, w) => w !== 6 && (w !== 0 || i < 200));
    for (let i = 0; i < 728; i++) {
      if (weekday(MONDAY + i) === 3) series.revenue[i] = 0;
    }
    expect(detectClosedWeekdays(series)).toEqual([0, 6]);
  });

  it('needs 8 occurrences of a weekday before calling it closed', () => {
    // From a Monday the 8th Saturday is day 54: 54 days hold 7 Saturdays, 55 days hold 8.
    expect(detectClosedWeekdays(daily(54, (_, w) => w !== 6))).toEqual([]);
    expect(detectClosedWeekdays(daily(55, (_, w) => w !== 6))).toEqual([6]);
  });
});

describe('prepareSeries', () => {
  it('cuts the days after the last trading day and reports that day', () => {
    const input = daily(100, (i, w) => w !== 6 && i <= 77); // day 77 = 2021-03-22, then 22 empty days
    const out = prepareSeries(input, { grain: 'day', closedWeekdays: 'auto' });
    expect(out.lastObservedDate).toBe('2021-03-22');
    expect(out.series?.values.length).toBe(78);
    expect(out.series?.closedWeekdays).toEqual([6]);
    expect(out.notes.some((n) => n.startsWith('22 days after the last trading day 2021-03-22'))).toBe(true);
  });

  it('starts the history after the last revenue on a weekday that has since closed', () => {
    const input = daily(728, (i, w) => w !== 6 && (w !== 0 || i < 200));
    const out = prepareSeries(input, { grain: 'day', closedWeekdays: 'auto' });
    // The last trading Sunday is day 195 (2021-07-18); the history starts the next day.
    expect(out.closedWeekdays).toEqual([0, 6]);
    expect(out.series?.start).toBe('2021-07-19');
    // The data end on Friday day 725 (days 726, 727 are a Saturday and a Sunday without trading).
    expect(out.series?.values.length).toBe(726 - 196);
  });

  it('does the same for a configured closed weekday that the data contradict', () => {
    const input = daily(70, () => true);
    const out = prepareSeries(input, { grain: 'day', closedWeekdays: [3] });
    expect(out.closedWeekdaysSource).toBe('config');
    // The last Wednesday is day 65 (2021-03-10): the history is the 4 days after it.
    expect(out.series?.start).toBe('2021-03-11');
    expect(out.series?.values.length).toBe(4);
  });

  it('rejects a configuration that closes every weekday', () => {
    expect(() =>
      prepareSeries(
        daily(30, () => true),
        { grain: 'day', closedWeekdays: [0, 1, 2, 3, 4, 5, 6] },
      ),
    ).toThrow(ConfigError);
  });

  it('keeps the last week of a business closed at weekends whose data end on a Friday', () => {
    // 10 weeks Monday to Friday (2021-01-04 .. 2021-03-12), then zero-filled days to 2021-03-31.
    const input = daily(87, (i, w) => i < 68 && w >= 1 && w <= 5);
    const out = prepareSeries(input, { grain: 'week', closedWeekdays: 'auto' });
    expect(out.closedWeekdays).toEqual([0, 6]);
    expect(out.lastObservedDate).toBe('2021-03-12');
    expect(out.series?.start).toBe('2021-01-04');
    expect(out.series?.values.length).toBe(10);
    // Week k sums days 7k .. 7k+4 at 100 + i each: 5 (100 + 7k + 2).
    expect(Array.from(out.series!.values)).toEqual(Array.from({ length: 10 }, (_, k) => 5 * (102 + 7 * k)));
  });

  it('drops partial first and last months', () => {
    // 2021-01-04 .. 2021-05-10 traded every day: February to April are complete.
    const out = prepareSeries(
      daily(127, () => true),
      { grain: 'month', closedWeekdays: 'auto' },
    );
    expect(out.series?.start).toBe('2021-02-01');
    expect(out.series?.values.length).toBe(3);
    expect(out.notes.some((n) => n.includes('the month holding 2021-05-10 is incomplete'))).toBe(true);
  });

  it('gives a reason instead of a series when no month is complete', () => {
    const out = prepareSeries(
      daily(20, () => true),
      { grain: 'month', closedWeekdays: 'auto' },
    );
    expect(out.series).toBeNull();
    expect(out.reason).toContain('holds no complete month');
  });
});

describe('holidaysFromDates', () => {
  it('gives dates on the same month and day one shared effect', () => {
    expect(holidaysFromDates(['2011-12-25', '2011-04-22', '2010-12-25'])).toEqual([
      { name: 'holiday 04-22', dates: ['2011-04-22'] },
      { name: 'holiday 12-25', dates: ['2010-12-25', '2011-12-25'] },
    ]);
  });

  it('rejects a date that is not on the calendar, naming the entry', () => {
    expect(() => holidaysFromDates(['2011-12-25', '2011-02-30'])).toThrow(ConfigError);
    expect(() => holidaysFromDates(['2011-12-25', '2011-02-30'])).toThrow(
      /forecast\.holidays\[1\]: '2011-02-30'/,
    );
  });
});

describe('openPrefix', () => {
  it('counts calendar days holding a number of open days', () => {
    const series: RegularSeries = { ...flat('day', '2021-01-04', 30), closedWeekdays: [6] };
    for (let i = 0; i < 30; i++) if (weekday(MONDAY + i) === 6) series.values[i] = 0;
    expect(openPrefix(series, 5)).toBe(5); // Monday .. Friday
    expect(openPrefix(series, 6)).toBe(7); // Saturday closed: Sunday is the 6th open day
    expect(openPrefix(series, 40)).toBe(46); // beyond the series: 6 open days per week
  });
});

describe('planBacktest', () => {
  it('forecasts from 56 days with a 28-day horizon, not from 55', () => {
    // Training floor: as many open days as the forecast (28), plus one backtest window of 28.
    const short = planBacktest(flat('day', '2021-01-04', 55), { horizon: 28, origins: 5 });
    expect(short.plan).toBeNull();
    expect(short.reason).toContain('has 55 days');
    expect(short.reason).toContain('needs at least 56');
    const enough = planBacktest(flat('day', '2021-01-04', 56), { horizon: 28, origins: 5 });
    expect(enough.plan).toMatchObject({ candidateSet: 'seasonal', seasonLength: 7, origins: 1 });
  });

  it('keeps the configured origins one horizon apart when the history holds them', () => {
    const out = planBacktest(flat('day', '2021-01-04', 400), { horizon: 28, origins: 5 });
    expect(out.plan).toMatchObject({ candidateSet: 'seasonal', origins: 5, step: 28 });
    expect(out.plan?.candidates.map((c) => c.name)).toEqual([
      'seasonalNaive',
      'holtWinters(additive, damped)',
      'holtWinters(multiplicative, damped)',
      'sarima(0,1,1)(0,1,1)',
      'additiveRegression(l1)',
    ]);
    expect(out.notes).toEqual([]);
  });

  it('moves origins closer so that the airline model fits 156 weeks', () => {
    // The weekly airline model needs 1 + 52 + 53 + 2x2 + 2 = 112 weeks to fit; 112 + 28 + 4 step <= 156: step 4.
    const h28 = planBacktest(flat('week', '2021-01-04', 156), { horizon: 28, origins: 5 });
    expect(h28.plan).toMatchObject({ candidateSet: 'seasonal', seasonLength: 52, origins: 5, step: 4 });
    expect(h28.notes[0]).toContain('the backtest uses 5 origins 4 weeks apart (overlapping test windows)');
    // 112 + 13 + 3 step <= 156: step 10.
    const h13 = planBacktest(flat('week', '2021-01-04', 156), { horizon: 13, origins: 4 });
    expect(h13.plan).toMatchObject({ origins: 4, step: 10 });
  });

  it('scores the non-seasonal counterpart of a seasonal model that cannot be backtested', () => {
    // 35 months: the monthly airline model needs 32 + 6 > 35 even with one origin; Holt-Winters (24) fits
    // 5 origins 1 month apart (24 + 6 + 4 = 34).
    const out = planBacktest(flat('month', '2021-02-01', 35), { horizon: 6, origins: 5 });
    expect(out.plan).toMatchObject({ candidateSet: 'seasonal', seasonLength: 12, origins: 5, step: 1 });
    expect(out.plan?.candidates.map((c) => c.name)).toContain('sarima(0,1,1)(0,0,0)');
    expect(out.plan?.candidates.map((c) => c.name)).not.toContain('holtWinters(none, damped)');
  });

  it('falls back to non-seasonal candidates when the seasonal naive does not fit once', () => {
    // 60 weeks: the seasonal naive needs 54 + 13 = 67.
    const out = planBacktest(flat('week', '2021-01-04', 60), { horizon: 13, origins: 5 });
    expect(out.plan).toMatchObject({ candidateSet: 'nonSeasonal', seasonLength: 1 });
    expect(out.notes[0]).toContain('need at least 67 weeks');
  });

  it('counts only open days toward the training floor', () => {
    // Saturday closed, series from Sunday 2021-01-03: any 28-day forecast holds 24 open days, and 24 open days
    // end on the Friday of the 4th week (calendar day 27), so 27 + 28 = 55 days suffice (56 without closures).
    const sunday = dayNumber('2021-01-03');
    const closedSat = (n: number): RegularSeries => {
      const s: RegularSeries = { ...flat('day', '2021-01-03', n), closedWeekdays: [6] };
      for (let i = 0; i < n; i++) if (weekday(sunday + i) === 6) s.values[i] = 0;
      return s;
    };
    expect(planBacktest(closedSat(54), { horizon: 28, origins: 5 }).plan).toBeNull();
    expect(planBacktest(closedSat(55), { horizon: 28, origins: 5 }).plan).toMatchObject({
      seasonLength: 6,
      origins: 1,
    });
    expect(planBacktest(flat('day', '2021-01-03', 55), { horizon: 28, origins: 5 }).plan).toBeNull();
  });
});
