/**
 * Events-only datasets (RetailRocket): when no transaction files are delivered, the transactions table is
 * derived from purchase events. RetailRocket's events.csv has one `transaction` event per item bought
 * (timestamp, visitorid, event, itemid, transactionid) and no price: the price and category of an item
 * come from item_properties (timestamp, itemid, property, value), the value in force at the event's time,
 * and the category's top-level ancestor from category_tree (categoryid, parentid).
 *
 * Every purchase event becomes exactly one transaction line (quantity 1: an event is one item) with the
 * event's file and line as lineage. An event whose item has no price on or before its time takes the first
 * price recorded after it (counted, and warned about: RetailRocket's property snapshots start with the
 * events, so the earliest events often precede their item's first snapshot); one with no price at all
 * goes on with a NULL price, and clean quarantines it as `missing_price`. No row is dropped.
 */
import type { Duck } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import type { StageWarning } from '../../lib/runTypes';
import { fileMapSql, fileStartsJoin, lineSql, scanCsvSql, type LocalRawFile } from './formats';
import { readFirstLine, splitCsvHeader } from './headers';
import { duckErrorToValidation, reconcileScan, type RawFileToParse } from './parse';
import { checkRawFile, type RawFileLimits } from './rawFileCheck';
import { RETAILROCKET_HEADER } from './sideTables';

export const RETAILROCKET_ITEM_PROPERTIES_HEADER = ['timestamp', 'itemid', 'property', 'value'] as const;
export const RETAILROCKET_CATEGORY_TREE_HEADER = ['categoryid', 'parentid'] as const;

/**
 * RetailRocket hashes every property name and value except `categoryid` and `available`; property 790 is
 * the one the dataset's users identify as the price (its values are numbers, written "n5160.000"). A
 * format convention, like Online Retail's non-merchandise codes.
 */
export const RETAILROCKET_PRICE_PROPERTY = '790';
export const RETAILROCKET_CATEGORY_PROPERTY = 'categoryid';
/** A category tree deeper than this is a cycle (RetailRocket's is 6 levels deep). */
const MAX_CATEGORY_DEPTH = 64;

const CSV = ", delim = ',', quote = '\"', escape = '\"'";

export interface DerivedTransactionMetrics extends Record<string, unknown> {
  /** `transaction` events read: every one is a line of transactions.parquet. */
  purchaseEvents: number;
  /** Lines priced by the latest price on or before the event. */
  pricedAsOf: number;
  /** Lines priced by the first price recorded after the event (no earlier one). */
  pricedFromLater: number;
  /** Lines with no price at all for their item (clean quarantines them as missing_price). */
  unpriced: number;
  /** Lines whose item has a category (mapped to its top-level ancestor when the tree is delivered). */
  categorised: number;
  itemPropertyRows: number;
  /** Price property rows whose value is not a number ("n<digits>"): not used as prices. */
  unparsablePriceRows: number;
  categoryTreeRows: number;
}

function checkExactHeader(
  file: string,
  columns: readonly string[],
  expected: readonly string[],
  what: string,
) {
  if (columns.join(',') !== expected.join(',')) {
    throw new DataValidationError(
      { file, line: 1, rule: `the retailrocket ${what} header must be ${expected.join(',')}` },
      `got ${columns.join(',')}`,
    );
  }
}

/** Scan one RetailRocket table's files (header checked, every record reconciled) into `raw`. */
async function scanTable(
  duck: Duck,
  raw: string,
  files: readonly RawFileToParse[],
  header: readonly string[],
  what: string,
): Promise<LocalRawFile[]> {
  for (const f of files)
    checkExactHeader(f.file.key, splitCsvHeader(await readFirstLine(f.local.path)), header, what);
  const local = files.map((f) => f.local);
  try {
    await duck.run(scanCsvSql(raw, local, header, true, CSV));
  } catch (error) {
    throw duckErrorToValidation(error, local);
  }
  await reconcileScan(duck, raw, local, true);
  return local;
}

/** The first row breaking `where`, as a DataValidationError naming file, line and column. */
async function refuseFirst(
  duck: Duck,
  table: string,
  where: string,
  column: string,
  rule: string,
  value: string,
) {
  const rows = await duck.all<{ file: string; line: number; value: string | null }>(
    `SELECT source_file AS file, source_line::INTEGER AS line, (${value})::VARCHAR AS value FROM ${table}
     WHERE ${where} ORDER BY file_index, source_line LIMIT 1`,
  );
  if (rows.length > 0)
    throw new DataValidationError(
      { file: rows[0].file, line: rows[0].line, column, rule },
      `got ${JSON.stringify(rows[0].value)}`,
    );
}

