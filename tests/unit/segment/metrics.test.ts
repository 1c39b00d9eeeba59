/**
 * Cluster quality measures against their definitions: a hand-computed example, a direct naive O(n^2)
 * computation on 200 random rows (to 1e-9), the sampled silhouette, and the adjusted Rand index values
 * published in the scikit-learn documentation (Hubert and Arabie 1985 formula).
 */
import { describe, expect, it } from 'vitest';
import { fitKMeans } from '../../../activities/segment/kmeans';
import { fromRows } from '../../../activities/segment/matrix';
import type { Matrix } from '../../../activities/segment/matrix';
import {
  PairwiseDistances,
  adjustedRandIndex,
  calinskiHarabasz,
  clusterQuality,
  daviesBouldin,
  inertia,
  silhouetteSamples,
  silhouetteScore,
} from '../../../activities/segment/metrics';
import { Rng } from '../../../lib/random';

const dist = (a: number[], b: number[]): number => Math.sqrt(a.reduce((s, v, t) => s + (v - b[t]) ** 2, 0));

/** Silhouette by its definition (Rousseeuw 1987), arrays of arrays. */
function naiveSilhouette(x: number[][], labels: number[]): number {
  const n = x.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const byCluster = new Map<number, number[]>();
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const list = byCluster.get(labels[j]) ?? [];
      list.push(dist(x[i], x[j]));
      byCluster.set(labels[j], list);
    }
    const own = byCluster.get(labels[i]);
    if (!own) continue; // singleton: s = 0
    const a = own.reduce((s, v) => s + v, 0) / own.length;
    let b = Infinity;
    for (const [c, list] of byCluster) {
      if (c !== labels[i]) b = Math.min(b, list.reduce((s, v) => s + v, 0) / list.length);
    }
    total += (b - a) / Math.max(a, b);
  }
  return total / n;
}

function naiveCentroids(
  x: number[][],
  labels: number[],
): Map<number, { mean: number[]; members: number[][] }> {
  const groups = new Map<number, number[][]>();
  x.forEach((row, i) => groups.set(labels[i], [...(groups.get(labels[i]) ?? []), row]));
  const out = new Map<number, { mean: number[]; members: number[][] }>();
  for (const [c, members] of groups) {
    const mean = members[0].map((_, t) => members.reduce((s, r) => s + r[t], 0) / members.length);
    out.set(c, { mean, members });
  }
  return out;
}

/** Calinski and Harabasz (1974): trace(B)/(k-1) over trace(W)/(n-k). */
function naiveCH(x: number[][], labels: number[]): number {
  const n = x.length;
  const grand = x[0].map((_, t) => x.reduce((s, r) => s + r[t], 0) / n);
  const groups = naiveCentroids(x, labels);
  let b = 0;
  let w = 0;
  for (const { mean, members } of groups.values()) {
    b += members.length * dist(mean, grand) ** 2;
    for (const r of members) w += dist(r, mean) ** 2;
  }
  const k = groups.size;
  return b / (k - 1) / (w / (n - k));
}

/** Davies and Bouldin (1979): mean over clusters of the worst (S_i + S_j) / M_ij. */
function naiveDB(x: number[][], labels: number[]): number {
  const groups = [...naiveCentroids(x, labels).values()];
  const s = groups.map((g) => g.members.reduce((acc, r) => acc + dist(r, g.mean), 0) / g.members.length);
  let total = 0;
  for (let i = 0; i < groups.length; i++) {
    let worst = 0;
    for (let j = 0; j < groups.length; j++) {
      if (i !== j) worst = Math.max(worst, (s[i] + s[j]) / dist(groups[i].mean, groups[j].mean));
    }
    total += worst;
  }
  return total / groups.length;
}

function randomRows(n: number, d: number, seed: number): number[][] {
  const rng = new Rng(seed);
  // Three loose blobs so the clusters are neither trivial nor random.
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: d }, (_, t) => rng.normal((i % 3) * (t % 2 ? 1.5 : -1), 1)),
  );
}

