/**
 * Planted extension columns for a generated dataset (issue 14, item 1): extra columns appended to the
 * generated transactions and events files, some with a known effect on spend and some with none, plus a few
 * bad values, and the `attributes` config that declares them. With `writePlantedAttributes` (the customers
 * table) it makes the "open inputs" dataset of `custflow data generate --attributes`.
 *
 * Driven by the customer's true spend rate d = log(lambda x mean spend) from truth_customers.csv, standardised
 * to z (the same driver as the planted customer attributes):
 * - transactions `Channel` -> channel (dimension, with an effect): each customer prefers app (top third of
 *   d), web (middle) or store (bottom third), 25% of customers reassigned at random; each line is in the
 *   preferred channel with probability 0.7, else any of the three;
 * - events `DwellSeconds` -> dwell_seconds (measure, with an effect): Normal(40 + 12 z, 15) per event, at
 *   least 1.
 * With none (drawn independently of everything else):
 * - transactions discount_pct (measure, Uniform(0, 30)) and GiftWrap -> gift_wrap (boolean, 10% yes);
 * - events device (dimension: mobile 60%, desktop 35%, tablet 5%).
 * Bad values (NULL with their reason after ingest): every 211th transaction line's discount_pct is "n/a", every
 * 307th event's dwell "long". Lines without a customer (planted dirty rows) draw every column at random.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSpendDrivers } from './attributes';
import { Rng, deriveSeed } from '../../lib/random';
import type { RunConfigInput } from '../../lib/config';

export const PLANTED_EXTENSIONS_WITH_EFFECT = ['ext_channel', 'ext_dwell_seconds'] as const;
export const PLANTED_EXTENSIONS_WITHOUT_EFFECT = ['ext_discount_pct', 'ext_gift_wrap', 'ext_device'] as const;

export interface PlantedExtensions {
  /** The `attributes.transactions` and `attributes.events` config layer that declares the columns. */
  config: RunConfigInput;
  withEffect: readonly string[];
  withoutEffect: readonly string[];
  /** Bad values written, per field name. */
  badValues: { discount_pct: number; dwell_seconds: number };
  /** Lines rewritten per table. */
  rows: { transactions: number; events: number };
}

const CHANNELS = ['store', 'web', 'app'];

/** Standardised spend driver per customer id (log of rate x mean spend, from truth_customers.csv). */
export function spendDriverZ(outDir: string): Map<string, number> {
  const { ids, drivers, center, scale } = readSpendDrivers(outDir);
  return new Map(ids.map((id, i) => [id, (drivers[i] - center) / scale]));
}

/** The customer id of a canonical CSV line (the first field; generated ids hold no comma or quote). */
const customerOf = (line: string): string => line.slice(0, line.indexOf(','));

/**
 * Appends the columns to every file of `<outDir>/<table>/` in place, in file order. A line repeated verbatim
 * (a planted duplicate) gets the same cells, so it stays an exact duplicate.
 */
function appendColumns(
  outDir: string,
  table: 'transactions' | 'events',
  header: string,
  cells: (customer: string) => string,
): { rows: number; cells: string[] } {
  let rows = 0;
  const written: string[] = [];
  const seen = new Map<string, string>();
  const dir = join(outDir, table);
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const lines = readFileSync(path, 'utf8').split('\n');
    const out = lines.map((line, i) => {
      if (i === 0) return `${line},${header}`;
      if (line === '') return line;
      rows++;
      const appended = seen.get(line) ?? cells(customerOf(line));
      seen.set(line, appended);
      written.push(appended);
      return `${line},${appended}`;
    });
    writeFileSync(path, out.join('\n'));
  }
  return { rows, cells: written };
}

/**
 * Rewrites the generated transactions (and events, when written) of `outDir` with the planted columns.
 * Same inputs and seed, same bytes.
 */
export function writePlantedExtensions(outDir: string, seed: number): PlantedExtensions {
  const z = spendDriverZ(outDir);
  const ids = [...z.keys()];
  const byDriver = [...ids].sort((a, b) => z.get(a)! - z.get(b)! || (a < b ? -1 : 1));
  const rng = new Rng(deriveSeed(seed, 0xe47));
  const preferred = new Map<string, number>();
  for (const [rank, id] of byDriver.entries()) {
    const tercile = Math.min(2, Math.floor((3 * rank) / byDriver.length));
    preferred.set(id, rng.uniform() < 0.25 ? rng.int(3) : tercile);
  }
  let line = 0;
  const transactions = appendColumns(outDir, 'transactions', 'Channel,discount_pct,GiftWrap', (customer) => {
    line++;
    const prefers = preferred.get(customer);
    const channel = prefers !== undefined && rng.uniform() < 0.7 ? CHANNELS[prefers] : CHANNELS[rng.int(3)];
    const bad = line % 211 === 0;
    const discount = bad ? 'n/a' : (rng.uniform() * 30).toFixed(1);
    const gift = rng.uniform() < 0.1 ? 'yes' : 'no';
    return `${channel},${discount},${gift}`;
  });
  let events = { rows: 0, cells: [] as string[] };
  let event = 0;
  if (readdirSync(outDir).includes('events')) {
    events = appendColumns(outDir, 'events', 'DwellSeconds,device', (customer) => {
      event++;
      const driver = z.get(customer) ?? rng.normal();
      const bad = event % 307 === 0;
      const dwell = bad ? 'long' : Math.max(1, rng.normal(40 + 12 * driver, 15)).toFixed(1);
      const u = rng.uniform();
      const device = u < 0.6 ? 'mobile' : u < 0.95 ? 'desktop' : 'tablet';
      return `${dwell},${device}`;
    });
  }
  // Counted as written: a duplicated bad line is two bad values.
  const badValues = {
    discount_pct: transactions.cells.filter((c) => c.includes(',n/a,')).length,
    dwell_seconds: events.cells.filter((c) => c.startsWith('long,')).length,
  };
  const withEvents = events.rows > 0;
  return {
    config: {
      attributes: {
        transactions: {
          fields: [
            { name: 'channel', column: 'Channel', type: 'string', role: 'dimension' },
            { name: 'discount_pct', type: 'number', role: 'measure' },
            { name: 'gift_wrap', column: 'GiftWrap', type: 'boolean', role: 'dimension' },
          ],
        },
        ...(withEvents
          ? {
              events: {
                fields: [
                  { name: 'dwell_seconds', column: 'DwellSeconds', type: 'number', role: 'measure' },
                  { name: 'device', type: 'string', role: 'dimension' },
                ],
              },
            }
          : {}),
      },
    },
    withEffect: withEvents ? PLANTED_EXTENSIONS_WITH_EFFECT : ['ext_channel'],
    withoutEffect: withEvents ? PLANTED_EXTENSIONS_WITHOUT_EFFECT : ['ext_discount_pct', 'ext_gift_wrap'],
    badValues,
    rows: { transactions: transactions.rows, events: events.rows },
  };
}
