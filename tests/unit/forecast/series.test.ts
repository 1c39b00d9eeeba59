import { describe, expect, it } from 'vitest';
import {
  aggregate,
  buildSeries,
  openView,
  periodDate,
  seasonLength,
  sliceSeries,
  validateSeries,
  weekday,
  dayNumber,
} from '../../../activities/forecast/series';

describe('series: regular series from (date, value) pairs', () => {
  it('fills missing days with 0 and sums values of the same day', () => {
    const series = buildSeries(
      ['2011-01-03', '2011-01-05 10:12:00', '2011-01-05T18:00:00Z', '2011-01-07'],
      [10, 1, 2, 5],
      'day',
    );
    expect(series.start).toBe('2011-01-03');
    expect(Array.from(series.values)).toEqual([10, 0, 3, 0, 5]);
  });

  it('floors to Monday weeks and to months', () => {
    // 2011-01-02 is a Sunday (week of Monday 2010-12-27); 2011-01-03 a Monday.
    const weekly = buildSeries(
      ['2011-01-02', '2011-01-03', '2011-01-09', '2011-01-24'],
      [1, 2, 3, 4],
      'week',
    );
    expect(weekly.start).toBe('2010-12-27');
    expect(Array.from(weekly.values)).toEqual([1, 5, 0, 0, 4]);
    expect(periodDate(weekly, 4)).toBe('2011-01-24');
    const monthly = buildSeries(['2011-01-31', '2011-03-01', '2011-03-31'], [1, 2, 3], 'month', {
      end: '2011-05-20',
    });
    expect(monthly.start).toBe('2011-01-01');
    expect(Array.from(monthly.values)).toEqual([1, 0, 5, 0, 0]);
  });

  it('knows weekdays and season lengths', () => {
    expect(weekday(dayNumber('2011-12-10'))).toBe(6); // a Saturday
    expect(weekday(dayNumber('1970-01-01'))).toBe(4); // a Thursday
    expect([seasonLength('day'), seasonLength('week'), seasonLength('month')]).toEqual([7, 52, 12]);
  });

  it('marks closed weekdays: open view drops them and the season shrinks to 6', () => {
    const dates = ['2011-01-03', '2011-01-04', '2011-01-07', '2011-01-09', '2011-01-10'];
    const series = buildSeries(dates, [1, 2, 3, 4, 5], 'day', { closedWeekdays: [6] });
    const view = openView(series);
    expect(view.seasonLength).toBe(6);
    expect(Array.from(view.index)).toEqual([0, 1, 2, 3, 4, 6, 7]); // 2011-01-08 (Saturday) is position 5
    expect(Array.from(view.values)).toEqual([1, 2, 0, 0, 3, 4, 5]);
    expect(sliceSeries(series, 2, 5).start).toBe('2011-01-05');
  });

  it('rejects revenue on a closed weekday, bad dates and misaligned starts with the rule broken', () => {
    expect(() => buildSeries(['2011-01-08'], [100], 'day', { closedWeekdays: [6] })).toThrow(
      'buildSeries: 2011-01-08 falls on a closed weekday (6) but has value 100',
    );
    expect(() => buildSeries(['2011-02-30'], [1], 'day')).toThrow(
      "buildSeries: dates[0]: '2011-02-30' is not a calendar date",
    );
    expect(() => buildSeries(['11/02/2011'], [1], 'day')).toThrow(
      "'11/02/2011' is not an ISO date (YYYY-MM-DD)",
    );
    expect(() =>
      validateSeries({ start: '2011-01-04', grain: 'week', values: new Float64Array(3) }, 'x'),
    ).toThrow("x: series.start '2011-01-04' must be a Monday for grain 'week'");
    expect(() =>
      validateSeries({ start: '2011-01-01', grain: 'day', values: Float64Array.of(1, NaN) }, 'x'),
    ).toThrow('x: series.values[1] (2011-01-02) is NaN; values must be finite');
  });
});

describe('series: aggregation', () => {
  // 2011-01-01 (Saturday) to 2011-03-03 (Thursday): value = 1 per day.
  const days = 62;
  const daily = { start: '2011-01-01', grain: 'day' as const, values: new Float64Array(days).fill(1) };

  it('sums days to complete Monday weeks, dropping partial ones', () => {
    const weekly = aggregate(daily, 'week');
    expect(weekly.start).toBe('2011-01-03');
    expect(weekly.values.length).toBe(8); // 2011-01-03 .. 2011-02-27
    expect(Array.from(weekly.values).every((v) => v === 7)).toBe(true);
    const withPartial = aggregate(daily, 'week', { dropPartial: false });
    expect(withPartial.start).toBe('2010-12-27');
    expect(withPartial.values[0]).toBe(2);
    expect(withPartial.values[withPartial.values.length - 1]).toBe(4);
  });

  it('sums days to months', () => {
    const monthly = aggregate(daily, 'month');
    expect(monthly.start).toBe('2011-01-01');
    expect(Array.from(monthly.values)).toEqual([31, 28]);
  });

  it('refuses week -> month', () => {
    expect(() =>
      aggregate({ start: '2011-01-03', grain: 'week', values: new Float64Array(10) }, 'month'),
    ).toThrow(/week -> month is not supported/);
  });
});
