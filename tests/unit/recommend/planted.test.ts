/**
 * The evaluation split against planted co-purchase structure. Twenty planted pairs (A_k, B_k):
 * - 400 "teachers" buy A_k and B_k together in their orders (January to April), so the pair co-occurs;
 * - 200 "learners" buy only A_k (January to April); the even ones buy B_k, and nothing else, in June (the
 *   evaluation month), the odd ones in May (the validation month that chooses the blend).
 * Every order also holds one of ten "noise" products (more popular than any pair product) and a POSTAGE
 * line flagged non-merchandise (in every order: the most popular "product" if it were one).
 *
 * So the truth is known: the evaluated customers are exactly the 100 even learners; B_k is never in their
 * history before June (buy again cannot hit it; if the fit saw June it could); the ten noise products are
 * the popular ones (popularity cannot hit); only co-occurrence finds B_k through A_k.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../../../lib/duck';
import { Rng } from '../../../lib/random';
import { recommendSection } from '../../../lib/stageConfig/recommend';
import {
  computeRecommendations,
  type ComputeRecommendationsResult,
} from '../../../activities/recommend/index';

const PAIRS = 20;
const NOISE = 10;
const CUTOFF = '2024-06-30T23:59:59.999Z';

interface Line {
  customer: string;
  order: string;
  ts: string;
  product: string;
  kind: 'merchandise' | 'non_merchandise';
}

function plantedLines(seed: number): Line[] {
  const rng = new Rng(seed);
  const lines: Line[] = [];
  let orderNo = 0;
  const day = (fromIso: string, days: number): string =>
    new Date(Date.parse(fromIso) + rng.int(days) * 86_400_000 + 3_600_000 * (8 + rng.int(8))).toISOString();
  const order = (customer: string, ts: string, products: string[]): void => {
    const id = `O${++orderNo}`;
    for (const product of products) lines.push({ customer, order: id, ts, product, kind: 'merchandise' });
    lines.push({ customer, order: id, ts, product: 'POST', kind: 'non_merchandise' });
  };
  const noise = (): string => `N${rng.int(NOISE)}`;
  for (let c = 0; c < 400; c++) {
    const k = c % PAIRS;
    for (let o = 0; o < 3; o++) order(`T${c}`, day('2024-01-01T00:00:00Z', 120), [`A${k}`, `B${k}`, noise()]);
  }
  for (let c = 0; c < 200; c++) {
    const k = c % PAIRS;
    for (let o = 0; o < 2; o++) order(`L${c}`, day('2024-01-01T00:00:00Z', 120), [`A${k}`, noise()]);
    if (c % 2 === 0)
      order(`L${c}`, c === 0 ? '2024-06-30T12:00:00.000Z' : day('2024-06-01T00:00:00Z', 29), [`B${k}`]);
    else order(`L${c}`, day('2024-05-01T00:00:00Z', 30), [`B${k}`]);
  }
  return lines;
}

async function createTransactions(duck: Duck, lines: Line[]): Promise<void> {
  await duck.run(`CREATE TABLE transactions (customer_id VARCHAR, order_id VARCHAR, ts TIMESTAMP,
    product_id VARCHAR, product_name VARCHAR, category VARCHAR, quantity INTEGER, amount DOUBLE, line_kind VARCHAR)`);
  for (let start = 0; start < lines.length; start += 2000) {
    const values = lines
      .slice(start, start + 2000)
      .map(
        (l) =>
          `(${sqlString(l.customer)}, ${sqlString(l.order)}, TIMESTAMP ${sqlString(l.ts.replace('T', ' ').replace('Z', ''))}, ` +
          `${sqlString(l.product)}, ${sqlString(`name of ${l.product}`)}, ${sqlString(l.product[0])}, 1, 5.0, ${sqlString(l.kind)})`,
      )
      .join(', ');
    await duck.run(`INSERT INTO transactions VALUES ${values}`);
  }
}

let workDir: string;
let duck: Duck;
let result: ComputeRecommendationsResult;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'recommend-planted-'));
  duck = await Duck.open({ threads: 2 });
  await createTransactions(duck, plantedLines(7));
  result = await computeRecommendations(duck, {
    transactionsTable: 'transactions',
    cutoff: CUTOFF,
    config: recommendSection.parse({}),
    outDir: workDir,
  });
}, 60_000);
afterAll(async () => {
  duck.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('recommend on planted co-purchase structure', () => {
  it('evaluates exactly the planted customers on the month after the fit', () => {
    const m = result.metrics;
    expect(m.effectiveEnd).toBe(CUTOFF);
    expect(m.evaluationWindow).toEqual({ from: '2024-05-31T23:59:59.999Z', to: CUTOFF, customers: 100 });
    expect(m.validationWindow).toEqual({
      from: '2024-04-30T23:59:59.999Z',
      to: '2024-05-31T23:59:59.999Z',
      customers: 100,
    });
  });

  it('finds the planted partner where the baselines cannot', () => {
    const e = result.metrics.evaluation!;
    // B_k is not in any learner's history before June: buy again never hits, and would if June leaked in.
    expect(e.buyAgain).toMatchObject({ hitRate5: 0, hitRate10: 0, precision10: 0, recall10: 0 });
    // The ten noise products are the popular ones; June holds only B_k.
    expect(e.popularity).toMatchObject({ hitRate5: 0, hitRate10: 0, precision10: 0, recall10: 0 });
    expect(e.popularity.coverage).toBeCloseTo(NOISE / (2 * PAIRS + NOISE), 12);
    expect(e.model.hitRate10).toBeGreaterThanOrEqual(0.95);
    expect(e.model.recall10).toBeGreaterThanOrEqual(0.95);
    // One target per customer: a hit is 1/10 of precision at 10.
    expect(e.model.precision10).toBeCloseTo(e.model.hitRate10 / 10, 12);
    expect(result.metrics.beatsBaselines).toBe(true);
    // The validation month had the same structure: the blend leans on co-occurrence.
    expect(result.metrics.blendChosenBy).toBe('validation');
    expect(result.metrics.blend).toBeLessThan(0.5);
    expect(result.warnings.map((w) => w.code)).not.toContain('recommend_below_baseline');
  });

  it('mines the planted pairs as rules and never recommends postage', async () => {
    const rules = await duck.all<{ antecedent: string[]; consequent: string; lift: number }>(
      `SELECT antecedent, consequent, lift FROM read_parquet(${sqlString(result.paths.rules)}) WHERE level = 'product'`,
    );
    for (let k = 0; k < PAIRS; k++) {
      expect(rules.some((r) => r.antecedent.join() === `B${k}` && r.consequent === `A${k}`)).toBe(true);
    }
    expect(rules.some((r) => r.antecedent.includes('POST') || r.consequent === 'POST')).toBe(false);
    const recs = await duck.one<{ rows: number; customers: number; post: number }>(
      `SELECT count(*)::INTEGER AS rows, count(DISTINCT customer_id)::INTEGER AS customers,
              count(*) FILTER (WHERE product_id = 'POST')::INTEGER AS post
       FROM read_parquet(${sqlString(result.paths.recommendations)})`,
    );
    expect(recs.post).toBe(0);
    expect(recs.customers).toBe(result.metrics.recommendedCustomers);
    expect(recs.rows).toBe(result.metrics.recommendationRows);
  });

  it('explains a co-purchase recommendation by the product that brought it', async () => {
    // Every co-purchase reason names a product from the customer's own history.
    const bad = await duck.one<{ n: number; total: number }>(
      `WITH r AS (SELECT * FROM read_parquet(${sqlString(result.paths.recommendations)}) WHERE source = 'co_purchase')
       SELECT count(*) FILTER (WHERE NOT EXISTS (
                SELECT 1 FROM transactions t WHERE t.customer_id = r.customer_id AND t.product_id = r.because_product_id))::INTEGER AS n,
              count(*)::INTEGER AS total
       FROM r`,
    );
    expect(bad.total).toBeGreaterThan(0);
    expect(bad.n).toBe(0);
    const example = await duck.one<{ reason: string }>(
      `SELECT reason FROM read_parquet(${sqlString(result.paths.recommendations)})
       WHERE source = 'co_purchase' ORDER BY customer_id, rank LIMIT 1`,
    );
    expect(example.reason).toMatch(/^bought together with name of \w+ in \d+% of its orders$/);
  });
});
