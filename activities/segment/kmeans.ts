/**
 * k-means: Lloyd (1982) iterations accelerated with triangle-inequality bounds, Elkan (2003) by default or
 * Hamerly (2010), seeded by greedy k-means++ (Arthur and Vassilvitskii 2007), best of several restarts by
 * inertia.
 *
 * The bounds skip a row's distance computations whenever its upper bound to the assigned centroid is below
 * its lower bound to another centroid (or half the distance between the two centroids). The labels are
 * those plain Lloyd produces (up to exact ties; the tests check this), only cheaper. Elkan keeps k bounds
 * per row (n x k doubles: 80 MB at a million rows and k = 10) and prunes more than Hamerly's single bound
 * in 20-30 dimensions; measured here it was about 20% faster on 100,000 x 25 customer features.
 *
 * Everything runs on one flat Float64Array; working arrays are allocated once per fit, and per-cluster
 * sums are updated only for rows that change cluster, so an iteration costs O(rows x k) bound checks plus
 * the distances the bounds cannot rule out. Deterministic given `seed`. Labels are canonical: cluster 0 is
 * the largest, ties broken by centroid coordinates, so the same partition always gets the same numbers.
 */
import { Rng } from '../../lib/random';
import { runToEnd, type Steps } from '../../lib/yieldEvery';
import { assertFinite, columnMeanVariance, squaredDistance } from './matrix';
import type { Matrix } from './matrix';

/** Options of `fitKMeans`. */
export interface KMeansOptions {
  /** Number of clusters (1 <= k <= rows). */
  k: number;
  /** Seed of the k-means++ draws. */
  seed: number;
  /** Restarts from fresh k-means++ seeds; the lowest-inertia run wins. Default 4 (1 with initialCentroids). */
  nInit?: number;
  /** Lloyd iterations per restart. Default 300. */
  maxIter?: number;
  /**
   * Convergence: total squared centroid shift <= tol x mean column variance (the scikit-learn rule), or no
   * label changed. Default 1e-4.
   */
  tol?: number;
  /** Greedy k-means++ candidates per new centroid. Default 2 + floor(ln k) (as scikit-learn). */
  localTrials?: number;
  /** Start from these k x cols centroids instead of seeding (e.g. refine a fit made on a sample). */
  initialCentroids?: Matrix;
  /** Bound-based acceleration: Elkan (2003, k bounds per row) or Hamerly (2010, one bound). Default 'elkan'. */
  algorithm?: 'elkan' | 'hamerly';
  /** Skip the finite-value check (the caller has already checked, e.g. after `fitTransform`). */
  skipValidation?: boolean;
}

/** A fitted k-means model and the labels of the rows it was fitted on. */
export interface KMeansModel {
  k: number;
  /** k x cols centroids in canonical order (cluster 0 = largest). */
  centroids: Matrix;
  /** Cluster of each row, 0..k-1. */
  labels: Int32Array;
  /** Rows per cluster. */
  sizes: number[];
  /** Sum of squared distances of rows to their centroid. */
  inertia: number;
  /** Lloyd iterations of the winning restart. */
  iterations: number;
  converged: boolean;
  /** Why the winning restart stopped (or why it did not converge). */
  message: string;
  /** Restarts run. */
  restarts: number;
}

/** Result of assigning rows to the nearest of given centroids. */
export interface KMeansPrediction {
  labels: Int32Array;
  inertia: number;
}

/** Fits k-means to the rows of `m`. */
export function fitKMeans(m: Matrix, options: KMeansOptions): KMeansModel {
  return runToEnd(kMeansSteps(m, options));
}

