/**
 * How much cluster structure each feature block (behavioural dimension) carries, so that blocks without
 * any do not drown those with some.
 *
 * Score: the gap statistic (Tibshirani, Walther and Hastie 2001, eq. 3) of the block alone, against a
 * Gaussian reference with the block's own covariance instead of their uniform box:
 *   gap_B(k) = log W_k(Gaussian reference) - log W_k(block),   structure_B = max over k in 2..kMax,
 * W_k the k-means within-cluster sum of squares. A block whose customers form one blob (skewed or not,
 * once log1p and standardised) splits no better than a Gaussian of the same covariance: gap near 0. A
 * block with groups splits much better: a positive gap. The Gaussian reference keeps correlation inside
 * the block (six rhythm columns that measure one thing are one direction of variance in both), which the
 * uniform box of the original paper would not.
 *
 * Computed on a seeded row sample; the reference is drawn with the same seed, so the score is
 * deterministic.
 */
import { Rng } from '../../lib/random';
import { fitKMeans } from './kmeans';
import { deriveSeed, sampleIndices, zeros } from './matrix';
import type { Matrix } from './matrix';

export interface BlockStructure {
  dimension: string;
  /** Column indices of the block in the clustering matrix. */
  columns: number[];
  /** Best gap over k (0 or more; negative gaps are reported as measured). */
  gap: number;
  /** k of the best gap. */
  gapK: number;
  /** Gap at every k tried, k = 2 first. */
  gapByK: number[];
}

export interface BlockStructureOptions {
  seed: number;
  /** Rows used; more are sampled. Default 2,000. */
  sampleSize?: number;
  /** Largest k tried. Default 6. */
  kMax?: number;
  /** k-means restarts per k. Default 2. */
  nInit?: number;
}

/** The gap score of every block; `dimensions[j]` is the block of column j of `m`. */
export function blockStructure(
  m: Matrix,
  dimensions: readonly string[],
  options: BlockStructureOptions,
): BlockStructure[] {
  if (dimensions.length !== m.cols) {
    throw new Error(`blockStructure: ${dimensions.length} dimension names for ${m.cols} columns`);
  }
  const sampleSize = Math.min(options.sampleSize ?? 2000, m.rows);
  const kMax = Math.min(options.kMax ?? 6, sampleSize - 1);
  const nInit = options.nInit ?? 2;
  const rng = new Rng(deriveSeed(options.seed, 0xb10c));
  const idx = sampleIndices(m.rows, sampleSize, rng);
  const blocks = new Map<string, number[]>();
  dimensions.forEach((d, j) => blocks.set(d, [...(blocks.get(d) ?? []), j]));
  const result: BlockStructure[] = [];
  let b = 0;
  for (const [dimension, columns] of blocks) {
    b++;
    const data = zeros(sampleSize, columns.length);
    for (let r = 0; r < sampleSize; r++) {
      const p = idx[r] * m.cols;
      for (let c = 0; c < columns.length; c++) data.data[r * columns.length + c] = m.data[p + columns[c]];
    }
    const reference = gaussianLike(data, new Rng(deriveSeed(options.seed, 0x9a55 + b)));
    const gapByK: number[] = [];
    for (let k = 2; k <= kMax; k++) {
      const seed = deriveSeed(options.seed, 1000 * b + k);
      const wData = fitKMeans(data, { k, seed, nInit, maxIter: 100, skipValidation: true }).inertia;
      const wRef = fitKMeans(reference, { k, seed, nInit, maxIter: 100, skipValidation: true }).inertia;
      gapByK.push(wData > 0 && wRef > 0 ? Math.log(wRef) - Math.log(wData) : 0);
    }
    let best = 0;
    for (let i = 1; i < gapByK.length; i++) if (gapByK[i] > gapByK[best]) best = i;
    result.push({ dimension, columns, gap: gapByK[best] ?? 0, gapK: best + 2, gapByK });
  }
  return result;
}

/** Rows drawn from a Gaussian with the mean and covariance of `m` (Cholesky, small ridge for rank loss). */
export function gaussianLike(m: Matrix, rng: Rng): Matrix {
  const { rows: n, cols: d, data } = m;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const xa = data[i * d + a] - mean[a];
      for (let c = 0; c <= a; c++) cov[a * d + c] += (xa * (data[i * d + c] - mean[c])) / (n - 1);
    }
  }
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a];
  const ridge = 1e-6 * Math.max(trace / d, 1e-12);
  // Lower Cholesky factor L with L L^T = cov + ridge I.
  const L = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let c = 0; c <= a; c++) {
      let s = cov[a * d + c] + (a === c ? ridge : 0);
      for (let t = 0; t < c; t++) s -= L[a * d + t] * L[c * d + t];
      L[a * d + c] = a === c ? Math.sqrt(Math.max(s, ridge)) : s / L[c * d + c];
    }
  }
  const out = zeros(n, d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) z[j] = rng.normal();
    for (let a = 0; a < d; a++) {
      let s = mean[a];
      for (let c = 0; c <= a; c++) s += L[a * d + c] * z[c];
      out.data[i * d + a] = s;
    }
  }
  return out;
}
