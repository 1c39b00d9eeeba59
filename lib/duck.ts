/**
 * DuckDB for every relational step (parse, dedupe, aggregate) and for Parquet in and out.
 *
 * Each activity opens its own in-memory database: nothing is shared between activities but object-store
 * keys. Numeric columns leave DuckDB as Float64Arrays so that model loops never touch row objects.
 */
import {
  BOOLEAN,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBInstance,
  INTEGER,
  timestampValue,
  UTINYINT,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';

export interface DuckOptions {
  /** Worker threads for DuckDB; defaults to the machine's cores. */
  threads?: number;
  /** e.g. '4GB'; DuckDB spills to its temp directory beyond it. */
  memoryLimit?: string;
  tempDirectory?: string;
}

export type SqlRow = Record<string, unknown>;

/** Values bound to `$name` (record) or `?` (array) placeholders of one statement. */
export type SqlParams = Record<string, DuckDBValue> | DuckDBValue[];

export class Duck {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(options: DuckOptions = {}): Promise<Duck> {
    const config: Record<string, string> = {};
    if (options.threads !== undefined) config.threads = String(options.threads);
    // Two stages may run at once on one worker: cap each database and let DuckDB spill beyond it.
    config.memory_limit = options.memoryLimit ?? process.env.CUSTFLOW_DUCKDB_MEMORY_LIMIT ?? '6GB';
    if (options.tempDirectory !== undefined) config.temp_directory = options.tempDirectory;
    // Output row order follows the query's ORDER BY and scan order; together with a fixed DuckDB version
    // that makes Parquet outputs byte-identical across runs.
    config.preserve_insertion_order = 'true';
    const instance = await DuckDBInstance.create(':memory:', config);
    const connection = await instance.connect();
    // Timestamps are UTC everywhere in custflow, whatever the machine's zone.
    await connection.run("SET TimeZone = 'UTC'");
    return new Duck(instance, connection);
  }

  async run(sql: string, params?: SqlParams): Promise<void> {
    await this.connection.run(sql, params);
  }

  /** Rows as plain JS objects (BIGINT as bigint is converted to number when safe). For small results only. */
  async all<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJS().map((row) => normalizeRow(row) as T);
  }

  async one<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T> {
    const rows = await this.all<T>(sql, params);
    if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}: ${sql.slice(0, 200)}`);
    return rows[0];
  }

  /**
   * Numeric columns of a query as Float64Arrays (NULL becomes NaN). The query should already cast to
   * DOUBLE; other numeric types are converted through Number().
   */
  async columns<K extends string>(
    sql: string,
    names: readonly K[],
    params?: SqlParams,
  ): Promise<{ rowCount: number; columns: Record<K, Float64Array> }> {
    const result = await this.connection.run(sql, params);
    const resultNames = result.columnNames();
    const indexes = names.map((name) => {
      const index = resultNames.indexOf(name);
      if (index < 0) throw new Error(`column ${name} is not in the query result (${resultNames.join(', ')})`);
      return index;
    });
    const chunks: { rowCount: number; values: Float64Array[] }[] = [];
    let total = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      const values = indexes.map((columnIndex) => {
        const vector = chunk.getColumnVector(columnIndex);
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const v = vector.getItem(i);
          out[i] = v === null ? NaN : typeof v === 'number' ? v : Number(v);
        }
        return out;
      });
      chunks.push({ rowCount: n, values });
      total += n;
    }
    const columns = {} as Record<K, Float64Array>;
    names.forEach((name, c) => {
      const out = new Float64Array(total);
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk.values[c], offset);
        offset += chunk.rowCount;
      }
      columns[name] = out;
    });
    return { rowCount: total, columns };
  }

  /** Write the result of a query to a Parquet file (zstd). Callers ORDER BY for deterministic bytes. */
  async toParquet(selectSql: string, path: string): Promise<void> {
    await this.run(
      `COPY (${selectSql}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
    );
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Open a database, hand it to fn, close it whatever happens. */
export async function withDuck<T>(fn: (duck: Duck) => Promise<T>, options: DuckOptions = {}): Promise<T> {
  const duck = await Duck.open(options);
  try {
    return await fn(duck);
  } finally {
    duck.close();
  }
}

/** The DuckDB vector size: appends go in chunks of this many rows. */
const APPEND_CHUNK_ROWS = 2048;

const APPEND_TYPES = { INTEGER, DOUBLE, VARCHAR, BOOLEAN, UTINYINT } as const;

/** One column of a table written from JavaScript: its values by row, or one value for every row. */
export interface AppendColumn {
  name: string;
  type: keyof typeof APPEND_TYPES;
  /** One value per row (null or NaN where missing), or a single value repeated on every row (null: all NULL). */
  values: ArrayLike<number | string | boolean | null> | number | string | boolean | null;
}

/**
 * Create (or replace) `table` with the given columns and append `rowCount` rows to it, a data chunk at a
 * time: typed arrays go in column by column, never row by row. Row i of the table is element i of every
 * column, so a following `ORDER BY` or join on a row index sees the arrays' order.
 */
export async function writeColumns(
  duck: Duck,
  table: string,
  rowCount: number,
  columns: readonly AppendColumn[],
): Promise<void> {
  await duck.run(
    `CREATE OR REPLACE TABLE ${table} (${columns.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ')})`,
  );
  if (rowCount === 0) return;
  const types: DuckDBType[] = columns.map((c) => APPEND_TYPES[c.type]);
  const appender = await duck.connection.createAppender(table);
  try {
    for (let start = 0; start < rowCount; start += APPEND_CHUNK_ROWS) {
      const size = Math.min(APPEND_CHUNK_ROWS, rowCount - start);
      const chunk = DuckDBDataChunk.create(types, size);
      columns.forEach((column, c) => chunk.setColumnValues(c, columnSlice(column.values, start, size)));
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** 0, 1, ..., n - 1: the row index column of a table written from arrays. */
export function rowIndexes(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

function columnSlice(values: AppendColumn['values'], start: number, size: number): DuckDBValue[] {
  if (values === null || typeof values !== 'object') return new Array<DuckDBValue>(size).fill(values);
  const out = new Array<DuckDBValue>(size);
  for (let i = 0; i < size; i++) out[i] = values[start + i];
  return out;
}

/**
 * An instant as epoch ms: an ISO 8601 string (a zone-less one, date-only or not, is read as UTC) or epoch ms.
 * Throws, naming `caller`, on anything else.
 */
export function instantMs(instant: string | number, caller = 'timestamp'): number {
  if (typeof instant === 'number') {
    if (!Number.isFinite(instant)) throw new Error(`${caller}: ${instant} is not a valid instant`);
    return instant;
  }
  if (typeof instant !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(instant)) {
    throw new Error(
      `${caller}: cutoff must be an ISO timestamp like 2011-12-31T23:59:59.999Z (got ${String(instant)})`,
    );
  }
  const zoned = /[zZ]|[+-]\d{2}:?\d{2}$/.test(instant) || instant.length <= 10;
  const ms = Date.parse(zoned ? instant : `${instant}Z`);
  if (!Number.isFinite(ms)) throw new Error(`${caller}: cutoff "${instant}" is not a valid ISO timestamp`);
  return ms;
}

/**
 * A UTC `TIMESTAMP` literal (e.g. TIMESTAMP '2011-12-31 23:59:59.999') for an ISO instant or epoch ms. Only
 * where SQL text must carry the value (views, generated SQL, COPY); elsewhere bind `timestampParam`.
 */
export function sqlTimestamp(instant: string | number, caller?: string): string {
  const iso = new Date(instantMs(instant, caller)).toISOString();
  return `TIMESTAMP ${sqlString(iso.replace('T', ' ').replace('Z', ''))}`;
}

/** An ISO instant or epoch ms as a TIMESTAMP value to bind to a `$name` placeholder. */
export function timestampParam(instant: string | number, caller?: string): DuckDBTimestampValue {
  return timestampValue(BigInt(instantMs(instant, caller)) * 1000n);
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A SQL identifier. */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function normalizeRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = normalizeValue(value);
  return out;
}

function normalizeValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return normalizeRow(value as Record<string, unknown>);
  }
  return value;
}
