/**
 * The console's page loads with 36 months of runs (issue 11): server time of GET /datasets and GET /runs
 * through the real Hono app on a real S3 server, for one dataset of 36 months (synthetic, loaded with
 * `data load`) with one completed run per month, its summary written by the run bookkeeping activities
 * themselves (recordRunStart, recordRunEnd) with ten stages of realistic shape, and a real Temporal dev
 * server that the datasets page asks for schedules (there are none).
 *
 * Figures (median of RUNS requests): `datasetsColdMs` and `runsColdMs` with the run-summary cache empty
 * (a fresh console process, and what every request cost before the cache), `datasetsWarmMs` and
 * `runsWarmMs` with it filled (every later request).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { recordRunEnd, recordRunStart } from '../../activities/run';
import { startEphemeralStack } from '../../infra/ephemeralStack';
import { ConsoleAuthority, issueOneTimeLogin } from '../../console/auth';
import { createConsoleApp } from '../../console/server';
import { parseRunConfig } from '../../lib/config';
import { STAGE_NAMES } from '../../lib/stageRegistry';
import { addMonths, monthCutoffIso, monthStartMs } from '../../lib/month';
import { ObjectStore } from '../../lib/objectStore';
import type { RunSummary, StageSummary } from '../../lib/runTypes';
import { loadData } from '../commands/data';
import { generateDataset } from '../generate';
import { median } from './ingestClean';

const MONTHS = 36;
const FIRST_MONTH = '2021-01';
const RUNS = 9;
const DATASET = 'bench-console';

/** A completed stage as a real run records it: outputs, a few metrics, a duration. */
function stageSummary(runPrefix: string, stage: string): StageSummary {
  return {
    status: 'completed',
    durationMs: 1000 + stage.length * 137,
    startedAt: new Date(0).toISOString(),
    outputs: Object.fromEntries(
      ['customers', 'metrics', 'model'].map((name) => [
        name,
        `s3://bucket/${runPrefix}/${stage}/${name}.parquet`,
      ]),
    ),
    metrics: { rows: 4000, customers: 4000, share: 0.25, byReason: { late: 3, duplicate: 7 } },
    manifestUri: `s3://bucket/${runPrefix}/${stage}/manifest.json`,
  };
}

async function writeRuns(): Promise<void> {
  const config = parseRunConfig({});
  for (let i = 0; i < MONTHS; i++) {
    const month = addMonths(FIRST_MONTH, i);
    const runId = `bench-${month}-0001`;
    const runPrefix = `runs/${DATASET}/${month}/${runId}`;
    const started = await recordRunStart(
      {
        runId,
        workflowId: `custflow-monthly-${DATASET}-${month}`,
        dataset: DATASET,
        month,
        status: 'RUNNING',
        cutoff: monthCutoffIso(month),
        configHash: '',
        startedAt: new Date(monthStartMs(addMonths(month, 1)) + 6 * 3600_000).toISOString(),
        stages: {},
        warnings: [],
        summaryUri: '',
      } satisfies RunSummary,
      config,
    );
    await recordRunEnd({
      ...started,
      status: 'COMPLETED',
      stages: Object.fromEntries(STAGE_NAMES.map((stage) => [stage, stageSummary(runPrefix, stage)])),
    });
  }
}

export async function benchConsole(): Promise<Record<string, number>> {
  const stack = await startEphemeralStack({ temporal: true });
  Object.assign(process.env, stack.env);
  const dir = await mkdtemp(join(tmpdir(), 'custflow-bench-console-'));
  let connection: Connection | undefined;
  try {
    const store = ObjectStore.fromEnv();
    await generateDataset({ outDir: dir, customers: 300, months: MONTHS, seed: 11, startMonth: FIRST_MONTH });
    await loadData(
      { dataset: DATASET, format: 'canonical', table: 'transactions', from: join(dir, 'transactions') },
      store,
    );
    await writeRuns();
    // a real Temporal with no schedules: the pages ask it as in production
    connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
    const client = new Client({ connection });
    const signingKey = 'bench-signing-key-of-at-least-thirty-two-chars';
    const authority = new ConsoleAuthority(undefined, join(dir, 'state'));
    const { token } = await issueOneTimeLogin(join(dir, 'state'), 'viewer');
    const serverTime = async (
      app: ReturnType<typeof createConsoleApp>,
      path: string,
      cookie: string,
    ): Promise<number> => {
      const response = await app.request(path, { headers: { cookie } });
      if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
      const html = await response.text();
      if (path === '/datasets' && (html.match(/class="cell completed" href=/g) ?? []).length !== MONTHS)
        throw new Error(`the datasets page does not show ${MONTHS} completed months`);
      return Number(/dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '')?.[1] ?? NaN);
    };
    const newApp = (): ReturnType<typeof createConsoleApp> =>
      createConsoleApp({ store, client, authority, signingKey, secureCookies: false });
    const login = await newApp().request(`/login?once=${token}`);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const figures: Record<string, number> = {};
    for (const [name, path] of [
      ['datasets', '/datasets'],
      ['runs', `/runs?dataset=${DATASET}`],
    ] as const) {
      const cold: number[] = [];
      const warm: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const app = newApp(); // an empty cache each time
        cold.push(await serverTime(app, path, cookie));
        warm.push(await serverTime(app, path, cookie));
      }
      figures[`${name}ColdMs`] = Math.round(median(cold) * 10) / 10;
      figures[`${name}WarmMs`] = Math.round(median(warm) * 10) / 10;
    }
    figures.months = MONTHS;
    return figures;
  } finally {
    await connection?.close();
    await rm(dir, { recursive: true, force: true });
    await stack.stop();
  }
}
