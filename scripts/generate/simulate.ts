/**
 * The customer-by-customer simulation behind generateDataset.
 *
 * Each customer has three private random streams (behaviour, events, experiment) seeded from (seed,
 * customer index), plus one global stream for dirty rows. So turning events, the experiment or dirty rows
 * on or off never changes the clean purchase history, and customer i is the same whatever the number of
 * customers. Rows go straight to per-month buffered writers: memory does not grow with the dataset.
 */
import { join } from 'node:path';
import { ConfigError } from '../../lib/errors';
import { addMonths, monthStartMs } from '../../lib/month';
import { Rng } from '../../lib/random';
import type { Catalogue } from './catalogue';
import type { DirtyCounts, DirtyReason, ResolvedExperimentPlan, ResolvedOptions } from './options';
import { DIRTY_REASONS } from './options';
import {
  PartitionedCsvWriter,
  TimestampFormatter,
  floorToMinute,
  formatCents,
  partitionIndex,
} from './output';
import {
  CATEGORIES,
  HOURLY_MULTIPLIERS,
  YEARLY_MULTIPLIERS,
  acquisitionWeights,
  type GroupProfile,
} from './profiles';

export const SECOND_MS = 1000;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

export const TRANSACTIONS_HEADER =
  'customer_id,order_id,ts,product_id,product_name,category,quantity,unit_price,amount,country';
export const EVENTS_HEADER = 'customer_id,session_id,ts,event_type,product_id,category';
export const ASSIGNMENTS_HEADER = 'customer_id,experiment_id,variant,assigned_at';
export const CUSTOMERS_HEADER =
  'customer_id,group_name,lambda_weekly,p_dropout,first_purchase,alive_until,nu,mean_spend,country,repeat_purchases';

/** Countries of customers and their shares. */
export const COUNTRIES: readonly [string, number][] = [
  ['US', 0.38],
  ['GB', 0.15],
  ['DE', 0.12],
  ['FR', 0.1],
  ['NL', 0.05],
  ['ES', 0.05],
  ['IT', 0.05],
  ['CA', 0.05],
  ['AU', 0.05],
];

/** Return delay after the order: uniform in [2, 28] days. */
export const RETURN_DELAY_DAYS: [number, number] = [2, 28];
/** Given that an order has a return, each of its lines is returned (in full) with this probability (at least one). */
export const RETURN_LINE_PROBABILITY = 0.6;
/** Orders whose value (cents) is below this many cents per unit are a single line of quantity 1. */
const MIN_CENTS_PER_UNIT = 50;

/** A 32-bit seed for stream `stream` of customer `index` (murmur3-style finaliser). */
export function streamSeed(seed: number, index: number, stream: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x2c1b3c6d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** Draw an index from a discrete distribution given as cumulative probabilities (last entry = total). */
function drawIndex(rng: Rng, cumulative: Float64Array): number {
  const u = rng.uniform() * cumulative[cumulative.length - 1];
  for (let i = 0; i < cumulative.length; i++) if (u < cumulative[i]) return i;
  return cumulative.length - 1;
}

function cumulativeOf(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => {
    sum += w;
    out[i] = sum;
  });
  return out;
}

/** One order with its line items and its (possible) return. */
interface Order {
  /** Exact (unrounded) time, epoch ms. */
  t: number;
  products: number[];
  quantities: number[];
  unitCents: number[];
  /** Time of the return (minute resolution) or NaN for none. */
  returnAt: number;
  returned: boolean[];
}

/** Per-group tables derived once: cumulative draws and seasonality. */
interface GroupRuntime {
  profile: GroupProfile;
  categoryCumulative: Float64Array;
  linesCumulative: Float64Array;
  /** weekday x hour multipliers, index dow * 24 + hour (Monday = 0); all 1 without seasonality. */
  weekHour: Float64Array;
  weekHourMax: number;
  /** Upper bound of the intensity multiplier over the whole range. */
  intensityMax: number;
}

/** Conversion bookkeeping of one experiment arm. */
export interface ArmTally {
  assigned: number;
  /** Sum over the arm of each customer's planted conversion probability. */
  expectedConversionsSum: number;
  /** Sum over the arm of the probability the customer would have under the other arm's rule. */
  counterfactualSum: number;
  realizedConversions: number;
  incentiveOrders: number;
}

