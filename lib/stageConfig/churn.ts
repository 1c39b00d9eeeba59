/** The `churn` config section. */
import { z } from 'zod';

export const churnSection = z
  .object({
    /** A customer churns when they make no purchase in the next `window` days. */
    window: z.number().int().min(7).max(730).default(90),
    /** Model choice: by held-out AUC (auto), or a fixed one. */
    model: z.enum(['auto', 'logistic', 'gbm']).default('auto'),
    /** L2 penalty of the logistic regression (on standardized features). */
    l2: z.number().min(0).default(1),
    /** Gradient-boosted trees. */
    trees: z.number().int().min(1).max(2000).default(100),
    depth: z.number().int().min(1).max(10).default(4),
    learningRate: z.number().gt(0).max(1).default(0.1),
    /**
     * Customers the models are fitted on, per window: a seeded uniform sample when a window has more.
     * Scores always use every customer, and so do the held-out metrics of the unsharded stage; a sharded
     * run takes both samples by a hash of customer_id and judges on the evaluation sample (sharded.ts).
     * 250,000 rows pin ~30 coefficients and depth-4 trees far below their sampling error, and keep
     * 1M-customer fits inside the time budget.
     */
    maxTrainingRows: z.number().int().min(1000).default(250_000),
    /** Prior sd of the Bayesian high-value classifier's coefficients. */
    priorSd: z.number().positive().default(2.5),
    /** Customers listed in the at-risk table of the report. */
    atRiskListSize: z.number().int().min(0).max(10_000).default(50),
  })
  .strict();

export type ChurnConfig = z.infer<typeof churnSection>;
