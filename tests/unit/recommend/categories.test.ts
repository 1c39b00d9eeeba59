/**
 * Category lists on planted co-purchase structure. Two planted category pairs: "teachers" buy a kitchen and a
 * garden product in the same order (or a toys and a books product); "learners" buy only kitchen (or only toys)
 * products, the last time on the final day, so that category is bought recently and cannot be offered.
 * "Browsers" buy only misc products, in more orders than any other category, and never with the planted
 * categories. So the truth is known: a kitchen learner's first category is garden, brought by kitchen, with
 * the share of kitchen orders that hold garden (computed here from the planted lines); a toys learner's is
 * books; the rest of each list is popularity, misc first; no list holds a recently bought category.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString, writeColumns } from '../../../lib/duck';
import { Rng } from '../../../lib/random';
import { recommendSection } from '../../../lib/stageConfig/recommend';
import {
  computeRecommendations,
  type ComputeRecommendationsResult,
} from '../../../activities/recommend/index';

const CUTOFF = '2024-06-30T23:59:59.999Z';
const LAST_DAY = '2024-06-30T12:00:00.000Z';

interface Line {
  customer: string;
  order: string;
  ts: string;
  product: string;
  category: string;
}

function plantedLines(seed: number): Line[] {
  const rng = new Rng(seed);
  const lines: Line[] = [];
  let orderNo = 0;
  const day = (): string =>
    new Date(Date.parse('2024-03-01T00:00:00Z') + rng.int(100) * 86_400_000 + 3_600_000 * 9).toISOString();
  const order = (customer: string, ts: string, products: [string, string][]): void => {
    const id = `O${++orderNo}`;
    for (const [product, category] of products) lines.push({ customer, order: id, ts, product, category });
  };
  const product = (category: string): [string, string] => [`${category}-${rng.int(5)}`, category];
  for (let c = 0; c < 200; c++) {
    const [a, b] = c % 2 === 0 ? ['kitchen', 'garden'] : ['toys', 'books'];
    for (let o = 0; o < 3; o++) {
      // One teacher order in four holds only the first category: P(second | first) is not 1.
      order(`T${c}`, day(), o === 2 && c % 4 < 2 ? [product(a)] : [product(a), product(b)]);
    }
  }
  for (let c = 0; c < 100; c++) {
    const a = c % 2 === 0 ? 'kitchen' : 'toys';
    order(`L${c}`, day(), [product(a)]);
    order(`L${c}`, LAST_DAY, [product(a)]);
  }
  for (let c = 0; c < 300; c++) for (let o = 0; o < 3; o++) order(`B${c}`, day(), [product('misc')]);
  return lines;
}

async function createTransactions(duck: Duck, lines: Line[]): Promise<void> {
  await writeColumns(duck, 'planted', lines.length, [
    { name: 'customer_id', type: 'VARCHAR', values: lines.map((l) => l.customer) },
    { name: 'order_id', type: 'VARCHAR', values: lines.map((l) => l.order) },
    { name: 'ts', type: 'VARCHAR', values: lines.map((l) => l.ts) },
    { name: 'product_id', type: 'VARCHAR', values: lines.map((l) => l.product) },
    { name: 'category', type: 'VARCHAR', values: lines.map((l) => l.category) },
  ]);
  await duck.run(`CREATE TABLE transactions AS
    SELECT customer_id, order_id, ts::TIMESTAMPTZ::TIMESTAMP AS ts, product_id, 'name of ' || product_id AS product_name,
           category, 1 AS quantity, 5.0 AS amount, 'merchandise' AS line_kind
    FROM planted`);
}

let workDir: string;
let duck: Duck;
let lines: Line[];
let result: ComputeRecommendationsResult;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'recommend-categories-'));
  duck = await Duck.open({ threads: 2 });
  lines = plantedLines(11);
  await createTransactions(duck, lines);
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

/** P(second category in the order | first category in the order), over the planted orders. */
function plantedConfidence(first: string, second: string): number {
  const categoriesByOrder = new Map<string, Set<string>>();
  for (const l of lines) {
    const set = categoriesByOrder.get(l.order) ?? new Set<string>();
    set.add(l.category);
    categoriesByOrder.set(l.order, set);
  }
  let withFirst = 0;
  let withBoth = 0;
  for (const set of categoriesByOrder.values()) {
    if (!set.has(first)) continue;
    withFirst++;
    if (set.has(second)) withBoth++;
  }
  return withBoth / withFirst;
}

interface CategoryRow extends Record<string, unknown> {
  customer_id: string;
  rank: number;
  category: string;
  source: string;
  reason: string;
  because_category: string | null;
}

describe('category lists on planted co-purchase structure', () => {
  it("gives each learner its category's planted partner first, with the planted share as reason", async () => {
    const rows = await duck.all<CategoryRow>(
      `SELECT customer_id, rank, category, source, reason, because_category
       FROM read_parquet(${sqlString(result.paths.categoryRecommendations)})
       WHERE customer_id LIKE 'L%' ORDER BY customer_id, rank`,
    );
    const firsts = rows.filter((r) => r.rank === 1);
    expect(firsts).toHaveLength(100);
    const kitchenShare = Math.round(100 * plantedConfidence('kitchen', 'garden'));
    const toysShare = Math.round(100 * plantedConfidence('toys', 'books'));
    expect(kitchenShare).toBeLessThan(100);
    for (const r of firsts) {
      const kitchen = Number(r.customer_id.slice(1)) % 2 === 0;
      expect(r).toMatchObject({
        category: kitchen ? 'garden' : 'books',
        source: 'co_purchase',
        because_category: kitchen ? 'kitchen' : 'toys',
        reason: `bought together with ${kitchen ? 'kitchen' : 'toys'} in ${kitchen ? kitchenShare : toysShare}% of its orders`,
      });
    }
    // The rest is popularity, misc first; never the category bought on the last day.
    const seconds = rows.filter((r) => r.rank === 2);
    expect(seconds.every((r) => r.category === 'misc' && r.source === 'popular')).toBe(true);
    expect(seconds[0].reason).toBe('among the most ordered categories of the last 90 days');
    for (const r of rows) {
      const recent = Number(r.customer_id.slice(1)) % 2 === 0 ? 'kitchen' : 'toys';
      expect(r.category).not.toBe(recent);
    }
  });

  it('writes categoryTopN rows per active customer and summarises the first choices', async () => {
    const topN = recommendSection.parse({}).categoryTopN;
    const counts = await duck.one<{ rows: number; customers: number; full: number }>(
      `SELECT count(*)::INTEGER AS rows, count(DISTINCT customer_id)::INTEGER AS customers,
              (SELECT count(*) FROM (SELECT customer_id FROM read_parquet(${sqlString(result.paths.categoryRecommendations)})
                                     GROUP BY customer_id HAVING count(*) = ${topN}))::INTEGER AS full
       FROM read_parquet(${sqlString(result.paths.categoryRecommendations)})`,
    );
    expect(counts.customers).toBe(result.metrics.recommendedCustomers);
    expect(counts.full).toBe(counts.customers);
    expect(counts.rows).toBe(result.metrics.categoryRecommendationRows);
    const summary = result.summary.categoryLists!;
    expect(summary).toMatchObject({ topN, categories: 5, rows: counts.rows });
    expect(summary.firstChoices.reduce((sum, c) => sum + c.customers, 0)).toBe(counts.customers);
    expect(summary.firstChoices.find((c) => c.category === 'garden')!.customers).toBeGreaterThanOrEqual(50);
    expect(result.warnings.map((w) => w.code)).not.toContain('recommend_customers_without_list');
  });
});
