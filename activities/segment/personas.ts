/**
 * Personas: a name, a one-line description that quotes the numbers, and suggested actions for every
 * segment, the way segmentation studies present them ("High-value loyal: buy 3.2x as often as the median
 * customer, last order 12 days ago; 41% of revenue from 18% of customers").
 *
 * Each segment is summarised by its typical member (per-feature median, original units) and compared with
 * the population. A feature is 'high' when the segment value is above the population median and reaches
 * the population's upper quartile (1.5 x median when quartiles are not given), 'low' when below the median
 * and down to the lower quartile (median / 1.5). Recency is in days, so 'low' recency means recent; 'high'
 * recency (lapsed) also needs at least 30 days. Rates have absolute floors (returns 20%, discounts 30%)
 * so a population median of 0 does not make every positive value 'high'.
 *
 * Naming rules (personaRules.ts holds them as data; a dataset config may replace or rename them), first
 * match wins (missing optional features make their rule not match):
 *  1. High-value loyal       not lapsed, frequency high, spend high
 *  2. At-risk big spenders   lapsed, spend, frequency or order value high
 *  3. Lapsed one-timers      lapsed, typical member ordered once
 *  4. Hibernating            lapsed otherwise
 *  5. Serial returners       return rate high (and >= 20%)
 *  6. New promising          new: tenure low; without tenure, a one-timer or low frequency whose last
 *                            order is more recent than the population median
 *  7. Cooling regulars       frequency high, spend trend <= -25%
 *  8. Big-ticket occasionals spend or order value high, frequency not high
 *  9. Bargain browsers       order value low or discount share high, spend not high
 * 10. Bulk buyers            items per order high, frequency not high
 * 11. Category explorers     distinct categories high, spend not high
 * 12. Window shoppers        share of sessions without a purchase high (and >= 50%), frequency not high
 * 13. Steady regulars        frequency at or above the median and not a one-timer
 * 14. Occasional shoppers    everything else
 * Per customer, one rule overrides the segment's name: a customer whose net revenue is at or below zero
 * (every purchase returned or cancelled, e.g. Online Retail's 12346, who bought 74,215 units and returned
 * them the same day) is "No net purchase", whatever segment the clustering put them in: naming them after
 * their segment ("Steady regulars") would present someone who kept nothing as a regular customer.
 * Two segments with the same name get a spend qualifier ("(higher spend)", "(lower spend)", or
 * "(spend tier i)" for three or more), ordered by revenue per customer; a numeric suffix settles any rest.
 */

import {
  DEFAULT_PERSONA_RULES,
  type PersonaRule,
  type PersonaSettings,
} from '../../lib/stageConfig/segmentPersonas';
import { matchPersonaRule, type PersonaTraitValues } from './personaRules';
import { quantileInPlace } from './quantile';

/** Customer features the persona rules understand, in original units. Only R, F and M are required. */
export interface PersonaFeatures {
  /** Days since the last order at the cutoff. */
  recencyDays: number;
  /** Orders over the history. */
  frequency: number;
  /** Net revenue over the history. */
  monetaryTotal: number;
  /** Mean order value. */
  avgOrderValue?: number;
  /** Days since the first order. */
  tenureDays?: number;
  /** Share of purchased value returned, 0..1. */
  returnRate?: number;
  /** Relative change of spend, recent window over the one before (0.25 = +25%). */
  spendTrend?: number;
  /** Share of orders bought with a discount, 0..1. */
  discountShare?: number;
  /** Distinct product categories bought. */
  distinctCategories?: number;
  /** Items (units) per order: basket size. */
  itemsPerOrder?: number;
  /** Share of sessions that ended without a purchase, 0..1 (browsing). */
  browseOnlyShare?: number;
}

/** One column per feature, one value per customer (same row order as the labels). */
export type PersonaColumns = { [K in keyof PersonaFeatures]: ArrayLike<number> };

