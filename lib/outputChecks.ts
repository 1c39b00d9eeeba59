/**
 * Checks a stage runs on its own primary outputs before it commits them (docs/DESIGN.md: "a stage checks its own
 * primary outputs ... before its manifest is written"). One DuckDB scan per output counts, per column and
 * rule, the rows that break it; any count above zero is an OutputCheckError that names the output, the
 * column, the rule and the count, with one offending value as an example. Nothing here repairs data: a
 * stage with a documented fallback takes it before checking, and reports it as a StageWarning.
 */
import type { Duck } from './duck';
import { sqlIdent, sqlString } from './duck';
import { OutputCheckError } from './errors';

export interface ColumnRule {
  column: string;
  /** No NULLs. */
  notNull?: boolean;
  /** No NaN or +/-Infinity (NULLs are judged by notNull alone). */
  finite?: boolean;
  /** Inclusive bounds (NaN is judged by `finite` alone: DuckDB orders NaN above every number). */
  min?: number;
  max?: number;
}

export interface RowCountRule {
  /** Exactly this many rows (e.g. one per customer). */
  expectRows?: number;
  /** At least this many rows (1 = not empty). */
  minRows?: number;
  /** No two rows share these columns' values (e.g. customer_id). */
  uniqueBy?: readonly string[];
}

/** What the scan found: the row count, for the caller's own metrics. */
export interface OutputCheckResult {
  rows: number;
}

/**
 * Check a Parquet output against column rules. `label` names the output in messages, e.g. "clv.parquet".
 * Throws OutputCheckError listing every broken rule.
 */
export async function checkParquetColumns(
  duck: Duck,
  path: string,
  label: string,
  rules: readonly ColumnRule[],
  counts: RowCountRule = {},
): Promise<OutputCheckResult> {
  const source = `read_parquet(${sqlString(path)})`;
  const predicates: { description: string; column: string; sql: string }[] = [];
  for (const rule of rules) {
    const col = sqlIdent(rule.column);
    if (rule.notNull)
      predicates.push({ description: 'must not be null', column: rule.column, sql: `${col} IS NULL` });
    if (rule.finite) {
      predicates.push({
        description: 'must be finite',
        column: rule.column,
        sql: `${col} IS NOT NULL AND NOT isfinite(${col}::DOUBLE)`,
      });
    }
    if (rule.min !== undefined) {
      predicates.push({
        description: `must be >= ${rule.min}`,
        column: rule.column,
        sql: `NOT isnan(${col}::DOUBLE) AND ${col}::DOUBLE < ${numberLiteral(rule.min)}`,
      });
    }
    if (rule.max !== undefined) {
      predicates.push({
        description: `must be <= ${rule.max}`,
        column: rule.column,
        sql: `NOT isnan(${col}::DOUBLE) AND ${col}::DOUBLE > ${numberLiteral(rule.max)}`,
      });
    }
  }
  const selects = [
    'count(*)::BIGINT AS n',
    ...predicates.map((p, i) => `count(*) FILTER (WHERE ${p.sql})::BIGINT AS bad_${i}`),
    ...predicates.map(
      (p, i) => `any_value(${sqlIdent(p.column)}::VARCHAR) FILTER (WHERE ${p.sql}) AS example_${i}`,
    ),
  ];
  const row = await duck.one<Record<string, unknown>>(`SELECT ${selects.join(', ')} FROM ${source}`);
  const rows = Number(row.n);
  const problems: string[] = [];
  predicates.forEach((p, i) => {
    const bad = Number(row[`bad_${i}`]);
    if (bad > 0) {
      const example = row[`example_${i}`];
      const shown = typeof example === 'string' ? example.slice(0, 40) : 'NULL';
      problems.push(`column ${p.column} ${p.description}: ${bad} of ${rows} rows break it (e.g. ${shown})`);
    }
  });
  if (counts.expectRows !== undefined && rows !== counts.expectRows) {
    problems.push(`expected ${counts.expectRows} rows, found ${rows}`);
  }
  if (counts.minRows !== undefined && rows < counts.minRows) {
    problems.push(`expected at least ${counts.minRows} rows, found ${rows}`);
  }
  if (counts.uniqueBy && counts.uniqueBy.length > 0 && rows > 0) {
    const key = counts.uniqueBy.map(sqlIdent).join(', ');
    const dup = await duck.one<{ n: bigint | number }>(
      `SELECT count(*)::BIGINT AS n FROM (SELECT ${key} FROM ${source} GROUP BY ${key} HAVING count(*) > 1)`,
    );
    if (Number(dup.n) > 0) {
      problems.push(`${Number(dup.n)} values of (${counts.uniqueBy.join(', ')}) appear on more than one row`);
    }
  }
  if (problems.length > 0)
    throw new OutputCheckError(`output check failed for ${label}: ${problems.join('; ')}`);
  return { rows };
}

/** Check small in-memory results (metrics, JSON documents): each entry must be a finite number. */
export function checkFiniteMetrics(
  label: string,
  values: Readonly<Record<string, number | null | undefined>>,
): void {
  const broken = Object.entries(values)
    .filter(([, v]) => typeof v !== 'number' || !Number.isFinite(v))
    .map(([name, v]) => `${name} = ${String(v)}`);
  if (broken.length > 0) {
    throw new OutputCheckError(
      `output check failed for ${label}: must be finite numbers: ${broken.join(', ')}`,
    );
  }
}

function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`output check bound must be finite (got ${value})`);
  return `${value}::DOUBLE`;
}
