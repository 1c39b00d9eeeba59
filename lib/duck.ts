/**
 * DuckDB for every relational step (parse, dedupe, aggregate) and for Parquet in and out.
 *
 * Each activity opens its own in-memory database: nothing is shared between activities but object-store
 * keys. Numeric columns leave DuckDB as Float64Arrays so that model loops never touch row objects.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

export interface DuckOptions {
  /** Worker threads for DuckDB; defaults to the machine's cores. */
  threads?: number;
  /** e.g. '4GB'; DuckDB spills to its temp directory beyond it. */
  memoryLimit?: string;
  tempDirectory?: string;
}

export type SqlRow = Record<string, unknown>;

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

  async run(sql: string, params?: Record<string, DuckDBValue> | DuckDBValue[]): Promise<void> {
    await this.connection.run(sql, params);
  }

  /** Rows as plain JS objects (BIGINT as bigint is converted to number when safe). For small results only. */
  async all<T extends SqlRow = SqlRow>(
    sql: string,
    params?: Record<string, DuckDBValue> | DuckDBValue[],
  ): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJS().map((row) => normalizeRow(row) as T);
  }

  async one<T extends SqlRow = SqlRow>(
    sql: string,
    params?: Record<string, DuckDBValue> | DuckDBValue[],
  ): Promise<T> {
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
  ): Promise<{ rowCount: number; columns: Record<K, Float64Array> }> {
    const result = await this.connection.run(sql);
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