/** What the simulation counted, for truth.json and the result. */
export interface SimulationTally {
  transactionRows: number;
  cleanTransactionRows: number;
  purchaseRows: number;
  returnRows: number;
  orders: number;
  returnOrders: number;
  dirty: DirtyCounts;
  eventRows: number;
  sessions: number;
  assignmentRows: number;
  customersByGroup: number[];
  experimentEligible: number;
  arms: { control: ArmTally; treatment: ArmTally };
  transactionRowsByMonth: Record<string, number>;
  eventRowsByMonth: Record<string, number>;
}

/** Simulates all customers of one dataset and streams the rows out. */
export class DatasetSimulator {
  readonly monthLabels: string[];
  readonly monthStarts: Float64Array;
  readonly rangeStart: number;
  readonly rangeEnd: number;
  readonly experimentStart: number;
  private readonly groups: GroupRuntime[];
  private readonly groupCumulative: Float64Array;
  private readonly countryCumulative: Float64Array;
  private readonly acquisitionCumulative: Float64Array;
  private readonly yearlyByMonth: Float64Array;
  private readonly yearlyMax: number;
  private readonly formatter = new TimestampFormatter();
  private readonly transactions: PartitionedCsvWriter;
  private readonly events: PartitionedCsvWriter | null;
  private readonly assignments: PartitionedCsvWriter | null;
  private readonly customersOut: PartitionedCsvWriter;
  private readonly dirtyRng: Rng;
  private readonly experiment: ResolvedExperimentPlan | false;
  private orderCounter = 0;
  private returnCounter = 0;
  private sessionCounter = 0;
  /** Clean rows seen so far, all rows and purchase rows (the two scopes dirty rates apply to). */
  private cleanRowsSeen = 0;
  private purchaseRowsSeen = 0;
  private readonly nextDirtyAt: Float64Array;
  private readonly dirtyCounts: DirtyCounts;
  private readonly tally: Omit<SimulationTally, 'transactionRowsByMonth' | 'eventRowsByMonth' | 'dirty'>;
  private readonly gaps: number[] = [];

