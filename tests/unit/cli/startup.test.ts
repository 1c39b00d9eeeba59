/**
 * The binary as a new user meets it: --version, help that describes every option and marks required ones,
 * with examples and the stage list, and a start-up well under a second (the compiled bundle, rebuilt when
 * a source is newer than it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGE_NAMES } from '../../../lib/stageRegistry';
import { sourceStamp } from '../../../scripts/buildCli.mjs';

const CLI = new URL('../../../bin/custflow.mjs', import.meta.url).pathname;
const ROOT = new URL('../../..', import.meta.url).pathname;

function custflow(...args: string[]): { code: number; stdout: string; stderr: string; ms: number } {
  const started = performance.now();
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return {
    code: result.status ?? -1,
    stdout: result.stdout,
    stderr: result.stderr,
    ms: performance.now() - started,
  };
}

/** Every "--option" line of a help text, with its description (wrapped lines joined). */
function options(help: string): Map<string, string> {
  const section = help.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? '';
  const out = new Map<string, string>();
  let current = '';
  for (const line of section.split('\n')) {
    const match = /^ {2}(-\S+(?:, --\S+)?(?: <[^>]+>| \[[^\]]+\])?)\s{2,}(.*)$/.exec(line);
    if (match) {
      current = match[1];
      out.set(current, match[2]);
    } else if (current && line.trim()) out.set(current, `${out.get(current)} ${line.trim()}`);
  }
  return out;
}

describe('custflow binary', () => {
  it('prints its version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = custflow('--version');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('describes every option, marks the required ones, shows examples and the stages', () => {
    const run = custflow('run', '--help').stdout;
    const described = options(run);
    expect([...described.keys()]).toEqual(
      expect.arrayContaining([
        '--dataset <name>',
        '--month <YYYY-MM>',
        '--force <stages...>',
        '--wait',
        '--json',
      ]),
    );
    for (const [option, description] of described) expect(description.trim(), option).not.toBe('');
    expect(described.get('--dataset <name>')).toMatch(/\(required\)$/);
    expect(described.get('--month <YYYY-MM>')).toMatch(/\(required\)$/);
    expect(described.get('--force <stages...>')).toContain(STAGE_NAMES.join(', '));
    expect(run).toMatch(/^Examples:\n {2}\$ npx custflow run --dataset \S+ --month \d{4}-\d\d --wait$/m);
    expect(options(custflow('replay', '--help').stdout).get('--from-stage <stage>')).toContain(
      STAGE_NAMES.join(', '),
    );
    for (const command of [
      ['backfill'],
      ['data', 'load'],
      ['data', 'list'],
      ['data', 'delete'],
      ['export'],
      ['runs', 'list'],
    ]) {
      const help = custflow(...command, '--help');
      expect(help.code).toBe(0);
      for (const [option, description] of options(help.stdout))
        expect(description.trim(), `${command.join(' ')} ${option}`).not.toBe('');
    }
    expect(custflow('--help').stdout).toContain(`Stages of a monthly run: ${STAGE_NAMES.join(', ')}.`);
  });

  it('starts in well under a second', () => {
    custflow('--help'); // warm-up: builds the bundle when a source changed
    const times = [0, 1, 2].map(() => custflow('--help').ms).sort((a, b) => a - b);
    expect(times[1]).toBeLessThan(1000);
  });

  it('knows when its bundle is stale: a source file newer than the build, or one added', async () => {
    const root = await mkdtemp(join(tmpdir(), 'custflow-stamp-'));
    try {
      await mkdir(join(root, 'lib'));
      await writeFile(join(root, 'lib', 'a.ts'), 'export const a = 1;\n');
      await writeFile(join(root, 'package.json'), '{}\n');
      const first = sourceStamp(root);
      expect(sourceStamp(root)).toBe(first);
      const later = new Date(Date.now() + 5_000);
      await utimes(join(root, 'lib', 'a.ts'), later, later);
      const touched = sourceStamp(root);
      expect(touched).not.toBe(first);
      await writeFile(join(root, 'lib', 'b.ts'), 'export const b = 2;\n');
      await utimes(join(root, 'lib', 'b.ts'), new Date(0), new Date(0));
      expect(sourceStamp(root)).not.toBe(touched);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
