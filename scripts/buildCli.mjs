/**
 * The compiled CLI: scripts/cli.ts and everything it imports from this repository, bundled by esbuild into
 * dist/cli-<id>/ (gitignored), so a command starts without transforming TypeScript (tsx took seconds at every
 * start). Packages in node_modules stay external (native DuckDB and Temporal bindings load as they are),
 * and each command's dynamic imports become chunks of their own, loaded only by that command.
 *
 * Plain JavaScript on purpose: bin/custflow.mjs imports it before anything can be compiled.
 *
 * Freshness: the build records a stamp of its sources (count and newest mtime of every source file, and
 * the project root); bin/custflow.mjs rebuilds when the stamp differs, so editing a .ts file never runs
 * stale code. `npm ci` builds once through the `prepare` script; `node scripts/buildCli.mjs` builds by hand.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';

/** Folders whose sources can end up in the bundle. */
const SOURCE_DIRS = ['scripts', 'console', 'lib', 'activities', 'workers', 'workflows', 'infra'];
const SOURCE_FILE = /\.(ts|mts|mjs|js|json)$/;
/** Files outside SOURCE_DIRS that change what the bundle is. */
const SOURCE_EXTRAS = ['package.json', 'tsconfig.json'];

/** Where bundles live, under the project root: one folder per build, and a pointer to the current one. */
export const DIST_DIR = 'dist';
const POINTER = 'cli.json';
/** Builds older than this, other than the current one, are removed (a command still running has loaded its chunks). */
const KEEP_OLD_BUILDS_MS = 60 * 60 * 1000;

/** A stamp of the sources: file count, newest mtime and the root (a moved checkout rebuilds). */
export function sourceStamp(root) {
  let count = 0;
  let newest = 0;
  const visit = (path) => {
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) return;
    count++;
    newest = Math.max(newest, info.mtimeMs);
  };
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (SOURCE_FILE.test(entry.name)) visit(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(root, dir));
  for (const file of SOURCE_EXTRAS) visit(join(root, file));
  return `${root}|${count}|${Math.round(newest)}`;
}

/** The bundle's entry file when it was built from the sources as they are now; otherwise undefined. */
export function freshEntry(root, stamp = sourceStamp(root)) {
  try {
    const current = JSON.parse(readFileSync(join(root, DIST_DIR, POINTER), 'utf8'));
    const entry = join(root, DIST_DIR, current.dir, 'cli.mjs');
    return current.stamp === stamp && existsSync(entry) ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * esbuild bakes each source file's own URL in for `import.meta.url`, so paths computed from it (the
 * workflows Temporal's bundler compiles from source, the CLI that `dev up` spawns, package.json, the demo
 * config) mean in the bundle exactly what they mean in the sources.
 */
const sourceUrls = {
  name: 'custflow-source-urls',
  setup(build) {
    build.onLoad({ filter: /\.(ts|mts)$/ }, async (args) => {
      if (args.path.includes(`${'/'}node_modules${'/'}`)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const url = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

/**
 * Bundle into a new folder dist/cli-<id>/, then point dist/cli.json at it (written whole and renamed into
 * place). A command starting meanwhile uses the old build or the new one, never half of one; a command
 * already running keeps its folder, whose chunks it may still import, for an hour.
 */
export async function buildCli(root, stamp = sourceStamp(root)) {
  const { build } = await import('esbuild');
  const dist = join(root, DIST_DIR);
  const dir = `cli-${Date.now().toString(36)}-${process.pid}`;
  mkdirSync(dist, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: { cli: 'scripts/cli.ts' },
    outdir: join(dist, dir),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'silent',
    plugins: [sourceUrls],
  });
  const pointer = join(dist, `${POINTER}.${process.pid}.tmp`);
  writeFileSync(pointer, JSON.stringify({ dir, stamp, builtAt: new Date().toISOString() }) + '\n');
  renameSync(pointer, join(dist, POINTER));
  for (const entry of readdirSync(dist, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith('cli-') || entry.name === dir) continue;
    const old = join(dist, entry.name);
    const info = statSync(old, { throwIfNoEntry: false });
    if (info && Date.now() - info.mtimeMs > KEEP_OLD_BUILDS_MS) rmSync(old, { recursive: true, force: true });
  }
  return join(dist, dir, 'cli.mjs');
}

/**
 * The bundle's entry, built first when it is missing or stale; undefined when it cannot be built (no
 * esbuild, a build error): the caller then runs the sources through tsx. `log` hears why.
 */
export async function ensureCliBundle(root, log = () => {}) {
  const stamp = sourceStamp(root);
  const fresh = freshEntry(root, stamp);
  if (fresh) return fresh;
  try {
    return await buildCli(root, stamp);
  } catch (error) {
    log(
      `custflow: could not build the CLI bundle (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); running from sources`,
    );
    return undefined;
  }
}

// `node scripts/buildCli.mjs` builds now and says where. `--if-possible` (the `prepare` script of `npm ci`)
// only warns when it cannot: bin/custflow.mjs then runs the sources, so an install never fails over it.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  const started = performance.now();
  try {
    const entry = await buildCli(root);
    process.stderr.write(`built ${entry} in ${Math.round(performance.now() - started)} ms\n`);
  } catch (error) {
    process.stderr.write(
      `custflow: could not build the CLI bundle: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    if (!process.argv.includes('--if-possible')) process.exitCode = 1;
  }
}
