import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../../../lib/duck';
import { churnSection } from '../../../lib/stageConfig/churn';
import type { ChurnConfig } from '../../../lib/stageConfig/churn';
import { computeChurn } from '../../../activities/churn/index';
import type { ComputeChurnResult } from '../../../activities/churn/index';
import { churnLabelsSql } from '../../../activities/churn/labels';
import { rocAuc } from '../../../activities/churn/metrics';
import { buildCustomerFeatures } from '../../../activities/features/customerFeatures';
import { generateDataset, NO_DIRTY_RATES } from '../../../scripts/generate/index';
import { HAS_ONLINE_RETAIL, ONLINE_RETAIL_GLOB } from '../../sharedData';

const hasOnlineRetail = HAS_ONLINE_RETAIL;

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'churn-stage-test-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const config = (overrides: Partial<ChurnConfig> = {}): ChurnConfig => churnSection.parse(overrides);

/** The features stage's output at the run cutoff, then the churn stage on the same transactions. */
async function runChurn(
  duck: Duck,
  name: string,
  options: { cutoff: string; config?: ChurnConfig; events?: boolean; seed?: number },
): Promise<ComputeChurnResult> {
  const outDir = join(workDir, name);
  await mkdir(outDir, { recursive: true });
  const hasEvents = options.events ?? false;
  await buildCustomerFeatures(duck, { cutoff: options.cutoff, hasEvents, outputTable: 'features_at_cutoff' });
  return computeChurn(duck, {
    transactionsTable: 'transactions',
    eventsTable: hasEvents ? 'events' : undefined,
    scoringFeaturesTable: 'features_at_cutoff',
    cutoff: options.cutoff,
    config: options.config ?? config(),
    seed: options.seed ?? 42,
    outDir,
  });
}

interface ScoreRow extends Record<string, unknown> {
  customer_id: string;
  churn_probability: number;
  churn_model: string;
  high_value_probability: number | null;
  high_value_lower95: number | null;
  high_value_upper95: number | null;
}

async function readScores(duck: Duck, path: string): Promise<ScoreRow[]> {
  return duck.all<ScoreRow>(`SELECT * FROM read_parquet(${sqlString(path)})`);
}

/** An ISO instant as a DuckDB TIMESTAMP literal (UTC). */
const ts = (iso: string): string => `TIMESTAMP '${iso.replace('T', ' ').replace('Z', '')}'`;

