/**
 * From delivered bytes to clean rows, every row accounted for: absurd amounts and implausible dates are
 * quarantined with their reason (not kept, not failing a later stage), a 10 MB value is named without
 * being copied into the message, months before the year 1000 are refused, and failures are classed as
 * data (never retried), infrastructure (retried for hours) or unexpected (retried a few times).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanTransactions } from '../../../activities/clean';
import { rawFileLimits } from '../../../activities/ingest';
import { parseTransactionFiles } from '../../../activities/ingest/parse';
import { checkRawFile } from '../../../activities/ingest/rawFileCheck';
import { parseRunConfig } from '../../../lib/config';
import { withDuck } from '../../../lib/duck';
import { DataValidationError } from '../../../lib/errors';
import { monthCutoffIso, parseMonth } from '../../../lib/month';
import { isTransientInfrastructureError } from '../../../lib/objectStore';
import { toTemporalFailure, UNEXPECTED_ERROR_MAX_ATTEMPTS } from '../../../lib/stage';
import { stageActivityOptions } from '../../../lib/stageRegistry';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-nothing-lost-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEADER = 'customer_id,order_id,ts,product_id,quantity,unit_price';
const config = parseRunConfig({});

/** Delivered CSV text -> checked -> parsed -> cleaned, as the stages do it. */
async function ingestAndClean(name: string, text: string | Buffer) {
  const key = `raw/d/canonical/transactions/${name}`;
  const downloaded = join(dir, name);
  await writeFile(downloaded, text);
  const checked = await checkRawFile(key, downloaded, rawFileLimits(config.ingest), true);
  return withDuck(async (duck) => {
    const parsedPath = join(dir, 'ingest.parquet');
    const parsed = await parseTransactionFiles(
      duck,
      [
        {
          file: { key, format: 'canonical' },
          local: { key, path: checked.path, index: 0, checkedRecords: checked.records },
        },
      ],
      parsedPath,
    );
    const cleaned = await cleanTransactions(duck, {
      inputPath: parsedPath,
      cutoffIso: monthCutoffIso('2024-01'),
      outlierIqrMultiplier: 3,
      minTimestampIso: `${config.clean.minTimestamp}T00:00:00Z`,
      maxAbsAmount: config.clean.maxAbsAmount,
      outDir: dir,
    });
    const quarantine = await duck.all<{ source_line: number; reason: string }>(
      `SELECT source_line::INTEGER AS source_line, reason FROM read_parquet('${cleaned.paths.quarantine}') ORDER BY source_line`,
    );
    return { parsed, metrics: cleaned.metrics, quarantine };
  });
}

describe('amounts and timestamps out of range', () => {
  it('quarantines 1e15 and 1e308 prices and a 1900 date, keeping the accounting exact', async () => {
    const lines = [
      HEADER,
      'c1,o1,2024-01-05 10:00:00,p1,2,5', // kept
      'c1,o2,2024-01-06 10:00:00,p1,1,1e15', // line 3: amount_out_of_range
      'c2,o3,2024-01-06 10:00:00,p2,3,1e308', // line 4: amount 3e308 is infinite
      'c2,o4,1900-01-01 00:00:00,p2,1,4', // line 5: implausible_timestamp
      'c3,o5,2024-01-07 10:00:00,p3,1,999999999', // kept: at the bound
      'c3,o6,2024-01-07 10:00:00,p3,-2,600000000', // line 7: |amount| 1.2e9
      'c3,o7,1989-12-31 23:59:59,p3,1,2', // line 8: before 1990
      'c3,o8,1990-01-01 00:00:00,p3,1,2', // kept: the floor itself
    ];
    const { parsed, metrics, quarantine } = await ingestAndClean(
      '2024-01.csv.gz',
      gzipSync(lines.join('\n')),
    );
    expect(parsed.rows).toBe(8);
    expect(quarantine).toEqual([
      { source_line: 3, reason: 'amount_out_of_range' },
      { source_line: 4, reason: 'amount_out_of_range' },
      { source_line: 5, reason: 'implausible_timestamp' },
      { source_line: 7, reason: 'amount_out_of_range' },
      { source_line: 8, reason: 'implausible_timestamp' },
    ]);
    expect(metrics.quarantinedByReason).toMatchObject({ amount_out_of_range: 3, implausible_timestamp: 2 });
    expect(metrics.outputRows).toBe(3);
    expect(metrics.inputRows).toBe(
      metrics.outputRows + metrics.quarantinedRows + metrics.duplicateRows + metrics.afterCutoffRows,
    );
    expect(metrics.firstTs).toBe('1990-01-01T00:00:00.000Z');
  });

  it('quotes at most 200 characters of a 1.5 MB value in the error', async () => {
    // Under DuckDB's own 2 MB record limit, so that the value reaches the finite-number check.
    const huge = '9'.repeat(1.5 * 1024 * 1024) + 'x';
    const text = [HEADER, 'c1,o1,2024-01-05 10:00:00,p1,1,2', `c1,o2,2024-01-05 10:00:00,p1,1,${huge}`].join(
      '\n',
    );
    const limits = { ...rawFileLimits(config.ingest), maxLineBytes: 2 * 1024 * 1024 };
    const key = 'raw/d/canonical/transactions/big.csv';
    await writeFile(join(dir, 'big.csv'), text);
    const checked = await checkRawFile(key, join(dir, 'big.csv'), limits, true);
    const error = (await withDuck((duck) =>
      parseTransactionFiles(
        duck,
        [
          {
            file: { key, format: 'canonical' },
            local: { key, path: checked.path, index: 0, checkedRecords: checked.records },
          },
        ],
        join(dir, 'out.parquet'),
      ),
    ).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error.message).toMatch(
      /^raw\/d\/canonical\/transactions\/big\.csv, line 3, column unit_price: unit_price must be a finite number/,
    );
    expect(error.message).toMatch(/more characters\)\)$/);
    expect(error.message.length).toBeLessThan(400);
  });

  it('with the default line limit, the 10 MB line is refused before parsing', async () => {
    await expect(
      ingestAndClean(
        'big.csv',
        [HEADER, `c1,o2,2024-01-05 10:00:00,p1,1,${'9'.repeat(10 * 1024 * 1024)}`].join('\n'),
      ),
    ).rejects.toThrow(
      'raw/d/canonical/transactions/big.csv, line 2: a line may be at most 1048576 bytes long',
    );
  });
});

