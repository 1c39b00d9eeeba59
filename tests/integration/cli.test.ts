/**
 * The first hour of a new user (issue 15), through the real `custflow` binary against the real Temporal
 * and S3 servers: `data load` rejects bad files with ingest's file/line message and stores nothing of them;
 * `data list` shows what is stored; `run` refuses impossible months before any workflow starts, with
 * backfill's words; a command with the stack unreachable says which part and what to do; `run --wait`
 * with no worker says so; a finished run's summary shows its headline figures, warnings and the saved
 * report; `export --crm` downloads the CRM export; `data delete` names the runs that read a file, and a
 * replay of a month whose data is gone is refused before it starts.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthlyWorkflowId } from '../../lib/ids';
import { addMonths, monthOf } from '../../lib/month';
import { listRuns } from '../../scripts/commands/runs';
import { generateDataset } from '../../scripts/generate';
import { custflow, custflowUntil } from './cliProcess';
import { openHarness, type Harness } from './harness';

const DATASET = 'first-hour';
const FIRST_MONTH = '2023-01';
const LAST_MONTH = '2023-12';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('custflow CLI for a new user', () => {
  let harness: Harness;
  let dir: string;
  let runId = '';

  beforeAll(async () => {
    harness = await openHarness();
    await harness.startWorker();
    dir = await mkdtemp(join(tmpdir(), 'custflow-cli-'));
    await generateDataset({
      outDir: join(dir, 'data'),
      customers: 1000,
      months: 12,
      seed: 7,
      startMonth: FIRST_MONTH,
    });
  });
  afterAll(async () => {
    await harness?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('data load rejects bad files with file and line, stores the good ones and nothing of the bad', async () => {
    const delivery = join(dir, 'delivery');
    await mkdir(delivery, { recursive: true });
    const good = join(dir, 'data', 'transactions');
    for (let i = 0; i < 12; i++) {
      const month = addMonths(FIRST_MONTH, i);
      await copyFile(join(good, `${month}.csv`), join(delivery, `${month}.csv`));
    }
    const header = (await readFile(join(good, `${FIRST_MONTH}.csv`), 'utf8')).split('\n')[0];
    const row = 'C9,O9,2023-03-01T10:00:00Z,P1,Thing,home,1,2.50,2.50,FR';
    await writeFile(join(delivery, 'empty.csv'), '');
    const gz = gzipSync(`${header}\n${row}\n`.repeat(1));
    await writeFile(join(delivery, 'truncated.csv.gz'), gz.subarray(0, gz.length - 12));
    await writeFile(
      join(delivery, 'latin1.csv'),
      Buffer.concat([
        Buffer.from(`${header}\n${row}\n`),
        Buffer.from('C9,O10,2023-03-02T10:00:00Z,P2,Caf\xe9,home,1,1,1,FR\n', 'latin1'),
      ]),
    );
    await writeFile(join(delivery, 'bad-header.csv'), `customer,order\nC1,O1\n`);
    await writeFile(
      join(delivery, 'bad-value.csv'),
      `${header}\n${row}\n${row.replace(',1,2.50,', ',two,2.50,')}\n`,
    );

    const load = await custflow([
      'data',
      'load',
      '--dataset',
      DATASET,
      '--format',
      'canonical',
      '--from',
      delivery,
      '--json',
    ]);
    expect(load.code, load.stderr).toBe(1); // some files were rejected
    const result = JSON.parse(load.stdout) as {
      files: number;
      loaded: { key: string; rows: number; firstDate: string; lastDate: string }[];
      rejected: { key: string; error: string }[];
    };
    expect(result.files).toBe(12);
    expect(result.loaded.find((f) => f.key.endsWith(`${FIRST_MONTH}.csv`))).toMatchObject({
      firstDate: expect.stringMatching(/^2023-01-/) as string,
      lastDate: expect.stringMatching(/^2023-01-/) as string,
    });
    const rejected = Object.fromEntries(
      result.rejected.map((r) => [r.key.slice(r.key.lastIndexOf('/') + 1), r.error]),
    );
    const prefix = `raw/${DATASET}/canonical/transactions/`;
    expect(Object.keys(rejected).sort()).toEqual([
      'bad-header.csv',
      'bad-value.csv',
      'empty.csv',
      'latin1.csv',
      'truncated.csv.gz',
    ]);
    expect(rejected['empty.csv']).toBe(`${prefix}empty.csv: the file is empty (no header, no rows)`);
    expect(rejected['truncated.csv.gz']).toMatch(
      new RegExp(`^${prefix}truncated\\.csv\\.gz: a gzip file must end with its end-of-stream marker`),
    );
    expect(rejected['latin1.csv']).toMatch(
      new RegExp(`^${prefix}latin1\\.csv, line 3: the file must be UTF-8`),
    );
    expect(rejected['bad-header.csv']).toMatch(
      new RegExp(`^${prefix}bad-header\\.csv, line 1: canonical transactions header: missing required`),
    );
    expect(rejected['bad-value.csv']).toMatch(
      new RegExp(`^${prefix}bad-value\\.csv, line 3, column quantity: quantity must be a whole number`),
    );
    const stored = (await harness.store.list(prefix)).map((o) => o.key.slice(prefix.length));
    expect(stored).toHaveLength(12);
    expect(stored.every((name) => /^2023-\d\d\.csv$/.test(name))).toBe(true);
    expect(load.stderr).toBe(''); // --json: the rejections are in the document, not repeated

    // A human load says what it stored; a relative --from works; events and assignments need only --table.
    for (const table of ['events', 'assignments'] as const) {
      const side = await custflow([
        'data',
        'load',
        '--dataset',
        DATASET,
        '--format',
        'canonical',
        '--table',
        table,
        '--from',
        relative(process.cwd(), join(dir, 'data', table)), // as a user types it
      ]);
      expect(side.code, side.stderr).toBe(0);
      expect(side.stderr).toMatch(
        /^loaded \d+ file\(s\), \d+ bytes, \d+ rows, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d -> s3:/m,
      );
    }
  });

  it('data list shows each file with size, rows, load time and first and last dates', async () => {
    const list = await custflow(['data', 'list', '--dataset', DATASET, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const files = JSON.parse(list.stdout) as {
      file: string;
      table: string;
      size: number;
      rows: number;
      loadedAt: string;
      firstDate: string;
      lastDate: string;
    }[];
    const march = files.find((f) => f.file === 'canonical/transactions/2023-03.csv');
    expect(march).toMatchObject({ table: 'transactions', firstDate: '2023-03-01' });
    expect(march!.lastDate).toMatch(/^2023-03-3[01]$/);
    expect(march!.size).toBeGreaterThan(0);
    expect(march!.rows).toBeGreaterThan(0);
    expect(Date.now() - Date.parse(march!.loadedAt)).toBeLessThan(10 * 60_000);
    expect(files.filter((f) => f.table === 'events')).toHaveLength(12);
    const human = await custflow(['data', 'list', '--dataset', DATASET]);
    expect(human.stdout).toMatch(
      /canonical\/transactions\/2023-03\.csv\s+transactions\s+canonical\s+[\d.]+ KB/,
    );
  });

  it('run refuses unended months, months before the data and unknown datasets before starting', async () => {
    const now = monthOf(Date.now());
    const cases: [string, string, RegExp][] = [
      [
        DATASET,
        now,
        new RegExp(`^custflow: cannot run ${now}: the month has not ended yet \\(it is ${now} now\\)$`, 'm'),
      ],
      [DATASET, '2031-05', /cannot run 2031-05: the month has not ended yet/],
      [
        DATASET,
        '2022-12',
        new RegExp(`^custflow: cannot run 2022-12: the data of ${DATASET} starts in ${FIRST_MONTH}$`, 'm'),
      ],
      [
        'no-such-data',
        '2023-06',
        /^custflow: dataset no-such-data has no transactions loaded .*datasets here: .*first-hour/m,
      ],
    ];
    for (const [dataset, month, words] of cases) {
      const refused = await custflow(['run', '--dataset', dataset, '--month', month, '--wait']);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(words);
      // nothing started: no workflow, no run left behind
      await expect(
        harness.client.workflow.getHandle(monthlyWorkflowId(dataset, month)).describe(),
      ).rejects.toThrow(/not found/i);
    }
    expect(await listRuns(DATASET, harness.store)).toEqual([]);
    expect(await listRuns('no-such-data', harness.store)).toEqual([]);
  });

  it('says which part of the stack is unreachable and what to do, fast', async () => {
    const [temporalPort, s3Port] = [await closedPort(), await closedPort()];
    const down = {
      ...process.env,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    };
    const run = await custflow(['run', '--dataset', DATASET, '--month', LAST_MONTH, '--wait'], down);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `Temporal at 127.0.0.1:${temporalPort} is not reachable (connect ECONNREFUSED)`,
    );
    expect(run.stderr).toContain(`S3 at http://127.0.0.1:${s3Port} is not reachable (connect ECONNREFUSED)`);
    expect(run.stderr).toMatch(/npx custflow dev up/);
    expect(run.stderr).not.toMatch(/Failed to connect before the deadline/);
    expect(run.ms).toBeLessThan(10_000);
    for (const args of [
      ['runs', 'list'],
      [
        'data',
        'load',
        '--dataset',
        DATASET,
        '--format',
        'canonical',
        '--from',
        join(dir, 'data', 'transactions'),
      ],
      ['datasets', 'list'],
    ]) {
      const result = await custflow(args, down);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^custflow: S3 at http://127\\.0\\.0\\.1:${s3Port} is not reachable \\(connect ECONNREFUSED\\); check S3_ENDPOINT`,
        ),
      );
    }
  });

  it('run --wait says when no worker picks the run up', async () => {
    const queue = `nobody-${Date.now()}`;
    const month = addMonths(LAST_MONTH, -1);
    const { child, stderr, ms } = await custflowUntil(
      ['run', '--dataset', DATASET, '--month', month, '--wait'],
      /no worker has picked run \S+ up after \d+ s: no worker polls task queue/,
      60_000,
      { ...process.env, CUSTFLOW_TASK_QUEUE: queue },
    );
    try {
      expect(stderr).toContain(`task queue "${queue}"`);
      expect(stderr).toMatch(/npx custflow dev up|npx custflow worker/);
      expect(ms).toBeLessThan(30_000);
    } finally {
      child.kill('SIGKILL');
      await harness.client.workflow.getHandle(monthlyWorkflowId(DATASET, month)).terminate('test: no worker');
    }
  });

  it('a finished run shows headline figures, warnings and the saved report; export --crm downloads the CRM export', async () => {
    const reportFile = join(dir, 'report.html');
    const run = await custflow([
      'run',
      '--dataset',
      DATASET,
      '--month',
      LAST_MONTH,
      '--wait',
      '--report',
      reportFile,
    ]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    runId = /^run (\S+)\s+first-hour 2023-12\s+COMPLETED/m.exec(run.stdout)?.[1] ?? '';
    expect(runId).not.toBe('');
    expect(run.stdout).toMatch(/^HEADLINES$/m);
    expect(run.stdout).toMatch(
      /^ {2}rows {7}[\d,]+ in, [\d,]+ kept, [\d,]+ quarantined \(\d+\.\d%\)(, [\d,]+ duplicates dropped)?$/m,
    );
    expect(run.stdout).toMatch(/^ {2}segments {3}k = \d+ \(silhouette \d\.\d{3}\)$/m);
    expect(run.stdout).toMatch(/^ {2}churn {6}AUC \d\.\d{3}/m);
    expect(run.stdout).toMatch(/^ {2}CLV {8}total [\d,]+ over \d+ months, [\d,]+ customers$/m);
    expect(run.stdout).toMatch(/^ {2}forecast {3}.+, MASE \d+\.\d{3} \(baseline \d+\.\d{3}\)$/m);
    expect(run.stdout).toContain(`saved as ${reportFile}`);
    expect(await readFile(reportFile, 'utf8')).toMatch(/<html/i);
    // the warnings the run has are printed in full
    const shown = await custflow(['runs', 'show', runId, '--json']);
    const summary = JSON.parse(shown.stdout) as { warnings: { code: string }[] };
    for (const warning of summary.warnings) expect(run.stdout).toContain(`[${warning.code}]`);

    const crmFile = join(dir, 'crm.csv');
    const exported = await custflow(['export', runId, '--crm', crmFile, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ runId, file: crmFile });
    const crm = await readFile(crmFile, 'utf8');
    expect(crm.split('\n')[0]).toMatch(/customer_id/);
    expect(crm.trim().split('\n').length).toBeGreaterThan(100);
    const missing = await custflow(['export', 'no-such-run', '--crm', crmFile]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no run with id no-such-run/);
  });

  it('data delete names the completed runs that read the file; a replay without data is refused', async () => {
    const file = `canonical/transactions/${LAST_MONTH}.csv`;
    const dryRun = await custflow([
      'data',
      'delete',
      '--dataset',
      DATASET,
      '--file',
      file,
      '--dry-run',
      '--json',
    ]);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(JSON.parse(dryRun.stdout)).toMatchObject({
      deleted: false,
      runs: [{ runId, month: LAST_MONTH }],
    });
    expect(await harness.store.head(`raw/${DATASET}/${file}`)).toBeDefined();

    const deleted = await custflow(['data', 'delete', '--dataset', DATASET, '--file', file]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stderr).toContain(`deleted raw/${DATASET}/${file}`);
    expect(deleted.stderr).toContain(`npx custflow replay ${runId} --wait`);
    expect(await harness.store.head(`raw/${DATASET}/${file}`)).toBeUndefined();
    const list = JSON.parse((await custflow(['data', 'list', '--dataset', DATASET, '--json'])).stdout) as {
      file: string;
    }[];
    expect(list.map((f) => f.file)).not.toContain(file);

    const unknown = await custflow(['data', 'delete', '--dataset', DATASET, '--file', '2023-12.csv']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/has no file 2023-12\.csv/);

    // Every transaction file gone: a replay of the run is refused before it starts, in run's words.
    for (let i = 0; i < 11; i++) {
      const month = addMonths(FIRST_MONTH, i);
      const gone = await custflow([
        'data',
        'delete',
        '--dataset',
        DATASET,
        '--file',
        `canonical/transactions/${month}.csv`,
      ]);
      expect(gone.code, gone.stderr).toBe(0);
    }
    const replay = await custflow(['replay', runId, '--wait']);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toMatch(
      new RegExp(`^custflow: dataset ${DATASET} has no transactions loaded`, 'm'),
    );
    expect((await listRuns(DATASET, harness.store)).map((r) => r.runId)).toEqual([runId]);
  });
});
