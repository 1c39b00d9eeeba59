/** "Top products" ranks goods: postage, fees and adjustments (clean's line_kind) never appear in it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topProducts } from '../../../activities/report/gather';
import { Duck } from '../../../lib/duck';

describe('top products', () => {
  let dir: string;
  let duck: Duck;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custflow-top-products-'));
    duck = await Duck.open();
  });
  afterAll(async () => {
    duck?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const rows = `(VALUES
    ('o1', 'p1', 'LANTERN', 30.0, 'merchandise'),
    ('o2', 'p1', 'LANTERN', 15.0, 'merchandise'),
    ('o1', 'POST', 'POSTAGE', 90.0, 'non_merchandise'),
    ('o2', 'POST', 'POSTAGE', 90.0, 'non_merchandise'),
    ('o3', 'p2', 'CANDLE', 20.0, 'merchandise'),
    ('o3', 'M', 'Manual', 500.0, 'non_merchandise'))
    AS t(order_id, product_id, product_name, amount, line_kind)`;

  it('leaves non-merchandise lines out of the ranking', async () => {
    const path = join(dir, 'with_kind.parquet');
    await duck.toParquet(`SELECT * FROM ${rows}`, path);
    expect(await topProducts(duck, path)).toEqual([
      { productName: 'LANTERN', revenue: 45, orders: 2 },
      { productName: 'CANDLE', revenue: 20, orders: 1 },
    ]);
  });

  it('ranks every line of a table written before clean flagged lines', async () => {
    const path = join(dir, 'without_kind.parquet');
    await duck.toParquet(`SELECT * EXCLUDE (line_kind) FROM ${rows}`, path);
    const ranked = await topProducts(duck, path);
    expect(ranked?.map((p) => p.productName)).toEqual(['Manual', 'POSTAGE', 'LANTERN', 'CANDLE']);
  });
});
