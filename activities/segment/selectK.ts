/**
 * Choosing the number of segments: fit every k in [kMin, kMax], score each, keep the best, label all rows.
 *
 * k-means, criterion 'separation' (the stage default): every k also gets its bootstrap stability
 * (stability.ts: mean pairwise ARI of refits on subsamples; Ben-Hur et al. 2002, Lange et al. 2004) and its
 * separation (separation.ts: the worst density-valley ratio between two of its segments). k is the largest
 * k whose segments are all separated by a valley (ratio < SEPARATION_THRESHOLD) and reproducible (stability
 * >= STABLE_THRESHOLD): the finest partition into real groups. Larger k that cut a group through its middle
 * fail the valley test even when the cut is reproducible, which on one- or two-dimensional blocks it is.
 * When no k qualifies, the customers form a continuum: k maximises the silhouette among the stable k (the
 * most stable k when none is), and the notes say so.
 *
 * k-means, criterion 'silhouette': k maximises the mean silhouette (Rousseeuw 1987); exact ties go to the smaller k.
 * Near-ties: every other k whose silhouette is within 0.005 of the best (about the sampling error of a
 * 10,000-row silhouette) is named in `notes`, so a reader knows the choice was close. With
 * `nearTieTolerance` > 0 every k within that tolerance counts as tied and the smallest wins (parsimony).
 * The default is 0 (plain argmax): silhouette already leans towards small k, and a parsimony rule on top
 * of it tends to return k = 2, which is rarely a useful segmentation. Inertia (for an elbow plot),
 * Calinski-Harabasz and Davies-Bouldin are reported beside it for every k.
 * Gaussian mixture (`method: 'gmm'`): k minimises BIC (Schwarz 1978) by default, ties to the smaller k
 * (or the silhouette rule with `criterion: 'silhouette'`); the same quality measures are reported for its
 * hard labels.
 *
 * Scale. With more rows than `fitSampleSize` (default 100,000) the search runs on a uniform row sample of
 * that size; the chosen k-means model is then refined on all rows by Lloyd iterations started from the
 * sample centroids (a GMM labels all rows with the sample fit). Silhouette uses a nested sample of
 * `silhouetteSampleSize` rows (default 10,000) whose pairwise distances are computed once and reused for
 * every k and for the final labels. Calinski-Harabasz, Davies-Bouldin and inertia of the search are on the
 * fit sample; those of the final labels are on all rows. All sizes are reported.
 */
import { Rng } from '../../lib/random';
import { runToEnd, type Steps } from '../../lib/yieldEvery';
import { gmmSteps, predictGmm } from './gmm';
import type { GmmParameters } from './gmm';
import { kMeansSteps } from './kmeans';
import { assertFinite, deriveSeed, sampleIndices, takeRows } from './matrix';
import type { Matrix } from './matrix';
import { PairwiseDistances, clusterQuality } from './metrics';
import { separationOf } from './separation';
import { bootstrapStability } from './stability';

/** A partition whose worst segment pair has a valley ratio below this counts as separated groups. */
export const SEPARATION_THRESHOLD = 0.5;
/** Bootstrap stability (mean pairwise ARI) a k needs to be chosen as separated (Lange et al. 2004: 0.7-0.8). */
export const STABLE_THRESHOLD = 0.7;

