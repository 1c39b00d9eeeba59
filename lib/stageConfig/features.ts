/** The `features` config section. */
import { z } from 'zod';

export const featuresSection = z
  .object({
    /** Compute the insight tests (ANOVA, Kruskal-Wallis, two-way ANOVA, correlations). */
    insights: z.boolean().default(true),
  })
  .strict();

export type FeaturesConfig = z.infer<typeof featuresSection>;
