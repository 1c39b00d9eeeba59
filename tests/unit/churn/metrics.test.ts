import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import {
  accuracy,
  averagePrecision,
  brierScore,
  calibrationTable,
  evaluateBinary,
  hosmerLemeshow,
  logLoss,
  rocAuc,
} from '../../../activities/churn/metrics';

/** Mann-Whitney U / (n1 n0) by brute force over every (positive, negative) pair, ties counting 1/2. */
function pairwiseAuc(scores: number[], y: number[]): number {
  let u = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < y.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      if (scores[i] > scores[j]) u += 1;
      else if (scores[i] === scores[j]) u += 0.5;
    }
  }
  return u / pairs;
}

describe('rocAuc', () => {
  it('matches scikit-learn documentation example (0.75)', () => {
    // sklearn.metrics.roc_auc_score docs: y_true [0, 0, 1, 1], y_scores [0.1, 0.4, 0.35, 0.8] -> 0.75
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], Uint8Array.from([0, 0, 1, 1]))).toBeCloseTo(0.75, 15);
  });

  it('equals the brute-force pairwise Mann-Whitney statistic on random inputs with ties', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + rng.int(60);
      // Few distinct values so that ties within and across classes are common.
      const levels = 1 + rng.int(6);
      const scores = Array.from({ length: n }, () => rng.int(levels) / levels);
      const y = Array.from({ length: n }, () => (rng.uniform() < 0.4 ? 1 : 0));
      y[0] = 1;
      y[1] = 0;
      expect(rocAuc(scores, Uint8Array.from(y))).toBeCloseTo(pairwiseAuc(scores, y), 12);
    }
  });

  it('is 1 for a perfect ranking, 0 for a reversed one, 0.5 when every score ties', () => {
    const y = Uint8Array.from([0, 0, 1, 1, 1]);
    expect(rocAuc([1, 2, 3, 4, 5], y)).toBe(1);
    expect(rocAuc([5, 4, 3, 2, 1], y)).toBe(0);
    expect(rocAuc([7, 7, 7, 7, 7], y)).toBe(0.5);
  });

  it('rejects one-class labels, NaN scores and length mismatch', () => {
    expect(() => rocAuc([0.1, 0.2], Uint8Array.from([1, 1]))).toThrow(/both classes/);
    expect(() => rocAuc([0.1, NaN], Uint8Array.from([0, 1]))).toThrow(/row 1/);
    expect(() => rocAuc([0.1], Uint8Array.from([0, 1]))).toThrow(/1 values, labels y has 2/);
  });
});

describe('averagePrecision', () => {
  it('matches scikit-learn documentation example (0.8333...)', () => {
    // sklearn.metrics.average_precision_score docs: same inputs as above -> 0.83333
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], Uint8Array.from([0, 0, 1, 1]))).toBeCloseTo(5 / 6, 14);
  });

  it('matches a hand-computed example with tied scores across classes', () => {
    // Thresholds 0.9 (tp 1, fp 1: P 1/2, R 1/3), 0.5 (tp 2, fp 1: P 2/3, R 2/3), 0.3 (tp 3, fp 2: P 3/5, R 1):
    // AP = 1/3 * 1/2 + 1/3 * 2/3 + 1/3 * 3/5 = 53/90.
    const y = Uint8Array.from([1, 0, 1, 0, 1]);
    expect(averagePrecision([0.9, 0.9, 0.5, 0.3, 0.3], y)).toBeCloseTo(53 / 90, 14);
  });

  it('equals the positive rate for a constant score and 1 for a perfect ranking', () => {
    const y = Uint8Array.from([1, 0, 0, 1, 0, 0, 0, 0]);
    expect(averagePrecision(new Float64Array(8).fill(0.3), y)).toBeCloseTo(0.25, 15);
    expect(averagePrecision([9, 1, 2, 8, 3, 4, 5, 6], y)).toBe(1);
  });
});

