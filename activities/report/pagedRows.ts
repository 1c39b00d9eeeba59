/**
 * Per-customer query results read a page at a time. `duck.all` turns a whole result into JavaScript
 * objects in one synchronous call: for the CRM export at ten times the demo (50,000 customers, nested
 * recommendation lists) that held the report stage's event loop, and with it the heartbeat timer, for
 * seconds. Here the result is kept in a DuckDB table numbered in the query's order and read back
 * `pageRows` rows per query; each query's wait is a turn of the event loop. Same rows, same order.
 */
import { sqlIdent, type Duck, type SqlRow } from '../../lib/duck';
import { yieldEvery } from '../../lib/yieldEvery';

/** Rows per page: a few milliseconds of conversion each. */
export const PAGE_ROWS = 5_000;

/**
 * `mapRow` applied to every row of `select` in the order of `orderBy` (an ORDER BY list over `select`'s
 * output columns), read {@link PAGE_ROWS} rows at a time through the temporary table `table`.
 */
export async function pagedRows<R extends SqlRow, T>(
  duck: Duck,
  options: { select: string; orderBy: string; table: string; pageRows?: number },
  mapRow: (row: R) => T,
): Promise<T[]> {
  const table = sqlIdent(options.table);
  const pageRows = options.pageRows ?? PAGE_ROWS;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${table} AS
    SELECT row_number() OVER (ORDER BY ${options.orderBy}) AS paged_row, * FROM (${options.select})
    ORDER BY paged_row`);
  const { n } = await duck.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table}`);
  const out: T[] = [];
  const yieldIfDue = yieldEvery();
  for (let from = 0; from < n; from += pageRows) {
    const rows = await duck.all<R>(
      `SELECT * EXCLUDE (paged_row) FROM ${table}
       WHERE paged_row > ${from} AND paged_row <= ${from + pageRows} ORDER BY paged_row`,
    );
    for (const row of rows) out.push(mapRow(row));
    // A query's wait already lets timers run; this covers a loop of pages whose queries return at once.
    await yieldIfDue();
  }
  await duck.run(`DROP TABLE ${table}`);
  return out;
}
