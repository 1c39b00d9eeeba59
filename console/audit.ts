/**
 * The console's audit log: one JSON object per action (who, what, when, with what result), written to the
 * bucket next to the runs at runs/_audit/<YYYY-MM-DD>/<HHMMSSmmm>-<id>.json. One object per entry, never
 * appended to, so concurrent consoles cannot overwrite each other and a listing by date is a prefix list.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../lib/objectStore';
import type { ConsoleUser } from './auth';

export interface AuditEntry {
  at: string;
  user: string;
  role: ConsoleUser['role'];
  action: string;
  /** What was asked for (the request body as checked; never a secret: actions take none). */
  request: Record<string, unknown>;
  result: { ok: true; started?: Record<string, unknown> } | { ok: false; status: number; error: string };
  /** The client address as the server saw it. */
  from?: string;
}

export const AUDIT_PREFIX = 'runs/_audit/';

export function auditKey(at: Date, id = randomBytes(6).toString('hex')): string {
  const iso = at.toISOString(); // 2026-12-03T10:41:05.123Z
  const date = iso.slice(0, 10);
  const time = iso.slice(11, 23).replaceAll(':', '').replace('.', '');
  return `${AUDIT_PREFIX}${date}/${time}-${id}.json`;
}

export async function writeAudit(store: ObjectStore, entry: AuditEntry): Promise<string> {
  const key = auditKey(new Date(entry.at));
  await store.putJson(key, entry);
  return key;
}

/** The newest `limit` entries, newest first. */
export async function readAudit(store: ObjectStore, limit = 50): Promise<AuditEntry[]> {
  const objects = await store.list(AUDIT_PREFIX);
  const newest = objects.sort((a, b) => (a.key < b.key ? 1 : -1)).slice(0, limit);
  const entries: AuditEntry[] = [];
  for (const object of newest) entries.push(await store.getJson<AuditEntry>(object.key));
  return entries;
}
