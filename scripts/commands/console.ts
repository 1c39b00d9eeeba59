/**
 * `custflow console [--host H] [--port N]`: the web console (console/). It connects to Temporal and S3
 * like every other command, reads who may sign in from the tokens file, and refuses to listen anywhere
 * but loopback when no one is configured: then the only way in is the one-time operator login it prints.
 */
import { existsSync } from 'node:fs';
import {
  ConsoleAuthority,
  isLoopbackHost,
  issueOneTimeLogin,
  readUsersFile,
  type UsersFile,
} from '../../console/auth';
import { createConsoleApp, listen, sessionSigningKey, type RunningConsole } from '../../console/server';
import { stateDir } from '../../lib/env';
import { ObjectStore } from '../../lib/objectStore';
import { connectClient } from '../../lib/temporal';
import { info } from './output';

export const DEFAULT_CONSOLE_HOST = '127.0.0.1';
export const DEFAULT_CONSOLE_PORT = 7080;

export interface ConsoleOptions {
  host: string;
  port: number;
  /** The tokens file (people, roles, token hashes); default CUSTFLOW_CONSOLE_TOKENS_FILE. */
  tokensFile?: string;
  /** Mark the session cookie Secure although this server speaks plain HTTP (TLS ends at a proxy). */
  secureCookies?: boolean;
}

export async function startConsole(
  options: ConsoleOptions,
): Promise<RunningConsole & { oneTimeLogin?: string }> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
    throw new Error(`--port ${options.port} is not a TCP port (0-65535)`);
  const tokensFile = options.tokensFile ?? process.env.CUSTFLOW_CONSOLE_TOKENS_FILE;
  let users: UsersFile | undefined;
  if (tokensFile) {
    if (!existsSync(tokensFile))
      throw new Error(
        `console tokens file ${tokensFile} does not exist (create it with \`custflow console add-user --tokens-file ${tokensFile} --name NAME --role operator\`)`,
      );
    users = await readUsersFile(tokensFile);
  }
  const authority = new ConsoleAuthority(users, stateDir());
  if (!authority.hasConfiguredUsers && !isLoopbackHost(options.host))
    throw new Error(
      `refusing to serve the console on ${options.host}: no users are configured, so it may only listen on loopback (127.0.0.1, ::1). ` +
        'Give it a tokens file (--tokens-file FILE or CUSTFLOW_CONSOLE_TOKENS_FILE; add people with `custflow console add-user`).',
    );
  const app = createConsoleApp({
    store: ObjectStore.fromEnv(),
    client: await connectClient(),
    authority,
    signingKey: sessionSigningKey(),
    secureCookies: options.secureCookies ?? process.env.CUSTFLOW_CONSOLE_SECURE_COOKIES === '1',
    metricsToken: process.env.CUSTFLOW_CONSOLE_METRICS_TOKEN || undefined,
  });
  const running = await listen(app, options.host, options.port);
  if (authority.hasConfiguredUsers) return running;
  const login = await issueOneTimeLogin(stateDir(), 'operator');
  return { ...running, oneTimeLogin: `${running.url}/login?once=${login.token}` };
}

/** The CLI's `console` command: serve until interrupted. */
export async function runConsoleCommand(options: ConsoleOptions): Promise<void> {
  const running = await startConsole(options);
  info(`custflow console: ${running.url}`);
  if (running.oneTimeLogin)
    info(
      `no users configured: sign in once as an operator with\n  ${running.oneTimeLogin}\n(valid for 24 hours, one use; add people with \`custflow console add-user\`)`,
    );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      info('custflow console: stopping');
      void running.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
