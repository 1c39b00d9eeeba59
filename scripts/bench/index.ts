/**
 * `npm run bench`: every benchmark, each in a fresh process (so memory figures are its own), printed as
 * one JSON object of figures in ms (and bytes where named). `npm run bench -- ingestClean forecast` runs
 * a subset. Figures are medians where the benchmark repeats.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Bench = () => Promise<Record<string, number>>;

const BENCHES: Record<string, () => Promise<Bench>> = {
  ingestClean: async () => (await import('./ingestClean')).benchIngestClean.bind(null, 5),
  features: async () => (await import('./features')).benchFeatures,
  segment: async () => (await import('./segment')).benchSegment.bind(null, 1_000_000),
  featuresSegment: async () => (await import('./featuresSegment')).benchFeaturesSegment.bind(null, 1_000_000),
  clv: async () => (await import('./clv')).benchClv.bind(null, 1_000_000),
  churn: async () => (await import('./churn')).benchChurn.bind(null, 1_000_000),
  churnStage: async () => (await import('./churnStage')).benchChurnStage.bind(null, 1_000_000),
  forecast: async () => (await import('./forecast')).benchForecast,
  experiment: async () => (await import('./experiment')).benchExperiment,
  generate: async () => (await import('./generate')).benchGenerate,
  report: async () => (await import('./report')).benchReport,
  recommend: async () => (await import('./recommend')).benchRecommend.bind(null, 1_000_000),
  orchestration: async () => (await import('./orchestration')).benchOrchestration,
  cli: async () => (await import('./cli')).benchCli,
  console: async () => (await import('./console')).benchConsole,
  // Not in the default set: the whole DAG at 300k customers per S x W combination takes many minutes.
  scale: async () => (await import('./scale')).benchScale,
};
const ON_REQUEST_ONLY = new Set(['scale']);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--one') {
    const bench = await BENCHES[args[1]]();
    const figures = await bench();
    process.stdout.write(JSON.stringify(figures) + '\n');
    return;
  }
  const selected = args.length > 0 ? args : Object.keys(BENCHES).filter((name) => !ON_REQUEST_ONLY.has(name));
  const unknown = selected.filter((name) => !BENCHES[name]);
  if (unknown.length)
    throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  const results: Record<string, Record<string, number> | { error: string }> = {};
  for (const name of selected) {
    process.stderr.write(`bench ${name} ...\n`);
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', name],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const lastLine = child.stdout.trim().split('\n').pop() ?? '';
    try {
      results[name] = JSON.parse(lastLine) as Record<string, number>;
    } catch {
      results[name] = { error: `exit ${child.status}: ${lastLine.slice(0, 500)}` };
    }
    process.stderr.write(`  ${JSON.stringify(results[name])}\n`);
  }
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
}

await main();
