/**
 * The planted behaviour of the synthetic customers: BG/NBD and Gamma-Gamma parameters per behavioural
 * group, the non-model features that make the groups separable (category mix, weekday profile, basket
 * shape, return rate, browsing), and the seasonality multipliers. Everything here is copied verbatim into
 * truth.json, so a test can compare any estimate against the value that produced the data.
 */

/** Product categories of the catalogue, in the order used by every category-indexed array. */
export const CATEGORIES = [
  'essentials',
  'electronics',
  'home',
  'fashion',
  'beauty',
  'toys',
  'sports',
  'books',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** BG/NBD parameters (Fader, Hardie and Lee 2005), time unit one week: lambda ~ Gamma(r, alpha), p ~ Beta(a, b). */
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** Gamma-Gamma spend parameters (Fader, Hardie and Lee 2005b; Colombo and Jiang 1999): z ~ Gamma(p, nu), nu ~ Gamma(q, v). */
export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

/** Everything about a group that is not the purchase-count or spend model. */
export interface GroupBehaviour {
  /** Probability that an order line is drawn from each category (CATEGORIES order). */
  categoryMix: number[];
  /** Purchase-intensity multipliers Monday..Sunday (mean 1); only with seasonality on. */
  weekdayMultipliers: number[];
  /** Probabilities of 1..5 lines per order. */
  linesPerOrder: number[];
  /** Quantity of a line = 1 + Poisson(extraQuantity), at most 9; the last line of an order has quantity 1. */
  extraQuantity: number;
  /** Probability that an order is (partly) returned. */
  returnRate: number;
  /** Extra product views (Poisson mean) in a session that ends in a purchase, besides the bought items. */
  extraViewsPerPurchaseSession: number;
  /** Browse-only sessions per order (Poisson mean, times number of orders). */
  browseSessionsPerOrder: number;
  /** Browse-only sessions per week of engagement (Poisson rate), independent of purchases. */
  browseSessionsPerWeek: number;
  /** Mean number of product views in a browse-only session (1 + Poisson(mean - 1)). */
  viewsPerBrowseSession: number;
  /** Probability that a browse-only session puts an item in the cart (an abandoned cart). */
  abandonedCartProbability: number;
}

/** One behavioural group: its share of customers, its models' parameters and its behaviour. */
export interface GroupProfile {
  name: string;
  share: number;
  bgnbd: BgNbdParams;
  gammaGamma: GammaGammaParams;
  behaviour: GroupBehaviour;
}

/** Population parameters used when groups = 1 (for model-recovery tests). */
export const DEFAULT_POPULATION: BgNbdParams & GammaGammaParams = {
  r: 0.25,
  alpha: 4.0,
  a: 0.8,
  b: 2.5,
  p: 6,
  q: 4,
  v: 15,
};

const FLAT_WEEK = [1, 1, 1, 1, 1, 1, 1];

/** Behaviour of the single population group (groups = 1): a mild version of everything. */
export const POPULATION_BEHAVIOUR: GroupBehaviour = {
  categoryMix: [0.2, 0.1, 0.15, 0.15, 0.12, 0.1, 0.1, 0.08],
  weekdayMultipliers: [0.95, 0.95, 0.95, 1.0, 1.05, 1.1, 1.0],
  linesPerOrder: [0.4, 0.3, 0.15, 0.1, 0.05],
  extraQuantity: 0.2,
  returnRate: 0.05,
  extraViewsPerPurchaseSession: 2,
  browseSessionsPerOrder: 1,
  browseSessionsPerWeek: 0.05,
  viewsPerBrowseSession: 4,
  abandonedCartProbability: 0.2,
};

/**
 * The four groups. They differ in several independent feature dimensions at once (category mix, weekday
 * share, lines and units per order, unit price level through spend / units, return rate, browsing), because
 * the per-customer BG/NBD parameters alone are far too noisy to tell groups apart.
 */
export const FOUR_GROUPS: GroupProfile[] = [
  {
    name: 'loyal_high_value',
    share: 0.2,
    bgnbd: { r: 4, alpha: 12, a: 1.2, b: 12 },
    gammaGamma: { p: 8, q: 10, v: 200 },
    behaviour: {
      categoryMix: [0.04, 0.03, 0.34, 0.1, 0.3, 0.03, 0.06, 0.1],
      weekdayMultipliers: FLAT_WEEK,
      linesPerOrder: [0.05, 0.2, 0.35, 0.25, 0.15],
      extraQuantity: 0.15,
      returnRate: 0.03,
      extraViewsPerPurchaseSession: 2,
      browseSessionsPerOrder: 0.6,
      browseSessionsPerWeek: 0.02,
      viewsPerBrowseSession: 4,
      abandonedCartProbability: 0.15,
    },
  },
  {
    name: 'bargain_frequent',
    share: 0.3,
    bgnbd: { r: 6, alpha: 8, a: 2, b: 14 },
    gammaGamma: { p: 10, q: 12, v: 27.5 },
    behaviour: {
      categoryMix: [0.82, 0.01, 0.07, 0.02, 0.05, 0.02, 0.005, 0.005],
      weekdayMultipliers: [1.35, 1.35, 1.35, 1.35, 1.35, 0.125, 0.125],
      linesPerOrder: [0.1, 0.35, 0.35, 0.15, 0.05],
      extraQuantity: 2,
      returnRate: 0.01,
      extraViewsPerPurchaseSession: 0.5,
      browseSessionsPerOrder: 0.15,
      browseSessionsPerWeek: 0,
      viewsPerBrowseSession: 2,
      abandonedCartProbability: 0.05,
    },
  },
  {
    name: 'occasional_big_spender',
    share: 0.2,
    bgnbd: { r: 3, alpha: 60, a: 2, b: 8 },
    gammaGamma: { p: 12, q: 8, v: 233 },
    behaviour: {
      categoryMix: [0.01, 0.74, 0.08, 0.03, 0.01, 0.02, 0.09, 0.02],
      weekdayMultipliers: [0.6, 0.6, 0.6, 0.6, 0.6, 2.0, 2.0],
      linesPerOrder: [0.75, 0.2, 0.05, 0, 0],
      extraQuantity: 0.05,
      returnRate: 0.2,
      extraViewsPerPurchaseSession: 6,
      browseSessionsPerOrder: 4,
      browseSessionsPerWeek: 0.03,
      viewsPerBrowseSession: 8,
      abandonedCartProbability: 0.35,
    },
  },
  {
    name: 'one_time_lapsed',
    share: 0.3,
    bgnbd: { r: 1, alpha: 200, a: 6, b: 1.5 },
    gammaGamma: { p: 5, q: 6, v: 60 },
    behaviour: {
      categoryMix: [0.02, 0.02, 0.02, 0.68, 0.05, 0.2, 0.01, 0],
      weekdayMultipliers: [0.8, 0.8, 0.8, 0.9, 1.2, 1.3, 1.2],
      linesPerOrder: [0.8, 0.2, 0, 0, 0],
      extraQuantity: 0.1,
      returnRate: 0.08,
      extraViewsPerPurchaseSession: 3,
      browseSessionsPerOrder: 1,
      browseSessionsPerWeek: 0.25,
      viewsPerBrowseSession: 5,
      abandonedCartProbability: 0.3,
    },
  },
];

/** Month-of-year purchase-intensity multipliers January..December (before normalisation to mean 1): a Q4 peak. */
const YEARLY_RAW = [0.85, 0.78, 0.88, 0.92, 0.95, 0.9, 0.88, 0.92, 0.97, 1.05, 1.35, 1.55];

/** Hour-of-day multipliers 0..23 UTC (before normalisation to mean 1): quiet nights, evening peak. */
const HOURLY_RAW = [
  0.25, 0.15, 0.1, 0.1, 0.1, 0.15, 0.35, 0.6, 0.9, 1.1, 1.2, 1.25, 1.35, 1.3, 1.2, 1.2, 1.25, 1.4, 1.6, 1.75,
  1.7, 1.4, 0.9, 0.5,
];

/** Scale values so that their mean is 1. */
export function normaliseToMeanOne(values: readonly number[]): number[] {
  const mean = values.reduce((sum, x) => sum + x, 0) / values.length;
  return values.map((x) => x / mean);
}

export const YEARLY_MULTIPLIERS = normaliseToMeanOne(YEARLY_RAW);
export const HOURLY_MULTIPLIERS = normaliseToMeanOne(HOURLY_RAW);

/**
 * Monthly weights of customer acquisition (first purchases): growth over the range times a Q4 and New-Year
 * bump. Not part of either model; only where in time customers start.
 */
export function acquisitionWeights(startMonthOfYear: number, months: number): number[] {
  const weights: number[] = [];
  for (let m = 0; m < months; m++) {
    const monthOfYear = (startMonthOfYear + m) % 12;
    const growth = 1 + (0.5 * m) / Math.max(1, months - 1);
    const newYear = monthOfYear === 0 ? 1.3 : 1;
    weights.push(Math.pow(YEARLY_MULTIPLIERS[monthOfYear], 1.5) * growth * newYear);
  }
  return weights;
}