describe.skipIf(!hasOnlineRetail)('computeChurn on Online Retail, December 2011', () => {
  it('beats the recency-only baseline on the held-out window, with windows inside the data', async () => {
    const duck = await Duck.open();
    try {
      // Canonical-enough rows: customer ids without the '.0' pandas left, no anonymous lines, no free or
      // negative prices (adjustments); cancellations stay as negative-quantity return lines.
      await duck.run(`CREATE TABLE transactions AS
        SELECT regexp_replace(CustomerID, '\\.0$', '') AS customer_id, InvoiceNo AS order_id, InvoiceDate AS ts,
               StockCode AS product_id, NULL::VARCHAR AS category, Quantity AS quantity,
               UnitPrice AS unit_price, (Quantity * UnitPrice)::DOUBLE AS amount
        FROM read_csv(${sqlString(ONLINE_RETAIL_GLOB)}, header = true, delim = ',', quote = '"',
               columns = {'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'Description': 'VARCHAR',
                          'Quantity': 'INTEGER', 'InvoiceDate': 'TIMESTAMP', 'UnitPrice': 'DOUBLE',
                          'CustomerID': 'VARCHAR', 'Country': 'VARCHAR'},
               timestampformat = '%Y-%m-%d %H:%M:%S')
        WHERE CustomerID IS NOT NULL AND trim(CustomerID) <> '' AND UnitPrice > 0`);
      const result = await runChurn(duck, 'online-retail', { cutoff: '2011-12-31T23:59:59.999Z' });
      const m = result.metrics;
      console.log(
        `Online Retail 2011-12: model ${m.model}, held-out AUC ${m.auc?.toFixed(4)} vs recency baseline ` +
          `${m.baselineAuc?.toFixed(4)}; PR-AUC ${m.prAuc?.toFixed(4)}, Brier ${m.brier?.toFixed(4)}, churn rate ` +
          `${m.positiveRate?.toFixed(4)}; candidates ${m.candidates.map((c) => `${c.model} ${c.auc.toFixed(4)}`).join(', ')}; ` +
          `high-value accuracy ${m.highValue?.accuracy.toFixed(4)} (majority ${m.highValue?.majorityAccuracy.toFixed(4)}), ` +
          `AUC ${m.highValue?.auc.toFixed(4)}; customers train ${m.trainCustomers}, eval ${m.evalCustomers}, scored ${m.scoredCustomers}`,
      );
      // The data ends 2011-12-09 12:50: windows close there, not at the run cutoff (a window reaching into the
      // empty end of December would make everyone a churner).
      expect(m.effectiveEnd).toBe('2011-12-09T23:59:59.999Z');
      expect(m.evalCutoff).toBe('2011-09-10T23:59:59.999Z');
      expect(m.trainCutoff).toBe('2011-06-12T23:59:59.999Z');
      expect(m.scoringFeatures).toBe('recomputed at effective end');
      expect(m.model).not.toBeNull();
      expect(m.auc).toBeGreaterThan(m.baselineAuc as number);
      expect(m.baselineAuc).toBeGreaterThan(0.6);

      // Labels recomputed independently: a customer with an invoice of positive net value at or before E churns
      // when she has none in (E, D].
      const check = await duck.one<{ active: number; churned: number }>(`
        WITH invoices AS (
          SELECT customer_id, order_id, min(ts) AS ts, sum(amount) AS value FROM transactions GROUP BY ALL
        ), active AS (
          SELECT DISTINCT customer_id FROM invoices WHERE value > 0 AND ts <= ${ts(m.evalCutoff as string)}
        ), bought AS (
          SELECT DISTINCT customer_id FROM invoices
          WHERE value > 0 AND ts > ${ts(m.evalCutoff as string)} AND ts <= ${ts(m.effectiveEnd as string)}
        )
        SELECT count(*)::INTEGER AS active, count(*) FILTER (WHERE b.customer_id IS NULL)::INTEGER AS churned
        FROM active a LEFT JOIN bought b USING (customer_id)`);
      expect(m.evalCustomers).toBe(check.active);
      expect(m.positiveRate).toBeCloseTo(check.churned / check.active, 12);

      // Every customer of the features stage is scored, once, in customer_id order.
      const { n } = await duck.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM features_at_cutoff`);
      const scores = await readScores(duck, result.paths.scores);
      expect(scores).toHaveLength(n);
      expect(m.scoredCustomers).toBe(n);
      for (let i = 1; i < scores.length; i++)
        expect(scores[i - 1].customer_id < scores[i].customer_id).toBe(true);
      expect(
        scores.every((s) => s.churn_model === m.model && s.churn_probability > 0 && s.churn_probability < 1),
      ).toBe(true);
      const atRisk = result.document.atRisk as { customerId: string; churnProbability: number }[];
      expect(atRisk).toHaveLength(50);
      const highest = Math.max(...scores.map((s) => s.churn_probability));
      expect(atRisk[0].churnProbability).toBe(highest);
    } finally {
      duck.close();
    }
  }, 60_000);
});

describe('computeChurn on a planted synthetic dataset', () => {
  const cutoff = '2024-12-31T23:59:59.999Z';
  let dataDir: string;
  let duck: Duck;

  beforeAll(async () => {
    dataDir = join(workDir, 'synthetic');
    await generateDataset({
      outDir: dataDir,
      customers: 3000,
      months: 24,
      seed: 7,
      experiment: false,
      dirty: NO_DIRTY_RATES,
    });
    duck = await Duck.open();
    await duck.run(`CREATE TABLE transactions AS SELECT * FROM read_csv(${sqlString(join(dataDir, 'transactions', '*.csv'))},
      header = true, columns = {'customer_id': 'VARCHAR', 'order_id': 'VARCHAR', 'ts': 'TIMESTAMP',
        'product_id': 'VARCHAR', 'product_name': 'VARCHAR', 'category': 'VARCHAR', 'quantity': 'INTEGER',
        'unit_price': 'DOUBLE', 'amount': 'DOUBLE', 'country': 'VARCHAR'})`);
    await duck.run(`CREATE TABLE events AS SELECT * FROM read_csv(${sqlString(join(dataDir, 'events', '*.csv'))},
      header = true, columns = {'customer_id': 'VARCHAR', 'session_id': 'VARCHAR', 'ts': 'TIMESTAMP',
        'event_type': 'VARCHAR', 'product_id': 'VARCHAR', 'category': 'VARCHAR'})`);
    await duck.run(`CREATE TABLE truth AS SELECT customer_id, lambda_weekly, alive_until::TIMESTAMP AS alive_until
      FROM read_csv(${sqlString(join(dataDir, 'truth_customers.csv'))}, header = true)`);
  }, 60_000);

  afterAll(() => duck?.close());

  it('ranks churners above the recency baseline and below the planted oracle', async () => {
    const result = await runChurn(duck, 'synthetic', { cutoff, events: true });
    const m = result.metrics;
    // The oracle knows each customer's hidden state at E: a customer who has dropped out churns for sure, an
    // alive one makes no purchase in 90 days with probability exp(-lambda 90/7) (BG/NBD, no seasonality).
    const window = churnLabelsSql({ cutoff: m.evalCutoff as string, windowDays: 90 });
    const { columns } = await duck.columns(
      `SELECT l.churned::DOUBLE AS churned,
              CASE WHEN t.alive_until <= ${ts(m.evalCutoff as string)} THEN 1.0 ELSE exp(-t.lambda_weekly * 90 / 7) END AS oracle
       FROM (${window}) l JOIN truth t USING (customer_id) ORDER BY customer_id`,
      ['churned', 'oracle'],
    );
    const oracleAuc = rocAuc(columns.oracle, Uint8Array.from(columns.churned));
    console.log(
      `synthetic (3000 customers, planted BG/NBD): model ${m.model}, held-out AUC ${m.auc?.toFixed(4)}, ` +
        `recency baseline ${m.baselineAuc?.toFixed(4)}, planted oracle ${oracleAuc.toFixed(4)}; churn rate ` +
        `${m.positiveRate?.toFixed(4)}; high-value accuracy ${m.highValue?.accuracy.toFixed(4)} ` +
        `(majority ${m.highValue?.majorityAccuracy.toFixed(4)}), Bayesian AUC ${m.highValue?.bayesianAuc.toFixed(4)}`,
    );
    expect(columns.churned.length).toBe(m.evalCustomers);
    expect(m.effectiveEnd).toBe(cutoff);
    expect(m.scoringFeatures).toBe('features stage');
    expect(m.auc).toBeGreaterThan(0.6);
    expect(m.auc).toBeGreaterThan(m.baselineAuc as number);
    // No model sees more than the oracle's hidden state.
    expect(m.auc).toBeLessThan(oracleAuc);
    // Event features reach the model.
    const importance = (result.document.churn as { importance: { feature: string }[] }).importance;
    expect(importance.map((f) => f.feature)).toContain('sessions');

    // Bayesian high-value classifier: intervals per coefficient and per customer hold their point estimates.
    const bayes = (result.document.highValue as { bayesian: { scoring: { coefficients: Interval[] } } })
      .bayesian;
    const coefficients = bayes.scoring.coefficients;
    expect(coefficients[0].name).toBe('intercept');
    expect(coefficients.length).toBe(importance.length + 1);
    for (const c of coefficients) {
      expect(c.sd).toBeGreaterThan(0);
      expect(c.lower).toBeLessThan(c.mean);
      expect(c.upper).toBeGreaterThan(c.mean);
      // Equal-tailed 95% under the Laplace (Gaussian) posterior: mean -+ 1.96 sd.
      expect(c.upper - c.lower).toBeCloseTo(2 * 1.959964 * c.sd, 4);
    }
    const scores = await readScores(duck, result.paths.scores);
    expect(scores).toHaveLength(m.scoredCustomers);
    for (const s of scores) {
      expect(s.high_value_lower95 as number).toBeGreaterThan(0);
      expect(s.high_value_lower95 as number).toBeLessThan(s.high_value_probability as number);
      expect(s.high_value_upper95 as number).toBeGreaterThan(s.high_value_probability as number);
      expect(s.high_value_upper95 as number).toBeLessThan(1);
    }

    // Same inputs and seed: the same bytes.
    const again = await runChurn(duck, 'synthetic-again', { cutoff, events: true });
    const sha = async (path: string): Promise<string> =>
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
    expect(await sha(again.paths.scores)).toBe(await sha(result.paths.scores));
    expect(await sha(again.paths.model)).toBe(await sha(result.paths.model));
  }, 60_000);

  it('fits on a seeded sample of churn.maxTrainingRows customers and still judges and scores everyone', async () => {
    const full = await runChurn(duck, 'fit-full', { cutoff, events: true });
    const sampled = await runChurn(duck, 'fit-sample', {
      cutoff,
      events: true,
      config: config({ maxTrainingRows: 1000 }),
    });
    const [f, m] = [full.metrics, sampled.metrics];
    expect(f.fitCustomers).toEqual({ train: f.trainCustomers, eval: f.evalCustomers });
    expect(m.trainCustomers).toBeGreaterThan(1000);
    expect(m.fitCustomers).toEqual({ train: 1000, eval: 1000 });
    // Judged on the whole evaluation window and scored for everyone, whatever the fit sample.
    expect(m.evalCustomers).toBe(f.evalCustomers);
    expect(m.scoredCustomers).toBe(f.scoredCustomers);
    expect(m.baselineAuc).toBe(f.baselineAuc);
    // A third of the customers cost little accuracy on this planted data, and the sample is seeded.
    expect(m.auc).toBeGreaterThan(m.baselineAuc as number);
    expect(Math.abs((m.auc as number) - (f.auc as number))).toBeLessThan(0.03);
    const again = await runChurn(duck, 'fit-sample-again', {
      cutoff,
      events: true,
      config: config({ maxTrainingRows: 1000 }),
    });
    expect(again.metrics.auc).toBe(m.auc);
    expect(await readFile(again.paths.model, 'utf8')).toBe(await readFile(sampled.paths.model, 'utf8'));
  }, 90_000);

  it('completes without a model when the history is shorter than two windows', async () => {
    // The same customers seen only from 2024-09-01: 122 days, less than 2 x 90.
    await duck.run(
      `CREATE TABLE recent AS SELECT * FROM transactions WHERE ts >= TIMESTAMP '2024-09-01 00:00:00'`,
    );
    const outDir = join(workDir, 'short');
    await mkdir(outDir, { recursive: true });
    await buildCustomerFeatures(duck, {
      cutoff,
      hasEvents: false,
      table: 'recent',
      outputTable: 'recent_features',
    });
    const result = await computeChurn(duck, {
      transactionsTable: 'recent',
      scoringFeaturesTable: 'recent_features',
      cutoff,
      config: config(),
      seed: 1,
      outDir,
    });
    expect(result.metrics.model).toBeNull();
    expect(result.metrics.auc).toBeNull();
    expect(result.metrics.reason).toMatch(/history too short/);
    expect(result.metrics.scoredCustomers).toBe(0);
    const scores = await duck.all<{ column_name: string }>(
      `DESCRIBE SELECT * FROM read_parquet(${sqlString(result.paths.scores)})`,
    );
    expect(scores.map((c) => c.column_name)).toEqual([
      'customer_id',
      'churn_probability',
      'churn_model',
      'high_value_probability',
      'high_value_lower95',
      'high_value_upper95',
    ]);
    expect(await readScores(duck, result.paths.scores)).toHaveLength(0);
    const document = JSON.parse(await readFile(result.paths.model, 'utf8')) as {
      model: null;
      reason: string;
    };
    expect(document.model).toBeNull();
    expect(document.reason).toBe(result.metrics.reason);
  }, 60_000);

  it('completes without a model when too few customers are labelled', async () => {
    // Two years of history but only 30 customers.
    await duck.run(`CREATE TABLE few AS SELECT * FROM transactions WHERE customer_id IN
      (SELECT DISTINCT customer_id FROM transactions ORDER BY customer_id LIMIT 30)`);
    const outDir = join(workDir, 'few');
    await mkdir(outDir, { recursive: true });
    await buildCustomerFeatures(duck, {
      cutoff,
      hasEvents: false,
      table: 'few',
      outputTable: 'few_features',
    });
    const result = await computeChurn(duck, {
      transactionsTable: 'few',
      scoringFeaturesTable: 'few_features',
      cutoff,
      config: config(),
      seed: 1,
      outDir,
    });
    expect(result.metrics.model).toBeNull();
    expect(result.metrics.reason).toMatch(/^training window .*labelled customers, fewer than the 50 needed/);
    // These customers' last purchase is before the run cutoff: the windows end with it.
    const { last } = await duck.one<{ last: Date }>(`SELECT max(ts) AS last FROM few`);
    const endOfDay = Math.floor(last.getTime() / 86_400_000) * 86_400_000 + 86_400_000 - 1;
    expect(result.metrics.effectiveEnd).toBe(new Date(endOfDay).toISOString());
    expect(result.metrics.trainCutoff).toBe(new Date(endOfDay - 180 * 86_400_000).toISOString());
  }, 60_000);
});

interface Interval extends Record<string, unknown> {
  name: string;
  mean: number;
  sd: number;
  lower: number;
  upper: number;
}