/** A segment as the persona rules see it. */
export interface SegmentProfile {
  /** Segment label (cluster index). */
  segment: number;
  customers: number;
  /** Sum of monetaryTotal over the segment's customers. */
  revenue: number;
  /** Typical member: per-feature medians in original units. */
  typical: PersonaFeatures;
}

/** The population the segments are compared with. */
export interface PopulationProfile {
  customers: number;
  revenue: number;
  median: PersonaFeatures;
  /** Lower and upper quartiles (optional; sharpen 'low' and 'high'). */
  p25?: Partial<PersonaFeatures>;
  p75?: Partial<PersonaFeatures>;
}

/** Where a segment sits relative to the population on one feature. */
export type Level = 'low' | 'typical' | 'high';

/** The feature levels a persona's name was derived from (null: feature not supplied). */
export interface PersonaTraits {
  recency: Level;
  frequency: Level;
  monetary: Level;
  avgOrderValue: Level | null;
  tenure: Level | null;
  returnRate: Level | null;
  discountShare: Level | null;
  spendTrend: 'declining' | 'flat' | 'growing' | null;
  oneTimer: boolean;
  /** Items per order, distinct categories, share of sessions without a purchase (null: not supplied). */
  basketSize: Level | null;
  categoryBreadth: Level | null;
  browsing: Level | null;
}

/** A named segment, ready for a report or a CRM export. */
export interface Persona {
  segment: number;
  /** Unique name within the run. */
  name: string;
  /** The rule's name before de-duplication (stable across runs, for migration tables). */
  baseName: string;
  /** One line quoting the numbers. */
  description: string;
  /** Two or three suggested actions. */
  actions: string[];
  /** Share of customers, 0..1. */
  customerShare: number;
  /** Share of revenue, 0..1 (0 when total revenue is not positive). */
  revenueShare: number;
  traits: PersonaTraits;
}

const ACTIONS: Record<string, string[]> = {
  'High-value loyal': [
    'Enrol in a VIP or loyalty tier with early access to new ranges',
    'Ask for reviews and referrals; avoid blanket discounts',
    'Cross-sell premium and complementary categories',
  ],
  'At-risk big spenders': [
    'Send a personal win-back offer before they lapse for good',
    'Survey for the reason they stopped (service, price, assortment)',
    'Remind them of loyalty points or benefits they hold',
  ],
  'Lapsed one-timers': [
    'Run a low-cost reactivation e-mail with a first-repeat-order incentive',
    'Suppress from paid retargeting if reactivation fails',
  ],
  Hibernating: [
    'Include in seasonal reactivation campaigns with bestsellers',
    'Test a time-limited discount against a no-offer holdout',
  ],
  'Serial returners': [
    'Improve size guides and product information for the categories they return',
    'Review return policy terms for this group; exclude from free-return promotions',
  ],
  'New promising': [
    'Send an onboarding series that drives the second order within 30 days',
    'Recommend products from their first category',
    'Offer a small incentive for the second purchase',
  ],
  'Cooling regulars': [
    'Trigger a check-in offer while they are still active',
    'Personalise recommendations from their purchase history',
  ],
  'Big-ticket occasionals': [
    'Promote premium ranges and bundles around their purchase occasions',
    'Offer financing or extended warranty on high-value items',
  ],
  'Bargain browsers': [
    'Target with sales, bundles and free-shipping thresholds',
    'Keep them away from full-price premium campaigns; watch margin',
  ],
  'Bulk buyers': [
    'Offer volume pricing, multi-packs and free shipping above their usual basket',
    'Invite to a trade or wholesale account if baskets look like resale',
  ],
  'Category explorers': [
    'Feature new arrivals and cross-category bundles',
    'Recommend from categories they have not tried yet',
  ],
  'Window shoppers': [
    'Retarget browsed items with reminders and back-in-stock alerts',
    'Test a first-purchase incentive on the products they view most',
  ],
  'Steady regulars': [
    'Offer subscriptions or replenishment reminders',
    'Upsell to higher-margin lines to grow basket size',
    'Invite into the loyalty programme',
  ],
  'Occasional shoppers': [
    'Use seasonal and event-driven campaigns',
    'Test frequency incentives (e.g. buy again within 60 days)',
  ],
};

