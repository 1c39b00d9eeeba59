import { describe, expect, it } from 'vitest';
import { corroborateBlocks } from '../../../activities/segment/corroboration';
import { fromRows } from '../../../activities/segment/matrix';
import { Rng } from '../../../lib/random';

describe('corroboration: block weights from agreement between blocks', () => {
  // Three groups show in block "basket" (1 column) and block "mix" (2 columns); block "price" is one
  // skewed blob with no groups; the witness "rhythm" is noise too.
  const rng = new Rng(11);
  const n = 1500;
  const data: number[][] = [];
  const witness: number[][] = [];
  for (let i = 0; i < n; i++) {
    const g = i % 3;
    data.push([
      3 * g + rng.normal(),
      Math.log(1 + rng.gamma(2, 1)),
      (g === 1 ? 3 : 0) + rng.normal(),
      (g === 2 ? 3 : 0) + rng.normal(),
    ]);
    witness.push([rng.normal()]);
  }
  const dims = ['basket', 'price', 'mix', 'mix'];

  it('weighs the blocks that share a grouping fully and the blob hardly at all', () => {
    const blocks = corroborateBlocks(
      fromRows(data),
      dims,
      { matrix: fromRows(witness), dimensions: ['rhythm'] },
      { seed: 1 },
    );
    const by = new Map(blocks.map((b) => [b.dimension, b]));
    expect(by.get('basket')!.corroboration).toBeGreaterThan(0.4);
    expect(by.get('mix')!.corroboration).toBeGreaterThan(0.4);
    expect(by.get('price')!.corroboration).toBeLessThan(0.1);
    expect(Math.max(by.get('basket')!.weight!, by.get('mix')!.weight!)).toBe(1);
    expect(by.get('price')!.weight!).toBeLessThan(0.05);
    expect(by.get('rhythm')).toMatchObject({ clustered: false, weight: null });
    expect(by.get('mix')!.columns).toEqual([2, 3]);
  });

  it('is deterministic under a seed and weighs a lone block fully', () => {
    const m = fromRows(data);
    expect(corroborateBlocks(m, dims, null, { seed: 4 })).toEqual(
      corroborateBlocks(m, dims, null, { seed: 4 }),
    );
    const alone = corroborateBlocks(m, ['basket', 'basket', 'basket', 'basket'], null, { seed: 4 });
    expect(alone).toHaveLength(1);
    expect(alone[0]).toMatchObject({ corroboration: 0, weight: 1, witness: null });
  });
});
