/**
 * Clean's customer shards (issue 10): each kept table (transactions, events, assignments) is also written
 * as S Parquet parts by the customer hash of lib/shards.ts, for the sharded stages downstream
 * (lib/shardedStage.ts). The whole-table files stay: stages not yet sharded read them as before.
 *
 * S is `shards.count` when configured, else chooseShardCount on the kept customers, so every table of a
 * run shares one S and a customer's transactions, events and assignments sit in the same shard. Rows keep
 * the whole file's order inside each part (its row number), so parts are as deterministic as the file.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sqlString, type Duck } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import { sha256File } from '../../lib/objectStore';
import { shardedOutputFiles } from '../../lib/shardedStage';
import { shardPartName, shardSql } from '../../lib/shards';
import type { StageOutputFile } from '../../lib/stage';

/**
 * Split a written table file into S parts by customer shard; returns the parts and their shard index as
 * stage outputs (`<output>/part-...` and `<output>Shards`). A row without a customer_id has no shard: it
 * fails here, naming the file, rather than vanish from every part.
 */
export async function writeShardParts(
  duck: Duck,
  options: { output: string; path: string; shardCount: number; outDir: string },
): Promise<Record<string, StageOutputFile>> {
  const { output, shardCount } = options;
  const table = `shard_split_${output}`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${table} AS
    SELECT * EXCLUDE (file_row_number), file_row_number AS __row, ${shardSql('customer_id', shardCount)} AS __shard
    FROM read_parquet(${sqlString(options.path)}, file_row_number = true)
    ORDER BY __shard, __row`);
  const { missing } = await duck.one<{ missing: number }>(
    `SELECT count(*)::INTEGER AS missing FROM ${table} WHERE __shard IS NULL`,
  );
  if (missing > 0) {
    throw new DataValidationError({
      file: `${output}.parquet`,
      column: 'customer_id',
      rule: `every kept row needs a customer_id to be placed in a customer shard (${missing} rows have none)`,
    });
  }
  const counts = new Map(
    (
      await duck.all<{ shard: number; n: number }>(
        `SELECT __shard AS shard, count(*)::INTEGER AS n FROM ${table} GROUP BY ALL`,
      )
    ).map((r) => [r.shard, r.n]),
  );
  const parts: { path: string; rows: number }[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    const path = join(options.outDir, 'shards', shardPartName(output, shard, shardCount));
    await mkdir(dirname(path), { recursive: true });
    // The table is ordered by shard, so DuckDB's zone maps skip the other shards' row groups.
    await duck.toParquet(
      `SELECT * EXCLUDE (__row, __shard) FROM ${table} WHERE __shard = ${shard} ORDER BY __row`,
      path,
    );
    parts.push({ path, rows: counts.get(shard) ?? 0 });
  }
  await duck.run(`DROP TABLE ${table}`);
  return shardedOutputFiles(
    output,
    parts,
    join(options.outDir, 'shards'),
    sha256File,
    async (p) => (await stat(p)).size,
  );
}
