/**
 * Association rules mined in DuckDB against a direct computation: every itemset of up to three items counted
 * by looping over small seeded baskets, every rule's support, confidence and lift derived from those counts
 * and filtered with the same thresholds. The mined set must equal the direct set, figure for figure. Then the
 * per-persona attachment rate and bundles against the same kind of direct count.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Duck } from '../../../lib/duck';
import { Rng } from '../../../lib/random';
import {
  attachmentRates,
  createRulesTable,
  mineLevel,
  personaBundles,
  RULES_TABLE,
  type RuleThresholds,
} from '../../../activities/recommend/rules';

type Rule = {
  antecedent: number[];
  consequent: number;
  orders: number;
  support: number;
  confidence: number;
  lift: number;
};

/** Seeded baskets over `items` items with planted pairs (0,1) and (2,3,4) so that some rules are strong. */
function makeBaskets(seed: number, orders: number, items: number): number[][] {
  const rng = new Rng(seed);
  const baskets: number[][] = [];
  for (let o = 0; o < orders; o++) {
    const basket = new Set<number>();
    if (rng.uniform() < 0.3) [0, 1].forEach((i) => basket.add(i));
    if (rng.uniform() < 0.2) [2, 3, 4].forEach((i) => basket.add(i));
    const extra = 1 + rng.int(3);
    for (let k = 0; k < extra; k++) basket.add(rng.int(items));
    baskets.push([...basket].sort((a, b) => a - b));
  }
  return baskets;
}

/** Every rule the definitions give, by direct counting (the oracle). */
function directRules(baskets: number[][], t: RuleThresholds): Rule[] {
  const n = baskets.length;
  const count = new Map<string, number>();
  const key = (set: number[]): string => set.join(',');
  for (const b of baskets) {
    for (let i = 0; i < b.length; i++) {
      count.set(key([b[i]]), (count.get(key([b[i]])) ?? 0) + 1);
      for (let j = i + 1; j < b.length; j++) {
        count.set(key([b[i], b[j]]), (count.get(key([b[i], b[j]])) ?? 0) + 1);
        for (let k = j + 1; k < b.length; k++) {
          const triple = key([b[i], b[j], b[k]]);
          count.set(triple, (count.get(triple) ?? 0) + 1);
        }
      }
    }
  }
  const minCount = Math.max(t.minOrders, Math.ceil(t.minSupport * n));
  const rules: Rule[] = [];
  for (const [itemset, c] of count) {
    const items = itemset.split(',').map(Number);
    if (items.length < 2 || c < minCount) continue;
    for (const consequent of items) {
      const antecedent = items.filter((i) => i !== consequent);
      const confidence = c / count.get(key(antecedent))!;
      const lift = confidence / (count.get(key([consequent]))! / n);
      if (confidence >= t.minConfidence && lift >= t.minLift) {
        rules.push({ antecedent, consequent, orders: c, support: c / n, confidence, lift });
      }
    }
  }
  return rules;
}

async function loadBaskets(duck: Duck, baskets: number[][], table = 'rec_basket'): Promise<void> {
  await duck.run(`CREATE OR REPLACE TABLE ${table} (ord INTEGER, item INTEGER)`);
  const values = baskets.flatMap((b, o) => b.map((i) => `(${o}, ${i})`));
  await duck.run(`INSERT INTO ${table} VALUES ${values.join(', ')}`);
}

const sortRules = (rules: Rule[]): Rule[] =>
  [...rules].sort((a, b) =>
    `${a.antecedent.join(',')}>${a.consequent}`.localeCompare(`${b.antecedent.join(',')}>${b.consequent}`),
  );

let duck: Duck;
beforeEach(async () => {
  duck = await Duck.open({ threads: 1 });
});
afterEach(() => duck.close());

