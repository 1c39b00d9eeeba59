/**
 * The segment stage's files: segments.parquet written from typed arrays, its output check, JSON documents.
 */
import { writeFile } from 'node:fs/promises';
import { type Duck, rowIndexes, sqlString, writeColumns } from '../../lib/duck';
import { checkParquetColumns } from '../../lib/outputChecks';
import { NO_NET_PURCHASE, NO_NET_PURCHASE_RULE } from './personas';

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * segments.parquet: one row per customer in customer_id order. Labels leave through DuckDB's appender
 * from the typed arrays (row i is the i-th customer by customer_id), then join the ids.
 */
export async function writeSegmentsParquet(
  duck: Duck,
  options: {
    source: string;
    path: string;
    labels: Int32Array;
    rfm: { recency: Uint8Array; frequency: Uint8Array; monetary: Uint8Array };
    distances: Float64Array;
    personaName: string[];
    personaBase: string[];
    /** Decision rule (leaf id) of every customer, and each rule's text. */
    ruleIdOf: Int32Array;
    ruleLabels: string[];
    /** 1 for a customer with no net purchase: persona and rule say so, whatever the segment. */
    noNetPurchase: Uint8Array;
  },
): Promise<void> {
  const { labels, rfm, distances, ruleIdOf, noNetPurchase } = options;
  await createNameTables(duck, options);
  await writeColumns(duck, 'segment_labels', labels.length, [
    { name: 'idx', type: 'INTEGER', values: rowIndexes(labels.length) },
    { name: 'segment', type: 'INTEGER', values: labels },
    { name: 'r_score', type: 'INTEGER', values: rfm.recency },
    { name: 'f_score', type: 'INTEGER', values: rfm.frequency },
    { name: 'm_score', type: 'INTEGER', values: rfm.monetary },
    { name: 'distance_to_centroid', type: 'DOUBLE', values: distances },
    { name: 'rule_id', type: 'INTEGER', values: ruleIdOf },
    { name: 'no_net_purchase', type: 'BOOLEAN', values: Array.from(noNetPurchase, (v) => v === 1) },
  ]);
  await duck.run(`CREATE OR REPLACE TABLE segment_ids AS
    SELECT customer_id, (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS idx FROM ${options.source}`);
  await duck.toParquet(
    segmentsQuery({
      from: 'segment_ids i JOIN segment_labels l USING (idx)',
      id: 'i',
      labels: 'l',
      scores: 'l',
    }),
    options.path,
  );
}

/** Tables `segment_rules` (rule_id, rule) and `segment_personas` (segment, persona, persona_base). */
export async function createNameTables(
  duck: Duck,
  options: { personaName: readonly string[]; personaBase: readonly string[]; ruleLabels: readonly string[] },
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
}

/**
 * The SELECT of segments.parquet's columns in their order, customer_id order: `id` is the alias holding
 * customer_id, `labels` the one with segment, distance_to_centroid, rule_id and no_net_purchase, `scores`
 * the one with r_score, f_score and m_score (createNameTables' tables are joined here).
 */
export function segmentsQuery(options: { from: string; id: string; labels: string; scores: string }): string {
  const { id, labels: l, scores: m } = options;
  return `SELECT ${id}.customer_id, ${l}.segment,
            CASE WHEN ${l}.no_net_purchase THEN ${sqlString(NO_NET_PURCHASE)} ELSE p.persona END AS persona,
            CASE WHEN ${l}.no_net_purchase THEN ${sqlString(NO_NET_PURCHASE)} ELSE p.persona_base END AS persona_base,
            ${m}.r_score, ${m}.f_score, ${m}.m_score,
            ${m}.r_score::VARCHAR || ${m}.f_score::VARCHAR || ${m}.m_score::VARCHAR AS rfm_cell, ${l}.distance_to_centroid,
            ${l}.rule_id, CASE WHEN ${l}.no_net_purchase THEN ${sqlString(NO_NET_PURCHASE_RULE)} ELSE r.rule END AS rule,
            ${l}.no_net_purchase
     FROM ${options.from} JOIN segment_personas p USING (segment) JOIN segment_rules r USING (rule_id)
     ORDER BY ${id}.customer_id`;
}

/** Every customer once, segment and rule ids in range (lib/outputChecks.ts). */
export async function checkSegmentOutputs(
  duck: Duck,
  path: string,
  expected: { k: number; rows: number; rules: number },
): Promise<void> {
  await checkParquetColumns(
    duck,
    path,
    'segments.parquet',
    [
      { column: 'customer_id', notNull: true },
      { column: 'segment', notNull: true, min: 0, max: expected.k - 1 },
      { column: 'persona', notNull: true },
      { column: 'rule_id', notNull: true, min: 0, max: expected.rules - 1 },
      { column: 'rule', notNull: true },
      { column: 'distance_to_centroid', notNull: true, finite: true, min: 0 },
      { column: 'r_score', notNull: true, min: 1, max: 5 },
      { column: 'f_score', notNull: true, min: 1, max: 5 },
      { column: 'm_score', notNull: true, min: 1, max: 5 },
    ],
    { expectRows: expected.rows, uniqueBy: ['customer_id'] },
  );
}
