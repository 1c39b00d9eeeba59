/**
 * The console's credentials without a server: token hashes, the users file's rules, one-time logins,
 * session cookies and CSRF tokens, and which hosts count as loopback.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addUser,
  ConsoleAuthority,
  csrfTokenFor,
  csrfTokenMatches,
  decodeSession,
  encodeSession,
  hashSecret,
  isLoopbackHost,
  issueOneTimeLogin,
  newSession,
  readUsersFile,
  redeemOneTimeLogin,
  verifySecret,
} from '../../../console/auth';
import { html } from '../../../console/html';

const dir = mkdtempSync(join(tmpdir(), 'custflow-console-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('console credentials', () => {
  it('hashes tokens with a salt and accepts only the right one', async () => {
    const a = await hashSecret('s3cret');
    const b = await hashSecret('s3cret');
    expect(a).not.toBe(b); // salted
    expect(await verifySecret('s3cret', a)).toBe(true);
    expect(await verifySecret('s3creT', a)).toBe(false);
    expect(await verifySecret('s3cret', 'plain-text')).toBe(false);
  });

  it('keeps only hashes in the users file, and signs people in by name and token', async () => {
    const file = join(dir, 'tokens.json');
    const { token } = await addUser(file, { name: 'ana', role: 'operator' });
    await addUser(file, { name: 'lee', role: 'viewer' });
    expect(readFileSync(file, 'utf8')).not.toContain(token);
    const authority = new ConsoleAuthority(await readUsersFile(file), dir);
    expect(await authority.signIn('ana', token)).toEqual({ name: 'ana', role: 'operator' });
    expect(await authority.signIn('lee', token)).toBeUndefined();
    expect(await authority.signIn('nobody', token)).toBeUndefined();
    await expect(addUser(file, { name: 'bad name', role: 'viewer' })).rejects.toThrow(/name/);
  });

  it('names the field of a bad users file', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ users: [{ name: 'x', role: 'admin', secretHash: 'scrypt$a$b' }] }));
    await expect(readUsersFile(file)).rejects.toThrow(/bad\.json: users\.0\.role/);
  });

  it('redeems a one-time login once', async () => {
    const { token } = await issueOneTimeLogin(dir, 'operator');
    expect(await redeemOneTimeLogin(dir, token)).toMatchObject({ role: 'operator' });
    expect(await redeemOneTimeLogin(dir, token)).toBeUndefined();
    const expired = await issueOneTimeLogin(dir, 'operator', Date.now() - 25 * 3600 * 1000);
    expect(await redeemOneTimeLogin(dir, expired.token)).toBeUndefined();
  });

  it('round-trips a session, refuses an expired one, and ties the CSRF token to it', () => {
    const session = newSession({ name: 'ana', role: 'operator' });
    expect(decodeSession(encodeSession(session))).toEqual(session);
    expect(decodeSession(encodeSession({ ...session, expiresAt: Date.now() - 1 }))).toBeUndefined();
    expect(decodeSession('not-base64-json')).toBeUndefined();
    const key = 'k'.repeat(32);
    const token = csrfTokenFor(key, session);
    expect(csrfTokenMatches(key, session, token)).toBe(true);
    expect(csrfTokenMatches(key, newSession({ name: 'ana', role: 'operator' }), token)).toBe(false);
    expect(csrfTokenMatches(key, session, undefined)).toBe(false);
  });

  it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '10.0.0.5', '::', 'example.com']) expect(isLoopbackHost(host)).toBe(false);
  });

  it('escapes every interpolated value in pages', () => {
    const name = `<script>alert("x")</script>&'`;
    expect(html`<p title="${name}">${name}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
  });
});
