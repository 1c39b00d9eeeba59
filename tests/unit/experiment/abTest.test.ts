import { describe, expect, it } from 'vitest';
import { analyzeExperiment, experimentMetricRows } from '../../../activities/experiment/abTest';
import type { ExperimentData, MetricResult } from '../../../activities/experiment/abTest';
import { holmAdjust } from '../../../activities/experiment/holm';
import { Rng } from '../../../lib/random';

interface Plan {
  customers: number;
  /** Conversion rate per variant. */
  conversion: number[];
  /** Multiplier of the lognormal order value per variant. */
  spendFactor: number[];
  /** Assignment probabilities per variant. */
  split: number[];
  variantNames: string[];
}

// Revenue of a converter is lognormal(mu = 3, sigma = 1) times the variant's spend factor, so the planted
// relative lift of revenue per customer is (c_t s_t) / (c_c s_c) - 1.
function simulate(seed: number, plan: Plan): ExperimentData {
  const rng = new Rng(seed);
  const n = plan.customers;
  const variant = new Int32Array(n);
  const converted = new Uint8Array(n);
  const revenue = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let u = rng.uniform();
    let v = 0;
    while (v < plan.split.length - 1 && u >= plan.split[v]) u -= plan.split[v++];
    variant[i] = v;
    if (rng.uniform() < plan.conversion[v]) {
      converted[i] = 1;
      revenue[i] = Math.exp(rng.normal(3, 1)) * plan.spendFactor[v];
    }
  }
  return { id: `sim-${seed}`, variantNames: plan.variantNames, variant, converted, revenue };
}

const metric = (metrics: MetricResult[], name: string): MetricResult => {
  const found = metrics.find((m) => m.metric === name);
  if (!found) throw new Error(`metric ${name} missing`);
  return found;
};

const PLANTED: Plan = {
  customers: 20_000,
  conversion: [0.1, 0.11],
  spendFactor: [1, 1.05],
  split: [0.5, 0.5],
  variantNames: ['control', 'treatment'],
};
const PLANTED_CONVERSION_LIFT = 0.11 / 0.1 - 1;
const PLANTED_REVENUE_LIFT = (0.11 * 1.05) / 0.1 - 1;

describe('analyzeExperiment on a synthetic experiment with planted uplift', () => {
  it('puts the planted relative lifts inside the reported 95 % intervals, with no SRM', () => {
    const analysis = analyzeExperiment(simulate(2024, PLANTED));
    expect(analysis.control).toBe('control');
    expect(analysis.srm.flagged).toBe(false);
    const metrics = analysis.treatments[0].metrics;
    const conversion = metric(metrics, 'conversion');
    const revenue = metric(metrics, 'revenuePerCustomer');
    expect(conversion.ci[0]).toBeLessThan(PLANTED_CONVERSION_LIFT);
    expect(conversion.ci[1]).toBeGreaterThan(PLANTED_CONVERSION_LIFT);
    expect(revenue.ci[0]).toBeLessThan(PLANTED_REVENUE_LIFT);
    expect(revenue.ci[1]).toBeGreaterThan(PLANTED_REVENUE_LIFT);
    // The interval is about +-2 standard errors: the conversion lift's se is about 0.046 here.
    expect(conversion.ci[1] - conversion.ci[0]).toBeGreaterThan(0.12);
    expect(conversion.ci[1] - conversion.ci[0]).toBeLessThan(0.25);
    expect(conversion.probabilityToBeatControl).toBeGreaterThan(0.5);

    const rows = experimentMetricRows(analysis);
    expect(rows.map((r) => r.metric)).toEqual(['conversion', 'revenuePerCustomer']);
    expect(rows[0]).toMatchObject({ id: 'sim-2024', treatment: 'treatment', srmFlagged: false });
    expect(rows[0].srmPValue).toBe(analysis.srm.pValue);
  });

  it('covers the planted lift in about 95 % of 300 replications', () => {
    let coveredConversion = 0;
    let coveredRevenue = 0;
    const replications = 300;
    for (let seed = 0; seed < replications; seed++) {
      const metrics = analyzeExperiment(simulate(10_000 + seed, { ...PLANTED, customers: 10_000 }))
        .treatments[0].metrics;
      const c = metric(metrics, 'conversion').ci;
      const r = metric(metrics, 'revenuePerCustomer').ci;
      if (c[0] <= PLANTED_CONVERSION_LIFT && PLANTED_CONVERSION_LIFT <= c[1]) coveredConversion++;
      if (r[0] <= PLANTED_REVENUE_LIFT && PLANTED_REVENUE_LIFT <= r[1]) coveredRevenue++;
    }
    // Binomial(300, 0.95) has sd 1.26 %; the band is about +-2.5 sd.
    expect(coveredConversion / replications).toBeGreaterThan(0.92);
    expect(coveredConversion / replications).toBeLessThan(0.98);
    expect(coveredRevenue / replications).toBeGreaterThan(0.92);
    expect(coveredRevenue / replications).toBeLessThan(0.98);
  });
});

