/**
 * Segment migration: how customers moved between personas from the previous month's run to this one.
 * Rows are previous personas plus "(new)" (customers absent last month); columns are current personas plus
 * "(gone)" (customers absent this month). Personas are matched by name, since cluster numbers are not
 * comparable across runs while the rule-based names are.
 */

/** Row label of customers who were not in the previous run. */
export const NEW_CUSTOMERS = '(new)';
/** Column label of customers who are not in the current run. */
export const GONE_CUSTOMERS = '(gone)';

/** Persona of each customer in one run (parallel arrays). */
export interface PersonaLabelling {
  customerIds: readonly string[];
  personas: readonly string[];
}

/** Counts of customers moving from each previous persona (rows) to each current persona (columns). */
export interface MigrationMatrix {
  /** Row labels: previous personas, then NEW_CUSTOMERS. */
  from: string[];
  /** Column labels: current personas, then GONE_CUSTOMERS. */
  to: string[];
  /** counts[r][c]: customers in row persona r last month and column persona c now. */
  counts: number[][];
  /** counts divided by the row total (rows with no customers are all 0). */
  rowShares: number[][];
  /** Customers in both runs with the same persona name. */
  stayed: number;
  /** Customers in both runs with a different persona name. */
  moved: number;
  newCustomers: number;
  goneCustomers: number;
}

/**
 * The migration matrix between two runs. Persona order: names listed in `order` first (e.g. the current
 * run's personas by size), then the rest in code-point order, so the layout is deterministic.
 */
export function migrationMatrix(
  previous: PersonaLabelling,
  current: PersonaLabelling,
  options: { order?: readonly string[] } = {},
): MigrationMatrix {
  const prev = toMap(previous, 'previous');
  const curr = toMap(current, 'current');
  const order = options.order ?? [];
  const rank = (name: string): number => {
    const i = order.indexOf(name);
    return i < 0 ? order.length : i;
  };
  const sortNames = (names: Set<string>): string[] =>
    [...names].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const from = [...sortNames(new Set(prev.values())), NEW_CUSTOMERS];
  const to = [...sortNames(new Set(curr.values())), GONE_CUSTOMERS];
  const rowOf = new Map(from.map((name, i) => [name, i]));
  const colOf = new Map(to.map((name, i) => [name, i]));
  const counts = from.map(() => new Array<number>(to.length).fill(0));
  let stayed = 0;
  let moved = 0;
  let newCustomers = 0;
  let goneCustomers = 0;
  for (const [id, now] of curr) {
    const before = prev.get(id);
    if (before === undefined) {
      newCustomers++;
      counts[from.length - 1][colOf.get(now)!]++;
    } else {
      if (before === now) stayed++;
      else moved++;
      counts[rowOf.get(before)!][colOf.get(now)!]++;
    }
  }
  for (const [id, before] of prev) {
    if (curr.has(id)) continue;
    goneCustomers++;
    counts[rowOf.get(before)!][to.length - 1]++;
  }
  const rowShares = counts.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((c) => (total > 0 ? c / total : 0));
  });
  return { from, to, counts, rowShares, stayed, moved, newCustomers, goneCustomers };
}

function toMap(labelling: PersonaLabelling, which: string): Map<string, string> {
  const { customerIds, personas } = labelling;
  if (customerIds.length !== personas.length) {
    throw new Error(
      `migration: ${which} has ${customerIds.length} customer ids but ${personas.length} personas`,
    );
  }
  const map = new Map<string, string>();
  for (let i = 0; i < customerIds.length; i++) {
    const id = customerIds[i];
    const persona = personas[i];
    if (persona === NEW_CUSTOMERS || persona === GONE_CUSTOMERS) {
      throw new Error(`migration: ${which} persona of customer ${id} uses the reserved label ${persona}`);
    }
    if (map.has(id)) throw new Error(`migration: ${which} lists customer ${id} twice (row ${i})`);
    map.set(id, persona);
  }
  return map;
}
