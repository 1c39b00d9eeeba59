/**
 * `ingest.onBadFile` (issue 15, item 5) on the real Temporal and S3 servers: with a bad file among good
 * ones a run fails by default naming file, line, column and rule; with `skip` set through the real
 * `custflow datasets set-config`, the month runs without the bad files, the run's warnings name each one
 * and its rule, their rows are counted as quarantined at file level (raw rows = kept + quarantined, against
 * the rows planted), and `custflow data list` marks them.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../lib/runTypes';
import { loadData } from '../../scripts/commands/data';
import type { DataFileInfo } from '../../scripts/commands/dataFiles';
import { startRun, waitForRun } from '../../scripts/commands/run';
import { generateDataset } from '../../scripts/generate';
import { custflow } from './cliProcess';
import { openHarness, type Harness } from './harness';

const DATASET = 'skip-bad';
const MONTH = '2023-04';
const PREFIX = `raw/${DATASET}/canonical/transactions/`;
const BAD_VALUE_KEY = `${PREFIX}2023-02-late.csv`;
const TRUNCATED_KEY = `${PREFIX}2023-03-late.csv.gz`;
/** Data rows planted in each bad file. */
const BAD_VALUE_ROWS = 5;
const TRUNCATED_ROWS = 40;

interface SkippedFile {
  file: string;
  reason: string;
  rows: number | null;
  rowsNote?: string;
}

describe('a month with a bad raw file', () => {
  let harness: Harness;
  let dir: string;
  let plantedGoodRows: number;

  beforeAll(async () => {
    harness = await openHarness();
    await harness.startWorker();
    dir = await mkdtemp(join(tmpdir(), 'custflow-skip-'));
    await generateDataset({ outDir: dir, customers: 300, months: 4, seed: 5, startMonth: '2023-01' });
    const truth = JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8')) as {
      rows: { transactions: number };
    };
    plantedGoodRows = truth.rows.transactions;
    await loadData(
      { dataset: DATASET, format: 'canonical', table: 'transactions', from: join(dir, 'transactions') },
      harness.store,
    );
  });

  afterAll(async () => {
    await harness?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const header = async (): Promise<string> =>
    (await readFile(join(dir, 'transactions', '2023-01.csv'), 'utf8')).split('\n')[0];
  const row = (i: number, quantity: string): string =>
    `C${9000 + i},L${i},2023-02-20T10:00:00Z,P1,Thing,home,${quantity},2.50,${quantity === '1' ? '2.50' : ''},FR`;

  const runMonth = async (): Promise<RunSummary> => {
    // No config given: the run resolves the dataset's stored config, as `custflow run` does.
    const started = await startRun(harness.client, { dataset: DATASET, month: MONTH });
    return waitForRun(harness.client, started, { quiet: true });
  };

  it('fails by default, naming the file, line, column and rule', async () => {
    // A delivery that bypassed `data load`'s check: the third data row (line 4) has no whole quantity.
    const lines = [await header()];
    for (let i = 0; i < BAD_VALUE_ROWS; i++) lines.push(row(i, i === 2 ? 'abc' : '1'));
    const path = join(dir, 'bad-value.csv');
    await writeFile(path, `${lines.join('\n')}\n`);
    await harness.store.putFile(BAD_VALUE_KEY, path, 'text/csv');

    const failed = await runMonth();
    expect(failed.status).toBe('FAILED');
    expect(failed.stages.ingest.status).toBe('failed');
    expect(failed.stages.ingest.error?.message).toMatch(
      new RegExp(`${BAD_VALUE_KEY}, line 4, column quantity: quantity must be a whole number`),
    );
    expect(failed.stages.clean.status).not.toBe('completed');
  });

  it('with onBadFile: skip, runs without the bad files and accounts for their rows', async () => {
    // A gzip cut before its 8-byte trailer: every row inflates, the end-of-stream check fails.
    const lines = [await header()];
    for (let i = 0; i < TRUNCATED_ROWS; i++) lines.push(row(100 + i, '1'));
    const gz = gzipSync(`${lines.join('\n')}\n`);
    const path = join(dir, 'truncated.csv.gz');
    await writeFile(path, gz.subarray(0, gz.length - 8));
    await harness.store.putFile(TRUNCATED_KEY, path, 'application/gzip');

    const configPath = join(dir, 'skip.yaml');
    await writeFile(configPath, 'ingest:\n  onBadFile: skip\n');
    const set = await custflow(['datasets', 'set-config', '--dataset', DATASET, '--config', configPath]);
    expect(set.code, set.stderr).toBe(0);

    const summary = await runMonth();
    expect(summary.status, JSON.stringify(summary.stages.ingest.error)).toBe('COMPLETED');
    const ingest = summary.stages.ingest.metrics as {
      rawRows: number;
      outputRows: number;
      quarantinedFileRows: number;
      skippedFiles: SkippedFile[];
    };
    expect(ingest.skippedFiles.map((f) => f.file)).toEqual([BAD_VALUE_KEY, TRUNCATED_KEY]);
    const [badValue, truncated] = ingest.skippedFiles;
    expect(badValue.rows).toBe(BAD_VALUE_ROWS);
    expect(badValue.reason).toMatch(/line 4, column quantity: quantity must be a whole number/);
    expect(truncated.rows).toBe(TRUNCATED_ROWS);
    expect(truncated.rowsNote).toMatch(/readable before the file broke/);
    expect(truncated.reason).toMatch(/truncated/);

    // Every delivered row is accounted for: the planted good rows are kept for clean, the bad files' rows
    // are quarantined as whole files.
    expect(ingest.outputRows).toBe(plantedGoodRows);
    expect(ingest.quarantinedFileRows).toBe(BAD_VALUE_ROWS + TRUNCATED_ROWS);
    expect(ingest.rawRows).toBe(ingest.outputRows + ingest.quarantinedFileRows);
    expect(summary.stages.clean.metrics.inputRows).toBe(plantedGoodRows);

    const skipWarnings = summary.warnings.filter((w) => w.code === 'ingest_file_skipped');
    expect(skipWarnings.map((w) => w.stage)).toEqual(['ingest', 'ingest']);
    expect(skipWarnings[0].message).toContain(`skipped ${BAD_VALUE_KEY}`);
    expect(skipWarnings[0].message).toContain(
      `its ${BAD_VALUE_ROWS} transactions rows are counted as quarantined`,
    );
    expect(skipWarnings[1].message).toContain(`skipped ${TRUNCATED_KEY}`);

    const listed = await custflow(['data', 'list', '--dataset', DATASET, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const files = JSON.parse(listed.stdout) as DataFileInfo[];
    const marked = files.filter((f) => f.skippedBy && f.skippedBy.length > 0);
    expect(marked.map((f) => f.key)).toEqual([BAD_VALUE_KEY, TRUNCATED_KEY]);
    expect(marked[0].skippedBy).toEqual([{ runId: summary.runId, month: MONTH, reason: badValue.reason }]);
    const human = await custflow(['data', 'list', '--dataset', DATASET]);
    expect(human.code, human.stderr).toBe(0);
    const line = human.stdout.split('\n').find((l) => l.includes('2023-02-late.csv'));
    expect(line).toMatch(/SKIPPED by runs of 2023-04: .*line 4, column quantity/);
  });
});
