/**
 * ingest: every delivered file in scope for the run -> transactions.parquet (canonical columns plus
 * lineage). A wrong header or a value that cannot be parsed fails the stage with file, line and column;
 * row-level problems that clean quarantines (missing customer, bad price, unparsable timestamp...) pass
 * through untouched so that clean can account for every row.
 */
import { join } from 'node:path';
import { Duck } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import { monthCutoffMs } from '../../lib/month';
import { mapConcurrent } from '../../lib/objectStore';
import { defineStageActivity, type StageContext } from '../../lib/stage';
import type { LocalRawFile } from './formats';
import { parseTransactionFiles } from './parse';
import { selectRawScope, type ScopedRawFile } from './scope';

export interface IngestMetrics extends Record<string, unknown> {
  files: number;
  filesAfterCutoff: number;
  bytes: number;
  rawRows: number;
  rowsByFormat: Record<string, number>;
  outputRows: number;
}

async function listScope(ctx: StageContext) {
  const objects = await ctx.store.list(`raw/${ctx.run.dataset}/`);
  return selectRawScope(ctx.run.dataset, objects, monthCutoffMs(ctx.run.month));
}

export const ingest = defineStageActivity<IngestMetrics>({
  stage: 'ingest',
  version: 1,
  configSection: () => ({}), // download concurrency does not change what ingest writes
  async fingerprintInputs(ctx) {
    const { inScope } = await listScope(ctx);
    return Object.fromEntries(inScope.map((f) => [f.key, `${f.etag}:${f.size}`]));
  },
  async compute(ctx) {
    const { inScope, afterCutoff } = await listScope(ctx);
    const transactionFiles = inScope.filter((f) => f.table === 'transactions');
    if (transactionFiles.length === 0) {
      throw new DataValidationError({
        file: `raw/${ctx.run.dataset}/`,
        rule: `no transaction files on or before the cutoff ${ctx.run.cutoff}; load some with \`custflow data load --dataset ${ctx.run.dataset} ...\``,
      });
    }
    const local = await mapConcurrent(
      transactionFiles,
      ctx.run.config.ingest.downloadConcurrency,
      async (file, i) => {
        const path = join(ctx.scratchDir, 'raw', file.key);
        await ctx.store.getToFile(file.key, path);
        if (i % 50 === 0) ctx.heartbeat({ downloaded: i });
        return { file, local: toLocal(file, path, i) };
      },
    );

    const duck = await Duck.open({ tempDirectory: join(ctx.scratchDir, 'duck') });
    try {
      const outPath = join(ctx.scratchDir, 'transactions.parquet');
      const { rowsByFormat, rows } = await parseTransactionFiles(duck, local, outPath, (detail) =>
        ctx.heartbeat(detail),
      );
      return {
        outputs: { transactions: { path: outPath, rows } },
        metrics: {
          files: transactionFiles.length,
          filesAfterCutoff: afterCutoff.length,
          bytes: transactionFiles.reduce((a, f) => a + f.size, 0),
          rawRows: rows,
          rowsByFormat,
          outputRows: rows, // ingest quarantines nothing: every parsed row goes on to clean
        },
      };
    } finally {
      duck.close();
    }
  },
});

function toLocal(file: ScopedRawFile, path: string, index: number): LocalRawFile {
  return {
    key: file.key,
    path,
    index,
    periodEndIso: file.periodEndMs !== undefined ? new Date(file.periodEndMs).toISOString() : undefined,
  };
}
