/**
 * Customer lifetime value by discounted cash flow, as lifetimes' customer_lifetime_value: the BG/NBD
 * conditional expected purchases in each future month times the expected spend per purchase, discounted
 * monthly, summed over the horizon (the discounted expected transactions of Fader, Hardie and Lee 2005, "RFM and
 * CLV", in discrete monthly steps as lifetimes computes them).
 *
 * CLV_i = sum_{m=1..H} (E[Y(m u) | x, t_x, T] - E[Y((m-1) u) | x, t_x, T]) * spend_i / (1 + d)^m
 * where u is one month in the model's time unit and d = (1 + annualRate)^(1/12) - 1.
 */
import { bgNbdExpectedPurchasesIfAlive, bgNbdProbabilityAlive } from './bgNbd';
import type { BgNbdParams } from './bgNbd';
import { DAYS_PER_UNIT, uniqueTriples, validateRfm } from './common';
import type { TimeUnit } from './common';

/** Options of the CLV computation. */
export interface ClvOptions {
  /** Number of months ahead (integer >= 1). */
  horizonMonths: number;
  /** Annual discount rate, e.g. 0.1 for 10 % (compounded monthly as (1 + rate)^(1/12) - 1). */
  annualDiscountRate: number;
  /** Unit of t_x, T and the BG/NBD parameters. */
  timeUnit: TimeUnit;
}

/** One month in the given time unit: 365.25 / 12 days (e.g. 4.348 weeks). */
export function unitsPerMonth(timeUnit: TimeUnit): number {
  const days = DAYS_PER_UNIT[timeUnit];
  if (days === undefined)
    throw new Error(`clv: timeUnit must be day, week or month (got ${String(timeUnit)})`);
  return 365.25 / 12 / days;
}

function checkOptions(where: string, options: ClvOptions): void {
  const { horizonMonths, annualDiscountRate } = options;
  if (!(horizonMonths >= 1) || horizonMonths !== Math.floor(horizonMonths) || horizonMonths > 1200) {
    throw new Error(`${where}: horizonMonths must be an integer in 1..1200 (got ${horizonMonths})`);
  }
  if (!(annualDiscountRate > -1) || !Number.isFinite(annualDiscountRate)) {
    throw new Error(`${where}: annualDiscountRate must be a finite number > -1 (got ${annualDiscountRate})`);
  }
  unitsPerMonth(options.timeUnit);
}

/**
 * Discounted expected number of purchases over the horizon per customer, for any repeat-buying model:
 * sum_m (E[Y(m u) | alive, x, T] - E[Y((m-1) u) | alive, x, T]) / (1 + d)^m, times P(alive | x, t_x, T)
 * (FHL 2005 eq. 10 in monthly steps). The expectation given alive depends on (x, T) only, so the series runs
 * once per distinct (x, T), far fewer than customers; P(alive) once per distinct (x, t_x, T).
 */
export function discountedPurchasesOf(
  where: string,
  model: {
    /** E[purchases in (0, t] | alive at T, x]. */
    expectedIfAlive(t: number, x: number, T: number): number;
    probabilityAlive(x: number, tx: number, T: number): number;
  },
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  options: ClvOptions,
): Float64Array {
  checkOptions(where, options);
  validateRfm(where, x, tx, T);
  const unique = uniqueTriples(x, tx, T);
  const month = unitsPerMonth(options.timeUnit);
  const monthlyFactor = 1 / Math.pow(1 + options.annualDiscountRate, 1 / 12);
  const H = options.horizonMonths;
  const discount = new Float64Array(H + 1);
  for (let m = 0; m <= H; m++) discount[m] = Math.pow(monthlyFactor, m);
  const pairs = uniqueTriples(unique.x, new Float64Array(unique.x.length), unique.T);
  const perPair = new Float64Array(pairs.x.length);
  for (let k = 0; k < pairs.x.length; k++) {
    let previous = 0;
    let sum = 0;
    for (let m = 1; m <= H; m++) {
      const cumulative = model.expectedIfAlive(m * month, pairs.x[k], pairs.T[k]);
      sum += (cumulative - previous) * discount[m];
      previous = cumulative;
    }
    perPair[k] = sum;
  }
  const perTriple = new Float64Array(unique.x.length);
  for (let k = 0; k < unique.x.length; k++) {
    perTriple[k] = model.probabilityAlive(unique.x[k], unique.tx[k], unique.T[k]) * perPair[pairs.inverse[k]];
  }
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = perTriple[unique.inverse[i]];
  return out;
}

