/**
 * The sharded segment stage's whole-customer statistics, computed by DuckDB over the merged tables rather
 * than from partial aggregates because they are order statistics: RFM quintiles (global ranks) and the
 * medians and quartiles of the persona profiles. DuckDB sorts and spills to disk, so the reduce worker's
 * memory does not grow with the customer count as a typed array of every customer would; both are
 * functions of the set of customers only, hence the same for every shard count.
 */
import { type Duck, sqlIdent, sqlString } from '../../lib/duck';
import { NO_NET_PURCHASE, NO_NET_PURCHASE_RULE } from './personas';

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
 * names: the unsharded stage's columns, types and order (outputs.ts writeSegmentsParquet).
 */
export async function writeMergedSegments(
  duck: Duck,
  options: { path: string; personaName: string[]; personaBase: string[]; ruleLabels: string[] },
): Promise<void> {
  await duck.run(`CREATE OR REPLACE TABLE segment_rules (rule_id INTEGER, rule VARCHAR)`);
  await duck.run(
    `INSERT INTO segment_rules VALUES ${options.ruleLabels.map((text, id) => `(${id}, ${sqlString(text)})`).join(', ')}`,
  );
  await duck.run(
    `CREATE OR REPLACE TABLE segment_personas (segment INTEGER, persona VARCHAR, persona_base VARCHAR)`,
  );
  const personaRows = options.personaName.map(
    (name, c) => `(${c}, ${sqlString(name)}, ${sqlString(options.personaBase[c])})`,
  );
  await duck.run(`INSERT INTO segment_personas VALUES ${personaRows.join(', ')}`);
  await duck.toParquet(
    `SELECT l.customer_id, l.segment,
            CASE WHEN l.no_net_purchase THEN ${sqlString(NO_NET_PURCHASE)} ELSE p.persona END AS persona,
            CASE WHEN l.no_net_purchase THEN ${sqlString(NO_NET_PURCHASE)} ELSE p.persona_base END AS persona_base,
            m.r_score, m.f_score, m.m_score,
            m.r_score::VARCHAR || m.f_score::VARCHAR || m.m_score::VARCHAR AS rfm_cell, l.distance_to_centroid,
            l.rule_id, CASE WHEN l.no_net_purchase THEN ${sqlString(NO_NET_PURCHASE_RULE)} ELSE r.rule END AS rule,
            l.no_net_purchase
     FROM labels l JOIN segment_rfm m USING (customer_id) JOIN segment_personas p USING (segment)
       JOIN segment_rules r USING (rule_id)
     ORDER BY l.customer_id`,
    options.path,
  );
}
