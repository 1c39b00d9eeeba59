import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDataset, NO_DIRTY_RATES } from '../../../scripts/generate/index';
import { tempDir } from './helpers';

/** sha256 of every file under dir, keyed by relative path. */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string): void => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else out[relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const dirs = [tempDir('det-a'), tempDir('det-b'), tempDir('det-c'), tempDir('det-d')];
afterAll(() => dirs.forEach((d) => d.remove()));

describe('generateDataset determinism', () => {
  it('writes byte-identical files for the same options and seed, and different ones for another seed', async () => {
    const options = { customers: 1500, months: 12, seed: 7, startMonth: '2023-03' };
    const first = await generateDataset({ ...options, outDir: dirs[0].dir });
    await generateDataset({ ...options, outDir: dirs[1].dir });
    await generateDataset({ ...options, seed: 8, outDir: dirs[2].dir });
    const a = hashTree(dirs[0].dir);
    const b = hashTree(dirs[1].dir);
    const c = hashTree(dirs[2].dir);
    // 12 transaction months + 12 event months + assignments + truth_customers + truth.json
    expect(Object.keys(a)).toHaveLength(27);
    expect(first.files).toHaveLength(27);
    expect(b).toEqual(a);
    expect(c['transactions/2023-08.csv']).not.toEqual(a['transactions/2023-08.csv']);
    expect(c['truth_customers.csv']).not.toEqual(a['truth_customers.csv']);
  });

  it('leaves the clean purchase history unchanged by events, dirty rows and the experiment', async () => {
    const options = { customers: 800, months: 6, seed: 11, startMonth: '2024-01' };
    const [plain, withEvents, everything] = [dirs[3], tempDir('det-e'), tempDir('det-f')];
    try {
      await generateDataset({
        ...options,
        outDir: plain.dir,
        events: false,
        experiment: false,
        dirty: NO_DIRTY_RATES,
      });
      await generateDataset({ ...options, outDir: withEvents.dir, experiment: false, dirty: NO_DIRTY_RATES });
      await generateDataset({ ...options, outDir: everything.dir });
      const a = hashTree(plain.dir);
      const b = hashTree(withEvents.dir);
      const c = hashTree(everything.dir);
      for (const month of ['2024-01', '2024-03', '2024-06']) {
        expect(b[`transactions/${month}.csv`]).toEqual(a[`transactions/${month}.csv`]);
        expect(c[`transactions/${month}.csv`]).not.toEqual(a[`transactions/${month}.csv`]);
      }
      // Same customers: parameters, first purchase, dropout instant and number of repeat purchases.
      expect(c['truth_customers.csv']).toEqual(a['truth_customers.csv']);
      expect(a['events/2024-01.csv']).toBeUndefined();
      expect(a['assignments/assignments.csv']).toBeUndefined();
    } finally {
      withEvents.remove();
      everything.remove();
    }
  });

  it('rejects bad options with the field and the rule', async () => {
    const outDir = dirs[3].dir;
    await expect(generateDataset({ outDir, customers: 0 })).rejects.toThrow(/customers must be an integer/);
    await expect(generateDataset({ outDir, startMonth: '2023-13' })).rejects.toThrow(/startMonth/);
    await expect(generateDataset({ outDir, dirty: { duplicates: 0.1 } as never })).rejects.toThrow(
      /dirty\.duplicates/,
    );
    await expect(generateDataset({ outDir, experiment: { uplift: -0.1 } })).rejects.toThrow(
      /experiment\.uplift/,
    );
    await expect(generateDataset({ outDir, experiment: { srm: 1.2 } })).rejects.toThrow(/experiment\.srm/);
    await expect(generateDataset({ outDir, groups: 3 as never })).rejects.toThrow(/groups must be 1 or 4/);
  });
});
