/**
 * Segment migration: how customers moved between personas from the previous month's run to this one.
 * Rows are previous personas plus "(new)" (customers absent last month); columns are current personas plus
 * "(gone)" (customers absent this month).
 *
 * Cluster numbers are not comparable across runs, and neither are the de-duplicated persona names
 * ("Big-ticket occasionals (higher spend)" exists only in a month with two such segments). Customers are
 * matched on `persona_base`, the naming rule's name, which means the same thing every month; segments that
 * share it this month are one row and column of the matrix. A previous run written before that column
 * existed is matched on `persona` instead, and the matrix says so (`matchedOn`).
 *
 * One FULL OUTER JOIN over the two segments.parquet files in DuckDB: no per-customer JavaScript.
 */
import { DataValidationError } from '../../lib/errors';
import { sqlString, type Duck } from '../../lib/duck';

/** Row label of customers who were not in the previous run. */
export const NEW_CUSTOMERS = '(new)';
/** Column label of customers who are not in the current run. */
export const GONE_CUSTOMERS = '(gone)';

/** The segments.parquet column customers are matched on. */
export type MigrationKey = 'persona_base' | 'persona';

/** Counts of customers moving from each previous persona (rows) to each current persona (columns). */
export interface MigrationMatrix {
  /** The persona column the two runs were matched on. */
  matchedOn: MigrationKey;
  /** Row labels: previous personas, then NEW_CUSTOMERS. */
  from: string[];
  /** Column labels: current personas, then GONE_CUSTOMERS. */
  to: string[];
  /** counts[r][c]: customers in row persona r last month and column persona c now. */
  counts: number[][];
  /** counts divided by the row total (rows with no customers are all 0). */
  rowShares: number[][];
  /** Customers in both runs with the same persona. */
  stayed: number;
  /** Customers in both runs with a different persona. */
  moved: number;
  newCustomers: number;
  goneCustomers: number;
}

/** One cell of the matrix: `from` null for new customers, `to` null for gone ones. */
export type MigrationCell = {
  from: string | null;
  to: string | null;
  customers: number;
};

/**
 * The migration matrix between two segments.parquet files (columns customer_id, persona and, from this
 * version on, persona_base). Persona order: names in `order` first (e.g. the current run's personas by
 * segment), then the rest in code-point order, so the layout is deterministic.
 */
export async function migrationBetween(
  duck: Duck,
  options: { previousPath: string; currentPath: string; order?: readonly string[] },
): Promise<MigrationMatrix> {
  const previousColumns = await columnsOf(duck, options.previousPath);
  for (const required of ['customer_id', 'persona']) {
    if (!previousColumns.includes(required)) {
      throw new DataValidationError({
        file: options.previousPath,
        column: required,
        rule: 'last month’s segments must have customer_id and persona columns',
      });
    }
  }
  const matchedOn: MigrationKey = previousColumns.includes('persona_base') ? 'persona_base' : 'persona';
  const previous = `read_parquet(${sqlString(options.previousPath)})`;
  const broken = await duck.one<{ duplicates: number; missing: number }>(
    `SELECT (count(*) - count(DISTINCT customer_id))::INTEGER AS duplicates,
            count(*) FILTER (WHERE ${matchedOn} IS NULL OR ${matchedOn} IN ('${NEW_CUSTOMERS}', '${GONE_CUSTOMERS}'))::INTEGER AS missing
     FROM ${previous}`,
  );
  if (broken.duplicates > 0 || broken.missing > 0) {
    throw new DataValidationError({
      file: options.previousPath,
      column: broken.duplicates > 0 ? 'customer_id' : matchedOn,
      rule:
        broken.duplicates > 0
          ? `customer_id must be unique and not null in last month’s segments (${broken.duplicates} rows break it)`
          : `${matchedOn} must be set and not a reserved label ${NEW_CUSTOMERS} or ${GONE_CUSTOMERS} (${broken.missing} rows break it)`,
    });
  }
  const cells = await duck.all<MigrationCell>(
    `SELECT p.persona AS "from", c.persona AS "to", count(*)::INTEGER AS customers
     FROM (SELECT customer_id, ${matchedOn} AS persona FROM ${previous}) p
     FULL OUTER JOIN (SELECT customer_id, ${matchedOn} AS persona
                      FROM read_parquet(${sqlString(options.currentPath)})) c USING (customer_id)
     GROUP BY ALL ORDER BY ALL`,
  );
  return { matchedOn, ...migrationMatrix(cells, options.order) };
}

/** Lays out the join's cells as a matrix with its totals. */
export function migrationMatrix(
  cells: readonly MigrationCell[],
  order: readonly string[] = [],
): Omit<MigrationMatrix, 'matchedOn'> {
  const rank = (name: string): number => {
    const i = order.indexOf(name);
    return i < 0 ? order.length : i;
  };
  const sortNames = (names: Iterable<string | null>): string[] =>
    [...new Set(names)]
      .filter((n): n is string => n !== null)
      .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const from = [...sortNames(cells.map((c) => c.from)), NEW_CUSTOMERS];
  const to = [...sortNames(cells.map((c) => c.to)), GONE_CUSTOMERS];
  const rowOf = new Map(from.map((name, i) => [name, i]));
  const colOf = new Map(to.map((name, i) => [name, i]));
  const counts = from.map(() => new Array<number>(to.length).fill(0));
  let stayed = 0;
  let moved = 0;
  let newCustomers = 0;
  let goneCustomers = 0;
  for (const { from: before, to: now, customers } of cells) {
    if (before === null && now === null) continue;
    const row = before === null ? from.length - 1 : rowOf.get(before)!;
    const col = now === null ? to.length - 1 : colOf.get(now)!;
    counts[row][col] += customers;
    if (before === null) newCustomers += customers;
    else if (now === null) goneCustomers += customers;
    else if (before === now) stayed += customers;
    else moved += customers;
  }
  const rowShares = counts.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((c) => (total > 0 ? c / total : 0));
  });
  return { from, to, counts, rowShares, stayed, moved, newCustomers, goneCustomers };
}

async function columnsOf(duck: Duck, path: string): Promise<string[]> {
  const rows = await duck.all<{ column_name: string }>(
    `DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`,
  );
  return rows.map((r) => r.column_name);
}
