/**
 * Planted segmentation scenarios made outside scripts/generate: canonical transactions for N customers
 * whose true group is known, so the segment stage can be judged on data it was not tuned to.
 *
 * Every customer's purchase rhythm follows BG/NBD (Fader, Hardie and Lee 2005): lambda ~ Gamma(r, alpha)
 * orders per day, dropout p ~ Beta(a, b) after each order, first order uniform over the first 18 months.
 * Every order's value follows Gamma-Gamma (Fader, Hardie and Lee 2005b): nu ~ Gamma(q, gamma), order
 * value ~ Gamma(p, nu). What an order holds is the group's habit: lines ~ 1 + Poisson(lines - 1), units
 * per line ~ 1 + Poisson(units - 1), the category of each line from the group's category mix, its weekday
 * from the group's weekday habit and its hour from the group's hour habit. Unit prices split the order
 * value over the lines by each product's list-price weight, so amounts sum to the Gamma-Gamma value.
 *
 * Scenarios (what separates the groups):
 *  (a) behaviour only: basket, category mix, weekday and hour; rhythm and spend from one common population.
 *  (b) value and rhythm: BG/NBD and Gamma-Gamma parameters differ; basket, mix and habits are common.
 *  (c) a mix with unequal shares (45/30/17/8): two groups differ only in category mix, one in rhythm and
 *      value, and a small one (8%) in basket size and mix.
 */
import { writeFile } from 'node:fs/promises';
import type { Duck } from '../../../lib/duck';
import { sqlString } from '../../../lib/duck';
import { Rng } from '../../../lib/random';

export const PLANTED_CATEGORIES = [
  'home',
  'kitchen',
  'party',
  'stationery',
  'gifts',
  'toys',
  'crafts',
  'garden',
] as const;

/** BG/NBD purchase rhythm (lambda per day). */
export interface RhythmParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** Gamma-Gamma order value. */
export interface SpendParams {
  p: number;
  q: number;
  gamma: number;
}

export interface PlantedGroup {
  name: string;
  share: number;
  rhythm: RhythmParams;
  spend: SpendParams;
  /** Mean lines per order (>= 1). */
  lines: number;
  /** Mean units per line (>= 1). */
  units: number;
  /** Relative weight of each of PLANTED_CATEGORIES. */
  categoryMix: readonly number[];
  /** Relative weight of each weekday, Monday first. */
  weekdays: readonly number[];
  /** Mean hour of day (UTC) of the orders; sd 1.5 h. */
  hour: number;
}

export interface PlantedScenario {
  name: string;
  groups: readonly PlantedGroup[];
}

const COMMON_RHYTHM: RhythmParams = { r: 0.9, alpha: 45, a: 0.8, b: 4 };
const COMMON_SPEND: SpendParams = { p: 6, q: 4, gamma: 30 };
const COMMON_MIX = [1, 1, 1, 1, 1, 1, 1, 1];
const EVEN_WEEK = [1, 1, 1, 1, 1, 0.7, 0.7];

/** A category mix with most weight on the named categories. */
function mixOn(...favourites: (typeof PLANTED_CATEGORIES)[number][]): number[] {
  return PLANTED_CATEGORIES.map((c) => (favourites.includes(c) ? 8 : 0.4));
}

export const SCENARIO_BEHAVIOUR: PlantedScenario = {
  name: 'a: behaviour only',
  groups: [
    {
      name: 'small home baskets',
      share: 0.4,
      rhythm: COMMON_RHYTHM,
      spend: COMMON_SPEND,
      lines: 3,
      units: 1.5,
      categoryMix: mixOn('home', 'kitchen'),
      weekdays: [0.3, 0.3, 0.3, 0.3, 0.5, 3, 3],
      hour: 19,
    },
    {
      name: 'bulk party stockers',
      share: 0.3,
      rhythm: COMMON_RHYTHM,
      spend: COMMON_SPEND,
      lines: 12,
      units: 6,
      categoryMix: mixOn('party', 'stationery'),
      weekdays: [3, 3, 0.5, 0.5, 0.5, 0.1, 0.1],
      hour: 10,
    },
    {
      name: 'gift buyers',
      share: 0.2,
      rhythm: COMMON_RHYTHM,
      spend: COMMON_SPEND,
      lines: 5,
      units: 2,
      categoryMix: mixOn('gifts', 'toys'),
      weekdays: [0.5, 0.5, 0.5, 1, 4, 1, 0.5],
      hour: 13,
    },
    {
      name: 'crafters',
      share: 0.1,
      rhythm: COMMON_RHYTHM,
      spend: COMMON_SPEND,
      lines: 20,
      units: 1,
      categoryMix: mixOn('crafts', 'garden'),
      weekdays: [0.5, 0.5, 3, 3, 0.5, 0.3, 0.3],
      hour: 21,
    },
  ],
};

