import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import { histogramBins } from '../../../activities/report/summaries';

describe('histogramBins', () => {
  it('splits evenly spread values into equal counts', () => {
    const values = Array.from({ length: 100 }, (_, i) => i);
    const { edges, counts } = histogramBins(values, { bins: 10, tailQuantile: 1 });
    expect(counts).toEqual(new Array(10).fill(10));
    expect(edges[0]).toBe(0);
    expect(edges[10]).toBe(99);
    expect(edges[1]).toBeCloseTo(9.9, 12);
  });

  it('keeps a planted heavy tail in one last bin', () => {
    const rng = new Rng(7);
    const values = [
      ...Array.from({ length: 990 }, () => rng.uniform() * 100),
      ...new Array<number>(10).fill(10_000),
      Number.NaN,
    ];
    const { edges, counts } = histogramBins(values, { bins: 20, tailQuantile: 0.99 });
    expect(counts).toHaveLength(20);
    expect(edges).toHaveLength(21);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(counts[19]).toBe(10);
    expect(edges[20]).toBe(10_000);
    // The regular bins cover the body: about 990 / 19 = 52 values each where they lie inside [0, 100).
    expect(edges[19]).toBeLessThan(250);
  });

  it('handles constant, empty and invalid input', () => {
    const constant = histogramBins([5, 5, 5], { bins: 4 });
    expect(constant).toEqual({ edges: [0, 1.25, 2.5, 3.75, 5], counts: [0, 0, 0, 3] });
    expect(histogramBins([-2, -2])).toEqual({ edges: [-2, 0], counts: [2] });
    expect(histogramBins([0, 0])).toEqual({ edges: [0, 1], counts: [2] });
    expect(histogramBins([])).toEqual({ edges: [], counts: [] });
    expect(() => histogramBins([1], { bins: 0 })).toThrow(
      'histogramBins: bins must be a positive integer (got 0)',
    );
  });
});
