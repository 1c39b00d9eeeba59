/**
 * The `custflow` command line. Commands that report take --json and then print exactly one JSON object
 * on stdout; progress and messages go to stderr.
 *
 * Start-up time: only commander and a few small modules load before a command runs. Everything heavy
 * (DuckDB, the AWS SDK, the Temporal client and worker, the stages) is imported inside the command that
 * needs it, so `--help`, `--version` and `runs list` do not pay for the rest.
 */
import { Command, Option } from 'commander';
import { STAGE_NAMES } from '../lib/stageRegistry';
import { CODE_VERSION } from '../lib/version';
import { explainConnectionError, requireStack, type StackPart } from './commands/connections';
import { info, printJson, table, formatDuration } from './commands/output';
import type { Client } from '@temporalio/client';
import type { StartedRun } from './commands/run';
import { runListRow, type RunSummary } from '../lib/runTypes';

const STAGES = STAGE_NAMES.join(', ');

/** Marks a required option in help (commander does not say so itself). */
const required = (description: string): string => `${description} (required)`;

/** An "Examples:" block after a command's help. */
const examples = (...lines: string[]): string =>
  `\nExamples:\n${lines.map((line) => `  $ npx custflow ${line}`).join('\n')}\n`;

/** The options of a command that starts a run and may follow it (run, replay). */
function followOptions(command: Command): Command {
  return command
    .option('--wait', 'follow the run and print its summary (exit code 1 when it fails)')
    .option(
      '--report <file>',
      'with --wait: where to save the HTML report (default: under the stack state directory)',
    )
    .option('--json', 'print the run summary (with --wait) or the started run as JSON');
}

/** Checks the parts of the stack a command needs (a clear error, fast), then connects to Temporal. */
async function temporalClient(parts: readonly StackPart[] = ['temporal', 's3']): Promise<Client> {
  await requireStack(parts);
  const { connectClient } = await import('../lib/temporal');
  return connectClient();
}

const program = new Command('custflow')
  .description('Customer analytics as a monthly batch pipeline on Temporal and S3')
  .version(CODE_VERSION, '-V, --version', 'print the custflow version')
  .helpOption('-h, --help', 'show help for a command')
  .showHelpAfterError()
  .addHelpText(
    'after',
    `\nStages of a monthly run: ${STAGES}.\n` +
      'Connections come from the environment (TEMPORAL_ADDRESS, S3_ENDPOINT, S3_BUCKET, ...) or the local stack.' +
      examples(
        'dev up',
        'data load --dataset online-retail --format online-retail --from ../shared/data/online-retail/by-day',
        'run --dataset online-retail --month 2011-11 --wait',
        'runs list',
      ),
  );

const dev = program.command('dev').description('the local stack: Temporal dev server, S3 server, one worker');
dev
  .command('up')
  .description('start the local stack (builds the servers on first use)')
  .option('--no-worker', 'do not start a worker')
  .option(
    '--workers <n>',
    'start N worker processes (they share the task queue, as N machines would)',
    (v) => Number(v),
    1,
  )
  .option('--json', 'print the stack status as JSON')
  .action(async (options: { worker: boolean; workers: number; json?: boolean }) => {
    if (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > 64)
      throw new Error(`--workers must be a whole number from 1 to 64, got ${options.workers}`);
    const { devUp } = await import('../infra/stack');
    const status = await devUp(info, { worker: options.worker, workers: options.workers });
    if (options.json) printJson(status);
    else
      info(
        `stack up: Temporal UI ${status.temporalUi}, bucket ${status.bucket}, state in ${status.stateDir}`,
      );
  });
dev
  .command('down')
  .description('stop what `dev up` started (data is kept)')
  .option('--json', 'print the stack status as JSON')
  .action(async (options: { json?: boolean }) => {
    const { devDown } = await import('../infra/stack');
    const status = await devDown(info);
    if (options.json) printJson(status);
  });
