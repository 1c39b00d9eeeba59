/** Window lengths in days: the same bounds for the outcome window, the pre-period and the policy horizon. */
export const MAX_WINDOW_DAYS = 3660;

/** Throws unless value is an integer number of days in [1, MAX_WINDOW_DAYS]. */
export function checkDays(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > MAX_WINDOW_DAYS) {
    throw new Error(
      `experiment: ${name} must be an integer number of days in [1, ${MAX_WINDOW_DAYS}] (got ${value})`,
    );
  }
}
