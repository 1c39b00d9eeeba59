/**
 * From the features stage's daily revenue to the regular series the models see: read and check the rows,
 * fill missing days, settle the closed weekdays, cut the no-data tail, aggregate to the grain.
 */
import { basename } from 'node:path';
import { sqlIdent, sqlString, type Duck } from '../../lib/duck';
import { ConfigError, DataValidationError } from '../../lib/errors';
import { aggregate, isoDate, periodDay, weekday, type Grain, type RegularSeries } from './series';
/** Where the daily revenue comes from: a Parquet file or a table already in the DuckDB connection. */
export type DailyRevenueSource = { path: string } | { table: string };

/** A contiguous daily series: `revenue[i]` and `trading[i]` belong to day number `firstDay + i`. */
export interface DailyRevenue {
  firstDay: number;
  revenue: Float64Array;
  /** 1 when the day had any transaction line (features' has_trading). */
  trading: Uint8Array;
  /** Calendar days missing from the input and filled as no trading (the features contract has none). */
  filledGaps: number;
}

/** Read daily_revenue (date, revenue, has_trading) into a contiguous daily series. Bad rows raise DataValidationError. */
export async function readDailyRevenue(duck: Duck, source: DailyRevenueSource): Promise<DailyRevenue> {
  const relation = 'path' in source ? `read_parquet(${sqlString(source.path)})` : sqlIdent(source.table);
  const file = 'path' in source ? basename(source.path) : source.table;
  const names = (
    await duck.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${relation})`)
  ).map((r) => r.column_name);
  for (const column of ['date', 'revenue', 'has_trading']) {
    if (!names.includes(column)) {
      throw new DataValidationError({ file, column, rule: `daily revenue needs a column "${column}"` });
    }
  }
  const { rowCount, columns } = await duck.columns(
    `SELECT (CAST(date AS DATE) - DATE '1970-01-01')::DOUBLE AS day, revenue::DOUBLE AS revenue,
            has_trading::DOUBLE AS trading
     FROM ${relation} ORDER BY day`,
    ['day', 'revenue', 'trading'] as const,
  );
  return contiguousDaily(columns.day, columns.revenue, columns.trading, file, rowCount);
}

/**
 * Days sorted ascending -> a gap-free daily series. Duplicated dates, NULL dates or non-finite revenue are
 * DataValidationErrors naming the row; missing days are filled as no trading (and counted).
 */
export function contiguousDaily(
  days: Float64Array,
  revenue: Float64Array,
  trading: Float64Array,
  file = 'daily revenue',
  rowCount = days.length,
): DailyRevenue {
  if (rowCount === 0)
    return { firstDay: 0, revenue: new Float64Array(0), trading: new Uint8Array(0), filledGaps: 0 };
  for (let i = 0; i < rowCount; i++) {
    if (!Number.isFinite(days[i])) {
      throw new DataValidationError(
        { file, column: 'date', rule: 'date must not be NULL' },
        `sorted row ${i + 1}`,
      );
    }
    if (i > 0 && days[i] === days[i - 1]) {
      throw new DataValidationError(
        { file, column: 'date', rule: 'each date must appear once' },
        `${isoDate(days[i])} appears more than once`,
      );
    }
    if (!Number.isFinite(revenue[i])) {
      throw new DataValidationError(
        { file, column: 'revenue', rule: 'revenue must be a finite number' },
        `${isoDate(days[i])} has ${revenue[i]}`,
      );
    }
  }
  const firstDay = days[0];
  const length = days[rowCount - 1] - firstDay + 1;
  const outRevenue = new Float64Array(length);
  const outTrading = new Uint8Array(length);
  for (let i = 0; i < rowCount; i++) {
    outRevenue[days[i] - firstDay] = revenue[i];
    // NULL has_trading: fall back to whether there was revenue.
    const traded = Number.isNaN(trading[i]) ? revenue[i] !== 0 : trading[i] > 0;
    outTrading[days[i] - firstDay] = traded ? 1 : 0;
  }
  return { firstDay, revenue: outRevenue, trading: outTrading, filledGaps: length - rowCount };
}

/** Closed-weekday detection window (the last 52 weeks) and the least occurrences of a weekday in it. */
export const CLOSED_WINDOW_DAYS = 364;
export const CLOSED_MIN_OCCURRENCES = 8;

/**
 * Weekdays (0 = Sunday … 6 = Saturday) with no trading and no revenue on any of their occurrences in the
 * last 52 weeks of a daily series that ends on its last trading day, counting only weekdays that occur at
 * least 8 times there (with less history nothing is called closed). Online Retail: [6].
 */
export function detectClosedWeekdays(daily: DailyRevenue, length = daily.revenue.length): number[] {
  const from = Math.max(0, length - CLOSED_WINDOW_DAYS);
  const occurrences = new Array<number>(7).fill(0);
  const active = new Array<boolean>(7).fill(false);
  for (let i = from; i < length; i++) {
    const w = weekday(daily.firstDay + i);
    occurrences[w]++;
    if (daily.trading[i] || daily.revenue[i] !== 0) active[w] = true;
  }
  const closed: number[] = [];
  for (let w = 0; w < 7; w++) if (occurrences[w] >= CLOSED_MIN_OCCURRENCES && !active[w]) closed.push(w);
  return closed;
}

/** The series the models see, or why there is none. */
export interface PreparedSeries {
  series: RegularSeries | null;
  reason?: string;
  closedWeekdays: number[];
  closedWeekdaysSource: 'auto' | 'config';
  /** Last day with any trading (null when none). */
  lastObservedDate: string | null;
  notes: string[];
}

const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * Daily revenue -> the regular series at `grain`: cut the days after the last trading day, settle the closed
 * weekdays, aggregate to weeks or months dropping partial first and last periods.
 */
export function prepareSeries(
  daily: DailyRevenue,
  options: { grain: Grain; closedWeekdays: 'auto' | readonly number[] },
): PreparedSeries {
  const notes: string[] = [];
  const source = options.closedWeekdays === 'auto' ? 'auto' : 'config';
  if (daily.filledGaps > 0) {
    notes.push(
      `${daily.filledGaps} calendar days missing from the daily revenue were filled as days without trading`,
    );
  }
  let last = daily.trading.length - 1;
  while (last >= 0 && !daily.trading[last]) last--;
  if (last < 0) {
    const reason =
      daily.revenue.length === 0
        ? 'the daily revenue is empty (no transactions up to the cutoff)'
        : `no day in the daily revenue (${daily.revenue.length} days from ${isoDate(daily.firstDay)}) had any trading`;
    return {
      series: null,
      reason,
      closedWeekdays: [],
      closedWeekdaysSource: source,
      lastObservedDate: null,
      notes,
    };
  }
  const lastObservedDate = isoDate(daily.firstDay + last);
  const trailing = daily.revenue.length - 1 - last;
  if (trailing > 0) {
    notes.push(
      `${trailing} days after the last trading day ${lastObservedDate} (to ${isoDate(daily.firstDay + daily.revenue.length - 1)}) ` +
        'are past the end of the data, not days without sales: they are left out',
    );
  }

  let closed: number[];
  if (options.closedWeekdays === 'auto') {
    closed = detectClosedWeekdays(daily, last + 1);
    if (closed.length > 0) {
      notes.push(
        `closed weekdays detected (no trading on any of them in the last 52 weeks): ${closed.map((w) => WEEKDAY_NAMES[w]).join(', ')}`,
      );
    }
  } else {
    closed = [...new Set(options.closedWeekdays)].sort((a, b) => a - b);
    if (closed.length >= 7) {
      throw new ConfigError('forecast.closedWeekdays closes all seven weekdays; at most six can be closed');
    }
  }

  // A closed weekday that took revenue earlier (a changed trading pattern, or a config that contradicts the
  // data) cannot be modelled as closed over that stretch: the history starts after its last revenue.
  let first = 0;
  if (options.grain === 'day' && closed.length > 0) {
    for (let i = last; i >= 0; i--) {
      if (daily.revenue[i] !== 0 && closed.includes(weekday(daily.firstDay + i))) {
        first = i + 1;
        notes.push(
          `${isoDate(daily.firstDay + i)} is a ${WEEKDAY_NAMES[weekday(daily.firstDay + i)]} (a closed weekday) with revenue ` +
            `${daily.revenue[i]}: the history used starts after it, on ${isoDate(daily.firstDay + first)}`,
        );
        break;
      }
    }
  }
  const base = { closedWeekdays: closed, closedWeekdaysSource: source, lastObservedDate, notes } as const;
  if (first > last) {
    return {
      ...base,
      series: null,
      reason: `no history is left after the last revenue on a closed weekday (${isoDate(daily.firstDay + first - 1)})`,
    };
  }

  if (options.grain === 'day') {
    const series: RegularSeries = {
      start: isoDate(daily.firstDay + first),
      grain: 'day',
      values: daily.revenue.slice(first, last + 1),
    };
    if (closed.length > 0) series.closedWeekdays = closed;
    return { ...base, series };
  }

  // Week and month: the last period counts as complete when the days after the last trading day up to its end
  // are all closed weekdays (a business closed at weekends still has complete weeks).
  let end = last;
  while (end + 1 < daily.revenue.length && closed.includes(weekday(daily.firstDay + end + 1))) end++;
  if (closed.length > 0) {
    notes.push(
      `closed weekdays are not modelled separately at ${options.grain} grain (they sum into their ${options.grain})`,
    );
  }
  const dailySeries: RegularSeries = {
    start: isoDate(daily.firstDay),
    grain: 'day',
    values: daily.revenue.slice(0, end + 1),
  };
  try {
    const series = aggregate(dailySeries, options.grain, { dropPartial: true });
    const droppedTail = periodDay(series, series.values.length) - 1 < daily.firstDay + end;
    if (droppedTail) {
      notes.push(
        `the ${options.grain} holding ${lastObservedDate} is incomplete and left out (a partial period would read as a ` +
          `collapse in revenue); the series ends ${isoDate(periodDay(series, series.values.length) - 1)} and the ` +
          `forecast of that ${options.grain} covers all its days, the observed ones included`,
      );
    }
    return { ...base, series };
  } catch (error) {
    return {
      ...base,
      series: null,
      reason: `the data (${isoDate(daily.firstDay)} to ${lastObservedDate}) holds no complete ${options.grain}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
