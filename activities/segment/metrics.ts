/**
 * Cluster quality measures: silhouette (Rousseeuw 1987), Calinski-Harabasz (Calinski and Harabasz 1974),
 * Davies-Bouldin (Davies and Bouldin 1979), inertia (within-cluster sum of squares), and the adjusted Rand
 * index (Hubert and Arabie 1985) between two labelings. Conventions (singletons, degenerate cases) follow
 * scikit-learn, so the numbers can be checked against `sklearn.metrics`.
 *
 * Silhouette is O(n^2): exact for small n, on a uniform row sample for large n (the size is reported). The
 * sample's pairwise distances are computed once (`PairwiseDistances`) and reused to score many labelings,
 * which is what a k search needs.
 */
import { Rng } from '../../lib/random';
import { sampleIndices, squaredDistance, takeRows, zeros } from './matrix';
import type { Matrix } from './matrix';

/** Silhouette of a labeling, and on how many rows it was computed. */
export interface SilhouetteResult {
  /** Mean silhouette over the (sampled) rows, in [-1, 1]. */
  score: number;
  /** Rows the score was computed on. */
  sampleSize: number;
  /** True when every row was used (no sampling). */
  exact: boolean;
}

/** Within- and between-cluster dispersion of a labeling, measured about the label means. */
export interface ClusterQuality {
  /** Non-empty clusters. */
  clusters: number;
  /** Rows per label 0..k-1 (0 for empty labels). */
  sizes: number[];
  /** k x cols means of each label's rows (rows of empty labels are 0). */
  centroids: Matrix;
  /** Within-cluster sum of squared distances to the label mean (k-means inertia at convergence). */
  inertia: number;
  /** Between-cluster sum of squares: sum over clusters of size x squared distance of mean to grand mean. */
  betweenSS: number;
  calinskiHarabasz: number;
  daviesBouldin: number;
}

/** Largest sample whose condensed distances are kept in float64 (n(n-1)/2 x 8 bytes = 256 MB at 8,000). */
const FLOAT64_DISTANCE_LIMIT = 8000;

/**
 * Condensed Euclidean distances between all rows of a (small or sampled) matrix, computed once and reused
 * to score any number of labelings of those rows. float64 up to 8,000 rows, float32 beyond (halves the
 * memory; silhouette on float32 distances differs by ~1e-7 relative, far below the sampling error).
 */
export class PairwiseDistances {
  /** Rows. */
  readonly n: number;
  /** Storage precision of the distances. */
  readonly precision: 'float64' | 'float32';
  private readonly dist: Float64Array | Float32Array;

  constructor(m: Matrix) {
    const { rows: n, cols: d, data: X } = m;
    this.n = n;
    const pairs = (n * (n - 1)) / 2;
    this.precision = n <= FLOAT64_DISTANCE_LIMIT ? 'float64' : 'float32';
    const dist = this.precision === 'float64' ? new Float64Array(pairs) : new Float32Array(pairs);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const xo = i * d;
      let j = i + 1;
      // Four rows j at a time share the loads of row i and run four independent add chains.
      for (; j + 4 <= n; j += 4) {
        const a = j * d;
        const b = a + d;
        const c = b + d;
        const e = c + d;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let t = 0; t < d; t++) {
          const x = X[xo + t];
          const v0 = x - X[a + t];
          const v1 = x - X[b + t];
          const v2 = x - X[c + t];
          const v3 = x - X[e + t];
          s0 += v0 * v0;
          s1 += v1 * v1;
          s2 += v2 * v2;
          s3 += v3 * v3;
        }
        dist[p++] = Math.sqrt(s0);
        dist[p++] = Math.sqrt(s1);
        dist[p++] = Math.sqrt(s2);
        dist[p++] = Math.sqrt(s3);
      }
      for (; j < n; j++) dist[p++] = Math.sqrt(squaredDistance(X, xo, X, j * d, d));
    }
    this.dist = dist;
  }

  /** Silhouette value of every row (Rousseeuw 1987, eq. 11); rows of singleton clusters get 0. */
  silhouetteSamples(labels: ArrayLike<number>, k: number): Float64Array {
    const n = this.n;
    if (labels.length !== n) throw new Error(`silhouette: ${labels.length} labels for ${n} rows`);
    checkLabels(labels, k, 'silhouette');
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) counts[labels[i]]++;
    let clusters = 0;
    for (let c = 0; c < k; c++) if (counts[c] > 0) clusters++;
    if (clusters < 2 || clusters > n - 1) {
      throw new Error(`silhouette: needs 2..${n - 1} non-empty clusters among the rows (got ${clusters})`);
    }
    // sums[i * k + c] = total distance from row i to the rows of cluster c.
    const sums = new Float64Array(n * k);
    const dist = this.dist;
    let p = 0;
    for (let i = 0; i < n; i++) {
      const li = labels[i];
      const base = i * k;
      for (let j = i + 1; j < n; j++) {
        const dij = dist[p++];
        sums[base + labels[j]] += dij;
        sums[j * k + li] += dij;
      }
    }
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const li = labels[i];
      if (counts[li] <= 1) continue;
      const a = sums[i * k + li] / (counts[li] - 1);
      let b = Infinity;
      for (let c = 0; c < k; c++) {
        if (c === li || counts[c] === 0) continue;
        const v = sums[i * k + c] / counts[c];
        if (v < b) b = v;
      }
      const denom = Math.max(a, b);
      s[i] = denom > 0 && Number.isFinite(b) ? (b - a) / denom : 0;
    }
    return s;
  }

  /** Mean silhouette of the rows (Rousseeuw 1987, overall average width). */
  silhouette(labels: ArrayLike<number>, k: number): number {
    const s = this.silhouetteSamples(labels, k);
    let total = 0;
    for (let i = 0; i < s.length; i++) total += s[i];
    return total / s.length;
  }
}