  constructor(
    private readonly options: ResolvedOptions,
    private readonly catalogue: Catalogue,
    private readonly profiles: GroupProfile[],
    paths: { transactions: string; events: string; assignments: string; customers: string },
  ) {
    const { months, startMonth } = options;
    this.monthLabels = Array.from({ length: months }, (_, m) => addMonths(startMonth, m));
    this.monthStarts = Float64Array.from({ length: months + 1 }, (_, m) =>
      monthStartMs(addMonths(startMonth, m)),
    );
    this.rangeStart = this.monthStarts[0];
    this.rangeEnd = this.monthStarts[months];
    const startMonthOfYear = Number(startMonth.slice(5, 7)) - 1;

    this.yearlyByMonth = Float64Array.from({ length: months }, (_, m) =>
      options.seasonality ? YEARLY_MULTIPLIERS[(startMonthOfYear + m) % 12] : 1,
    );
    this.yearlyMax = Math.max(...this.yearlyByMonth);
    this.groups = profiles.map((profile) => {
      const weekHour = new Float64Array(168);
      for (let d = 0; d < 7; d++)
        for (let h = 0; h < 24; h++)
          weekHour[d * 24 + h] = options.seasonality
            ? profile.behaviour.weekdayMultipliers[d] * HOURLY_MULTIPLIERS[h]
            : 1;
      const weekHourMax = Math.max(...weekHour);
      return {
        profile,
        categoryCumulative: cumulativeOf(profile.behaviour.categoryMix),
        linesCumulative: cumulativeOf(profile.behaviour.linesPerOrder),
        weekHour,
        weekHourMax,
        intensityMax: weekHourMax * this.yearlyMax,
      };
    });
    this.groupCumulative = cumulativeOf(profiles.map((p) => p.share));
    this.countryCumulative = cumulativeOf(COUNTRIES.map(([, share]) => share));
    this.acquisitionCumulative = cumulativeOf(acquisitionWeights(startMonthOfYear, months));

    this.experiment = options.experiment;
    this.experimentStart = options.experiment ? monthStartMs(options.experiment.month) : NaN;
    if (options.experiment) {
      const lastWindowEnd =
        this.experimentStart + (options.experiment.assignmentDays + options.experiment.windowDays) * DAY_MS;
      if (lastWindowEnd > this.rangeEnd)
        throw new ConfigError(
          `generateDataset: experiment.month ${options.experiment.month} + assignmentDays + windowDays must end ` +
            `by the end of the range (${new Date(this.rangeEnd).toISOString()})`,
        );
    }

    this.transactions = new PartitionedCsvWriter(
      this.monthLabels.map((m) => join(paths.transactions, `${m}.csv`)),
      TRANSACTIONS_HEADER,
    );
    this.events = options.events
      ? new PartitionedCsvWriter(
          this.monthLabels.map((m) => join(paths.events, `${m}.csv`)),
          EVENTS_HEADER,
        )
      : null;
    this.assignments = options.experiment
      ? new PartitionedCsvWriter([join(paths.assignments, 'assignments.csv')], ASSIGNMENTS_HEADER)
      : null;
    this.customersOut = new PartitionedCsvWriter([paths.customers], CUSTOMERS_HEADER);

    this.dirtyRng = new Rng(streamSeed(options.seed, -1, 4));
    this.dirtyCounts = Object.fromEntries(DIRTY_REASONS.map((r) => [r, 0])) as DirtyCounts;
    this.nextDirtyAt = new Float64Array(DIRTY_REASONS.length);
    DIRTY_REASONS.forEach((reason, k) => {
      this.nextDirtyAt[k] = this.geometricGap(options.dirty[reason]);
    });

    const arm = (): ArmTally => ({
      assigned: 0,
      expectedConversionsSum: 0,
      counterfactualSum: 0,
      realizedConversions: 0,
      incentiveOrders: 0,
    });
    this.tally = {
      transactionRows: 0,
      cleanTransactionRows: 0,
      purchaseRows: 0,
      returnRows: 0,
      orders: 0,
      returnOrders: 0,
      eventRows: 0,
      sessions: 0,
      assignmentRows: 0,
      customersByGroup: profiles.map(() => 0),
      experimentEligible: 0,
      arms: { control: arm(), treatment: arm() },
    };
  }

  /** All files this simulation writes. */
  get files(): string[] {
    return [
      ...this.transactions.paths,
      ...(this.events?.paths ?? []),
      ...(this.assignments?.paths ?? []),
      ...this.customersOut.paths,
    ];
  }

  /** Close every file without flushing (after an error). */
  abandon(): void {
    for (const writer of [this.transactions, this.events, this.assignments, this.customersOut])
      writer?.close();
  }

  /** Flush and close every writer and return the counts. */
  finish(): SimulationTally {
    for (const writer of [this.transactions, this.events, this.assignments, this.customersOut]) {
      writer?.flush();
      writer?.close();
    }
    const byMonth = (writer: PartitionedCsvWriter | null): Record<string, number> =>
      Object.fromEntries(this.monthLabels.map((m, i) => [m, writer ? writer.rowCounts[i] : 0]));
    return {
      ...this.tally,
      dirty: { ...this.dirtyCounts },
      transactionRows: this.transactions.totalRows,
      eventRows: this.events?.totalRows ?? 0,
      assignmentRows: this.assignments?.totalRows ?? 0,
      transactionRowsByMonth: byMonth(this.transactions),
      eventRowsByMonth: byMonth(this.events),
    };
  }

  /** Purchase-intensity multiplier s(t) of a group at instant ms (1 without seasonality). */
  intensity(group: number, ms: number): number {
    if (!this.options.seasonality) return 1;
    const month = partitionIndex(this.monthStarts, ms);
    const day = Math.floor(ms / DAY_MS);
    const dow = (day + 3) % 7; // 1970-01-01 was a Thursday; Monday = 0
    const hour = Math.floor((ms - day * DAY_MS) / HOUR_MS);
    return this.yearlyByMonth[month] * this.groups[group].weekHour[dow * 24 + hour];
  }

