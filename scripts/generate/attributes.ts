/**
 * Planted customer attributes for a generated dataset (issue 14, item 1): a customers table in a client's
 * own column names, some attributes with a known effect on spend and some with none, and a few bad values,
 * written beside the generated transactions with the `attributes` config that maps it.
 *
 * With an effect, driven by the customer's true spend rate d = log(lambda x mean spend) (BG/NBD purchase
 * rate times Gamma-Gamma mean order value, truth_customers.csv), standardised to z:
 * - membership (dimension): gold / silver / bronze by the rank of d, 25% of customers reassigned at random;
 * - income (measure): 40,000 + 8,000 z + Normal(0, 8,000).
 * With none (drawn independently of everything else):
 * - favourite_colour (dimension, 5 levels), shoe_size (measure, Normal(40, 3)), newsletter (boolean).
 * Bad values, quarantined by ingest with their reason: every 97th customer's income is "n/a", every 89th's
 * newsletter "maybe".
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mean, sampleVariance } from '../../lib/numeric/statistics';
import { Rng, deriveSeed } from '../../lib/random';
import type { RunConfigInput } from '../../lib/config';

export const PLANTED_WITH_EFFECT = ['membership', 'income'] as const;
export const PLANTED_WITHOUT_EFFECT = ['favourite_colour', 'shoe_size', 'newsletter'] as const;

export interface PlantedAttributes {
  /** The customers CSV (client column names). */
  path: string;
  /** The `attributes` config layer that maps it. */
  config: RunConfigInput;
  withEffect: readonly string[];
  withoutEffect: readonly string[];
  /** Bad values written, per attribute. */
  badValues: Record<string, number>;
  rows: number;
}

const COLOURS = ['red', 'green', 'blue', 'black', 'white'];
const TIERS = ['bronze', 'silver', 'gold'];

/** The spend driver d = log(rate x mean spend) per customer of truth_customers.csv, in file order, with its mean and sd. */
export interface SpendDrivers {
  ids: string[];
  drivers: Float64Array;
  center: number;
  scale: number;
}

/** Reads the spend drivers the planted attributes and extension columns are tied to. */
export function readSpendDrivers(outDir: string): SpendDrivers {
  const lines = readFileSync(join(outDir, 'truth_customers.csv'), 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const idAt = header.indexOf('customer_id');
  const spendAt = header.indexOf('mean_spend');
  const rateAt = header.indexOf('lambda_weekly');
  if (idAt < 0 || spendAt < 0 || rateAt < 0)
    throw new Error('truth_customers.csv lacks customer_id, mean_spend or lambda_weekly');
  const rows = lines.slice(1).map((line) => line.split(','));
  const drivers = Float64Array.from(rows, (c) => Math.log(Number(c[spendAt]) * Number(c[rateAt])));
  const center = mean(drivers);
  return {
    ids: rows.map((c) => c[idAt]),
    drivers,
    center,
    scale: Math.sqrt(sampleVariance(drivers, center)),
  };
}

/**
 * Writes <outDir>/customers/customers.csv (or `options.targetDir`) from <outDir>/truth_customers.csv, ids
 * as written there or mapped by `options.customerId` (the RetailRocket fixture's numeric visitor ids). Same
 * inputs and seed, same bytes.
 */
export function writePlantedAttributes(
  outDir: string,
  seed: number,
  options: { targetDir?: string; customerId?: (id: string) => string } = {},
): PlantedAttributes {
  const { ids, drivers, center, scale } = readSpendDrivers(outDir);
  const customers = ids.map((id, i) => ({ id, driver: drivers[i] }));
  const byRank = customers
    .map((c, i) => ({ i, spend: c.driver }))
    .sort((a, b) => a.spend - b.spend || a.i - b.i);
  const tierOf = new Int32Array(customers.length);
  for (const [rank, { i }] of byRank.entries())
    tierOf[i] = Math.min(2, Math.floor((3 * rank) / customers.length));
  const rng = new Rng(deriveSeed(seed, 0xa77));
  const badValues = { income: 0, newsletter: 0 };
  const rows = customers.map((c, i) => {
    const tier = rng.uniform() < 0.25 ? rng.int(3) : tierOf[i];
    const income = 40_000 + (8_000 * (c.driver - center)) / scale + rng.normal(0, 8_000);
    const colour = COLOURS[rng.int(COLOURS.length)];
    const shoe = rng.normal(40, 3);
    const newsletter = rng.uniform() < 0.4 ? 'yes' : 'no';
    const badIncome = i % 97 === 96;
    const badNewsletter = i % 89 === 88;
    if (badIncome) badValues.income++;
    if (badNewsletter) badValues.newsletter++;
    return [
      options.customerId ? options.customerId(c.id) : c.id,
      TIERS[tier],
      badIncome ? 'n/a' : income.toFixed(0),
      colour,
      shoe.toFixed(1),
      badNewsletter ? 'maybe' : newsletter,
    ].join(',');
  });
  const dir = options.targetDir ?? join(outDir, 'customers');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'customers.csv');
  writeFileSync(
    path,
    ['ClientNo,Membership Tier,Income,FavColour,ShoeSize,Newsletter', ...rows].join('\n') + '\n',
  );
  return {
    path,
    config: {
      attributes: {
        customers: {
          idColumn: 'ClientNo',
          fields: [
            { name: 'membership', column: 'Membership Tier', type: 'string', role: 'dimension' },
            { name: 'income', column: 'Income', type: 'number', role: 'measure' },
            { name: 'favourite_colour', column: 'FavColour', type: 'string', role: 'dimension' },
            { name: 'shoe_size', column: 'ShoeSize', type: 'number', role: 'measure' },
            { name: 'newsletter', column: 'Newsletter', type: 'boolean', role: 'dimension' },
          ],
        },
      },
    },
    withEffect: PLANTED_WITH_EFFECT,
    withoutEffect: PLANTED_WITHOUT_EFFECT,
    badValues,
    rows: customers.length,
  };
}