/**
 * Mean silhouette of a labeling: exact over all rows when rows <= sampleSize (default 10,000), otherwise on
 * a uniform sample of sampleSize rows drawn with `seed` (scikit-learn's `silhouette_score(sample_size=)`).
 */
export function silhouetteScore(
  m: Matrix,
  labels: ArrayLike<number>,
  k: number,
  options: { sampleSize?: number; seed?: number } = {},
): SilhouetteResult {
  const n = m.rows;
  if (labels.length !== n) throw new Error(`silhouette: ${labels.length} labels for ${n} rows`);
  const sampleSize = options.sampleSize ?? 10_000;
  if (!Number.isInteger(sampleSize) || sampleSize < 2) {
    throw new Error(`silhouette: sampleSize must be an integer >= 2 (got ${sampleSize})`);
  }
  if (n <= sampleSize) {
    return { score: new PairwiseDistances(m).silhouette(labels, k), sampleSize: n, exact: true };
  }
  const idx = sampleIndices(n, sampleSize, new Rng(options.seed ?? 0));
  const sub = new Int32Array(sampleSize);
  for (let r = 0; r < sampleSize; r++) sub[r] = labels[idx[r]];
  const score = new PairwiseDistances(takeRows(m, idx)).silhouette(sub, k);
  return { score, sampleSize, exact: false };
}

/** Exact per-row silhouette values (O(n^2) time, O(n^2) memory: small inputs only). */
export function silhouetteSamples(m: Matrix, labels: ArrayLike<number>, k: number): Float64Array {
  return new PairwiseDistances(m).silhouetteSamples(labels, k);
}

/**
 * Inertia, Calinski-Harabasz and Davies-Bouldin of a labeling, all measured about the label means, in two
 * passes over the rows. Needs 2 <= non-empty clusters <= rows - 1 (as scikit-learn).
 */
export function clusterQuality(m: Matrix, labels: ArrayLike<number>, k: number): ClusterQuality {
  const { rows: n, cols: d, data: X } = m;
  if (labels.length !== n) throw new Error(`clusterQuality: ${labels.length} labels for ${n} rows`);
  checkLabels(labels, k, 'clusterQuality');
  const centroids = zeros(k, d);
  const C = centroids.data;
  const sizes = new Array<number>(k).fill(0);
  const grand = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    sizes[c]++;
    const co = c * d;
    const xo = i * d;
    for (let t = 0; t < d; t++) C[co + t] += X[xo + t];
  }
  let clusters = 0;
  for (let c = 0; c < k; c++) {
    if (sizes[c] === 0) continue;
    clusters++;
    for (let t = 0; t < d; t++) {
      grand[t] += C[c * d + t];
      C[c * d + t] /= sizes[c];
    }
  }
  for (let t = 0; t < d; t++) grand[t] /= n;
  if (clusters < 2 || clusters > n - 1) {
    throw new Error(`clusterQuality: needs 2..${n - 1} non-empty clusters (got ${clusters})`);
  }
  // Within-cluster squared distances (inertia) and mean distances to the centroid (Davies-Bouldin's S_i).
  const meanDist = new Float64Array(k);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    const v = squaredDistance(X, i * d, C, c * d, d);
    inertia += v;
    meanDist[c] += Math.sqrt(v);
  }
  let betweenSS = 0;
  for (let c = 0; c < k; c++) {
    if (sizes[c] === 0) continue;
    meanDist[c] /= sizes[c];
    betweenSS += sizes[c] * squaredDistance(C, c * d, grand, 0, d);
  }
  // Calinski and Harabasz (1974): [tr(B)/(k-1)] / [tr(W)/(n-k)]; 1 when W = 0 (scikit-learn convention).
  const calinskiHarabasz = inertia === 0 ? 1 : (betweenSS * (n - clusters)) / (inertia * (clusters - 1));
  return {
    clusters,
    sizes,
    centroids,
    inertia,
    betweenSS,
    calinskiHarabasz,
    daviesBouldin: daviesBouldinFrom(C, d, k, sizes, meanDist),
  };
}

