/**
 * Attribute tests against planted truth (issue 14, item 1): on generated datasets whose customers table
 * plants two attributes with an effect on spend (membership, income) and three without (favourite colour,
 * shoe size, newsletter), delivered in a client's own column names, the tests with the default config find
 * exactly the planted ones, on three independent seeds. The bad values the generator writes are quarantined
 * by ingest with their reasons, and no customer row is dropped.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanTransactions } from '../../../activities/clean';
import { computeAttributeTests } from '../../../activities/features/attributeTests';
import { parseCustomerFiles } from '../../../activities/ingest/customers';
import { parseTransactionFiles, type RawFileToParse } from '../../../activities/ingest/parse';
import { parseRunConfig } from '../../../lib/config';
import { withDuck } from '../../../lib/duck';
import { DataValidationError } from '../../../lib/errors';
import { benjaminiHochbergAdjust } from '../../../lib/numeric/multipleTesting';
import { generateDataset } from '../../../scripts/generate';
import { writePlantedAttributes } from '../../../scripts/generate/attributes';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-attributes-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const file = (table: string, path: string, index: number): RawFileToParse => ({
  file: { key: `raw/d/canonical/${table}/${path.slice(path.lastIndexOf('/') + 1)}`, format: 'canonical' },
  local: { key: `raw/d/canonical/${table}/${path.slice(path.lastIndexOf('/') + 1)}`, path, index },
});

describe('Benjamini-Hochberg adjustment', () => {
  it('matches the published worked example (Benjamini and Hochberg 1995, section 4)', () => {
    // The paper's 15 p-values; at q = 0.05 the procedure rejects the four smallest.
    const p = [
      0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528,
      0.759, 1.0,
    ];
    const adjusted = benjaminiHochbergAdjust(p);
    expect([...adjusted].filter((x) => x < 0.05)).toHaveLength(4);
    expect(adjusted[3]).toBeCloseTo((0.0095 * 15) / 4, 12);
    expect(Number.isNaN(benjaminiHochbergAdjust([0.01, NaN])[1])).toBe(true);
  });
});

describe('customer attribute tests against spend', () => {
  for (const seed of [3, 17, 29]) {
    it(`finds exactly the planted attributes (seed ${seed})`, async () => {
      const out = join(dir, `s${seed}`);
      await generateDataset({
        outDir: out,
        customers: 1500,
        months: 12,
        seed,
        experiment: false,
        events: false,
      });
      const planted = writePlantedAttributes(out, seed);
      const config = parseRunConfig(planted.config);
      await withDuck(async (duck) => {
        const transactions = readdirSync(join(out, 'transactions'))
          .sort()
          .map((name, i) => file('transactions', join(out, 'transactions', name), i));
        await parseTransactionFiles(duck, transactions, join(out, 'ingested.parquet'));
        const cleaned = await cleanTransactions(duck, {
          inputPath: join(out, 'ingested.parquet'),
          cutoffIso: '2030-01-01T00:00:00.000Z',
          outlierIqrMultiplier: 3,
          outDir: out,
        });
        const customerMetrics = await parseCustomerFiles(
          duck,
          [file('customers', planted.path, 100)],
          config.attributes?.customers,
          {
            customers: join(out, 'customers.parquet'),
            quarantine: join(out, 'customers_quarantine.parquet'),
          },
        );
        expect(customerMetrics.inputRows).toBe(planted.rows);
        expect(customerMetrics.outputRows).toBe(planted.rows);
        expect(customerMetrics.badValuesByField).toMatchObject({
          income: planted.badValues.income,
          newsletter: planted.badValues.newsletter,
          membership: 0,
        });
        const reasons = await duck.all<{ field: string; value: string; reason: string; source_line: number }>(
          `SELECT field, value, reason, source_line::INTEGER AS source_line FROM read_parquet('${join(out, 'customers_quarantine.parquet')}') ORDER BY source_line, field`,
        );
        expect(reasons[0]).toMatchObject({ field: 'newsletter', value: 'maybe', source_line: 90 });
        expect(reasons[0].reason).toBe('not true/false, yes/no or 1/0');
        expect(reasons.find((r) => r.field === 'income')).toMatchObject({
          value: 'n/a',
          reason: 'not a finite number',
          source_line: 98, // customer 97 (index 96) is on line 98, after the header
        });

        await duck.run(
          `CREATE OR REPLACE VIEW transactions AS SELECT * FROM read_parquet('${cleaned.paths.transactions}')`,
        );
        await duck.run(
          `CREATE OR REPLACE VIEW customer_attributes AS SELECT * FROM read_parquet('${join(out, 'customers.parquet')}')`,
        );
        const result = await computeAttributeTests(duck, {
          cutoff: '2030-01-01T00:00:00.000Z',
          fields: config.attributes!.customers!.fields,
          tests: config.attributes!.tests,
          customersTable: 'customer_attributes',
        });
        expect(result.associated).toEqual(['membership', 'income']);
        for (const name of planted.withoutEffect) {
          const test = result.tests.find((t) => t.attribute === name)!;
          expect(test.pValue, name).not.toBeNull();
          expect(test.significant, name).toBe(false);
        }
        const membership = result.tests.find((t) => t.attribute === 'membership')!;
        // Gold spends more than bronze (the plant), and eta-squared is a real, not a trivial, effect.
        const mean = (level: string) => membership.levels!.find((l) => l.level === level)!.meanLogSpend;
        expect(mean('gold')).toBeGreaterThan(mean('silver'));
        expect(mean('silver')).toBeGreaterThan(mean('bronze'));
        expect(membership.effectSize!.value).toBeGreaterThan(0.01);
        const income = result.tests.find((t) => t.attribute === 'income')!;
        expect(income.secondaryEffect!.value).toBeGreaterThan(0);
        expect(income.missing).toBeGreaterThanOrEqual(1); // the n/a incomes of buyers
      });
    }, 120_000);
  }

  it('refuses a customers file with an undeclared column, naming it and the config key', async () => {
    const out = join(dir, 'undeclared');
    await generateDataset({
      outDir: out,
      customers: 50,
      months: 2,
      seed: 1,
      experiment: false,
      events: false,
    });
    const planted = writePlantedAttributes(out, 1);
    const config = parseRunConfig({
      attributes: {
        customers: {
          idColumn: 'ClientNo',
          fields: [{ name: 'membership', column: 'Membership Tier', type: 'string', role: 'dimension' }],
        },
      },
    });
    await withDuck(async (duck) => {
      const error = await parseCustomerFiles(
        duck,
        [file('customers', planted.path, 0)],
        config.attributes?.customers,
        {
          customers: join(out, 'c.parquet'),
          quarantine: join(out, 'q.parquet'),
        },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataValidationError);
      expect((error as Error).message).toMatch(
        /customers\.csv.*undeclared column\(s\) Income, FavColour.*attributes\.customers\.fields/,
      );
    });
  });
});
