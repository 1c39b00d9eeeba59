/** The `clv` config section. */
import { z } from 'zod';

export const clvSection = z
  .object({
    /** Purchase model: BG/NBD (default) or Pareto/NBD. */
    model: z.enum(['bgnbd', 'paretonbd']).default('bgnbd'),
    /** Time unit of the model parameters and of every t, t_x, T field. */
    timeUnit: z.enum(['day', 'week', 'month']).default('week'),
    /** CLV horizon in months (discounted cash flow in monthly steps). */
    horizonMonths: z.number().int().min(1).max(120).default(12),
    /** Annual discount rate, e.g. 0.1 for 10%. */
    discountRate: z.number().min(0).max(1).default(0.1),
    /** Months at the end of history held out to validate the model (0 = none). */
    holdoutMonths: z.number().int().min(0).max(24).default(6),
  })
  .strict();

export type ClvConfig = z.infer<typeof clvSection>;
