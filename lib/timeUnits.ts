/** The time units CLV measures recency and age in, shared by clv and experiment. */

/** The unit in which x's recency t_x and age T are measured. */
export type TimeUnit = 'day' | 'week' | 'month';

/** Length of one time unit in days; a month is the average Gregorian month, 365.25 / 12 days. */
export const DAYS_PER_UNIT: Readonly<Record<TimeUnit, number>> = { day: 1, week: 7, month: 365.25 / 12 };