/** The persona of a customer with no net purchase (net revenue <= 0), set per customer over the segment's name. */
export const NO_NET_PURCHASE = 'No net purchase';

/** The decision rule of a customer with no net purchase, as segments.parquet's `rule` and the CRM export show it. */
export const NO_NET_PURCHASE_RULE = `monetary_total <= 0 (every purchase returned or cancelled) -> ${NO_NET_PURCHASE}`;

/** What to do with customers who kept nothing. */
export const NO_NET_PURCHASE_ACTIONS: readonly string[] = [
  'Leave out of value-based campaigns until a purchase is kept',
  'Review why everything was returned (product, service, order error) before any win-back',
];

/** True when a customer's net revenue (monetary_total) is at or below zero, or not a number: nothing was kept. */
export function hasNoNetPurchase(monetaryTotal: number): boolean {
  return !(monetaryTotal > 0);
}

/** Names, descriptions and actions for every segment; names are unique. */
export function describePersonas(
  segments: readonly SegmentProfile[],
  population: PopulationProfile,
  settings: PersonaSettings = {},
): Persona[] {
  if (!(population.customers > 0)) throw new Error('personas: population.customers must be > 0');
  const rules = settings.rules ?? DEFAULT_PERSONA_RULES;
  const personas = segments.map((s): Persona => {
    if (!(s.customers >= 0)) throw new Error(`personas: segment ${s.segment} customers must be >= 0`);
    const traits = traitsOf(s.typical, population);
    const rule = ruleFor(rules, traits, s.typical, population);
    const baseName = settings.names?.[rule.name] ?? rule.name;
    const customerShare = s.customers / population.customers;
    const revenueShare = population.revenue > 0 ? s.revenue / population.revenue : 0;
    return {
      segment: s.segment,
      name: baseName,
      baseName,
      description: describe(s, population, traits, customerShare, revenueShare),
      actions: [...(rule.actions ?? ACTIONS[rule.name] ?? [])],
      customerShare,
      revenueShare,
      traits,
    };
  });
  makeNamesUnique(personas, segments);
  return personas;
}

/**
 * Segment profiles (per-segment medians and revenue) and the population profile (medians, quartiles) from
 * per-customer feature columns in original units and the segment labels 0..k-1.
 */
export function profileSegments(
  columns: PersonaColumns,
  labels: ArrayLike<number>,
  k: number,
): { segments: SegmentProfile[]; population: PopulationProfile } {
  const n = labels.length;
  const keys = (Object.keys(columns) as (keyof PersonaFeatures)[]).filter(
    (key) => columns[key] !== undefined,
  );
  for (const key of keys) {
    const col = columns[key]!;
    if (col.length !== n) throw new Error(`personas: column ${key} has ${col.length} values for ${n} labels`);
  }
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (!(Number.isInteger(c) && c >= 0 && c < k)) {
      throw new Error(`personas: label of row ${i} must be an integer in 0..${k - 1} (got ${c})`);
    }
  }
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) counts[labels[i]]++;
  // Rows grouped by segment once, so each feature's per-segment values are gathered in one pass.
  const start = new Int32Array(k + 1);
  for (let c = 0; c < k; c++) start[c + 1] = start[c] + counts[c];
  const fill = start.slice(0, k);
  const byGroup = new Int32Array(n);
  for (let i = 0; i < n; i++) byGroup[fill[labels[i]]++] = i;

  const typical: Partial<PersonaFeatures>[] = Array.from({ length: k }, () => ({}));
  const median: Partial<PersonaFeatures> = {};
  const p25: Partial<PersonaFeatures> = {};
  const p75: Partial<PersonaFeatures> = {};
  const buffer = new Float64Array(n);
  for (const key of keys) {
    const col = columns[key]!;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (!Number.isFinite(v)) throw new Error(`personas: ${key} must be finite (row ${i} has ${v})`);
      buffer[i] = v;
    }
    for (let c = 0; c < k; c++) {
      const part = new Float64Array(counts[c]);
      for (let r = start[c]; r < start[c + 1]; r++) part[r - start[c]] = buffer[byGroup[r]];
      typical[c][key] = quantileInPlace(part, 0.5);
    }
    // Selection reorders the buffer, which is refilled for the next feature anyway.
    median[key] = quantileInPlace(buffer, 0.5);
    p25[key] = quantileInPlace(buffer, 0.25);
    p75[key] = quantileInPlace(buffer, 0.75);
  }
  const revenue = new Array<number>(k).fill(0);
  let total = 0;
  for (let i = 0; i < n; i++) {
    revenue[labels[i]] += columns.monetaryTotal[i];
    total += columns.monetaryTotal[i];
  }
  return {
    segments: Array.from({ length: k }, (_, c) => ({
      segment: c,
      customers: counts[c],
      revenue: revenue[c],
      typical: complete(typical[c]),
    })),
    population: {
      customers: n,
      revenue: total,
      median: complete(median),
      p25,
      p75,
    },
  };
}

