/** The `recommend` config section. */
import { z } from 'zod';

export const recommendSection = z
  .object({
    /**
     * Association rules: an itemset is frequent when at least this share of orders holds it (and at least
     * `minOrders` orders). 0.005 of Online Retail's 18,400 baskets is 92 orders.
     */
    minSupport: z.number().gt(0).max(1).default(0.005),
    /** Absolute floor under minSupport: a pair seen in fewer orders is noise whatever the share. */
    minOrders: z.number().int().min(2).default(10),
    /** A rule A -> B is kept when P(B | A) reaches this. */
    minConfidence: z.number().min(0).max(1).default(0.2),
    /** ... and when its lift P(B | A) / P(B) reaches this (1 = no association). */
    minLift: z.number().min(1).default(1.5),
    /** Mine itemsets of three products (from the frequent pairs) as well as pairs. */
    maxItemsetSize: z.union([z.literal(2), z.literal(3)]).default(3),
    /** Bundles listed per persona. */
    bundlesPerPersona: z.number().int().min(1).max(100).default(5),
    /** Recommendations per customer (the CRM export shows the first 3). */
    topN: z.number().int().min(3).max(100).default(10),
    /** Categories recommended per customer (category_recommendations.parquet; the CRM export shows the first). */
    categoryTopN: z.number().int().min(1).max(20).default(3),
    /** Neighbours kept per product in the item-to-item model. */
    neighbors: z.number().int().min(1).max(500).default(100),
    /** Orders a pair must share before it links two products in the item-to-item model. */
    minPairOrders: z.number().int().min(1).default(2),
    /**
     * A product the customer bought within this many days of the scoring date is not recommended. Every day
     * excluded costs hits: customers reorder (Online Retail, hit rate at 10 against buy again's 0.796: 0 days
     * 0.827, 3 days 0.813, 7 days 0.796).
     */
    recentDays: z.number().int().min(0).max(365).default(3),
    /** Customers whose last purchase is within this many days of the data's end get recommendations. */
    activeDays: z.number().int().min(1).max(3650).default(365),
    /** Half-life (days) of a past purchase's weight in the customer's history. */
    historyHalfLifeDays: z.number().positive().max(3650).default(60),
    /** The popularity baseline (and the model's fill-in) ranks products by orders in this many days. */
    popularityDays: z.number().int().min(1).max(3650).default(90),
    /**
     * Weight of the customer's own purchase history (buy again) against item-to-item co-occurrence, 0..1.
     * 'auto' chooses it on the validation month (the month before the evaluation month).
     */
    blend: z.union([z.literal('auto'), z.number().min(0).max(1)]).default('auto'),
  })
  .strict();

export type RecommendConfig = z.infer<typeof recommendSection>;
