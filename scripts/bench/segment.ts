/**
 * Segment benchmark: 1,000,000 synthetic customers x 25 features (six planted customer types with skewed
 * money and count features). Timed: transform (log1p + standardize), k search over 2..10 (k-means on a
 * 100,000-row sample, silhouette on 10,000 rows, CH/DB/inertia), refinement and labels of all rows, final
 * metrics, RFM quintiles and personas. Target: under 60 s wall including the features SQL (so aim for
 * < 40 s here) and under 4 GB peak RSS. The planted types overlap strongly in 25 dimensions, as real
 * customers do, so Lloyd needs tens of iterations per k: a conservative case for the timing. Data
 * generation is not timed; peak RSS covers the whole process (raw and transformed matrices included).
 */
import { describePersonas, profileSegments } from '../../activities/segment/personas';
import { rfmScores } from '../../activities/segment/rfm';
import { selectK } from '../../activities/segment/selectK';
import { fitTransform } from '../../activities/segment/transform';
import type { Matrix } from '../../activities/segment/matrix';
import { Rng } from '../../lib/random';

/** Feature names of the synthetic customers, in column order. */
export const SYNTHETIC_FEATURES = [
  'recencyDays',
  'frequency',
  'monetaryTotal',
  'avgOrderValue',
  'tenureDays',
  'returnRate',
  'spendTrend',
  'discountShare',
  'distinctCategories',
  'distinctProducts',
  'itemsPerOrder',
  'meanDaysBetweenOrders',
  'weekendShare',
  'nightShare',
  'sessions',
  'viewsPerSession',
  'cartAdds',
  'conversionRate',
  'maxOrderValue',
  'firstOrderValue',
  'spendLast90Days',
  'ordersLast90Days',
  'domesticShare',
  'categoryEntropy',
  'refunds',
] as const;

/** Money and count columns that get log1p. */
export const SKEWED_FEATURES = [
  'recencyDays',
  'frequency',
  'monetaryTotal',
  'avgOrderValue',
  'tenureDays',
  'distinctCategories',
  'distinctProducts',
  'itemsPerOrder',
  'meanDaysBetweenOrders',
  'sessions',
  'cartAdds',
  'maxOrderValue',
  'firstOrderValue',
  'spendLast90Days',
  'ordersLast90Days',
  'refunds',
];

interface CustomerType {
  share: number;
  /** Engagement multiplier for sessions, views and cart adds; weekend and night shopping habits. */
  engagement: number;
  weekendBeta: [number, number];
  recencyMean: number;
  extraOrders: number;
  logAov: number;
  tenureMean: number;
  returnBeta: [number, number];
  trend: number;
  discountBeta: [number, number];
  categories: number;
}

/** Six planted customer types (loyal, new, at-risk big spenders, bargain, lapsed one-timers, steady). */
const TYPES: CustomerType[] = [
  {
    engagement: 1.5,
    weekendBeta: [3, 5],
    share: 0.1,
    recencyMean: 15,
    extraOrders: 11,
    logAov: Math.log(80),
    tenureMean: 900,
    returnBeta: [2, 30],
    trend: 0.1,
    discountBeta: [2, 8],
    categories: 5,
  },
  {
    engagement: 1.2,
    weekendBeta: [2, 5],
    share: 0.15,
    recencyMean: 20,
    extraOrders: 0.3,
    logAov: Math.log(50),
    tenureMean: 30,
    returnBeta: [2, 30],
    trend: 0.5,
    discountBeta: [2, 6],
    categories: 1,
  },
  {
    engagement: 0.6,
    weekendBeta: [2, 6],
    share: 0.1,
    recencyMean: 250,
    extraOrders: 6,
    logAov: Math.log(120),
    tenureMean: 800,
    returnBeta: [2, 20],
    trend: -0.6,
    discountBeta: [2, 8],
    categories: 4,
  },
  {
    engagement: 0.8,
    weekendBeta: [5, 4],
    share: 0.2,
    recencyMean: 60,
    extraOrders: 2,
    logAov: Math.log(20),
    tenureMean: 400,
    returnBeta: [3, 15],
    trend: 0,
    discountBeta: [7, 3],
    categories: 2,
  },
  {
    engagement: 0.4,
    weekendBeta: [2, 5],
    share: 0.3,
    recencyMean: 400,
    extraOrders: 0.1,
    logAov: Math.log(40),
    tenureMean: 30,
    returnBeta: [2, 25],
    trend: -0.2,
    discountBeta: [2, 6],
    categories: 1,
  },
  {
    engagement: 1.0,
    weekendBeta: [2, 4],
    share: 0.15,
    recencyMean: 40,
    extraOrders: 4,
    logAov: Math.log(50),
    tenureMean: 600,
    returnBeta: [2, 30],
    trend: 0,
    discountBeta: [2, 6],
    categories: 3,
  },
];

