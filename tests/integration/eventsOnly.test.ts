/**
 * An events-only dataset end to end (issue 14, item 2): the generator's RetailRocket-shaped fixture
 * (events.csv, item_properties, category_tree; no transaction files) loaded with `--format retailrocket`
 * (each file to the table its name says), one monthly run on the real Temporal and S3 servers. Ingest derives
 * the transactions from purchase events with the planted prices and counts, clean quarantines the unpriced
 * lines as missing_price, and every stage of the DAG completes. The same dataset carries a customers table
 * (canonical format, a client's column names mapped by the dataset config) with planted attributes: ingest
 * quarantines its bad values by field and features' attribute tests find exactly the planted effects.
 *
 * On the same stack, a canonical generated dataset with open inputs (`data generate --attributes`, issue 14
 * item 1): a customers table and extension columns on transactions and events, declared in the dataset
 * config, some planted with an effect on spend. The tests find exactly those, and the report shows them.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDatasetRecord } from '../../lib/datasets';
import { loadData } from '../../scripts/commands/data';
import { loadRetailRocket } from '../../scripts/commands/dataRetailRocket';
import type { PlantedAttributes } from '../../scripts/generate/attributes';
import { startRun, waitForRun } from '../../scripts/commands/run';
import { generateRetailRocketFixture, type RetailRocketTruth } from '../../scripts/generate/retailRocket';
import { generateDataset } from '../../scripts/generate';
import { writeOpenInputs } from '../../scripts/generate/openInputs';
import { openHarness, type Harness } from './harness';

const DATASET = 'rr-events-only';

describe('an events-only RetailRocket-shaped dataset', () => {
  let harness: Harness;
  let dataDir: string;
  let truth: RetailRocketTruth;
  let planted: PlantedAttributes;

  beforeAll(async () => {
    harness = await openHarness();
    await harness.startWorker();
    dataDir = await mkdtemp(join(tmpdir(), 'custflow-rr-'));
    const fixture = await generateRetailRocketFixture({
      outDir: dataDir,
      customers: 300,
      months: 5,
      seed: 13,
      startMonth: '2023-01',
      attributes: true,
    });
    truth = fixture.truth;
    planted = fixture.attributes!;
  });

  afterAll(async () => {
    await harness?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('loads each file into its table and runs the whole DAG on transactions derived from purchase events', async () => {
    const loads = await loadRetailRocket({ dataset: DATASET, from: dataDir, check: true }, harness.store);
    expect(loads.map((l) => [l.table, l.files, l.rejected.length])).toEqual([
      ['category_tree', 1, 0],
      ['events', 1, 0],
      ['item_properties', 1, 0],
    ]);
    const record = await readDatasetRecord(harness.store, DATASET);
    expect(record?.sources.map((s) => `${s.table}:${s.format}`)).toEqual([
      'category_tree:retailrocket',
      'events:retailrocket',
      'item_properties:retailrocket',
    ]);

    // The customers table (canonical, a client's column names) with its mapping as the dataset config.
    const configPath = join(dataDir, 'dataset-config.json');
    await writeFile(configPath, JSON.stringify(planted.config));
    const customersLoad = await loadData(
      {
        dataset: DATASET,
        format: 'canonical',
        table: 'customers',
        from: planted.path,
        config: configPath,
        check: true,
      },
      harness.store,
    );
    expect(customersLoad.rejected).toEqual([]);

    const started = await startRun(harness.client, { dataset: DATASET, month: '2023-05' });
    const summary = await waitForRun(harness.client, started, { quiet: true });
    expect(summary.status, JSON.stringify(summary.warnings)).toBe('COMPLETED');
    const stages = Object.entries(summary.stages);
    expect(stages.map(([stage]) => stage)).toEqual(
      expect.arrayContaining([
        'ingest',
        'clean',
        'features',
        'segment',
        'clv',
        'churn',
        'recommend',
        'report',
      ]),
    );
    for (const [stage, outcome] of stages) expect(outcome.status, stage).toBe('completed');

    const ingest = summary.stages.ingest.metrics;
    expect(ingest.outputRows).toBe(truth.purchaseEvents);
    expect(ingest.eventRows).toBe(truth.purchaseEvents + truth.viewEvents + truth.addToCartEvents);
    expect(ingest.derivedFromEvents).toMatchObject({
      purchaseEvents: truth.purchaseEvents,
      pricedAsOf: truth.pricedAsOf,
      pricedFromLater: truth.pricedFromLater,
      unpriced: truth.unpriced,
    });
    const clean = summary.stages.clean.metrics as {
      quarantinedByReason: Record<string, number>;
      inputRows: number;
    };
    expect(clean.inputRows).toBe(truth.purchaseEvents);
    expect(clean.quarantinedByReason.missing_price).toBe(truth.unpriced);
    // Customer attributes: every row kept, the bad values quarantined by field, the planted effects found.
    expect(ingest.customerTable).toMatchObject({
      inputRows: planted.rows,
      outputRows: planted.rows,
      badValuesByField: { income: planted.badValues.income, newsletter: planted.badValues.newsletter },
    });
    const attributeTests = summary.stages.features.metrics.attributeTests as {
      associated: string[];
      tested: number;
    };
    expect(attributeTests.tested).toBe(5);
    expect(attributeTests.associated).toEqual([...planted.withEffect]);
    // ...and the report shows them: the card, each attribute, and the verdicts.
    const html = new TextDecoder().decode(
      await harness.store.getBytes(harness.store.keyFromUri(summary.stages.report.outputs.html)),
    );
    expect(html).toContain('Customer attributes and spend');
    // names wrap at underscores in the report (<wbr>)
    for (const name of [...planted.withEffect, ...planted.withoutEffect])
      expect(html).toContain(`<code>${name.replaceAll('_', '_<wbr>')}</code>`);
    expect(html.match(/>associated</g)).toHaveLength(planted.withEffect.length);
    expect(summary.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['ingest_price_from_later_snapshot', 'ingest_purchase_without_price']),
    );
  });

  it('runs a dataset with customer attributes and extension columns, finding exactly the planted effects', async () => {
    const dir = join(dataDir, 'open-inputs');
    await generateDataset({ outDir: dir, customers: 600, months: 6, seed: 7, experiment: false });
    const open = writeOpenInputs(dir, 7);
    const truth = JSON.parse(await readFile(open.truthPath, 'utf8')) as {
      badValues: { discount_pct: number; dwell_seconds: number };
    };
    const dataset = 'open-inputs';
    for (const [table, from] of [
      ['transactions', join(dir, 'transactions')],
      ['events', join(dir, 'events')],
      ['customers', open.customersPath],
    ] as const) {
      const load = await loadData(
        { dataset, format: 'canonical', table, from, config: open.configPath, check: true },
        harness.store,
      );
      expect(load.rejected, table).toEqual([]);
    }
    const started = await startRun(harness.client, { dataset, month: '2023-06' });
    const summary = await waitForRun(harness.client, started, { quiet: true });
    expect(summary.status, JSON.stringify(summary.warnings)).toBe('COMPLETED');
    // Every bad extension value named by clean, no line dropped for it.
    const clean = summary.stages.clean.metrics as {
      extensionColumns: { badValuesByField: Record<string, number> };
      events: { extensionColumns: { badValuesByField: Record<string, number> } };
    };
    expect(clean.extensionColumns.badValuesByField.discount_pct).toBe(truth.badValues.discount_pct);
    expect(clean.events.extensionColumns.badValuesByField.dwell_seconds).toBe(truth.badValues.dwell_seconds);
    const tests = summary.stages.features.metrics.attributeTests as { associated: string[]; tested: number };
    expect(tests.tested).toBe(open.withEffect.length + open.withoutEffect.length);
    expect(tests.associated).toEqual(open.withEffect);
    const html = new TextDecoder().decode(
      await harness.store.getBytes(harness.store.keyFromUri(summary.stages.report.outputs.html)),
    );
    for (const name of [...open.withEffect, ...open.withoutEffect])
      expect(html).toContain(`<code>${name.replaceAll('_', '_<wbr>')}</code>`);
    expect(html.match(/>associated</g)).toHaveLength(open.withEffect.length);
    // Segment profiles of the declared columns, in the segment outputs and the report.
    expect(summary.stages.segment.outputs.attributeProfiles).toBeDefined();
    expect(html).toContain('Segment profiles: attributes and extension columns');
    expect(html).toContain('<code>ext_<wbr>channel_<wbr>share_<wbr>app</code>');
    // The CRM export carries the declared customer attributes, and only those.
    const crm = new TextDecoder().decode(
      await harness.store.getBytes(harness.store.keyFromUri(summary.stages.report.outputs.crm)),
    );
    const header = crm.slice(0, crm.indexOf('\r\n')).split(',');
    expect(header.filter((c) => c.startsWith('attribute_'))).toEqual([
      'attribute_membership',
      'attribute_income',
      'attribute_favourite_colour',
      'attribute_shoe_size',
      'attribute_newsletter',
    ]);
  });
});