describe('probability metrics', () => {
  it('Brier score matches scikit-learn documentation example (0.0375)', () => {
    // sklearn.metrics.brier_score_loss docs: y_true [0, 1, 1, 0], y_prob [0.1, 0.9, 0.8, 0.3] -> 0.037...
    expect(brierScore([0.1, 0.9, 0.8, 0.3], Uint8Array.from([0, 1, 1, 0]))).toBeCloseTo(0.0375, 15);
  });

  it('log-loss matches scikit-learn documentation example (0.21616)', () => {
    // sklearn.metrics.log_loss docs: ["spam", "ham", "ham", "spam"] with P(spam) .9, .1, .2, .65 -> 0.21616...
    expect(logLoss([0.9, 0.1, 0.2, 0.65], Uint8Array.from([1, 0, 0, 1]))).toBeCloseTo(
      0.21616187468057912,
      12,
    );
  });

  it('accuracy counts p >= threshold as positive', () => {
    const y = Uint8Array.from([1, 0, 1, 0]);
    expect(accuracy([0.5, 0.49, 0.2, 0.9], y)).toBe(0.5);
    expect(accuracy([0.5, 0.49, 0.2, 0.9], y, 0.1)).toBe(0.5);
    expect(accuracy([0.6, 0.4, 0.7, 0.3], y)).toBe(1);
  });

  it('rejects probabilities outside [0, 1]', () => {
    expect(() => brierScore([1.2], Uint8Array.from([1]))).toThrow(/probability in \[0, 1\].*row 0/);
  });
});

describe('calibrationTable', () => {
  // Calibrated by construction: y ~ Bernoulli(p).
  const rng = new Rng(5);
  const n = 50_000;
  const p = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = rng.beta(2, 5);
    y[i] = rng.uniform() < p[i] ? 1 : 0;
  }

  it('has ten equal-count deciles that sum to n and observed rates within 4 binomial SE of the mean prediction', () => {
    const table = calibrationTable(p, y);
    expect(table).toHaveLength(10);
    expect(table.reduce((s, b) => s + b.count, 0)).toBe(n);
    for (const bin of table) {
      expect(bin.count).toBe(n / 10);
      const se = Math.sqrt((bin.meanPredicted * (1 - bin.meanPredicted)) / bin.count);
      expect(Math.abs(bin.observedRate - bin.meanPredicted)).toBeLessThan(4 * se);
      expect(bin.lower).toBeLessThanOrEqual(bin.meanPredicted);
      expect(bin.upper).toBeGreaterThanOrEqual(bin.meanPredicted);
    }
    // Deciles are ordered.
    for (let k = 1; k < table.length; k++) expect(table[k].lower).toBeGreaterThanOrEqual(table[k - 1].upper);
  });

  it('Hosmer-Lemeshow accepts the calibrated predictions and rejects distorted ones', () => {
    expect(hosmerLemeshow(calibrationTable(p, y)).pValue).toBeGreaterThan(0.001);
    const distorted = p.map((v) => Math.sqrt(v));
    expect(hosmerLemeshow(calibrationTable(distorted, y)).pValue).toBeLessThan(1e-10);
  });

  it('keeps tied predictions in one bin and still sums to n; uniform bins cover [0, 1]', () => {
    const tied = Float64Array.from({ length: 1000 }, (_, i) => (i < 700 ? 0.2 : 0.8));
    const labels = Uint8Array.from({ length: 1000 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const table = calibrationTable(tied, labels);
    expect(table).toHaveLength(2);
    expect(table.map((b) => b.count)).toEqual([700, 300]);
    const uniform = calibrationTable(p, y, { strategy: 'uniform', bins: 5 });
    expect(uniform.reduce((s, b) => s + b.count, 0)).toBe(n);
    for (const bin of uniform) expect(Math.floor(bin.lower * 5)).toBe(Math.min(4, Math.floor(bin.upper * 5)));
  });
});

describe('evaluateBinary', () => {
  it('bundles the metrics consistently', () => {
    const probabilities = [0.1, 0.4, 0.35, 0.8];
    const y = Uint8Array.from([0, 0, 1, 1]);
    const m = evaluateBinary(probabilities, y);
    expect(m).toMatchObject({ n: 4, positiveRate: 0.5, auc: 0.75, accuracy: 0.75 });
    expect(m.prAuc).toBeCloseTo(5 / 6, 14);
  });
});
