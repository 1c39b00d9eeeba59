/**
 * Non-merchandise lines (postage, fees, manual adjustments; clean's line_kind) stay in the money a customer
 * paid but not in what describes the goods: basket size and breadth, unit price, distinct products and
 * category shares. Planted lines with hand-computed values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCategoryShares } from '../../../activities/features/categoryShares';
import { buildCustomerFeatures } from '../../../activities/features/customerFeatures';
import { Duck } from '../../../lib/duck';
import { createTransactions, type Line } from './helpers';

const CUTOFF = '2024-03-31T23:59:59.999Z';
const LINES: Line[] = [
  // customer a: two orders, each with postage
  {
    customer: 'a',
    order: 'o1',
    ts: '2024-01-10 10:00:00',
    product: 'p1',
    category: 'toys',
    quantity: 2,
    unitPrice: 5,
  },
  {
    customer: 'a',
    order: 'o1',
    ts: '2024-01-10 10:00:00',
    product: 'p2',
    category: 'books',
    quantity: 1,
    unitPrice: 10,
  },
  {
    customer: 'a',
    order: 'o1',
    ts: '2024-01-10 10:00:00',
    product: 'POST',
    category: 'shipping',
    quantity: 1,
    unitPrice: 18,
  },
  {
    customer: 'a',
    order: 'o2',
    ts: '2024-02-10 10:00:00',
    product: 'p1',
    category: 'toys',
    quantity: 1,
    unitPrice: 5,
  },
  {
    customer: 'a',
    order: 'o2',
    ts: '2024-02-10 10:00:00',
    product: 'POST',
    category: 'shipping',
    quantity: 1,
    unitPrice: 18,
  },
  // customer b: a manual charge on its own, then goods
  {
    customer: 'b',
    order: 'o3',
    ts: '2024-01-15 10:00:00',
    product: 'M',
    category: null,
    quantity: 1,
    unitPrice: 50,
  },
  {
    customer: 'b',
    order: 'o4',
    ts: '2024-03-01 10:00:00',
    product: 'p3',
    category: 'toys',
    quantity: 3,
    unitPrice: 2,
  },
];

describe('features leave non-merchandise lines out of basket and product features', () => {
  let duck: Duck;
  type Row = Record<string, number> & { customer_id: string };
  let rows: Map<string, Row>;

  beforeAll(async () => {
    duck = await Duck.open();
    await createTransactions(duck, LINES);
    await duck.run(`ALTER TABLE transactions ADD COLUMN line_kind VARCHAR`);
    await duck.run(
      `UPDATE transactions SET line_kind = CASE WHEN product_id IN ('POST', 'M') THEN 'non_merchandise' ELSE 'merchandise' END`,
    );
    const result = await buildCustomerFeatures(duck, { cutoff: CUTOFF, hasEvents: false });
    const shares = await addCategoryShares(duck, { cutoff: CUTOFF, featuresTable: result.table });
    expect(shares.featureNames).toEqual(['category_share_toys', 'category_share_books']);
    rows = new Map((await duck.all<Row>(`SELECT * FROM ${result.table}`)).map((r) => [r.customer_id, r]));
  });
  afterAll(() => duck?.close());

  it('money keeps every line: what the customer paid', () => {
    expect(rows.get('a')!.monetary_total).toBe(2 * 5 + 10 + 18 + 5 + 18);
    expect(rows.get('a')!.monetary_mean_order).toBe((38 + 23) / 2);
    expect(rows.get('b')!.monetary_total).toBe(50 + 6);
    expect(rows.get('b')!.frequency_orders).toBe(2);
  });

  it('basket size, breadth and unit price count merchandise only', () => {
    const a = rows.get('a')!;
    expect(a.items_per_order).toBe((3 + 1) / 2);
    expect(a.lines_per_order).toBe((2 + 1) / 2);
    expect(a.distinct_products).toBe(2);
    expect(a.distinct_categories).toBe(2);
    expect(a.avg_unit_price).toBe((10 + 10 + 5) / 4);
    const b = rows.get('b')!;
    expect(b.items_per_order).toBe(3 / 2);
    expect(b.lines_per_order).toBe(1 / 2);
    expect(b.distinct_products).toBe(1);
    expect(b.avg_unit_price).toBe(2);
  });

  it('category shares are shares of merchandise spend; a fee category never becomes a feature', () => {
    expect(rows.get('a')!.category_share_toys).toBeCloseTo(15 / 25, 12);
    expect(rows.get('a')!.category_share_books).toBeCloseTo(10 / 25, 12);
    expect(rows.get('b')!.category_share_toys).toBe(1);
  });

  it('without line_kind (older tables) every line counts, as before', async () => {
    await createTransactions(duck, LINES, 'plain');
    const result = await buildCustomerFeatures(duck, {
      cutoff: CUTOFF,
      hasEvents: false,
      table: 'plain',
      outputTable: 'plain_features',
    });
    const a = await duck.one<Row>(`SELECT * FROM ${result.table} WHERE customer_id = 'a'`);
    expect(a.lines_per_order).toBe((3 + 2) / 2);
    expect(a.distinct_products).toBe(3);
  });
});