/** Options of `selectK`. */
export interface SelectKOptions {
  /** Smallest k tried. Default 2. */
  kMin?: number;
  /** Largest k tried. Default 10. */
  kMax?: number;
  seed: number;
  /** Clusterer: k-means, or a diagonal Gaussian mixture. Default 'kmeans'. */
  method?: 'kmeans' | 'gmm';
  /**
   * How k is chosen: 'silhouette' (default for k-means) or 'bic' (default for the mixture; mixture only).
   * On skewed or discrete features (counts, rates) a diagonal Gaussian is misspecified and BIC keeps
   * rewarding extra components; 'silhouette' with the mixture is then the steadier choice. 'separation'
   * (k-means only): the largest separated and stable k (module comment).
   */
  criterion?: 'silhouette' | 'bic' | 'separation';
  /** Bootstrap refits per k for 'separation' (stability.ts). Default 8. */
  stabilityResamples?: number;
  /** Restarts per k. Default 3 for k-means, 1 for the mixture. */
  nInit?: number;
  /** Iterations per fit during the search. Default 300 (k-means) or 100 (GMM). */
  maxIter?: number;
  /** Convergence tolerance (see `fitKMeans` / `fitGmm`). */
  tol?: number;
  /** Rows used for the search; more rows than this are sampled. Default 100,000. */
  fitSampleSize?: number;
  /** Rows used for the silhouette (a subset of the search rows). Default 10,000. */
  silhouetteSampleSize?: number;
  /** k-means refinement iterations on all rows after a sampled search. Default 100. */
  finalMaxIter?: number;
  /** Silhouettes within this of the best count as tied; the smallest tied k wins. Default 0 (argmax). */
  nearTieTolerance?: number;
  /** GMM only: variance floor added to every component variance (see `fitGmm`). */
  regCovar?: number;
}

/** Scores of one k. */
export interface KCandidate {
  k: number;
  /** Within-cluster sum of squares on the search rows (elbow plot). */
  inertia: number;
  /** Mean silhouette on the silhouette sample. */
  silhouette: number;
  calinskiHarabasz: number;
  daviesBouldin: number;
  /** BIC of the mixture (method 'gmm'); null for k-means. */
  bic: number | null;
  /** Bootstrap stability (mean pairwise ARI) at this k; null unless criterion 'separation'. */
  stability: number | null;
  /** Worst valley ratio between two segments (separation.ts); null unless criterion 'separation'. */
  separation: number | null;
  /** Rows per cluster on the search rows, largest first. */
  sizes: number[];
  iterations: number;
  converged: boolean;
  message: string;
}

/** The chosen segmentation of all rows, with the evidence for k. */
export interface Segmentation {
  method: 'kmeans' | 'gmm';
  criterion: 'silhouette' | 'bic' | 'separation';
  /** Chosen number of segments. */
  k: number;
  /** Every k tried, in increasing k. */
  candidates: KCandidate[];
  /** Segment of every row, 0..k-1, 0 the largest. */
  labels: Int32Array;
  /** k x cols segment centres in the clustering space (k-means centroids or mixture means). */
  centroids: Matrix;
  /** Mixture parameters when method is 'gmm'. */
  mixture: GmmParameters | null;
  /** Rows per segment over all rows. */
  sizes: number[];
  rows: number;
  /** Rows the k search was fitted on (= rows when not sampled). */
  fitSampleSize: number;
  /** Rows the silhouettes were computed on. */
  silhouetteSampleSize: number;
  /** True when the silhouette used every row. */
  silhouetteExact: boolean;
  /** Quality of the final labels: inertia, CH and DB over all rows, silhouette on the silhouette sample. */
  final: {
    inertia: number;
    silhouette: number;
    calinskiHarabasz: number;
    daviesBouldin: number;
    iterations: number;
    converged: boolean;
    message: string;
  };
  /** What was done, in words (sampling, refinement, tie rule applied). */
  notes: string[];
}

/** Fits every k in [kMin, kMax], chooses one, and labels all rows. */
export function selectK(m: Matrix, options: SelectKOptions): Segmentation {
  return runToEnd(selectKSteps(m, options));
}