  /** Integral of s(t) over [from, to), in weeks (s is constant within each UTC hour). */
  integratedIntensityWeeks(group: number, from: number, to: number): number {
    if (!this.options.seasonality) return (to - from) / WEEK_MS;
    let total = 0;
    for (let cursor = from; cursor < to;) {
      const next = Math.min(to, (Math.floor(cursor / HOUR_MS) + 1) * HOUR_MS);
      total += this.intensity(group, cursor) * (next - cursor);
      cursor = next;
    }
    return total / WEEK_MS;
  }

  /** An instant in [from, to) with density proportional to s(t) (rejection from the uniform). */
  private drawSeasonalInstant(rng: Rng, group: number, from: number, to: number, bound: number): number {
    for (;;) {
      const t = from + rng.uniform() * (to - from);
      if (rng.uniform() * bound <= this.intensity(group, t)) return t;
    }
  }

  /** Geometric number of trials until the first success (>= 1), Infinity for rate 0. */
  private geometricGap(rate: number): number {
    if (rate <= 0) return Infinity;
    if (rate >= 1) return 1;
    return Math.floor(Math.log(1 - this.dirtyRng.uniform()) / Math.log(1 - rate)) + 1;
  }

  /** Simulate customer `index` and write all its rows. */
  simulateCustomer(index: number): void {
    const { options } = this;
    const seed = options.seed;
    const rng = new Rng(streamSeed(seed, index, 1));
    const customerId = `C${String(index + 1).padStart(7, '0')}`;
    const group = this.groups.length === 1 ? 0 : drawIndex(rng, this.groupCumulative);
    const runtime = this.groups[group];
    const { bgnbd, gammaGamma } = runtime.profile;
    this.tally.customersByGroup[group]++;
    const country = COUNTRIES[drawIndex(rng, this.countryCumulative)][0];

    // BG/NBD (Fader, Hardie and Lee 2005, sec. 2): lambda ~ Gamma(r, alpha) per week, p ~ Beta(a, b).
    const lambda = rng.gamma(bgnbd.r, bgnbd.alpha);
    const dropout = rng.beta(bgnbd.a, bgnbd.b);
    // Gamma-Gamma (Fader, Hardie and Lee 2005b, sec. 3): nu ~ Gamma(q, v), each order's value z ~ Gamma(p, nu).
    const nu = rng.gamma(gammaGamma.q, gammaGamma.v);

    // Acquisition: the month of the first purchase, then the instant within it following s(t).
    const month = drawIndex(rng, this.acquisitionCumulative);
    const monthBound = runtime.weekHourMax * this.yearlyByMonth[month];
    const firstAt = this.drawSeasonalInstant(
      rng,
      group,
      this.monthStarts[month],
      this.monthStarts[month + 1],
      monthBound,
    );

    // Repeat purchases: a Poisson process of rate lambda * s(t) while alive (thinning of rate lambda * max s;
    // Lewis and Shedler 1979); after each repeat purchase the customer drops out with probability p.
    const purchaseTimes: number[] = [firstAt];
    let aliveUntil = NaN;
    const candidateRatePerMs = (lambda * runtime.intensityMax) / WEEK_MS;
    for (let t = firstAt; ;) {
      t += rng.exponential(candidateRatePerMs);
      if (!(t < this.rangeEnd)) break;
      if (options.seasonality && rng.uniform() * runtime.intensityMax > this.intensity(group, t)) continue;
      purchaseTimes.push(t);
      if (rng.uniform() < dropout) {
        aliveUntil = t;
        break;
      }
    }

    const orders: Order[] = purchaseTimes.map((t) =>
      this.buildOrder(rng, runtime, rng.gamma(gammaGamma.p, nu), t),
    );

    if (this.experiment && firstAt < this.experimentStart) {
      const incentive = this.assignExperiment(
        customerId,
        index,
        group,
        lambda,
        nu,
        aliveUntil,
        purchaseTimes,
        this.experiment,
      );
      if (incentive) {
        orders.push(incentive);
        orders.sort((x, y) => x.t - y.t);
      }
    }

    this.writeOrders(customerId, country, orders);
    if (this.events) this.writeEvents(customerId, index, group, firstAt, aliveUntil, orders);

    const ts = (ms: number): string => this.formatter.format(floorToMinute(ms));
    this.customersOut.write(
      0,
      [
        customerId,
        runtime.profile.name,
        String(lambda),
        String(dropout),
        ts(firstAt),
        Number.isNaN(aliveUntil) ? '' : ts(aliveUntil),
        String(nu),
        String(gammaGamma.p / nu),
        country,
        String(purchaseTimes.length - 1),
      ].join(','),
    );
  }

