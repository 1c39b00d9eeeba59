/**
 * The cutoffs of a churn run (see index.ts): effective end D = min(C, end of the day of the last
 * transaction), evaluation cutoff E = D - W, training cutoff T = E - W, or why there are none.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlTimestamp } from '../../lib/duck';

const DAY_MS = 86_400_000;

/** The cutoffs of one churn run (see the module comment), ISO instants. */
export interface ChurnTimeline {
  runCutoff: string;
  /** D = min(C, end of the UTC day of the last transaction). */
  effectiveEnd: string;
  /** E = D - window. */
  evalCutoff: string;
  /** T = E - window. */
  trainCutoff: string;
  /** True when the history stops before the run's cutoff (D < C). */
  dataEndsEarly: boolean;
  windowDays: number;
}

/** Input of churnTimeline. */
export interface ChurnTimelineInput {
  runCutoff: string;
  /** First and last transaction at or before the run's cutoff (ISO), null when there is none. */
  firstTs: string | null;
  lastTs: string | null;
  windowDays: number;
}

/**
 * The effective end D, evaluation cutoff E = D - W and training cutoff T = E - W for a run cutoff C and window
 * W, or the reason there are none: no transaction, or T not after the first transaction (no customer would be
 * active at T). Throws only on malformed input.
 */
export function churnTimeline(
  input: ChurnTimelineInput,
): { timeline: ChurnTimeline; reason?: undefined } | { timeline?: undefined; reason: string } {
  const { windowDays } = input;
  if (!Number.isInteger(windowDays) || windowDays < 1) {
    throw new Error(`churnTimeline: churn.window must be an integer number of days >= 1 (got ${windowDays})`);
  }
  const runMs = parseInstant(input.runCutoff, 'run cutoff');
  if (input.firstTs === null || input.lastTs === null) {
    return { reason: `no transaction at or before the run cutoff ${new Date(runMs).toISOString()}` };
  }
  const firstMs = parseInstant(input.firstTs, 'first transaction');
  const lastMs = parseInstant(input.lastTs, 'last transaction');
  if (lastMs < firstMs) throw new Error('churnTimeline: last transaction precedes the first');
  const endOfLastDay = Math.floor(lastMs / DAY_MS) * DAY_MS + DAY_MS - 1;
  const effectiveMs = Math.min(runMs, endOfLastDay);
  const evalMs = effectiveMs - windowDays * DAY_MS;
  const trainMs = evalMs - windowDays * DAY_MS;
  const iso = (ms: number): string => new Date(ms).toISOString();
  if (trainMs <= firstMs) {
    const days = Math.floor((effectiveMs - firstMs) / DAY_MS);
    return {
      reason:
        `history too short for churn labels: ${iso(firstMs)} to ${iso(effectiveMs)} is ${days} days, and ` +
        `training on a closed ${windowDays}-day window before a closed evaluation window needs more than ` +
        `2 x churn.window = ${2 * windowDays} days (training cutoff ${iso(trainMs)} is not after the first transaction)`,
    };
  }
  return {
    timeline: {
      runCutoff: iso(runMs),
      effectiveEnd: iso(effectiveMs),
      evalCutoff: iso(evalMs),
      trainCutoff: iso(trainMs),
      dataEndsEarly: effectiveMs < runMs,
      windowDays,
    },
  };
}

/** First and last transaction at or before the run cutoff (ISO), as churnTimeline reads them. */
export async function transactionSpan(
  duck: Duck,
  table: string,
  runCutoff: string,
): Promise<{ firstTs: string | null; lastTs: string | null }> {
  const span = await duck.one<{ first_ts: Date | null; last_ts: Date | null }>(
    `SELECT min(ts) AS first_ts, max(ts) AS last_ts FROM ${sqlIdent(table)}
     WHERE ts <= ${sqlTimestamp(runCutoff, 'computeChurn')} AND customer_id IS NOT NULL`,
  );
  return {
    firstTs: span.first_ts ? span.first_ts.toISOString() : null,
    lastTs: span.last_ts ? span.last_ts.toISOString() : null,
  };
}

/** Milliseconds of an ISO instant; a date-time without a zone is UTC (as everywhere in custflow). */
export function parseInstant(value: string, what: string): number {
  const zoned = value.length <= 10 || /[zZ]|[+-]\d{2}:?\d{2}$/.test(value);
  const ms = Date.parse(zoned ? value : `${value}Z`);
  if (!Number.isFinite(ms)) throw new Error(`churn: ${what} "${value}" is not an ISO 8601 instant`);
  return ms;
}