describe('months', () => {
  it('refuses months before the year 1000 instead of mapping 0000 to 1900', () => {
    expect(() => parseMonth('0000-01')).toThrow(/before the year 1000/);
    expect(() => parseMonth('0999-12')).toThrow(/before the year 1000/);
    expect(parseMonth('1000-01')).toEqual({ year: 1000, month: 1 });
    expect(monthCutoffIso('1000-01')).toBe('1000-01-31T23:59:59.999Z');
  });
});

describe('retries by failure class', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7070'), { code: 'ECONNREFUSED' });
  const slowDown = new S3ServiceException({
    name: 'SlowDown',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
    message: 'Please reduce your request rate.',
  });
  const internal = new S3ServiceException({
    name: 'InternalError',
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
  });
  const notFound = new S3ServiceException({
    name: 'NoSuchKey',
    $fault: 'client',
    $metadata: { httpStatusCode: 404 },
  });

  it('tells infrastructure faults from the rest', () => {
    expect(isTransientInfrastructureError(refused)).toBe(true);
    expect(isTransientInfrastructureError(slowDown)).toBe(true);
    expect(isTransientInfrastructureError(internal)).toBe(true);
    expect(isTransientInfrastructureError(new Error('write failed', { cause: refused }))).toBe(true);
    expect(
      isTransientInfrastructureError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
    ).toBe(true);
    expect(isTransientInfrastructureError(notFound)).toBe(false);
    expect(
      isTransientInfrastructureError(new TypeError("Cannot read properties of undefined (reading 'x')")),
    ).toBe(false);
  });

  it('retries infrastructure faults at any attempt, stops a bug after a few, never retries bad data', () => {
    expect(toTemporalFailure(refused, 40)).toBe(refused);
    expect(toTemporalFailure(slowDown, 40)).toBe(slowDown);
    const bug = new TypeError('x is undefined');
    expect(toTemporalFailure(bug, UNEXPECTED_ERROR_MAX_ATTEMPTS - 1)).toBe(bug);
    const stopped = toTemporalFailure(bug, UNEXPECTED_ERROR_MAX_ATTEMPTS) as ApplicationFailure;
    expect(stopped).toBeInstanceOf(ApplicationFailure);
    expect(stopped).toMatchObject({ type: 'UnexpectedError', nonRetryable: true });
    const data = toTemporalFailure(
      new DataValidationError({ file: 'f', line: 3, rule: 'r' }),
      1,
    ) as ApplicationFailure;
    expect(data).toMatchObject({ type: 'DataValidationError', nonRetryable: true, message: 'f, line 3: r' });
    const conversion = toTemporalFailure(
      new Error('Conversion Error: Could not cast value 1000000000000000.0 to DECIMAL(18,4)'),
      1,
    ) as ApplicationFailure;
    expect(conversion).toMatchObject({ type: 'DataValidationError', nonRetryable: true });
  });

  it('gives each stage hours of capped exponential backoff instead of five attempts in 30 s', () => {
    const options = stageActivityOptions('ingest');
    expect(options).toMatchObject({
      scheduleToCloseTimeout: '360 minutes',
      startToCloseTimeout: '30 minutes',
      heartbeatTimeout: '1 minute',
      retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '120 seconds' },
    });
    expect(options.retry?.maximumAttempts).toBeUndefined();
    expect(options.retry?.nonRetryableErrorTypes).toEqual([
      'DataValidationError',
      'ConfigError',
      'OutputCheckError',
    ]);
    // The window from config, never shorter than one attempt.
    expect(
      stageActivityOptions('segment', { stageRetryHours: 0.5, maxRetryIntervalSeconds: 30 }),
    ).toMatchObject({
      scheduleToCloseTimeout: '60 minutes',
      retry: { maximumInterval: '30 seconds' },
    });
  });
});
