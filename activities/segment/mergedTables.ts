/**
 * The sharded segment stage's whole-customer statistics, computed by DuckDB over the merged tables rather
 * than from partial aggregates because they are order statistics: RFM quintiles (global ranks) and the
 * medians and quartiles of the persona profiles. DuckDB sorts and spills to disk, so the reduce worker's
 * memory does not grow with the customer count as a typed array of every customer would; both are
 * functions of the set of customers only, hence the same for every shard count.
 */
import { type Duck, sqlIdent } from '../../lib/duck';
import { createNameTables, segmentsQuery } from './outputs';

/**
 * Table `segment_rfm` (customer_id, r_score, f_score, m_score) from view `features`: quintiles of ranks
 * with ties in customer_id order, exactly rfm.ts's quantileBins (bin = max(1, ceil(5 r / (n - 1))) of the
 * 0-based rank r; recency scored 6 - bin).
 */
export async function createRfmTable(duck: Duck): Promise<void> {
  const bin = (column: string): string =>
    `CASE WHEN n.n <= 1 THEN 1 ELSE greatest(1, (5 * (row_number() OVER (ORDER BY CAST(${sqlIdent(column)} AS DOUBLE), customer_id) - 1) + n.n - 2) // (n.n - 1)) END`;
  await duck.run(`CREATE OR REPLACE TABLE segment_rfm AS
    SELECT customer_id,
           (6 - ${bin('recency_days')})::INTEGER AS r_score,
           (${bin('frequency_orders')})::INTEGER AS f_score,
           (${bin('monetary_total')})::INTEGER AS m_score
    FROM features, (SELECT count(*)::BIGINT AS n FROM features) n`);
}

/** Per-segment medians and population quartiles of `columns` (views `features` and `labels`). */
export async function segmentQuantiles(
  duck: Duck,
  columns: readonly string[],
  k: number,
): Promise<{
  median: Record<string, number>[];
  populationMedian: Record<string, number>;
  p25: Record<string, number>;
  p75: Record<string, number>;
}> {
  const median: Record<string, number>[] = Array.from({ length: k }, () => ({}));
  const populationMedian: Record<string, number> = {};
  const p25: Record<string, number> = {};
  const p75: Record<string, number> = {};
  // One column per query: DuckDB holds one column's values for the quantiles, not the whole table.
  for (const name of columns) {
    const x = `CAST(f.${sqlIdent(name)} AS DOUBLE)`;
    const bySegment = await duck.all<{ segment: number; q50: number }>(
      `SELECT l.segment, quantile_cont(${x}, 0.5) AS q50
       FROM features f JOIN labels l USING (customer_id) GROUP BY l.segment ORDER BY l.segment`,
    );
    for (const row of bySegment) median[row.segment][name] = row.q50;
    const all = await duck.one<{ q25: number; q50: number; q75: number }>(
      `SELECT quantile_cont(${x}, 0.25) AS q25, quantile_cont(${x}, 0.5) AS q50, quantile_cont(${x}, 0.75) AS q75
       FROM features f`,
    );
    populationMedian[name] = all.q50;
    p25[name] = all.q25;
    p75[name] = all.q75;
  }
  return { median, populationMedian, p25, p75 };
}

/**
 * segments.parquet from the shards' label parts (view `labels`), the RFM table and the persona and rule
 * names: the unsharded stage's columns, types and order (outputs.ts).
 */
export async function writeMergedSegments(
  duck: Duck,
  options: { path: string; personaName: string[]; personaBase: string[]; ruleLabels: string[] },
): Promise<void> {
  await createNameTables(duck, options);
  await duck.toParquet(
    segmentsQuery({
      from: 'labels l JOIN segment_rfm m USING (customer_id)',
      id: 'l',
      labels: 'l',
      scores: 'm',
    }),
    options.path,
  );
}
