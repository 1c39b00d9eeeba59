/**
 * Value models (valueModels.ts) on planted truth: a tree recovers a planted two-feature rule and beats a
 * logistic-shaped blind spot; the spend regression recovers planted coefficients inside its 95% intervals
 * across seeds, and its intervals cover at about the nominal rate.
 */
import { describe, expect, it } from 'vitest';
import {
  fitSpendRegression,
  fitValueModels,
  fitValueTree,
  type ValueWindow,
} from '../../../activities/churn/valueModels';
import { Rng } from '../../../lib/random';

const FEATURES = ['orders', 'basket', 'noise'];

/** High-value iff orders >= 4 and basket >= 10 (an interaction no linear score draws exactly). */
function ruleWindow(seed: number, n: number, flip = 0): ValueWindow {
  const rng = new Rng(seed);
  const data = new Float64Array(n * 3);
  const y = new Uint8Array(n);
  const spend = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const orders = 1 + rng.int(8);
    const basket = 1 + rng.int(20);
    data[i * 3] = orders;
    data[i * 3 + 1] = basket;
    data[i * 3 + 2] = rng.uniform();
    let label = orders >= 4 && basket >= 10 ? 1 : 0;
    if (rng.uniform() < flip) label = 1 - label;
    y[i] = label;
    spend[i] = label ? 200 : 20;
  }
  return { X: { rows: n, cols: 3, data }, y, spend };
}

/** log1p(spend) = 4 + 0.8 z1 - 0.5 z2 + 0 z3 + N(0, 0.5) on standardised z (planted coefficients). */
function regressionWindow(seed: number, n: number): ValueWindow {
  const rng = new Rng(seed);
  const data = new Float64Array(n * 3);
  const spend = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = [rng.normal(), rng.normal(), rng.normal()];
    data.set(z, i * 3);
    spend[i] = Math.expm1(4 + 0.8 * z[0] - 0.5 * z[1] + 0.5 * rng.normal());
  }
  const sorted = Float64Array.from(spend).sort();
  const median = sorted[n >> 1];
  return { X: { rows: n, cols: 3, data }, y: Uint8Array.from(spend, (s) => (s > median ? 1 : 0)), spend };
}

/** The planted coefficients in the units the regression reports: per sample sd, intercept at the sample mean. */
function standardisedTruth(w: ValueWindow, planted: number[]): number[] {
  const n = w.X.rows;
  const stats = [0, 1, 2].map((j) => {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += w.X.data[i * 3 + j];
    mean /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (w.X.data[i * 3 + j] - mean) ** 2;
    return { mean, sd: Math.sqrt(ss / (n - 1)) };
  });
  return [
    planted[0] + stats.reduce((s, st, j) => s + planted[j + 1] * st.mean, 0),
    ...stats.map((st, j) => planted[j + 1] * st.sd),
  ];
}

describe('value models', () => {
  it('the tree recovers the planted rule and is judged on the holdout', () => {
    for (const seed of [1, 2, 3]) {
      const tree = fitValueTree(ruleWindow(seed, 3000), ruleWindow(seed + 100, 3000), {
        featureNames: FEATURES,
        treeDepth: 2,
      });
      expect(tree.metrics.accuracy).toBe(1);
      const high = tree.rules.filter((r) => r.highValueShare > 0.5);
      expect(high).toHaveLength(1);
      expect(high[0].text.split(' and ').sort()).toEqual(['basket >= 10', 'orders >= 4']);
    }
  });

  it('with 10% of labels flipped the holdout accuracy is near 90%, the best possible', () => {
    const tree = fitValueTree(ruleWindow(7, 4000, 0.1), ruleWindow(8, 4000, 0.1), {
      featureNames: FEATURES,
      treeDepth: 2,
    });
    expect(tree.metrics.accuracy).toBeGreaterThan(0.87);
    expect(tree.metrics.accuracy).toBeLessThan(0.93);
  });

  it('a missing value goes to the training median, not out of every leaf', () => {
    const train = ruleWindow(4, 2000);
    const holdout = ruleWindow(5, 500);
    holdout.X.data[0] = Number.NaN;
    const tree = fitValueTree(train, holdout, { featureNames: FEATURES, treeDepth: 2 });
    expect(tree.metrics.n).toBe(500);
    expect(tree.rules.reduce((s, r) => s + r.customers, 0)).toBe(2000);
  });

  it('the spend regression recovers planted coefficients; 95% intervals cover at about 95%', () => {
    const planted = [4, 0.8, -0.5, 0];
    let covered = 0;
    let total = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const train = regressionWindow(seed, 800);
      const { result } = fitSpendRegression(train, regressionWindow(seed + 1000, 800), {
        featureNames: FEATURES,
      });
      expect(result).not.toBeNull();
      const truths = standardisedTruth(train, planted);
      result!.coefficients.forEach((c, j) => {
        const truth = truths[j];
        expect(Math.abs(c.estimate - planted[j])).toBeLessThan(0.15);
        total++;
        if (c.lower <= truth && truth <= c.upper) covered++;
      });
      expect(result!.holdoutR2).toBeGreaterThan(0.6);
    }
    expect(covered / total).toBeGreaterThan(0.9);
  });

  it('a constant feature is left out of the regression and named; the tree still fits', () => {
    const w = regressionWindow(3, 300);
    for (let i = 0; i < 300; i++) w.X.data[i * 3 + 2] = 5;
    const result = fitValueModels(w, regressionWindow(4, 300), { featureNames: FEATURES });
    expect(result.spendRegression!.droppedFeatures).toEqual(['noise']);
    expect(result.spendRegression!.coefficients.map((c) => c.name)).toEqual([
      'intercept',
      'orders',
      'basket',
    ]);
  });

  it('a feature that is a sum of others (shares adding to 1) is named collinear, the rest fitted', () => {
    const w = regressionWindow(5, 400);
    const h = regressionWindow(6, 400);
    for (const m of [w, h]) {
      for (let i = 0; i < 400; i++) m.X.data[i * 3 + 2] = 1 - m.X.data[i * 3] - m.X.data[i * 3 + 1];
    }
    const { result } = fitSpendRegression(w, h, { featureNames: FEATURES });
    expect(result!.collinearFeatures).toEqual(['noise']);
    expect(result!.coefficients.map((c) => c.name)).toEqual(['intercept', 'orders', 'basket']);
    expect(result!.holdoutR2).toBeGreaterThan(0.6);
  });
});
