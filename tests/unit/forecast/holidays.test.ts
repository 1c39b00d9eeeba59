/**
 * Holidays from country calendars and rules (date-holidays), and their effect on the forecast: published
 * dates (UK bank holidays 2011, Black Friday 2010-2012), clear errors naming the key, and on planted daily
 * series a Black Friday effect estimated from past years and applied on the next Black Friday, which the
 * pinned additive regression forecasts within 25 % of the planted size (and not at all without the holiday).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeForecast } from '../../../activities/forecast/computeForecast';
import { forecastSection } from '../../../lib/stageConfig/forecast';
import { resolveHolidays } from '../../../activities/forecast/holidays';
import { dayNumber, isoDate, periodDay } from '../../../activities/forecast/series';
import { withDuck, writeColumns } from '../../../lib/duck';
import { ConfigError } from '../../../lib/errors';
import { Rng } from '../../../lib/random';

const BLACK_FRIDAY = { name: 'Black Friday', rule: 'friday after 4th thursday in November' };

describe('resolveHolidays', () => {
  it('gives the published UK bank holidays of 2011 and Black Friday of 2010-2012', () => {
    const config = forecastSection.parse({
      holidayCalendars: [{ country: 'GB', region: 'ENG' }],
      namedHolidays: [BLACK_FRIDAY],
    });
    const holidays = resolveHolidays(config, 2010, 2012);
    const dates = (name: string) => holidays.find((h) => h.name === name)?.dates ?? [];
    expect(dates('GB-ENG: Good Friday')).toContain('2011-04-22');
    expect(dates('GB-ENG: Easter Monday')).toContain('2011-04-25');
    expect(dates('GB-ENG: Early May bank holiday')).toContain('2011-05-02');
    expect(dates('GB-ENG: Spring bank holiday')).toContain('2011-05-30');
    expect(dates('GB-ENG: Boxing Day')).toContain('2011-12-26');
    expect(dates('Black Friday')).toEqual(['2010-11-26', '2011-11-25', '2012-11-23']);
  });

  it('names the key of an unknown country, region, holiday name or rule', () => {
    const resolve = (raw: unknown) => () => resolveHolidays(forecastSection.parse(raw), 2011, 2011);
    expect(resolve({ holidayCalendars: [{ country: 'XX' }] })).toThrow(
      /forecast\.holidayCalendars\[0\]\.country: date-holidays has no calendar for 'XX'/,
    );
    expect(resolve({ holidayCalendars: [{ country: 'GB', region: 'ZZZ' }] })).toThrow(
      /forecast\.holidayCalendars\[0\]\.region: 'ZZZ' is not a region of GB/,
    );
    expect(resolve({ holidayCalendars: [{ country: 'GB', names: ['Bastille Day'] }] })).toThrow(
      /forecast\.holidayCalendars\[0\]\.names: 'Bastille Day'/,
    );
    expect(resolve({ namedHolidays: [{ name: 'x', rule: 'not a rule at all' }] })).toThrow(ConfigError);
    expect(forecastSection.safeParse({ namedHolidays: [{ name: 'x' }] }).success).toBe(false);
    expect(forecastSection.safeParse({ model: 'prophet' }).success).toBe(false);
  });
});

/** Daily revenue 2018-01-01 .. 2022-10-31 with a weekly cycle, noise and `effect` on every Black Friday. */
function plantedSeries(seed: number, effect: number) {
  const start = dayNumber('2018-01-01');
  const end = dayNumber('2022-10-31');
  const fridays = new Set(
    resolveHolidays(forecastSection.parse({ namedHolidays: [BLACK_FRIDAY] }), 2018, 2022)[0].dates,
  );
  const rng = new Rng(seed);
  const revenue = new Float64Array(end - start + 1);
  const weekly = [800, 1000, 1050, 1100, 1150, 1300, 1200];
  for (let i = 0; i < revenue.length; i++) {
    const day = start + i;
    revenue[i] = 4000 + weekly[(day + 4) % 7] + (fridays.has(isoDate(day)) ? effect : 0) + rng.normal(0, 150);
  }
  return { start, revenue };
}

async function forecastBlackFriday(seed: number, effect: number, withHoliday: boolean) {
  const { start, revenue } = plantedSeries(seed, effect);
  const outDir = await mkdtemp(join(tmpdir(), 'custflow-holidays-'));
  try {
    return await withDuck(async (duck) => {
      await writeColumns(duck, 'daily_revenue', revenue.length, [
        { name: 'day', type: 'INTEGER', values: Array.from({ length: revenue.length }, (_, i) => start + i) },
        { name: 'revenue', type: 'DOUBLE', values: revenue },
      ]);
      await duck.run(`CREATE OR REPLACE TABLE daily AS SELECT DATE '1970-01-01' + day AS date, revenue,
        true AS has_trading FROM daily_revenue ORDER BY date`);
      const config = forecastSection.parse({
        horizon: 35,
        origins: 2,
        closedWeekdays: [],
        model: 'additiveRegression',
        ...(withHoliday ? { namedHolidays: [BLACK_FRIDAY] } : {}),
      });
      const result = await computeForecast(duck, {
        source: { table: 'daily' },
        config,
        cutoff: '2022-10-31T23:59:59.999Z',
        outDir,
      });
      const fc = result.forecast;
      if (!fc) throw new Error(`no forecast: ${result.metrics.reason}`);
      const at = (date: string) => {
        const index = Array.from({ length: fc.mean.length }, (_, i) => isoDate(periodDay(fc, i))).indexOf(
          date,
        );
        return fc.mean[index];
      };
      // The bump over the mean of the Fridays a week before and after (same weekday effect).
      const bump = at('2022-11-25') - (at('2022-11-18') + at('2022-12-02')) / 2;
      return { bump, metrics: result.metrics };
    });
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

describe('Black Friday effect in the forecast (planted)', () => {
  for (const [seed, effect] of [
    [1, 2500],
    [2, 1200],
  ] as const) {
    it(`forecasts the next Black Friday ${effect} above its neighbours (seed ${seed})`, async () => {
      const withHoliday = await forecastBlackFriday(seed, effect, true);
      expect(withHoliday.metrics.model).toMatch(/^additiveRegression/);
      expect(withHoliday.metrics.pinnedModel).toEqual({ family: 'additiveRegression', used: true });
      expect(withHoliday.metrics.holidays).toEqual([
        { name: 'Black Friday', datesInHistory: 4, nextDate: '2022-11-25' },
      ]);
      expect(Math.abs(withHoliday.bump - effect)).toBeLessThan(0.25 * effect);
      const without = await forecastBlackFriday(seed, effect, false);
      expect(Math.abs(without.bump)).toBeLessThan(0.25 * effect);
    }, 120_000);
  }
});
