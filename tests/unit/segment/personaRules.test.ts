/**
 * Persona rules as data (issue 14): planted customer groups whose basket size, category breadth or browsing
 * sets them apart get the new default personas ("Bulk buyers", "Category explorers", "Window shoppers"),
 * the ordinary group keeps its old name; a dataset config can rename personas or replace the rules, and a
 * bad rule is a ConfigError naming the key.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PERSONA_RULES } from '../../../lib/stageConfig/segmentPersonas';
import { describePersonas, profileSegments, type PersonaColumns } from '../../../activities/segment/personas';
import { parseRunConfig } from '../../../lib/config';
import { ConfigError } from '../../../lib/errors';
import { Rng } from '../../../lib/random';

const GROUP_SIZE = 400;

/** Planted groups: the same ordinary habits, each special group far out on one behaviour only. */
const GROUPS = [
  { name: 'ordinary', items: 8, categories: 3, browseOnly: 0.3 },
  { name: 'ordinary too', items: 8, categories: 3, browseOnly: 0.3 },
  { name: 'bulk', items: 80, categories: 3, browseOnly: 0.3 },
  { name: 'explorers', items: 8, categories: 14, browseOnly: 0.3 },
  { name: 'window', items: 8, categories: 3, browseOnly: 0.85 },
] as const;

function plantedColumns(seed: number): { columns: Required<PersonaColumns>; labels: Int32Array } {
  const rng = new Rng(seed);
  const n = GROUPS.length * GROUP_SIZE;
  const col = (): Float64Array => new Float64Array(n);
  const c = {
    recencyDays: col(),
    frequency: col(),
    monetaryTotal: col(),
    avgOrderValue: col(),
    tenureDays: col(),
    returnRate: col(),
    spendTrend: col(),
    discountShare: col(),
    distinctCategories: col(),
    itemsPerOrder: col(),
    browseOnlyShare: col(),
  };
  const labels = new Int32Array(n);
  GROUPS.forEach((g, group) => {
    for (let r = 0; r < GROUP_SIZE; r++) {
      const i = group * GROUP_SIZE + r;
      labels[i] = group;
      const orders = 3 + rng.poisson(2);
      // Bulk buyers buy many cheap units: their order value stays ordinary (unit price 1/10).
      const orderValue = 60 * Math.exp(rng.normal(0, 0.3));
      c.recencyDays[i] = 20 + rng.exponential(1 / 30);
      c.frequency[i] = orders;
      c.avgOrderValue[i] = orderValue;
      c.monetaryTotal[i] = orders * orderValue;
      c.tenureDays[i] = 300 + rng.exponential(1 / 300);
      c.returnRate[i] = rng.beta(1, 40);
      c.spendTrend[i] = rng.normal(0, 0.1);
      c.discountShare[i] = rng.beta(2, 8);
      c.distinctCategories[i] = Math.max(1, Math.round(g.categories * Math.exp(rng.normal(0, 0.15))));
      c.itemsPerOrder[i] = g.items * Math.exp(rng.normal(0, 0.2));
      c.browseOnlyShare[i] = Math.min(1, Math.max(0, g.browseOnly + rng.normal(0, 0.05)));
    }
  });
  return { columns: c, labels };
}

describe('default persona rules on planted basket, breadth and browsing groups', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: each new persona names its planted group; the ordinary groups keep theirs`, () => {
      const { columns, labels } = plantedColumns(seed);
      const { segments, population } = profileSegments(columns, labels, GROUPS.length);
      const personas = describePersonas(segments, population);
      expect(personas.map((p) => p.baseName)).toEqual([
        'Steady regulars',
        'Steady regulars',
        'Bulk buyers',
        'Category explorers',
        'Window shoppers',
      ]);
      expect(personas[2].traits.basketSize).toBe('high');
      expect(personas[3].traits.categoryBreadth).toBe('high');
      expect(personas[4].traits.browsing).toBe('high');
      for (const p of personas) expect(p.actions.length).toBeGreaterThan(0);
    });
  }

  it('leaves the new rules unmatched when the features are missing (older tables)', () => {
    const { columns, labels } = plantedColumns(1);
    const { itemsPerOrder, browseOnlyShare, distinctCategories, ...older } = columns;
    expect(itemsPerOrder.length + browseOnlyShare.length + distinctCategories.length).toBeGreaterThan(0);
    const { segments, population } = profileSegments(older, labels, GROUPS.length);
    const names = describePersonas(segments, population).map((p) => p.baseName);
    expect(new Set(names)).toEqual(new Set(['Steady regulars']));
  });
});

describe('persona rules in the dataset config', () => {
  const { columns, labels } = plantedColumns(1);
  const { segments, population } = profileSegments(columns, labels, GROUPS.length);

  it('renames personas and replaces the rules', () => {
    const renamed = parseRunConfig({
      segment: { personas: { names: { 'Bulk buyers': 'Trade accounts' } } },
    }).segment.personas;
    expect(describePersonas(segments, population, renamed)[2].name).toBe('Trade accounts');
    const own = parseRunConfig({
      segment: {
        personas: {
          rules: [
            { name: 'Browsers', when: { browsing: 'high' }, actions: ['Send the browse-abandonment series'] },
            { name: 'Everyone else', when: {} },
          ],
        },
      },
    }).segment.personas;
    const personas = describePersonas(segments, population, own);
    expect(personas.map((p) => p.baseName)).toEqual([
      'Everyone else',
      'Everyone else',
      'Everyone else',
      'Everyone else',
      'Browsers',
    ]);
    expect(personas[4].actions).toEqual(['Send the browse-abandonment series']);
  });

  it('refuses a bad rule with an error naming the key', () => {
    const bad =
      (personas: unknown): (() => unknown) =>
      () =>
        parseRunConfig({ segment: { personas } });
    expect(bad({ rules: [{ name: 'X', when: { basket: 'high' } }] })).toThrow(ConfigError);
    expect(bad({ rules: [{ name: 'X', when: { basket: 'high' } }] })).toThrow(
      /segment\.personas\.rules\.0\.when/,
    );
    expect(bad({ rules: [{ name: 'X', when: { browsing: 'very high' } }] })).toThrow(/browsing/);
    expect(bad({ rules: [{ name: 'Only', when: { browsing: 'high' } }] })).toThrow(
      /segment\.personas\.rules\.0.*last persona rule/,
    );
    expect(bad({ names: { 'Big spenders': 'VIP' } })).toThrow(
      /segment\.personas\.names\.Big spenders.*no persona rule/,
    );
  });

  it('keeps the eleven original rules in their order around the three new ones', () => {
    const names = DEFAULT_PERSONA_RULES.map((r) => r.name);
    expect(names[0]).toBe('High-value loyal');
    expect(names.at(-1)).toBe('Occasional shoppers');
    expect(names).toHaveLength(14);
  });
});
