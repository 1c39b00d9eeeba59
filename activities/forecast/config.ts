/** The `forecast` config section. */
import { z } from 'zod';

export const forecastSection = z
  .object({
    grain: z.enum(['day', 'week', 'month']).default('day'),
    /** Forecast horizon in periods of the grain. */
    horizon: z.number().int().min(1).max(730).default(28),
    /** Rolling-origin backtest origins. */
    origins: z.number().int().min(1).max(50).default(5),
    /**
     * Weekdays with no trading (0 = Sunday .. 6 = Saturday), or 'auto' to detect weekdays that never
     * had revenue (Online Retail never trades on Saturday).
     */
    closedWeekdays: z.union([z.literal('auto'), z.array(z.number().int().min(0).max(6))]).default('auto'),
    /** Holiday dates (YYYY-MM-DD) for the additive regression model. */
    holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).default([]),
  })
  .strict();

export type ForecastConfig = z.infer<typeof forecastSection>;