  /**
   * Lines of one order worth z dollars: 1-5 lines from the group's category mix, products whose shelf price
   * is near the value per unit, and unit prices scaled so that the order total is z rounded to the cent.
   */
  private buildOrder(rng: Rng, runtime: GroupRuntime, z: number, t: number): Order {
    const { behaviour } = runtime.profile;
    const { catalogue } = this;
    const totalCents = Math.max(1, Math.round(z * 100));
    let lines = drawIndex(rng, runtime.linesCumulative) + 1;
    const quantities: number[] = [];
    for (let j = 0; j < lines; j++)
      quantities.push(j === lines - 1 ? 1 : Math.min(9, 1 + rng.poisson(behaviour.extraQuantity)));
    let units = quantities.reduce((sum, q) => sum + q, 0);
    if (totalCents < MIN_CENTS_PER_UNIT * units) {
      lines = 1;
      quantities.length = 1;
      quantities[0] = 1;
      units = 1;
    }
    const centsPerUnit = totalCents / units;
    const products: number[] = [];
    for (let j = 0; j < lines; j++) {
      const category = drawIndex(rng, runtime.categoryCumulative);
      const target = centsPerUnit * Math.exp(0.35 * rng.normal());
      products.push(this.pickProduct(category, target, products));
    }
    let weightTotal = 0;
    for (let j = 0; j < lines; j++) weightTotal += catalogue.basePriceCents[products[j]] * quantities[j];
    const unitCents: number[] = [];
    let allocated = 0;
    for (let j = 0; j < lines - 1; j++) {
      const lineCents = (totalCents * catalogue.basePriceCents[products[j]] * quantities[j]) / weightTotal;
      const unit = Math.max(1, Math.floor(lineCents / quantities[j]));
      unitCents.push(unit);
      allocated += unit * quantities[j];
    }
    const last = totalCents - allocated;
    if (last >= 1) {
      unitCents.push(last);
    } else {
      // Rounding left nothing for the last line: one line carrying the whole value.
      products.length = 1;
      quantities.length = 1;
      quantities[0] = 1;
      unitCents.length = 0;
      unitCents.push(totalCents);
    }

    let returnAt = NaN;
    const returned: boolean[] = [];
    if (this.options.returns && rng.uniform() < behaviour.returnRate) {
      const [minDays, maxDays] = RETURN_DELAY_DAYS;
      returnAt = floorToMinute(t + (minDays + (maxDays - minDays) * rng.uniform()) * DAY_MS);
      let any = false;
      for (let j = 0; j < products.length; j++) {
        const back = rng.uniform() < RETURN_LINE_PROBABILITY;
        returned.push(back);
        any ||= back;
      }
      if (!any) returned[0] = true;
    }
    return { t, products, quantities, unitCents, returnAt, returned };
  }

