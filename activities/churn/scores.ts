/** churn_scores.parquet: the scoring features' check, the scores written, the at-risk list read back. */
import type { Duck } from '../../lib/duck';
import { rowIndexes, sqlIdent, sqlString, writeColumns } from '../../lib/duck';
import type { ChurnAtRisk, ChurnModelName } from './contract';

/** The scoring features must carry every model feature (the features stage and this stage must agree). */
export async function checkScoringColumns(duck: Duck, table: string, featureNames: string[]): Promise<void> {
  const rows = await duck.all<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = ${sqlString(table)}`,
  );
  const present = new Set(rows.map((r) => r.column_name));
  const missing = ['customer_id', ...featureNames].filter((n) => !present.has(n));
  if (missing.length > 0) {
    throw new Error(
      `churn: the scoring features (features/customer_features.parquet) lack column(s) ${missing.join(', ')}; ` +
        `they must hold customer_id and every feature of the dictionary${featureNames.includes('sessions') ? ' with events' : ''}`,
    );
  }
}

export const SCORE_COLUMNS = `customer_id VARCHAR, churn_probability DOUBLE, churn_model VARCHAR,
  high_value_probability DOUBLE, high_value_lower95 DOUBLE, high_value_upper95 DOUBLE`;

/**
 * Write churn_scores.parquet (customer_id order) from the per-customer arrays (in the scoring table's
 * customer_id order) and return the at-risk list: the `atRiskListSize` highest churn probabilities.
 */
export async function writeScores(
  duck: Duck,
  options: {
    scoringTable: string;
    path: string;
    model: ChurnModelName;
    churnProbability: Float64Array;
    highValue: { probability: Float64Array; lower: Float64Array; upper: Float64Array } | null;
    atRiskListSize: number;
  },
): Promise<ChurnAtRisk[]> {
  const n = options.churnProbability.length;
  const hv = options.highValue;
  await writeColumns(duck, 'churn_score_values', n, [
    { name: 'idx', type: 'INTEGER', values: rowIndexes(n) },
    { name: 'churn_probability', type: 'DOUBLE', values: options.churnProbability },
    { name: 'high_value_probability', type: 'DOUBLE', values: hv ? hv.probability : null },
    { name: 'high_value_lower95', type: 'DOUBLE', values: hv ? hv.lower : null },
    { name: 'high_value_upper95', type: 'DOUBLE', values: hv ? hv.upper : null },
  ]);
  await duck.run(
    `CREATE OR REPLACE TABLE churn_scores AS
     SELECT s.customer_id, v.churn_probability, ${sqlString(options.model)} AS churn_model,
            v.high_value_probability, v.high_value_lower95, v.high_value_upper95
     FROM (SELECT customer_id, (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS idx
           FROM ${sqlIdent(options.scoringTable)}) s
     JOIN churn_score_values v USING (idx)`,
  );
  const { rows } = await duck.one<{ rows: number }>(`SELECT count(*)::INTEGER AS rows FROM churn_scores`);
  if (rows !== n) throw new Error(`churn: ${n} scores but ${rows} scored customers (duplicate customer_id?)`);
  await duck.toParquet(`SELECT * FROM churn_scores ORDER BY customer_id`, options.path);
  return atRiskList(duck, 'churn_scores', options.atRiskListSize);
}

/** The `size` highest churn probabilities of a scores relation (a table name or a read_parquet call). */
async function atRiskList(duck: Duck, relation: string, size: number): Promise<ChurnAtRisk[]> {
  const atRisk = await duck.all<{ customer_id: string; churn_probability: number }>(
    `SELECT customer_id, churn_probability FROM ${relation}
     ORDER BY churn_probability DESC, customer_id LIMIT ${size}`,
  );
  return atRisk.map((r) => ({ customerId: r.customer_id, churnProbability: r.churn_probability }));
}

/**
 * churn_scores.parquet from the scores of each shard (each written by writeScores): every row once, in
 * customer_id order, so the file has the bytes one writeScores over all customers gives; and the at-risk
 * list over all of them.
 */
export async function mergeScoreParts(
  duck: Duck,
  options: { parts: string[]; path: string; atRiskListSize: number },
): Promise<ChurnAtRisk[]> {
  const all = `read_parquet([${options.parts.map(sqlString).join(', ')}])`;
  await duck.toParquet(`SELECT * FROM ${all} ORDER BY customer_id`, options.path);
  return atRiskList(duck, `read_parquet(${sqlString(options.path)})`, options.atRiskListSize);
}