/** fitKMeans one Lloyd iteration at a step (lib/yieldEvery.ts): a stage runs it with runYielding. */
export function* kMeansSteps(m: Matrix, options: KMeansOptions): Steps<KMeansModel> {
  const { rows: n, cols: d, data: X } = m;
  const k = options.k;
  if (!Number.isInteger(k) || k < 1) throw new Error(`kmeans.fit: k must be an integer >= 1 (got ${k})`);
  if (k > n) throw new Error(`kmeans.fit: k = ${k} exceeds the number of rows (${n})`);
  if (d < 1) throw new Error('kmeans.fit: the matrix has no columns');
  const maxIter = options.maxIter ?? 300;
  const tol = options.tol ?? 1e-4;
  if (!(maxIter >= 0)) throw new Error(`kmeans.fit: maxIter must be >= 0 (got ${maxIter})`);
  if (!(tol >= 0)) throw new Error(`kmeans.fit: tol must be >= 0 (got ${tol})`);
  const init = options.initialCentroids;
  if (init && (init.rows !== k || init.cols !== d)) {
    throw new Error(`kmeans.fit: initialCentroids must be ${k} x ${d} (got ${init.rows} x ${init.cols})`);
  }
  const nInit = init ? 1 : (options.nInit ?? 4);
  if (!Number.isInteger(nInit) || nInit < 1)
    throw new Error(`kmeans.fit: nInit must be an integer >= 1 (got ${nInit})`);
  const trials = options.localTrials ?? 2 + Math.floor(Math.log(k));
  if (!Number.isInteger(trials) || trials < 1) {
    throw new Error(`kmeans.fit: localTrials must be an integer >= 1 (got ${trials})`);
  }
  if (!options.skipValidation) assertFinite(m, 'kmeans.fit');

  const { variance } = columnMeanVariance(m);
  let meanVar = 0;
  for (let j = 0; j < d; j++) meanVar += variance[j] / d;
  const tolAbs = tol * meanVar;

  const ws = new LloydWorkspace(n, d, k, (options.algorithm ?? 'elkan') === 'elkan');
  const rng = new Rng(options.seed);
  const centers = new Float64Array(k * d);
  const bestCenters = new Float64Array(k * d);
  const bestLabels = new Int32Array(n);
  let best: { inertia: number; iterations: number; converged: boolean; message: string } | null = null;
  const seeding = init ? null : new SeedingWorkspace(n, trials, k);

  for (let r = 0; r < nInit; r++) {
    if (init) centers.set(init.data);
    else seedCentroids(X, n, d, k, rng, trials, centers, seeding!);
    const run = yield* lloyd(X, n, d, k, centers, ws, maxIter, tolAbs);
    const inertia = inertiaOf(X, n, d, centers, ws.labels);
    // Strict <: on equal inertia the earlier restart wins.
    if (best === null || inertia < best.inertia) {
      best = { inertia, ...run };
      bestCenters.set(centers);
      bestLabels.set(ws.labels);
    }
  }

  const { sizes } = canonicalize(bestLabels, bestCenters, k, d);
  return {
    k,
    centroids: { rows: k, cols: d, data: bestCenters },
    labels: bestLabels,
    sizes,
    inertia: best!.inertia,
    iterations: best!.iterations,
    converged: best!.converged,
    message: best!.message,
    restarts: nInit,
  };
}

/** Assigns each row of `m` to its nearest centroid (ties to the lower index). */
export function predictKMeans(m: Matrix, centroids: Matrix): KMeansPrediction {
  if (centroids.cols !== m.cols) {
    throw new Error(`kmeans.predict: centroids have ${centroids.cols} columns, rows have ${m.cols}`);
  }
  const n = m.rows;
  const labels = new Int32Array(n);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  fullAssign(m.data, n, m.cols, centroids.data, centroids.rows, labels, upper, lower);
  return { labels, inertia: inertiaOf(m.data, n, m.cols, centroids.data, labels) };
}

/** Greedy k-means++ seeds (Arthur and Vassilvitskii 2007, section 2.2; greedy trials as scikit-learn). */
export function kmeansPlusPlus(
  m: Matrix,
  k: number,
  rng: Rng,
  localTrials = 2 + Math.floor(Math.log(k)),
): Matrix {
  if (!Number.isInteger(k) || k < 1 || k > m.rows) {
    throw new Error(`kmeans.plusPlus: k must be an integer in 1..${m.rows} (got ${k})`);
  }
  const centers = new Float64Array(k * m.cols);
  seedCentroids(
    m.data,
    m.rows,
    m.cols,
    k,
    rng,
    localTrials,
    centers,
    new SeedingWorkspace(m.rows, localTrials, k),
  );
  return { rows: k, cols: m.cols, data: centers };
}