/** Calinski-Harabasz index (variance ratio criterion) of a labeling. */
export function calinskiHarabasz(m: Matrix, labels: ArrayLike<number>, k: number): number {
  return clusterQuality(m, labels, k).calinskiHarabasz;
}

/** Davies-Bouldin index of a labeling (lower is better). */
export function daviesBouldin(m: Matrix, labels: ArrayLike<number>, k: number): number {
  return clusterQuality(m, labels, k).daviesBouldin;
}

/** Sum of squared distances from each row to its assigned centroid (k x cols). */
export function inertia(m: Matrix, labels: ArrayLike<number>, centroids: Matrix): number {
  const { rows: n, cols: d, data: X } = m;
  if (centroids.cols !== d)
    throw new Error(`inertia: centroids have ${centroids.cols} columns, rows have ${d}`);
  if (labels.length !== n) throw new Error(`inertia: ${labels.length} labels for ${n} rows`);
  checkLabels(labels, centroids.rows, 'inertia');
  let s = 0;
  for (let i = 0; i < n; i++) s += squaredDistance(X, i * d, centroids.data, labels[i] * d, d);
  return s;
}

/**
 * Adjusted Rand index (Hubert and Arabie 1985, eq. 5) between two labelings of the same rows: 1 for
 * identical partitions (up to renaming), ~0 for independent ones. Labels are any numbers.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n)
    throw new Error(`adjustedRandIndex: labelings have different lengths (${n} and ${b.length})`);
  const ia = denseCodes(a);
  const ib = denseCodes(b);
  const ka = ia.levels;
  const kb = ib.levels;
  const table = new Float64Array(ka * kb);
  const rowSum = new Float64Array(ka);
  const colSum = new Float64Array(kb);
  for (let i = 0; i < n; i++) {
    table[ia.codes[i] * kb + ib.codes[i]]++;
    rowSum[ia.codes[i]]++;
    colSum[ib.codes[i]]++;
  }
  const comb2 = (x: number): number => (x * (x - 1)) / 2;
  let index = 0;
  for (let p = 0; p < table.length; p++) index += comb2(table[p]);
  let sumA = 0;
  let sumB = 0;
  for (let r = 0; r < ka; r++) sumA += comb2(rowSum[r]);
  for (let c = 0; c < kb; c++) sumB += comb2(colSum[c]);
  const expected = n < 2 ? 0 : (sumA * sumB) / comb2(n);
  const maxIndex = (sumA + sumB) / 2;
  // Both partitions trivial (all one cluster, or all singletons): identical, and ARI is 1 by convention.
  if (maxIndex === expected) return 1;
  return (index - expected) / (maxIndex - expected);
}

/** Davies and Bouldin (1979): mean over clusters of max_j (S_i + S_j) / M_ij; scikit-learn's degenerate cases. */
function daviesBouldinFrom(
  C: Float64Array,
  d: number,
  k: number,
  sizes: number[],
  meanDist: Float64Array,
): number {
  const live: number[] = [];
  for (let c = 0; c < k; c++) if (sizes[c] > 0) live.push(c);
  let allIntraZero = true;
  for (const c of live) if (Math.abs(meanDist[c]) > 1e-8) allIntraZero = false;
  let allCentroidZero = true;
  const sep = new Float64Array(live.length * live.length);
  for (let a = 0; a < live.length; a++) {
    for (let b = 0; b < live.length; b++) {
      const v = Math.sqrt(squaredDistance(C, live[a] * d, C, live[b] * d, d));
      sep[a * live.length + b] = v;
      if (a !== b && Math.abs(v) > 1e-8) allCentroidZero = false;
    }
  }
  if (allIntraZero || allCentroidZero) return 0;
  let total = 0;
  for (let a = 0; a < live.length; a++) {
    let worst = 0;
    for (let b = 0; b < live.length; b++) {
      if (a === b) continue;
      const m = sep[a * live.length + b];
      const r = m === 0 ? 0 : (meanDist[live[a]] + meanDist[live[b]]) / m;
      if (r > worst) worst = r;
    }
    total += worst;
  }
  return total / live.length;
}

function checkLabels(labels: ArrayLike<number>, k: number, where: string): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`${where}: k must be an integer >= 1 (got ${k})`);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!(c >= 0 && c < k && Number.isInteger(c))) {
      throw new Error(`${where}: label of row ${i} must be an integer in 0..${k - 1} (got ${c})`);
    }
  }
}

function denseCodes(labels: ArrayLike<number>): { codes: Int32Array; levels: number } {
  const map = new Map<number, number>();
  const codes = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let c = map.get(labels[i]);
    if (c === undefined) {
      c = map.size;
      map.set(labels[i], c);
    }
    codes[i] = c;
  }
  return { codes, levels: map.size };
}
