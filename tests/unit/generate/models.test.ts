/**
 * With one population, no seasonality and no experiment, the files are a sample of the planted BG/NBD and
 * Gamma-Gamma models: the mean number of repeat purchases in a window after the first purchase matches
 * E[X(t)] (Fader, Hardie and Lee 2005, eq. 9), and the mean order value matches p v / (q - 1) (Fader,
 * Hardie and Lee 2005b). Dirty rows are left in the files and filtered as a cleaning stage would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck } from '../../../lib/duck';
import jStat from 'jstat';
import { hyp2f1 } from '../../../lib/numeric/special';
import { generateDataset } from '../../../scripts/generate/index';
import { loadDataset, tempDir } from './helpers';

const planted = { r: 0.25, alpha: 4, a: 0.8, b: 2.5, p: 6, q: 4, v: 15 };
const out = tempDir('models');
let duck: Duck;

beforeAll(async () => {
  await generateDataset({
    outDir: out.dir,
    customers: 20000,
    months: 36,
    seed: 2024,
    startMonth: '2021-01',
    groups: 1,
    seasonality: false,
    experiment: false,
    events: false,
  });
  duck = await Duck.open();
  await loadDataset(duck, out.dir, false);
}, 120_000);

afterAll(() => {
  duck?.close();
  out.remove();
});

/** E[X(t)] of the BG/NBD (Fader, Hardie and Lee 2005, eq. 9). */
function bgNbdExpectedRepeats(t: number, { r, alpha, a, b }: typeof planted): number {
  const z = t / (alpha + t);
  return ((a + b - 1) / (a - 1)) * (1 - Math.pow(alpha / (alpha + t), r) * hyp2f1(r, b, a + b - 1, z));
}

/**
 * The same expectation by direct integration, as a check on the closed form: given p,
 * E[X(t) | p] = E_lambda[(1 - exp(-lambda p t)) / p] = (1 - (alpha / (alpha + p t))^r) / p (FHL 2005, eq. 8
 * averaged over the gamma), integrated over Beta(a, b) with p = u^(1/a) to remove the p^(a-1) singularity.
 */
function bgNbdExpectedRepeatsByQuadrature(t: number, { r, alpha, a, b }: typeof planted): number {
  const n = 20000; // Simpson, even
  const f = (u: number): number => {
    if (u === 0) return (r * t) / alpha; // limit p -> 0
    const p = Math.pow(u, 1 / a);
    if (p >= 1) return 0;
    return ((1 - Math.pow(alpha / (alpha + p * t), r)) / p) * Math.pow(1 - p, b - 1);
  };
  let sum = f(0) + f(1);
  for (let i = 1; i < n; i++) sum += (i % 2 === 1 ? 4 : 2) * f(i / n);
  return (sum / (3 * n) / a) * Math.exp(-jStat.betaln(a, b));
}

describe('planted BG/NBD and Gamma-Gamma (groups = 1, no seasonality)', () => {
  it('closed form and quadrature of E[X(t)] agree', () => {
    for (const t of [13, 26, 52]) {
      expect(bgNbdExpectedRepeats(t, planted)).toBeCloseTo(bgNbdExpectedRepeatsByQuadrature(t, planted), 4);
    }
  });

  it('matches the mean number of repeat purchases in a window after the first purchase', async () => {
    for (const weeks of [13, 26, 52]) {
      const row = await duck.one<{ n: number; mean: number; sd: number }>(`
        WITH orders AS (SELECT customer_id, order_id, min(ts) AS ts FROM tx WHERE quantity > 0 GROUP BY ALL),
        firsts AS (SELECT customer_id, min(ts) AS first_ts FROM orders GROUP BY ALL),
        eligible AS (SELECT * FROM firsts WHERE first_ts + INTERVAL ${weeks * 7} DAY <= TIMESTAMP '2024-01-01'),
        counts AS (
          SELECT e.customer_id, count(o.order_id) FILTER (WHERE o.ts > e.first_ts AND o.ts <= e.first_ts + INTERVAL ${weeks * 7} DAY) AS x
          FROM eligible e JOIN orders o USING (customer_id) GROUP BY ALL)
        SELECT count(*) AS n, avg(x) AS mean, stddev_samp(x) AS sd FROM counts`);
      const expected = bgNbdExpectedRepeats(weeks, planted);
      const standardError = row.sd / Math.sqrt(row.n);
      expect(row.n).toBeGreaterThan(8000);
      expect(Math.abs(row.mean - expected)).toBeLessThan(4 * standardError);
      // and tight in relative terms, so that the test has teeth
      expect(Math.abs(row.mean / expected - 1)).toBeLessThan(0.1);
    }
  });

  it('matches the planted customer-level parameters in truth_customers.csv', async () => {
    const row = await duck.one<{ lambda: number; p: number; n: number }>(
      `SELECT avg(lambda_weekly) AS lambda, avg(p_dropout) AS p, count(*) AS n FROM truth_customers`,
    );
    // Gamma(r, alpha) mean r / alpha, sd sqrt(r) / alpha; Beta(a, b) mean a / (a + b).
    expect(Math.abs(row.lambda - planted.r / planted.alpha)).toBeLessThan(
      (4 * Math.sqrt(planted.r)) / planted.alpha / Math.sqrt(row.n),
    );
    const betaSd = Math.sqrt(
      (planted.a * planted.b) / ((planted.a + planted.b) ** 2 * (planted.a + planted.b + 1)),
    );
    expect(Math.abs(row.p - planted.a / (planted.a + planted.b))).toBeLessThan(
      (4 * betaSd) / Math.sqrt(row.n),
    );
  });

  it('matches the Gamma-Gamma mean order value p v / (q - 1)', async () => {
    // First orders: one independent draw per customer, so the plain standard error applies.
    const row = await duck.one<{ n: number; mean: number; sd: number; all_mean: number }>(`
      WITH orders AS (SELECT customer_id, order_id, min(ts) AS ts, sum(amount) AS value FROM tx WHERE quantity > 0 GROUP BY ALL),
      firsts AS (SELECT customer_id, arg_min(value, ts) AS value FROM orders GROUP BY ALL)
      SELECT count(*) AS n, avg(value) AS mean, stddev_samp(value) AS sd, (SELECT avg(value) FROM orders) AS all_mean FROM firsts`);
    const expected = (planted.p * planted.v) / (planted.q - 1); // 30
    expect(Math.abs(row.mean - expected)).toBeLessThan((4 * row.sd) / Math.sqrt(row.n));
    expect(Math.abs(row.mean / expected - 1)).toBeLessThan(0.05);
    // All orders: spend is independent of frequency, so the order-weighted mean has the same expectation.
    expect(Math.abs(row.all_mean / expected - 1)).toBeLessThan(0.08);
  });

  it('splits each order so that its total is the planted value to the cent', async () => {
    // mean_spend in truth is p / nu; the per-customer average order value estimates it (weakly).
    const row = await duck.one<{ corr: number }>(`
      WITH orders AS (SELECT customer_id, order_id, sum(amount) AS value FROM tx WHERE quantity > 0 GROUP BY ALL),
      per AS (SELECT customer_id, avg(value) AS aov, count(*) AS n FROM orders GROUP BY ALL)
      SELECT corr(ln(per.aov), ln(t.mean_spend)) AS corr FROM per JOIN truth_customers t USING (customer_id) WHERE n >= 5`);
    expect(row.corr).toBeGreaterThan(0.7);
  });
});
