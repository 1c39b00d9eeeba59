/**
 * Who may use the web console, and as what. Two roles: a viewer reads every page; an operator also starts,
 * replays, cancels and schedules runs. People sign in with a name and a token:
 *
 * - the users file (CUSTFLOW_CONSOLE_USERS_FILE or `console --users FILE`) lists them with their role and
 *   the scrypt hash of their token (`custflow console add-user` writes it; the token is printed once and
 *   stored nowhere);
 * - one-time logins (`issueOneTimeLogin`: the console at start on loopback, `custflow demo`) are random
 *   tokens kept hashed in the state directory, each valid once and for a limited time.
 *
 * A session is a signed cookie (HMAC-SHA256 by Hono's signed-cookie helper) carrying the name, role, expiry
 * and a random session id; the CSRF token is an HMAC of that id, so the server keeps no session table and a
 * stolen page (which shows the CSRF token) does not reveal the cookie. Nothing secret reaches a page.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';

export type ConsoleRole = 'viewer' | 'operator';

export interface ConsoleUser {
  name: string;
  role: ConsoleRole;
}

/** scrypt parameters (Node's defaults, N = 16384): about 50 ms a check, which slows guessing. */
const SCRYPT_KEY_LENGTH = 32;
const HASH_PREFIX = 'scrypt';

