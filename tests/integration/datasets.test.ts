/**
 * A dataset remembers its conventions, end to end through the `custflow` binary against the real S3 and
 * Temporal servers: `data load --format cdnow` with no config records the format; `datasets show` gives the
 * format's defaults; `datasets set-config` refuses an unknown key (naming it) and stores a valid config;
 * a run started with no --config gets format defaults < dataset config, and one with --config gets that on
 * top; the run's clean keeps CDNOW's $0 orders as purchases.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfig } from '../../lib/config';
import { datasetRecordKey, type DatasetRecord } from '../../lib/datasets';
import { runConfigKey } from '../../lib/layout';
import { startReplay } from '../../scripts/commands/replay';
import { startRun, waitForRun } from '../../scripts/commands/run';
import { createSchedule, scheduleAction } from '../../scripts/commands/schedule';
import { CDNOW_DIR, HAS_CDNOW } from '../sharedData';
import { openHarness, type Harness } from './harness';

const CLI = new URL('../../bin/custflow.mjs', import.meta.url).pathname;

function custflow(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe.skipIf(!HAS_CDNOW)('dataset conventions through the CLI', () => {
  let harness: Harness;
  let dir: string;
  /** The 1997-09 run made before any dataset config was set. */
  let firstRunId = '';

  beforeAll(async () => {
    harness = await openHarness();
    await harness.startWorker();
    dir = await mkdtemp(join(tmpdir(), 'custflow-datasets-'));
  });
  afterAll(async () => {
    await harness?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads CDNOW as --format cdnow and shows the format defaults', async () => {
    const load = await custflow([
      'data',
      'load',
      '--dataset',
      'cdnow',
      '--format',
      'cdnow',
      '--from',
      join(CDNOW_DIR, 'CDNOW_sample.txt'),
      '--json',
    ]);
    expect(load.code, load.stderr).toBe(0);
    const loaded = JSON.parse(load.stdout) as { files: number; datasetRecord: DatasetRecord };
    expect(loaded.files).toBe(1);
    expect(loaded.datasetRecord.sources).toEqual([{ table: 'transactions', format: 'cdnow' }]);
    expect(loaded.datasetRecord.config).toBeNull();
    const stored = await harness.store.getJson<DatasetRecord>(datasetRecordKey('cdnow'));
    expect(stored.sources).toEqual([{ table: 'transactions', format: 'cdnow' }]);

    const show = await custflow(['datasets', 'show', '--dataset', 'cdnow', '--json']);
    expect(show.code, show.stderr).toBe(0);
    const details = JSON.parse(show.stdout) as { format: string; effective: RunConfig; precedence: string };
    expect(details.format).toBe('cdnow');
    expect(details.effective.currency).toBe('USD');
    expect(details.effective.clean.quarantineZeroPrice).toBe(false);
    expect(details.precedence).toBe('format defaults < dataset config < command --config');
  });

  it('a run with no config at all keeps the $0 orders and gives the published BG/NBD fit', async () => {
    const started = await startRun(harness.client, { dataset: 'cdnow', month: '1997-09' }, harness.store);
    firstRunId = started.runId;
    const summary = await waitForRun(harness.client, started, { quiet: true });
    const config = await harness.store.getJson<RunConfig>(runConfigKey('cdnow', '1997-09', started.runId));
    expect(config.currency).toBe('USD');
    expect(config.clean.quarantineZeroPrice).toBe(false);
    const clean = summary.stages.clean;
    expect(clean.status).toBe('completed');
    expect(clean.metrics).toMatchObject({ quarantinedRows: 0, nonMerchandiseRows: 0 });
    // Fader, Hardie and Lee (2005), calibration through 1997-09-30
    const clv = summary.stages.clv;
    console.log(`cdnow 1997-09 clv: ${clv.status} ${JSON.stringify(clv.metrics.params)}`);
    expect(clv.status).toBe('completed');
    const params = clv.metrics.params as { r: number; alpha: number; a: number; b: number };
    expect(params.r).toBeCloseTo(0.2426, 3);
    expect(params.alpha).toBeCloseTo(4.4136, 3);
    expect(params.a).toBeCloseTo(0.7929, 3);
    expect(params.b).toBeCloseTo(2.4259, 3);
  });

  it('set-config refuses an unknown key by name and stores a valid config over the format defaults', async () => {
    const typo = join(dir, 'typo.yaml');
    await writeFile(typo, 'clean:\n  quarantineZeroPrise: true\n');
    const refused = await custflow([
      'datasets',
      'set-config',
      '--dataset',
      'cdnow',
      '--config',
      typo,
      '--json',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('unknown key "clean.quarantineZeroPrise"');

    const good = join(dir, 'cdnow.yaml');
    await writeFile(good, 'clv:\n  holdoutMonths: 0\nsegment:\n  kRange: [2, 3]\n');
    const set = await custflow(['datasets', 'set-config', '--dataset', 'cdnow', '--config', good, '--json']);
    expect(set.code, set.stderr).toBe(0);
    const after = JSON.parse(set.stdout) as { stored: boolean; effective: RunConfig };
    expect(after.stored).toBe(true);
    expect(after.effective.clv.holdoutMonths).toBe(0);
    expect(after.effective.clean.quarantineZeroPrice).toBe(false); // the format default survives

    const list = await custflow(['datasets', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const entries = JSON.parse(list.stdout) as { dataset: string; format: string; hasConfig: boolean }[];
    expect(entries.find((e) => e.dataset === 'cdnow')).toMatchObject({ format: 'cdnow', hasConfig: true });
  });

  it('a run with no --config then gets format defaults < dataset config', async () => {
    const started = await startRun(harness.client, { dataset: 'cdnow', month: '1997-08' }, harness.store);
    const summary = await waitForRun(harness.client, started, { quiet: true });
    const config = await harness.store.getJson<RunConfig>(runConfigKey('cdnow', '1997-08', started.runId));
    expect(config.currency).toBe('USD');
    expect(config.clean.quarantineZeroPrice).toBe(false);
    expect(config.clv.holdoutMonths).toBe(0);
    expect(config.segment.kRange).toEqual([2, 3]);
    expect(summary.stages.clean.status).toBe('completed');
  });

  it('a command --config goes on top of the dataset config', async () => {
    const command = join(dir, 'run.yaml');
    await writeFile(command, 'currency: EUR\nclean:\n  quarantineZeroPrice: true\n');
    const started = await startRun(
      harness.client,
      { dataset: 'cdnow', month: '1997-06', configPath: command },
      harness.store,
    );
    await waitForRun(harness.client, started, { quiet: true });
    const config = await harness.store.getJson<RunConfig>(runConfigKey('cdnow', '1997-06', started.runId));
    expect(config.currency).toBe('EUR');
    expect(config.clean.quarantineZeroPrice).toBe(true);
    expect(config.clv.holdoutMonths).toBe(0); // from the dataset layer
  });

  it('a schedule gets the dataset config when created; a replay keeps its run config unless asked', async () => {
    const created = await createSchedule(harness.client, { dataset: 'cdnow' }, harness.store);
    try {
      const description = await harness.client.schedule.getHandle(created.scheduleId).describe();
      const action = description.action as { args?: { config: RunConfig }[] };
      const scheduled = action.args?.[0]?.config;
      expect(scheduled?.currency).toBe('USD');
      expect(scheduled?.clean.quarantineZeroPrice).toBe(false);
      expect(scheduled?.clv.holdoutMonths).toBe(0);
    } finally {
      await scheduleAction(harness.client, 'delete', 'cdnow');
    }

    // the first run predates set-config: a plain replay reproduces it, --dataset-config takes the new one
    const defaultHoldout = parseRunConfig({}).clv.holdoutMonths;
    const same = await startReplay(harness.client, { runId: firstRunId }, harness.store);
    await waitForRun(harness.client, same, { quiet: true });
    const sameConfig = await harness.store.getJson<RunConfig>(runConfigKey('cdnow', '1997-09', same.runId));
    expect(sameConfig.clv.holdoutMonths).toBe(defaultHoldout);
    const refreshed = await startReplay(
      harness.client,
      { runId: firstRunId, datasetConfig: true },
      harness.store,
    );
    await waitForRun(harness.client, refreshed, { quiet: true });
    const refreshedConfig = await harness.store.getJson<RunConfig>(
      runConfigKey('cdnow', '1997-09', refreshed.runId),
    );
    expect(refreshedConfig.clv.holdoutMonths).toBe(0);
    expect(refreshedConfig.clean.quarantineZeroPrice).toBe(false);
  });
});
