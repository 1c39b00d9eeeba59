/**
 * Each model stage refuses its own degenerate output (a probability outside [0, 1], intervals that are not
 * nested, a customer scored twice) and turns a documented fallback (no model, no forecast, a model that
 * loses to its baseline) into a warning instead of a quiet success.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChurnOutputs, type ChurnMetrics, type ComputeChurnResult } from '../../../activities/churn';
import { checkCleanTransactions } from '../../../activities/clean';
import { checkExperimentResults } from '../../../activities/experiment/summaries';
import { checkForecastOutputs, checkSeriesForecastOutputs } from '../../../activities/forecast/checks';
import type {
  ForecastStageMetrics,
  SeriesForecastSummary,
  SeriesOutcome,
} from '../../../activities/forecast/contract';
import { checkRecommendOutputs } from '../../../activities/recommend';
import { withDuck } from '../../../lib/duck';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-stage-checks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function parquet(name: string, select: string): Promise<string> {
  const path = join(dir, name);
  await withDuck((duck) => duck.toParquet(select, path));
  return path;
}

function churnResult(scores: string, overrides: Partial<ChurnMetrics>): ComputeChurnResult {
  const metrics = {
    auc: 0.74,
    prAuc: 0.6,
    brier: 0.18,
    baselineAuc: 0.68,
    positiveRate: 0.4,
    model: 'logistic',
    scoredCustomers: 2,
    warnings: [],
    ...overrides,
  } as unknown as ChurnMetrics;
  return {
    metrics,
    paths: { scores, model: join(dir, 'model.json') },
    document: { stage: 'churn', definitions: {}, atRisk: [] },
  };
}

const SCORES = (a: string, b: string): string =>
  `SELECT * FROM (VALUES ('c1', ${a}::DOUBLE, 'logistic', NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE),
                         ('c2', ${b}::DOUBLE, 'logistic', 0.3, 0.1, 0.6))
   AS t(customer_id, churn_probability, churn_model, high_value_probability, high_value_lower95, high_value_upper95)`;

describe('churn output checks', () => {
  it('passes sound scores, and warns when the model loses to the recency baseline', async () => {
    const path = await parquet('churn_ok.parquet', SCORES('0.2', '0.9'));
    expect(await withDuck((duck) => checkChurnOutputs(duck, churnResult(path, {})))).toEqual([]);
    const worse = await withDuck((duck) => checkChurnOutputs(duck, churnResult(path, { auc: 0.6 })));
    expect(worse.map((w) => w.code)).toEqual(['churn_below_baseline']);
  });

  it('fails on a probability outside [0, 1] or a customer left unscored', async () => {
    const path = await parquet('churn_bad.parquet', SCORES('1.2', "'NaN'"));
    await expect(withDuck((duck) => checkChurnOutputs(duck, churnResult(path, {})))).rejects.toThrow(
      /churn_scores.parquet: column churn_probability must be finite: 1 of 2 rows.*must be <= 1: 1 of 2 rows/,
    );
    const ok = await parquet('churn_short.parquet', SCORES('0.2', '0.9'));
    await expect(
      withDuck((duck) => checkChurnOutputs(duck, churnResult(ok, { scoredCustomers: 3 }))),
    ).rejects.toThrow('expected 3 rows, found 2');
  });

  it('turns a run without a model into a warning that says why', async () => {
    const path = await parquet('churn_none.parquet', `${SCORES('0.2', '0.9')} LIMIT 0`);
    const warnings = await withDuck((duck) =>
      checkChurnOutputs(
        duck,
        churnResult(path, { model: null, auc: null, scoredCustomers: 0, reason: 'no closed window' }),
      ),
    );
    expect(warnings).toEqual([
      { code: 'churn_no_model', message: 'no churn model: no closed window; no customer has a churn score' },
    ]);
  });
});

const FORECAST = (rows: string): string =>
  `SELECT * FROM (VALUES ${rows}) AS t(date, mean, lower80, upper80, lower95, upper95)`;

describe('forecast output checks', () => {
  const metrics = (overrides: Partial<ForecastStageMetrics>): ForecastStageMetrics =>
    ({
      model: 'holt-winters',
      horizon: 2,
      mase: 0.9,
      baselineMase: 1.2,
      ...overrides,
    }) as ForecastStageMetrics;

  it('passes nested intervals and warns when the chosen model loses to the baseline', async () => {
    const path = await parquet(
      'fc_ok.parquet',
      FORECAST(
        `(DATE '2024-01-01', 10.0, 8.0, 12.0, 7.0, 13.0), (DATE '2024-01-02', 11.0, 9.0, 13.0, 8.0, 14.0)`,
      ),
    );
    expect(await withDuck((duck) => checkForecastOutputs(duck, path, metrics({})))).toEqual([]);
    const worse = await withDuck((duck) => checkForecastOutputs(duck, path, metrics({ mase: 1.5 })));
    expect(worse.map((w) => w.code)).toEqual(['forecast_below_baseline']);
  });

  it('fails on intervals that are not nested or a missing period', async () => {
    const crossed = await parquet(
      'fc_crossed.parquet',
      FORECAST(
        `(DATE '2024-01-01', 10.0, 8.0, 12.0, 9.0, 13.0), (DATE '2024-01-02', 11.0, 9.0, 13.0, 8.0, 14.0)`,
      ),
    );
    await expect(withDuck((duck) => checkForecastOutputs(duck, crossed, metrics({})))).rejects.toThrow(
      '1 periods have intervals that are not nested',
    );
    await expect(
      withDuck((duck) => checkForecastOutputs(duck, crossed, metrics({ horizon: 3 }))),
    ).rejects.toThrow('expected 3 rows, found 2');
  });

  it('turns no forecast into a warning', async () => {
    const empty = await parquet(
      'fc_none.parquet',
      `${FORECAST(`(DATE '2024-01-01', 1.0, 1.0, 1.0, 1.0, 1.0)`)} LIMIT 0`,
    );
    const warnings = await withDuck((duck) =>
      checkForecastOutputs(duck, empty, metrics({ model: null, reason: 'only 20 days of history' })),
    );
    expect(warnings).toEqual([{ code: 'forecast_none', message: 'no forecast: only 20 days of history' }]);
  });

  it('checks the per-series forecasts: one row per series and period, nested intervals', async () => {
    const summary = (statuses: SeriesOutcome['status'][]): SeriesForecastSummary => ({
      horizon: 2,
      grain: 'day',
      horizonDays: 2,
      minHistoryDays: 112,
      topCategories: 10,
      dimensions: [
        {
          dimension: 'category',
          status: 'forecast',
          reason: null,
          coherence: null,
          series: statuses.map((status, i) => ({ series: `c${i}`, status }) as SeriesOutcome),
        },
      ],
    });
    const rows = (bounds: string) =>
      `SELECT * FROM (VALUES ('category', 'c0', DATE '2024-01-01', 10.0, 8.0, 12.0, 7.0, 13.0),
                             ('category', 'c0', DATE '2024-01-02', 11.0, ${bounds}, 14.0))
       AS t(dimension, series, date, mean, lower80, upper80, lower95, upper95)`;
    const sound = await parquet('fc_series_ok.parquet', rows('9.0, 13.0, 8.0'));
    await withDuck((duck) => checkSeriesForecastOutputs(duck, sound, summary(['forecast', 'too_short'])));
    await expect(
      withDuck((duck) => checkSeriesForecastOutputs(duck, sound, summary(['forecast', 'forecast']))),
    ).rejects.toThrow('expected 4 rows, found 2');
    const crossed = await parquet('fc_series_crossed.parquet', rows('9.0, 13.0, 9.5'));
    await expect(
      withDuck((duck) => checkSeriesForecastOutputs(duck, crossed, summary(['forecast']))),
    ).rejects.toThrow('forecast_by_series.parquet: 1 periods have intervals that are not nested');
  });
});

describe('experiment result checks', () => {
  const row = {
    id: 'exp1',
    treatment: 'B',
    metric: 'conversion' as const,
    lift: 0.1,
    ci: [0.02, 0.18] as [number, number],
    pValue: 0.01,
    srmPValue: 0.4,
    srmFlagged: false,
    probabilityToBeatControl: 0.99,
    controlValue: 0.2,
    treatmentValue: 0.22,
    customersControl: 1000,
    customersTreatment: 1000,
  };
  const policy = {
    name: 'winback',
    rank: 1,
    incrementalRevenue: { mean: 100, p5: 50, p95: 150 },
    roi: 1.5,
    probabilityOfTarget: 0.7,
    exactProbabilityOfTarget: null,
    expectedIncrementalProfit: 40,
    customersTargeted: 10,
    cost: 60,
  };

  it('passes a clean analysis and lists what a reader must know', () => {
    expect(checkExperimentResults({ experiments: [row], policies: [policy] }, [], 0)).toEqual([]);
    const warnings = checkExperimentResults(
      {
        experiments: [
          { ...row, srmFlagged: true, srmPValue: 1.6e-4 },
          { ...row, id: 'exp2', lift: Number.POSITIVE_INFINITY, controlValue: 0 },
        ],
        policies: [policy],
      },
      [{ name: 'winback', warnings: ['segment "Ghosts" does not exist'] }],
      12,
    );
    expect(warnings.map((w) => w.code)).toEqual([
      'experiment_sample_ratio_mismatch',
      'experiment_lift_undefined',
      'experiment_policy',
      'experiment_churn_proxy',
    ]);
    expect(warnings[0].message).toContain(
      'exp1 (B, conversion): the split differs from the planned one (SRM p = 1.60e-4)',
    );
  });

  it('fails on a policy whose simulated revenue is not a number', () => {
    const broken = { ...policy, incrementalRevenue: { mean: Number.NaN, p5: 0, p95: 1 } };
    expect(() => checkExperimentResults({ experiments: [], policies: [broken] }, [], 0)).toThrow(
      'output check failed for experiment policy winback: must be finite numbers: mean = NaN',
    );
  });
});

describe('clean output checks', () => {
  const lines = `SELECT * FROM (VALUES ('c1', TIMESTAMP '2024-01-05 10:00:00', 10.0::DOUBLE, 5.0::DOUBLE, 'merchandise'),
                                  ('c2', TIMESTAMP '2024-01-06 10:00:00', 4.0, 4.0, 'non_merchandise'))
                 AS t(customer_id, ts, amount, unit_price, line_kind)`;
  const counts = { inputRows: 5, outputRows: 2, quarantinedRows: 2, duplicateRows: 1, afterCutoffRows: 0 };

  it('passes when every row is accounted for and every kept row is usable', async () => {
    const path = await parquet('clean_ok.parquet', lines);
    await expect(withDuck((duck) => checkCleanTransactions(duck, path, counts))).resolves.toBeUndefined();
  });

  it('fails when rows go missing or nothing is kept', async () => {
    const path = await parquet('clean_lost.parquet', lines);
    await expect(
      withDuck((duck) => checkCleanTransactions(duck, path, { ...counts, inputRows: 6 })),
    ).rejects.toThrow(
      '6 rows in but 5 accounted for (kept 2, quarantined 2, duplicates 1, after the cutoff 0)',
    );
    await expect(
      withDuck((duck) =>
        checkCleanTransactions(duck, path, { ...counts, outputRows: 0, quarantinedRows: 4 }),
      ),
    ).rejects.toThrow('no transaction row survived cleaning');
  });
});

describe('recommend output checks', () => {
  const LISTS = `SELECT * FROM (VALUES ('c1', 1, 'p1', 0.5::DOUBLE, 'co-occurrence', 'bought together with p2'),
                                  ('c1', 2, 'p2', 0.25::DOUBLE, 'buy-again', 'bought before'))
                 AS t(customer_id, rank, product_id, score, source, reason)`;
  const RULES = `SELECT 0.1::DOUBLE AS support, 0.5::DOUBLE AS confidence, 2.0::DOUBLE AS lift`;
  const metrics = (recommendedCustomers: number) =>
    ({ items: 1, recommendedCustomers, evaluation: null, notes: ['not evaluated: no month after'] }) as never;

  it('warns, not fails, when some active customer has no product left to offer', async () => {
    const recommendations = await parquet('rec_lists.parquet', LISTS);
    const rules = await parquet('rec_rules.parquet', RULES);
    const paths = { recommendations, rules, bundles: '', summary: '' };
    const warnings = await withDuck((duck) =>
      checkRecommendOutputs(duck, { paths, metrics: metrics(3), recommendationRows: 2, topN: 10 }),
    );
    expect(warnings.map((w) => w.code)).toEqual([
      'recommend_customers_without_list',
      'recommend_not_evaluated',
    ]);
    expect(warnings[0].message).toBe(
      '2 of 3 active customers got no recommendation: no product of the 1 in the catalogue was left to offer them',
    );
  });

  it('fails when no active customer gets a list from a non-empty catalogue', async () => {
    const recommendations = await parquet('rec_none.parquet', `${LISTS} LIMIT 0`);
    const rules = await parquet('rec_rules2.parquet', RULES);
    const paths = { recommendations, rules, bundles: '', summary: '' };
    await expect(
      withDuck((duck) =>
        checkRecommendOutputs(duck, { paths, metrics: metrics(3), recommendationRows: 0, topN: 10 }),
      ),
    ).rejects.toThrow('none of 3 active customers has a list although the catalogue has 1 products');
  });
});