/** n synthetic customers x 25 features in original units, with the planted type of each (seeded). */
export function syntheticCustomers(n: number, seed = 11): { matrix: Matrix; types: Int32Array } {
  const rng = new Rng(seed);
  const d = SYNTHETIC_FEATURES.length;
  const data = new Float64Array(n * d);
  const types = new Int32Array(n);
  const cumulative = TYPES.map((_, i) => TYPES.slice(0, i + 1).reduce((s, t) => s + t.share, 0));
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    let g = 0;
    while (g < TYPES.length - 1 && u >= cumulative[g]) g++;
    types[i] = g;
    const t = TYPES[g];
    const frequency = 1 + rng.poisson(t.extraOrders);
    const aov = Math.exp(rng.normal(t.logAov, 0.45));
    const monetary = frequency * aov * Math.exp(rng.normal(0, 0.15));
    const recency = rng.gamma(2, 2 / t.recencyMean);
    const tenure = recency + rng.gamma(2, 2 / t.tenureMean);
    const returnRate = rng.beta(t.returnBeta[0], t.returnBeta[1]);
    const categories = 1 + rng.poisson(t.categories);
    const sessions = rng.poisson(frequency * 4 * t.engagement) + frequency;
    const recent = recency < 90;
    const row = [
      recency,
      frequency,
      monetary,
      monetary / frequency,
      tenure,
      returnRate,
      rng.normal(t.trend, 0.3),
      rng.beta(t.discountBeta[0], t.discountBeta[1]),
      categories,
      frequency + rng.poisson(frequency * 1.5),
      1 + rng.gamma(2, 1),
      tenure / frequency,
      rng.beta(t.weekendBeta[0], t.weekendBeta[1]),
      rng.beta(1, 8),
      sessions,
      rng.gamma(3, 0.5 / t.engagement),
      rng.poisson(frequency * 1.5 * t.engagement),
      frequency / sessions,
      aov * Math.exp(Math.abs(rng.normal(0, 0.5))),
      aov * Math.exp(rng.normal(0, 0.4)),
      recent ? (monetary * rng.beta(2, 3)) / Math.max(1, tenure / 90) : 0,
      recent ? rng.poisson(Math.max(0.2, (frequency * 90) / tenure)) : 0,
      rng.beta(8, 2),
      Math.log(categories) * rng.beta(5, 2),
      rng.poisson(returnRate * frequency),
    ];
    data.set(row, i * d);
  }
  return { matrix: { rows: n, cols: d, data }, types };
}

/** Milliseconds per step and peak RSS (MB) for the segment stage on 1,000,000 x 25 synthetic customers. */
export async function benchSegment(rows = 1_000_000): Promise<Record<string, number>> {
  const generated = syntheticCustomers(rows);
  const m = generated.matrix;
  const names: string[] = [...SYNTHETIC_FEATURES];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { matrix: z } = fitTransform(m, { columnNames: names, log1p: SKEWED_FEATURES, autoSkew: true });
  const t1 = performance.now();
  const seg = selectK(z, { kMin: 2, kMax: 10, seed: 2024 });
  const t2 = performance.now();
  const col = (name: string): Float64Array => {
    const j = names.indexOf(name);
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) out[i] = m.data[i * m.cols + j];
    return out;
  };
  const recencyDays = col('recencyDays');
  const frequency = col('frequency');
  const monetaryTotal = col('monetaryTotal');
  rfmScores({ recencyDays, frequency, monetary: monetaryTotal });
  const t3 = performance.now();
  const { segments, population } = profileSegments(
    {
      recencyDays,
      frequency,
      monetaryTotal,
      avgOrderValue: col('avgOrderValue'),
      tenureDays: col('tenureDays'),
      returnRate: col('returnRate'),
      spendTrend: col('spendTrend'),
      discountShare: col('discountShare'),
      distinctCategories: col('distinctCategories'),
    },
    seg.labels,
    seg.k,
  );
  const personas = describePersonas(segments, population);
  const t4 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  if (process.env.BENCH_VERBOSE) {
    console.error(seg.notes.join('\n'));
    for (const c of seg.candidates) {
      console.error(
        `k=${c.k} sil=${c.silhouette.toFixed(4)} ch=${c.calinskiHarabasz.toFixed(0)} db=${c.daviesBouldin.toFixed(3)} inertia=${c.inertia.toFixed(0)} it=${c.iterations} ${c.message}`,
      );
    }
    for (const p of personas) console.error(`${p.name}: ${p.description}`);
  }
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  return Promise.resolve({
    segmentRows: rows,
    segmentFeatures: m.cols,
    segmentTransformMs: Math.round(t1 - t0),
    segmentSelectK2to10Ms: Math.round(t2 - t1),
    segmentRfmMs: Math.round(t3 - t2),
    segmentPersonasMs: Math.round(t4 - t3),
    segmentTotalMs: Math.round(t4 - t0),
    // CPU time of the timed steps: the wall figure on a shared 2-core machine includes waiting for the CPU.
    segmentTotalCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    segmentPeakRssMb: Math.round(peakRssMb),
    segmentChosenK: seg.k,
    segmentSilhouette: Number(seg.final.silhouette.toFixed(4)),
    segmentFitSampleSize: seg.fitSampleSize,
    segmentSilhouetteSampleSize: seg.silhouetteSampleSize,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = process.argv[2] ? Number(process.argv[2]) : undefined;
  const figures = await benchSegment(rows);
  console.log(JSON.stringify(figures));
}
