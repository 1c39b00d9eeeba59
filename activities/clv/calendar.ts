/**
 * Calendar arithmetic of the holdout check: the calibration cutoff `holdoutMonths` before the run's cutoff,
 * whether the history before it is long enough, and the holdout length in the model's time unit.
 */
import { DAYS_PER_UNIT } from './common';
import type { TimeUnit } from './common';

/** Calibration periods shorter than this many whole months are not worth a holdout check. */
export const MIN_CALIBRATION_MONTHS = 3;

/**
 * The instant `months` calendar months before `iso`. A month-end cutoff (the last millisecond of a month, as
 * runs use) maps to the last millisecond of the earlier month (1997-09-30T23:59:59.999Z minus 6 gives
 * 1997-03-31T23:59:59.999Z); any other instant keeps its day of month and time, clamped to the month's length.
 */
export function monthsBefore(iso: string, months: number): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`clv.monthsBefore: not a valid date (${iso})`);
  if (!(months >= 0) || months !== Math.floor(months)) {
    throw new Error(`clv.monthsBefore: months must be a non-negative integer (got ${months})`);
  }
  const next = new Date(ms + 1);
  if (next.getUTCDate() === 1 && next.getTime() % 86_400_000 === 0) {
    return new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() - months, 1) - 1).toISOString();
  }
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(d.getUTCDate(), lastDay),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
      d.getUTCMilliseconds(),
    ),
  ).toISOString();
}

/**
 * Whether a holdout check is possible: the calibration period (first purchase to calibrationCutoff) must cover
 * at least MIN_CALIBRATION_MONTHS (3) months, i.e. the first purchase is no later than the instant just after
 * calibrationCutoff - 3 months (for month-end cutoffs: the first day of the month two months earlier).
 */
export function holdoutEligibility(
  firstPurchaseMs: number,
  calibrationCutoffIso: string,
): { eligible: boolean; latestFirstPurchase: string } {
  const latest = Date.parse(monthsBefore(calibrationCutoffIso, MIN_CALIBRATION_MONTHS)) + 1;
  return { eligible: firstPurchaseMs <= latest, latestFirstPurchase: new Date(latest).toISOString() };
}

/**
 * Holdout length in the time unit, counted as customerSummary counts T: whole UTC days from the calibration
 * cutoff's day to the holdout end's day (1997-09-30 to 1998-06-30 is 273 days, 39 weeks).
 */
export function holdoutLength(calibrationCutoffIso: string, holdoutEndIso: string, unit: TimeUnit): number {
  const day = (iso: string): number => Math.floor(Date.parse(iso) / 86_400_000);
  return (day(holdoutEndIso) - day(calibrationCutoffIso)) / DAYS_PER_UNIT[unit];
}