describe('association rules against a direct count', () => {
  const thresholds: RuleThresholds = {
    minSupport: 0.03,
    minOrders: 4,
    minConfidence: 0.15,
    minLift: 1.1,
    maxItemsetSize: 3,
  };

  it.each([1, 2, 3])('mines exactly the direct rules (seed %i)', async (seed) => {
    const baskets = makeBaskets(seed, 400, 12);
    await loadBaskets(duck, baskets);
    await createRulesTable(duck);
    const summary = await mineLevel(duck, { basketTable: 'rec_basket', level: 'product', thresholds });
    const mined = await duck.all<Rule & { size: number }>(
      `SELECT antecedent, consequent, orders, support, confidence, lift, size FROM ${RULES_TABLE}`,
    );
    const expected = sortRules(directRules(baskets, thresholds));
    expect(expected.length).toBeGreaterThan(5);
    expect(expected.some((r) => r.antecedent.length === 2)).toBe(true);
    expect(summary.rules).toBe(expected.length);
    const got = sortRules(mined.map(({ size: _size, ...r }) => r));
    expect(got.map((r) => [r.antecedent, r.consequent, r.orders])).toEqual(
      expected.map((r) => [r.antecedent, r.consequent, r.orders]),
    );
    got.forEach((r, i) => {
      expect(r.support).toBeCloseTo(expected[i].support, 12);
      expect(r.confidence).toBeCloseTo(expected[i].confidence, 12);
      expect(r.lift).toBeCloseTo(expected[i].lift, 10);
    });
    // The planted triple comes back as rules of size 3 with high lift.
    expect(got.some((r) => r.antecedent.join(',') === '2,3' && r.consequent === 4 && r.lift > 2)).toBe(true);
  });

  it('works the figures of a hand-sized example', async () => {
    // 5 orders: {a,b} x3, {a,c}, {b}. a=0, b=1, c=2. n(a)=4, n(b)=4, n(ab)=3.
    await loadBaskets(duck, [[0, 1], [0, 1], [0, 1], [0, 2], [1]]);
    await createRulesTable(duck);
    await mineLevel(duck, {
      basketTable: 'rec_basket',
      level: 'product',
      thresholds: { minSupport: 0.1, minOrders: 1, minConfidence: 0, minLift: 0, maxItemsetSize: 2 },
    });
    const ab = await duck.one<Rule>(`SELECT * FROM ${RULES_TABLE} WHERE antecedent = [0] AND consequent = 1`);
    expect(ab.support).toBeCloseTo(3 / 5, 15);
    expect(ab.confidence).toBeCloseTo(3 / 4, 15);
    expect(ab.lift).toBeCloseTo(3 / 4 / (4 / 5), 15);
    const ac = await duck.one<Rule>(`SELECT * FROM ${RULES_TABLE} WHERE antecedent = [2] AND consequent = 0`);
    expect(ac.confidence).toBe(1);
    expect(ac.lift).toBeCloseTo(1 / (4 / 5), 15);
  });

  it('keeps no rule under a minimum lift above every lift', async () => {
    await loadBaskets(duck, makeBaskets(4, 300, 10));
    await createRulesTable(duck);
    const summary = await mineLevel(duck, {
      basketTable: 'rec_basket',
      level: 'product',
      thresholds: { ...thresholds, minLift: 1000 },
    });
    expect(summary.frequentPairs).toBeGreaterThan(0);
    expect(summary.rules).toBe(0);
  });

  it('counts the attachment rate and bundles per persona directly', async () => {
    const baskets = makeBaskets(5, 600, 12);
    await loadBaskets(duck, baskets);
    // Orders alternate between two personas; persona B never gets the planted (0, 1) pair.
    const persona = (o: number): string => (o % 2 === 0 ? 'A' : 'B');
    const personaBaskets = baskets.map((b, o) => (persona(o) === 'B' ? b.filter((i) => i > 1) : b));
    await loadBaskets(duck, personaBaskets);
    await duck.run(
      `CREATE TABLE groups AS SELECT DISTINCT ord, CASE WHEN ord % 2 = 0 THEN 'A' ELSE 'B' END AS grp FROM rec_basket`,
    );
    await createRulesTable(duck);
    const t = { ...thresholds, maxItemsetSize: 2 as const };
    await mineLevel(duck, {
      basketTable: 'rec_basket',
      level: 'product',
      thresholds: t,
      orderGroups: 'groups',
    });
    const rules = await duck.all<{ a: number; b: number }>(
      `SELECT antecedent[1] AS a, consequent AS b FROM ${RULES_TABLE} WHERE size = 2`,
    );
    const rates = await attachmentRates(duck, 'groups');
    for (const p of ['A', 'B']) {
      let eligible = 0;
      let attached = 0;
      personaBaskets.forEach((b, o) => {
        if (persona(o) !== p || b.length === 0) return;
        const has = new Set(b);
        if (rules.some((r) => has.has(r.a))) eligible++;
        if (rules.some((r) => has.has(r.a) && has.has(r.b))) attached++;
      });
      const got = rates.find((r) => r.persona === p)!;
      expect(got.ordersWithAntecedent).toBe(eligible);
      expect(got.ordersWithAddOn).toBe(attached);
      expect(got.attachmentRate).toBeCloseTo(attached / eligible, 12);
    }
    await personaBundles(duck, { orderGroups: 'groups', thresholds: t, perPersona: 3 });
    const bundles = await duck.all<{ persona: string; a: number; b: number; orders: number; lift: number }>(
      'SELECT persona, a, b, orders, lift FROM rec_bundles ORDER BY persona, rank',
    );
    // Persona A's top bundle is the planted pair (0, 1), with its own order count; B never has it.
    const directCount = personaBaskets.filter(
      (b, o) => persona(o) === 'A' && b.includes(0) && b.includes(1),
    ).length;
    expect(bundles.find((b) => b.persona === 'A')).toMatchObject({ a: 0, b: 1, orders: directCount });
    expect(bundles.some((b) => b.persona === 'B' && b.a === 0)).toBe(false);
    expect(bundles.every((b) => b.lift >= t.minLift)).toBe(true);
  });
});
