/**
 * A realistic ReportData for the report tests: one month of an online retailer (shaped like the UCI Online
 * Retail data), every section filled, with hostile strings planted in a product name, a persona name and a
 * segment name. Numbers come from a seeded Rng, so the fixture is the same on every run.
 */
import { Rng } from '../../lib/random';
import type { ReportData, ReportKpiMonth, ReportStage } from '../../activities/report/model';
import { sampleEdaSections } from './reportSampleEda';

/** A product name that would run script if it were not escaped. */
export const HOSTILE_PRODUCT = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>';
/** A persona name with every character escapeHtml must handle. */
/** A hostile product name in the recommend section (HOSTILE_PRODUCT is counted once in the top products). */
const RECOMMEND_HOSTILE_PRODUCT = 'Novelty Mug <script>window.__xss=2</script> & "quotes"';

export const HOSTILE_PERSONA = '<script>alert(1)</script> & "quotes"';
/** A segment name with the same characters plus a single quote. */
export const HOSTILE_SEGMENT = `<script>alert(1)</script> & "quotes" 'single'`;

const MONTHS = [
  '2010-12',
  '2011-01',
  '2011-02',
  '2011-03',
  '2011-04',
  '2011-05',
  '2011-06',
  '2011-07',
  '2011-08',
  '2011-09',
  '2011-10',
  '2011-11',
];

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function stages(): ReportStage[] {
  return [
    { name: 'ingest', status: 'cached', durationMs: 412, computedByRunId: 'run-2011-11-a1b2c3' },
    { name: 'clean', status: 'completed', durationMs: 3_870 },
    { name: 'features', status: 'completed', durationMs: 6_215 },
    { name: 'segment', status: 'completed', durationMs: 11_940 },
    { name: 'clv', status: 'completed', durationMs: 8_302 },
    { name: 'churn', status: 'completed', durationMs: 14_518 },
    { name: 'forecast', status: 'completed', durationMs: 4_733 },
    { name: 'experiment', status: 'completed', durationMs: 2_091 },
    { name: 'report', status: 'thisReport', durationMs: 0 },
  ];
}

function kpis(rng: Rng): ReportKpiMonth[] {
  return MONTHS.map((month, i) => {
    // Seasonal lift toward November, like the real data.
    const season = 1 + 0.6 * Math.max(0, (i - 7) / 4) + (i === 0 ? 0.15 : 0);
    const active = Math.round(1_000 * season * (1 + 0.03 * i) + rng.normal(0, 40));
    const newCustomers = Math.round(i === 0 ? active : active * (0.32 - 0.015 * i) + rng.normal(0, 15));
    const orders = Math.round(active * (1.45 + 0.1 * rng.uniform()));
    const averageOrderValue = 380 + rng.normal(0, 25);
    return {
      month,
      activeCustomers: active,
      newCustomers,
      returningCustomers: active - newCustomers,
      orders,
      revenue: round(orders * averageOrderValue),
      averageOrderValue: round(averageOrderValue),
      repeatRate: round(0.22 + 0.05 * rng.uniform(), 4),
      conversionPerSession: round(0.031 + 0.006 * rng.uniform(), 4),
    };
  });
}