dev
  .command('status')
  .description('what the local stack runs: servers, worker, their addresses and health')
  .option('--json', 'print the stack status as JSON')
  .action(async (options: { json?: boolean }) => {
    const { devStatus } = await import('../infra/stack');
    const status = await devStatus();
    if (options.json) printJson(status);
    else if (status.components.length === 0)
      info(`no dev stack in ${status.stateDir}; run \`npx custflow dev up\``);
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
  .option('--json', 'print the tool paths and versions as JSON')
  .action(async (options: { json?: boolean; withBrowser?: boolean }) => {
    const { ensureChromium, ensureTools, toolVersion } = await import('../infra/tools');
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
    await requireStack(['temporal', 's3']);
    const { runWorker } = await import('../workers/worker');
    await runWorker();
  });

const data = program.command('data').description('synthetic data and raw data delivery');
data
  .command('generate')
  .description('write a synthetic dataset with planted structure and its truth.json')
  .requiredOption('--out <dir>', required('output directory'))
  .option('--customers <n>', 'customers', (v) => Number(v), 5000)
  .option('--months <m>', 'months of history', (v) => Number(v), 24)
  .option('--seed <s>', 'random seed', (v) => Number(v), 42)
  .option('--start <YYYY-MM>', 'first month', '2023-01')
  .option(
    '--retailrocket',
    'write a RetailRocket-shaped events-only dataset (events.csv, item_properties_part1.csv, category_tree.csv)',
  )
  .option(
    '--attributes',
    'plant customer attributes (customers/customers.csv) and extension columns on transactions and events, some driving spend, and write the dataset-config.json that declares them',
  )
  .option('--json', 'print what was written as JSON')
  .addHelpText(
    'after',
    examples(
      'data generate --out /tmp/synth --customers 2000 --months 12',
      'data generate --out /tmp/rr --retailrocket --customers 400 --months 6',
      'data generate --out /tmp/open --attributes   # then data load ... --config /tmp/open/dataset-config.json',
    ),
  )
  .action(
    async (options: {
      out: string;
      customers: number;
      months: number;
      seed: number;
      start: string;
      retailrocket?: boolean;
      attributes?: boolean;
      json?: boolean;
    }) => {
      if (options.retailrocket) {
        const { generateRetailRocketFixture } = await import('./generate/retailRocket');
        const fixture = await generateRetailRocketFixture({
          outDir: options.out,
          customers: options.customers,
          months: options.months,
          seed: options.seed,
          startMonth: options.start,
        });
        if (options.json) printJson(fixture);
        else info(`wrote ${options.out} (RetailRocket layout; truth in ${fixture.files.truth})`);
        return;
      }
      const { generateDataset } = await import('./generate');
      const result = await generateDataset({
        outDir: options.out,
        customers: options.customers,
        months: options.months,
        seed: options.seed,
        startMonth: options.start,
      });
      if (options.attributes) {
        const { writeOpenInputs } = await import('./generate/openInputs');
        const open = writeOpenInputs(options.out, options.seed);
        if (options.json) printJson({ ...result, attributes: open });
        else
          info(
            `wrote ${options.out} (truth in ${result.truthPath}; customers table and extension columns declared in ${open.configPath})`,
          );
        return;
      }
      if (options.json) printJson(result);
      else info(`wrote ${options.out} (truth in ${result.truthPath})`);
    },
  );
data
  .command('load')
  .description(
    'check raw files (header, encoding, gzip integrity, values) and upload the good ones to raw/<dataset>/<format>/<table>/',
  )
  .requiredOption('--dataset <name>', required('dataset name (lower-case letters, digits, . _ -)'))
  .addOption(
    new Option('--format <format>', required("the files' format"))
      .choices(['canonical', 'online-retail', 'cdnow', 'retailrocket'])
      .makeOptionMandatory(),
  )
  .addOption(
    new Option(
      '--table <table>',
      'which table the files hold (default transactions; retailrocket: each file by its name)',
    ).choices(['transactions', 'events', 'assignments', 'item_properties', 'category_tree', 'customers']),
  )
  .requiredOption('--from <path>', required('a file or a directory (read recursively)'))
  .option('--config <file>', 'a dataset config (YAML or JSON) that runs of this dataset use')
  .option('--json', 'print what was loaded and rejected as JSON')
  .addHelpText(
    'after',
    examples(
      'data load --dataset cdnow --format cdnow --from ../shared/data/cdnow/CDNOW_sample.txt',
      'data load --dataset shop --format canonical --table events --from ./events',
      'data load --dataset rr --format retailrocket --from ./retailrocket   # events, item_properties, category_tree',
    ),
  )
  .action(
    async (options: {
      dataset: string;
      format: string;
      table?: string;
      from: string;
      config?: string;
      json?: boolean;
    }) => {
      await requireStack(['s3']);
      const { describeLoad, loadData } = await import('./commands/data');
      if (options.format === 'retailrocket' && options.table === undefined) {
        const { loadRetailRocket } = await import('./commands/dataRetailRocket');
        const results = await loadRetailRocket(
          { ...options, check: true },
          undefined,
          options.json ? undefined : info,
        );
        if (options.json) printJson(results);
        else for (const result of results) info(`${result.table}: ${describeLoad(result)}`);
        if (results.some((r) => r.rejected.length > 0)) process.exitCode = 1;
        return;
      }
      const result = await loadData(
        { ...options, table: options.table ?? 'transactions', check: true },
        undefined,
        options.json ? undefined : info,
      );
      if (options.json) printJson(result);
      else info(describeLoad(result));
      if (result.rejected.length > 0) process.exitCode = 1;
    },
  );
data
  .command('list')
  .description("a dataset's delivered files: table, format, size, load time, first and last dates")
  .requiredOption('--dataset <name>', required('dataset name'))
  .option('--json', 'print the files as JSON')
  .addHelpText('after', examples('data list --dataset online-retail'))
  .action(async (options: { dataset: string; json?: boolean }) => {
    await requireStack(['s3']);
    const { listDataFiles, skippedNote } = await import('./commands/data');
    const files = await listDataFiles(options.dataset);
    if (options.json) printJson(files);
    else
      console.log(
        table(
          files.map((f) => ({ ...f, size: formatBytes(f.size), note: skippedNote(f) })),
          ['file', 'table', 'format', 'size', 'rows', 'loadedAt', 'firstDate', 'lastDate', 'note'],
        ),
      );
  });
data
  .command('delete')
  .description('delete one delivered file; lists the completed runs that read it (replay them)')
  .requiredOption('--dataset <name>', required('dataset name'))
  .requiredOption('--file <key>', required('the file: its key (raw/...) or its name as `data list` shows it'))
  .option('--dry-run', 'say what would be deleted and which runs read it, delete nothing')
  .option('--json', 'print the deleted file and the runs that read it as JSON')
  .addHelpText('after', examples('data delete --dataset shop --file canonical/transactions/2023-07.csv'))
  .action(async (options: { dataset: string; file: string; dryRun?: boolean; json?: boolean }) => {
    await requireStack(['s3']);
    const { deleteDataFile } = await import('./commands/data');
    const result = await deleteDataFile(options);
    if (options.json) printJson(result);
    else {
      info(`${result.deleted ? 'deleted' : 'would delete (--dry-run)'} ${result.key}`);
      if (result.runs.length === 0) info('no completed run read it');
      else {
        info(`completed runs that read it (replay them to recompute without it):`);
        for (const run of result.runs)
          info(`  ${run.month}  ${run.runId}   npx custflow replay ${run.runId} --wait`);
      }
    }
  });

const datasets = program
  .command('datasets')
  .description(
    'what each dataset remembers: its formats and dataset config (format defaults < dataset config < --config)',
  );
datasets
  .command('list')
  .description('every dataset with a record or raw files: formats, currency, whether it has a config')
  .option('--json', 'print the datasets as JSON')
  .action(async (options: { json?: boolean }) => {
    await requireStack(['s3']);
    const { listDatasets } = await import('./commands/datasets');
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
  .requiredOption('--dataset <name>', required('dataset name'))
  .option('--json', 'print the formats, the layers and the effective run config as JSON')
  .action(async (options: { dataset: string; json?: boolean }) => {
    await requireStack(['s3']);
    const { describeDataset, showDataset } = await import('./commands/datasets');
    const details = await showDataset(options.dataset);
    if (options.json) printJson(details);
    else console.log(describeDataset(details));
  });
datasets
  .command('set-config')
  .description('validate and store the dataset config (runs started later use it; schedules keep theirs)')
  .requiredOption('--dataset <name>', required('dataset name'))
  .option('--config <file>', 'YAML or JSON dataset config')
  .option('--clear', 'remove the dataset config (format defaults only)')
  .option('--dry-run', 'validate and show the effective config without storing it')
  .option('--json', 'print the dataset details as JSON')
  .addHelpText('after', examples('datasets set-config --dataset online-retail --config examples/demo.yaml'))
  .action(
    async (options: {
      dataset: string;
      config?: string;
      clear?: boolean;
      dryRun?: boolean;
      json?: boolean;
    }) => {
      await requireStack(['s3']);
      const { describeDataset, setDatasetConfigCommand } = await import('./commands/datasets');
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

followOptions(
  program
    .command('run')
    .description('run the monthly pipeline for a dataset as of the end of a month')
    .requiredOption('--dataset <name>', required('the dataset, as loaded by `data load`'))
    .requiredOption(
      '--month <YYYY-MM>',
      required('the month to run as of its end; it must have ended and not precede the data'),
    )
    .option('--config <file>', 'YAML or JSON run config, layered over the dataset config')
    .option(
      '--force <stages...>',
      `recompute these stages even on a cache hit ("all" for every stage): ${STAGES}`,
    ),
)
  .addHelpText(
    'after',
    examples(
      'run --dataset online-retail --month 2011-11 --wait',
      'run --dataset demo --month 2024-12 --force segment clv --wait --json',
    ),
  )
  .action(
    async (options: {
      dataset: string;
      month: string;
      config?: string;
      force?: string[];
      wait?: boolean;
      report?: string;
      json?: boolean;
    }) => {
      const client = await temporalClient();
      const { startRun } = await import('./commands/run');
      const started = await startRun(client, {
        dataset: options.dataset,
        month: options.month,
        configPath: options.config,
        force: options.force,
      });
      await finishRunCommand(client, started, options);
    },
  );

followOptions(
  program
    .command('replay <runId>')
    .description('run a month again: from a stage (upstream outputs of the run reused), or all of it')
    .option('--from-stage <stage>', `re-run this stage and everything downstream of it: ${STAGES}`)
    .option('--force', 'recompute even on a cache hit')
    .option('--config <file>', 'a config layered over the dataset config (default: the config the run used)')
    .option(
      '--dataset-config',
      "use the dataset's current config (after datasets set-config), not the run's",
    ),
)
  .addHelpText(
    'after',
    examples(
      'replay 20240105T060000Z-1a2b3c4d5e6f --from-stage segment --wait',
      'replay RUN_ID --force --wait',
    ),
  )
  .action(
    async (
      runId: string,
      options: {
        fromStage?: string;
        force?: boolean;
        config?: string;
        datasetConfig?: boolean;
        wait?: boolean;
        report?: string;
        json?: boolean;
      },
    ) => {
      const client = await temporalClient();
      const { startReplay } = await import('./commands/replay');
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
  .requiredOption('--dataset <name>', required('the dataset, as loaded by `data load`'))
  .requiredOption('--from <YYYY-MM>', required('first month'))
  .requiredOption('--to <YYYY-MM>', required('last month (it must have ended)'))
  .option('--concurrency <n>', 'months at once', (v) => Number(v), 2)
  .option('--config <file>', 'YAML or JSON run config, layered over the dataset config')
  .option(
    '--force [stages...]',
    `re-run completed months too (optionally forcing these stages, "all" for every one): ${STAGES}`,
  )
  .option('--wait', 'follow the backfill and print each month (exit code 1 when any fails)')
  .option('--json', 'print the backfill result (with --wait) or the started workflow as JSON')
  .addHelpText('after', examples('backfill --dataset online-retail --from 2011-01 --to 2011-11 --wait'))
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
      const client = await temporalClient();
      const { startBackfill, waitForBackfill } = await import('./commands/backfill');
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
  .description("create the dataset's monthly schedule, or update it to this spec (same spec: no change)")
  .requiredOption('--dataset <name>', required('the dataset'))
  .option(
    '--cron <expr>',
    'when to run; each firing runs the month before (default: 0 6 1 * *, 06:00 on the 1st)',
  )
  .option('--timezone <tz>', 'IANA time zone of the calendar', 'UTC')
  .option('--config <file>', 'YAML or JSON run config, layered over the dataset config')
  .option('--json', 'print the schedule as JSON')
  .addHelpText('after', examples('schedule create --dataset online-retail --timezone Europe/London'))
  .action(
    async (options: {
      dataset: string;
      cron?: string;
      timezone: string;
      config?: string;
      json?: boolean;
    }) => {
      const client = await temporalClient();
      const { createSchedule } = await import('./commands/schedule');
      const result = await createSchedule(client, { ...options, configPath: options.config });
      if (options.json) printJson(result);
      else info(`schedule ${result.scheduleId} ${result.applied}: next run ${result.nextRunAt ?? 'none'}`);
    },
  );
schedule
  .command('list')
  .description('every custflow schedule: dataset, spec, paused, next run')
  .option('--json', 'print the schedules as JSON')
  .action(async (options: { json?: boolean }) => {
    const client = await temporalClient(['temporal']);
    const { listSchedules } = await import('./commands/schedule');
    const list = await listSchedules(client);
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
const SCHEDULE_ACTIONS = {
  describe: "the dataset's schedule, with its recent runs",
  pause: 'stop firing until unpaused',
  unpause: 'fire again',
  trigger: 'run now (the month before now)',
  delete: 'remove the schedule (runs are kept)',
} as const;
for (const [action, description] of Object.entries(SCHEDULE_ACTIONS) as [
  keyof typeof SCHEDULE_ACTIONS,
  string,
][]) {
  schedule
    .command(action)
    .description(description)
    .requiredOption('--dataset <name>', required('the dataset'))
    .option('--json', 'print the result as JSON')
    .action(async (options: { dataset: string; json?: boolean }) => {
      const client = await temporalClient(['temporal']);
      const { describeSchedule, scheduleAction } = await import('./commands/schedule');
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
  .description('every run (newest first): dataset, month, status, warnings, duration')
  .option('--dataset <name>', 'only this dataset')
  .option('--json', 'print the runs as JSON')
  .action(async (options: { dataset?: string; json?: boolean }) => {
    await requireStack(['s3']);
    const { listRuns } = await import('./commands/runs');
    const summaries = await listRuns(options.dataset);
    if (options.json) {
      printJson(summaries.map(runListRow));
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
  .description("a run's summary: stages, headline figures, warnings, where its report is")
  .option('--json', 'print the run summary as JSON')
  .action(async (runId: string, options: { json?: boolean }) => {
    await requireStack(['s3']);
    const { describeSummary, readRunSummary } = await import('./commands/runs');
    const stored = await readRunSummary(runId);
    // A running run: live stage states and retries from Temporal, else what run.json says (written at start).
    const { summary, source } = await liveSummaryOrStored(stored);
    if (options.json) printJson(summary);
    else console.log(describeSummary(summary));
    if (stored.status === 'RUNNING' && source === 'run.json')
      info(
        'stage states are from run.json, written when the run started: Temporal or its worker did not answer',
      );
  });
runs
  .command('cancel <runId>')
  .description(
    'cancel a running run: its stages stop within seconds, write no manifest, and it is recorded CANCELED',
  )
  .option('--no-wait', 'return once Temporal has the request, without waiting for the run to record its end')
  .option('--json', 'print the run summary as JSON')
  .addHelpText('after', examples('runs cancel 20240105T060000Z-1a2b3c4d5e6f'))
  .action(async (runId: string, options: { wait: boolean; json?: boolean }) => {
    const client = await temporalClient();
    const { cancelRun } = await import('./commands/cancel');
    const result = await cancelRun(client, runId, { wait: options.wait });
    if (options.json) printJson(result.summary);
    else if (!result.cancelled)
      info(`run ${runId} had already ended (${result.summary.status}); nothing to cancel`);
    else if (!options.wait) info(`asked Temporal to cancel run ${runId}`);
    else info(`run ${runId} cancelled in ${(result.ms / 1000).toFixed(1)} s: ${result.summary.status}`);
    process.exitCode = result.summary.status === 'CANCELED' || !result.cancelled ? 0 : 1;
  });

/** The live summary of a running run (Temporal reachable), else the stored one; never fails on Temporal. */
async function liveSummaryOrStored(
  stored: RunSummary,
): Promise<{ summary: RunSummary; source: 'workflow' | 'run.json' }> {
  if (stored.status !== 'RUNNING') return { summary: stored, source: 'run.json' };
  try {
    await requireStack(['temporal']);
    const { connectClient } = await import('../lib/temporal');
    const { liveRunSummary } = await import('./commands/liveState');
    const client = await connectClient();
    try {
      return await liveRunSummary(client, stored);
    } finally {
      await client.connection.close();
    }
  } catch {
    return { summary: stored, source: 'run.json' };
  }
}

program
  .command('report <runId>')
  .description("download a run's HTML report (and say where its CRM export is)")
  .option('--out <file>', 'where to write it', 'report.html')
  .option('--json', 'print the report and CRM export locations as JSON')
  .addHelpText('after', examples('report 20240105T060000Z-1a2b3c4d5e6f --out december.html'))
  .action(async (runId: string, options: { out: string; json?: boolean }) => {
    await requireStack(['s3']);
    const { downloadRunOutput } = await import('./commands/export');
    const result = await downloadRunOutput(runId, 'html', options.out);
    if (options.json) printJson({ runId, report: result.uri, file: result.file, crm: result.crm });
    else info(`wrote ${result.file} (from ${result.uri})${result.crm ? `\nCRM export: ${result.crm}` : ''}`);
  });

program
  .command('export <runId>')
  .description("download a run's exports: --crm FILE writes the per-customer CRM export (CSV)")
  .requiredOption('--crm <file>', required('where to write the CRM export'))
  .option('--json', 'print what was written as JSON')
  .addHelpText('after', examples('export 20240105T060000Z-1a2b3c4d5e6f --crm customers.csv'))
  .action(async (runId: string, options: { crm: string; json?: boolean }) => {
    await requireStack(['s3']);
    const { downloadRunOutput } = await import('./commands/export');
    const result = await downloadRunOutput(runId, 'crm', options.crm);
    if (options.json) printJson({ runId, crm: result.uri, file: result.file, bytes: result.bytes });
    else info(`wrote ${result.file} (${formatBytes(result.bytes)}, from ${result.uri})`);
  });

const consoleCommand = program
  .command('console')
  .description('the web console: datasets, month grids, runs, reports; operators start and replay runs')
  .option('--host <host>', 'address to listen on (without a tokens file: loopback only)', '127.0.0.1')
  .option('--port <n>', 'port to listen on', (v) => Number(v), 7080)
  .option('--tokens-file <file>', 'who may sign in (default: $CUSTFLOW_CONSOLE_TOKENS_FILE)')
  .option('--secure-cookies', 'mark the session cookie Secure (when TLS ends at a proxy in front)')
  .addHelpText(
    'after',
    examples('console', 'console --host 0.0.0.0 --tokens-file /etc/custflow/console-tokens.json'),
  )
  .action(async (options: { host: string; port: number; tokensFile?: string; secureCookies?: boolean }) => {
    await requireStack(['temporal', 's3']);
    const { runConsoleCommand } = await import('./commands/console');
    await runConsoleCommand(options);
  });
consoleCommand
  .command('add-user')
  .description('add a person (or give them a new token): prints the token once, stores only its hash')
  .requiredOption('--name <name>', required('their sign-in name'))
  .addOption(
    new Option('--role <role>', required('what they may do'))
      .choices(['viewer', 'operator'])
      .makeOptionMandatory(),
  )
  .option('--tokens-file <file>', 'the tokens file (default: $CUSTFLOW_CONSOLE_TOKENS_FILE)')
  .action(async (options: { name: string; role: 'viewer' | 'operator'; tokensFile?: string }) => {
    // commander gives --tokens-file to the parent `console` command when both define it
    const file =
      options.tokensFile ??
      consoleCommand.opts<{ tokensFile?: string }>().tokensFile ??
      process.env.CUSTFLOW_CONSOLE_TOKENS_FILE;
    if (!file)
      throw new Error('say where the tokens file is: --tokens-file FILE or CUSTFLOW_CONSOLE_TOKENS_FILE');
    const { addUser } = await import('../console/auth');
    const { token, replaced } = await addUser(file, { name: options.name, role: options.role });
    info(
      `${replaced ? 'gave' : 'added'} ${options.name} (${options.role}) ${replaced ? 'a new token ' : ''}in ${file}`,
    );
    console.log(token);
  });

program
  .command('demo')
  .description('dev up, generate synthetic data, load it, run the latest month, say where the results are')
  .option('--customers <n>', 'customers', (v) => Number(v), 5000)
  .option('--json', 'print the run summary as JSON')
  .action(async (options: { customers: number; json?: boolean }) => {
    const { runDemo } = await import('./commands/demo');
    const summary = await runDemo({ customers: options.customers });
    if (options.json) printJson(summary);
    process.exitCode = summary.status === 'COMPLETED' ? 0 : 1;
  });

/** Shared tail of `run` and `replay`: say where the run is, follow it when asked, print the summary. */
async function finishRunCommand(
  client: Client,
  started: StartedRun,
  options: { wait?: boolean; json?: boolean; report?: string },
): Promise<void> {
  if (!options.json || options.wait)
    info(
      `run ${started.runId} started (workflow ${started.workflowId})${started.uiLink ? `\n  ${started.uiLink}` : ''}`,
    );
  if (!options.wait) {
    if (options.json) printJson(started);
    return;
  }
  const { describeSummary, downloadReport, waitForRun } = await import('./commands/run');
  const summary = await waitForRun(client, started);
  const reportFile = await downloadReport(summary, options.report).catch((error: unknown) => {
    info(`could not download the report: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  });
  if (options.json) printJson(reportFile ? { ...summary, reportFile } : summary);
  else console.log(describeSummary(summary, { reportFile }));
  process.exitCode = summary.status === 'COMPLETED' ? 0 : 1;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

program.parseAsync(process.argv).catch((error: unknown) => {
  // A transport error ("connect ECONNREFUSED", "Failed to connect before the deadline") becomes which part
  // of the stack is unreachable and what to do about it.
  const explained = explainConnectionError(error);
  info(`custflow: ${explained ? explained.message : error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
