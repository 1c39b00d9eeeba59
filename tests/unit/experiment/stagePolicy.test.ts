/**
 * The policy half of the experiment stage: the baseline purchase probability over the policy horizon
 * (BG/NBD posterior with planted parameters against purchases the generator actually made after the
 * cutoff; the churn proxy against a constant-rate process), the customer loader's joins and fallbacks, and
 * the policy checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNSEGMENTED } from '../../../activities/experiment/contract';
import {
  churnProxyPurchaseProbability,
  loadPolicyCustomers,
  modelPurchaseProbability,
  preparePolicies,
  purchaseRateParamsFromMetrics,
} from '../../../activities/experiment/policyCustomers';
import { simulatePolicies } from '../../../activities/experiment/policySimulation';
import { Duck } from '../../../lib/duck';
import { ConfigError } from '../../../lib/errors';
import { Rng } from '../../../lib/random';
import { generateDataset } from '../../../scripts/generate/index';
import { loadDataset, tempDir } from '../generate/helpers';

const cleanup: (() => void)[] = [];
afterAll(() => cleanup.forEach((remove) => remove()));

describe('modelPurchaseProbability', () => {
  it('equals P(alive) x E[1 - exp(-lambda t)] over lambda ~ Gamma(r + x, alpha + T) (Monte Carlo)', () => {
    const rng = new Rng(3);
    const params = { r: 0.25, alpha: 4 };
    for (const [x, T, t, alive] of [
      [0, 10, 2, 1],
      [3, 40, 2, 0.6],
      [12, 80, 4, 0.9],
    ]) {
      const draws = 200_000;
      let sum = 0;
      let sumSq = 0;
      for (let i = 0; i < draws; i++) {
        const p = 1 - Math.exp(-rng.gamma(params.r + x, params.alpha + T) * t);
        sum += p;
        sumSq += p * p;
      }
      const mean = sum / draws;
      const se = Math.sqrt((sumSq / draws - mean * mean) / draws);
      expect(Math.abs(modelPurchaseProbability(params, t, x, T, alive) - alive * mean)).toBeLessThan(4 * se);
    }
    expect(modelPurchaseProbability(params, 0, 2, 10, 1)).toBe(0);
    expect(modelPurchaseProbability(params, 1e12, 2, 10, 0.3)).toBeCloseTo(0.3, 9);
  });
});

describe('churnProxyPurchaseProbability', () => {
  it('is exact for a constant purchase rate: churn = exp(-lambda W) gives 1 - exp(-lambda h)', () => {
    for (const lambda of [0.001, 0.02, 0.3]) {
      const churn = Math.exp(-lambda * 90);
      expect(churnProxyPurchaseProbability(churn, 14, 90)).toBeCloseTo(1 - Math.exp(-lambda * 14), 12);
    }
    expect(churnProxyPurchaseProbability(0, 14, 90)).toBe(1);
    expect(churnProxyPurchaseProbability(1, 14, 90)).toBe(0);
  });
});

describe('baseline purchase probability on a planted BG/NBD population', () => {
  // Pure BG/NBD timing (one population, no seasonality): with the planted r, alpha, a, b the predicted
  // number of buyers in the 14 days after the cutoff must match the buyers the generator wrote.
  const params = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
  let duck: Duck;
  beforeAll(async () => {
    const out = tempDir('experiment-policy');
    cleanup.push(out.remove);
    await generateDataset({
      outDir: out.dir,
      customers: 12_000,
      seed: 8,
      groups: 1,
      seasonality: false,
      events: false,
      experiment: false,
      returns: false,
      population: params,
    });
    duck = await Duck.open({ threads: 2 });
    cleanup.unshift(() => duck.close());
    await loadDataset(duck, out.dir, false);
    // x, t_x, T in weeks from orders up to the cutoff (end of 2024-11), P(alive) by FHL 2008 with the
    // planted parameters; realized = a purchase in the 14 days after the cutoff.
    await duck.run(`CREATE TABLE rfm AS
      WITH orders AS (SELECT customer_id, order_id, min(ts) AS ts FROM tx WHERE amount > 0 GROUP BY ALL),
      calibration AS (
        SELECT customer_id, count(*) - 1 AS x,
               date_diff('second', min(ts), max(ts)) / 604800.0 AS t_x,
               date_diff('second', min(ts), TIMESTAMP '2024-11-30 23:59:59.999') / 604800.0 AS "T"
        FROM orders WHERE ts <= TIMESTAMP '2024-11-30 23:59:59.999' GROUP BY customer_id)
      SELECT c.*,
             CASE WHEN x = 0 THEN 1.0 ELSE 1 / (1 + (${params.a} / (${params.b} + x - 1))
               * pow((${params.alpha} + "T") / (${params.alpha} + t_x), ${params.r} + x)) END AS p_alive,
             EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id
                     AND o.ts > TIMESTAMP '2024-11-30 23:59:59.999'
                     AND o.ts <= TIMESTAMP '2024-11-30 23:59:59.999' + INTERVAL 14 DAY) AS bought
      FROM calibration c`);
    await duck.run(`CREATE TABLE clv_in AS SELECT customer_id, x, "T", p_alive, 25.0 AS expected_spend,
      100.0 AS clv FROM rfm`);
    await duck.run(`CREATE TABLE churn_in AS SELECT customer_id, 0.5 AS churn_probability FROM rfm`);
  });

  // Seed 8: all 444 buyers vs 465.9 predicted (sd 19.8); x = 0: 134 vs 138.3; x 1..3: 157 vs 154.3;
  // x >= 4: 153 vs 173.4 (sd 11.2). Seeds 9-11 scatter both ways (no systematic bias).
  it('predicts the number of buyers in the horizon, overall and by purchase history', async () => {
    const customers = await loadPolicyCustomers(duck, {
      clv: 'clv_in',
      churn: 'churn_in',
      horizonDays: 14,
      purchaseModel: { r: params.r, alpha: params.alpha, unitDays: 7 },
      churnWindowDays: 90,
    });
    expect(customers.purchaseProbabilitySource).toEqual({ clvModel: customers.customers, churnProxy: 0 });
    const { columns } = await duck.columns(
      `SELECT CAST(x AS DOUBLE) AS x, CAST(bought AS DOUBLE) AS bought FROM rfm ORDER BY customer_id`,
      ['x', 'bought'] as const,
    );
    const p = customers.scores.purchaseProbability;
    expect(p.length).toBe(columns.x.length);
    const strata: [string, (x: number) => boolean][] = [
      ['all', () => true],
      ['x = 0', (x) => x === 0],
      ['x in 1..3', (x) => x >= 1 && x <= 3],
      ['x >= 4', (x) => x >= 4],
    ];
    for (const [name, keep] of strata) {
      let expected = 0;
      let variance = 0;
      let realized = 0;
      for (let i = 0; i < p.length; i++) {
        if (!keep(columns.x[i])) continue;
        expected += p[i];
        variance += p[i] * (1 - p[i]);
        realized += columns.bought[i];
      }
      expect(expected, name).toBeGreaterThan(30);
      expect(Math.abs(realized - expected), `${name}: ${realized} vs ${expected}`).toBeLessThan(
        4 * Math.sqrt(variance),
      );
    }
  });

  it('gives policies that lift every probability by u an expected u x sum(p) extra orders', async () => {
    const customers = await loadPolicyCustomers(duck, {
      clv: 'clv_in',
      churn: 'churn_in',
      horizonDays: 14,
      purchaseModel: { r: params.r, alpha: params.alpha, unitDays: 7 },
      churnWindowDays: 90,
    });
    const p = customers.scores.purchaseProbability;
    const u = 0.2;
    let expectedOrders = 0;
    for (let i = 0; i < p.length; i++) expectedOrders += Math.min(1, p[i] * (1 + u)) - p[i];
    const [result] = simulatePolicies(
      customers.scores,
      [{ name: 'all', upliftConversion: { dist: 'fixed', value: u }, costPerContact: 0 }],
      { simulations: 4000, seed: 1 },
    );
    const se = result.incrementalOrders.sd / Math.sqrt(4000);
    expect(Math.abs(result.incrementalOrders.mean - expectedOrders)).toBeLessThan(4 * se);
    expect(result.incrementalRevenue.mean).toBeCloseTo(25 * result.incrementalOrders.mean, 6);
  });
});

describe('loadPolicyCustomers joins and fallbacks', () => {
  let duck: Duck;
  beforeAll(async () => {
    duck = await Duck.open({ threads: 1 });
    cleanup.unshift(() => duck.close());
    await duck.run(`CREATE TABLE clv_full AS SELECT * FROM (VALUES
        ('a', 0.0, 10.0, 1.0, 20.0, 50.0),
        ('b', 3.0, 30.0, 0.5, NULL, 80.0),
        ('c', 1.0, 20.0, 0.9, 40.0, NULL),
        ('d', 2.0, 25.0, 0.7, 30.0, 60.0))
      AS t(customer_id, x, "T", p_alive, expected_spend, clv)`);
    await duck.run(`CREATE TABLE clv_bare AS SELECT customer_id, expected_spend, clv FROM clv_full`);
    await duck.run(`CREATE TABLE churn_s AS SELECT * FROM (VALUES ('a', 0.2), ('b', 0.9), ('c', 1.5))
      AS t(customer_id, churn_probability)`);
    await duck.run(`CREATE TABLE seg_s AS SELECT * FROM (VALUES ('a', 'Loyal'), ('c', 'Lapsed'))
      AS t(customer_id, persona)`);
  });

  it('keeps CLV customers with a churn score, labels the unsegmented, imputes spend, clamps churn', async () => {
    const model = { r: 0.5, alpha: 2, unitDays: 7 };
    const customers = await loadPolicyCustomers(duck, {
      clv: 'clv_full',
      churn: 'churn_s',
      segments: 'seg_s',
      horizonDays: 14,
      purchaseModel: model,
      churnWindowDays: 90,
    });
    const s = customers.scores;
    expect(customers.customers).toBe(3); // a, b, c (d has no churn score)
    expect(customers.withoutChurnScore).toBe(1);
    expect(s.segmentNames).toEqual(['Lapsed', 'Loyal', UNSEGMENTED]);
    expect(Array.from(s.segment)).toEqual([1, 2, 0]);
    expect(Array.from(s.spendPerOrder)).toEqual([20, 30, 40]); // b: mean of 20 and 40
    expect(customers.spendImputed).toBe(1);
    expect(Array.from(s.clv)).toEqual([50, 80, 0]);
    expect(Array.from(s.churnProbability)).toEqual([0.2, 0.9, 1]);
    expect(s.purchaseProbability[1]).toBeCloseTo(modelPurchaseProbability(model, 2, 3, 30, 0.5), 14);
  });

  it('falls back to the churn proxy without the model inputs', async () => {
    const customers = await loadPolicyCustomers(duck, {
      clv: 'clv_bare',
      churn: 'churn_s',
      horizonDays: 14,
      purchaseModel: { r: 0.5, alpha: 2, unitDays: 7 },
      churnWindowDays: 90,
    });
    expect(customers.purchaseProbabilitySource).toEqual({ clvModel: 0, churnProxy: 3 });
    expect(customers.scores.segmentNames).toEqual([UNSEGMENTED]);
    expect(customers.scores.purchaseProbability[0]).toBeCloseTo(1 - 0.2 ** (14 / 90), 14);
    expect(customers.scores.purchaseProbability[2]).toBe(0);
  });

  it('rejects missing columns and repeated customers', async () => {
    await duck.run(
      `CREATE TABLE churn_dup AS SELECT * FROM (VALUES ('a', 0.2), ('a', 0.3)) AS t(customer_id, churn_probability)`,
    );
    const options = { horizonDays: 14, purchaseModel: null, churnWindowDays: 90 };
    await expect(
      loadPolicyCustomers(duck, { ...options, clv: 'clv_full', churn: 'churn_dup' }),
    ).rejects.toThrow(/churn output has customer_id 'a' more than once/);
    await expect(loadPolicyCustomers(duck, { ...options, clv: 'seg_s', churn: 'churn_s' })).rejects.toThrow(
      /clv output lacks column\(s\) expected_spend, clv/,
    );
  });
});

describe('preparePolicies', () => {
  it('turns an impossible uplift distribution into a ConfigError naming the policy', () => {
    const bad = [
      { name: 'p', upliftConversion: { dist: 'beta' as const, mean: 2, sd: 0.1 }, costPerContact: 1 },
    ];
    expect(() => preparePolicies(bad, ['A'])).toThrow(ConfigError);
    expect(() => preparePolicies(bad, ['A'])).toThrow(/experiment\.policies\[0\] \('p'\)\.upliftConversion/);
  });

  it("drops this month's unknown target segments with a warning", () => {
    const { policies, warnings } = preparePolicies(
      [
        {
          name: 'p',
          target: { segments: ['A', 'Gone'] },
          upliftConversion: { dist: 'fixed', value: 0.1 },
          costPerContact: 1,
        },
        { name: 'q', upliftConversion: { dist: 'fixed', value: 0.1 }, costPerContact: 1 },
      ],
      ['A', 'B'],
    );
    expect(policies[0].target?.segments).toEqual(['A']);
    expect(policies[1].target).toBeUndefined();
    expect(warnings).toEqual({ p: [expect.stringContaining("'Gone'")] });
  });
});

describe('purchaseRateParamsFromMetrics', () => {
  it('reads r and alpha of the clv metrics and the unit length', () => {
    expect(purchaseRateParamsFromMetrics({ params: { r: 0.3, alpha: 5, a: 1, b: 2 } }, 'week')).toEqual({
      r: 0.3,
      alpha: 5,
      unitDays: 7,
    });
    expect(purchaseRateParamsFromMetrics({ params: { r: 0.3 } }, 'day')).toBeNull();
    expect(purchaseRateParamsFromMetrics(undefined, 'day')).toBeNull();
  });
});
