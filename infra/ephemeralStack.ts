/**
 * Throwaway servers for tests and benchmarks: a Temporal dev server and versitygw on free loopback
 * ports, with their data in a temporary directory, stopped and removed by `stop()`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { ObjectStore } from '../lib/objectStore';
import { freePort, s3Healthy, startS3Server, startTemporalServer, temporalHealthy, waitFor } from './servers';
import { ensureTools, type Log } from './tools';

export interface EphemeralStack {
  /** Environment variables that point custflow at these servers. */
  env: Record<string, string>;
  dir: string;
  temporalBinary: string;
  stop(): Promise<void>;
}

export async function startEphemeralStack(options: {
  temporal: boolean;
  log?: Log;
}): Promise<EphemeralStack> {
  const tools = await ensureTools(options.log);
  const dir = await mkdtemp(join(tmpdir(), 'custflow-stack-'));
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const child of children.reverse()) {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const s3Port = await freePort();
    const accessKeyId = `test${randomBytes(4).toString('hex')}`;
    const secretAccessKey = randomBytes(18).toString('base64url');
    children.push(
      await startS3Server({
        binary: tools.versitygw,
        dataDir: join(dir, 's3'),
        port: s3Port,
        accessKeyId,
        secretAccessKey,
        logFile: join(dir, 's3.log'),
        detached: false,
      }),
    );
    const env: Record<string, string> = {
      S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
      S3_BUCKET: 'custflow-test',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    await waitFor('S3 server', () => s3Healthy(env.S3_ENDPOINT), 30_000, join(dir, 's3.log'));
    await ObjectStore.fromEnv(env).ensureBucket();

    if (options.temporal) {
      const [port, uiPort, httpPort] = [await freePort(), await freePort(), await freePort()];
      children.push(
        await startTemporalServer({
          binary: tools.temporal,
          dbFile: join(dir, 'temporal.sqlite'),
          port,
          uiPort,
          httpPort,
          headless: true,
          logFile: join(dir, 'temporal.log'),
          detached: false,
        }),
      );
      env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
      env.TEMPORAL_NAMESPACE = 'default';
      await waitFor(
        'Temporal dev server',
        () => temporalHealthy(tools.temporal, env.TEMPORAL_ADDRESS),
        90_000,
        join(dir, 'temporal.log'),
      );
    }
    return { env, dir, temporalBinary: tools.temporal, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
