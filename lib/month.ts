/**
 * Months and cutoffs. A run is "dataset D as of the end of month M": the cutoff is the last instant of M
 * in UTC. Pure functions (also used by workflow code, so no Node built-ins here).
 */
const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

/**
 * The earliest year a month may name. Below it a typo is far likelier than data (and Date.UTC maps years
 * 0-99 to 1900-1999, so "0000-01" would silently become January 1900).
 */
export const MIN_MONTH_YEAR = 1000;

export function parseMonth(month: string): { year: number; month: number } {
  const match = MONTH_PATTERN.exec(month);
  if (!match) throw new Error(`month "${month}" must look like YYYY-MM (e.g. 2011-12)`);
  const year = Number(match[1]);
  if (year < MIN_MONTH_YEAR)
    throw new Error(
      `month "${month}" is before the year ${MIN_MONTH_YEAR}; write the year in full (e.g. 2011-12)`,
    );
  return { year, month: Number(match[2]) };
}

/** First instant of the month, epoch ms. */
export function monthStartMs(month: string): number {
  const { year, month: m } = parseMonth(month);
  return Date.UTC(year, m - 1, 1);
}

/** Last millisecond of the month, epoch ms: the run's cutoff. */
export function monthCutoffMs(month: string): number {
  const { year, month: m } = parseMonth(month);
  return Date.UTC(year, m, 1) - 1;
}

/** The cutoff as an ISO string, e.g. 2011-12-31T23:59:59.999Z. */
export function monthCutoffIso(month: string): string {
  return new Date(monthCutoffMs(month)).toISOString();
}

export function addMonths(month: string, delta: number): string {
  const { year, month: m } = parseMonth(month);
  const index = year * 12 + (m - 1) + delta;
  return formatMonth(Math.floor(index / 12), (index % 12) + 1);
}

export function formatMonth(year: number, month: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

/** Inclusive list of months from..to. */
export function monthRange(from: string, to: string): string[] {
  const out: string[] = [];
  for (let m = from; m <= to; m = addMonths(m, 1)) out.push(m);
  return out;
}

/** The month (YYYY-MM) an epoch-ms instant falls in, UTC. */
export function monthOf(ms: number): string {
  const d = new Date(ms);
  return formatMonth(d.getUTCFullYear(), d.getUTCMonth() + 1);
}