/** Scratch arrays of one fit, reused across restarts and iterations. */
class LloydWorkspace {
  readonly labels: Int32Array;
  readonly upper: Float64Array;
  readonly lower: Float64Array;
  readonly sums: Float64Array;
  readonly counts: Float64Array;
  readonly previous: Float64Array;
  readonly shift: Float64Array;
  readonly halfMin: Float64Array;
  /** Elkan only: lower bound of the distance from row i to every centroid (n x k). */
  readonly lowerAll: Float64Array | null;
  /** Elkan only: distances between centroids (k x k). */
  readonly centerDist: Float64Array;
  constructor(n: number, d: number, k: number, elkan: boolean) {
    this.labels = new Int32Array(n);
    this.upper = new Float64Array(n);
    this.lower = new Float64Array(n);
    this.sums = new Float64Array(k * d);
    this.counts = new Float64Array(k);
    this.previous = new Float64Array(k * d);
    this.shift = new Float64Array(k);
    this.halfMin = new Float64Array(k);
    this.lowerAll = elkan ? new Float64Array(n * k) : null;
    this.centerDist = new Float64Array(k * k);
  }
}

class SeedingWorkspace {
  readonly minD2: Float64Array;
  readonly nearest: Int32Array;
  readonly candD2: Float64Array;
  readonly cumulative: Float64Array;
  readonly candidates: Int32Array;
  readonly centerD2: Float64Array;
  constructor(n: number, trials: number, k: number) {
    this.minD2 = new Float64Array(n);
    this.nearest = new Int32Array(n);
    this.candD2 = new Float64Array(n * trials);
    this.cumulative = new Float64Array(n);
    this.candidates = new Int32Array(trials);
    this.centerD2 = new Float64Array(k);
  }
}

/**
 * k-means++ D^2 sampling (Arthur and Vassilvitskii 2007, step 1b): each new centroid is a row drawn with
 * probability proportional to its squared distance to the nearest centroid so far. The greedy variant draws
 * `trials` candidates and keeps the one that lowers the potential most. A row whose nearest centroid is at
 * least twice as far from the candidate as from the row cannot move closer (triangle inequality), so its
 * distance to the candidate is never computed; the result is the same as the plain computation.
 */
function seedCentroids(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  rng: Rng,
  trials: number,
  C: Float64Array,
  ws: SeedingWorkspace,
): void {
  const { minD2, nearest, candD2, cumulative, candidates, centerD2 } = ws;
  const first = rng.int(n);
  C.set(X.subarray(first * d, first * d + d), 0);
  let potential = 0;
  for (let i = 0; i < n; i++) {
    const v = squaredDistance(X, i * d, C, 0, d);
    minD2[i] = v;
    nearest[i] = 0;
    potential += v;
  }
  for (let c = 1; c < k; c++) {
    if (!(potential > 0)) {
      // Every row coincides with a chosen centroid (fewer distinct rows than k): any row will do.
      const idx = rng.int(n);
      C.set(X.subarray(idx * d, idx * d + d), c * d);
      continue;
    }
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += minD2[i];
      cumulative[i] = acc;
    }
    let bestTrial = 0;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      const idx = upperBound(cumulative, rng.uniform() * acc);
      candidates[t] = idx;
      const xo = idx * d;
      for (let j = 0; j < c; j++) centerD2[j] = squaredDistance(X, xo, C, j * d, d);
      const base = t * n;
      let pot = 0;
      for (let i = 0; i < n; i++) {
        const m = minD2[i];
        let v = m;
        if (centerD2[nearest[i]] < 4 * m) {
          const dc = squaredDistance(X, i * d, X, xo, d);
          if (dc < m) v = dc;
        }
        candD2[base + i] = v;
        pot += v;
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestTrial = t;
      }
    }
    const chosen = candidates[bestTrial];
    C.set(X.subarray(chosen * d, chosen * d + d), c * d);
    const base = bestTrial * n;
    for (let i = 0; i < n; i++) {
      const v = candD2[base + i];
      if (v < minD2[i]) {
        minD2[i] = v;
        nearest[i] = c;
      }
    }
    potential = bestPotential;
  }
}

/** First index with cumulative[index] > target (the D^2 draw); clamped for float edge cases. */
function upperBound(cumulative: Float64Array, target: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid] > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Lloyd iterations with Elkan (2003) or Hamerly (2010) bounds. On return `ws.labels` holds the nearest centroid of each row
 * for the final `C` (the last step is always an assignment), as scikit-learn's final E-step.
 */
