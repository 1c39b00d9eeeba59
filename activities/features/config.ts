/** The `features` config section. */
import { z } from 'zod';

export const featuresSection = z
  .object({
    /** Window of the spend trend feature: last N days against the N before. */
    trendDays: z.number().int().min(7).max(365).default(90),
    /** Compute the insight tests (ANOVA, Kruskal-Wallis, correlations). */
    insights: z.boolean().default(true),
  })
  .strict();

export type FeaturesConfig = z.infer<typeof featuresSection>;
