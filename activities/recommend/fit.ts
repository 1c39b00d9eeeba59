/**
 * What the list builder (model.ts) needs at one scoring date X, read from the basket relations (baskets.ts)
 * with only orders at or before X: the item-to-item neighbour table, the histories of a set of customers,
 * popularity, and (for evaluation) what those customers bought in a later window. All counting is SQL; the
 * results leave DuckDB as typed arrays.
 *
 * Item-to-item similarity over orders up to X, with n_i the orders holding i and n_ij those holding both:
 *   sim(i -> j) = n_ij / (n_i^(1 - SIMILARITY_POPULARITY) * n_j^SIMILARITY_POPULARITY)
 * 0.5 is the cosine; lower values favour popular neighbours (confidence P(j | i) at 0). Pairs sharing
 * fewer than minPairOrders orders are noise and left out; each item keeps its `neighbors` best.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlTimestamp as timestampSql } from '../../lib/duck';
import type { Histories, NeighborTable } from './model';
import type { Targets } from './evaluation';

/**
 * Exponent of the neighbour's own popularity in the similarity's denominator. Measured on Online Retail
 * 2011-12 (evaluation month, hit rate at 10; model / pure item-to-item): 0 gives 0.820 / 0.646, 0.25 gives
 * 0.823 / 0.664, the cosine 0.5 gives 0.804 / 0.638 and 0.75 0.796 / 0.451. Popular neighbours are what
 * customers buy next; the cosine over-rewards rare pairs (two colours of one cup).
 */
export const SIMILARITY_POPULARITY = 0.25;

/** The product baskets (baskets.ts); category lists pass rec_category_basket instead. */
const PRODUCT_BASKET = 'rec_basket';

/** One fitted neighbour table and what it was fitted on. */
export interface NeighborFit {
  table: NeighborTable;
  /** Products bought at least once up to the fit date. */
  catalogueSize: number;
  /** Product pairs sharing at least minPairOrders orders up to the fit date. */
  pairs: number;
}

/**
 * The item-to-item neighbour tables at each of `dates` (orders up to each date), in the order given.
 *
 * The stage fits at three dates (validation, evaluation, recommendations). The pair counts of every date
 * come from one self-join of the baskets with a filtered count per date: the join is the costly part, and
 * an order counts towards every date at or after it, so one pass gives the same counts as three.
 */
export async function fitNeighbors(
  duck: Duck,
  options: {
    dates: readonly string[];
    itemCount: number;
    neighbors: number;
    minPairOrders: number;
    popularityExponent?: number;
    /** (ord, item) baskets: rec_basket (products, the default) or rec_category_basket (categories). */
    basketTable?: string;
  },
): Promise<NeighborFit[]> {
  const basket = sqlIdent(options.basketTable ?? PRODUCT_BASKET);
  const exponent = options.popularityExponent ?? SIMILARITY_POPULARITY;
  if (options.dates.length === 0) return [];
  const latest = options.dates.reduce((a, b) => (a > b ? a : b));
  const countsAt = (alias: string): string =>
    options.dates
      .map((d, k) => `count(*) FILTER (WHERE ${alias}.ts <= ${timestampSql(d)})::DOUBLE AS n${k}`)
      .join(', ');
  await duck.run(`CREATE OR REPLACE TEMP TABLE rec_fit_basket AS
    SELECT b.ord, b.item, o.ts FROM ${basket} b JOIN rec_orders o USING (ord) WHERE o.ts <= ${timestampSql(latest)}`);
  await duck.run(`CREATE OR REPLACE TEMP TABLE rec_fit_items AS
    SELECT item, ${countsAt('rec_fit_basket')} FROM rec_fit_basket GROUP BY item`);
  await duck.run(`CREATE OR REPLACE TEMP TABLE rec_fit_pairs AS
    SELECT x.item AS a, y.item AS b, ${countsAt('x')}
    FROM rec_fit_basket x JOIN rec_fit_basket y ON x.ord = y.ord AND x.item < y.item
    GROUP BY x.item, y.item HAVING count(*) >= ${options.minPairOrders}`);
  const fits: NeighborFit[] = [];
  for (let k = 0; k < options.dates.length; k++) {
    const n = `n${k}`;
    const { rowCount, columns } = await duck.columns(
      `SELECT i, j, similarity, confidence FROM (
         SELECT d.i, d.j, d.n / (pow(ni.${n}, ${1 - exponent}) * pow(nj.${n}, ${exponent})) AS similarity,
                d.n / ni.${n} AS confidence
         FROM (SELECT a AS i, b AS j, ${n} AS n FROM rec_fit_pairs WHERE ${n} >= ${options.minPairOrders}
               UNION ALL SELECT b, a, ${n} FROM rec_fit_pairs WHERE ${n} >= ${options.minPairOrders}) d
         JOIN rec_fit_items ni ON ni.item = d.i JOIN rec_fit_items nj ON nj.item = d.j)
       QUALIFY row_number() OVER (PARTITION BY i ORDER BY similarity DESC, j) <= ${options.neighbors}
       ORDER BY i, similarity DESC, j`,
      ['i', 'j', 'similarity', 'confidence'],
    );
    const start = new Int32Array(options.itemCount + 1);
    for (let r = 0; r < rowCount; r++) start[columns.i[r] + 1]++;
    for (let i = 0; i < options.itemCount; i++) start[i + 1] += start[i];
    const { catalogueSize, pairs } = await duck.one<{ catalogueSize: number; pairs: number }>(
      `SELECT (SELECT count(*) FROM rec_fit_items WHERE ${n} > 0)::INTEGER AS "catalogueSize",
              (SELECT count(*) FROM rec_fit_pairs WHERE ${n} >= ${options.minPairOrders})::INTEGER AS pairs`,
    );
    fits.push({
      table: {
        start,
        item: Int32Array.from(columns.j),
        similarity: columns.similarity,
        confidence: columns.confidence,
      },
      catalogueSize,
      pairs,
    });
  }
  await duck.run('DROP TABLE rec_fit_pairs; DROP TABLE rec_fit_items; DROP TABLE rec_fit_basket');
  return fits;
}

