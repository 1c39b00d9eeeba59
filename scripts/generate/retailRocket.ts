/**
 * A small RetailRocket-shaped dataset made by the generator (never a copy of the real one): events.csv
 * (timestamp, visitorid, event, itemid, transactionid), item_properties.csv (timestamp, itemid, property,
 * value) and category_tree.csv (categoryid, parentid), in RetailRocket's own layout, from a synthetic canonical
 * dataset (generateDataset, no dirty rows, no returns: RetailRocket has neither).
 *
 * Planted so that ingest's derivation can be checked against known answers (retailrocket_truth.json):
 * - every purchase line becomes one `transaction` event (quantity is lost: RetailRocket has one event per item);
 * - each item's price (property 790, "n<price>") changes at `priceChangeAt` from p0 to p1 = p0 x 1.2: a
 *   line's expected unit price is the one in force at its time;
 * - items with itemid % 50 = 7 never get a price (their lines are `unpriced`: clean quarantines them);
 *   items with itemid % 50 = 11 get only p1 (their lines before the change take the later price);
 * - categories form a 3-level tree (root -> 100 + root -> leaf); an item's leaf is set once, and its
 *   expected category is the root's id (generator category k has root id k + 1);
 * - hashed noise properties (888, available) that the derivation must ignore.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { withDuck } from '../../lib/duck';
import { generateDataset, NO_DIRTY_RATES } from './index';
import { CATEGORIES } from './profiles';
import { writePlantedAttributes, type PlantedAttributes } from './attributes';

export interface RetailRocketFixtureOptions {
  outDir: string;
  customers?: number;
  months?: number;
  seed?: number;
  startMonth?: string;
  /** Also write customers/customers.csv with planted attributes (attributes.ts), keyed by visitor id. */
  attributes?: boolean;
}

/** What the fixture planted: the numbers ingest and clean must reproduce. */
export interface RetailRocketTruth {
  purchaseEvents: number;
  pricedAsOf: number;
  pricedFromLater: number;
  unpriced: number;
  /** Sum of the expected unit prices of the priced lines (each line is one item). */
  revenue: number;
  priceChangeAt: string;
  /** Expected category (root id) per generator category name. */
  categoryRoots: Record<string, string>;
  viewEvents: number;
  addToCartEvents: number;
}

export interface RetailRocketFixture {
  outDir: string;
  files: { events: string; itemProperties: string; categoryTree: string; truth: string };
  truth: RetailRocketTruth;
  attributes?: PlantedAttributes;
}

const UNPRICED_MOD = 7;
const LATE_PRICED_MOD = 11;
const PRICE_STEP = 1.2;

const idOf = (text: string): number => Number(text.replace(/^[A-Z]+0*/, '') || '0');
const money = (value: number): string => (Math.round(value * 1000) / 1000).toFixed(3);

