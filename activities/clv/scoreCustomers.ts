/**
 * Scoring one shard's customers with the fitted parameters (fitModels.ts `scoring`): P(alive), conditional
 * expected purchases over the horizon, E[X(T)] over the customer's own age, expected spend per purchase and
 * discounted CLV, written as Parquet in customer_id order and checked (every customer once, finite, in
 * range) before anything reads it. Every value is a pure function of the parameters and the customer's own
 * summary, so a customer gets the same bits in any shard.
 */
import type { Duck } from '../../lib/duck';
import { rowIndexes, sqlIdent, writeColumns } from '../../lib/duck';
import { checkParquetColumns } from '../../lib/outputChecks';
import { unitsPerMonth } from './clvDcf';
import type { ClvOptions } from './clvDcf';
import type { ClvConfig } from '../../lib/stageConfig/clv';
import type { ClvScoringParameters } from './fitModels';
import { gammaGammaConditionalExpectedSpendMany } from './gammaGamma';
import { purchaseModelScorer } from './purchaseModel';
import type { PurchaseModelScorer } from './purchaseModel';

/** Options of scoreCustomers. */
export interface ScoreCustomersOptions {
  /** The table summarizeShard created (idx, customer_id, x, t_x, T, monetary_*, first_purchase). */
  customersTable: string;
  scoring: ClvScoringParameters;
  config: Pick<ClvConfig, 'timeUnit' | 'horizonMonths' | 'discountRate'>;
  /** Parquet file to write. */
  outPath: string;
  /** What output-check errors call the file, e.g. 'clv/clv.parquet'. */
  label: string;
}

/** The name of the horizon column: expected_purchases_12m for the default 12 months. */
export function horizonColumnName(horizonMonths: number): string {
  return `expected_purchases_${horizonMonths}m`;
}

/** Score every customer of `customersTable`, write and check `outPath`; returns the number of rows. */
export async function scoreCustomers(duck: Duck, options: ScoreCustomersOptions): Promise<number> {
  const { config, customersTable, scoring } = options;
  const unit = config.timeUnit;
  const { columns } = await duck.columns(
    `SELECT x, t_x, "T", monetary_value, monetary_count FROM ${customersTable} ORDER BY idx`,
    ['x', 't_x', 'T', 'monetary_value', 'monetary_count'] as const,
  );
  const { x, t_x: tx, T } = columns;
  const n = x.length;
  const scorer = purchaseModelScorer(scoring.model.kind, scoring.model.params);
  const clvOptions: ClvOptions = {
    horizonMonths: config.horizonMonths,
    annualDiscountRate: config.discountRate,
    timeUnit: unit,
  };
  const horizonUnits = config.horizonMonths * unitsPerMonth(unit);
  const pAlive = n > 0 ? scorer.probabilityAlive(x, tx, T) : new Float64Array(0);
  const expectedHorizon =
    n > 0 ? scorer.conditionalExpectedPurchases(horizonUnits, x, tx, T) : new Float64Array(0);
  const expectedToDate = expectedOverOwnAge(scorer, T);
  const discounted = n > 0 ? scorer.discountedPurchases(x, tx, T, clvOptions) : new Float64Array(0);
  let expectedSpend: Float64Array;
  if (scoring.spend.method === 'gamma-gamma') {
    expectedSpend = gammaGammaConditionalExpectedSpendMany(
      scoring.spend.params,
      columns.monetary_count,
      columns.monetary_value,
    );
  } else {
    expectedSpend = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      expectedSpend[i] =
        columns.monetary_count[i] >= 1 ? columns.monetary_value[i] : scoring.spend.populationMean;
    }
  }
  const clv = new Float64Array(n);
  for (let i = 0; i < n; i++) clv[i] = discounted[i] * expectedSpend[i];

  await writeColumns(duck, 'clv_scores', n, [
    { name: 'idx', type: 'INTEGER', values: rowIndexes(n) },
    ...Object.entries({
      p_alive: pAlive,
      expected_horizon: expectedHorizon,
      expected_to_date: expectedToDate,
      expected_spend: expectedSpend,
      clv,
    }).map(([name, values]) => ({ name, type: 'DOUBLE' as const, values })),
  ]);
  const horizonColumn = horizonColumnName(config.horizonMonths);
  await duck.toParquet(
    `SELECT c.customer_id,
            c.x,
            c.t_x AS ${sqlIdent(`t_x_${unit}`)},
            c."T" AS ${sqlIdent(`T_${unit}`)},
            ${nanToNull('s.p_alive')} AS p_alive,
            ${nanToNull('s.expected_horizon')} AS ${sqlIdent(horizonColumn)},
            ${nanToNull('s.expected_spend')} AS expected_spend,
            ${nanToNull('s.clv')} AS clv,
            c.first_purchase,
            c.monetary_value,
            c.monetary_count,
            ${nanToNull('s.expected_to_date')} AS expected_repeat_purchases_to_date
     FROM ${customersTable} c JOIN clv_scores s ON s.idx = c.idx
     ORDER BY c.customer_id`,
    options.outPath,
  );
  await duck.run('DROP TABLE clv_scores');
  // Every customer scored once, in range: a NaN score was written as NULL above and fails here, loudly.
  await checkParquetColumns(
    duck,
    options.outPath,
    options.label,
    [
      { column: 'customer_id', notNull: true },
      { column: 'p_alive', notNull: true, finite: true, min: 0, max: 1 },
      { column: horizonColumn, notNull: true, finite: true, min: 0 },
      { column: 'expected_spend', notNull: true, finite: true, min: 0 },
      { column: 'clv', notNull: true, finite: true, min: 0 },
      { column: 'expected_repeat_purchases_to_date', notNull: true, finite: true, min: 0 },
    ],
    { expectRows: n, uniqueBy: ['customer_id'] },
  );
  return n;
}

/** E[X(T_i)] per customer, computed once per distinct T. */
function expectedOverOwnAge(scorer: PurchaseModelScorer, T: Float64Array): Float64Array {
  const cache = new Map<number, number>();
  const out = new Float64Array(T.length);
  for (let i = 0; i < T.length; i++) {
    let value = cache.get(T[i]);
    if (value === undefined) {
      value = scorer.expectedPurchases(T[i]);
      cache.set(T[i], value);
    }
    out[i] = value;
  }
  return out;
}

function nanToNull(expression: string): string {
  return `CASE WHEN isnan(${expression}) THEN NULL ELSE ${expression} END`;
}
