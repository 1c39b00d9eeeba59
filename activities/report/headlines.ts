/**
 * The run's headline figures, computed once by the report stage and shown in the same words by the report's
 * KPI cards and the CLI summary's HEADLINES block (which reads them from the report's metrics).
 *
 * Like with like: a month whose data ends before the month does (Online Retail ends 2011-12-09, the run is
 * "December 2011") is compared over the same days of the previous month ("Dec 1-9 vs Nov 1-9"), never as a
 * whole month against a whole month; the "next" figure is the first open period after the cutoff, taken
 * from the forecast stage (which skips closed weekdays).
 *
 * Pure, no I/O, and imports nothing heavy: the CLI imports it and must start fast.
 */
import { fmtMoney, fmtSignedPct } from './format';

/** One day of features' daily revenue (net line amounts; `hasTrading`: any transaction line that day). */
export interface DailyRevenueDay {
  /** 'YYYY-MM-DD'. */
  date: string;
  revenue: number;
  hasTrading: boolean;
}

/** Revenue over a span of days, both ends included. */
export interface RevenueSpan {
  /** 'YYYY-MM-DD'. */
  from: string;
  to: string;
  revenue: number;
}

/** Revenue of the reported month (or its days with data) against the comparable span of the month before. */
export interface RevenueHeadline {
  /**
   * 'monthToDate': the data end before the month does, so the month's days with data are compared with the
   * same days of the previous month; 'fullMonth': the whole month against the whole previous month.
   */
  kind: 'monthToDate' | 'fullMonth';
  current: RevenueSpan;
  /** Null when the data do not cover the comparable span of the previous month (see `note`). */
  previous: RevenueSpan | null;
  /** current / previous - 1; null without a previous span or when its revenue is not positive. */
  change: number | null;
  /** Which spans are compared: 'Dec 1-9 vs Nov 1-9', 'Nov 2011 vs Oct 2011', or the current span alone. */
  label: string;
  /** The current span alone: 'Dec 1-9', 'Nov 2011'. */
  currentLabel: string;
  /** Why there is no comparison, when there is none. */
  note?: string;
}

/** The forecast's first open period after the cutoff (forecast metrics' `next`), with what it is called. */
export interface NextPeriodHeadline {
  /** 'next open day', 'next week', 'next month'. */
  label: string;
  /** First day of the period, 'YYYY-MM-DD', and how it is written ('Sun 1 Jan 2012'). */
  date: string;
  dateText: string;
  mean: number;
  lower80: number;
  upper80: number;
}

