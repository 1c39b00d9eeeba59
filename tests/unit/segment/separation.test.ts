import { describe, expect, it } from 'vitest';
import { fitKMeans } from '../../../activities/segment/kmeans';
import { fromRows } from '../../../activities/segment/matrix';
import { SEPARATION_THRESHOLD } from '../../../activities/segment/selectK';
import { separationOf } from '../../../activities/segment/separation';
import { Rng } from '../../../lib/random';

/** n rows of two columns drawn by `draw`. */
function rows(n: number, draw: (rng: Rng, i: number) => [number, number], seed = 3): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => draw(rng, i));
}

describe('separation: density valleys between segments', () => {
  it('finds a deep valley between two separated groups and none inside one skewed blob', () => {
    // Two groups 4 sd apart (70/30): k-means splits them at the gap.
    const groups = fromRows(rows(2000, (rng, i) => [rng.normal() + (i < 1400 ? 0 : 4), rng.normal()]));
    const two = fitKMeans(groups, { k: 2, seed: 1 });
    expect(separationOf(groups, two.labels, two.centroids, 2)).toBeLessThan(SEPARATION_THRESHOLD);
    // One log-normal blob: k-means still cuts it, reproducibly, but through its crowd.
    const blob = fromRows(rows(2000, (rng) => [Math.exp(0.6 * rng.normal()), rng.normal()]));
    const cut = fitKMeans(blob, { k: 2, seed: 1 });
    expect(separationOf(blob, cut.labels, cut.centroids, 2)).toBeGreaterThan(0.7);
  });

  it('reports the worst pair: three groups cut into four fail, cut into three pass', () => {
    const m = fromRows(rows(3000, (rng, i) => [rng.normal() + 5 * (i % 3), rng.normal()]));
    const three = fitKMeans(m, { k: 3, seed: 2 });
    const four = fitKMeans(m, { k: 4, seed: 2 });
    expect(separationOf(m, three.labels, three.centroids, 3)).toBeLessThan(0.2);
    expect(separationOf(m, four.labels, four.centroids, 4)).toBeGreaterThan(0.7);
  });
});
