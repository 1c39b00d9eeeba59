/**
 * The k search on four planted customer types (skewed money and count features, known group of every
 * customer): after log1p + standardize the chosen k is 4 and the labels match the planted groups
 * (adjusted Rand index >= 0.9), with and without the sampled path used at a million rows.
 */
import { describe, expect, it } from 'vitest';
import { adjustedRandIndex } from '../../../activities/segment/metrics';
import { chooseBySeparation, chooseBySilhouette, selectK } from '../../../activities/segment/selectK';
import type { KCandidate } from '../../../activities/segment/selectK';
import { fitTransform } from '../../../activities/segment/transform';
import { PLANTED_FEATURES, PLANTED_SKEWED, plantedCustomers } from './planted';

function transformed(seed: number) {
  const { matrix, truth } = plantedCustomers(seed);
  const { matrix: z } = fitTransform(matrix, { columnNames: [...PLANTED_FEATURES], log1p: PLANTED_SKEWED });
  return { z, truth };
}

describe('selectK on four planted customer types', () => {
  it('chooses k = 4 by silhouette and recovers the groups (ARI >= 0.9), every candidate scored', () => {
    const { z, truth } = transformed(42);
    const seg = selectK(z, { kMin: 2, kMax: 8, seed: 7 });
    expect(seg.k).toBe(4);
    expect(adjustedRandIndex(seg.labels, truth)).toBeGreaterThanOrEqual(0.9);
    expect(seg.candidates.map((c) => c.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    // Inertia falls with k (elbow data); the planted k is also best by Calinski-Harabasz and Davies-Bouldin.
    for (let i = 1; i < seg.candidates.length; i++) {
      expect(seg.candidates[i].inertia).toBeLessThan(seg.candidates[i - 1].inertia);
    }
    const byCh = [...seg.candidates].sort((a, b) => b.calinskiHarabasz - a.calinskiHarabasz)[0];
    const byDb = [...seg.candidates].sort((a, b) => a.daviesBouldin - b.daviesBouldin)[0];
    expect(byCh.k).toBe(4);
    expect(byDb.k).toBe(4);
    // Planted sizes 1200 / 900 / 600 / 300, canonical order largest first.
    expect(seg.sizes).toEqual([1200, 900, 600, 300]);
    expect(seg.silhouetteExact).toBe(true);
    expect(seg.silhouetteSampleSize).toBe(3000);
    expect(seg.final.silhouette).toBeCloseTo(seg.candidates[2].silhouette, 12);
  });

  it('holds on other planted draws', () => {
    for (const seed of [1, 2]) {
      const { z, truth } = transformed(seed);
      const seg = selectK(z, { kMin: 2, kMax: 6, seed: 3 });
      expect(seg.k).toBe(4);
      expect(adjustedRandIndex(seg.labels, truth)).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('sampled path (search on a sample, silhouette on a sub-sample, refinement on all rows) reports sizes', () => {
    const { z, truth } = transformed(42);
    const seg = selectK(z, { kMin: 2, kMax: 6, seed: 7, fitSampleSize: 1500, silhouetteSampleSize: 700 });
    expect(seg.k).toBe(4);
    expect(seg.fitSampleSize).toBe(1500);
    expect(seg.silhouetteSampleSize).toBe(700);
    expect(seg.silhouetteExact).toBe(false);
    expect(seg.labels.length).toBe(3000);
    expect(adjustedRandIndex(seg.labels, truth)).toBeGreaterThanOrEqual(0.9);
    expect(seg.notes.join(' ')).toMatch(/sample of 1500 of 3000 rows/);
  });

  it('Gaussian mixture alternative: silhouette criterion finds the 4 groups; BIC is reported per k', () => {
    const { z, truth } = transformed(42);
    const seg = selectK(z, { kMin: 2, kMax: 6, seed: 7, method: 'gmm', criterion: 'silhouette' });
    expect(seg.k).toBe(4);
    expect(adjustedRandIndex(seg.labels, truth)).toBeGreaterThanOrEqual(0.9);
    for (const c of seg.candidates) expect(Number.isFinite(c.bic)).toBe(true);
    expect(seg.mixture?.weights.length).toBe(4);
  });

  it('is deterministic under a seed', () => {
    const { z } = transformed(42);
    const a = selectK(z, { kMin: 2, kMax: 5, seed: 11, fitSampleSize: 2000, silhouetteSampleSize: 500 });
    const b = selectK(z, { kMin: 2, kMax: 5, seed: 11, fitSampleSize: 2000, silhouetteSampleSize: 500 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(Array.from(a.centroids.data)).toEqual(Array.from(b.centroids.data));
    expect(a.candidates).toEqual(b.candidates);
  });

  it('argmax by default with near ties named; with a tolerance the smallest tied k wins', () => {
    const cand = (k: number, silhouette: number): KCandidate => ({
      k,
      silhouette,
      inertia: 0,
      calinskiHarabasz: 0,
      daviesBouldin: 0,
      bic: null,
      stability: null,
      separation: null,
      sizes: [],
      iterations: 0,
      converged: true,
      message: '',
    });
    const cs = [cand(2, 0.3), cand(3, 0.404), cand(4, 0.406), cand(5, 0.2)];
    expect(chooseBySilhouette(cs, 0.005)).toBe(3);
    const notes: string[] = [];
    expect(chooseBySilhouette(cs, 0, notes)).toBe(4);
    expect(notes).toEqual(['near tie: k = 3 (0.4040) within 0.005 of the best silhouette 0.4060']);
    expect(chooseBySilhouette([cand(2, 0.5), cand(3, 0.5)], 0)).toBe(2);
  });

  it('rejects bad options with a message naming the option', () => {
    const { z } = transformed(42);
    expect(() => selectK(z, { kMin: 1, kMax: 4, seed: 1 })).toThrow(/kMin/);
    expect(() => selectK(z, { kMin: 4, kMax: 3, seed: 1 })).toThrow(/kMax/);
    expect(() => selectK(z, { seed: 1, criterion: 'bic' })).toThrow(/bic/);
  });
  it('separation: the largest separated and stable k; a continuum falls back to the silhouette', () => {
    const cand = (k: number, silhouette: number, stability: number, separation: number): KCandidate => ({
      k,
      silhouette,
      inertia: 0,
      calinskiHarabasz: 0,
      daviesBouldin: 0,
      bic: null,
      stability,
      separation,
      sizes: [],
      iterations: 0,
      converged: true,
      message: '',
    });
    // k = 4 is separated and stable; k = 3 has the best silhouette; k = 5 is stable but cuts a crowd.
    const notes: string[] = [];
    const groups = [
      cand(3, 0.5, 0.75, 0.02),
      cand(4, 0.45, 0.95, 0.1),
      cand(5, 0.4, 0.99, 0.9),
      cand(6, 0.3, 0.5, 0.1),
    ];
    expect(chooseBySeparation(groups, notes)).toBe(4);
    expect(notes[0]).toMatch(/k = 4: the largest k whose segments are separated/);
    // No valley anywhere: the best silhouette among the stable k.
    const continuum = [cand(3, 0.3, 0.9, 1), cand(4, 0.35, 0.6, 1), cand(5, 0.25, 0.8, 1)];
    expect(chooseBySeparation(continuum)).toBe(3);
    // Nothing stable: the most stable k.
    expect(chooseBySeparation([cand(3, 0.3, 0.5, 0.1), cand(4, 0.3, 0.6, 0.1)])).toBe(4);
  });
});
