/**
 * The recommend stage on Online Retail, December 2011 run, through ingest's parser and clean (with the
 * format's non-merchandise codes) and default settings: the chosen model must beat the popularity and the
 * buy-again baselines on hit rate at 10 on the month after its fit, and leave postage and fees out.
 * Skipped (saying so) when the shared data is absent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../../../lib/duck';
import { cleanTransactions } from '../../../activities/clean/index';
import { ONLINE_RETAIL_NON_MERCHANDISE_CODES } from '../../../activities/ingest/formats';
import { parseTransactionFiles } from '../../../activities/ingest/parse';
import { recommendSection } from '../../../lib/stageConfig/recommend';
import {
  computeRecommendations,
  type ComputeRecommendationsResult,
} from '../../../activities/recommend/index';
import { HAS_ONLINE_RETAIL, ONLINE_RETAIL_BY_DAY, onlineRetailDayFiles } from '../../sharedData';

const CUTOFF = '2011-12-31T23:59:59.999Z';

describe.skipIf(!HAS_ONLINE_RETAIL)('recommend on Online Retail, December 2011', () => {
  let workDir: string;
  let duck: Duck;
  let result: ComputeRecommendationsResult;
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'recommend-online-retail-'));
    duck = await Duck.open({ threads: 2 });
    const files = onlineRetailDayFiles();
    await parseTransactionFiles(
      duck,
      files.map((f, index) => {
        const key = `raw/online-retail/online-retail/${f}`;
        return {
          file: { key, format: 'online-retail' as const },
          local: {
            key,
            path: join(ONLINE_RETAIL_BY_DAY, f),
            index,
            periodEndIso: `${f.slice(0, 10)}T23:59:59.999Z`,
          },
        };
      }),
      join(workDir, 'ingest.parquet'),
    );
    const cleaned = await cleanTransactions(duck, {
      inputPath: join(workDir, 'ingest.parquet'),
      cutoffIso: CUTOFF,
      outlierIqrMultiplier: 3,
      nonMerchandiseCodes: ONLINE_RETAIL_NON_MERCHANDISE_CODES,
      outDir: workDir,
    });
    await duck.run(
      `CREATE TABLE transactions AS SELECT * FROM read_parquet(${sqlString(cleaned.paths.transactions)})`,
    );
    result = await computeRecommendations(duck, {
      transactionsTable: 'transactions',
      cutoff: CUTOFF,
      config: recommendSection.parse({}),
      outDir: workDir,
    });
  }, 300_000);
  afterAll(async () => {
    duck?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('beats popularity and buy again on hit rate at 10 in the month after the fit', () => {
    const m = result.metrics;
    // The data ends 2011-12-09: the evaluation month is the month before that day.
    expect(m.effectiveEnd).toBe('2011-12-09T23:59:59.999Z');
    expect(m.evaluationWindow?.from).toBe('2011-11-09T23:59:59.999Z');
    expect(m.evaluationWindow?.customers).toBeGreaterThan(1000);
    const e = m.evaluation!;
    expect(e.model.hitRate10).toBeGreaterThan(e.buyAgain.hitRate10);
    expect(e.model.hitRate10).toBeGreaterThan(e.popularity.hitRate10);
    expect(m.beatsBaselines).toBe(true);
    // Item-to-item alone does not beat buy again here (wholesale customers reorder): the blend is what wins.
    expect(m.itemToItem!.hitRate10).toBeLessThan(e.buyAgain.hitRate10);
    expect(m.blendChosenBy).toBe('validation');
    expect(result.warnings).toEqual([]);
  });

  it('keeps rules and lists free of postage, fees and manual adjustments', async () => {
    expect(result.metrics.productRules).toBeGreaterThan(100);
    const codes = ONLINE_RETAIL_NON_MERCHANDISE_CODES.map(sqlString).join(', ');
    const row = await duck.one<{ recs: number; rules: number }>(
      `SELECT (SELECT count(*) FROM read_parquet(${sqlString(result.paths.recommendations)})
               WHERE product_id IN (${codes}) OR because_product_id IN (${codes}))::INTEGER AS recs,
              (SELECT count(*) FROM read_parquet(${sqlString(result.paths.rules)})
               WHERE consequent IN (${codes}) OR len(list_intersect(antecedent, [${codes}])) > 0)::INTEGER AS rules`,
    );
    expect(row).toEqual({ recs: 0, rules: 0 });
  });
});
