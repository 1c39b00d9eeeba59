/**
 * `data load --format retailrocket` without --table: RetailRocket is delivered as one folder (events.csv,
 * item_properties_part1.csv and _part2.csv, category_tree.csv), so each file goes to the table its name
 * says, each table loaded (and checked) as `data load --table <table>` would.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { TableName } from '../../activities/ingest/formats';
import { loadData, type LoadOptions, type LoadResult } from './data';
import { ObjectStore } from '../../lib/objectStore';

const TABLE_BY_NAME: readonly [RegExp, TableName][] = [
  [/^events.*\.csv(\.gz)?$/i, 'events'],
  [/^item_properties.*\.csv(\.gz)?$/i, 'item_properties'],
  [/^category_tree.*\.csv(\.gz)?$/i, 'category_tree'],
];

/** The RetailRocket table a file's name says it holds, or undefined. */
export function retailRocketTableOf(fileName: string): TableName | undefined {
  return TABLE_BY_NAME.find(([pattern]) => pattern.test(basename(fileName)))?.[1];
}

/** Loads each file of `from` into its table; a file whose name says no table is refused before any upload. */
export async function loadRetailRocket(
  options: Omit<LoadOptions, 'format' | 'table'>,
  store = ObjectStore.fromEnv(),
  log: (message: string) => void = () => {},
): Promise<LoadResult[]> {
  const info = await stat(options.from);
  const paths = info.isFile()
    ? [options.from]
    : (await readdir(options.from))
        .filter((name) => /\.csv(\.gz)?$/i.test(name)) // as `data load`: other files (a README, truth) are not data
        .sort()
        .map((name) => join(options.from, name));
  const byTable = new Map<TableName, string[]>();
  for (const path of paths) {
    const table = retailRocketTableOf(path);
    if (!table)
      throw new Error(
        `${path}: a RetailRocket file is named events*.csv, item_properties*.csv or category_tree*.csv (or pass --table)`,
      );
    byTable.set(table, [...(byTable.get(table) ?? []), path]);
  }
  const results: LoadResult[] = [];
  if (byTable.size === 0) throw new Error(`${options.from}: no .csv or .csv.gz files found`);
  for (const [table, files] of byTable) {
    for (const file of files)
      results.push(await loadData({ ...options, format: 'retailrocket', table, from: file }, store, log));
  }
  return results;
}