/** item_properties files -> table `item_properties` (itemid, property, value, epoch_ms, lineage). */
export async function stageItemProperties(duck: Duck, files: readonly RawFileToParse[]): Promise<number> {
  const local = await scanTable(
    duck,
    'raw_item_properties',
    files,
    RETAILROCKET_ITEM_PROPERTIES_HEADER,
    'item_properties',
  );
  await duck.run(`CREATE TABLE item_properties AS SELECT
      m.file_index, m.key AS source_file, ${lineSql(true)} AS source_line,
      try_cast(trim(r.timestamp) AS BIGINT) AS epoch_ms, r.timestamp AS ts_raw,
      trim(r.itemid) AS itemid, trim(r.property) AS property, r.value
    FROM raw_item_properties r JOIN ${fileMapSql(local)} ON r.filename = m.path ${fileStartsJoin('raw_item_properties')}`);
  await refuseFirst(
    duck,
    'item_properties',
    'epoch_ms IS NULL',
    'timestamp',
    'timestamp must be epoch milliseconds',
    'ts_raw',
  );
  await refuseFirst(
    duck,
    'item_properties',
    `itemid IS NULL OR itemid = ''`,
    'itemid',
    'itemid must not be empty',
    `''`,
  );
  return (await duck.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM item_properties')).n;
}

/** category_tree files -> table `category_roots` (categoryid, root): every category's top-level ancestor. */
export async function stageCategoryTree(duck: Duck, files: readonly RawFileToParse[]): Promise<number> {
  const local = await scanTable(
    duck,
    'raw_category_tree',
    files,
    RETAILROCKET_CATEGORY_TREE_HEADER,
    'category_tree',
  );
  await duck.run(`CREATE TABLE category_tree AS SELECT
      m.file_index, m.key AS source_file, ${lineSql(true)} AS source_line,
      trim(r.categoryid) AS categoryid, NULLIF(trim(r.parentid), '') AS parentid
    FROM raw_category_tree r JOIN ${fileMapSql(local)} ON r.filename = m.path ${fileStartsJoin('raw_category_tree')}`);
  await refuseFirst(
    duck,
    'category_tree',
    `categoryid IS NULL OR categoryid = ''`,
    'categoryid',
    'categoryid must not be empty',
    `''`,
  );
  await refuseFirst(
    duck,
    '(SELECT *, count(*) OVER (PARTITION BY categoryid) AS times FROM category_tree)',
    'times > 1',
    'categoryid',
    'a category appears once in the tree (one parent)',
    'categoryid',
  );
  await duck.run(`CREATE TABLE category_roots AS
    WITH RECURSIVE walk(categoryid, node, parent, depth) AS (
      SELECT categoryid, categoryid, parentid, 0 FROM category_tree
      UNION ALL
      SELECT w.categoryid, t.categoryid, t.parentid, w.depth + 1
      FROM walk w JOIN category_tree t ON t.categoryid = w.parent
      WHERE w.depth < ${MAX_CATEGORY_DEPTH})
    SELECT categoryid, arg_max(node, depth) AS root, max(depth) AS depth,
           bool_or(parent IS NULL) AS reaches_root FROM walk GROUP BY categoryid`);
  // A parent that is not in the tree ends the walk there: that parent is the root. A cycle never ends.
  await refuseFirst(
    duck,
    `(SELECT t.*, c.depth FROM category_tree t JOIN category_roots c USING (categoryid))`,
    `depth >= ${MAX_CATEGORY_DEPTH}`,
    'parentid',
    'the category tree has no cycles',
    'categoryid',
  );
  await duck.run(`CREATE OR REPLACE TABLE category_roots AS
    SELECT c.categoryid, CASE WHEN c.reaches_root THEN c.root ELSE t.parentid END AS root
    FROM category_roots c JOIN category_tree t ON t.categoryid = c.root`);
  return (await duck.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM category_tree')).n;
}

/**
 * Transactions derived from the RetailRocket events' purchase lines -> `outPath`, with the same columns
 * and order as parseTransactionFiles writes. Empty property or tree file lists are allowed (no prices: every
 * line goes to quarantine; no tree: the item's own category).
 */
export async function deriveTransactionsFromEvents(
  duck: Duck,
  tables: {
    events: readonly RawFileToParse[];
    itemProperties: readonly RawFileToParse[];
    categoryTree: readonly RawFileToParse[];
  },
  outPath: string,
): Promise<{ rows: number; metrics: DerivedTransactionMetrics; warnings: StageWarning[] }> {
  const events = await scanTable(duck, 'raw_rr_events', tables.events, RETAILROCKET_HEADER, 'events');
  await duck.run(`CREATE TABLE rr_purchases AS SELECT
      m.file_index, m.key AS source_file, ${lineSql(true)} AS source_line, m.period_end AS source_period_end,
      NULLIF(trim(r.visitorid), '') AS customer_id,
      -- a transaction event without its id is still a purchase: its own order, named by visitor and time
      COALESCE(NULLIF(trim(r.transactionid), ''), 'rr-' || trim(r.visitorid) || '-' || trim(r.timestamp)) AS order_id,
      try_cast(trim(r.timestamp) AS BIGINT) AS epoch_ms, r.timestamp AS ts_raw, trim(r.itemid) AS product_id
    FROM raw_rr_events r JOIN ${fileMapSql(events)} ON r.filename = m.path ${fileStartsJoin('raw_rr_events')}
    WHERE trim(r.event) = 'transaction'`);
  await refuseFirst(
    duck,
    'rr_purchases',
    `product_id IS NULL OR product_id = ''`,
    'itemid',
    'a transaction event names its item',
    `''`,
  );

  const itemPropertyRows =
    tables.itemProperties.length > 0
      ? await stageItemProperties(duck, tables.itemProperties)
      : (await duck.run(
          'CREATE TABLE item_properties (itemid VARCHAR, property VARCHAR, value VARCHAR, epoch_ms BIGINT)',
        ),
        0);
  const categoryTreeRows =
    tables.categoryTree.length > 0 ? await stageCategoryTree(duck, tables.categoryTree) : 0;
  if (tables.categoryTree.length === 0)
    await duck.run('CREATE TABLE category_roots (categoryid VARCHAR, root VARCHAR)');

  await duck.run(`CREATE TABLE rr_prices AS SELECT itemid, epoch_ms,
      try_cast(regexp_extract(trim(value), '^n(-?[0-9]+(\\.[0-9]+)?)', 1) AS DOUBLE) AS price
    FROM item_properties WHERE property = '${RETAILROCKET_PRICE_PROPERTY}'`);
  const { unparsable } = await duck.one<{ unparsable: number }>(
    'SELECT count(*) FILTER (WHERE price IS NULL)::INTEGER AS unparsable FROM rr_prices',
  );
  await duck.run('DELETE FROM rr_prices WHERE price IS NULL');
  await duck.run(`CREATE TABLE rr_categories AS SELECT itemid, epoch_ms, trim(value) AS category
    FROM item_properties WHERE property = '${RETAILROCKET_CATEGORY_PROPERTY}' AND trim(value) <> ''`);
  // A property may be set twice at one instant: the later line wins, so the pick is deterministic.
  for (const [table, column] of [
    ['rr_prices', 'price'],
    ['rr_categories', 'category'],
  ] as const) {
    await duck.run(`CREATE OR REPLACE TABLE ${table} AS
      SELECT itemid, epoch_ms, arg_max(${column}, row_order) AS ${column}
      FROM (SELECT *, row_number() OVER () AS row_order FROM ${table}) GROUP BY itemid, epoch_ms`);
  }
  await duck.run(`CREATE TABLE rr_lines AS
    WITH as_of AS (
      SELECT p.*, pr.price AS price_before, c.category AS category_before
      FROM rr_purchases p
      ASOF LEFT JOIN rr_prices pr ON p.product_id = pr.itemid AND p.epoch_ms >= pr.epoch_ms
      ASOF LEFT JOIN rr_categories c ON p.product_id = c.itemid AND p.epoch_ms >= c.epoch_ms),
    first_price AS (SELECT itemid, arg_min(price, epoch_ms) AS price FROM rr_prices GROUP BY itemid),
    first_category AS (SELECT itemid, arg_min(category, epoch_ms) AS category FROM rr_categories GROUP BY itemid)
    SELECT a.*, COALESCE(a.price_before, fp.price) AS unit_price,
           CASE WHEN a.price_before IS NOT NULL THEN 'as_of' WHEN fp.price IS NOT NULL THEN 'later' END AS price_source,
           COALESCE(a.category_before, fc.category) AS leaf_category
    FROM as_of a LEFT JOIN first_price fp ON fp.itemid = a.product_id
    LEFT JOIN first_category fc ON fc.itemid = a.product_id`);
  await duck.toParquet(
    `SELECT l.customer_id, l.order_id,
            CASE WHEN l.epoch_ms IS NOT NULL THEN make_timestamp(l.epoch_ms * 1000) END AS ts,
            CASE WHEN l.epoch_ms IS NULL THEN l.ts_raw END AS ts_raw,
            l.product_id, NULL::VARCHAR AS product_name, COALESCE(cr.root, l.leaf_category) AS category,
            1::INTEGER AS quantity, l.unit_price, l.unit_price AS amount, NULL::VARCHAR AS country,
            l.source_file, l.source_line, l.source_period_end
     FROM rr_lines l LEFT JOIN category_roots cr ON cr.categoryid = l.leaf_category
     ORDER BY l.file_index, l.source_line`,
    outPath,
  );
  const counts = await duck.one<{
    n: number;
    as_of: number;
    later: number;
    unpriced: number;
    categorised: number;
  }>(`SELECT count(*)::INTEGER AS n,
        count(*) FILTER (WHERE price_source = 'as_of')::INTEGER AS as_of,
        count(*) FILTER (WHERE price_source = 'later')::INTEGER AS later,
        count(*) FILTER (WHERE price_source IS NULL)::INTEGER AS unpriced,
        count(leaf_category)::INTEGER AS categorised FROM rr_lines`);
  const metrics: DerivedTransactionMetrics = {
    purchaseEvents: counts.n,
    pricedAsOf: counts.as_of,
    pricedFromLater: counts.later,
    unpriced: counts.unpriced,
    categorised: counts.categorised,
    itemPropertyRows,
    unparsablePriceRows: unparsable,
    categoryTreeRows,
  };
  const warnings: StageWarning[] = [];
  if (counts.n === 0)
    throw new DataValidationError({
      file: tables.events.map((f) => f.file.key).join(', '),
      rule: 'an events-only dataset needs purchase events (event = transaction) to derive transactions from',
    });
  if (counts.later > 0)
    warnings.push({
      code: 'ingest_price_from_later_snapshot',
      message: `${counts.later} of ${counts.n} purchase events had no price for their item on or before the event and took the item's first later price (property ${RETAILROCKET_PRICE_PROPERTY}).`,
    });
  if (counts.unpriced > 0)
    warnings.push({
      code: 'ingest_purchase_without_price',
      message: `${counts.unpriced} of ${counts.n} purchase events have no price for their item at all (property ${RETAILROCKET_PRICE_PROPERTY}); clean quarantines them as missing_price.`,
    });
  return { rows: counts.n, metrics, warnings };
}

/** `data load --table item_properties` checks: the parse ingest runs, to Parquet with lineage and time. */
export async function parseItemPropertyFiles(
  duck: Duck,
  files: readonly RawFileToParse[],
  outPath: string,
): Promise<{ rows: number }> {
  const rows = await stageItemProperties(duck, files);
  await duck.toParquet(
    `SELECT itemid, property, value, make_timestamp(epoch_ms * 1000) AS ts, source_file, source_line
     FROM item_properties ORDER BY file_index, source_line`,
    outPath,
  );
  return { rows };
}

/** `data load --table category_tree` checks: header, ids, one parent each, no cycles. */
export async function parseCategoryTreeFiles(
  duck: Duck,
  files: readonly RawFileToParse[],
  outPath: string,
): Promise<{ rows: number }> {
  const rows = await stageCategoryTree(duck, files);
  await duck.toParquet(
    `SELECT t.categoryid, t.parentid, r.root, NULL::TIMESTAMP AS ts, t.source_file, t.source_line
     FROM category_tree t LEFT JOIN category_roots r USING (categoryid) ORDER BY t.file_index, t.source_line`,
    outPath,
  );
  return { rows };
}

/**
 * The purchase lines of RetailRocket events files (no prices needed), each file first read to its end under
 * `limits`: what datasetExtent dates an events-only dataset by.
 */
export async function derivePurchaseEventsChecked(
  duck: Duck,
  files: readonly RawFileToParse[],
  outPath: string,
  limits: RawFileLimits,
): Promise<void> {
  const checked: RawFileToParse[] = [];
  for (const f of files) {
    const scan = await checkRawFile(f.file.key, f.local.path, limits, true);
    checked.push({ file: f.file, local: { ...f.local, path: scan.path, checkedRecords: scan.records } });
  }
  await deriveTransactionsFromEvents(
    duck,
    { events: checked, itemProperties: [], categoryTree: [] },
    outPath,
  );
}
