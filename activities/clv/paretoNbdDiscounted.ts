/** Pareto/NBD discounted expected purchases over the CLV horizon (the Pareto/NBD counterpart of clvDcf.ts). */
import { discountedPurchasesOf } from './clvDcf';
import type { ClvOptions } from './clvDcf';
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
  return discountedPurchasesOf(
    'clv.paretoNbdDiscountedPurchases',
    {
      expectedIfAlive: (t, xk, Tk) => paretoNbdConditionalExpectedPurchases(params, t, xk, Tk, Tk),
      probabilityAlive: (xk, txk, Tk) => paretoNbdProbabilityAlive(params, xk, txk, Tk),
    },
    x,
    tx,
    T,
    options,
  );
}
