/**
 * The local servers custflow's dev stack and tests run: the Temporal CLI (dev server) and versitygw (an
 * S3 API over a local directory). Prebuilt downloads are not an option on a closed network, so each is
 * found (env override, cache, PATH) or built once with `go install` at a pinned version into a cache
 * directory that later runs reuse.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface ToolSpec {
  name: 'temporal' | 'versitygw';
  /** Go package path for `go install`. */
  goPackage: string;
  version: string;
  /** Environment variable that points at an existing binary instead. */
  envVar: string;
}

export const TOOL_SPECS: Record<ToolSpec['name'], ToolSpec> = {
  // Later CLI tags carry a replace directive that `go install pkg@version` refuses.
  temporal: {
    name: 'temporal',
    goPackage: 'github.com/temporalio/cli/cmd/temporal',
    version: 'v1.5.1',
    envVar: 'CUSTFLOW_TEMPORAL_BIN',
  },
  versitygw: {
    name: 'versitygw',
    goPackage: 'github.com/versity/versitygw/cmd/versitygw',
    version: 'v1.7.0',
    envVar: 'CUSTFLOW_VERSITYGW_BIN',
  },
};

export function cacheRoot(): string {
  if (process.env.CUSTFLOW_CACHE_DIR) return process.env.CUSTFLOW_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'custflow');
}

const cachedBinaryPath = (spec: ToolSpec): string =>
  join(cacheRoot(), 'tools', `${spec.name}-${spec.version}`, spec.name);

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Where the binary is, without building: env override, then the cache, then PATH. */
export function findTool(spec: ToolSpec): { path: string; source: 'env' | 'cache' | 'path' } | undefined {
  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${spec.envVar}=${fromEnv} does not exist`);
    return { path: fromEnv, source: 'env' };
  }
  const cached = cachedBinaryPath(spec);
  if (existsSync(cached)) return { path: cached, source: 'cache' };
  const found = onPath(spec.name);
  return found ? { path: found, source: 'path' } : undefined;
}

export type Log = (message: string) => void;

/** The binary's path, building it (once, under a lock shared by concurrent callers) when it is missing. */
export async function ensureTool(spec: ToolSpec, log: Log = () => {}): Promise<string> {
  const found = findTool(spec);
  if (found) return found.path;
  const lockDir = join(cacheRoot(), 'locks', `${spec.name}-${spec.version}.lock`);
  await mkdir(join(cacheRoot(), 'locks'), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch {
      // Another process is building. Take over a lock older than the longest plausible build.
      const age = Date.now() - (await stat(lockDir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 30 * 60_000) await rm(lockDir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 2000));
      if (existsSync(cachedBinaryPath(spec))) return cachedBinaryPath(spec);
    }
  }
  try {
    if (existsSync(cachedBinaryPath(spec))) return cachedBinaryPath(spec);
    await buildTool(spec, log);
    return cachedBinaryPath(spec);
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function buildTool(spec: ToolSpec, log: Log): Promise<void> {
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new Error(
      `${spec.name} is not installed and Go is not available to build it. Install Go, or point ${spec.envVar} at a ${spec.name} binary.`,
    );
  }
  const target = cachedBinaryPath(spec);
  const staging = await mkdtemp(join(tmpdir(), `custflow-build-${spec.name}-`));
  log(`building ${spec.name} ${spec.version} with go install (first time only; a few minutes) -> ${target}`);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', `${spec.goPackage}@${spec.version}`], {
      cwd: staging,
      env: { ...process.env, GOBIN: staging, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `go install ${spec.goPackage}@${spec.version} failed (exit ${code}):\n${stderr
              .split('\n')
              .filter((l) => !l.startsWith('go: downloading'))
              .slice(-30)
              .join('\n')}`,
          ),
        );
    });
  });
  await mkdir(join(cacheRoot(), 'tools', `${spec.name}-${spec.version}`), { recursive: true });
  await chmod(join(staging, spec.name), 0o755);
  await rename(join(staging, spec.name), target); // atomic: a half-built binary is never in the cache
  await rm(staging, { recursive: true, force: true });
  log(`built ${spec.name} ${spec.version} in ${Math.round((Date.now() - started) / 1000)} s`);
}

export async function ensureTools(log: Log = () => {}): Promise<{ temporal: string; versitygw: string }> {
  // One after the other: both builds are CPU-bound and the machine may have two cores.
  const temporal = await ensureTool(TOOL_SPECS.temporal, log);
  const versitygw = await ensureTool(TOOL_SPECS.versitygw, log);
  return { temporal, versitygw };
}

export function toolVersion(path: string): string {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return (result.stdout || result.stderr).trim().split('\n')[0] ?? '';
}

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Debian's Chromium for the report's browser test (playwright-core drives it; no browser download).
 * Installed with apt-get when missing and this process may (root); otherwise the test says it skipped.
 */
export function ensureChromium(log: Log = () => {}): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const aptGet = onPath('apt-get');
  if (!aptGet || process.getuid?.() !== 0) {
    log(
      `${CHROMIUM_PATH} is missing and cannot be installed here (needs root and apt-get): the browser test will skip`,
    );
    return undefined;
  }
  log('installing Debian chromium for the report browser test (apt-get, first time only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync(aptGet, ['update', '-qq'], { stdio: 'inherit', env });
  const install = spawnSync(aptGet, ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], {
    stdio: 'inherit',
    env,
  });
  if (update.status !== 0 || install.status !== 0 || !existsSync(CHROMIUM_PATH)) {
    log('apt-get could not install chromium: the browser test will skip');
    return undefined;
  }
  return CHROMIUM_PATH;
}