/** selectK with a step between iterations of its fits (lib/yieldEvery.ts): a stage runs it with runYielding. */
export function* selectKSteps(m: Matrix, options: SelectKOptions): Steps<Segmentation> {
  const n = m.rows;
  const method = options.method ?? 'kmeans';
  const kMin = options.kMin ?? 2;
  const kMax = options.kMax ?? 10;
  const seed = options.seed;
  const fitSampleSize = options.fitSampleSize ?? 100_000;
  const silSampleSize = options.silhouetteSampleSize ?? 10_000;
  const nearTie = options.nearTieTolerance ?? 0;
  const nInit = options.nInit ?? (method === 'kmeans' ? 3 : 1);
  const finalMaxIter = options.finalMaxIter ?? 100;
  const criterion = options.criterion ?? (method === 'kmeans' ? 'silhouette' : 'bic');
  if (criterion !== 'silhouette' && criterion !== 'bic' && criterion !== 'separation') {
    throw new Error(
      `selectK: criterion must be 'silhouette', 'bic' or 'separation' (got ${String(criterion)})`,
    );
  }
  if (criterion === 'bic' && method !== 'gmm') throw new Error("selectK: criterion 'bic' needs method 'gmm'");
  if (criterion === 'separation' && method !== 'kmeans') {
    throw new Error("selectK: criterion 'separation' needs method 'kmeans'");
  }
  if (method !== 'kmeans' && method !== 'gmm')
    throw new Error(`selectK: method must be 'kmeans' or 'gmm' (got ${String(method)})`);
  if (!Number.isInteger(kMin) || kMin < 2)
    throw new Error(`selectK: kMin must be an integer >= 2 (got ${kMin})`);
  if (!Number.isInteger(kMax) || kMax < kMin)
    throw new Error(`selectK: kMax must be an integer >= kMin = ${kMin} (got ${kMax})`);
  if (!Number.isInteger(fitSampleSize) || fitSampleSize < 2) {
    throw new Error(`selectK: fitSampleSize must be an integer >= 2 (got ${fitSampleSize})`);
  }
  if (!Number.isInteger(silSampleSize) || silSampleSize < 2) {
    throw new Error(`selectK: silhouetteSampleSize must be an integer >= 2 (got ${silSampleSize})`);
  }
  if (!(nearTie >= 0)) throw new Error(`selectK: nearTieTolerance must be >= 0 (got ${nearTie})`);
  assertFinite(m, 'selectK');
  const notes: string[] = [];

  const sampler = new Rng(deriveSeed(seed, 0x5a3b1e));
  const fitIdx = n > fitSampleSize ? sampleIndices(n, fitSampleSize, sampler) : null;
  const fitRows = fitIdx ? takeRows(m, fitIdx) : m;
  const nFit = fitRows.rows;
  if (kMax > nFit - 1)
    throw new Error(`selectK: kMax = ${kMax} needs at least ${kMax + 1} rows (got ${nFit})`);
  if (fitIdx) notes.push(`k search fitted on a uniform sample of ${nFit} of ${n} rows`);

  // Silhouette rows: a prefix of the (already random) fit sample, or a fresh sample of all rows.
  const silCount = Math.min(silSampleSize, nFit);
  const silIdx = fitIdx || silCount === nFit ? null : sampleIndices(nFit, silCount, sampler);
  const silPos = (r: number): number => (silIdx ? silIdx[r] : r);
  const silRows = silIdx
    ? takeRows(fitRows, silIdx)
    : silCount === nFit
      ? fitRows
      : prefixRows(fitRows, silCount);
  yield;
  const distances = new PairwiseDistances(silRows);
  yield;
  const silLabels = new Int32Array(silCount);
  const silhouetteOf = (labels: Int32Array, k: number): number => {
    for (let r = 0; r < silCount; r++) silLabels[r] = labels[silPos(r)];
    return distances.silhouette(silLabels, k);
  };
  notes.push(
    silCount === n
      ? `silhouette exact over all ${n} rows`
      : `silhouette on a uniform sample of ${silCount} rows (${distances.precision} distances)`,
  );

  const candidates: KCandidate[] = [];
  const centres: Matrix[] = [];
  const mixtures: GmmParameters[] = [];
  for (let k = kMin; k <= kMax; k++) {
    const kSeed = deriveSeed(seed, k);
    let labels: Int32Array;
    let bicValue: number | null = null;
    let run: { iterations: number; converged: boolean; message: string };
    if (method === 'kmeans') {
      const model = yield* kMeansSteps(fitRows, {
        k,
        seed: kSeed,
        nInit,
        maxIter: options.maxIter,
        tol: options.tol,
        skipValidation: true,
      });
      labels = model.labels;
      centres.push(model.centroids);
      run = model;
    } else {
      const model = yield* gmmSteps(fitRows, {
        k,
        seed: kSeed,
        nInit,
        maxIter: options.maxIter,
        tol: options.tol,
        regCovar: options.regCovar,
        skipValidation: true,
      });
      labels = model.labels;
      bicValue = model.bic;
      centres.push(model.means);
      mixtures.push(model);
      run = model;
    }
    yield;
    const quality = clusterQuality(fitRows, labels, k);
    let stability: number | null = null;
    let separation: number | null = null;
    if (criterion === 'separation') {
      yield;
      stability = bootstrapStability(fitRows, { k, seed, resamples: options.stabilityResamples }).stability;
      yield;
      for (let r = 0; r < silCount; r++) silLabels[r] = labels[silPos(r)];
      separation = separationOf(silRows, silLabels, centres[centres.length - 1], k);
    }
    candidates.push({
      k,
      inertia: quality.inertia,
      silhouette: silhouetteOf(labels, k),
      calinskiHarabasz: quality.calinskiHarabasz,
      daviesBouldin: quality.daviesBouldin,
      bic: bicValue,
      stability,
      separation,
      sizes: quality.sizes,
      iterations: run.iterations,
      converged: run.converged,
      message: run.message,
    });
  }

  const chosen =
    criterion === 'separation'
      ? chooseBySeparation(candidates, notes)
      : criterion === 'silhouette'
        ? chooseBySilhouette(candidates, nearTie, notes)
        : chooseByBic(candidates);
  const ci = chosen - kMin;
  const centroidsOfChosen = centres[ci];

  let labels: Int32Array;
  let centroids: Matrix;
  let run: { iterations: number; converged: boolean; message: string };
  let mixture: GmmParameters | null = null;
  if (method === 'kmeans') {
    // Refit from the chosen centroids: on all rows when sampled (refinement), otherwise this reproduces the
    // search fit's fixed point in one assignment pass.
    const final = yield* kMeansSteps(m, {
      k: chosen,
      seed: deriveSeed(seed, chosen),
      initialCentroids: centroidsOfChosen,
      maxIter: fitIdx ? finalMaxIter : 0,
      tol: options.tol,
      skipValidation: true,
    });
    labels = final.labels;
    centroids = final.centroids;
    run = fitIdx ? final : candidates[ci];
    if (fitIdx)
      notes.push(
        `final k-means refined on all ${n} rows from the sample centroids (${final.iterations} iterations)`,
      );
  } else {
    mixture = mixtures[ci];
    labels = predictGmm(m, mixture).labels;
    centroids = mixture.means;
    run = candidates[ci];
    if (fitIdx) notes.push(`all ${n} rows labelled by the mixture fitted on the sample`);
  }

  yield;
  const quality = clusterQuality(m, labels, chosen);
  yield;
  const silhouetteFinal = fitIdx
    ? silhouetteOfRows(distances, labels, fitIdx, silPos, silCount, chosen)
    : silhouetteOf(labels, chosen);
  return {
    method,
    criterion,
    k: chosen,
    candidates,
    labels,
    centroids,
    mixture,
    sizes: quality.sizes,
    rows: n,
    fitSampleSize: nFit,
    silhouetteSampleSize: silCount,
    silhouetteExact: silCount === n,
    final: {
      inertia: quality.inertia,
      silhouette: silhouetteFinal,
      calinskiHarabasz: quality.calinskiHarabasz,
      daviesBouldin: quality.daviesBouldin,
      iterations: run.iterations,
      converged: run.converged,
      message: run.message,
    },
    notes,
  };
}

