/**
 * Extension columns and customer attributes as features and insight tests (issue 14, item 1), against the
 * generator's planted truth: channel (transactions) and dwell time (events) drive spend, discount, gift wrap
 * and device do not; with the planted customer attributes (membership and income drive spend) the tests
 * find exactly the planted ones on two seeds. The feature columns are checked against their definitions
 * recomputed here from the lines.
 */
import { readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEvents, cleanTransactions } from '../../../activities/clean';
import { computeAttributeTests } from '../../../activities/features/attributeTests';
import { addExtensionFeatures, planExtensionFeatures } from '../../../activities/features/extensionFeatures';
import { parseCustomerFiles } from '../../../activities/ingest/customers';
import { parseTransactionFiles, type RawFileToParse } from '../../../activities/ingest/parse';
import { parseEventFiles } from '../../../activities/ingest/sideTables';
import { parseRunConfig } from '../../../lib/config';
import { withDuck } from '../../../lib/duck';
import { generateDataset } from '../../../scripts/generate';
import { writePlantedAttributes } from '../../../scripts/generate/attributes';
import { writePlantedExtensions } from '../../../scripts/generate/extensions';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-extfeatures-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const CUTOFF = '2030-01-01T00:00:00.000Z';

const filesOf = (out: string, table: string, offset = 0): RawFileToParse[] =>
  readdirSync(join(out, table))
    .sort()
    .map((name, i) => {
      const key = `raw/d/canonical/${table}/${name}`;
      return {
        file: { key, format: 'canonical' },
        local: { key, path: join(out, table, name), index: offset + i },
      };
    });

