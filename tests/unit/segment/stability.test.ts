/** Bootstrap stability (stability.ts): separated groups at their k are stable; a single blob cut in five is not. */
import { describe, expect, it } from 'vitest';
import { zeros } from '../../../activities/segment/matrix';
import { bootstrapStability } from '../../../activities/segment/stability';
import { Rng } from '../../../lib/random';

function blobs(centres: number[][], perBlob: number, seed: number) {
  const rng = new Rng(seed);
  const d = centres[0].length;
  const m = zeros(centres.length * perBlob, d);
  centres.forEach((c, g) => {
    for (let r = 0; r < perBlob; r++)
      for (let j = 0; j < d; j++) m.data[(g * perBlob + r) * d + j] = c[j] + rng.normal();
  });
  return m;
}

describe('bootstrap stability', () => {
  it('is near 1 for three separated groups at k = 3', () => {
    const m = blobs(
      [
        [0, 0],
        [8, 0],
        [0, 8],
      ],
      500,
      1,
    );
    const s = bootstrapStability(m, { k: 3, seed: 7 });
    expect(s.stability).toBeGreaterThan(0.97);
    expect(s.sampleSize).toBe(1500);
  });

  it('is lower when k cuts one Gaussian blob into five', () => {
    const m = blobs([[0, 0, 0, 0]], 1500, 2);
    const s = bootstrapStability(m, { k: 5, seed: 7 });
    expect(s.stability).toBeLessThan(0.8);
    expect(s.minAri).toBeLessThanOrEqual(s.stability);
  });
});