function* lloyd(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  C: Float64Array,
  ws: LloydWorkspace,
  maxIter: number,
  tolAbs: number,
): Steps<{ iterations: number; converged: boolean; message: string }> {
  const elkan = ws.lowerAll !== null;
  const assignAll = (): void => {
    if (elkan) elkanFullAssign(X, n, d, C, k, ws);
    else fullAssign(X, n, d, C, k, ws.labels, ws.upper, ws.lower);
    accumulate(X, n, d, ws);
  };
  assignAll();
  let iter = 0;
  while (iter < maxIter) {
    yield;
    const { shiftTotal, relocated } = updateCentroids(X, n, d, k, C, ws);
    iter++;
    if (relocated) {
      // Relocation invalidates the bounds; a full pass rebuilds them exactly.
      assignAll();
      continue;
    }
    let changes: number;
    if (elkan) {
      elkanUpdateBounds(n, k, ws);
      changes = elkanAssign(X, n, d, k, C, ws);
    } else {
      updateBounds(n, k, ws);
      computeHalfMin(d, k, C, ws.halfMin);
      changes = hamerlyAssign(X, n, d, k, C, ws);
    }
    if (changes === 0) return { iterations: iter, converged: true, message: 'labels stable' };
    if (shiftTotal <= tolAbs) {
      return { iterations: iter, converged: true, message: 'centroid shift below tolerance' };
    }
  }
  if (maxIter === 0) return { iterations: 0, converged: true, message: 'assignment only (maxIter 0)' };
  return {
    iterations: iter,
    converged: false,
    message: `no convergence within maxIter = ${maxIter} iterations`,
  };
}

/** Exact nearest and second-nearest centroid of every row: labels, upper = d(nearest), lower = d(second). */
function fullAssign(
  X: Float64Array,
  n: number,
  d: number,
  C: Float64Array,
  k: number,
  labels: Int32Array,
  upper: Float64Array,
  lower: Float64Array,
): void {
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    let best = Infinity;
    let second = Infinity;
    let bi = 0;
    for (let j = 0; j < k; j++) {
      const v = squaredDistance(X, xo, C, j * d, d);
      if (v < best) {
        second = best;
        best = v;
        bi = j;
      } else if (v < second) second = v;
    }
    labels[i] = bi;
    upper[i] = Math.sqrt(best);
    lower[i] = Math.sqrt(second);
  }
}

/** Hamerly (2010, Algorithm 2) assignment step; returns how many rows changed cluster. */
function hamerlyAssign(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  C: Float64Array,
  ws: LloydWorkspace,
): number {
  const { labels, upper, lower, halfMin } = ws;
  let changes = 0;
  for (let i = 0; i < n; i++) {
    const a = labels[i];
    const bound = Math.max(halfMin[a], lower[i]);
    if (upper[i] <= bound) continue;
    const xo = i * d;
    const ua = Math.sqrt(squaredDistance(X, xo, C, a * d, d));
    upper[i] = ua;
    if (ua <= bound) continue;
    let best = Infinity;
    let second = Infinity;
    let bi = 0;
    let da = Infinity;
    for (let j = 0; j < k; j++) {
      const v = squaredDistance(X, xo, C, j * d, d);
      if (j === a) da = v;
      if (v < best) {
        second = best;
        best = v;
        bi = j;
      } else if (v < second) second = v;
    }
    // On an exact tie keep the current cluster, so ties cannot make labels oscillate.
    if (bi !== a && da <= best) {
      second = best;
      bi = a;
    }
    if (bi !== a) {
      labels[i] = bi;
      moveRow(X, xo, d, ws, a, bi);
      changes++;
    }
    upper[i] = Math.sqrt(best);
    lower[i] = Math.sqrt(second);
  }
  return changes;
}

/** Exact distances of every row to every centroid: Elkan's lower bounds, upper bound and label. */
function elkanFullAssign(
  X: Float64Array,
  n: number,
  d: number,
  C: Float64Array,
  k: number,
  ws: LloydWorkspace,
): void {
  const { labels, upper } = ws;
  const lowerAll = ws.lowerAll!;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    const lo = i * k;
    let best = Infinity;
    let bi = 0;
    for (let j = 0; j < k; j++) {
      const v = Math.sqrt(squaredDistance(X, xo, C, j * d, d));
      lowerAll[lo + j] = v;
      if (v < best) {
        best = v;
        bi = j;
      }
    }
    labels[i] = bi;
    upper[i] = best;
  }
}

