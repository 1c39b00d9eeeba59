/**
 * k-means on planted Gaussian blobs (known means and memberships): recovery, determinism under a seed,
 * canonical label order, Elkan = Hamerly = plain Lloyd, empty-cluster relocation, and input errors.
 */
import { describe, expect, it } from 'vitest';
import { fitKMeans, kmeansPlusPlus, predictKMeans } from '../../../activities/segment/kmeans';
import { fromRows } from '../../../activities/segment/matrix';
import type { Matrix } from '../../../activities/segment/matrix';
import { adjustedRandIndex } from '../../../activities/segment/metrics';
import { Rng } from '../../../lib/random';

/** Spherical Gaussian blobs with sd 1 around the given means; sizes per blob. */
function blobs(means: number[][], sizes: number[], seed: number): { m: Matrix; truth: Int32Array } {
  const rng = new Rng(seed);
  const d = means[0].length;
  const n = sizes.reduce((a, b) => a + b, 0);
  const data = new Float64Array(n * d);
  const truth = new Int32Array(n);
  let i = 0;
  sizes.forEach((size, g) => {
    for (let r = 0; r < size; r++, i++) {
      truth[i] = g;
      for (let t = 0; t < d; t++) data[i * d + t] = rng.normal(means[g][t], 1);
    }
  });
  return { m: { rows: n, cols: d, data }, truth };
}

/** Plain Lloyd (1982) from given centroids: nearest centroid, then means, until labels stop changing. */
function plainLloyd(m: Matrix, init: Float64Array, k: number): Int32Array {
  const { rows: n, cols: d, data } = m;
  const c = init.slice();
  const labels = new Int32Array(n).fill(-1);
  for (let iter = 0; iter < 1000; iter++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      let arg = 0;
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += (data[i * d + t] - c[j * d + t]) ** 2;
        if (s < best) {
          best = s;
          arg = j;
        }
      }
      if (labels[i] !== arg) changed++;
      labels[i] = arg;
    }
    if (changed === 0) break;
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++;
      for (let t = 0; t < d; t++) sums[labels[i] * d + t] += data[i * d + t];
    }
    for (let j = 0; j < k; j++)
      for (let t = 0; t < d; t++) if (counts[j] > 0) c[j * d + t] = sums[j * d + t] / counts[j];
  }
  return labels;
}

const MEANS = [
  [0, 0, 0, 0, 0, 0],
  [6, 0, 6, 0, 6, 0],
  [0, 6, 0, 6, 0, 6],
  [6, 6, -6, 6, 6, -6],
];

describe('fitKMeans', () => {
  it('recovers planted blob means (within 4 standard errors) and memberships', () => {
    const sizes = [800, 600, 400, 200];
    const { m, truth } = blobs(MEANS, sizes, 1);
    const model = fitKMeans(m, { k: 4, seed: 3 });
    expect(model.converged).toBe(true);
    expect(adjustedRandIndex(model.labels, truth)).toBeGreaterThan(0.99);
    // Canonical order is by size, which is the planted order here.
    expect(model.sizes).toEqual(sizes);
    for (let g = 0; g < 4; g++) {
      for (let t = 0; t < 6; t++) {
        const se = 1 / Math.sqrt(sizes[g]);
        expect(Math.abs(model.centroids.data[g * 6 + t] - MEANS[g][t])).toBeLessThan(4 * se);
      }
    }
  });

  it('is deterministic under a seed (bit-identical labels, centroids and inertia)', () => {
    const { m } = blobs(MEANS, [300, 300, 300, 300], 2);
    const a = fitKMeans(m, { k: 5, seed: 77, nInit: 3 });
    const b = fitKMeans(m, { k: 5, seed: 77, nInit: 3 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(Array.from(a.centroids.data)).toEqual(Array.from(b.centroids.data));
    expect(a.inertia).toBe(b.inertia);
  });

  it('Elkan and Hamerly bounds give the labels of plain Lloyd from the same seeds', () => {
    // Overlapping blobs so many rows sit near boundaries and the bounds matter.
    const close = MEANS.map((row) => row.map((v) => v / 4));
    const { m } = blobs(close, [250, 250, 250, 250], 4);
    const seeds = kmeansPlusPlus(m, 6, new Rng(5));
    const reference = plainLloyd(m, seeds.data, 6);
    for (const algorithm of ['elkan', 'hamerly'] as const) {
      const model = fitKMeans(m, { k: 6, seed: 0, initialCentroids: seeds, algorithm, tol: 0 });
      expect(adjustedRandIndex(model.labels, reference)).toBe(1);
    }
  });

  it('labels are canonical: largest cluster first', () => {
    const { m } = blobs(MEANS, [100, 500, 300, 50], 6);
    const model = fitKMeans(m, { k: 4, seed: 1 });
    expect(model.sizes).toEqual([500, 300, 100, 50]);
    const counts = [0, 0, 0, 0];
    for (const l of model.labels) counts[l]++;
    expect(counts).toEqual(model.sizes);
  });

  it('relocates an empty cluster to the farthest row', () => {
    // Start with one centroid far from every row: it empties after the first assignment.
    const m = fromRows([[0], [0.1], [0.2], [10], [10.1], [30]]);
    const init = fromRows([[0.1], [10], [1000]]);
    const model = fitKMeans(m, { k: 3, seed: 0, initialCentroids: init });
    expect(model.sizes).toEqual([3, 2, 1]);
    [0.1, 10.05, 30].forEach((v, j) => expect(model.centroids.data[j]).toBeCloseTo(v, 12));
  });

  it('predictKMeans assigns new rows to the nearest centroid', () => {
    const { m, truth } = blobs(MEANS, [200, 200, 200, 200], 8);
    const model = fitKMeans(m, { k: 4, seed: 2 });
    const fresh = blobs(MEANS, [50, 50, 50, 50], 9);
    const predicted = predictKMeans(fresh.m, model.centroids);
    expect(adjustedRandIndex(predicted.labels, fresh.truth)).toBeGreaterThan(0.99);
    expect(adjustedRandIndex(model.labels, truth)).toBeGreaterThan(0.99);
  });

  it('reports non-convergence instead of hiding it', () => {
    const { m } = blobs(
      MEANS.map((r) => r.map((v) => v / 6)),
      [300, 300, 300, 300],
      10,
    );
    const model = fitKMeans(m, { k: 8, seed: 1, maxIter: 1, tol: 0 });
    expect(model.converged).toBe(false);
    expect(model.message).toMatch(/maxIter/);
  });

  it('rejects bad input with the field and rule', () => {
    const m = fromRows([[0], [1], [NaN]]);
    expect(() => fitKMeans(m, { k: 2, seed: 1 })).toThrow(/row 2/);
    expect(() => fitKMeans(fromRows([[0], [1]]), { k: 3, seed: 1 })).toThrow(/exceeds the number of rows/);
    expect(() => fitKMeans(fromRows([[0], [1]]), { k: 0, seed: 1 })).toThrow(/k must be an integer/);
  });
});
