/**
 * Holidays for the additive regression (the one candidate with holiday effects): dates from config, the
 * holidays of country calendars (the date-holidays package, maintained per country), and named holidays
 * given by a date-holidays rule, e.g. Black Friday as 'friday after 4th thursday in November'. Every
 * holiday's dates are expanded over the history and the forecast horizon, so a moving holiday estimated in
 * past years gets its effect on its next date.
 */
import { ConfigError } from '../../lib/errors';
import type { Holiday } from './additiveRegression';
import { dayNumber } from './series';

/**
 * Holidays for the additive regression: dates on the same month and day (e.g. every 12-25) share one effect;
 * other dates get one each. Only dates in the history can be estimated; future-only ones keep a zero effect.
 */
export function holidaysFromDates(dates: readonly string[]): Holiday[] {
  const byDay = new Map<string, Set<string>>();
  for (const [i, date] of dates.entries()) {
    try {
      dayNumber(date);
    } catch {
      throw new ConfigError(`forecast.holidays[${i}]: '${date}' is not a calendar date (YYYY-MM-DD)`);
    }
    const key = date.slice(5, 10);
    const set = byDay.get(key) ?? new Set<string>();
    set.add(date);
    byDay.set(key, set);
  }
  return [...byDay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, set]) => ({ name: `holiday ${key}`, dates: [...set].sort() }));
}