/** The required features are present in every profile built from PersonaColumns (whose R, F, M are required). */
function complete(p: Partial<PersonaFeatures>): PersonaFeatures {
  const { recencyDays, frequency, monetaryTotal } = p;
  if (recencyDays === undefined || frequency === undefined || monetaryTotal === undefined) {
    throw new Error('personas: recencyDays, frequency and monetaryTotal columns are required');
  }
  return { ...p, recencyDays, frequency, monetaryTotal };
}

type NumericKey = Exclude<keyof PersonaFeatures, 'spendTrend'>;

/** Level of a segment value against the population (see the module comment); null when missing. */
function levelOf(
  key: NumericKey,
  value: number | undefined,
  population: PopulationProfile,
  floor = 0,
): Level | null {
  const med = population.median[key];
  if (value === undefined || med === undefined || !Number.isFinite(value) || !Number.isFinite(med))
    return null;
  const q75 = population.p75?.[key];
  const q25 = population.p25?.[key];
  const highRef = Math.max(floor, q75 ?? (med > 0 ? 1.5 * med : med));
  const lowRef = q25 ?? (med > 0 ? med / 1.5 : med);
  if (value > med && value >= highRef) return 'high';
  if (value < med && value <= lowRef) return 'low';
  return 'typical';
}

function traitsOf(t: PersonaFeatures, population: PopulationProfile): PersonaTraits {
  const trend = t.spendTrend;
  return {
    recency: levelOf('recencyDays', t.recencyDays, population, 30) ?? 'typical',
    frequency: levelOf('frequency', t.frequency, population) ?? 'typical',
    monetary: levelOf('monetaryTotal', t.monetaryTotal, population) ?? 'typical',
    avgOrderValue: levelOf('avgOrderValue', t.avgOrderValue, population),
    tenure: levelOf('tenureDays', t.tenureDays, population),
    returnRate: levelOf('returnRate', t.returnRate, population, 0.2),
    discountShare: levelOf('discountShare', t.discountShare, population, 0.3),
    spendTrend:
      trend === undefined || !Number.isFinite(trend)
        ? null
        : trend <= -0.25
          ? 'declining'
          : trend >= 0.25
            ? 'growing'
            : 'flat',
    oneTimer: t.frequency <= 1,
    basketSize: levelOf('itemsPerOrder', t.itemsPerOrder, population),
    categoryBreadth: levelOf('distinctCategories', t.distinctCategories, population),
    browsing: levelOf('browseOnlyShare', t.browseOnlyShare, population, 0.5),
  };
}