  /** The product of a category whose base price is nearest the target, not already in the order. */
  private pickProduct(category: number, targetCents: number, taken: number[]): number {
    const members = this.catalogue.byCategory[category];
    const prices = this.catalogue.pricesByCategory[category];
    let lo = 0;
    let hi = prices.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (prices[mid] < targetCents) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && targetCents - prices[lo - 1] < prices[lo] - targetCents) lo--;
    // Walk outwards from the nearest price to the first product not yet in the order.
    for (let step = 0; step < members.length * 2; step++) {
      const offset = step % 2 === 0 ? step / 2 : -(step + 1) / 2;
      const k = lo + offset;
      if (k < 0 || k >= members.length) continue;
      if (!taken.includes(members[k])) return members[k];
    }
    return members[lo];
  }

  /**
   * Assign an eligible customer to the experiment (or not). Conversion = at least one purchase in
   * [assigned_at, assigned_at + window). For a customer alive at assignment, organic purchases form a
   * Poisson process of rate lambda * s(t) there (memoryless, and dropout only follows a purchase), so the
   * planted organic conversion probability is pi = 1 - exp(-lambda * integral of s over the window); 0 if
   * already dropped out. Treatment adds an independent incentive purchase with probability
   * q = min(1, pi * u / (1 - pi)), making P(convert) = min(1, pi * (1 + u)) exactly.
   */
  private assignExperiment(
    customerId: string,
    index: number,
    group: number,
    lambda: number,
    nu: number,
    aliveUntil: number,
    purchaseTimes: number[],
    plan: ResolvedExperimentPlan,
  ): Order | null {
    this.tally.experimentEligible++;
    const rng = new Rng(streamSeed(this.options.seed, index, 3));
    if (!(rng.uniform() < plan.eligibleShare)) return null;
    const treated = rng.uniform() < plan.srm;
    const assignedAt =
      this.experimentStart + Math.floor(rng.uniform() * plan.assignmentDays * 1440) * MINUTE_MS;
    const windowEnd = assignedAt + plan.windowDays * DAY_MS;
    const alive = Number.isNaN(aliveUntil) || aliveUntil >= assignedAt;
    const organic = alive
      ? -Math.expm1(-lambda * this.integratedIntensityWeeks(group, assignedAt, windowEnd))
      : 0;
    const withTreatment = Math.min(1, organic * (1 + plan.uplift));
    let converted = purchaseTimes.some((t) => t >= assignedAt && t < windowEnd);

    let incentive: Order | null = null;
    const arm = treated ? this.tally.arms.treatment : this.tally.arms.control;
    if (treated) {
      const extra = organic >= 1 ? 0 : Math.min(1, (organic * plan.uplift) / (1 - organic));
      if (rng.uniform() < extra) {
        const runtime = this.groups[group];
        const bound = runtime.intensityMax;
        const t = this.drawSeasonalInstant(rng, group, assignedAt, windowEnd, bound);
        incentive = this.buildOrder(rng, runtime, rng.gamma(runtime.profile.gammaGamma.p, nu), t);
        converted = true;
        arm.incentiveOrders++;
      }
      arm.expectedConversionsSum += withTreatment;
      arm.counterfactualSum += organic;
    } else {
      arm.expectedConversionsSum += organic;
      arm.counterfactualSum += withTreatment;
    }
    arm.assigned++;
    if (converted) arm.realizedConversions++;
    this.assignments!.write(
      0,
      `${customerId},${plan.id},${treated ? 'treatment' : 'control'},${this.formatter.format(assignedAt)}`,
    );
    return incentive;
  }

  /** Write the order lines and return rows of one customer (orders sorted by time). */
  private writeOrders(customerId: string, country: string, orders: Order[]): void {
    for (const order of orders) {
      const at = floorToMinute(order.t);
      const month = partitionIndex(this.monthStarts, at);
      const ts = this.formatter.format(at);
      const orderId = `O${String(++this.orderCounter).padStart(9, '0')}`;
      this.tally.orders++;
      for (let j = 0; j < order.products.length; j++) {
        this.writeTransaction(
          month,
          customerId,
          orderId,
          ts,
          order.products[j],
          order.quantities[j],
          order.unitCents[j],
          country,
        );
      }
      if (!Number.isNaN(order.returnAt) && order.returnAt < this.rangeEnd) {
        const returnMonth = partitionIndex(this.monthStarts, order.returnAt);
        const returnTs = this.formatter.format(order.returnAt);
        const returnId = `R${String(++this.returnCounter).padStart(9, '0')}`;
        this.tally.returnOrders++;
        for (let j = 0; j < order.products.length; j++) {
          if (!order.returned[j]) continue;
          this.writeTransaction(
            returnMonth,
            customerId,
            returnId,
            returnTs,
            order.products[j],
            -order.quantities[j],
            order.unitCents[j],
            country,
          );
        }
      }
    }
  }

  private transactionLine(
    customerId: string,
    orderId: string,
    ts: string,
    product: number,
    quantity: number,
    unitCents: number,
    country: string,
  ): string {
    const { catalogue } = this;
    return (
      `${customerId},${orderId},${ts},${catalogue.ids[product]},${catalogue.csvNames[product]},` +
      `${CATEGORIES[catalogue.category[product]]},${quantity},${formatCents(unitCents)},` +
      `${formatCents(quantity * unitCents)},${country}`
    );
  }

  /** One clean row, followed by whatever dirty companions the dirty-rate draws plant next to it. */
  private writeTransaction(
    month: number,
    customerId: string,
    orderId: string,
    ts: string,
    product: number,
    quantity: number,
    unitCents: number,
    country: string,
  ): void {
    const line = this.transactionLine(customerId, orderId, ts, product, quantity, unitCents, country);
    this.transactions.write(month, line);
    this.tally.cleanTransactionRows++;
    const isPurchase = quantity > 0;
    if (isPurchase) this.tally.purchaseRows++;
    else this.tally.returnRows++;
    this.cleanRowsSeen++;
    if (isPurchase) this.purchaseRowsSeen++;

    for (let k = 0; k < DIRTY_REASONS.length; k++) {
      const reason: DirtyReason = DIRTY_REASONS[k];
      const purchaseScoped = reason === 'non_positive_price' || reason === 'zero_quantity';
      if (purchaseScoped && !isPurchase) continue;
      const seen = purchaseScoped ? this.purchaseRowsSeen : this.cleanRowsSeen;
      if (seen !== this.nextDirtyAt[k]) continue;
      this.nextDirtyAt[k] = seen + this.geometricGap(this.options.dirty[reason]);
      this.transactions.write(
        month,
        this.dirtyLine(reason, line, customerId, orderId, ts, product, quantity, unitCents, country),
      );
      this.dirtyCounts[reason]++;
    }
  }

  /** The dirty companion of a clean row: the same row with exactly one defect (or an exact copy). */
  private dirtyLine(
    reason: DirtyReason,
    line: string,
    customerId: string,
    orderId: string,
    ts: string,
    product: number,
    quantity: number,
    unitCents: number,
    country: string,
  ): string {
    const rng = this.dirtyRng;
    switch (reason) {
      case 'duplicate':
        return line;
      case 'missing_customer_id':
        return this.transactionLine('', orderId, ts, product, quantity, unitCents, country);
      case 'non_positive_price':
        return this.transactionLine(
          customerId,
          orderId,
          ts,
          product,
          quantity,
          rng.uniform() < 0.5 ? 0 : -unitCents,
          country,
        );
      case 'zero_quantity':
        return this.transactionLine(customerId, orderId, ts, product, 0, unitCents, country);
      case 'unparsable_timestamp': {
        const variants = ['not-a-date', `${ts.slice(0, 4)}-13-45T99:00:00Z`, 'N/A'];
        return this.transactionLine(
          customerId,
          orderId,
          variants[rng.int(variants.length)],
          product,
          quantity,
          unitCents,
          country,
        );
      }
      case 'future_timestamp': {
        // Year 2099, same month, day and time (29 February does not exist in 2099).
        const monthDay = ts.slice(5, 10) === '02-29' ? '02-28' : ts.slice(5, 10);
        return this.transactionLine(
          customerId,
          orderId,
          `2099-${monthDay}${ts.slice(10)}`,
          product,
          quantity,
          unitCents,
          country,
        );
      }
    }
  }

  /**
   * Sessions of one customer: one per order (extra views, then view + add_to_cart per line, then a
   * 'purchase' event at the order's timestamp), plus browse-only sessions, some with an abandoned cart.
   */
  private writeEvents(
    customerId: string,
    index: number,
    group: number,
    firstAt: number,
    aliveUntil: number,
    orders: Order[],
  ): void {
    const rng = new Rng(streamSeed(this.options.seed, index, 2));
    const runtime = this.groups[group];
    const { behaviour } = runtime.profile;
    const gaps = this.gaps;
    for (const order of orders) {
      const anchor = floorToMinute(order.t);
      const sessionId = this.nextSessionId();
      const extraViews = rng.poisson(behaviour.extraViewsPerPurchaseSession);
      const steps = extraViews + 2 * order.products.length;
      gaps.length = 0;
      let span = 0;
      for (let k = 0; k < steps; k++) {
        const gap = 5 * SECOND_MS + rng.exponential(1 / (45 * SECOND_MS));
        gaps.push(gap);
        span += gap;
      }
      const scale = anchor - span < this.rangeStart ? (anchor - this.rangeStart) / span : 1;
      let cursor = anchor - span * scale;
      let step = 0;
      for (let k = 0; k < extraViews; k++) {
        const product = this.randomProduct(rng, runtime);
        this.writeEvent(customerId, sessionId, cursor, 'view', product);
        cursor += gaps[step++] * scale;
      }
      for (const product of order.products) {
        this.writeEvent(customerId, sessionId, cursor, 'view', product);
        cursor += gaps[step++] * scale;
        this.writeEvent(customerId, sessionId, cursor, 'add_to_cart', product);
        cursor += gaps[step++] * scale;
      }
      this.writeEvent(customerId, sessionId, anchor, 'purchase', -1);
    }

    const engagedFrom = Math.max(this.rangeStart, firstAt - 14 * DAY_MS);
    const engagedTo = Number.isNaN(aliveUntil)
      ? this.rangeEnd
      : Math.min(this.rangeEnd, aliveUntil + 8 * WEEK_MS);
    const expected =
      behaviour.browseSessionsPerOrder * orders.length +
      (behaviour.browseSessionsPerWeek * Math.max(0, engagedTo - engagedFrom)) / WEEK_MS;
    const browseSessions = rng.poisson(expected);
    for (let s = 0; s < browseSessions; s++) {
      let start: number;
      do {
        start = engagedFrom + rng.uniform() * (engagedTo - engagedFrom);
      } while (rng.uniform() * runtime.weekHourMax > this.weekHourAt(runtime, start));
      const sessionId = this.nextSessionId();
      const views = 1 + rng.poisson(Math.max(0, behaviour.viewsPerBrowseSession - 1));
      const cartAt = rng.uniform() < behaviour.abandonedCartProbability ? rng.int(views) : -1;
      let cursor = start;
      for (let v = 0; v < views; v++) {
        const product = this.randomProduct(rng, runtime);
        this.writeEvent(customerId, sessionId, cursor, 'view', product);
        cursor += 5 * SECOND_MS + rng.exponential(1 / (45 * SECOND_MS));
        if (v === cartAt) {
          this.writeEvent(customerId, sessionId, cursor, 'add_to_cart', product);
          cursor += 5 * SECOND_MS + rng.exponential(1 / (45 * SECOND_MS));
        }
      }
    }
  }

  private weekHourAt(runtime: GroupRuntime, ms: number): number {
    const day = Math.floor(ms / DAY_MS);
    return runtime.weekHour[((day + 3) % 7) * 24 + Math.floor((ms - day * DAY_MS) / HOUR_MS)];
  }

  private nextSessionId(): string {
    this.tally.sessions++;
    return `S${String(++this.sessionCounter).padStart(10, '0')}`;
  }

  private randomProduct(rng: Rng, runtime: GroupRuntime): number {
    const members = this.catalogue.byCategory[drawIndex(rng, runtime.categoryCumulative)];
    return members[rng.int(members.length)];
  }

  /** One event row (product -1 = none, for 'purchase'); events at or after the end of the range are dropped. */
  private writeEvent(customerId: string, sessionId: string, ms: number, type: string, product: number): void {
    // Sessions squeezed against the start of the range may round a hair below it.
    const at = Math.max(this.rangeStart, Math.floor(ms / SECOND_MS) * SECOND_MS);
    if (at >= this.rangeEnd) return;
    const month = partitionIndex(this.monthStarts, at);
    const productPart =
      product < 0 ? ',' : `${this.catalogue.ids[product]},${CATEGORIES[this.catalogue.category[product]]}`;
    this.events!.write(
      month,
      `${customerId},${sessionId},${this.formatter.format(at)},${type},${productPart}`,
    );
  }
}