/** Elkan (2003): lower bounds shrink by each centroid's own move, the upper bound grows by the assigned one's. */
function elkanUpdateBounds(n: number, k: number, ws: LloydWorkspace): void {
  const { shift, labels, upper } = ws;
  const lowerAll = ws.lowerAll!;
  for (let i = 0; i < n; i++) {
    upper[i] += shift[labels[i]];
    const lo = i * k;
    for (let j = 0; j < k; j++) {
      const v = lowerAll[lo + j] - shift[j];
      lowerAll[lo + j] = v > 0 ? v : 0;
    }
  }
}

/** Elkan (2003) assignment step with k lower bounds per row; returns how many rows changed cluster. */
function elkanAssign(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  C: Float64Array,
  ws: LloydWorkspace,
): number {
  const { labels, upper, halfMin, centerDist } = ws;
  const lowerAll = ws.lowerAll!;
  halfMin.fill(Infinity);
  for (let a = 0; a < k; a++) {
    centerDist[a * k + a] = 0;
    for (let b = a + 1; b < k; b++) {
      const v = Math.sqrt(squaredDistance(C, a * d, C, b * d, d));
      centerDist[a * k + b] = v;
      centerDist[b * k + a] = v;
      if (0.5 * v < halfMin[a]) halfMin[a] = 0.5 * v;
      if (0.5 * v < halfMin[b]) halfMin[b] = 0.5 * v;
    }
  }
  let changes = 0;
  for (let i = 0; i < n; i++) {
    let a = labels[i];
    let u = upper[i];
    if (u <= halfMin[a]) continue;
    const xo = i * d;
    const lo = i * k;
    let stale = true;
    const start = a;
    for (let j = 0; j < k; j++) {
      if (j === a) continue;
      const lj = lowerAll[lo + j];
      const half = 0.5 * centerDist[a * k + j];
      if (u <= lj || u <= half) continue;
      if (stale) {
        u = Math.sqrt(squaredDistance(X, xo, C, a * d, d));
        lowerAll[lo + a] = u;
        stale = false;
        if (u <= lj || u <= 0.5 * centerDist[a * k + j]) continue;
      }
      const v = Math.sqrt(squaredDistance(X, xo, C, j * d, d));
      lowerAll[lo + j] = v;
      // Strict <: an exact tie keeps the current cluster.
      if (v < u) {
        a = j;
        u = v;
      }
    }
    upper[i] = u;
    if (a !== start) {
      labels[i] = a;
      moveRow(X, xo, d, ws, start, a);
      changes++;
    }
  }
  return changes;
}

/** Half the distance from each centroid to its nearest other centroid (Hamerly 2010, s(j)). */
function computeHalfMin(d: number, k: number, C: Float64Array, halfMin: Float64Array): void {
  halfMin.fill(Infinity);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const v = 0.5 * Math.sqrt(squaredDistance(C, a * d, C, b * d, d));
      if (v < halfMin[a]) halfMin[a] = v;
      if (v < halfMin[b]) halfMin[b] = v;
    }
  }
}

/** After centroids move by shift(j): upper grows by its own centroid's move, lower shrinks by the largest other move. */
function updateBounds(n: number, k: number, ws: LloydWorkspace): void {
  const { shift, labels, upper, lower } = ws;
  let m1 = 0;
  let m2 = 0;
  let j1 = -1;
  for (let j = 0; j < k; j++) {
    const s = shift[j];
    if (s > m1) {
      m2 = m1;
      m1 = s;
      j1 = j;
    } else if (s > m2) m2 = s;
  }
  if (m1 === 0) return;
  for (let i = 0; i < n; i++) {
    const a = labels[i];
    upper[i] += shift[a];
    lower[i] -= a === j1 ? m2 : m1;
  }
}

/**
 * Centroids become the means of their rows (Lloyd's update), from per-cluster sums that the assignment
 * steps keep up to date incrementally (only rows that changed cluster cost anything). An empty cluster is
 * re-seeded with the row farthest from its own centroid (taken from a cluster that keeps at least one row),
 * as scikit-learn does.
 */
function updateCentroids(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  C: Float64Array,
  ws: LloydWorkspace,
): { shiftTotal: number; relocated: boolean } {
  const { previous, shift, counts } = ws;
  previous.set(C);
  centroidsFromSums(d, k, C, ws);
  let relocated = false;
  let empty = 0;
  for (let j = 0; j < k; j++) if (counts[j] === 0) empty++;
  if (empty > 0) relocated = relocateEmpty(X, n, d, k, C, ws);
  if (relocated) {
    accumulate(X, n, d, ws);
    centroidsFromSums(d, k, C, ws);
  }
  let shiftTotal = 0;
  for (let j = 0; j < k; j++) {
    const s2 = squaredDistance(C, j * d, previous, j * d, d);
    shift[j] = Math.sqrt(s2);
    shiftTotal += s2;
  }
  return { shiftTotal, relocated };
}

