/**
 * Holidays for the additive regression (the one candidate with holiday effects): dates from config, the
 * holidays of country calendars (the date-holidays package, maintained per country), and named holidays
 * given by a date-holidays rule, e.g. Black Friday as 'friday after 4th thursday in November'. Every
 * holiday's dates are expanded over the history and the forecast horizon, so a moving holiday estimated in
 * past years gets its effect on its next date.
 */
import Holidays from 'date-holidays';
import { ConfigError } from '../../lib/errors';
import type { Holiday } from './additiveRegression';
import type { ForecastConfig } from '../../lib/stageConfig/forecast';
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

/** The holiday settings of the forecast config. */
type HolidayConfig = Pick<ForecastConfig, 'holidays' | 'holidayCalendars' | 'namedHolidays'>;

/** date-holidays' date string 'YYYY-MM-DD hh:mm:ss' (local to the calendar) -> 'YYYY-MM-DD'. */
function calendarDate(date: string): string {
  return date.slice(0, 10);
}

/**
 * Every configured holiday over the years firstYear..lastYear (history and forecast horizon): config dates
 * (holidaysFromDates), then each country calendar's holidays by name, then the named holidays. A name that
 * two sources share is kept apart by its source ('GB: Christmas Day'). Throws a ConfigError naming the key
 * for an unknown country or region and for a rule date-holidays cannot parse.
 */
export function resolveHolidays(config: HolidayConfig, firstYear: number, lastYear: number): Holiday[] {
  const holidays = holidaysFromDates(config.holidays);
  const years: number[] = [];
  for (let year = firstYear; year <= lastYear; year++) years.push(year);

  for (const [index, calendar] of config.holidayCalendars.entries()) {
    const where = `forecast.holidayCalendars[${index}]`;
    const countries = new Holidays().getCountries('en');
    if (!Object.hasOwn(countries, calendar.country)) {
      throw new ConfigError(`${where}.country: date-holidays has no calendar for '${calendar.country}'`);
    }
    if (calendar.region !== undefined) {
      const regions = new Holidays().getStates(calendar.country, 'en') ?? {};
      if (!Object.hasOwn(regions, calendar.region)) {
        throw new ConfigError(
          `${where}.region: '${calendar.region}' is not a region of ${calendar.country} (regions: ${Object.keys(regions).join(', ') || 'none'})`,
        );
      }
    }
    const hd = calendar.region
      ? new Holidays(calendar.country, calendar.region, { types: calendar.types })
      : new Holidays(calendar.country, { types: calendar.types });
    const byName = new Map<string, Set<string>>();
    for (const year of years) {
      for (const holiday of hd.getHolidays(year, 'en')) {
        // Substitute days ('Christmas Day (substitute day)') are the same holiday observed on another day.
        const name = holiday.name;
        if (calendar.names && !calendar.names.includes(name)) continue;
        const dates = byName.get(name) ?? new Set<string>();
        dates.add(calendarDate(holiday.date));
        byName.set(name, dates);
      }
    }
    if (calendar.names) {
      const missing = calendar.names.filter((name) => !byName.has(name));
      if (missing.length > 0) {
        throw new ConfigError(
          `${where}.names: ${missing.map((n) => `'${n}'`).join(', ')} not in the ${calendar.country} calendar for ${firstYear}-${lastYear}`,
        );
      }
    }
    for (const [name, dates] of [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      holidays.push({
        name: `${calendar.country}${calendar.region ? `-${calendar.region}` : ''}: ${name}`,
        dates: [...dates].sort(),
        lowerWindow: calendar.lowerWindow,
        upperWindow: calendar.upperWindow,
      });
    }
  }

  for (const [index, named] of config.namedHolidays.entries()) {
    const where = `forecast.namedHolidays[${index}]`;
    let dates: string[];
    if (named.rule !== undefined) {
      const hd = new Holidays();
      if (!hd.setHoliday(named.rule, { name: { en: named.name }, type: 'public' })) {
        throw new ConfigError(
          `${where}.rule: date-holidays cannot parse '${named.rule}' (e.g. 'friday after 4th thursday in November', '12-24', 'easter -2')`,
        );
      }
      dates = years.flatMap((year) => hd.getHolidays(year, 'en').map((h) => calendarDate(h.date)));
    } else {
      dates = (named.dates ?? []).map((date, i) => {
        try {
          dayNumber(date);
        } catch {
          throw new ConfigError(`${where}.dates[${i}]: '${date}' is not a calendar date (YYYY-MM-DD)`);
        }
        return date;
      });
    }
    if (dates.length === 0) throw new ConfigError(`${where}: no date in ${firstYear}-${lastYear}`);
    holidays.push({
      name: named.name,
      dates: [...new Set(dates)].sort(),
      lowerWindow: named.lowerWindow,
      upperWindow: named.upperWindow,
    });
  }
  const names = holidays.map((h) => h.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new ConfigError(`forecast: holiday name '${repeated}' is given twice`);
  return holidays;
}
