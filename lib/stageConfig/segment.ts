/** The `segment` config section. */
import { z } from 'zod';
import { personaSettingsSchema } from './segmentPersonas';

export const segmentSection = z
  .object({
    method: z.enum(['kmeans', 'gmm']).default('kmeans'),
    /**
     * How k is chosen: 'separation' (k-means only; the largest k whose segments are separated by density
     * valleys and stable under resampling, selectK.ts), mean 'silhouette' (either method) or 'bic' (gmm
     * only). Default: 'separation' for k-means, 'silhouette' for gmm.
     */
    criterion: z.enum(['separation', 'silhouette', 'bic']).optional(),
    /**
     * Inclusive range of k searched. From 3 by default: two groups on the behavioural axis are a high/low
     * split of its strongest block, which the RFM value tiers beside every persona already give.
     */
    kRange: z
      .tuple([z.number().int().min(2), z.number().int().min(2)])
      .default([3, 8])
      .refine(([lo, hi]) => lo <= hi, { message: 'kRange must be [min, max] with min <= max' }),
    /** k-means++ restarts per k (lowest inertia kept). */
    restarts: z.number().int().min(1).max(100).default(4),
    /** Customers sampled for the silhouette when there are more. */
    silhouetteSampleSize: z.number().int().min(100).default(5000),
    /** Seed of the segment stage (defaults to the run seed). */
    seed: z.number().int().min(0).optional(),
    /** Feature columns to cluster on (default: the behavioural features of the dictionary). */
    features: z.array(z.string().min(1)).optional(),
    /**
     * Sharded runs: customers the model (k, segments, rules) is fitted on, chosen by a seeded hash of
     * customer_id (sample.ts), so the sample and every output are the same for any shard count. With at
     * most this many customers the sample is everyone. At least 10,000: on 1,200 sampled customers the k
     * search chose k = 8 for the generator's 4 planted groups (tests/unit/segment/sharded.test.ts).
     */
    fitSampleCustomers: z.number().int().min(10_000).max(2_000_000).default(200_000),
    /**
     * Persona naming (personaRules.ts): `rules` replaces the default list (first match wins; the last rule
     * has no conditions), `names` renames personas. The per-customer "No net purchase" rule always applies
     * first.
     */
    personas: personaSettingsSchema.default({}),
  })
  .strict()
  .refine((s) => s.criterion !== 'bic' || s.method === 'gmm', {
    message: "criterion 'bic' needs method 'gmm' (k-means has no likelihood)",
    path: ['criterion'],
  })
  .refine((s) => s.criterion !== 'separation' || s.method === 'kmeans', {
    message: "criterion 'separation' needs method 'kmeans' (its stability refits are k-means)",
    path: ['criterion'],
  });

export type SegmentConfig = z.infer<typeof segmentSection>;
