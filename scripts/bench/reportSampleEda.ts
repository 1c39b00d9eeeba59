/**
 * The exploratory page, value models and per-segment experiment results of the report sample
 * (reportSample.ts): fixed numbers shaped like the UCI Online Retail run, with hostile strings planted in a
 * country, a category and a segment name so the tests see them escaped.
 */
import type { ReportData } from '../../activities/report/model';

/** A segment name that would run script if it were not escaped (its own string: reportSample's are counted). */
const HOSTILE_SEGMENT = `<script>window.__xss=3</script> & "seg" 'q'`;

const edges = (lo: number, hi: number, bins: number): number[] =>
  Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);

export function sampleEdaSections(): Pick<
  ReportData,
  'eda' | 'valueModels' | 'experimentDetail' | 'categorySeason'
> {
  const months = ['2011-06', '2011-07', '2011-08', '2011-09', '2011-10', '2011-11'];
  return {
    eda: {
      transactions: 384_182,
      revenue: 7_936_980,
      customers: 4_330,
      orders: 21_265,
      distributions: [
        {
          feature: 'monetary_total',
          customers: 4_297,
          mean: 1_898.5,
          sd: 8_000.2,
          skewness: 21.57,
          min: -4_287.6,
          p5: 107.6,
          p25: 293.5,
          median: 636.1,
          p75: 1_600.4,
          p95: 5_500.3,
          max: 267_800,
          histogram: {
            edges: edges(38, 18_700, 10),
            counts: [1900, 1100, 500, 300, 180, 110, 70, 50, 40, 47],
            clipped: 86,
          },
        },
        {
          feature: 'frequency_orders',
          customers: 4_297,
          mean: 4.1,
          sd: 7.4,
          skewness: 12.03,
          min: 1,
          p5: 1,
          p25: 1,
          median: 2,
          p75: 4,
          p95: 13,
          max: 200,
          histogram: { edges: edges(1, 29, 7), counts: [2600, 800, 400, 220, 120, 80, 77], clipped: 43 },
        },
      ],
      dimension: {
        dimension: 'country',
        rows: [
          { value: 'United Kingdom', revenue: 6_506_150, customers: 3_908, orders: 18_758 },
          { value: 'Netherlands', revenue: 271_752, customers: 9, orders: 93 },
          { value: '<b>Atlantis</b> & "Co"', revenue: 1_000, customers: 1, orders: 2 },
        ],
        other: { value: '34 others', revenue: 1_150_000, customers: 412, orders: 2_412 },
        distinct: 37,
        totalRevenue: 7_928_902,
      },
      categories: {
        categories: [
          { category: 'Home décor', revenue: 3_100_000, share: 0.39, orders: 9_000, recentChange: 0.12 },
          {
            category: '<script>x</script>',
            revenue: 2_000_000,
            share: 0.25,
            orders: 6_000,
            recentChange: -0.04,
          },
          { category: 'Stationery', revenue: 900_000, share: 0.11, orders: 4_000, recentChange: null },
        ],
        months,
        trend: [
          { category: 'Home décor', revenue: [400e3, 420e3, 410e3, 520e3, 610e3, 700e3] },
          { category: '<script>x</script>', revenue: [250e3, 260e3, 240e3, 300e3, 330e3, 350e3] },
        ],
        distinct: 3,
      },
      nullRates: [
        { column: 'customer_id', nulls: 0, rate: 0 },
        { column: 'country', nulls: 12, rate: 12 / 384_182 },
      ],
      newVsReturning: {
        months: months.map((month, i) => ({
          month,
          newCustomers: 300 - 10 * i,
          returningCustomers: 900 + 60 * i,
          newRevenue: 150e3 + 5e3 * i,
          returningRevenue: 500e3 + 60e3 * i,
          newOrderValue: 320 + i,
          returningOrderValue: 380 + 2 * i,
        })),
        repeatWithin: { days: 90, eligible: 3_367, repeated: 1_845, rate: 1_845 / 3_367 },
      },
      outliers: { rows: 20_691, low: 0, high: 64.35 },
      segmentProfile: {
        personas: ['Steady regulars', HOSTILE_SEGMENT],
        customers: [2_286, 1_035],
        features: ['monetary_total', 'frequency_orders'],
        means: [
          [1_200, 4.2],
          [400, 1.8],
        ],
        z: [
          [0.1, 0.3],
          [-0.3, -0.5],
        ],
      },
    },
    categorySeason: {
      seasons: ['winter', 'spring', 'summer', 'autumn'],
      cells: [
        { category: 'Home décor', season: 'winter', n: 900, mean: 310 },
        { category: 'Home décor', season: 'autumn', n: 1_200, mean: 360 },
        { category: 'Stationery', season: 'winter', n: 400, mean: 120 },
        { category: 'Stationery', season: 'summer', n: 380, mean: 110 },
      ],
      categoryPValue: 1e-12,
      seasonPValue: 0.03,
      interactionPValue: 0.21,
      interactionEtaSquared: 0.0012,
      skippedReason: null,
    },
    valueModels: {
      threshold: 163.56,
      positiveRate: 0.5,
      majorityAccuracy: 0.5,
      models: [
        { model: 'Majority class', accuracy: 0.5, auc: 0.5, brier: null },
        { model: 'Logistic (L2)', accuracy: 0.688, auc: 0.752, brier: 0.2031 },
        { model: 'Bayesian logistic', accuracy: 0.686, auc: 0.751, brier: 0.204 },
        { model: 'Decision tree (depth 3)', accuracy: 0.676, auc: 0.721, brier: 0.2103 },
      ],
      coefficients: [
        { name: 'recency_days', estimate: -0.9, lower: -1.1, upper: -0.7 },
        { name: 'frequency_orders', estimate: 0.6, lower: 0.3, upper: 0.9 },
        { name: 'return_rate', estimate: 0.05, lower: -0.2, upper: 0.3 },
      ],
      treeRules: [
        { text: 'recency_days >= 60', customers: 1_500, highValueShare: 0.22 },
        { text: 'recency_days < 60 and frequency_orders >= 3', customers: 1_200, highValueShare: 0.81 },
      ],
      spendRegression: {
        coefficients: [
          { name: 'recency_days', estimate: -0.7, lower: -0.8, upper: -0.6 },
          { name: 'monetary_total', estimate: 0.9, lower: 0.7, upper: 1.1 },
        ],
        r2: 0.41,
        holdoutR2: 0.38,
        n: 3_100,
      },
      bySegment: [
        { segment: 'Steady regulars', customers: 2_286, churnRate: 0.308, highValueRate: 0.631 },
        { segment: HOSTILE_SEGMENT, customers: 1_035, churnRate: 0.48, highValueRate: 0.396 },
      ],
    },
    experimentDetail: {
      segments: [
        {
          experiment: 'exp-free-shipping',
          segment: 'Steady regulars',
          treatment: 'treatment',
          metric: 'conversion',
          customersControl: 500,
          customersTreatment: 510,
          controlValue: 0.2,
          treatmentValue: 0.26,
          lift: 0.3,
          pValue: 0.02,
          adjustedPValue: 0.04,
        },
        {
          experiment: 'exp-free-shipping',
          segment: HOSTILE_SEGMENT,
          treatment: 'treatment',
          metric: 'conversion',
          customersControl: 300,
          customersTreatment: 290,
          controlValue: 0.15,
          treatmentValue: 0.16,
          lift: 0.067,
          pValue: 0.7,
          adjustedPValue: 0.7,
        },
      ],
      interactions: [
        {
          experiment: 'exp-free-shipping',
          treatment: 'treatment',
          q: 2.9,
          df: 1,
          pValue: 0.089,
          segments: 2,
        },
      ],
      power: [
        {
          experiment: 'exp-free-shipping',
          treatment: 'treatment',
          metric: 'conversion',
          mde: 0.035,
          mdeRelative: 0.19,
          powerAtPlannedLift: 0.62,
        },
      ],
    },
  };
}
