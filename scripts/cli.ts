/**
 * The `custflow` command line. Commands that report take --json and then print exactly one JSON object
 * on stdout; progress and messages go to stderr.
 */
import { Command, Option } from 'commander';
import { devDown, devStatus, devUp } from '../infra/stack';
import { ensureChromium, ensureTools, toolVersion } from '../infra/tools';
import { ObjectStore } from '../lib/objectStore';
import { connectClient } from '../lib/temporal';
import { runWorker } from '../workers/worker';
import { loadData } from './commands/data';
import { describeDataset, listDatasets, setDatasetConfigCommand, showDataset } from './commands/datasets';
import { runDemo } from './commands/demo';
import { info, printJson, table, formatDuration } from './commands/output';
import type { Client } from '@temporalio/client';
import { startBackfill, waitForBackfill } from './commands/backfill';
import { startReplay } from './commands/replay';
import {
  describeSummary,
  listRuns,
  readRunSummary,
  startRun,
  waitForRun,
  type StartedRun,
} from './commands/run';
import {
  createSchedule,
  DEFAULT_CRON,
  describeSchedule,
  listSchedules,
  scheduleAction,
} from './commands/schedule';

const program = new Command('custflow')
  .description('Customer analytics as a monthly batch pipeline on Temporal and S3')
  .showHelpAfterError();

const dev = program.command('dev').description('the local stack: Temporal dev server, S3 server, one worker');
dev
  .command('up')
  .description('start the local stack (builds the servers on first use)')
  .option('--no-worker', 'do not start a worker')
  .option('--json', 'print the stack status as JSON')
  .action(async (options: { worker: boolean; json?: boolean }) => {
    const status = await devUp(info, { worker: options.worker });
    if (options.json) printJson(status);
    else
      info(
        `stack up: Temporal UI ${status.temporalUi}, bucket ${status.bucket}, state in ${status.stateDir}`,
      );
  });
dev
  .command('down')
  .description('stop what `dev up` started (data is kept)')
  .option('--json')
  .action(async (options: { json?: boolean }) => {
    const status = await devDown(info);
    if (options.json) printJson(status);
  });
dev
  .command('status')
  .option('--json')
  .action(async (options: { json?: boolean }) => {
    const status = await devStatus();
    if (options.json) printJson(status);
    else if (status.components.length === 0)
      info(`no dev stack in ${status.stateDir}; run \`custflow dev up\``);
    else
      console.log(
        table(status.components as unknown as Record<string, unknown>[], [
          'name',
          'pid',
          'running',
          'healthy',
          'address',
        ]),
      );
  });
dev
  .command('tools')
  .description('find or build the Temporal CLI and versitygw into the cache (what tests need)')
  .option('--with-browser', "also install Debian's chromium for the report's browser test when missing")
  .option('--json')
  .action(async (options: { json?: boolean; withBrowser?: boolean }) => {
    const tools = await ensureTools(info);
    if (options.withBrowser) ensureChromium(info);
    const result = {
      temporal: { path: tools.temporal, version: toolVersion(tools.temporal) },
      versitygw: { path: tools.versitygw, version: toolVersion(tools.versitygw) },
    };
    if (options.json) printJson(result);
    else info(`temporal: ${result.temporal.path}\nversitygw: ${result.versitygw.path}`);
  });

program
  .command('worker')
  .description('run a worker (production: run N of these against one Temporal cluster and bucket)')
  .action(async () => {
    await runWorker();
  });

const data = program.command('data').description('synthetic data and raw data delivery');
data
  .command('generate')
  .description('write a synthetic dataset with planted structure and its truth.json')
  .requiredOption('--out <dir>', 'output directory')
  .option('--customers <n>', 'customers', (v) => Number(v), 5000)
  .option('--months <m>', 'months of history', (v) => Number(v), 24)
  .option('--seed <s>', 'random seed', (v) => Number(v), 42)
  .option('--start <YYYY-MM>', 'first month', '2023-01')
  .option('--json')
  .action(
    async (options: {
      out: string;
      customers: number;
      months: number;
      seed: number;
      start: string;
      json?: boolean;
    }) => {
      const { generateDataset } = await import('./generate');
      const result = await generateDataset({
        outDir: options.out,
        customers: options.customers,
        months: options.months,
        seed: options.seed,
        startMonth: options.start,
      });
      if (options.json) printJson(result);
      else info(`wrote ${options.out} (truth in ${result.truthPath})`);
    },
  );
