/**
 * Runs the real `custflow` binary (bin/custflow.mjs, so the bundle a user runs) as a child process with
 * this process's environment, which the harness points at the test servers.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export const CLI = new URL('../../bin/custflow.mjs', import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function custflow(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout, stderr, ms: Math.round(performance.now() - started) }),
    );
  });
}

/** Starts the binary and resolves once its stderr matches `pattern` (rejects after timeoutMs). */
export function custflowUntil(
  args: readonly string[],
  pattern: RegExp,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `custflow ${args.join(' ')}: no ${String(pattern)} on stderr in ${timeoutMs} ms:\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (pattern.test(stderr)) {
        clearTimeout(timer);
        resolve({ child, stderr, ms: Math.round(performance.now() - started) });
      }
    });
    child.stdout.resume();
    child.on('error', reject);
  });
}
