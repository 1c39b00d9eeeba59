/**
 * Events-only datasets: transactions derived from RetailRocket purchase events, priced and categorised as of
 * each event, checked against what the generator's RetailRocket-shaped fixture planted
 * (retailrocket_truth.json): counts per pricing source, revenue, root categories, and every line
 * accounted for through clean (unpriced lines quarantined as missing_price, none dropped).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanTransactions } from '../../../activities/clean';
import { deriveTransactionsFromEvents } from '../../../activities/ingest/eventTransactions';
import type { RawFileToParse } from '../../../activities/ingest/parse';
import { withDuck } from '../../../lib/duck';
import { DataValidationError } from '../../../lib/errors';
import {
  generateRetailRocketFixture,
  type RetailRocketFixture,
} from '../../../scripts/generate/retailRocket';

let dir: string;
let fixture: RetailRocketFixture;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-rr-'));
  fixture = await generateRetailRocketFixture({
    outDir: join(dir, 'rr'),
    customers: 300,
    months: 6,
    seed: 9,
  });
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const asFile = (table: string, path: string, index = 0): RawFileToParse => ({
  file: {
    key: `raw/rr/retailrocket/${table}/${path.slice(path.lastIndexOf('/') + 1)}`,
    format: 'retailrocket',
  },
  local: { key: `raw/rr/retailrocket/${table}/${path}`, path, index },
});

function tables(f: RetailRocketFixture['files']) {
  return {
    events: [asFile('events', f.events)],
    itemProperties: [asFile('item_properties', f.itemProperties, 1)],
    categoryTree: [asFile('category_tree', f.categoryTree, 2)],
  };
}

describe('transactions derived from RetailRocket purchase events', () => {
  it('prices each line as of its event and finds the planted counts and revenue', async () => {
    const { truth } = fixture;
    expect(truth.purchaseEvents).toBeGreaterThan(500);
    expect(truth.unpriced).toBeGreaterThan(0);
    expect(truth.pricedFromLater).toBeGreaterThan(0);
    await withDuck(async (duck) => {
      const out = join(dir, 'derived.parquet');
      const derived = await deriveTransactionsFromEvents(duck, tables(fixture.files), out);
      expect(derived.rows).toBe(truth.purchaseEvents);
      expect(derived.metrics).toMatchObject({
        purchaseEvents: truth.purchaseEvents,
        pricedAsOf: truth.pricedAsOf,
        pricedFromLater: truth.pricedFromLater,
        unpriced: truth.unpriced,
        categorised: truth.purchaseEvents,
        unparsablePriceRows: 0,
      });
      expect(derived.warnings.map((w) => w.code)).toEqual([
        'ingest_price_from_later_snapshot',
        'ingest_purchase_without_price',
      ]);
      const sums = await duck.one<{ revenue: number; quantity: number; categories: string[] }>(
        `SELECT sum(amount) AS revenue, sum(quantity)::INTEGER AS quantity, list(DISTINCT category ORDER BY category) AS categories
         FROM read_parquet('${out}')`,
      );
      expect(sums.revenue).toBeCloseTo(truth.revenue, 6);
      expect(sums.quantity).toBe(truth.purchaseEvents);
      expect(sums.categories).toEqual(Object.values(truth.categoryRoots).sort());
      // Lineage: each line names the events file and a distinct line of it.
      const lineage = await duck.one<{ files: number; lines: number }>(
        `SELECT count(DISTINCT source_file)::INTEGER AS files, count(DISTINCT source_line)::INTEGER AS lines FROM read_parquet('${out}')`,
      );
      expect(lineage).toEqual({ files: 1, lines: truth.purchaseEvents });

      // Through clean: every derived line is kept or quarantined, the unpriced ones as missing_price.
      const cleaned = await cleanTransactions(duck, {
        inputPath: out,
        cutoffIso: '2030-01-01T00:00:00.000Z',
        outlierIqrMultiplier: 3,
        outDir: dir,
      });
      expect(cleaned.metrics.inputRows).toBe(truth.purchaseEvents);
      expect(cleaned.metrics.quarantinedByReason.missing_price).toBe(truth.unpriced);
      expect(cleaned.metrics.quarantinedRows).toBe(truth.unpriced);
      expect(cleaned.metrics.outputRows + cleaned.metrics.duplicateRows).toBe(
        truth.purchaseEvents - truth.unpriced,
      );
    });
  });

  it('gives the same bytes twice', async () => {
    const { createHash } = await import('node:crypto');
    const { readFile } = await import('node:fs/promises');
    const digests: string[] = [];
    for (const name of ['a.parquet', 'b.parquet']) {
      await withDuck(async (duck) => {
        await deriveTransactionsFromEvents(duck, tables(fixture.files), join(dir, name));
      });
      digests.push(
        createHash('sha256')
          .update(await readFile(join(dir, name)))
          .digest('hex'),
      );
    }
    expect(digests[0]).toBe(digests[1]);
  });

  it('refuses a cyclic category tree and a bad property timestamp by file, line and rule', async () => {
    const cyclic = join(dir, 'cyclic_tree.csv');
    await writeFile(cyclic, 'categoryid,parentid\n1,\n2,3\n3,2\n');
    await withDuck(async (duck) => {
      const error = await deriveTransactionsFromEvents(
        duck,
        { ...tables(fixture.files), categoryTree: [asFile('category_tree', cyclic, 2)] },
        join(dir, 'x.parquet'),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataValidationError);
      expect((error as DataValidationError).message).toMatch(/cyclic_tree\.csv.*line 3.*no cycles/);
    });
    const badTime = join(dir, 'bad_props.csv');
    await writeFile(
      badTime,
      'timestamp,itemid,property,value\n1430000000000,5,790,n10.000\nyesterday,5,790,n11.000\n',
    );
    await withDuck(async (duck) => {
      const error = await deriveTransactionsFromEvents(
        duck,
        { ...tables(fixture.files), itemProperties: [asFile('item_properties', badTime, 1)] },
        join(dir, 'y.parquet'),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataValidationError);
      expect((error as DataValidationError).message).toMatch(
        /bad_props\.csv.*line 3.*timestamp.*epoch milliseconds/,
      );
    });
  });

  it('refuses an events-only dataset without purchase events', async () => {
    const views = join(dir, 'views.csv');
    await writeFile(views, 'timestamp,visitorid,event,itemid,transactionid\n1430000000000,1,view,5,\n');
    await withDuck(async (duck) => {
      const error = await deriveTransactionsFromEvents(
        duck,
        { ...tables(fixture.files), events: [asFile('events', views)] },
        join(dir, 'z.parquet'),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataValidationError);
      expect((error as DataValidationError).message).toMatch(/needs purchase events/);
    });
  });
});