data
  .command('load')
  .description('upload raw files to raw/<dataset>/<format>/<table>/ in the bucket')
  .requiredOption('--dataset <name>')
  .addOption(
    new Option('--format <format>')
      .choices(['canonical', 'online-retail', 'cdnow', 'retailrocket'])
      .makeOptionMandatory(),
  )
  .addOption(
    new Option('--table <table>').choices(['transactions', 'events', 'assignments']).default('transactions'),
  )
  .requiredOption('--from <path>', 'a file or a directory (read recursively)')
  .option('--config <file>', 'a dataset config (YAML or JSON) that runs of this dataset use')
  .option('--json')
  .action(
    async (options: {
      dataset: string;
      format: string;
      table: string;
      from: string;
      config?: string;
      json?: boolean;
    }) => {
      const result = await loadData(options);
      if (options.json) printJson(result);
      else info(`loaded ${result.files} file(s), ${result.bytes} bytes -> ${result.prefix}`);
    },
  );

const datasets = program
  .command('datasets')
  .description(
    'what each dataset remembers: its formats and dataset config (format defaults < dataset config < --config)',
  );
datasets
  .command('list')
  .description('every dataset with a record or raw files: formats, currency, whether it has a config')
  .option('--json')
  .action(async (options: { json?: boolean }) => {
    const list = await listDatasets();
    if (options.json) printJson(list);
    else
      console.log(
        table(
          list.map((d) => ({
            ...d,
            sources: d.sources.map((s) => `${s.table}:${s.format}`).join(' '),
            currency: d.currency ?? '',
          })),
          ['dataset', 'sources', 'format', 'currency', 'hasConfig', 'updatedAt'],
        ),
      );
  });
datasets
  .command('show')
  .description("a dataset's formats, format defaults, dataset config and the effective run config")
  .requiredOption('--dataset <name>')
  .option('--json', 'print the formats, the layers and the effective run config as JSON')
  .action(async (options: { dataset: string; json?: boolean }) => {
    const details = await showDataset(options.dataset);
    if (options.json) printJson(details);
    else console.log(describeDataset(details));
  });
datasets
  .command('set-config')
  .description('validate and store the dataset config (runs started later use it; schedules keep theirs)')
  .requiredOption('--dataset <name>')
  .option('--config <file>', 'YAML or JSON dataset config')
  .option('--clear', 'remove the dataset config (format defaults only)')
  .option('--dry-run', 'validate and show the effective config without storing it')
  .option('--json')
  .action(
    async (options: {
      dataset: string;
      config?: string;
      clear?: boolean;
      dryRun?: boolean;
      json?: boolean;
    }) => {
      const details = await setDatasetConfigCommand(options);
      if (options.json) printJson(details);
      else {
        console.log(describeDataset(details));
        info(
          details.stored ? `stored dataset config of ${options.dataset}` : 'valid (not stored: --dry-run)',
        );
      }
    },
  );

program
  .command('run')
  .description('run the monthly pipeline for a dataset as of the end of a month')
  .requiredOption('--dataset <name>')
  .requiredOption('--month <YYYY-MM>')
  .option('--config <file>', 'YAML or JSON run config, layered over the dataset config')
  .option('--force <stages...>', 'recompute these stages even on a cache hit ("all" for every stage)')
  .option('--wait', 'wait for the run to finish')
  .option('--json', 'print the run summary (with --wait) or the started run as JSON')
  .action(
    async (options: {
      dataset: string;
      month: string;
      config?: string;
      force?: string[];
      wait?: boolean;
      json?: boolean;
    }) => {
      const client = await connectClient();
      const started = await startRun(client, {
        dataset: options.dataset,
        month: options.month,
        configPath: options.config,
        force: options.force,
      });
      if (!options.json || options.wait)
        info(
          `run ${started.runId} started (workflow ${started.workflowId})${started.uiLink ? `\n  ${started.uiLink}` : ''}`,
        );
      if (!options.wait) {
        if (options.json) printJson(started);
        return;
      }
      const summary = await waitForRun(client, started);
      if (options.json) printJson(summary);
      else console.log(describeSummary(summary));
      process.exitCode = summary.status === 'COMPLETED' ? 0 : 1;
    },
  );

