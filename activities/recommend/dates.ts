/**
 * The dates the stage works from: the effective end of the data (the cutoff, or the end of the last order's
 * day when the data stops earlier) and the month before an instant (evaluation and validation windows).
 */
import type { Duck } from '../../lib/duck';
import { sqlTimestamp as timestampSql } from '../../lib/duck';

/**
 * The instant one calendar month before `iso`: a month-end instant (the last millisecond of a month, as run
 * cutoffs are) maps to the last millisecond of the month before; any other keeps its day and time, clamped to
 * the shorter month (2011-12-09T23:59:59.999Z -> 2011-11-09T23:59:59.999Z, 03-31 -> 02-28 or 02-29).
 */
export function monthBefore(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`recommend: not a valid instant (${iso})`);
  const next = new Date(ms + 1);
  if (next.getUTCDate() === 1 && next.getTime() % 86_400_000 === 0) {
    return new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() - 1, 1) - 1).toISOString();
  }
  const d = new Date(ms);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 0)).getUTCDate();
  return new Date(
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, Math.min(d.getUTCDate(), lastDay)) + (ms % 86_400_000),
  ).toISOString();
}

/** min(cutoff, end of the UTC day of the last order), ISO; null without orders. */
export async function effectiveEndOf(duck: Duck, cutoff: string): Promise<string | null> {
  const row = await duck.one<{ last: string | null }>(
    `SELECT strftime(least(${timestampSql(cutoff)},
                           date_trunc('day', max(ts)) + INTERVAL 1 DAY - INTERVAL 1 MILLISECOND),
                     '%Y-%m-%dT%H:%M:%S.%gZ') AS last
     FROM rec_orders`,
  );
  return row.last;
}
