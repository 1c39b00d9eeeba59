/** The `forecast` config section. */
import { z } from 'zod';

/** Candidate families that forecast.model can pin (names as the candidates are named in backtest.ts). */
export const MODEL_FAMILIES = ['seasonalNaive', 'holtWinters', 'sarima', 'additiveRegression'] as const;

/** Days before and after each date that get an effect of their own (day grain). */
const holidayWindow = {
  lowerWindow: z.number().int().min(-14).max(0).default(0),
  upperWindow: z.number().int().min(0).max(14).default(0),
};

/** forecast.bySeries: the per-category and per-segment forecasts. */
const bySeriesSection = z
  .object({
    categories: z.boolean().default(true),
    segments: z.boolean().default(true),
    /** Categories forecast on their own, by net revenue over the history; the others form one series. */
    topCategories: z.number().int().min(1).max(50).default(10),
    /** Days from a series' first sale to the end of the data below which it is "too short". */
    minHistoryDays: z.number().int().min(14).max(3650).default(112),
    /** Largest relative gap between the sum of the series' forecasts and the total forecast before a warning. */
    coherenceTolerance: z.number().min(0).max(1).default(0.1),
  })
  .strict();

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
    /**
     * The model family to use ('auto': the lowest backtest MASE). A pinned family is still backtested beside
     * the others (the scores stay comparable); if none of its candidates can be fitted the choice falls back to
     * 'auto' with a warning.
     */
    model: z.enum(['auto', ...MODEL_FAMILIES]).default('auto'),
    /**
     * Search SARIMA orders by AIC within these bounds (d and D fixed) instead of the airline model
     * (0,1,1)(0,1,1). Off by default: each backtest origin fits every order in the bounds.
     */
    sarimaSearch: z
      .object({
        maxP: z.number().int().min(0).max(3).default(2),
        maxQ: z.number().int().min(0).max(3).default(2),
        maxSeasonalP: z.number().int().min(0).max(2).default(1),
        maxSeasonalQ: z.number().int().min(0).max(2).default(1),
        d: z.number().int().min(0).max(2).default(1),
        seasonalD: z.number().int().min(0).max(1).default(1),
        transform: z.enum(['none', 'log']).default('none'),
      })
      .strict()
      .optional(),
    /** Country calendars (date-holidays), each holiday with its own effect in the additive regression. */
    holidayCalendars: z
      .array(
        z
          .object({
            /** ISO 3166 country code, e.g. 'GB', 'US', 'DE'. */
            country: z.string().regex(/^[A-Z]{2}$/, 'a two-letter ISO 3166 country code such as GB'),
            /** State or region code within the country (date-holidays), e.g. 'ENG' for GB. */
            region: z.string().min(1).optional(),
            /** Holiday types to take (date-holidays types). */
            types: z
              .array(z.enum(['public', 'bank', 'school', 'optional', 'observance']))
              .min(1)
              .default(['public']),
            /** Only holidays with these names (default all of the types). */
            names: z.array(z.string().min(1)).optional(),
            ...holidayWindow,
          })
          .strict(),
      )
      .max(10)
      .default([]),
    /**
     * Holidays by rule (date-holidays rule syntax), e.g. { name: 'Black Friday', rule: 'friday after 4th
     * thursday in November' }, or by dates; expanded over history and horizon, so moving holidays get a
     * future effect.
     */
    namedHolidays: z
      .array(
        z
          .object({
            name: z.string().min(1).max(100),
            rule: z.string().min(1).optional(),
            dates: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).optional(),
            ...holidayWindow,
          })
          .strict()
          .refine((h) => (h.rule === undefined) !== (h.dates === undefined), {
            message: 'a named holiday needs exactly one of rule or dates',
          }),
      )
      .max(50)
      .default([]),
    /**
     * Forecasts per category (top N by revenue, the rest as one series) and per segment (persona), each
     * series with the same model selection as the total; a series with less history is reported as too short.
     */
    bySeries: bySeriesSection.default(() => bySeriesSection.parse({})),
  })
  .strict();

export type ForecastConfig = z.infer<typeof forecastSection>;