function scryptAsync(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, SCRYPT_KEY_LENGTH, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** `scrypt$<salt base64url>$<hash base64url>` of a token. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt);
  return `${HASH_PREFIX}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [prefix, salt, hash] = stored.split('$');
  if (prefix !== HASH_PREFIX || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64url'));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A new random token (what a person types or pastes to sign in). */
export const newToken = (): string => randomBytes(18).toString('base64url');

const usersFileSchema = z
  .object({
    users: z.array(
      z
        .object({
          name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'a name of 1-64 letters, digits, . _ @ -'),
          role: z.enum(['viewer', 'operator']),
          secretHash: z
            .string()
            .startsWith(`${HASH_PREFIX}$`, 'a hash written by `custflow console add-user`'),
        })
        .strict(),
    ),
  })
  .strict();

export type UsersFile = z.infer<typeof usersFileSchema>;

/** Reads and checks a users file; the error names the file and the field. */
export async function readUsersFile(path: string): Promise<UsersFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`console users file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = usersFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`console users file ${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const names = new Set<string>();
  for (const [i, user] of result.data.users.entries()) {
    if (names.has(user.name))
      throw new Error(`console users file ${path}: users.${i}.name: "${user.name}" appears twice`);
    names.add(user.name);
  }
  return result.data;
}

/**
 * Adds a user (or gives an existing one a new token and role) and returns the new token, which is shown
 * once: the file keeps only its hash.
 */
export async function addUser(
  path: string,
  user: ConsoleUser,
): Promise<{ token: string; replaced: boolean }> {
  const file: UsersFile = existsSync(path) ? await readUsersFile(path) : { users: [] };
  const token = newToken();
  const entry = { name: user.name, role: user.role, secretHash: await hashSecret(token) };
  const checked = usersFileSchema.parse({ users: [entry] }); // the name rule, before writing anything
  const index = file.users.findIndex((u) => u.name === user.name);
  if (index >= 0) file.users[index] = checked.users[0];
  else file.users.push(checked.users[0]);
  await writePrivateJson(path, file);
  return { token, replaced: index >= 0 };
}

async function writePrivateJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await rename(temporary, path);
}

/** How long a one-time login stays valid. */
export const ONE_TIME_LOGIN_TTL_MS = 24 * 3600 * 1000;

interface OneTimeLogin {
  name: string;
  role: ConsoleRole;
  secretHash: string;
  expiresAt: string;
}

/** Where one-time logins are kept (hashed): beside the dev stack's state. */
export const oneTimeLoginsPath = (stateDir: string): string =>
  join(stateDir, 'console', 'one-time-logins.json');

async function readOneTimeLogins(path: string): Promise<OneTimeLogin[]> {
  if (!existsSync(path)) return [];
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { logins?: OneTimeLogin[] };
    return Array.isArray(parsed.logins) ? parsed.logins : [];
  } catch {
    return []; // a damaged file grants nothing
  }
}

/** A new one-time login; returns the token for the URL (`/login?once=TOKEN`). */
export async function issueOneTimeLogin(
  stateDir: string,
  role: ConsoleRole,
  now = Date.now(),
): Promise<{ name: string; token: string; expiresAt: string }> {
  const path = oneTimeLoginsPath(stateDir);
  const token = newToken();
  const name = `once-${token.slice(0, 6)}`;
  const expiresAt = new Date(now + ONE_TIME_LOGIN_TTL_MS).toISOString();
  const kept = (await readOneTimeLogins(path)).filter((l) => Date.parse(l.expiresAt) > now);
  kept.push({ name, role, secretHash: await hashSecret(token), expiresAt });
  await writePrivateJson(path, { logins: kept });
  return { name, token, expiresAt };
}

/** Uses up a one-time login: the user it was for, or undefined when no unexpired login matches. */
export async function redeemOneTimeLogin(
  stateDir: string,
  token: string,
  now = Date.now(),
): Promise<ConsoleUser | undefined> {
  const path = oneTimeLoginsPath(stateDir);
  const logins = (await readOneTimeLogins(path)).filter((l) => Date.parse(l.expiresAt) > now);
  for (const [i, login] of logins.entries()) {
    if (await verifySecret(token, login.secretHash)) {
      logins.splice(i, 1);
      await writePrivateJson(path, { logins });
      return { name: login.name, role: login.role };
    }
  }
  return undefined;
}

/** The credentials the console checks at sign-in. */
export class ConsoleAuthority {
  constructor(
    private readonly usersFile: UsersFile | undefined,
    private readonly stateDir: string,
  ) {}

  /** Whether people are configured (a users file): without them only loopback is served. */
  get hasConfiguredUsers(): boolean {
    return (this.usersFile?.users.length ?? 0) > 0;
  }

  async signIn(name: string, token: string): Promise<ConsoleUser | undefined> {
    const user = this.usersFile?.users.find((u) => u.name === name);
    if (!user) {
      // the same work either way, so timing does not say which names exist
      await verifySecret(token, `${HASH_PREFIX}$AAAAAAAAAAAAAAAAAAAAAA$AAAA`);
      return undefined;
    }
    return (await verifySecret(token, user.secretHash)) ? { name: user.name, role: user.role } : undefined;
  }

  redeem(token: string): Promise<ConsoleUser | undefined> {
    return redeemOneTimeLogin(this.stateDir, token);
  }
}

/** What the session cookie carries (signed, not encrypted: nothing in it is secret). */
export interface Session extends ConsoleUser {
  sessionId: string;
  expiresAt: number;
}

export const SESSION_TTL_MS = 12 * 3600 * 1000;

export function newSession(user: ConsoleUser, now = Date.now()): Session {
  return { ...user, sessionId: randomBytes(16).toString('base64url'), expiresAt: now + SESSION_TTL_MS };
}

export function encodeSession(session: Session): string {
  return Buffer.from(JSON.stringify(session)).toString('base64url');
}

/** The session in a cookie value whose signature has been checked; undefined when malformed or expired. */
export function decodeSession(value: string, now = Date.now()): Session | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<Session>;
    if (
      typeof parsed.name !== 'string' ||
      (parsed.role !== 'viewer' && parsed.role !== 'operator') ||
      typeof parsed.sessionId !== 'string' ||
      typeof parsed.expiresAt !== 'number' ||
      parsed.expiresAt <= now
    )
      return undefined;
    return {
      name: parsed.name,
      role: parsed.role,
      sessionId: parsed.sessionId,
      expiresAt: parsed.expiresAt,
    };
  } catch {
    return undefined;
  }
}

/** The CSRF token of a session: derived, so it needs no storage and differs per session. */
export function csrfTokenFor(signingKey: string, session: Session): string {
  return createHmac('sha256', signingKey).update(`csrf:${session.sessionId}`).digest('base64url');
}

export function csrfTokenMatches(
  signingKey: string,
  session: Session,
  presented: string | undefined,
): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenFor(signingKey, session));
  const actual = Buffer.from(presented);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Loopback addresses the console may serve without configured users. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}
