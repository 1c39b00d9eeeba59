/** Decision rules (rules.ts): planted threshold labels are recovered exactly; thresholds read well. */
import { describe, expect, it } from 'vitest';
import {
  fitRuleTree,
  roundThreshold,
  ruleOf,
  ruleText,
  simplifyConditions,
} from '../../../activities/segment/rules';
import { Rng } from '../../../lib/random';

describe('decision rules', () => {
  it('recovers planted rules "orders >= 3 and basket < 12" with fidelity 1', () => {
    const rng = new Rng(3);
    const n = 2000;
    const orders = new Float64Array(n);
    const basket = new Float64Array(n);
    const noise = new Float64Array(n);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      orders[i] = 1 + rng.int(8);
      basket[i] = 1 + rng.int(30);
      noise[i] = rng.uniform();
      labels[i] = orders[i] >= 3 ? (basket[i] < 12 ? 1 : 2) : 0;
    }
    const tree = fitRuleTree({ orders, basket, noise }, ['orders', 'basket', 'noise'], labels, 3, {
      maxDepth: 2,
    });
    expect(tree.fidelity).toBe(1);
    expect(tree.rules.map((r) => ruleText(r.conditions))).toEqual([
      'orders < 3',
      'orders >= 3 and basket < 12',
      'orders >= 3 and basket >= 12',
    ]);
    expect(tree.rules.map((r) => r.segment)).toEqual([0, 1, 2]);
    expect(ruleOf(tree.rules, (f) => ({ orders: 5, basket: 4, noise: 0 })[f]!)?.segment).toBe(1);
    for (let i = 0; i < n; i++) expect(tree.rules[tree.leafOf[i]].segment).toBe(labels[i]);
  });

  it('stops at pure nodes and at the depth cap, and refuses depth > 4', () => {
    const x = Float64Array.from([1, 2, 3, 4]);
    const pure = fitRuleTree({ x }, ['x'], Int32Array.from([0, 0, 0, 0]), 1, { minLeaf: 1 });
    expect(pure.rules).toHaveLength(1);
    expect(ruleText(pure.rules[0].conditions)).toBe('everyone');
    expect(() => fitRuleTree({ x }, ['x'], Int32Array.from([0, 1, 0, 1]), 2, { maxDepth: 5 })).toThrow(
      /1\.\.4/,
    );
  });

  it('puts thresholds on short decimals strictly between neighbours', () => {
    expect(roundThreshold(2, 3)).toBe(3);
    expect(roundThreshold(11.2, 11.9)).toBe(11.6);
    expect(roundThreshold(0.123, 0.124)).toBeGreaterThan(0.123);
    expect(roundThreshold(0.123, 0.124)).toBeLessThanOrEqual(0.124);
  });
  it('merges sibling leaves of one segment and keeps one bound per feature and side', () => {
    // Segment 1 is x >= 50 whatever y; a depth-3 tree that splits the x >= 50 side on y gains nothing
    // for the rules: it must come back as one rule. The x < 50 side needs two cuts on x.
    const n = 1000;
    const rng = new Rng(5);
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = rng.int(100);
      y[i] = rng.int(100);
      // A little label noise on the right makes a y split lower Gini without changing the majority.
      labels[i] = x[i] >= 50 ? (y[i] < 10 && rng.uniform() < 0.25 ? 0 : 1) : x[i] < 20 ? 2 : 0;
    }
    const tree = fitRuleTree({ x, y }, ['x', 'y'], labels, 3, { maxDepth: 3, minLeaf: 20 });
    const texts = tree.rules.map((r) => `${ruleText(r.conditions)} -> ${r.segment}`);
    expect(texts).toContain('x >= 50 -> 1');
    // No two rules with the same parent name the same segment, and no feature bound twice on a side.
    for (const r of tree.rules) {
      const sides = r.conditions.map((c) => `${c.feature}${c.op}`);
      expect(new Set(sides).size).toBe(sides.length);
    }
    for (let i = 0; i < n; i++) expect(tree.rules[tree.leafOf[i]].id).toBe(tree.leafOf[i]);
    expect(
      simplifyConditions([
        { feature: 'a', op: '<', threshold: 460 },
        { feature: 'a', op: '<', threshold: 179 },
        { feature: 'b', op: '>=', threshold: 2 },
        { feature: 'a', op: '>=', threshold: 5 },
      ]),
    ).toEqual([
      { feature: 'a', op: '<', threshold: 179 },
      { feature: 'b', op: '>=', threshold: 2 },
      { feature: 'a', op: '>=', threshold: 5 },
    ]);
  });
});
