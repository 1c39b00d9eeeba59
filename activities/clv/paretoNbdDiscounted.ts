/** Pareto/NBD discounted expected purchases over the CLV horizon (the Pareto/NBD counterpart of clvDcf.ts). */
import { unitsPerMonth } from './clvDcf';
import type { ClvOptions } from './clvDcf';
import { uniqueTriples } from './common';
import { paretoNbdConditionalExpectedPurchases, paretoNbdProbabilityAlive } from './paretoNbd';
import type { ParetoNbdParams } from './paretoNbd';

/**
 * Pareto/NBD discounted expected purchases over the horizon, as bgNbdDiscountedPurchases does for BG/NBD:
 * sum_m (E[Y(m u)] - E[Y((m-1) u)]) / (1 + d)^m with E[Y(t) | x, t_x, T] = E[Y(t) | alive, x, T] P(alive)
 * (Schmittlein, Morrison and Colombo 1987; Fader and Hardie 2005 note). The expectation given alive is the
 * conditional expectation at t_x = T (a customer who bought at T is alive at T, P(alive) = 1), computed once
 * per distinct (x, T); P(alive) once per distinct (x, t_x, T).
 */
export function paretoNbdDiscountedPurchases(
  params: ParetoNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  options: ClvOptions,
): Float64Array {
  const where = 'clv.paretoNbdDiscountedPurchases';
  const { horizonMonths, annualDiscountRate } = options;
  if (!(horizonMonths >= 1) || horizonMonths !== Math.floor(horizonMonths)) {
    throw new Error(`${where}: horizonMonths must be an integer >= 1 (got ${horizonMonths})`);
  }
  if (!(annualDiscountRate > -1) || !Number.isFinite(annualDiscountRate)) {
    throw new Error(`${where}: annualDiscountRate must be a finite number > -1 (got ${annualDiscountRate})`);
  }
  const month = unitsPerMonth(options.timeUnit);
  const monthlyFactor = 1 / Math.pow(1 + annualDiscountRate, 1 / 12);
  const unique = uniqueTriples(x, tx, T);
  const pairs = uniqueTriples(unique.x, new Float64Array(unique.x.length), unique.T);
  const perPair = new Float64Array(pairs.x.length);
  for (let k = 0; k < pairs.x.length; k++) {
    let previous = 0;
    let total = 0;
    let discount = 1;
    for (let m = 1; m <= horizonMonths; m++) {
      discount *= monthlyFactor;
      const cumulative = paretoNbdConditionalExpectedPurchases(
        params,
        m * month,
        pairs.x[k],
        pairs.T[k],
        pairs.T[k],
      );
      total += (cumulative - previous) * discount;
      previous = cumulative;
    }
    perPair[k] = total;
  }
  const perTriple = new Float64Array(unique.x.length);
  for (let k = 0; k < unique.x.length; k++) {
    perTriple[k] =
      paretoNbdProbabilityAlive(params, unique.x[k], unique.tx[k], unique.T[k]) * perPair[pairs.inverse[k]];
  }
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = perTriple[unique.inverse[i]];
  return out;
}