export const SCENARIO_VALUE_RHYTHM: PlantedScenario = {
  name: 'b: value and rhythm',
  groups: [
    {
      name: 'frequent small spenders',
      share: 0.45,
      rhythm: { r: 10, alpha: 100, a: 1, b: 20 },
      spend: { p: 8, q: 6, gamma: 60 },
      lines: 4,
      units: 2,
      categoryMix: COMMON_MIX,
      weekdays: EVEN_WEEK,
      hour: 14,
    },
    {
      name: 'occasional mid spenders',
      share: 0.35,
      rhythm: { r: 10, alpha: 500, a: 1, b: 20 },
      spend: { p: 8, q: 6, gamma: 400 },
      lines: 4,
      units: 2,
      categoryMix: COMMON_MIX,
      weekdays: EVEN_WEEK,
      hour: 14,
    },
    {
      name: 'rare big-ticket buyers',
      share: 0.2,
      rhythm: { r: 10, alpha: 2500, a: 1, b: 20 },
      spend: { p: 8, q: 6, gamma: 3000 },
      lines: 4,
      units: 2,
      categoryMix: COMMON_MIX,
      weekdays: EVEN_WEEK,
      hour: 14,
    },
  ],
};

export const SCENARIO_MIX: PlantedScenario = {
  name: 'c: unequal mix',
  groups: [
    {
      name: 'home regulars',
      share: 0.45,
      rhythm: COMMON_RHYTHM,
      spend: COMMON_SPEND,
      lines: 3,
      units: 2,
      categoryMix: mixOn('home', 'kitchen', 'garden'),
      weekdays: EVEN_WEEK,
      hour: 14,
    },
    {
      name: 'gift and toy buyers',
      share: 0.3,
      rhythm: COMMON_RHYTHM,
      spend: COMMON_SPEND,
      lines: 12,
      units: 1,
      categoryMix: mixOn('gifts', 'toys', 'crafts'),
      weekdays: EVEN_WEEK,
      hour: 14,
    },
    {
      name: 'frequent high spenders',
      share: 0.17,
      rhythm: { r: 10, alpha: 100, a: 1, b: 20 },
      spend: { p: 8, q: 6, gamma: 400 },
      lines: 5,
      units: 2,
      categoryMix: COMMON_MIX,
      weekdays: EVEN_WEEK,
      hour: 14,
    },
    {
      name: 'wholesale stationery',
      share: 0.08,
      rhythm: COMMON_RHYTHM,
      spend: { p: 6, q: 4, gamma: 300 },
      lines: 30,
      units: 10,
      categoryMix: mixOn('stationery', 'party'),
      weekdays: EVEN_WEEK,
      hour: 14,
    },
  ],
};

export const PLANTED_SCENARIOS: readonly PlantedScenario[] = [
  SCENARIO_BEHAVIOUR,
  SCENARIO_VALUE_RHYTHM,
  SCENARIO_MIX,
];

const START_MS = Date.UTC(2023, 0, 1);
const WINDOW_DAYS = 731; // 2023-01-01 .. 2024-12-31
const BIRTH_DAYS = 548; // first orders over the first 18 months
export const PLANTED_CUTOFF = '2024-12-31T23:59:59.999Z';
const DAY_MS = 86_400_000;
const PRODUCTS_PER_CATEGORY = 40;

function pick(rng: Rng, weights: readonly number[], total: number): number {
  let u = rng.uniform() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);

/** Group sizes that sum to `customers`, by largest remainder of the shares. */
export function groupSizes(scenario: PlantedScenario, customers: number): number[] {
  const exact = scenario.groups.map((g) => g.share * customers);
  const sizes = exact.map(Math.floor);
  const order = exact
    .map((x, i) => [x - Math.floor(x), i] as const)
    .sort((p, q) => q[0] - p[0] || p[1] - q[1]);
  for (let r = 0; sum(sizes) < customers; r++) sizes[order[r % order.length][1]]++;
  return sizes;
}

