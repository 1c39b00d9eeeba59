/**
 * Which months a run may be made of, with the words every command uses to refuse one: `run`, `replay`
 * (on the CLI side, before any workflow starts) and `backfill` (inside its workflow). Pure functions,
 * also used by workflow code: no I/O, no clock (the caller passes the current month).
 */

/** The verb that names what was refused: "cannot run 2031-05: ...". */
export type MonthAction = 'run' | 'replay' | 'backfill';

/**
 * A month that has not ended yet has only part of its data: a run of it would report a partial month as
 * if it were whole. Returns the refusal, or undefined when every month has ended.
 */
export function unendedMonthsRefusal(
  action: MonthAction,
  months: readonly string[],
  currentMonth: string,
): string | undefined {
  const future = months.filter((m) => m >= currentMonth);
  if (future.length === 0) return undefined;
  return `cannot ${action} ${future.join(', ')}: the month has not ended yet (it is ${currentMonth} now)`;
}

/**
 * A dataset with no transactions, or a month before its first one, has nothing to run on. `firstMonth` is
 * the month of the dataset's first transaction (null: none loaded).
 */
export function monthsBeforeDataRefusal(
  action: MonthAction,
  dataset: string,
  months: readonly string[],
  firstMonth: string | null,
): string | undefined {
  if (firstMonth === null)
    return `dataset ${dataset} has no transactions loaded (load some with \`custflow data load --dataset ${dataset} ...\`)`;
  const before = months.filter((m) => m < firstMonth);
  if (before.length === 0) return undefined;
  return `cannot ${action} ${before.join(', ')}: the data of ${dataset} starts in ${firstMonth}`;
}