program
  .command('replay <runId>')
  .description('run a month again: from a stage (upstream outputs of the run reused), or all of it')
  .option('--from-stage <stage>', 're-run this stage and everything downstream of it')
  .option('--force', 'recompute even on a cache hit')
  .option('--config <file>', 'a config layered over the dataset config (default: the config the run used)')
  .option('--dataset-config', "use the dataset's current config (after datasets set-config), not the run's")
  .option('--wait', 'wait for the run to finish')
  .option('--json')
  .action(
    async (
      runId: string,
      options: {
        fromStage?: string;
        force?: boolean;
        config?: string;
        datasetConfig?: boolean;
        wait?: boolean;
        json?: boolean;
      },
    ) => {
      const client = await connectClient();
      const started = await startReplay(client, {
        runId,
        fromStage: options.fromStage,
        force: options.force,
        configPath: options.config,
        datasetConfig: options.datasetConfig,
      });
      await finishRunCommand(client, started, options);
    },
  );

program
  .command('backfill')
  .description('run a range of months, at most --concurrency at once; months already completed are skipped')
  .requiredOption('--dataset <name>')
  .requiredOption('--from <YYYY-MM>')
  .requiredOption('--to <YYYY-MM>')
  .option('--concurrency <n>', 'months at once', (v) => Number(v), 2)
  .option('--config <file>')
  .option('--force [stages...]', 're-run completed months too (optionally forcing these stages)')
  .option('--wait')
  .option('--json')
  .action(
    async (options: {
      dataset: string;
      from: string;
      to: string;
      concurrency: number;
      config?: string;
      force?: string[] | boolean;
      wait?: boolean;
      json?: boolean;
    }) => {
      const client = await connectClient();
      const started = await startBackfill(client, { ...options, configPath: options.config });
      if (!options.json || options.wait)
        info(`backfill ${started.workflowId} started${started.uiLink ? `\n  ${started.uiLink}` : ''}`);
      if (!options.wait) {
        if (options.json) printJson(started);
        return;
      }
      const result = await waitForBackfill(client, started.workflowId, { quiet: false });
      if (options.json)
        printJson({
          dataset: result.dataset,
          from: result.from,
          to: result.to,
          runs: result.runs.map(({ month, runId, status, skipped }) => ({ month, runId, status, skipped })),
        });
      else
        console.log(
          table(result.runs as unknown as Record<string, unknown>[], [
            'month',
            'status',
            'runId',
            'skipped',
            'error',
          ]),
        );
      process.exitCode = result.runs.every((r) => r.status === 'COMPLETED' || r.skipped) ? 0 : 1;
    },
  );

const schedule = program.command('schedule').description('monthly Temporal Schedules, one per dataset');
schedule
  .command('create')
  .requiredOption('--dataset <name>')
  .option('--cron <expr>', 'when to run (the previous month is computed)', DEFAULT_CRON)
  .option('--timezone <tz>', 'IANA time zone of the calendar', 'UTC')
  .option('--config <file>')
  .option('--json')
  .action(
    async (options: { dataset: string; cron: string; timezone: string; config?: string; json?: boolean }) => {
      const result = await createSchedule(await connectClient(), { ...options, configPath: options.config });
      if (options.json) printJson(result);
      else info(`schedule ${result.scheduleId} ${result.applied}: next run ${result.nextRunAt ?? 'none'}`);
    },
  );
