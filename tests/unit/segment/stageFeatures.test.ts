/**
 * The segment stage's feature choice and weighting (clusterFeatures.ts), checked by hand-computed values
 * and planted data.
 */
import { describe, expect, it } from 'vitest';
import { FEATURE_DICTIONARY } from '../../../activities/features/dictionary';
import {
  DEFAULT_DIMENSIONS,
  FEATURE_DIMENSIONS,
  dimensionOf,
  dimensionWeights,
  distanceToCentroid,
  observationCountOf,
  resolveClusterFeatures,
  scaleColumns,
  shrinkToPopulation,
  summarizeSegments,
} from '../../../activities/segment/clusterFeatures';
import { fromColumns, fromRows } from '../../../activities/segment/matrix';
import { selectK } from '../../../activities/segment/selectK';
import { fitTransform } from '../../../activities/segment/transform';
import { ConfigError } from '../../../lib/errors';
import { Rng } from '../../../lib/random';

const DICTIONARY = FEATURE_DICTIONARY.map((f) => f.name);

describe('feature dimensions', () => {
  it('names a dimension for every dictionary feature and nothing else', () => {
    expect(Object.keys(FEATURE_DIMENSIONS).sort()).toEqual([...DICTIONARY].sort());
    expect(dimensionOf('category_share_home')).toBe('category mix');
    expect(dimensionOf('shoe_size')).toBe('shoe_size');
  });

  it('clusters by default on the behavioural axis, in table order, category shares included', () => {
    const available = [...DICTIONARY, 'category_share_home', 'category_share_toys'];
    const chosen = resolveClusterFeatures(available);
    expect(chosen).toEqual(available.filter((f) => chosen.includes(f)));
    for (const f of [
      'monetary_mean_order',
      'avg_unit_price',
      'items_per_order',
      'spend_share_sat',
      'view_to_cart_rate',
    ])
      expect(chosen).toContain(f);
    // The value axis (RFM, tenure), breadth that grows with orders, returns and lifecycle stay out.
    for (const f of [
      'frequency_orders',
      'monetary_total',
      'recency_days',
      'tenure_days',
      'distinct_products',
      'return_rate',
      'spend_share_winter',
      'spend_trend',
    ])
      expect(chosen).not.toContain(f);
    expect(chosen.slice(-2)).toEqual(['category_share_home', 'category_share_toys']);
    expect(new Set(chosen.map(dimensionOf))).toEqual(new Set(DEFAULT_DIMENSIONS));
    // Without events or categories the default shrinks to what the table has.
    const noEvents = FEATURE_DICTIONARY.filter((f) => !f.requiresEvents).map((f) => f.name);
    expect(resolveClusterFeatures(noEvents).every((f) => noEvents.includes(f))).toBe(true);
  });

  it('takes configured features in table order and names unknown ones', () => {
    expect(resolveClusterFeatures(['a', 'b', 'c'], ['c', 'a'])).toEqual(['a', 'c']);
    expect(() => resolveClusterFeatures(['a', 'b'], ['b', 'x', 'y'])).toThrow(ConfigError);
    expect(() => resolveClusterFeatures(['a', 'b'], ['b', 'x', 'y'])).toThrow(/unknown feature\(s\) x, y/);
    expect(() => resolveClusterFeatures(['a', 'b'])).toThrow(ConfigError);
  });

  it('weights each column 1/sqrt(columns of its dimension)', () => {
    const w = dimensionWeights([
      'frequency_orders',
      'active_months',
      'orders_per_month',
      'orders_per_active_month',
      'avg_unit_price',
      'category_share_a',
      'category_share_b',
    ]);
    const expected = [0.5, 0.5, 0.5, 0.5, 1, Math.SQRT1_2, Math.SQRT1_2];
    expected.forEach((x, j) => expect(w[j]).toBeCloseTo(x, 15));
    expect(w).toHaveLength(expected.length);
    const m = fromRows([
      [1, 2],
      [3, 4],
    ]);
    scaleColumns(m, [2, 0.5]);
    expect(Array.from(m.data)).toEqual([2, 1, 6, 2]);
  });

  it('lets a dimension measured by many redundant columns count once (planted groups)', () => {
    // Four planted groups: a 2 x 2 design of one 'rhythm' feature measured by six noisy copies and one
    // 'price' feature. Unweighted, the six copies make rhythm dominate and silhouette picks k = 2; each
    // dimension weighted once, the four groups are the best silhouette.
    const rng = new Rng(11);
    const n = 800;
    const rhythmNames = [
      'frequency_orders',
      'active_months',
      'orders_per_month',
      'orders_per_active_month',
      'ipt_mean_days',
      'ipt_std_days',
    ];
    const names = [...rhythmNames, 'avg_unit_price'];
    const columns = names.map(() => new Float64Array(n));
    const truth = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const g = i % 4;
      truth[i] = g;
      const rhythm = g < 2 ? 0 : 4;
      rhythmNames.forEach((_, j) => (columns[j][i] = rhythm + rng.normal(0, 0.8)));
      columns[6][i] = (g % 2 === 0 ? 0 : 3) + rng.normal(0, 0.35);
    }
    const fit = (weighted: boolean): number => {
      const { matrix } = fitTransform(fromColumns(columns), { columnNames: names, standardize: true });
      if (weighted) scaleColumns(matrix, dimensionWeights(names));
      return selectK(matrix, { kMin: 2, kMax: 6, seed: 5, nInit: 3 }).k;
    };
    expect(fit(false)).toBe(2);
    expect(fit(true)).toBe(4);
  });
});

describe('segment summaries', () => {
  it('measures the distance of each row to its own centroid', () => {
    const m = fromRows([
      [3, 4],
      [0, 0],
      [1, 1],
    ]);
    const centroids = fromRows([
      [0, 0],
      [1, 2],
    ]);
    expect(Array.from(distanceToCentroid(m, Int32Array.from([0, 0, 1]), centroids))).toEqual([5, 0, 1]);
    expect(() => distanceToCentroid(m, Int32Array.from([0, 2, 1]), centroids)).toThrow(/label of row 1/);
  });

  it('gives per-segment means and medians and population medians in original units', () => {
    const labels = Int32Array.from([0, 1, 0, 1, 0, 1, 1]);
    const x = Float64Array.from([1, 10, 2, 20, 6, 30, 40]);
    const s = summarizeSegments({ x }, ['x'], labels, 2);
    expect(s.mean).toEqual([{ x: 3 }, { x: 25 }]);
    expect(s.median).toEqual([{ x: 2 }, { x: 25 }]);
    expect(s.populationMedian).toEqual({ x: 10 });
    // The input column is not reordered by the medians.
    expect(Array.from(x)).toEqual([1, 10, 2, 20, 6, 30, 40]);
    expect(() => summarizeSegments({ x }, ['x'], labels, 1)).toThrow(/label of row 1/);
  });
  it('shrinks shares measured on few orders or sessions towards the population', () => {
    // Population mean 0.5; one order moves half way, nine orders a tenth of the way.
    const shrunk = shrinkToPopulation([1, 0, 1, 0], [1, 1, 9, 9]);
    expect(Array.from(shrunk)).toEqual([0.75, 0.25, 0.95, 0.05]);
    expect(observationCountOf('spend_share_mon')).toBe('frequency_orders');
    expect(observationCountOf('cart_completion_rate')).toBe('sessions');
    expect(observationCountOf('items_per_order')).toBeNull();
  });
});