describe('sample ratio mismatch', () => {
  it('flags a planted 52/48 split at 20,000 customers with p < 0.001', () => {
    const analysis = analyzeExperiment(simulate(7, { ...PLANTED, split: [0.52, 0.48] }));
    expect(analysis.srm.flagged).toBe(true);
    expect(analysis.srm.pValue).toBeLessThan(0.001);
  });

  it('gives chi-square 32 and p = erfc(4) for exactly 10,400 / 9,600', () => {
    const n = 20_000;
    const variant = new Int32Array(n);
    for (let i = 10_400; i < n; i++) variant[i] = 1;
    const converted = new Uint8Array(n);
    for (let i = 0; i < n; i += 10) converted[i] = 1;
    const revenue = Float64Array.from(converted, (c, i) => c * (10 + (i % 7)));
    const analysis = analyzeExperiment({ id: 'srm', variantNames: ['a', 'b'], variant, converted, revenue });
    expect(analysis.srm.chiSquare).toBeCloseTo(32, 12);
    expect(analysis.srm.pValue / 1.541725790028002e-8).toBeCloseTo(1, 10);
    // Against a planned 52/48 split the same counts fit perfectly.
    const planned = analyzeExperiment({
      id: 'srm',
      variantNames: ['a', 'b'],
      variant,
      converted,
      revenue,
      plannedSplit: [52, 48],
    });
    expect(planned.srm.chiSquare).toBeCloseTo(0, 12);
    expect(planned.srm.flagged).toBe(false);
  });
});

describe('false-positive rate with no planted effect', () => {
  it('rejects at alpha = 0.05 in 3-7 % of 1,000 A/A experiments, for the z-test and Welch', () => {
    const seeds = 1000;
    let conversionRejections = 0;
    let revenueRejections = 0;
    let fiellerAgreesWithWelch = 0;
    for (let seed = 0; seed < seeds; seed++) {
      const data = simulate(50_000 + seed, {
        customers: 4000,
        conversion: [0.1, 0.1],
        spendFactor: [1, 1],
        split: [0.5, 0.5],
        variantNames: ['control', 'treatment'],
      });
      const metrics = analyzeExperiment(data).treatments[0].metrics;
      const conversion = metric(metrics, 'conversion');
      const revenue = metric(metrics, 'revenuePerCustomer');
      if (conversion.pValue < 0.05) conversionRejections++;
      if (revenue.pValue < 0.05) revenueRejections++;
      // The Fieller interval uses the Welch t quantile, so it excludes 0 exactly when Welch rejects.
      const excludesZero = revenue.ci[0] > 0 || revenue.ci[1] < 0;
      if (excludesZero === revenue.pValue < 0.05) fiellerAgreesWithWelch++;
    }
    // Binomial(1000, 0.05) has sd 0.69 %: the band is about +-2.9 sd.
    expect(conversionRejections / seeds).toBeGreaterThanOrEqual(0.03);
    expect(conversionRejections / seeds).toBeLessThanOrEqual(0.07);
    expect(revenueRejections / seeds).toBeGreaterThanOrEqual(0.03);
    expect(revenueRejections / seeds).toBeLessThanOrEqual(0.07);
    expect(fiellerAgreesWithWelch).toBe(seeds);
  });
});

describe('several treatments', () => {
  it('compares each treatment with the variant named control, wherever it is', () => {
    const data = simulate(99, {
      customers: 60_000,
      conversion: [0.12, 0.1, 0.1],
      spendFactor: [1, 1, 1],
      split: [1 / 3, 1 / 3, 1 / 3],
      variantNames: ['big-discount', 'Control', 'small-discount'],
    });
    const analysis = analyzeExperiment(data);
    expect(analysis.control).toBe('Control');
    expect(analysis.treatments.map((t) => t.treatment)).toEqual(['big-discount', 'small-discount']);
    const big = metric(analysis.treatments[0].metrics, 'conversion');
    const small = metric(analysis.treatments[1].metrics, 'conversion');
    // Planted: +20 % and 0 %.
    expect(big.ci[0]).toBeLessThan(0.2);
    expect(big.ci[1]).toBeGreaterThan(0.2);
    expect(big.pValue).toBeLessThan(1e-4);
    expect(small.ci[0]).toBeLessThan(0);
    expect(small.ci[1]).toBeGreaterThan(0);
    expect(analysis.srm.df).toBe(2);
  });
});