export async function generateRetailRocketFixture(
  options: RetailRocketFixtureOptions,
): Promise<RetailRocketFixture> {
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const canonicalDir = join(tmpdir(), `custflow-rr-canonical-${process.pid}-${Date.now()}`);
  try {
    const generated = await generateDataset({
      outDir: canonicalDir,
      customers: options.customers ?? 400,
      months: options.months ?? 6,
      seed: options.seed ?? 7,
      startMonth: options.startMonth ?? '2023-01',
      dirty: NO_DIRTY_RATES,
      returns: false,
      experiment: false,
    });
    const truthJson = readFileSync(generated.truthPath, 'utf8');
    const range = (JSON.parse(truthJson) as { range: { start: string; end: string } }).range;
    const startMs = Date.parse(range.start);
    const priceChangeMs = Math.round((startMs + Date.parse(range.end)) / 2 / 60000) * 60000;
    return await withDuck(async (duck) => {
      const lines = await duck.all<{
        customer_id: string;
        order_id: string;
        ts: Date;
        product_id: string;
        category: string;
        unit_price: number;
      }>(
        `SELECT customer_id, order_id, ts::TIMESTAMP AS ts, product_id, category, unit_price
         FROM read_csv('${join(canonicalDir, 'transactions')}/*.csv', header = true, auto_detect = true)
         WHERE quantity > 0 ORDER BY ts, customer_id, order_id, product_id`,
      );
      const browsing = await duck.all<{
        customer_id: string;
        ts: Date;
        event_type: string;
        product_id: string;
      }>(
        `SELECT customer_id, ts::TIMESTAMP AS ts, event_type, product_id
         FROM read_csv('${join(canonicalDir, 'events')}/*.csv', header = true, auto_detect = true)
         WHERE event_type IN ('view', 'add_to_cart') AND product_id IS NOT NULL ORDER BY ts, customer_id, product_id`,
      );
      // Each item's base price and category: its first line's (the generator prices by product).
      const items = new Map<number, { p0: number; category: string }>();
      for (const l of lines) {
        const item = idOf(l.product_id);
        if (!items.has(item)) items.set(item, { p0: Number(l.unit_price), category: l.category });
      }
      const rootOf = (category: string): number =>
        CATEGORIES.indexOf(category as (typeof CATEGORIES)[number]) + 1;
      const leafOf = (item: number, category: string): number => 1000 + rootOf(category) * 10 + (item % 3);

      const events: { ms: number; row: string }[] = [];
      const truth: RetailRocketTruth = {
        purchaseEvents: 0,
        pricedAsOf: 0,
        pricedFromLater: 0,
        unpriced: 0,
        revenue: 0,
        priceChangeAt: new Date(priceChangeMs).toISOString(),
        categoryRoots: Object.fromEntries(CATEGORIES.map((c, k) => [c, String(k + 1)])),
        viewEvents: 0,
        addToCartEvents: 0,
      };
      for (const b of browsing) {
        const ms = b.ts.getTime();
        const event = b.event_type === 'view' ? 'view' : 'addtocart';
        if (event === 'view') truth.viewEvents++;
        else truth.addToCartEvents++;
        events.push({ ms, row: `${ms},${idOf(b.customer_id)},${event},${idOf(b.product_id)},` });
      }
      for (const l of lines) {
        const ms = l.ts.getTime();
        const item = idOf(l.product_id);
        const { p0 } = items.get(item)!;
        events.push({ ms, row: `${ms},${idOf(l.customer_id)},transaction,${item},${idOf(l.order_id)}` });
        truth.purchaseEvents++;
        if (item % 50 === UNPRICED_MOD) truth.unpriced++;
        else if (item % 50 === LATE_PRICED_MOD) {
          truth.revenue += Number(money(p0 * PRICE_STEP));
          if (ms >= priceChangeMs) truth.pricedAsOf++;
          else truth.pricedFromLater++;
        } else {
          truth.pricedAsOf++;
          truth.revenue += ms >= priceChangeMs ? Number(money(p0 * PRICE_STEP)) : Number(money(p0));
        }
      }
      truth.revenue = Math.round(truth.revenue * 1000) / 1000;
      events.sort((a, b) => a.ms - b.ms || (a.row < b.row ? -1 : a.row > b.row ? 1 : 0));

      const before = startMs - 86_400_000;
      const properties: string[] = [];
      for (const [item, { p0, category }] of [...items.entries()].sort((a, b) => a[0] - b[0])) {
        properties.push(`${before},${item},categoryid,${leafOf(item, category)}`);
        properties.push(`${before},${item},888,${(item * 7919) % 100000} n${money(item)}`);
        properties.push(`${before},${item},available,1`);
        if (item % 50 === UNPRICED_MOD) continue;
        if (item % 50 !== LATE_PRICED_MOD) properties.push(`${before},${item},790,n${money(p0)}`);
        properties.push(`${priceChangeMs},${item},790,n${money(p0 * PRICE_STEP)}`);
      }
      const tree: string[] = [];
      for (const category of CATEGORIES) {
        const root = rootOf(category);
        tree.push(`${root},`, `${100 + root},${root}`);
        for (let leaf = 0; leaf < 3; leaf++) tree.push(`${1000 + root * 10 + leaf},${100 + root}`);
      }
      const files = {
        events: join(outDir, 'events.csv'),
        itemProperties: join(outDir, 'item_properties_part1.csv'),
        categoryTree: join(outDir, 'category_tree.csv'),
        truth: join(outDir, 'retailrocket_truth.json'),
      };
      writeFileSync(
        files.events,
        ['timestamp,visitorid,event,itemid,transactionid', ...events.map((e) => e.row)].join('\n') + '\n',
      );
      writeFileSync(
        files.itemProperties,
        ['timestamp,itemid,property,value', ...properties].join('\n') + '\n',
      );
      writeFileSync(files.categoryTree, ['categoryid,parentid', ...tree].join('\n') + '\n');
      writeFileSync(files.truth, JSON.stringify(truth, null, 2) + '\n');
      const attributes = options.attributes
        ? writePlantedAttributes(canonicalDir, options.seed ?? 7, {
            targetDir: join(outDir, 'customers'),
            customerId: (id) => String(idOf(id)),
          })
        : undefined;
      return { outDir, files, truth, ...(attributes ? { attributes } : {}) };
    });
  } finally {
    rmSync(canonicalDir, { recursive: true, force: true });
  }
}