/** What the report's metrics carry under `headlines`. */
export interface Headlines {
  /** ISO 4217 code of the amounts (undefined: plain numbers). */
  currency?: string;
  revenue: RevenueHeadline | null;
  next: NextPeriodHeadline | null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY_MS = 86_400_000;

const dayOf = (iso: string): number => Math.round(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / DAY_MS);
const isoOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const weekdayOf = (day: number): number => new Date(day * DAY_MS).getUTCDay();

/** 'Dec 1-9' (or 'Dec 1' for one day) for a span inside one month. */
function spanText(from: number, to: number): string {
  const a = new Date(from * DAY_MS);
  const b = new Date(to * DAY_MS);
  const month = MONTHS[a.getUTCMonth()];
  return from === to ? `${month} ${a.getUTCDate()}` : `${month} ${a.getUTCDate()}-${b.getUTCDate()}`;
}

/** 'Nov 2011' for the month holding a day. */
function monthText(day: number): string {
  const d = new Date(day * DAY_MS);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** 'Sun 1 Jan 2012'. */
export function dayText(iso: string): string {
  const d = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/**
 * The revenue headline of `month` ('YYYY-MM') from the daily revenue up to the cutoff. The month counts as
 * complete when every day after its last trading day is a closed weekday (a shop closed on Saturdays whose
 * month ends on one); otherwise it is month to date. The previous month's span is compared only when the data
 * cover all of it (they start on or before its first day): a half-covered month would read as growth.
 * Null when the daily revenue has no day in the month.
 */
export function revenueHeadline(
  days: readonly DailyRevenueDay[],
  month: string,
  closedWeekdays: readonly number[] = [],
): RevenueHeadline | null {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) throw new Error(`revenueHeadline: month must be YYYY-MM (got '${month}')`);
  const year = Number(match[1]);
  const monthIndex = Number(match[2]) - 1;
  const monthStart = Date.UTC(year, monthIndex, 1) / DAY_MS;
  const monthEnd = Date.UTC(year, monthIndex + 1, 1) / DAY_MS - 1;
  const previousStart = Date.UTC(year, monthIndex - 1, 1) / DAY_MS;
  const previousEnd = monthStart - 1;

  const revenueByDay = new Map<number, number>();
  let firstDay = Number.POSITIVE_INFINITY;
  let lastTrading = Number.NEGATIVE_INFINITY;
  let anyInMonth = false;
  for (const d of days) {
    const day = dayOf(d.date);
    if (!Number.isFinite(day)) throw new Error(`revenueHeadline: '${d.date}' is not a date`);
    revenueByDay.set(day, (revenueByDay.get(day) ?? 0) + d.revenue);
    firstDay = Math.min(firstDay, day);
    if (day >= monthStart && day <= monthEnd) anyInMonth = true;
    if (d.hasTrading && day <= monthEnd) lastTrading = Math.max(lastTrading, day);
  }
  if (!anyInMonth) return null;
  if (lastTrading < monthStart) {
    // No trading day in the month: not a month of zero sales but one past the end of the data.
    return {
      kind: 'fullMonth',
      current: { from: isoOf(monthStart), to: isoOf(monthEnd), revenue: 0 },
      previous: null,
      change: null,
      label: monthText(monthStart),
      currentLabel: monthText(monthStart),
      note: Number.isFinite(lastTrading)
        ? `no data in ${monthText(monthStart)}: the data end ${isoOf(lastTrading)}`
        : `no data in ${monthText(monthStart)}`,
    };
  }
  const sum = (from: number, to: number): number => {
    let total = 0;
    for (let day = from; day <= to; day++) total += revenueByDay.get(day) ?? 0;
    return total;
  };

  let complete = true;
  for (let day = Math.max(lastTrading + 1, monthStart); day <= monthEnd; day++) {
    if (!closedWeekdays.includes(weekdayOf(day))) complete = false;
  }

  const currentTo = complete ? monthEnd : lastTrading;
  const previousTo = complete
    ? previousEnd
    : Math.min(previousStart + (lastTrading - monthStart), previousEnd);
  const current: RevenueSpan = {
    from: isoOf(monthStart),
    to: isoOf(currentTo),
    revenue: sum(monthStart, currentTo),
  };
  const currentText = complete ? monthText(monthStart) : spanText(monthStart, currentTo);
  const previousText = complete ? monthText(previousStart) : spanText(previousStart, previousTo);
  const kind = complete ? 'fullMonth' : 'monthToDate';
  if (firstDay > previousStart) {
    return {
      kind,
      current,
      previous: null,
      change: null,
      label: currentText,
      currentLabel: currentText,
      note: `no comparison: the data start ${isoOf(firstDay)}, after the start of ${monthText(previousStart)}`,
    };
  }
  const previous: RevenueSpan = {
    from: isoOf(previousStart),
    to: isoOf(previousTo),
    revenue: sum(previousStart, previousTo),
  };
  return {
    kind,
    current,
    previous,
    change: previous.revenue > 0 ? current.revenue / previous.revenue - 1 : null,
    label: `${currentText} vs ${previousText}`,
    currentLabel: currentText,
    ...(previous.revenue > 0 ? {} : { note: `no change: revenue of ${previousText} is not positive` }),
  };
}

/** The forecast's first open period as a headline (null without one). */
export function nextPeriodHeadline(
  next: { date: string; mean: number; lower80: number; upper80: number } | null | undefined,
  grain: string,
): NextPeriodHeadline | null {
  if (!next || !Number.isFinite(next.mean)) return null;
  const label = grain === 'day' ? 'next open day' : `next ${grain}`;
  const dateText =
    grain === 'month'
      ? monthText(dayOf(next.date))
      : grain === 'week'
        ? `from ${dayText(next.date)}`
        : dayText(next.date);
  return {
    label,
    date: next.date,
    dateText,
    mean: next.mean,
    lower80: next.lower80,
    upper80: next.upper80,
  };
}

/** The revenue headline in words: '341,539 in Dec 1-9 vs Nov 1-9: −12.3%' (plain text). */
export function revenueHeadlineText(h: RevenueHeadline, currency?: string): string {
  const change =
    h.change !== null
      ? `: ${fmtSignedPct(h.change)} (${fmtMoney(h.previous?.revenue, currency)})`
      : h.note
        ? ` (${h.note})`
        : '';
  return `${fmtMoney(h.current.revenue, currency)}, ${h.label}${change}`;
}

/** The next-period headline in words: 'next open day (Sun 1 Jan 2012): 35,780, 80%: 21,368 – 51,152'. */
export function nextPeriodHeadlineText(h: NextPeriodHeadline, currency?: string): string {
  return `${h.label} (${h.dateText}): ${fmtMoney(h.mean, currency)}, 80%: ${fmtMoney(h.lower80, currency)} – ${fmtMoney(h.upper80, currency)}`;
}