/** The full sample: every section present. */
export function sampleReportData(): ReportData {
  const rng = new Rng(20111130);
  const personaNames = [
    'High-value loyal',
    'At-risk big spenders',
    'Promising newcomers',
    HOSTILE_PERSONA,
    'Lapsed one-timers',
  ];
  const customerCounts = [412, 305, 978, 1_240, 1_403];
  const revenueShares = [0.46, 0.21, 0.14, 0.13, 0.06];
  const totalCustomers = customerCounts.reduce((a, b) => a + b, 0);

  const cohortRetention: (number | null)[][] = [];
  const cohortRevenue: (number | null)[][] = [];
  const sizes: number[] = [];
  MONTHS.forEach((_, c) => {
    const ages = MONTHS.length - c;
    const size = Math.round(950 - 55 * c + rng.normal(0, 30));
    sizes.push(size);
    const retention: (number | null)[] = [];
    const revenue: (number | null)[] = [];
    for (let age = 0; age < MONTHS.length; age++) {
      if (age >= ages) {
        retention.push(null);
        revenue.push(null);
        continue;
      }
      const share =
        age === 0
          ? 1
          : Math.max(0.05, (c === 0 ? 0.36 : 0.24) * Math.exp(-0.045 * age) + rng.normal(0, 0.015));
      retention.push(round(share, 4));
      revenue.push(round(size * share * (age === 0 ? 410 : 520)));
    }
    cohortRetention.push(retention);
    cohortRevenue.push(revenue);
  });

  const clvValues: number[] = [];
  for (let i = 0; i < totalCustomers; i++) clvValues.push(rng.gamma(0.9, 1 / 1100));
  const edges = Array.from({ length: 21 }, (_, i) => i * 500);
  const counts = new Array<number>(20).fill(0);
  for (const value of clvValues) counts[Math.min(19, Math.floor(value / 500))] += 1;
  const sortedClv = [...clvValues].sort((a, b) => b - a);

  const history: { date: string; value: number }[] = [];
  const start = Date.UTC(2010, 11, 5);
  for (let w = 0; w < 52; w++) {
    const date = new Date(start + w * 7 * 86_400_000).toISOString().slice(0, 10);
    const seasonal = 1 + 0.55 * Math.max(0, Math.sin(((w - 30) / 22) * Math.PI));
    history.push({ date, value: round((95_000 + 900 * w) * seasonal + rng.normal(0, 9_000)) });
  }
  const forecast = Array.from({ length: 8 }, (_, h) => {
    const date = new Date(start + (52 + h) * 7 * 86_400_000).toISOString().slice(0, 10);
    const mean = 150_000 - 7_000 * h;
    const sd = 12_000 * Math.sqrt(h + 1);
    return {
      date,
      mean,
      lower80: round(mean - 1.2816 * sd),
      upper80: round(mean + 1.2816 * sd),
      lower95: round(mean - 1.96 * sd),
      upper95: round(mean + 1.96 * sd),
    };
  });

  const products = [
    ['REGENCY CAKESTAND 3 TIER', 142_592.95],
    ['WHITE HANGING HEART T-LIGHT HOLDER', 100_448.15],
    ['JUMBO BAG RED RETROSPOT', 85_220.78],
    [HOSTILE_PRODUCT, 68_785.23],
    ['PARTY BUNTING', 68_844.33],
    ['ASSORTED COLOUR BIRD ORNAMENT', 56_580.34],
    ['Manual', 53_779.93],
    ['RABBIT NIGHT LIGHT', 51_346.2],
    ['CHILLI LIGHTS', 46_286.51],
    ["PAPER CHAIN KIT 50'S CHRISTMAS", 42_660.83],
  ] as const;

  return {
    run: {
      dataset: 'online-retail',
      month: '2011-11',
      runId: 'run-2011-11-7f3a9c',
      status: 'RUNNING',
      cutoff: '2011-11-30T23:59:59.999Z',
      generatedAt: '2011-12-01T02:14:00.000Z',
      stages: stages(),
      currency: 'GBP',
      configHash: '9c1e4b7a',
      codeVersion: '0.1.0+8828e40',
    },
    // November 2011 ends on a Wednesday with data to the 30th: a full month against the whole of October.
    headlines: {
      currency: 'GBP',
      revenue: {
        kind: 'fullMonth',
        current: { from: '2011-11-01', to: '2011-11-30', revenue: 1_161_817.38 },
        previous: { from: '2011-10-01', to: '2011-10-31', revenue: 1_039_318.79 },
        change: 1_161_817.38 / 1_039_318.79 - 1,
        label: 'Nov 2011 vs Oct 2011',
        currentLabel: 'Nov 2011',
      },
      next: {
        label: 'next week',
        date: '2011-12-05',
        dateText: 'from Mon 5 Dec 2011',
        mean: 298_400,
        lower80: 231_700,
        upper80: 365_100,
      },
    },
    dataQuality: {
      inputRows: 541_909,
      outputRows: 374_542,
      quarantinedByReason: {
        missing_customer_id: 135_080,
        non_positive_price: 1_454,
        zero_quantity: 40,
        unparseable_timestamp: 0,
      },
      duplicateRows: 5_268,
      afterCutoffRows: 25_525,
      customers: totalCustomers,
      firstTs: '2010-12-01T08:26:00.000Z',
      lastTs: '2011-11-30T17:42:00.000Z',
      events: {
        inputRows: 2_756_101,
        outputRows: 2_750_012,
        sessions: 1_649_534,
        quarantinedByReason: { missing_customer_id: 0, missing_ts: 6_089 },
      },
    },
    features: {
      dictionary: [
        { name: 'recency_days', definition: 'Days from the last purchase order to the cutoff', unit: 'days' },
        { name: 'frequency', definition: 'Distinct purchase orders over the history', unit: 'orders' },
        {
          name: 'monetary_total',
          definition: 'Net revenue over the history (returns subtracted)',
          unit: 'currency',
        },
        {
          name: 'avg_order_value',
          definition: 'Purchase-order value divided by purchase orders; 0 without orders',
          unit: 'currency',
        },
        { name: 'tenure_days', definition: 'Days from the first order to the cutoff', unit: 'days' },
        {
          name: 'return_rate',
          definition: 'Returned value over purchased value; 0 without purchases',
          unit: 'share',
        },
        { name: 'category_entropy', definition: 'Shannon entropy of spend across categories', unit: 'nats' },
        {
          name: 'spend_trend',
          definition: 'Slope of monthly spend over the last 6 months',
          unit: 'currency/month',
        },
      ],
      kpisMonthly: kpis(rng),
      insights: {
        strongestPairs: [
          { a: 'frequency', b: 'monetary_total', r: 0.812 },
          { a: 'tenure_days', b: 'frequency', r: 0.544 },
          { a: 'recency_days', b: 'frequency', r: -0.433 },
          { a: 'avg_order_value', b: 'monetary_total', r: 0.391 },
        ],
        categorySpend: {
          categories: [
            { category: 'home', n: 8_211, mean: 412.3, median: 288.1 },
            { category: 'gifts', n: 6_904, mean: 356.9, median: 240.5 },
            { category: 'party', n: 3_120, mean: 298.4, median: 201.0 },
          ],
          anovaPValue: 0.00004,
          kruskalWallisPValue: 0.00011,
          skippedReason: null,
        },
      },
    },
    segments: {
      k: 5,
      silhouette: 0.41,
      chosenBy: 'highest silhouette, k in 2..8',
      metricsByK: [2, 3, 4, 5, 6, 7, 8].map((k) => ({
        k,
        silhouette: round(0.3 + 0.11 * Math.exp(-((k - 5) ** 2) / 3), 3),
        inertia: round(18_000 / k ** 0.8),
        calinskiHarabasz: round(2_400 - 120 * Math.abs(k - 5), 1),
        daviesBouldin: round(0.8 + 0.06 * Math.abs(k - 5), 3),
      })),
      personas: personaNames.map((name, i) => ({
        name,
        description: `Median ${[3, 64, 21, 140, 300][i]} days since last order, ${[18, 9, 2, 3, 1][i]} orders.`,
        customers: customerCounts[i],
        customerShare: round(customerCounts[i] / totalCustomers, 4),
        revenueShare: revenueShares[i],
        actions: [
          'Enrol in a loyalty tier',
          'Ask for reviews & referrals',
          `Offer "${name}" a tailored bundle`,
        ].slice(0, 2 + (i % 2)),
      })),
      migration: {
        labelsFrom: [...personaNames, 'NEW_CUSTOMERS'],
        labelsTo: [...personaNames, 'GONE_CUSTOMERS'],
        counts: personaNames
          .map((_, r) =>
            personaNames
              .map((__, c) => (r === c ? 300 + 80 * r : 10 + ((r * 7 + c * 13) % 40)))
              .concat([20 + 5 * r]),
          )
          .concat([[12, 8, 310, 40, 25, 0]]),
        previousMonth: '2011-10',
      },
    },
    cohorts: {
      cohortMonths: MONTHS,
      maxAge: MONTHS.length - 1,
      sizes,
      retention: cohortRetention,
      revenue: cohortRevenue,
    },
    clv: {
      timeUnit: 'week',
      horizon: 52,
      params: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
      spend: { p: 6.25, q: 3.74, v: 15.44 },
      histogram: { edges, counts },
      bySegment: personaNames.map((name, i) => ({
        segment: i === 3 ? HOSTILE_SEGMENT : name,
        customers: customerCounts[i],
        meanClv: round([2_900, 1_400, 820, 500, 120][i]),
        totalClv: round(customerCounts[i] * [2_900, 1_400, 820, 500, 120][i]),
      })),
      holdout: ['0', '1', '2', '3', '4', '5', '6', '7+'].map((frequency, i) => ({
        frequency,
        predicted: round(0.25 + 0.62 * i, 3),
        actual: round(0.23 + 0.6 * i + rng.normal(0, 0.08), 3),
        customers: Math.round(1_400 / (i + 1)),
      })),
      top: sortedClv.slice(0, 30).map((clv, i) => ({
        customerId: String(12_346 + i * 37),
        clv: round(clv),
        pAlive: round(0.99 - 0.004 * i, 4),
      })),
    },
    churn: {
      auc: 0.781,
      prAuc: 0.702,
      brier: 0.1732,
      baselineAuc: 0.694,
      positiveRate: 0.412,
      model: 'gradient boosting (depth 3, 200 trees)',
      window: '90 days',
      calibration: Array.from({ length: 10 }, (_, i) => {
        const meanPredicted = 0.05 + 0.09 * i;
        return {
          meanPredicted: round(meanPredicted, 4),
          observedRate: round(Math.min(1, Math.max(0, meanPredicted + rng.normal(0, 0.03))), 4),
          count: 430,
        };
      }),
      importance: [
        { feature: 'recency_days', importance: 0.412 },
        { feature: 'frequency', importance: 0.187 },
        { feature: 'tenure_days', importance: 0.121 },
        { feature: 'monetary_total', importance: 0.094 },
        { feature: 'spend_trend', importance: 0.071 },
        { feature: 'avg_order_value', importance: 0.052 },
        { feature: 'return_rate', importance: 0.038 },
        { feature: 'category_entropy', importance: 0.025 },
      ],
      atRisk: Array.from({ length: 40 }, (_, i) => ({
        customerId: String(13_000 + i * 53),
        churnProbability: round(0.93 - 0.008 * i, 4),
        clv: round(4_200 - 70 * i),
        persona: i % 3 === 0 ? 'At-risk big spenders' : i % 3 === 1 ? HOSTILE_PERSONA : 'High-value loyal',
      })),
    },
    forecast: {
      model: 'holt-winters (additive)',
      grain: 'week',
      mase: 0.842,
      baselineMase: 1.0,
      mape: 11.7,
      coverage80: 0.79,
      coverage95: 0.93,
      history,
      forecast,
      scores: [
        { model: 'holt-winters (additive)', mase: 0.842, mape: 11.7, coverage80: 0.79, coverage95: 0.93 },
        { model: 'sarima(1,0,1)(0,1,1)52', mase: 0.911, mape: 12.9, coverage80: 0.74, coverage95: 0.9 },
        { model: 'additive regression', mase: 0.967, mape: 13.4, coverage80: 0.81, coverage95: 0.95 },
        { model: 'seasonal naive', mase: 1.0, mape: 14.2, coverage80: 0.7, coverage95: 0.88 },
        {
          model: 'tbats',
          mase: null,
          mape: null,
          coverage80: null,
          coverage95: null,
          error: 'series shorter than two seasons',
        },
      ],
      notes: ['3 periods with zero revenue were left out of MAPE.'],
    },
    experiments: {
      srmThreshold: 0.001,
      experiments: [
        {
          id: 'free-shipping-nov',
          metric: 'conversion',
          treatment: 'free_shipping',
          customersControl: 2_104,
          customersTreatment: 2_087,
          controlValue: 0.112,
          treatmentValue: 0.131,
          lift: 0.17,
          ci: [0.031, 0.318],
          pValue: 0.0132,
          srmPValue: 0.79,
          probabilityToBeatControl: 0.993,
        },
        {
          id: 'free-shipping-nov',
          metric: 'revenuePerCustomer',
          treatment: 'free_shipping',
          customersControl: 2_104,
          customersTreatment: 2_087,
          controlValue: 41.2,
          treatmentValue: 43.9,
          lift: 0.066,
          ci: [-0.052, 0.19],
          pValue: 0.281,
          srmPValue: 0.79,
          probabilityToBeatControl: 0.86,
        },
        {
          id: 'winback-email',
          metric: 'conversion',
          treatment: 'email_10pct',
          customersControl: 1_530,
          customersTreatment: 1_391,
          controlValue: 0.061,
          treatmentValue: 0.057,
          lift: -0.066,
          ci: [-0.31, 0.24],
          pValue: 0.64,
          srmPValue: 0.0004,
          probabilityToBeatControl: 0.32,
        },
      ],
      policies: [
        {
          name: 'Target churn risk >= 0.6 with 10% voucher',
          rank: 1,
          customersTargeted: 1_183,
          cost: 2_366,
          incrementalRevenue: { mean: 9_840, p5: 4_120, p95: 15_960 },
          roi: 3.16,
          probabilityOfTarget: 0.912,
          exactProbabilityOfTarget: 0.9087,
        },
        {
          name: 'Free shipping for everyone',
          rank: 2,
          customersTargeted: 4_338,
          cost: 8_676,
          incrementalRevenue: { mean: 12_700, p5: -1_900, p95: 27_300 },
          roi: 0.46,
          probabilityOfTarget: 0.61,
          exactProbabilityOfTarget: null,
        },
        {
          name: 'Win-back email to lapsed one-timers',
          rank: 3,
          customersTargeted: 1_403,
          cost: 140,
          incrementalRevenue: { mean: -310, p5: -2_400, p95: 1_650 },
          roi: -3.21,
          probabilityOfTarget: 0.08,
          exactProbabilityOfTarget: 0.0791,
        },
      ],
    },
    recommend: {
      rules: 4_832,
      topRules: [
        {
          level: 'product',
          antecedent: ['SPACEBOY CHILDRENS BOWL', 'DOLLY GIRL CHILDRENS CUP'],
          consequent: 'DOLLY GIRL CHILDRENS BOWL',
          orders: 96,
          support: 0.0052,
          confidence: 0.97,
          lift: 126.6,
        },
        {
          level: 'product',
          antecedent: [RECOMMEND_HOSTILE_PRODUCT],
          consequent: 'JUMBO BAG RED RETROSPOT',
          orders: 120,
          support: 0.0065,
          confidence: 0.41,
          lift: 3.2,
        },
      ],
      bundles: [
        {
          persona: HOSTILE_PERSONA,
          productA: RECOMMEND_HOSTILE_PRODUCT,
          productB: 'JUMBO BAG PINK POLKADOT',
          orders: 210,
          confidence: 0.52,
          lift: 6.1,
        },
      ],
      attachment: [
        { persona: '(all)', ordersWithAntecedent: 17_000, ordersWithAddOn: 13_755, attachmentRate: 0.809 },
        {
          persona: HOSTILE_PERSONA,
          ordersWithAntecedent: 9_100,
          ordersWithAddOn: 7_500,
          attachmentRate: 0.824,
        },
      ],
      evaluation: {
        model: { hitRate5: 0.694, hitRate10: 0.813, precision10: 0.285, recall10: 0.171, coverage: 0.463 },
        itemToItem: {
          hitRate5: 0.532,
          hitRate10: 0.655,
          precision10: 0.179,
          recall10: 0.092,
          coverage: 0.225,
        },
        popularity: {
          hitRate5: 0.423,
          hitRate10: 0.56,
          precision10: 0.104,
          recall10: 0.047,
          coverage: 0.003,
        },
        buyAgain: { hitRate5: 0.682, hitRate10: 0.796, precision10: 0.267, recall10: 0.169, coverage: 0.55 },
      },
      evaluationWindow: {
        from: '2011-10-30T23:59:59.999Z',
        to: '2011-11-30T23:59:59.999Z',
        customers: 1_375,
      },
      blend: 0.7,
      blendChosenBy: 'validation',
      notes: [],
    },
    topProducts: products.map(([productName, revenue], i) => ({
      productName,
      revenue,
      orders: 2_100 - 140 * i,
    })),
    exports: [
      {
        name: 'crm_customers.csv',
        uri: 's3://custflow/runs/online-retail/2011-11/run-2011-11-7f3a9c/report/crm_customers.csv',
        rows: totalCustomers,
        description:
          'One row per customer: segment, persona, CLV, P(alive), churn probability, suggested action',
      },
    ],
    ...sampleEdaSections(),
  };
}

/** Only the run info: every other section missing, the churn stage failed, later stages skipped. */
export function runOnlyReportData(): ReportData {
  const base = sampleReportData().run;
  return {
    run: {
      ...base,
      status: 'FAILED',
      stages: [
        { name: 'ingest', status: 'completed', durationMs: 900 },
        { name: 'clean', status: 'completed', durationMs: 3_000 },
        { name: 'features', status: 'completed', durationMs: 5_000 },
        { name: 'segment', status: 'completed', durationMs: 9_000 },
        { name: 'clv', status: 'completed', durationMs: 7_000 },
        {
          name: 'churn',
          status: 'failed',
          durationMs: 1_200,
          error: 'logistic.fit: <b>IRLS</b> did not converge after 50 iterations',
        },
        { name: 'forecast', status: 'pending', durationMs: 0 },
        { name: 'experiment', status: 'skipped', durationMs: 0 },
      ],
    },
  };
}