/** The transactions as CSV text (clean stage columns) and the true group of every customer. */
export function plantedTransactionsCsv(
  scenario: PlantedScenario,
  customers: number,
  seed: number,
): { csv: string; truth: Map<string, number>; orders: number } {
  const rng = new Rng(seed);
  // One list price weight per product, shared by every group (a catalogue).
  const listPrice = Array.from({ length: PLANTED_CATEGORIES.length * PRODUCTS_PER_CATEGORY }, () =>
    rng.gamma(3, 1),
  );
  const sizes = groupSizes(scenario, customers);
  const truth = new Map<string, number>();
  const out: string[] = [
    'customer_id,order_id,ts,product_id,category,quantity,unit_price,amount,country,is_return,is_outlier,line_kind',
  ];
  // Customers are interleaved by a seeded shuffle so ids carry no group order.
  const groupOf: number[] = [];
  sizes.forEach((n, g) => {
    for (let i = 0; i < n; i++) groupOf.push(g);
  });
  rng.shuffle(groupOf);
  let orders = 0;
  groupOf.forEach((g, c) => {
    const group = scenario.groups[g];
    const id = `P${String(c).padStart(6, '0')}`;
    truth.set(id, g);
    const { r, alpha, a, b } = group.rhythm;
    const lambda = rng.gamma(r, alpha);
    const dropout = rng.beta(a, b);
    const nu = rng.gamma(group.spend.q, group.spend.gamma);
    const mixTotal = sum(group.categoryMix);
    const weekTotal = sum(group.weekdays);
    let t = rng.uniform() * BIRTH_DAYS;
    for (let o = 0; t < WINDOW_DAYS; o++) {
      // The order's day moves to the nearest day (within 3) of a weekday drawn from the habit.
      const day = Math.floor(t);
      const weekday = (new Date(START_MS + day * DAY_MS).getUTCDay() + 6) % 7; // Monday = 0
      const wanted = pick(rng, group.weekdays, weekTotal);
      let shift = (wanted - weekday + 7) % 7;
      if (shift > 3) shift -= 7;
      const orderDay = Math.min(WINDOW_DAYS - 1, Math.max(0, day + shift));
      const hour = Math.min(23.9, Math.max(0, rng.normal(group.hour, 1.5)));
      const ts = new Date(START_MS + orderDay * DAY_MS + Math.floor(hour * 3_600_000));
      const stamp = ts.toISOString().slice(0, 19).replace('T', ' ');
      const value = rng.gamma(group.spend.p, nu);
      const lines = 1 + rng.poisson(group.lines - 1);
      const products: number[] = [];
      const quantities: number[] = [];
      let weight = 0;
      for (let l = 0; l < lines; l++) {
        const category = pick(rng, group.categoryMix, mixTotal);
        const product = category * PRODUCTS_PER_CATEGORY + rng.int(PRODUCTS_PER_CATEGORY);
        const quantity = 1 + rng.poisson(group.units - 1);
        products.push(product);
        quantities.push(quantity);
        weight += quantity * listPrice[product];
      }
      const orderId = `${id}-${o}`;
      for (let l = 0; l < lines; l++) {
        const product = products[l];
        const unitPrice = Math.max(0.01, Math.round((value * listPrice[product] * 100) / weight) / 100);
        const quantity = quantities[l];
        const category = PLANTED_CATEGORIES[Math.floor(product / PRODUCTS_PER_CATEGORY)];
        const amount = Math.round(quantity * unitPrice * 100) / 100;
        out.push(
          `${id},${orderId},${stamp},SKU${product},${category},${quantity},${unitPrice},${amount},GB,false,false,merchandise`,
        );
      }
      orders++;
      if (rng.uniform() < dropout) break;
      t += rng.exponential(lambda);
    }
  });
  return { csv: out.join('\n') + '\n', truth, orders };
}

/**
 * Creates table `transactions` (the clean stage's columns) in `duck` from the planted scenario, through a
 * CSV file at `csvPath`. Returns the true group of every customer.
 */
export async function createPlantedTransactions(
  duck: Duck,
  scenario: PlantedScenario,
  options: { customers: number; seed: number; csvPath: string },
): Promise<{ truth: Map<string, number>; orders: number }> {
  const { csv, truth, orders } = plantedTransactionsCsv(scenario, options.customers, options.seed);
  await writeFile(options.csvPath, csv);
  await duck.run(`CREATE OR REPLACE TABLE transactions AS
    SELECT customer_id, order_id, ts::TIMESTAMP AS ts, product_id, NULL::VARCHAR AS product_name, category,
           quantity::INTEGER AS quantity, unit_price::DOUBLE AS unit_price, amount::DOUBLE AS amount, country,
           is_return::BOOLEAN AS is_return, is_outlier::BOOLEAN AS is_outlier, line_kind
    FROM read_csv(${sqlString(options.csvPath)}, header = true, all_varchar = true)`);
  return { truth, orders };
}
