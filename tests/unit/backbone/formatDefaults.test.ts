/**
 * A format's conventions, end to end on the real files: the config a dataset loaded as `--format F` gets
 * with no config at all (format defaults only), through ingest's parser and clean, into the models.
 * - CDNOW: its $0 orders stay purchases and BG/NBD gives the published estimates (Fader, Hardie and Lee
 *   2005: r 0.2426, alpha 4.4136, a 0.7929, b 2.4259); with zero prices quarantined alpha drifts to 4.4224.
 * - Online Retail: postage, fees and adjustments are flagged line_kind = 'non_merchandise', kept and
 *   counted, and the row accounting still holds.
 * Each suite skips when the shared data is absent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanTransactions, type CleanMetrics } from '../../../activities/clean';
import { fitBgNbd } from '../../../activities/clv/bgNbd';
import { customerSummarySql } from '../../../activities/clv/customerSummary';
import { ONLINE_RETAIL_NON_MERCHANDISE_CODES } from '../../../activities/ingest/formats';
import { parseTransactionFiles } from '../../../activities/ingest/parse';
import type { RunConfig } from '../../../lib/config';
import { resolveRunConfigLayers } from '../../../lib/datasets';
import { Duck, sqlString } from '../../../lib/duck';
import {
  CDNOW_DIR,
  HAS_CDNOW,
  HAS_ONLINE_RETAIL,
  ONLINE_RETAIL_BY_DAY,
  ONLINE_RETAIL_GLOB,
  onlineRetailDayFiles,
} from '../../sharedData';

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'custflow-format-defaults-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** The run config of a dataset loaded as `--format format` with no dataset or command config. */
const formatOnlyConfig = (format: 'cdnow' | 'online-retail'): RunConfig =>
  resolveRunConfigLayers({
    dataset: format,
    sources: [{ table: 'transactions', format }],
    config: null,
    configSource: null,
  }).config;

async function ingestAndClean(
  duck: Duck,
  format: 'cdnow' | 'online-retail',
  files: { key: string; path: string; periodEndIso?: string }[],
  cutoffIso: string,
  config: RunConfig,
): Promise<{ metrics: CleanMetrics; transactions: string; quarantine: string }> {
  const dir = await mkdtemp(join(workDir, `${format}-`));
  await parseTransactionFiles(
    duck,
    files.map((f, index) => ({ file: { key: f.key, format }, local: { ...f, index } })),
    join(dir, 'ingest.parquet'),
  );
  const cleaned = await cleanTransactions(duck, {
    inputPath: join(dir, 'ingest.parquet'),
    cutoffIso,
    outlierIqrMultiplier: config.clean.outlierIqrMultiplier,
    quarantineZeroPrice: config.clean.quarantineZeroPrice,
    nonMerchandiseCodes: [...config.clean.nonMerchandiseCodes, ...config.clean.extraNonMerchandiseCodes],
    outDir: dir,
  });
  return {
    metrics: cleaned.metrics,
    transactions: cleaned.paths.transactions,
    quarantine: cleaned.paths.quarantine,
  };
}

