/**
 * Comparing two runs' stage outputs for the recovery tests (worker kill, S3 outage, throttling): the same
 * bytes, or where bytes differ the same Parquet rows and the same JSON document.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageName } from '../../lib/stageRegistry';
import { Duck } from '../../lib/duck';
import type { ObjectStore } from '../../lib/objectStore';
import type { RunSummary } from '../../lib/runTypes';

/**
 * Outputs of a stage that differ between two runs: first by sha256; where the bytes differ, a Parquet
 * output must still hold the same rows and a JSON output the same document.
 */
export async function outputDifferences(
  store: ObjectStore,
  before: RunSummary,
  after: RunSummary,
  stage: StageName,
  /** Outputs that may legitimately differ (e.g. segment migration after a backfill). */
  ignore: readonly string[] = [],
): Promise<string[]> {
  // The report embeds its run id and generation time; its data is checked through the stages it reads.
  if (stage === 'report') return [];
  const manifestOf = async (summary: RunSummary) =>
    store.getJson<{ outputs: Record<string, { key: string; sha256: string }> }>(
      store.keyFromUri(summary.stages[stage].manifestUri ?? ''),
    );
  const [a, b] = [await manifestOf(before), await manifestOf(after)];
  const differences: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'custflow-cmp-'));
  const duck = await Duck.open();
  try {
    for (const name of Object.keys(a.outputs).filter((n) => !ignore.includes(n))) {
      const [x, y] = [a.outputs[name], b.outputs[name]];
      if (!y) differences.push(`${name}: missing`);
      else if (x.sha256 !== y.sha256) {
        const [px, py] = [join(dir, `a-${name}`), join(dir, `b-${name}`)];
        await store.getToFile(x.key, px);
        await store.getToFile(y.key, py);
        if (x.key.endsWith('.parquet')) {
          const { n } = await duck.one<{ n: number }>(
            `SELECT ((SELECT count(*) FROM (SELECT * FROM read_parquet('${px}') EXCEPT ALL SELECT * FROM read_parquet('${py}')))
                   + (SELECT count(*) FROM (SELECT * FROM read_parquet('${py}') EXCEPT ALL SELECT * FROM read_parquet('${px}'))))::INTEGER AS n`,
          );
          if (n !== 0) differences.push(`${name}: ${n} rows differ`);
        } else if (
          JSON.stringify(JSON.parse(await readFile(px, 'utf8'))) !==
          JSON.stringify(JSON.parse(await readFile(py, 'utf8')))
        ) {
          differences.push(`${name}: document differs`);
        }
      }
    }
  } finally {
    duck.close();
    await rm(dir, { recursive: true, force: true });
  }
  return differences;
}
