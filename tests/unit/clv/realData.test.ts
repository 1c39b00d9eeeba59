/**
 * The clv stage on data its models were not shaped on: Online Retail (BG/NBD runs to b -> infinity there),
 * both CDNOW files and the project's generator, each through ingest's parser and clean with default settings.
 * Every customer must get a finite CLV >= 0 (the stage's own output check enforces it; the test re-reads the
 * file), and the calibration/holdout error of total purchases must stay within 10%.
 */
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../../../lib/duck';
import { cleanTransactions } from '../../../activities/clean/index';
import { clvSection } from '../../../lib/stageConfig/clv';
import { computeClv } from '../../../activities/clv/index';
import type { ComputeClvResult } from '../../../activities/clv/index';
import { parseTransactionFiles } from '../../../activities/ingest/parse';
import type { InputFormat } from '../../../activities/ingest/formats';
import { generateDataset } from '../../../scripts/generate/index';
import {
  CDNOW_DIR,
  HAS_CDNOW,
  HAS_ONLINE_RETAIL,
  ONLINE_RETAIL_BY_DAY,
  onlineRetailDayFiles,
} from '../../sharedData';

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'clv-real-data-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Raw files -> ingest parser -> clean (default settings) -> computeClv (default clv config). */
async function runThroughClean(
  name: string,
  format: InputFormat,
  files: { path: string; periodEndIso?: string }[],
  cutoffIso: string,
): Promise<{ result: ComputeClvResult; duck: Duck }> {
  const dir = join(workDir, name);
  await mkdir(dir, { recursive: true });
  const duck = await Duck.open({ threads: 2 });
  await parseTransactionFiles(
    duck,
    files.map((f, index) => {
      const key = `raw/${name}/${format}/${f.path.split('/').pop()!}`;
      return { file: { key, format }, local: { key, path: f.path, index, periodEndIso: f.periodEndIso } };
    }),
    join(dir, 'ingest.parquet'),
  );
  const cleaned = await cleanTransactions(duck, {
    inputPath: join(dir, 'ingest.parquet'),
    cutoffIso,
    outlierIqrMultiplier: 3,
    outDir: dir,
  });
  await duck.run(
    `CREATE TABLE transactions AS SELECT customer_id, ts, amount FROM read_parquet(${sqlString(cleaned.paths.transactions)})`,
  );
  const outDir = join(dir, 'clv');
  await mkdir(outDir);
  const result = await computeClv(duck, {
    transactionsTable: 'transactions',
    cutoffIso,
    config: clvSection.parse({}),
    outDir,
  });
  return { result, duck };
}

/** Re-read clv.parquet: every customer once, finite CLV >= 0, P(alive) in [0, 1]. */
async function expectEveryCustomerScored(
  duck: Duck,
  result: ComputeClvResult,
  customers: number,
): Promise<void> {
  const row = await duck.one<{ n: number; ids: number; good: number; total: number }>(
    `SELECT count(*)::INTEGER AS n, count(DISTINCT customer_id)::INTEGER AS ids,
            count(*) FILTER (WHERE clv IS NOT NULL AND isfinite(clv) AND clv >= 0
                             AND p_alive BETWEEN 0 AND 1 AND isfinite(expected_purchases_12m))::INTEGER AS good,
            sum(clv) AS total
     FROM read_parquet(${sqlString(result.paths.clv)})`,
  );
  expect(row.n).toBe(customers);
  expect(row.ids).toBe(customers);
  expect(row.good).toBe(customers);
  expect(row.total).toBeCloseTo(result.metrics.totalClv, 3);
  for (const value of [result.metrics.totalClv, result.metrics.meanClv, result.metrics.medianClv]) {
    expect(Number.isFinite(value)).toBe(true);
  }
}

function holdoutError(result: ComputeClvResult): number {
  const holdout = result.metrics.holdout;
  if (!holdout) throw new Error(`no holdout: ${result.metrics.holdoutSkipped}`);
  return (holdout.predictedTotal - holdout.actualTotal) / holdout.actualTotal;
}

function describeResult(label: string, result: ComputeClvResult): string {
  const m = result.metrics;
  const params = (Object.entries(m.params) as [string, number][])
    .map(([k, v]) => `${k} ${v.toPrecision(5)}`)
    .join(', ');
  const h = m.holdout;
  return (
    `${label}: model ${m.model} (${params}); customers ${m.customers}; totalClv ${m.totalClv.toFixed(2)}, ` +
    `meanClv ${m.meanClv.toFixed(2)}, medianClv ${m.medianClv.toFixed(2)}; ` +
    (h
      ? `holdout ${h.calibrationCutoff.slice(0, 10)}: predicted ${h.predictedTotal.toFixed(1)} vs actual ${h.actualTotal}`
      : `holdout skipped: ${m.holdoutSkipped}`) +
    `; spend correlation ${m.spendIndependence.correlation?.toFixed(3)}; warnings ${result.warnings.map((w) => w.code).join(', ') || 'none'}`
  );
}