/** BG/NBD discounted expected purchases over the horizon (discountedPurchasesOf with FHL 2005's forms). */
export function bgNbdDiscountedPurchases(
  params: BgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  options: ClvOptions,
): Float64Array {
  const where = 'clv.discountedPurchases';
  for (const key of ['r', 'alpha', 'a', 'b'] as const) {
    if (!(params[key] > 0) || !Number.isFinite(params[key])) {
      throw new Error(`${where}: parameter ${key} must be a finite number > 0 (got ${params[key]})`);
    }
  }
  const series = new ExpectedPurchasesSeries(params);
  return discountedPurchasesOf(
    where,
    {
      expectedIfAlive: (t, xk, Tk) => series.ifAlive(t, xk, Tk),
      probabilityAlive: (xk, txk, Tk) => bgNbdProbabilityAlive(params, xk, txk, Tk),
    },
    x,
    tx,
    T,
    options,
  );
}

/**
 * CLV per customer: discounted expected purchases over the horizon times the expected spend per purchase
 * (e.g. gammaGammaConditionalExpectedSpendMany), in the currency of the spend.
 */
export function customerLifetimeValue(
  params: BgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  expectedSpend: ArrayLike<number>,
  options: ClvOptions,
): Float64Array {
  const where = 'clv.customerLifetimeValue';
  if (expectedSpend.length !== x.length) {
    throw new Error(
      `${where}: expectedSpend must have one entry per customer (${expectedSpend.length} vs ${x.length})`,
    );
  }
  for (let i = 0; i < expectedSpend.length; i++) {
    if (!Number.isFinite(expectedSpend[i])) {
      throw new Error(
        `${where}: expectedSpend must be finite (customer index ${i}, got ${expectedSpend[i]})`,
      );
    }
  }
  const purchases = bgNbdDiscountedPurchases(params, x, tx, T, options);
  for (let i = 0; i < purchases.length; i++) purchases[i] *= expectedSpend[i];
  return purchases;
}

const MAX_SERIES_TERMS = 4096;

/**
 * bgNbdExpectedPurchasesIfAlive for many (t, x, T) with one parameter set, fast: the 2F1 of FHL 2005 eq. 10 (in
 * Euler's form, see bgNbd.ts) has coefficients (A)_n (B)_n / ((C)_n n!) that depend on x only, so they are
 * tabulated once per x and each evaluation is a plain power series in z. Falls back to the general function
 * near a = 1 or when the table is too short (z very close to 1).
 */
class ExpectedPurchasesSeries {
  private readonly coefficients: (Float64Array | undefined)[] = [];
  private readonly usable: boolean;

  constructor(private readonly params: BgNbdParams) {
    this.usable = Math.abs(params.a - 1) >= 1e-7;
  }

  private table(x: number): Float64Array {
    let table = this.coefficients[x];
    if (table === undefined) {
      const { r, a, b } = this.params;
      const A = a + b - 1 - r;
      const B = a - 1;
      const C = a + b + x - 1;
      const values: number[] = [1];
      let c = 1;
      for (let n = 0; n < MAX_SERIES_TERMS; n++) {
        c *= ((A + n) * (B + n)) / ((C + n) * (n + 1));
        values.push(c);
        if (c === 0 || Math.abs(c) < 1e-300) break;
      }
      table = Float64Array.from(values);
      this.coefficients[x] = table;
    }
    return table;
  }

  ifAlive(t: number, x: number, T: number): number {
    if (!this.usable) return bgNbdExpectedPurchasesIfAlive(this.params, t, x, T);
    const { alpha, a, b } = this.params;
    const z = t / (alpha + T + t);
    const c = this.table(x);
    let sum = 1;
    let power = 1;
    let small = 0;
    let n = 1;
    for (; n < c.length; n++) {
      power *= z;
      const term = c[n] * power;
      sum += term;
      if (Math.abs(term) <= 1e-16 * Math.abs(sum)) {
        if (++small >= 2) break;
      } else {
        small = 0;
      }
    }
    if (n >= c.length && c[c.length - 1] !== 0) return bgNbdExpectedPurchasesIfAlive(this.params, t, x, T);
    const value = ((a + b + x - 1) / (a - 1)) * (1 - Math.exp((a - 1) * Math.log1p(-z)) * sum);
    // Huge a, b overflow the tabulated series; the general function handles that limit.
    return Number.isFinite(value) ? value : bgNbdExpectedPurchasesIfAlive(this.params, t, x, T);
  }
}