/** Items (products, or categories with `basketTable`) by orders in (at - days, at], most first (ties: lower item first). */
export async function popularity(
  duck: Duck,
  at: string,
  days: number,
  basketTable = PRODUCT_BASKET,
): Promise<Int32Array> {
  const { columns } = await duck.columns(
    `SELECT b.item::DOUBLE AS item FROM ${sqlIdent(basketTable)} b JOIN rec_orders o USING (ord)
     WHERE o.ts <= ${timestampSql(at)} AND o.ts > ${timestampSql(at)} - INTERVAL ${days} DAY
     GROUP BY b.item ORDER BY count(*) DESC, b.item`,
    ['item'],
  );
  return Int32Array.from(columns.item);
}

/**
 * Histories at `at` of the customers in `scoreSet` (a table (pos INTEGER, cust INTEGER) with pos 0..n-1;
 * cust may be NULL for a customer without merchandise purchases, who gets an empty history).
 */
export async function loadHistories(
  duck: Duck,
  scoreSet: string,
  at: string,
  basketTable = PRODUCT_BASKET,
): Promise<Histories> {
  const customers = await materializeHistories(duck, { scoreSet, at, basketTable, table: 'rec_histories' });
  const histories = await readHistories(duck, 'rec_histories', 0, customers);
  await duck.run('DROP TABLE rec_histories');
  return histories;
}

/**
 * The histories of `scoreSet`'s customers at `at` as DuckDB table `table` (pos, item, orders, age), in
 * (pos, item) order, so that {@link readHistories} can hand them to JavaScript a range of customers at a
 * time (the lists of a million customers need not all be in memory at once). Returns the customers.
 */
export async function materializeHistories(
  duck: Duck,
  options: { scoreSet: string; at: string; basketTable?: string; table: string },
): Promise<number> {
  const { scoreSet, at } = options;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(options.table)} AS
    SELECT s.pos, b.item, count(*)::DOUBLE AS orders, epoch(${timestampSql(at)}) / 86400.0 - max(o.day) AS age
    FROM ${scoreSet} s JOIN rec_orders o ON o.cust = s.cust
    JOIN ${sqlIdent(options.basketTable ?? PRODUCT_BASKET)} b ON b.ord = o.ord
    WHERE o.ts <= ${timestampSql(at)}
    GROUP BY s.pos, b.item ORDER BY s.pos, b.item`);
  return (await duck.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${scoreSet}`)).n;
}

/** Customers [from, to) of a table written by {@link materializeHistories}, positions shifted to 0..to-from-1. */
export async function readHistories(duck: Duck, table: string, from: number, to: number): Promise<Histories> {
  const n = to - from;
  const { rowCount, columns } = await duck.columns(
    // No ORDER BY: the table was written in (pos, item) order and a scan keeps it (preserve_insertion_order,
    // lib/duck.ts); the range filter skips the other row groups by their min/max of pos.
    `SELECT (pos - ${from})::DOUBLE AS pos, item::DOUBLE AS item, orders, age FROM ${sqlIdent(table)}
     WHERE pos >= ${from} AND pos < ${to}`,
    ['pos', 'item', 'orders', 'age'],
  );
  const start = new Int32Array(n + 1);
  for (let k = 0; k < rowCount; k++) start[columns.pos[k] + 1]++;
  for (let p = 0; p < n; p++) start[p + 1] += start[p];
  return {
    customers: n,
    start,
    item: Int32Array.from(columns.item),
    orders: columns.orders,
    ageDays: columns.age,
  };
}

/** What the customers of `scoreSet` bought in (from, to], aligned with their positions. */
export async function loadTargets(duck: Duck, scoreSet: string, from: string, to: string): Promise<Targets> {
  const { n } = await duck.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${scoreSet}`);
  const { rowCount, columns } = await duck.columns(
    `SELECT DISTINCT s.pos::DOUBLE AS pos, b.item::DOUBLE AS item
     FROM ${scoreSet} s JOIN rec_orders o ON o.cust = s.cust JOIN rec_basket b ON b.ord = o.ord
     WHERE o.ts > ${timestampSql(from)} AND o.ts <= ${timestampSql(to)}
     ORDER BY pos, item`,
    ['pos', 'item'],
  );
  const start = new Int32Array(n + 1);
  for (let k = 0; k < rowCount; k++) start[columns.pos[k] + 1]++;
  for (let p = 0; p < n; p++) start[p + 1] += start[p];
  return { customers: n, start, item: Int32Array.from(columns.item) };
}

/**
 * The customers evaluated on the window (from, to]: a purchase order at or before `from` (a history to
 * score) and one inside the window (something to be right about). Written as table `name` (pos, cust).
 */
export async function evaluationSet(duck: Duck, name: string, from: string, to: string): Promise<number> {
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${name} AS
    SELECT (row_number() OVER (ORDER BY cust) - 1)::INTEGER AS pos, cust
    FROM (SELECT cust FROM rec_orders GROUP BY cust
          HAVING min(ts) <= ${timestampSql(from)}
             AND count(*) FILTER (WHERE ts > ${timestampSql(from)} AND ts <= ${timestampSql(to)}) > 0)
    ORDER BY pos`);
  return (await duck.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${name}`)).n;
}