describe('extension-column and attribute tests against spend', () => {
  for (const seed of [5, 23]) {
    it(`find exactly the planted columns and attributes (seed ${seed})`, async () => {
      const out = join(dir, `s${seed}`);
      await generateDataset({ outDir: out, customers: 1500, months: 12, seed, experiment: false });
      const attributes = writePlantedAttributes(out, seed);
      const extensions = writePlantedExtensions(out, seed);
      const config = parseRunConfig({
        attributes: {
          ...(attributes.config.attributes as object),
          ...(extensions.config.attributes as object),
        },
      });
      const declared = config.attributes!;
      await withDuck(async (duck) => {
        await parseTransactionFiles(
          duck,
          filesOf(out, 'transactions'),
          join(out, 'ingested.parquet'),
          () => {},
          declared.transactions!.fields,
        );
        await parseEventFiles(
          duck,
          filesOf(out, 'events', 100),
          join(out, 'events_ingested.parquet'),
          declared.events!.fields,
        );
        const cleaned = await cleanTransactions(duck, {
          inputPath: join(out, 'ingested.parquet'),
          cutoffIso: CUTOFF,
          outlierIqrMultiplier: 3,
          outDir: out,
        });
        const events = await cleanEvents(duck, {
          inputPath: join(out, 'events_ingested.parquet'),
          cutoffIso: CUTOFF,
          outDir: out,
        });
        // every planted bad value is named, none of its lines dropped
        expect(cleaned.metrics.extensionColumns?.badValuesByField.discount_pct).toBe(
          extensions.badValues.discount_pct,
        );
        expect(events.metrics.extensionColumns?.badValuesByField.dwell_seconds).toBe(
          extensions.badValues.dwell_seconds,
        );
        expect(extensions.badValues.discount_pct).toBeGreaterThan(0);
        await parseCustomerFiles(
          duck,
          [
            {
              file: { key: 'raw/d/canonical/customers/customers.csv', format: 'canonical' },
              local: { key: 'raw/d/canonical/customers/customers.csv', path: attributes.path, index: 200 },
            },
          ],
          declared.customers,
          {
            customers: join(out, 'customers.parquet'),
            quarantine: join(out, 'customers_quarantine.parquet'),
          },
        );
        await duck.run(
          `CREATE OR REPLACE VIEW transactions AS SELECT * FROM read_parquet('${cleaned.paths.transactions}')`,
        );
        await duck.run(
          `CREATE OR REPLACE VIEW events AS SELECT * FROM read_parquet('${events.paths.events}')`,
        );
        await duck.run(
          `CREATE OR REPLACE VIEW customer_attributes AS SELECT * FROM read_parquet('${join(out, 'customers.parquet')}')`,
        );

        const plan = await planExtensionFeatures(duck, {
          cutoff: CUTOFF,
          attributes: declared,
          hasEvents: true,
          customersTable: 'customer_attributes',
        });
        const result = await computeAttributeTests(duck, {
          cutoff: CUTOFF,
          fields: declared.customers!.fields,
          tests: declared.tests,
          customersTable: 'customer_attributes',
          extensions: plan.extensions.map((e) => ({ table: e.table, field: e.field })),
        });
        expect(result.associated).toEqual(['membership', 'income', 'ext_channel', 'ext_dwell_seconds']);
        for (const name of [...attributes.withoutEffect, ...extensions.withoutEffect]) {
          const test = result.tests.find((t) => t.attribute === name)!;
          expect(test.pValue, name).not.toBeNull();
          expect(test.significant, name).toBe(false);
        }
        const channel = result.tests.find((t) => t.attribute === 'ext_channel')!;
        expect(channel.source).toBe('transactions');
        expect(channel.test).toBe('one-way ANOVA');
        const mean = (level: string): number => channel.levels!.find((l) => l.level === level)!.meanLogSpend;
        expect(mean('app')).toBeGreaterThan(mean('web'));
        expect(mean('web')).toBeGreaterThan(mean('store'));
        const dwell = result.tests.find((t) => t.attribute === 'ext_dwell_seconds')!;
        expect(dwell.source).toBe('events');
        expect(dwell.secondaryEffect!.value).toBeGreaterThan(0);

        // The feature columns, against their definitions recomputed from the lines.
        await duck.run(
          `CREATE OR REPLACE TABLE features_under_test AS SELECT DISTINCT customer_id FROM transactions ORDER BY customer_id`,
        );
        const added = await addExtensionFeatures(duck, {
          cutoff: CUTOFF,
          plan,
          featuresTable: 'features_under_test',
          customersTable: 'customer_attributes',
        });
        expect(added.definitions.map((d) => d.name)).toEqual(added.featureNames);
        expect(added.featureNames).toEqual(
          expect.arrayContaining([
            'ext_channel_share_app',
            'ext_channel_share_web',
            'ext_channel_share_store',
            'ext_discount_pct_sum',
            'ext_discount_pct_mean',
            'ext_gift_wrap_share_true',
            'ext_dwell_seconds_mean',
            'ext_device_share_mobile',
            'attr_income',
            'attr_income_missing',
          ]),
        );
        // membership: one-hot against its most frequent level, which has no column
        const membership = plan.attributes.find((a) => a.field.name === 'membership')!;
        expect(added.featureNames).not.toContain(`attr_membership_${membership.reference}`);
        expect(membership.levels!.levels).toHaveLength(2);
        const check = await duck.one<{
          shares_off: number;
          app_off: number;
          mean_off: number;
          onehot_off: number;
          n: number;
        }>(
          `WITH truth AS (
             SELECT customer_id,
                    count(*) FILTER (WHERE ext_channel = 'app') / count(ext_channel) AS app,
                    avg(ext_discount_pct) AS discount_mean
             FROM transactions GROUP BY customer_id)
           SELECT count(*)::INTEGER AS n,
                  max(abs(f.ext_channel_share_app + f.ext_channel_share_web + f.ext_channel_share_store - 1)) AS shares_off,
                  max(abs(f.ext_channel_share_app - t.app)) AS app_off,
                  max(abs(f.ext_discount_pct_mean - COALESCE(t.discount_mean, 0))) AS mean_off,
                  max(abs(${membership.levels!.levels.map((l) => `f."${l.slug}"`).join(' + ')}
                          - CASE WHEN a.membership IS NULL OR a.membership = '${membership.reference}' THEN 0 ELSE 1 END)) AS onehot_off
           FROM features_under_test f JOIN truth t USING (customer_id) LEFT JOIN customer_attributes a USING (customer_id)`,
        );
        expect(check.n).toBeGreaterThan(500);
        expect(check.shares_off).toBeLessThan(1e-12);
        expect(check.app_off).toBeLessThan(1e-12);
        expect(check.mean_off).toBeLessThan(1e-6);
        expect(check.onehot_off).toBe(0);
      });
    }, 180_000);
  }

  it('writes the same bytes from two databases whatever the thread split', async () => {
    const out = join(dir, 'determinism');
    await generateDataset({ outDir: out, customers: 300, months: 6, seed: 9, experiment: false });
    const attributes = writePlantedAttributes(out, 9);
    const extensions = writePlantedExtensions(out, 9);
    const declared = parseRunConfig({
      attributes: {
        ...(attributes.config.attributes as object),
        ...(extensions.config.attributes as object),
      },
    }).attributes!;
    const cleanedPath = await withDuck(async (duck) => {
      await parseTransactionFiles(
        duck,
        filesOf(out, 'transactions'),
        join(out, 'ingested.parquet'),
        () => {},
        declared.transactions!.fields,
      );
      return (
        await cleanTransactions(duck, {
          inputPath: join(out, 'ingested.parquet'),
          cutoffIso: CUTOFF,
          outlierIqrMultiplier: 3,
          outDir: out,
        })
      ).paths.transactions;
    });
    const digests: string[] = [];
    for (const threads of [1, 4]) {
      digests.push(
        await withDuck(
          async (duck) => {
            // rows shuffled, so every customer's lines are spread over threads differently
            await duck.run(
              `CREATE TABLE transactions AS SELECT * FROM read_parquet('${cleanedPath}') ORDER BY hash(source_line, ${threads})`,
            );
            const plan = await planExtensionFeatures(duck, {
              cutoff: CUTOFF,
              attributes: declared,
              hasEvents: false,
            });
            await duck.run(
              'CREATE TABLE f AS SELECT DISTINCT customer_id FROM transactions ORDER BY customer_id',
            );
            await addExtensionFeatures(duck, { cutoff: CUTOFF, plan, featuresTable: 'f' });
            const path = join(out, `features-${threads}.parquet`);
            await duck.toParquet('SELECT * FROM f ORDER BY customer_id', path);
            return createHash('sha256')
              .update(await readFile(path))
              .digest('hex');
          },
          { threads },
        ),
      );
    }
    expect(digests[1]).toBe(digests[0]);
  }, 120_000);
});
