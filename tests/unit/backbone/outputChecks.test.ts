/**
 * Output checks and run warnings: a degenerate output is refused with a message that names the output,
 * the column, the rule and the count; warnings of every stage reach the run summary in DAG order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withDuck } from '../../../lib/duck';
import { OutputCheckError } from '../../../lib/errors';
import { checkFiniteMetrics, checkParquetColumns } from '../../../lib/outputChecks';
import { collectRunWarnings } from '../../../lib/runTypes';
import { toTemporalFailure } from '../../../lib/stage';
import { ApplicationFailure } from '@temporalio/common';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-checks-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const RULES = [
  { column: 'customer_id', notNull: true },
  { column: 'p_alive', notNull: true, finite: true, min: 0, max: 1 },
  { column: 'clv', notNull: true, finite: true, min: 0 },
];

async function writeScores(rows: string): Promise<string> {
  const path = join(dir, 'scores.parquet');
  await withDuck(async (duck) => {
    await duck.toParquet(
      `SELECT * FROM (VALUES ${rows}) AS t(customer_id, p_alive, clv) ORDER BY customer_id`,
      path,
    );
  });
  return path;
}

describe('checkParquetColumns', () => {
  it('passes a sound output and returns its row count', async () => {
    const path = await writeScores(`('a', 0.5::DOUBLE, 10.0::DOUBLE), ('b', 1.0, 0.0)`);
    const result = await withDuck((duck) =>
      checkParquetColumns(duck, path, 'clv.parquet', RULES, { expectRows: 2, uniqueBy: ['customer_id'] }),
    );
    expect(result.rows).toBe(2);
  });

  it('names every broken rule with its count and an example', async () => {
    const path = await writeScores(
      `('a', 'NaN'::DOUBLE, 10.0::DOUBLE), ('b', 1.5, -3.0), ('c', 0.2, NULL), ('c', 0.3, 'Infinity'::DOUBLE)`,
    );
    const error = await withDuck((duck) =>
      checkParquetColumns(duck, path, 'clv.parquet', RULES, { expectRows: 3, uniqueBy: ['customer_id'] }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputCheckError);
    const message = (error as Error).message;
    expect(message).toContain('output check failed for clv.parquet');
    expect(message).toContain('column p_alive must be finite: 1 of 4 rows break it (e.g. nan)');
    expect(message).toContain('column p_alive must be <= 1: 1 of 4 rows');
    expect(message).toContain('column clv must not be null: 1 of 4 rows');
    expect(message).toContain('column clv must be finite: 1 of 4 rows');
    expect(message).toContain('column clv must be >= 0: 1 of 4 rows break it (e.g. -3.0)');
    expect(message).toContain('expected 3 rows, found 4');
    expect(message).toContain('1 values of (customer_id) appear on more than one row');
  });

  it('refuses an empty output when rows are required', async () => {
    const path = join(dir, 'empty.parquet');
    await withDuck((duck) => duck.toParquet('SELECT 1::DOUBLE AS clv WHERE false', path));
    await expect(
      withDuck((duck) => checkParquetColumns(duck, path, 'empty.parquet', [], { minRows: 1 })),
    ).rejects.toThrow('expected at least 1 rows, found 0');
  });

  it('is a non-retryable Temporal failure', () => {
    const failure = toTemporalFailure(new OutputCheckError('output check failed for x: y'));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).type).toBe('OutputCheckError');
  });
});

describe('checkFiniteMetrics', () => {
  it('accepts finite numbers and names the others', () => {
    expect(() => checkFiniteMetrics('clv metrics', { totalClv: 10, meanClv: 0 })).not.toThrow();
    expect(() => checkFiniteMetrics('clv metrics', { totalClv: Number.NaN, meanClv: null })).toThrow(
      'output check failed for clv metrics: must be finite numbers: totalClv = NaN, meanClv = null',
    );
  });
});

describe('collectRunWarnings', () => {
  it('lists stage warnings in DAG order, then failed and skipped stages', () => {
    const warnings = collectRunWarnings(['clean', 'clv', 'churn', 'report'], {
      report: { status: 'completed' },
      churn: { status: 'skipped' },
      clv: {
        status: 'completed',
        warnings: [{ code: 'clv_boundary_limit', message: 'b at its boundary: scored with the limit' }],
      },
      clean: { status: 'failed', error: { message: 'bad file', type: 'DataValidationError' } },
    });
    expect(warnings).toEqual([
      { stage: 'clean', code: 'stage_failed', message: 'bad file' },
      { stage: 'clv', code: 'clv_boundary_limit', message: 'b at its boundary: scored with the limit' },
      { stage: 'churn', code: 'stage_skipped', message: 'not run: a stage it depends on failed' },
    ]);
  });
});
