/** `custflow demo`: the whole thing on synthetic data, from nothing to a finished run. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devUp } from '../../infra/stack';
import { stateDir } from '../../lib/env';
import { addMonths } from '../../lib/month';
import type { RunSummary } from '../../lib/runTypes';
import { connectClient } from '../../lib/temporal';
import { ObjectStore } from '../../lib/objectStore';
import { issueOneTimeLogin } from '../../console/auth';
import { DEFAULT_CONSOLE_HOST, DEFAULT_CONSOLE_PORT } from './console';
import { loadData } from './data';
import { info } from './output';
import { describeSummary, startRun, waitForRun } from './run';

export async function runDemo(options: { customers: number }): Promise<RunSummary> {
  await devUp(info);
  const { generateDataset } = await import('../generate');
  const outDir = join(stateDir(), 'demo-data');
  const startMonth = '2023-01';
  const months = 24;
  info(`generating ${options.customers} synthetic customers over ${months} months -> ${outDir}`);
  await generateDataset({ outDir, customers: options.customers, months, seed: 42, startMonth });
  const dataset = 'demo';
  for (const table of ['transactions', 'events', 'assignments'] as const) {
    const loaded = await loadData({
      dataset,
      format: 'canonical',
      table,
      from: join(outDir, table),
      check: true,
    });
    info(`loaded ${loaded.files} ${table} file(s) -> ${loaded.prefix}`);
  }
  const month = addMonths(startMonth, months - 1);
  const client = await connectClient();
  const configPath = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));
  const started = await startRun(client, { dataset, month, configPath });
  info(
    `running ${dataset} ${month} as ${started.runId}${started.uiLink ? `\n  Temporal UI: ${started.uiLink}` : ''}`,
  );
  const summary = await waitForRun(client, started);
  console.log(describeSummary(summary));
  if (summary.stages.report?.outputs.html) {
    const local = join(stateDir(), 'demo-report.html');
    const store = ObjectStore.fromEnv();
    await store.getToFile(store.keyFromUri(summary.stages.report.outputs.html), local);
    console.log(`\nreport: ${local}\n        ${summary.stages.report.outputs.html}`);
    if (summary.stages.report.outputs.crm) console.log(`CRM export: ${summary.stages.report.outputs.crm}`);
  }
  // The web console for the people who are not on the command line: a one-time operator login, kept
  // hashed in the state directory, that the console accepts once when started on this stack.
  const login = await issueOneTimeLogin(stateDir(), 'operator');
  const consoleUrl = `http://${DEFAULT_CONSOLE_HOST}:${DEFAULT_CONSOLE_PORT}`;
  console.log(
    `\nweb console: start it with \`npx custflow console\`, then open (one use, valid 24 h, operator):\n  ${consoleUrl}/login?once=${login.token}`,
  );
  return summary;
}