describe('CUPED', () => {
  // Pre-period X = L + e1 and outcome Y = L + e2 + tau [treated], L ~ N(100, 30^2), e ~ N(0, 20^2):
  // corr(X, Y) = 900 / 1300, so CUPED removes rho^2 = 0.479 of the variance and theta = 0.692.
  function cupedData(seed: number, n: number, tau: number): ExperimentData {
    const rng = new Rng(seed);
    const variant = new Int32Array(n);
    const converted = new Uint8Array(n);
    const revenue = new Float64Array(n);
    const preRevenue = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      variant[i] = rng.uniform() < 0.5 ? 0 : 1;
      const level = rng.normal(100, 30);
      preRevenue[i] = level + rng.normal(0, 20);
      revenue[i] = level + rng.normal(0, 20) + tau * variant[i];
      converted[i] = revenue[i] > 100 ? 1 : 0;
    }
    return { id: 'cuped', variantNames: ['control', 'treatment'], variant, converted, revenue, preRevenue };
  }

  it('reduces the variance by rho^2 on correlated pre-period data and keeps the planted lift inside', () => {
    const analysis = analyzeExperiment(cupedData(3, 20_000, 2));
    const metrics = analysis.treatments[0].metrics;
    const raw = metric(metrics, 'revenuePerCustomer');
    const cuped = metric(metrics, 'revenuePerCustomerCuped');
    const rho2 = (900 / 1300) ** 2;
    expect(cuped.theta).toBeCloseTo(900 / 1300, 1);
    expect(Math.abs((cuped.varianceReduction as number) - rho2)).toBeLessThan(0.03);
    expect(cuped.standardError).toBeLessThan(raw.standardError);
    // Planted relative lift 2 / 100.
    expect(cuped.ci[0]).toBeLessThan(0.02);
    expect(cuped.ci[1]).toBeGreaterThan(0.02);
    expect(cuped.ci[1] - cuped.ci[0]).toBeLessThan(raw.ci[1] - raw.ci[0]);
  });

  it('keeps CUPED unbiased: the mean estimated lift over 200 seeds is the planted one', () => {
    let sum = 0;
    let sumSq = 0;
    const seeds = 200;
    for (let seed = 0; seed < seeds; seed++) {
      const lift = metric(
        analyzeExperiment(cupedData(500 + seed, 4000, 2)).treatments[0].metrics,
        'revenuePerCustomerCuped',
      ).absoluteLift;
      sum += lift;
      sumSq += lift * lift;
    }
    const mean = sum / seeds;
    const sd = Math.sqrt(sumSq / seeds - mean * mean);
    expect(Math.abs(mean - 2)).toBeLessThan((4 * sd) / Math.sqrt(seeds));
  });
});

describe('segment breakdown', () => {
  it('finds an effect planted in one segment and Holm-adjusts across segments', () => {
    const rng = new Rng(11);
    const n = 40_000;
    const variant = new Int32Array(n);
    const converted = new Uint8Array(n);
    const revenue = new Float64Array(n);
    const segment = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      variant[i] = rng.uniform() < 0.5 ? 0 : 1;
      segment[i] = rng.int(4);
      // Only segment 2 responds: 10 % -> 20 %.
      const p = segment[i] === 2 && variant[i] === 1 ? 0.2 : 0.1;
      if (rng.uniform() < p) {
        converted[i] = 1;
        revenue[i] = Math.exp(rng.normal(3, 0.5));
      }
    }
    const analysis = analyzeExperiment({
      id: 'seg',
      variantNames: ['control', 'treatment'],
      variant,
      converted,
      revenue,
      segment,
      segmentNames: ['new', 'loyal', 'at-risk', 'lapsed'],
    });
    const conversionRows = analysis.segments.filter((r) => r.metric === 'conversion');
    expect(conversionRows.map((r) => r.segment)).toEqual(['new', 'loyal', 'at-risk', 'lapsed']);
    const expected = holmAdjust(conversionRows.map((r) => r.pValue));
    conversionRows.forEach((row, k) => {
      expect(row.adjustedPValue).toBeCloseTo(expected[k], 15);
      expect(row.adjustedPValue).toBeGreaterThanOrEqual(row.pValue);
    });
    const responding = conversionRows[2];
    expect(responding.adjustedPValue).toBeLessThan(1e-10);
    expect(responding.ci[0]).toBeLessThan(1);
    expect(responding.ci[1]).toBeGreaterThan(1);
    expect(responding.customersControl + responding.customersTreatment).toBeGreaterThan(9000);
  });
});

describe('input validation', () => {
  const base = (): ExperimentData => ({
    id: 'bad',
    variantNames: ['control', 'treatment'],
    variant: Int32Array.from([0, 1, 0, 1]),
    converted: Uint8Array.from([0, 1, 0, 1]),
    revenue: Float64Array.from([0, 5, 0, 7]),
  });

  it('names the field and the customer index', () => {
    expect(() => analyzeExperiment({ ...base(), converted: Uint8Array.from([0, 2, 0, 1]) })).toThrow(
      /converted must be 0 or 1 \(customer index 1/,
    );
    expect(() => analyzeExperiment({ ...base(), variant: Int32Array.from([0, 1, 3, 1]) })).toThrow(
      /variant must be an integer in \[0, 2\) \(customer index 2/,
    );
    expect(() => analyzeExperiment({ ...base(), revenue: Float64Array.from([0, NaN, 0, 1]) })).toThrow(
      /revenue must be finite \(customer index 1/,
    );
    expect(() => analyzeExperiment({ ...base(), preRevenue: Float64Array.from([1, 2]) })).toThrow(
      /preRevenue has 2 values, variant has 4/,
    );
    expect(() => analyzeExperiment({ ...base(), variantNames: ['control'] })).toThrow(/at least 2 variants/);
  });
});
