/** data load's encoding check: bad bytes are named with their line; characters cut by a read chunk are not. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkUtf8 } from '../../../scripts/commands/dataFiles';

describe('UTF-8 check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custflow-utf8-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts multi-byte characters that straddle the 1 MiB read chunks', async () => {
    const line = 'C1,Crème brûlée — 東京 🍰\n';
    const path = join(dir, 'good.csv');
    // enough lines that chunk boundaries fall inside 2-, 3- and 4-byte characters
    await writeFile(path, `header\n${line.repeat(120_000)}`);
    await expect(checkUtf8('raw/x/good.csv', path)).resolves.toBeUndefined();
  });

  it('names the line of a byte that is not UTF-8', async () => {
    const path = join(dir, 'latin1.csv');
    await writeFile(
      path,
      Buffer.concat([
        Buffer.from('a,b\n'.repeat(300_000)),
        Buffer.from('Caf\xe9,1\n', 'latin1'),
        Buffer.from('x,y\n'),
      ]),
    );
    await expect(checkUtf8('raw/x/latin1.csv', path)).rejects.toThrow(
      /^raw\/x\/latin1\.csv, line 300001: the file must be UTF-8 text \(re-save it as UTF-8\)/,
    );
  });

  it('refuses a file that ends inside a character', async () => {
    const path = join(dir, 'cut.csv');
    await writeFile(path, Buffer.from([0x61, 0x0a, 0xe6, 0x9d]));
    await expect(checkUtf8('raw/x/cut.csv', path)).rejects.toThrow(/line 2: the file must be UTF-8/);
  });
});
