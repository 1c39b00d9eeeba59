/**
 * Bootstrap stability of a k-means segmentation (Ben-Hur, Elisseeff and Guyon 2002; Lange, Roth, Braun and
 * Buhmann 2004): refit k-means on B random subsamples, label a common evaluation sample by each refit's
 * nearest centroid, and average the adjusted Rand index over all pairs of refits. A k whose partition is
 * real comes back nearly the same from every subsample (ARI near 1); a k that cuts a continuum in arbitrary
 * places does not. Runs on a seeded row sample (default 3,000 rows, subsamples of 80%), so its cost does not
 * grow with customers.
 */
import { Rng } from '../../lib/random';
import { fitKMeans, predictKMeans } from './kmeans';
import { deriveSeed, sampleIndices, takeRows } from './matrix';
import type { Matrix } from './matrix';
import { adjustedRandIndex } from './metrics';

export interface StabilityOptions {
  k: number;
  seed: number;
  /** Rows of the evaluation sample. Default 3,000. */
  sampleSize?: number;
  /** Refits. Default 8. */
  resamples?: number;
  /** Share of the evaluation sample each refit sees. Default 0.8. */
  fraction?: number;
  /** k-means restarts per refit. Default 2. */
  nInit?: number;
}

export interface StabilityResult {
  k: number;
  /** Mean pairwise ARI of the refits' labels on the evaluation sample. */
  stability: number;
  /** Smallest pairwise ARI. */
  minAri: number;
  resamples: number;
  sampleSize: number;
}

/** Mean pairwise adjusted Rand index of k-means refits on subsamples (see the module comment). */
export function bootstrapStability(m: Matrix, options: StabilityOptions): StabilityResult {
  const { k, seed } = options;
  const sampleSize = Math.min(options.sampleSize ?? 3000, m.rows);
  const resamples = options.resamples ?? 8;
  const fraction = options.fraction ?? 0.8;
  if (!(resamples >= 2)) throw new Error(`bootstrapStability: resamples must be >= 2 (got ${resamples})`);
  const rng = new Rng(deriveSeed(seed, 0x57ab));
  const evaluation = takeRows(m, sampleIndices(m.rows, sampleSize, rng));
  const subSize = Math.max(k + 1, Math.floor(sampleSize * fraction));
  if (subSize > sampleSize)
    throw new Error(`bootstrapStability: ${sampleSize} rows are too few for k = ${k}`);
  const labelings: Int32Array[] = [];
  for (let b = 0; b < resamples; b++) {
    const sub = takeRows(evaluation, sampleIndices(sampleSize, subSize, rng));
    const model = fitKMeans(sub, {
      k,
      seed: deriveSeed(seed, 0x5000 + b),
      nInit: options.nInit ?? 2,
      skipValidation: true,
    });
    labelings.push(predictKMeans(evaluation, model.centroids).labels);
  }
  let total = 0;
  let pairs = 0;
  let minAri = Infinity;
  for (let a = 0; a < resamples; a++) {
    for (let b = a + 1; b < resamples; b++) {
      const ari = adjustedRandIndex(labelings[a], labelings[b]);
      total += ari;
      pairs++;
      minAri = Math.min(minAri, ari);
    }
  }
  return { k, stability: total / pairs, minAri, resamples, sampleSize };
}
