/**
 * Whether a partition's segments are separated by a valley of customer density or cut through a crowd.
 *
 * For every pair of segments (a, b), their customers are projected on the line through the two centres
 * (a at 0, b at 1) and the density of the projection is estimated by a Gaussian kernel (bandwidth by
 * Silverman's rule on the pooled within-segment spread, so the gap between the two does not widen it).
 * The pair's valley ratio is the lowest density between the two peaks over the lower peak: near 0 when a
 * gap separates them, near 1 when the boundary runs through a continuum (k-means will cut a single skewed
 * blob into reproducible slices, which bootstrap stability alone does not catch). A partition's
 * separation is its worst pair's ratio. The idea is that of the dip-based cluster checks (Hartigan and
 * Hartigan 1985 on unimodality; Kalogeratos and Likas 2012, dip-means), with a kernel valley in place of
 * the dip statistic.
 */
import type { Matrix } from './matrix';

/** Grid points between and around the two centres. */
const GRID = 41;

/** Worst (largest) valley ratio over all segment pairs; 1 when some pair has no valley. */
export function separationOf(m: Matrix, labels: ArrayLike<number>, centroids: Matrix, k: number): number {
  const { rows, cols, data } = m;
  if (centroids.cols !== cols || centroids.rows < k) {
    throw new Error(
      `separationOf: ${centroids.rows} x ${centroids.cols} centroids for k = ${k}, ${cols} columns`,
    );
  }
  if (labels.length !== rows) throw new Error(`separationOf: ${labels.length} labels for ${rows} rows`);
  const c = centroids.data;
  const projected = new Float64Array(rows);
  const density = new Float64Array(GRID);
  let worst = 0;
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      let axisSq = 0;
      for (let j = 0; j < cols; j++) axisSq += (c[b * cols + j] - c[a * cols + j]) ** 2;
      if (!(axisSq > 0)) return 1;
      let n = 0;
      const sum = [0, 0];
      const sumSq = [0, 0];
      const count = [0, 0];
      for (let i = 0; i < rows; i++) {
        const label = labels[i];
        if (label !== a && label !== b) continue;
        let t = 0;
        for (let j = 0; j < cols; j++)
          t += (data[i * cols + j] - c[a * cols + j]) * (c[b * cols + j] - c[a * cols + j]);
        t /= axisSq;
        const s = label === a ? 0 : 1;
        projected[n] = t;
        sum[s] += t;
        sumSq[s] += t * t;
        count[s]++;
        n++;
      }
      if (count[0] < 2 || count[1] < 2) return 1;
      const within = (sumSq[0] - (sum[0] * sum[0]) / count[0] + sumSq[1] - (sum[1] * sum[1]) / count[1]) / n;
      const bandwidth = 0.9 * Math.sqrt(Math.max(within, 1e-12)) * Math.pow(n, -0.2);
      const inv = 1 / bandwidth;
      density.fill(0);
      for (let r = 0; r < n; r++) {
        const t = projected[r];
        // Points more than 5 bandwidths from the grid add nothing measurable.
        for (let g = 0; g < GRID; g++) {
          const z = (t - g / (GRID - 1)) * inv;
          if (z > -5 && z < 5) density[g] += Math.exp(-0.5 * z * z);
        }
      }
      const half = (GRID - 1) / 2;
      let peakA = 0;
      let atA = 0;
      for (let g = 0; g <= half; g++) if (density[g] > peakA) [peakA, atA] = [density[g], g];
      let peakB = 0;
      let atB = GRID - 1;
      for (let g = GRID - 1; g >= half; g--) if (density[g] > peakB) [peakB, atB] = [density[g], g];
      let valley = Infinity;
      for (let g = atA; g <= atB; g++) valley = Math.min(valley, density[g]);
      const lower = Math.min(peakA, peakB);
      const ratio = lower > 0 ? Math.min(1, valley / lower) : 1;
      if (ratio > worst) worst = ratio;
    }
  }
  return worst;
}
