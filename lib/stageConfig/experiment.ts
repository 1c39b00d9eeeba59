/**
 * Schema of the `experiment` section of the run configuration (validated with zod; unknown keys are errors),
 * for lib/config.ts to include as `experiment: experimentSection.default(() => experimentSection.parse({}))`.
 * Value rules that need the data (segment names, beta mean/sd compatibility) are checked again by the code.
 */
import { z } from 'zod';

const upliftDistribution = z.discriminatedUnion('dist', [
  z.object({ dist: z.literal('fixed'), value: z.number().min(-1) }).strict(),
  z
    .object({
      dist: z.literal('normal'),
      mean: z.number(),
      sd: z.number().positive(),
      min: z.number().min(-1).optional(),
      max: z.number().optional(),
    })
    .strict(),
  z
    .object({
      dist: z.literal('beta'),
      mean: z.number(),
      sd: z.number().positive(),
      min: z.number().min(-1).optional(),
      max: z.number().optional(),
    })
    .strict(),
  z.object({ dist: z.literal('uniform'), min: z.number().min(-1), max: z.number() }).strict(),
]);

const targetRule = z
  .object({
    segments: z.array(z.string().min(1)).optional(),
    minChurnProbability: z.number().min(0).max(1).optional(),
    maxChurnProbability: z.number().min(0).max(1).optional(),
    minClv: z.number().optional(),
    maxClv: z.number().optional(),
    topN: z.number().int().min(0).optional(),
    rankBy: z.enum(['clv', 'churnProbability', 'valueAtRisk']).optional(),
  })
  .strict();

/** One policy to simulate (see policySimulation.ts for the model). */
export const policySchema = z
  .object({
    name: z.string().min(1),
    target: targetRule.optional(),
    upliftConversion: upliftDistribution,
    upliftSpend: upliftDistribution.optional(),
    costPerContact: z.number().min(0),
    goal: z
      .object({
        extraOrders: z.number().optional(),
        /** Incremental sales (revenue with the policy minus without) over the policy horizon. */
        incrementalRevenue: z.number().optional(),
        /** Total sales of every scored customer (targeted or not) over the policy horizon. */
        totalRevenue: z.number().optional(),
      })
      .strict()
      .optional(),
    /**
     * Conversion uplifts (fixed, relative: 0.1 = +10 %) at which to simulate the policy again, for a chart of
     * P(goal) and expected incremental revenue against the boost. Needs a goal.
     */
    boostSweep: z.array(z.number().min(-1).max(10)).min(1).max(50).optional(),
  })
  .strict()
  .refine((p) => p.boostSweep === undefined || p.goal !== undefined, {
    message: 'boostSweep needs a goal (P(goal) is what the sweep charts)',
    path: ['boostSweep'],
  });

const metricName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a metric name is a letter then letters, digits or _ (at most 64)');

/** A per-customer aggregate of one transactions column over the outcome window (customMetrics.ts). */
const measureMetric = z
  .object({
    name: metricName,
    /** Column of the clean transactions (amount, quantity, order_id, or a numeric extension column). */
    column: z.string().min(1),
    aggregate: z.enum(['sum', 'count', 'countDistinct', 'max']).default('sum'),
    /** Which rows count: all, purchases (amount > 0) or returns (amount < 0). */
    rows: z.enum(['all', 'purchases', 'returns']).default('all'),
  })
  .strict();

/** sum(numerator) / sum(denominator) per variant, delta-method variance (customMetrics.ts). */
const ratioMetric = z.object({ name: metricName, numerator: metricName, denominator: metricName }).strict();

/** A guardrail: the metric's relative lift interval must stay within these bounds to pass. */
const guardrail = z
  .object({
    metric: metricName,
    maxRelativeDrop: z.number().min(0).optional(),
    maxRelativeIncrease: z.number().min(0).optional(),
  })
  .strict()
  .refine((g) => g.maxRelativeDrop !== undefined || g.maxRelativeIncrease !== undefined, {
    message: 'a guardrail needs maxRelativeDrop or maxRelativeIncrease',
  });

/** The `experiment` config section. */
export const experimentSection = z
  .object({
    /** Significance level of tests and 1 - level of intervals. */
    alpha: z.number().gt(0).lt(1).default(0.05),
    /** Power for minimum detectable effects. */
    power: z.number().gt(0).lt(1).default(0.8),
    /** SRM p-value below which an experiment is flagged. */
    srmThreshold: z.number().gt(0).lt(1).default(0.001),
    /** Planned traffic weights per experiment id and variant (default equal split). */
    plannedSplits: z.record(z.string(), z.record(z.string(), z.number().positive())).default({}),
    /** Relative lift experiments were designed to detect (reports power at it). */
    plannedRelativeLift: z.number().optional(),
    /** Days after assignment over which an experiment's outcome is measured. */
    windowDays: z.number().int().min(1).max(3660).default(14),
    /** Days before assignment whose revenue is the CUPED covariate. */
    preWindowDays: z.number().int().min(1).max(3660).default(90),
    /** Metrics beyond conversion and revenue; names unique (checked with the data). */
    metrics: z
      .array(z.union([measureMetric, ratioMetric]))
      .max(20)
      .default([]),
    /** Guardrails on the configured or built-in (conversion, revenue) metrics: pass or fail per treatment. */
    guardrails: z.array(guardrail).max(20).default([]),
    /** Days over which policies are simulated and their goals counted. */
    policyHorizonDays: z.number().int().min(1).max(3660).default(14),
    /** Smallest arm within a segment that gets its own test. */
    minSegmentArmSize: z.number().int().min(2).default(30),
    /** Policies to simulate; names must be unique. */
    policies: z
      .array(policySchema)
      .default([])
      .refine((list) => new Set(list.map((p) => p.name)).size === list.length, {
        message: 'policy names must be unique',
      }),
    /** Monte Carlo simulations per policy. */
    simulations: z.number().int().min(1).max(1_000_000).default(10_000),
    /** Probability bins of the binned simulation. */
    bins: z.number().int().min(1).max(100_000).default(128),
    method: z.enum(['binned', 'perCustomer']).default('binned'),
  })
  .strict();

export type ExperimentConfig = z.infer<typeof experimentSection>;
export type ExperimentMetricConfig = ExperimentConfig['metrics'][number];
export type PolicyConfig = z.infer<typeof policySchema>;