schedule
  .command('list')
  .option('--json')
  .action(async (options: { json?: boolean }) => {
    const list = await listSchedules(await connectClient());
    if (options.json)
      printJson(
        list.map(({ scheduleId, dataset, spec, paused, nextRunAt }) => ({
          scheduleId,
          dataset,
          spec,
          paused,
          nextRunAt,
        })),
      );
    else
      console.log(
        table(
          list.map((s) => ({ ...s, spec: `${s.spec.cron.join(' ')} ${s.spec.timezone}` })),
          ['scheduleId', 'dataset', 'spec', 'paused', 'nextRunAt'],
        ),
      );
  });
for (const action of ['describe', 'pause', 'unpause', 'trigger', 'delete'] as const) {
  schedule
    .command(action)
    .requiredOption('--dataset <name>')
    .option('--json')
    .action(async (options: { dataset: string; json?: boolean }) => {
      const client = await connectClient();
      const result =
        action === 'describe'
          ? await describeSchedule(client, options.dataset)
          : await scheduleAction(client, action, options.dataset);
      if (options.json) printJson(result);
      else console.log(JSON.stringify(result, null, 2));
    });
}

const runs = program.command('runs').description('runs and their summaries');
runs
  .command('list')
  .option('--dataset <name>')
  .option('--json')
  .action(async (options: { dataset?: string; json?: boolean }) => {
    const summaries = await listRuns(options.dataset);
    if (options.json) {
      printJson(
        summaries.map((s) => ({
          runId: s.runId,
          dataset: s.dataset,
          month: s.month,
          status: s.status,
          startedAt: s.startedAt,
          durationMs: s.durationMs,
          warnings: s.warnings.length,
        })),
      );
      return;
    }
    console.log(
      table(
        summaries.map((s) => ({ ...s, duration: formatDuration(s.durationMs), warnings: s.warnings.length })),
        ['runId', 'dataset', 'month', 'status', 'warnings', 'startedAt', 'duration'],
      ),
    );
  });
runs
  .command('show <runId>')
  .option('--json')
  .action(async (runId: string, options: { json?: boolean }) => {
    const summary = await readRunSummary(runId);
    if (options.json) printJson(summary);
    else console.log(describeSummary(summary));
  });

program
  .command('report <runId>')
  .description("download a run's HTML report (and say where its CRM export is)")
  .option('--out <file>', 'where to write it', 'report.html')
  .option('--json')
  .action(async (runId: string, options: { out: string; json?: boolean }) => {
    const store = ObjectStore.fromEnv();
    const summary = await readRunSummary(runId, store);
    const html = summary.stages.report?.outputs.html;
    if (!html)
      throw new Error(
        `run ${runId} has no report (report stage: ${summary.stages.report?.status ?? 'missing'})`,
      );
    await store.getToFile(store.keyFromUri(html), options.out);
    const result = {
      runId,
      report: html,
      file: options.out,
      crm: summary.stages.report?.outputs.crm ?? null,
    };
    if (options.json) printJson(result);
    else info(`wrote ${options.out} (from ${html})${result.crm ? `\nCRM export: ${result.crm}` : ''}`);
  });

program
  .command('demo')
  .description('dev up, generate synthetic data, load it, run the latest month, say where the results are')
  .option('--customers <n>', 'customers', (v) => Number(v), 5000)
  .option('--json')
  .action(async (options: { customers: number; json?: boolean }) => {
    const summary = await runDemo({ customers: options.customers });
    if (options.json) printJson(summary);
    process.exitCode = summary.status === 'COMPLETED' ? 0 : 1;
  });

/** Shared tail of `run` and `replay`: say where the run is, follow it when asked, print the summary. */
async function finishRunCommand(
  client: Client,
  started: StartedRun,
  options: { wait?: boolean; json?: boolean },
): Promise<void> {
  if (!options.json || options.wait)
    info(
      `run ${started.runId} started (workflow ${started.workflowId})${started.uiLink ? `\n  ${started.uiLink}` : ''}`,
    );
  if (!options.wait) {
    if (options.json) printJson(started);
    return;
  }
  const summary = await waitForRun(client, started);
  if (options.json) printJson(summary);
  else console.log(describeSummary(summary));
  process.exitCode = summary.status === 'COMPLETED' ? 0 : 1;
}

program.parseAsync(process.argv).catch((error: unknown) => {
  info(`custflow: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