/** Silhouette differences below this are named as near-ties in the notes. */
const NEAR_TIE_REPORT = 0.005;

/** Highest silhouette (exact ties to the smaller k); with tolerance > 0 the smallest k within it of the best. */
export function chooseBySilhouette(
  candidates: readonly KCandidate[],
  tolerance: number,
  notes?: string[],
): number {
  let best = -Infinity;
  let argBest = candidates[0].k;
  for (const c of candidates) {
    if (c.silhouette > best) {
      best = c.silhouette;
      argBest = c.k;
    }
  }
  let chosen = argBest;
  if (tolerance > 0) {
    for (const c of candidates) {
      if (c.silhouette >= best - tolerance) {
        chosen = c.k;
        break;
      }
    }
  }
  if (notes) {
    if (chosen !== argBest) {
      notes.push(
        `k = ${chosen} chosen over k = ${argBest}: silhouette within nearTieTolerance ${tolerance} of the best`,
      );
    }
    const close = candidates.filter((c) => c.k !== chosen && c.silhouette >= best - NEAR_TIE_REPORT);
    if (close.length > 0) {
      const list = close.map((c) => `k = ${c.k} (${c.silhouette.toFixed(4)})`).join(', ');
      notes.push(`near tie: ${list} within ${NEAR_TIE_REPORT} of the best silhouette ${best.toFixed(4)}`);
    }
  }
  return chosen;
}