describe.skipIf(!HAS_ONLINE_RETAIL)('clv on Online Retail 2011-12 (BG/NBD at b -> infinity)', () => {
  it('scores all 4,338 customers with the homogeneous-dropout limit, holdout within 10%', async () => {
    const files = onlineRetailDayFiles().map((f) => ({
      path: join(ONLINE_RETAIL_BY_DAY, f),
      periodEndIso: new Date(Date.parse(f.slice(0, 10)) + 86_400_000 - 1).toISOString(),
    }));
    const { result, duck } = await runThroughClean(
      'online-retail',
      'online-retail',
      files,
      '2011-12-31T23:59:59.999Z',
    );
    try {
      console.log(describeResult('Online Retail 2011-12', result));
      const m = result.metrics;
      expect(m.customers).toBe(4338);
      await expectEveryCustomerScored(duck, result, 4338);
      // The BG/NBD maximum is on the boundary; its limit scores, and says so. Where BFGS stops on that flat
      // ridge (b of several million) depends on the order the likelihood is summed in: past exp(16) it is
      // reported as the boundary, just below as an unidentified concentration; the limit scores either way.
      const bg = m.modelChoice.candidates[0].params as { r: number; alpha: number; a: number; b: number };
      expect(bg.b).toBeGreaterThan(1e6);
      expect(m.modelChoice.reasons[0]).toMatch(/b -> infinity|dropout concentration not identified/);
      expect(m.model).toBe('bgnbd-homogeneous-dropout');
      expect(result.warnings.map((w) => w.code)).toContain('clv_boundary_limit_model');
      // Same fit: the limit's r, alpha equal the boundary BG/NBD's, and p = a / (a + b).
      const limit = m.params as { r: number; alpha: number; p: number };
      expect(Math.abs(limit.r - bg.r) / bg.r).toBeLessThan(1e-3);
      expect(Math.abs(limit.p - bg.a / (bg.a + bg.b)) / limit.p).toBeLessThan(0.02);
      expect(m.standardErrors.p).toBeGreaterThan(0);
      expect(Math.abs(holdoutError(result))).toBeLessThan(0.1);
      expect(m.spendIndependence.customers).toBeGreaterThan(2000);
      expect(m.spendIndependence.ok).toBe(Math.abs(m.spendIndependence.correlation!) <= 0.3);
    } finally {
      duck.close();
    }
  }, 180_000);
});

describe.skipIf(!HAS_CDNOW)('clv on CDNOW through ingest and clean (defaults)', () => {
  for (const [file, customers] of [
    ['CDNOW_sample.txt', 2357],
    ['CDNOW_master.txt', 23570],
  ] as const) {
    it(`${file}: every customer scored at 1998-06, holdout within 10%`, async () => {
      const { result, duck } = await runThroughClean(
        file.replace('.txt', '').toLowerCase(),
        'cdnow',
        [{ path: join(CDNOW_DIR, file) }],
        '1998-06-30T23:59:59.999Z',
      );
      try {
        console.log(describeResult(file, result));
        // Default clean quarantines the $0 orders (one-time buyers among them drop out).
        expect(result.metrics.customers).toBeGreaterThan(0.99 * customers);
        await expectEveryCustomerScored(duck, result, result.metrics.customers);
        expect(result.metrics.model).toBe('bgnbd');
        expect(Math.abs(holdoutError(result))).toBeLessThan(0.1);
      } finally {
        duck.close();
      }
    }, 180_000);
  }
});

describe('clv on the project generator (scripts/generate)', () => {
  async function runGenerated(seasonality: boolean): Promise<{ result: ComputeClvResult; duck: Duck }> {
    const out = join(workDir, `generated-${seasonality}`);
    const generated = await generateDataset({
      outDir: out,
      customers: 4000,
      seed: 11,
      events: false,
      seasonality,
    });
    expect(generated.rows.transactions).toBeGreaterThan(0);
    const files = readdirSync(join(out, 'transactions'))
      .filter((f) => f.endsWith('.csv'))
      .sort()
      .map((f) => ({ path: join(out, 'transactions', f) }));
    const lastMonth = files[files.length - 1].path.split('/').pop()!.slice(0, 7);
    const [year, month] = lastMonth.split('-').map(Number);
    const cutoff = new Date(Date.UTC(year, month, 1) - 1).toISOString();
    const run = await runThroughClean(`generated-${seasonality}`, 'canonical', files, cutoff);
    console.log(
      describeResult(`generator (4,000 customers, seed 11, seasonality ${seasonality})`, run.result),
    );
    return run;
  }

  it('pure BG/NBD timing (seasonality off): every customer scored, holdout within 10%', async () => {
    const { result, duck } = await runGenerated(false);
    try {
      await expectEveryCustomerScored(duck, result, result.metrics.customers);
      expect(Math.abs(holdoutError(result))).toBeLessThan(0.1);
    } finally {
      duck.close();
    }
  }, 180_000);

  it('default (Q4 seasonality): every customer scored; a holdout miss above 10% is a recorded warning', async () => {
    const { result, duck } = await runGenerated(true);
    try {
      await expectEveryCustomerScored(duck, result, result.metrics.customers);
      // A stationary model fitted to January-June under-predicts a July-December holdout that holds the Q4
      // peak; the stage must say so rather than pass silently.
      const error = Math.abs(holdoutError(result));
      expect(result.warnings.some((w) => w.code === 'clv_holdout_error_large')).toBe(error > 0.1);
    } finally {
      duck.close();
    }
  }, 180_000);
});