describe.skipIf(!HAS_CDNOW)('--format cdnow with no config', () => {
  const CALIBRATION_END = '1997-09-30T23:59:59.999Z';

  it('keeps the $0 purchases and reproduces the published BG/NBD estimates', async () => {
    const config = formatOnlyConfig('cdnow');
    expect(config.clean.quarantineZeroPrice).toBe(false);
    const duck = await Duck.open();
    try {
      const key = 'raw/cdnow/cdnow/transactions/CDNOW_sample.txt';
      const { metrics, transactions } = await ingestAndClean(
        duck,
        'cdnow',
        [{ key, path: join(CDNOW_DIR, 'CDNOW_sample.txt') }],
        CALIBRATION_END,
        config,
      );
      // the sample has 6,919 lines; 8 of those up to the calibration end are $0 orders
      expect(metrics.quarantinedByReason.non_positive_price).toBe(0);
      expect(metrics.quarantinedRows).toBe(0);
      const zero = await duck.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(transactions)}) WHERE amount = 0`,
      );
      expect(zero.n).toBe(8);
      expect(metrics.nonMerchandiseRows).toBe(0);

      const rows = await duck.all<{ x: number; t_x: number; T: number }>(
        customerSummarySql(`read_parquet(${sqlString(transactions)})`, CALIBRATION_END, config.clv.timeUnit),
      );
      expect(rows.length).toBe(2357);
      const fit = fitBgNbd({
        x: Float64Array.from(rows, (r) => r.x),
        tx: Float64Array.from(rows, (r) => r.t_x),
        T: Float64Array.from(rows, (r) => r.T),
        timeUnit: config.clv.timeUnit,
      });
      expect(fit.params.r).toBeCloseTo(0.2426, 4);
      expect(fit.params.alpha).toBeCloseTo(4.4136, 3);
      expect(fit.params.a).toBeCloseTo(0.7929, 4);
      expect(fit.params.b).toBeCloseTo(2.4259, 3);
    } finally {
      duck.close();
    }
  });
});

describe.skipIf(!HAS_ONLINE_RETAIL)(
  '--format online-retail: non-merchandise lines flagged, kept, counted',
  () => {
    let duck: Duck;
    let metrics: CleanMetrics;
    let transactions: string;
    let quarantine: string;

    beforeAll(async () => {
      const config = formatOnlyConfig('online-retail');
      duck = await Duck.open();
      const files = onlineRetailDayFiles().map((f) => ({
        key: `raw/online-retail/online-retail/transactions/${f}`,
        path: join(ONLINE_RETAIL_BY_DAY, f),
        periodEndIso: `${f.slice(0, 10)}T23:59:59.999Z`,
      }));
      ({ metrics, transactions, quarantine } = await ingestAndClean(
        duck,
        'online-retail',
        files,
        '2011-12-31T23:59:59.999Z',
        config,
      ));
      console.log(
        `online retail: ${metrics.nonMerchandiseRows} non-merchandise lines kept, by code ${JSON.stringify(metrics.nonMerchandiseByCode)}, net ${metrics.nonMerchandiseAmount.toFixed(2)}`,
      );
    }, 120_000);
    afterAll(() => duck?.close());

    it('accounts for every row: merchandise + non-merchandise = kept, kept + set aside = input', () => {
      expect(metrics.inputRows).toBe(541_909);
      expect(metrics.merchandiseRows + metrics.nonMerchandiseRows).toBe(metrics.outputRows);
      expect(
        metrics.outputRows + metrics.quarantinedRows + metrics.duplicateRows + metrics.afterCutoffRows,
      ).toBe(metrics.inputRows);
      const byCodeTotal = Object.values(metrics.nonMerchandiseByCode).reduce((a, b) => a + b, 0);
      expect(byCodeTotal).toBe(metrics.nonMerchandiseRows);
    });

    it('flags exactly the configured codes, each with its count in the output', async () => {
      const rows = await duck.all<{ product_id: string; line_kind: string; n: number }>(
        `SELECT product_id, line_kind, count(*)::INTEGER AS n FROM read_parquet(${sqlString(transactions)})
       WHERE line_kind = 'non_merchandise' OR product_id IN ('PADS', '85123A') GROUP BY ALL ORDER BY product_id`,
      );
      const flagged = rows.filter((r) => r.line_kind === 'non_merchandise');
      for (const r of flagged) {
        expect(ONLINE_RETAIL_NON_MERCHANDISE_CODES).toContain(r.product_id);
        expect(metrics.nonMerchandiseByCode[r.product_id]).toBe(r.n);
      }
      expect(rows.find((r) => r.product_id === '85123A')?.line_kind).toBe('merchandise');
      expect(rows.find((r) => r.product_id === 'PADS')?.line_kind).toBe('merchandise');
      // Independently of clean, from the raw CSVs: distinct rows with a customer id, a non-zero quantity
      // and a positive price, per non-merchandise code, are what clean keeps and flags.
      const expected = await duck.all<{ code: string; n: number }>(
        `SELECT StockCode AS code, count(*)::INTEGER AS n FROM (
         SELECT DISTINCT * FROM read_csv(${sqlString(ONLINE_RETAIL_GLOB)}, header = true, all_varchar = true))
       WHERE trim(coalesce(CustomerID, '')) <> '' AND Quantity::INTEGER <> 0 AND UnitPrice::DOUBLE > 0
         AND StockCode IN (${ONLINE_RETAIL_NON_MERCHANDISE_CODES.map(sqlString).join(', ')})
       GROUP BY ALL ORDER BY n DESC, code`,
      );
      expect(metrics.nonMerchandiseByCode).toEqual(Object.fromEntries(expected.map((e) => [e.code, e.n])));
      for (const code of ['POST', 'DOT', 'M', 'C2', 'D', 'BANK CHARGES'])
        expect(metrics.nonMerchandiseByCode[code]).toBeGreaterThan(0);
    });

    it('carries line_kind into the quarantine too, so nothing about a row is lost', async () => {
      const q = await duck.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(quarantine)}) WHERE line_kind = 'non_merchandise'`,
      );
      // e.g. every AMAZON FEE line and most DOTCOM POSTAGE lines lack a customer id
      expect(q.n).toBeGreaterThan(0);
    });
  },
);