/** The first rule matching a segment's traits (the rules end with a catch-all, checked by the config). */
function ruleFor(
  rules: readonly PersonaRule[],
  t: PersonaTraits,
  typical: PersonaFeatures,
  population: PopulationProfile,
): PersonaRule {
  const lapsed = t.recency === 'high';
  const recentHalf = typical.recencyDays < population.median.recencyDays;
  const isNew = t.tenure !== null ? t.tenure === 'low' : recentHalf && (t.oneTimer || t.frequency === 'low');
  const values: PersonaTraitValues = { ...t, lapsed, isNew };
  const rule = matchPersonaRule(rules, values);
  if (!rule) {
    throw new Error(
      `personas: no persona rule matches segment traits ${JSON.stringify(values)}; the last rule must have no conditions`,
    );
  }
  return rule;
}

function describe(
  s: SegmentProfile,
  population: PopulationProfile,
  traits: PersonaTraits,
  customerShare: number,
  revenueShare: number,
): string {
  const t = s.typical;
  const med = population.median;
  const parts: string[] = [];
  parts.push(
    med.frequency > 0
      ? `buy ${ratio(t.frequency, med.frequency)} as often as the median customer (${num(t.frequency)} vs ${num(med.frequency)} orders)`
      : `${num(t.frequency)} orders`,
  );
  parts.push(`last order ${Math.round(t.recencyDays)} days ago (median ${Math.round(med.recencyDays)})`);
  parts.push(
    med.monetaryTotal > 0
      ? `spend ${ratio(t.monetaryTotal, med.monetaryTotal)} the median (${num(t.monetaryTotal)})`
      : `spend ${num(t.monetaryTotal)}`,
  );
  if (traits.tenure === 'low' && t.tenureDays !== undefined)
    parts.push(`customers for ${Math.round(t.tenureDays)} days`);
  if (traits.avgOrderValue !== null && traits.avgOrderValue !== 'typical' && t.avgOrderValue !== undefined) {
    parts.push(`order value ${num(t.avgOrderValue)} (median ${num(med.avgOrderValue ?? NaN)})`);
  }
  if (traits.returnRate === 'high' && t.returnRate !== undefined)
    parts.push(`return ${pct(t.returnRate)} of purchases`);
  if (traits.discountShare === 'high' && t.discountShare !== undefined) {
    parts.push(`${pct(t.discountShare)} of orders discounted`);
  }
  if (traits.spendTrend === 'declining' || traits.spendTrend === 'growing') {
    parts.push(
      `spend ${traits.spendTrend === 'growing' ? 'up' : 'down'} ${pct(Math.abs(t.spendTrend ?? 0))} recently`,
    );
  }
  const sentence = parts.join(', ');
  return `${sentence[0].toUpperCase()}${sentence.slice(1)}; ${pct(revenueShare)} of revenue from ${pct(customerShare)} of customers.`;
}

function ratio(value: number, reference: number): string {
  const r = value / reference;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}x`;
}

function num(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 100) return Math.round(x).toString();
  return (a >= 10 ? x.toFixed(1) : x.toFixed(2)).replace(/\.0+$|(\.\d*?)0+$/, '$1');
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function makeNamesUnique(personas: Persona[], segments: readonly SegmentProfile[]): void {
  const groups = new Map<string, number[]>();
  personas.forEach((p, i) => {
    const g = groups.get(p.baseName) ?? [];
    g.push(i);
    groups.set(p.baseName, g);
  });
  for (const [base, members] of groups) {
    if (members.length < 2) continue;
    const perCustomer = (i: number): number =>
      segments[i].customers > 0 ? segments[i].revenue / segments[i].customers : 0;
    members.sort((a, b) => perCustomer(b) - perCustomer(a) || personas[a].segment - personas[b].segment);
    members.forEach((i, rank) => {
      const qualifier =
        members.length === 2 ? (rank === 0 ? 'higher spend' : 'lower spend') : `spend tier ${rank + 1}`;
      personas[i].name = `${base} (${qualifier})`;
    });
  }
  const used = new Set<string>();
  for (const p of personas) {
    let name = p.name;
    for (let suffix = 2; used.has(name); suffix++) name = `${p.name} ${suffix}`;
    p.name = name;
    used.add(name);
  }
}
