/**
 * Planted customer groups for the segmentation tests: four customer types with realistic skewed features
 * (gamma recency, Poisson order counts, lognormal order values, beta rates), simulated with Rng so the
 * true group of every customer is known.
 */
import type { Matrix } from '../../../activities/segment/matrix';
import { Rng } from '../../../lib/random';

export const PLANTED_FEATURES = [
  'recencyDays',
  'frequency',
  'monetaryTotal',
  'avgOrderValue',
  'tenureDays',
  'returnRate',
  'discountShare',
  'sessions',
  'distinctCategories',
  'spendTrend',
] as const;

/** Money and count columns: these get log1p. */
export const PLANTED_SKEWED = [
  'recencyDays',
  'frequency',
  'monetaryTotal',
  'avgOrderValue',
  'tenureDays',
  'sessions',
  'distinctCategories',
];

interface GroupSpec {
  size: number;
  recencyMean: number;
  extraOrders: number;
  logAov: number;
  tenureMean: number;
  returnBeta: [number, number];
  discountBeta: [number, number];
  categories: number;
  trend: number;
}

/** Loyal high spenders, bargain regulars, lapsed big-ticket buyers, new one-timers. */
export const PLANTED_GROUPS: GroupSpec[] = [
  {
    size: 1200,
    recencyMean: 10,
    extraOrders: 14,
    logAov: Math.log(90),
    tenureMean: 1000,
    returnBeta: [2, 40],
    discountBeta: [2, 12],
    categories: 6,
    trend: 0.2,
  },
  {
    size: 900,
    recencyMean: 45,
    extraOrders: 5,
    logAov: Math.log(18),
    tenureMean: 500,
    returnBeta: [4, 16],
    discountBeta: [12, 4],
    categories: 2,
    trend: 0,
  },
  {
    size: 600,
    recencyMean: 300,
    extraOrders: 3,
    logAov: Math.log(160),
    tenureMean: 900,
    returnBeta: [2, 30],
    discountBeta: [2, 10],
    categories: 3,
    trend: -0.6,
  },
  {
    size: 300,
    recencyMean: 12,
    extraOrders: 0.05,
    logAov: Math.log(45),
    tenureMean: 15,
    returnBeta: [2, 30],
    discountBeta: [3, 6],
    categories: 0.3,
    trend: 0.8,
  },
];

/** The planted customers (rows grouped by type), their true group, and the raw feature columns. */
export function plantedCustomers(seed = 42): {
  matrix: Matrix;
  truth: Int32Array;
  columns: Record<string, Float64Array>;
} {
  const rng = new Rng(seed);
  const n = PLANTED_GROUPS.reduce((s, g) => s + g.size, 0);
  const d = PLANTED_FEATURES.length;
  const data = new Float64Array(n * d);
  const truth = new Int32Array(n);
  let i = 0;
  PLANTED_GROUPS.forEach((g, gi) => {
    for (let r = 0; r < g.size; r++, i++) {
      truth[i] = gi;
      const frequency = 1 + rng.poisson(g.extraOrders);
      const aov = Math.exp(rng.normal(g.logAov, 0.3));
      const monetary = frequency * aov;
      const recency = rng.gamma(4, 4 / g.recencyMean);
      const row = [
        recency,
        frequency,
        monetary,
        aov,
        recency + rng.gamma(4, 4 / g.tenureMean),
        rng.beta(g.returnBeta[0], g.returnBeta[1]),
        rng.beta(g.discountBeta[0], g.discountBeta[1]),
        frequency + rng.poisson(frequency * 3),
        1 + rng.poisson(g.categories),
        rng.normal(g.trend, 0.2),
      ];
      data.set(row, i * d);
    }
  });
  const columns: Record<string, Float64Array> = {};
  PLANTED_FEATURES.forEach((name, j) => {
    const c = new Float64Array(n);
    for (let r = 0; r < n; r++) c[r] = data[r * d + j];
    columns[name] = c;
  });
  return { matrix: { rows: n, cols: d, data }, truth, columns };
}