/** Exact per-cluster sums and counts of the rows, from the labels. */
function accumulate(X: Float64Array, n: number, d: number, ws: LloydWorkspace): void {
  const { labels, sums, counts } = ws;
  sums.fill(0);
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    const a = labels[i];
    counts[a]++;
    const so = a * d;
    const xo = i * d;
    for (let t = 0; t < d; t++) sums[so + t] += X[xo + t];
  }
}

/** Centroid = sum / count for every non-empty cluster (empty clusters keep their centroid). */
function centroidsFromSums(d: number, k: number, C: Float64Array, ws: LloydWorkspace): void {
  const { sums, counts } = ws;
  for (let j = 0; j < k; j++) {
    const c = counts[j];
    if (c === 0) continue;
    const so = j * d;
    for (let t = 0; t < d; t++) C[so + t] = sums[so + t] / c;
  }
}

/** Moves row (at offset xo) from cluster `from` to cluster `to` in the running sums. */
function moveRow(X: Float64Array, xo: number, d: number, ws: LloydWorkspace, from: number, to: number): void {
  const { sums, counts } = ws;
  counts[from]--;
  counts[to]++;
  const fo = from * d;
  const tt = to * d;
  for (let t = 0; t < d; t++) {
    const x = X[xo + t];
    sums[fo + t] -= x;
    sums[tt + t] += x;
  }
}

function relocateEmpty(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  C: Float64Array,
  ws: LloydWorkspace,
): boolean {
  const { labels, counts, upper } = ws;
  // Exact distance of every row to its (updated) centroid; `upper` is free to reuse: fullAssign follows.
  for (let i = 0; i < n; i++) upper[i] = squaredDistance(X, i * d, C, labels[i] * d, d);
  let moved = false;
  for (let j = 0; j < k; j++) {
    if (counts[j] !== 0) continue;
    let far = -1;
    let farD = 0;
    for (let i = 0; i < n; i++) {
      if (upper[i] > farD && counts[labels[i]] > 1) {
        farD = upper[i];
        far = i;
      }
    }
    // No row sits away from its centroid: fewer distinct rows than k, so the cluster stays empty.
    if (far < 0) continue;
    counts[labels[far]]--;
    labels[far] = j;
    counts[j] = 1;
    upper[far] = 0;
    C.set(X.subarray(far * d, far * d + d), j * d);
    moved = true;
  }
  return moved;
}

/** Sum of squared distances of rows to their assigned centroid. */
function inertiaOf(X: Float64Array, n: number, d: number, C: Float64Array, labels: Int32Array): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += squaredDistance(X, i * d, C, labels[i] * d, d);
  return s;
}

/**
 * Renumbers clusters by size (largest first), ties by centroid coordinates, in place. Returns the sizes in
 * the new order and `order` (order[new] = old index) so callers can permute their own per-cluster arrays.
 */
export function canonicalize(
  labels: Int32Array,
  C: Float64Array,
  k: number,
  d: number,
): { sizes: number[]; order: number[] } {
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const order = Array.from({ length: k }, (_, j) => j);
  order.sort((a, b) => {
    if (counts[a] !== counts[b]) return counts[b] - counts[a];
    for (let t = 0; t < d; t++) {
      const diff = C[a * d + t] - C[b * d + t];
      if (diff !== 0) return diff;
    }
    return a - b;
  });
  const newIndex = new Int32Array(k);
  for (let r = 0; r < k; r++) newIndex[order[r]] = r;
  permuteRows(C, order, d);
  for (let i = 0; i < labels.length; i++) labels[i] = newIndex[labels[i]];
  return { sizes: order.map((j) => counts[j]), order };
}

/** Reorders the k rows of a flat k x d array in place so that new row r is old row order[r]. */
export function permuteRows(values: Float64Array, order: readonly number[], d: number): void {
  const copy = values.slice(0, order.length * d);
  for (let r = 0; r < order.length; r++) values.set(copy.subarray(order[r] * d, order[r] * d + d), r * d);
}
