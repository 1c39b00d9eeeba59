/** Migration matrix between two months' segments files, with new and gone customers, counted by hand. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../../../lib/duck';
import { DataValidationError } from '../../../lib/errors';
import {
  GONE_CUSTOMERS,
  NEW_CUSTOMERS,
  migrationBetween,
  migrationMatrix,
} from '../../../activities/segment/migration';

describe('migrationBetween', () => {
  let duck: Duck;
  let dir: string;
  beforeAll(async () => {
    duck = await Duck.open();
    dir = await mkdtemp(join(tmpdir(), 'custflow-migration-'));
  });
  afterAll(async () => {
    duck.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes a segments file: rows of [customer_id, persona, persona_base?]. */
  async function segmentsFile(name: string, rows: (string | null)[][], withBase = true): Promise<string> {
    const path = join(dir, name);
    const values = rows.map((r) => `(${r.map((v) => (v === null ? 'NULL' : sqlString(v))).join(', ')})`);
    const columns = withBase ? 'customer_id, persona, persona_base' : 'customer_id, persona';
    await duck.run(
      `COPY (SELECT * FROM (VALUES ${values.join(', ')}) t(${columns})) TO ${sqlString(path)} (FORMAT parquet)`,
    );
    return path;
  }

  // Last month: two "Loyal" segments told apart by a spend qualifier; now there is only one.
  const previousRows = [
    ['a', 'Loyal (higher spend)', 'Loyal'],
    ['b', 'Loyal (lower spend)', 'Loyal'],
    ['c', 'At risk', 'At risk'],
    ['d', 'New', 'New'],
    ['e', 'New', 'New'],
    ['f', 'At risk', 'At risk'],
  ];
  const currentRows = [
    ['a', 'Loyal', 'Loyal'],
    ['b', 'At risk', 'At risk'],
    ['c', 'Lapsed', 'Lapsed'],
    ['d', 'Loyal', 'Loyal'],
    ['e', 'New', 'New'],
    ['g', 'New', 'New'],
    ['h', 'New', 'New'],
  ];

  it('counts moves, new and gone customers by persona_base', async () => {
    const mx = await migrationBetween(duck, {
      previousPath: await segmentsFile('prev.parquet', previousRows),
      currentPath: await segmentsFile('curr.parquet', currentRows),
      order: ['Loyal', 'New', 'At risk', 'Lapsed'],
    });
    expect(mx.matchedOn).toBe('persona_base');
    expect(mx.from).toEqual(['Loyal', 'New', 'At risk', NEW_CUSTOMERS]);
    expect(mx.to).toEqual(['Loyal', 'New', 'At risk', 'Lapsed', GONE_CUSTOMERS]);
    expect(mx.counts).toEqual([
      // Loyal  New  At risk  Lapsed  gone
      [1, 0, 1, 0, 0], // Loyal: a stays (its spend qualifier is gone), b -> At risk
      [1, 1, 0, 0, 0], // New: d -> Loyal, e stays
      [0, 0, 0, 1, 1], // At risk: c -> Lapsed, f gone
      [0, 2, 0, 0, 0], // new: g, h
    ]);
    expect(mx.rowShares[0]).toEqual([0.5, 0, 0.5, 0, 0]);
    expect(mx).toMatchObject({ stayed: 2, moved: 3, newCustomers: 2, goneCustomers: 1 });
    // Every customer of either month appears once: 5 in both + 2 new + 1 gone.
    expect(mx.counts.flat().reduce((a, b) => a + b, 0)).toBe(8);
  });

  it('matches on persona when last month predates persona_base', async () => {
    const mx = await migrationBetween(duck, {
      previousPath: await segmentsFile(
        'old.parquet',
        previousRows.map((r) => r.slice(0, 2)),
        false,
      ),
      currentPath: await segmentsFile('curr2.parquet', currentRows),
    });
    expect(mx.matchedOn).toBe('persona');
    // Unlisted personas in code-point order; a's old qualified name is a persona of its own.
    expect(mx.from).toEqual(['At risk', 'Loyal (higher spend)', 'Loyal (lower spend)', 'New', NEW_CUSTOMERS]);
    expect(mx.stayed).toBe(1);
    expect(mx.moved).toBe(4);
  });

  it('names the file and column of a broken previous segments file', async () => {
    const current = await segmentsFile('curr3.parquet', currentRows);
    const duplicated = await segmentsFile('dup.parquet', [...previousRows, ['a', 'New', 'New']]);
    const attempt = migrationBetween(duck, { previousPath: duplicated, currentPath: current });
    await expect(attempt).rejects.toThrow(DataValidationError);
    await expect(attempt).rejects.toThrow(/dup\.parquet.*customer_id.*1 rows/s);
    const reserved = await segmentsFile('reserved.parquet', [['a', NEW_CUSTOMERS, NEW_CUSTOMERS]]);
    await expect(migrationBetween(duck, { previousPath: reserved, currentPath: current })).rejects.toThrow(
      /persona_base must be set and not a reserved label/,
    );
    const noPersona = join(dir, 'nopersona.parquet');
    await duck.run(`COPY (SELECT 'a' AS customer_id) TO ${sqlString(noPersona)} (FORMAT parquet)`);
    await expect(migrationBetween(duck, { previousPath: noPersona, currentPath: current })).rejects.toThrow(
      /persona/,
    );
  });
});

describe('migrationMatrix', () => {
  it('lays out cells with listed personas first and sums new, gone, stayed and moved', () => {
    const mx = migrationMatrix(
      [
        { from: 'B', to: 'B', customers: 4 },
        { from: 'A', to: 'B', customers: 2 },
        { from: null, to: 'A', customers: 3 },
        { from: 'A', to: null, customers: 1 },
      ],
      ['B'],
    );
    expect(mx.from).toEqual(['B', 'A', NEW_CUSTOMERS]);
    expect(mx.to).toEqual(['B', 'A', GONE_CUSTOMERS]);
    expect(mx.counts).toEqual([
      [4, 0, 0],
      [2, 0, 1],
      [0, 3, 0],
    ]);
    expect(mx).toMatchObject({ stayed: 4, moved: 2, newCustomers: 3, goneCustomers: 1 });
  });
});