describe('silhouette, Calinski-Harabasz, Davies-Bouldin', () => {
  it('match a hand computation on two pairs on a line', () => {
    const m = fromRows([[0], [1], [10], [11]]);
    const labels = [0, 0, 1, 1];
    // a = 1 for every point; b = 10.5 for the outer points, 9.5 for the inner ones.
    expect(silhouetteScore(m, labels, 2).score).toBeCloseTo((9.5 / 10.5 + 8.5 / 9.5) / 2, 14);
    // B = 2 x 5^2 + 2 x 5^2 = 100, W = 4 x 0.25 = 1: CH = (100 / 1) / (1 / 2) = 200.
    expect(calinskiHarabasz(m, labels, 2)).toBeCloseTo(200, 10);
    // S = 0.5 in each cluster, centroids 10 apart: DB = (0.5 + 0.5) / 10.
    expect(daviesBouldin(m, labels, 2)).toBeCloseTo(0.1, 14);
  });

  it('equal a direct O(n^2) computation on 200 rows to 1e-9 (k-means labels and random labels)', () => {
    const x = randomRows(200, 5, 3);
    const m = fromRows(x);
    const km = fitKMeans(m, { k: 3, seed: 1 });
    const rng = new Rng(9);
    const randomLabels = Int32Array.from({ length: 200 }, () => rng.int(4));
    for (const [labels, k] of [
      [km.labels, 3],
      [randomLabels, 4],
    ] as const) {
      const plain = Array.from(labels);
      const s = silhouetteScore(m, labels, k);
      expect(s.exact).toBe(true);
      expect(s.sampleSize).toBe(200);
      expect(Math.abs(s.score - naiveSilhouette(x, plain))).toBeLessThan(1e-9);
      expect(Math.abs(calinskiHarabasz(m, labels, k) - naiveCH(x, plain))).toBeLessThan(
        1e-9 * naiveCH(x, plain),
      );
      expect(Math.abs(daviesBouldin(m, labels, k) - naiveDB(x, plain))).toBeLessThan(1e-9);
    }
    // k-means inertia is the within-cluster sum of squares about the label means.
    const q = clusterQuality(m, km.labels, 3);
    expect(q.inertia).toBeCloseTo(km.inertia, 8);
    expect(inertia(m, km.labels, km.centroids)).toBeCloseTo(km.inertia, 8);
  });

  it('gives singleton clusters silhouette 0 and ignores empty labels', () => {
    const m = fromRows([[0], [1], [2], [50]]);
    const s = silhouetteSamples(m, [0, 0, 0, 2], 3);
    expect(s[3]).toBe(0);
    expect(silhouetteScore(m, [0, 0, 0, 2], 3).score).toBeCloseTo(
      naiveSilhouette([[0], [1], [2], [50]], [0, 0, 0, 2]),
      12,
    );
  });

  it('samples rows beyond sampleSize, reports the size, and stays close to the exact value', () => {
    const x = randomRows(3000, 4, 5);
    const m = fromRows(x);
    const km = fitKMeans(m, { k: 3, seed: 2 });
    const exact = silhouetteScore(m, km.labels, 3, { sampleSize: 3000 });
    const sampled = silhouetteScore(m, km.labels, 3, { sampleSize: 1000, seed: 4 });
    expect(exact.exact).toBe(true);
    expect(sampled.exact).toBe(false);
    expect(sampled.sampleSize).toBe(1000);
    // Standard error of a 1000-row mean of silhouette values (sd ~0.2) is ~0.006.
    expect(Math.abs(sampled.score - exact.score)).toBeLessThan(0.03);
  });

  it('float32 distance storage above 8,000 rows changes the silhouette by < 1e-6', () => {
    const n = 8200;
    const rng = new Rng(12);
    const data = Float64Array.from({ length: n * 2 }, (_, p) => rng.normal(((p >> 1) % 2) * 3, 1));
    const m: Matrix = { rows: n, cols: 2, data };
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    const pd = new PairwiseDistances(m);
    expect(pd.precision).toBe('float32');
    // Reference in float64 without storage: per-row distance sums to each cluster.
    const sums = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const dx = data[2 * i] - data[2 * j];
        const dy = data[2 * i + 1] - data[2 * j + 1];
        const v = Math.sqrt(dx * dx + dy * dy);
        sums[2 * i + labels[j]] += v;
        sums[2 * j + labels[i]] += v;
      }
    }
    let total = 0;
    for (let i = 0; i < n; i++) {
      const own = labels[i];
      const a = sums[2 * i + own] / (n / 2 - 1);
      const b = sums[2 * i + 1 - own] / (n / 2);
      total += (b - a) / Math.max(a, b);
    }
    expect(Math.abs(pd.silhouette(labels, 2) - total / n)).toBeLessThan(1e-6);
  });

  it('reject fewer than two clusters with a clear message', () => {
    const m = fromRows([[0], [1], [2]]);
    expect(() => calinskiHarabasz(m, [0, 0, 0], 1)).toThrow(/non-empty clusters/);
    expect(() => silhouetteScore(m, [0, 0, 0], 1)).toThrow(/non-empty clusters/);
    expect(() => daviesBouldin(m, [0, 0, 5], 2)).toThrow(/label of row 2/);
  });
});

describe('adjusted Rand index (Hubert and Arabie 1985)', () => {
  it('reproduces the values in the scikit-learn documentation', () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 1])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1])).toBeCloseTo(4 / 7, 12); // 0.5714...
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(4 / 7, 12);
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
  });

  it('is near 0 for independent random labelings of many rows', () => {
    const rng = new Rng(1);
    const a = Array.from({ length: 20000 }, () => rng.int(5));
    const b = Array.from({ length: 20000 }, () => rng.int(4));
    expect(Math.abs(adjustedRandIndex(a, b))).toBeLessThan(0.005);
  });
});
