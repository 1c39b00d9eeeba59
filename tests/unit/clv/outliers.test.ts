/**
 * The outliers option (lib/outlierTreatment.ts) on clv's input, with real parts: clean flags the lines,
 * the treatment reads clean's parquet, computeClv fits Gamma-Gamma. Spend is planted: every customer's line
 * amounts are Gamma(p, nu) with nu ~ Gamma(q, v), p = 6, q = 4, v = 15, so the population mean spend per
 * purchase is p v / (q - 1) = 30; one planted customer spends 200,000 on each of five repeat days. Winsorising
 * (or excluding) the flagged lines must bring the fitted mean spend back toward 30.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanTransactions } from '../../../activities/clean/index';
import { computeClv } from '../../../activities/clv/index';
import { gammaGammaExpectedSpend } from '../../../activities/clv/gammaGamma';
import { parseRunConfig } from '../../../lib/config';
import { clvSection } from '../../../lib/stageConfig/clv';
import { withDuck, type Duck } from '../../../lib/duck';
import { ConfigError } from '../../../lib/errors';
import {
  createTreatedTable,
  outlierTreatment,
  type OutlierTreatment,
  withOutlierConfig,
} from '../../../lib/outlierTreatment';
import { Rng } from '../../../lib/random';

const PLANTED = { p: 6, q: 4, v: 15 };
const TRUE_MEAN_SPEND = (PLANTED.p * PLANTED.v) / (PLANTED.q - 1);
const WHALE_LINE = 200_000;
const CUTOFF = '2023-06-30T23:59:59.999Z';
const DAY_MS = 86_400_000;

let dir: string;
let cleanedPath: string;
let cleanMetrics: Record<string, unknown>;
let whaleLinesFlagged: boolean;

/** Ingest-shaped rows: 600 customers with 2 to 7 purchase days, one line a day, plus the whale. */
async function writeInput(duck: Duck): Promise<string> {
  const rng = new Rng(2024);
  const rows: string[] = [];
  const start = Date.UTC(2023, 0, 1);
  let line = 1;
  const push = (customer: string, day: number, amount: number): void => {
    const ts = new Date(start + day * DAY_MS + 36_000_000).toISOString().replace('T', ' ').slice(0, 19);
    const order = `o${line}`;
    rows.push(
      `('${customer}', '${order}', TIMESTAMP '${ts}', NULL::VARCHAR, 'p1', NULL::VARCHAR, NULL::VARCHAR, 1, ${amount}::DOUBLE, ${amount}::DOUBLE, 'UK', 'f1', ${line}, NULL::TIMESTAMP)`,
    );
    line++;
  };
  for (let c = 0; c < 600; c++) {
    const nu = rng.gamma(PLANTED.q, PLANTED.v);
    const first = rng.int(60);
    const repeats = 1 + rng.int(6);
    for (let k = 0; k <= repeats; k++) push(`c${c}`, first + 15 * k, rng.gamma(PLANTED.p, nu));
  }
  for (let k = 0; k <= 5; k++) push('whale', 10 + 15 * k, WHALE_LINE);
  const input = join(dir, 'in.parquet');
  await duck.toParquet(
    `SELECT * FROM (VALUES ${rows.join(', ')}) AS t(customer_id, order_id, ts, ts_raw, product_id, product_name, category, quantity, unit_price, amount, country, source_file, source_line, source_period_end)`,
    input,
  );
  return input;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-clv-outliers-'));
  await withDuck(async (duck) => {
    const cleaned = await cleanTransactions(duck, {
      inputPath: await writeInput(duck),
      cutoffIso: CUTOFF,
      outlierIqrMultiplier: 3,
      outDir: dir,
    });
    cleanedPath = cleaned.paths.transactions;
    cleanMetrics = cleaned.metrics;
    const whale = await duck.one<{ flagged: number }>(
      `SELECT count(*) FILTER (WHERE is_outlier)::INTEGER AS flagged FROM read_parquet('${cleanedPath}') WHERE customer_id = 'whale'`,
    );
    whaleLinesFlagged = whale.flagged === 6;
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fit(treatment: OutlierTreatment): Promise<{
  populationMean: number;
  meanSpend: number;
  touched: number;
  whaleX: number;
  customers: number;
}> {
  return withDuck(async (duck) => {
    const touched = await createTreatedTable(duck, {
      table: 'transactions',
      columns: 'customer_id, ts, amount',
      path: cleanedPath,
      treatment,
    });
    const outDir = join(dir, treatment.method);
    await mkdir(outDir, { recursive: true });
    const result = await computeClv(duck, {
      transactionsTable: 'transactions',
      cutoffIso: CUTOFF,
      config: clvSection.parse({}),
      outDir,
    });
    const spend = result.metrics.spend;
    if (!spend) throw new Error(`no Gamma-Gamma fit with ${treatment.method}`);
    const whale = await duck.one<{ x: number }>(
      `SELECT count(DISTINCT ts::DATE)::INTEGER - 1 AS x FROM transactions WHERE customer_id = 'whale'`,
    );
    // The model's spend per purchase of each customer, E[Z | x, zbar], averaged over customers.
    const { mean } = await duck.one<{ mean: number }>(
      `SELECT avg(expected_spend)::DOUBLE AS mean FROM read_parquet('${result.paths.clv}')`,
    );
    return {
      populationMean: gammaGammaExpectedSpend(spend),
      meanSpend: mean,
      touched,
      whaleX: whale.x,
      customers: result.rows,
    };
  });
}

describe('outliers option on clv input', () => {
  it('clean flags every line of the planted customer', () => {
    expect(whaleLinesFlagged).toBe(true);
  });

  it('winsorize moves the Gamma-Gamma mean spend toward the planted truth; exclude too', async () => {
    const none = await fit({ method: 'none' });
    const winsorized = await fit(outlierTreatment({ method: 'winsorize' }, cleanMetrics));
    const excluded = await fit({ method: 'exclude' });
    const flagged = cleanMetrics.outlierRows as number;
    expect(none.touched).toBe(0);
    expect(winsorized.touched).toBe(flagged);
    expect(excluded.touched).toBe(flagged);
    // One customer in 601 drags the customers' mean expected spend far from 30 ...
    expect(Math.abs(none.meanSpend - TRUE_MEAN_SPEND)).toBeGreaterThan(0.5 * TRUE_MEAN_SPEND);
    // ... and the treatments bring it back; the population mean p v / (q - 1) stays close in every case,
    // since Gamma-Gamma gives the whale a nu of its own.
    for (const treated of [winsorized, excluded]) {
      expect(Math.abs(treated.meanSpend - TRUE_MEAN_SPEND)).toBeLessThan(0.1 * TRUE_MEAN_SPEND);
      expect(Math.abs(treated.populationMean - TRUE_MEAN_SPEND)).toBeLessThanOrEqual(
        Math.abs(none.populationMean - TRUE_MEAN_SPEND) + 0.1 * TRUE_MEAN_SPEND,
      );
    }
    // Treated lines still count as purchases: no customer or purchase day disappears.
    expect(winsorized.whaleX).toBe(5);
    expect(excluded.whaleX).toBe(5);
    expect([none.customers, winsorized.customers, excluded.customers]).toEqual([601, 601, 601]);
  });

  it('leaves the cache key alone when the method is none, and refuses winsorize without bounds', () => {
    const section = { horizonMonths: 12 };
    expect(withOutlierConfig(section, undefined)).toBe(section);
    expect(withOutlierConfig(section, { method: 'none' })).toBe(section);
    expect(withOutlierConfig(section, { method: 'exclude' })).toEqual({
      horizonMonths: 12,
      outliers: { method: 'exclude' },
    });
    expect(() => outlierTreatment({ method: 'winsorize' }, {})).toThrow(ConfigError);
  });

  it('is a run-config section: absent by default, a misspelt method named', () => {
    expect('outliers' in parseRunConfig({})).toBe(false);
    expect(parseRunConfig({ outliers: { method: 'exclude' } }).outliers).toEqual({ method: 'exclude' });
    expect(() => parseRunConfig({ outliers: { method: 'winsorise' } })).toThrow(
      /outliers\.method: Invalid option: expected one of "none"\|"exclude"\|"winsorize"/,
    );
  });
});