/**
 * The largest k whose segments are separated (separation < SEPARATION_THRESHOLD) and stable (stability >=
 * STABLE_THRESHOLD); failing that the highest silhouette among the stable k, failing that the most stable k.
 */
export function chooseBySeparation(candidates: readonly KCandidate[], notes?: string[]): number {
  const stable = candidates.filter((c) => (c.stability ?? 0) >= STABLE_THRESHOLD);
  const separated = stable.filter((c) => (c.separation ?? 1) < SEPARATION_THRESHOLD);
  if (separated.length > 0) {
    const chosen = separated[separated.length - 1];
    notes?.push(
      `k = ${chosen.k}: the largest k whose segments are separated by density valleys (worst ratio ${chosen.separation!.toFixed(2)} < ${SEPARATION_THRESHOLD}) and stable (${chosen.stability!.toFixed(2)} >= ${STABLE_THRESHOLD})`,
    );
    return chosen.k;
  }
  if (stable.length > 0) {
    let best = stable[0];
    for (const c of stable) if (c.silhouette > best.silhouette) best = c;
    notes?.push(
      `no k has segments separated by density valleys (a continuum): k = ${best.k} has the highest silhouette among the k with stability >= ${STABLE_THRESHOLD}`,
    );
    return best.k;
  }
  let best = candidates[0];
  for (const c of candidates) if ((c.stability ?? 0) > (best.stability ?? 0)) best = c;
  notes?.push(`no k reaches stability ${STABLE_THRESHOLD}: k = ${best.k} is the most stable`);
  return best.k;
}

/** Lowest BIC; exact ties to the smaller k. */
export function chooseByBic(candidates: readonly KCandidate[]): number {
  let best = Infinity;
  let arg = candidates[0].k;
  for (const c of candidates) {
    if (c.bic !== null && c.bic < best) {
      best = c.bic;
      arg = c.k;
    }
  }
  return arg;
}

function prefixRows(m: Matrix, rows: number): Matrix {
  return { rows, cols: m.cols, data: m.data.subarray(0, rows * m.cols) };
}

/** Silhouette of final all-row labels on the silhouette sample rows (mapped back through the fit sample). */
function silhouetteOfRows(
  distances: PairwiseDistances,
  labels: Int32Array,
  fitIdx: Int32Array,
  silPos: (r: number) => number,
  silCount: number,
  k: number,
): number {
  const sub = new Int32Array(silCount);
  for (let r = 0; r < silCount; r++) sub[r] = labels[fitIdx[silPos(r)]];
  return distances.silhouette(sub, k);
}
