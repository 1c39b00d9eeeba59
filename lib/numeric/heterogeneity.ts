/**
 * Cochran's Q test of heterogeneity (Cochran 1954): do k independent estimates d_i with variances v_i share
 * one true value? Q = sum w_i (d_i - dbar)^2 with w_i = 1 / v_i and dbar the inverse-variance weighted mean;
 * under equal true values Q ~ chi-square(k - 1). Applied to per-segment treatment effects it is the Wald test
 * of the treatment x segment interaction.
 */
import { chiSquareUpperTail } from './distributions';

export interface HeterogeneityTest {
  q: number;
  df: number;
  pValue: number;
  /** Inverse-variance weighted mean of the estimates (the common effect under the null). */
  pooled: number;
  /** Estimates used (those with a finite estimate and a positive finite variance). */
  k: number;
}

/** Cochran's Q over the estimates with a positive finite variance; null when fewer than two remain. */
export function cochranQ(
  estimates: readonly number[],
  variances: readonly number[],
): HeterogeneityTest | null {
  if (estimates.length !== variances.length) {
    throw new Error(`cochranQ: ${estimates.length} estimates but ${variances.length} variances`);
  }
  let sw = 0;
  let swd = 0;
  let k = 0;
  for (let i = 0; i < estimates.length; i++) {
    const d = estimates[i];
    const v = variances[i];
    if (!Number.isFinite(d) || !(v > 0) || !Number.isFinite(v)) continue;
    sw += 1 / v;
    swd += d / v;
    k++;
  }
  if (k < 2) return null;
  const pooled = swd / sw;
  let q = 0;
  for (let i = 0; i < estimates.length; i++) {
    const d = estimates[i];
    const v = variances[i];
    if (!Number.isFinite(d) || !(v > 0) || !Number.isFinite(v)) continue;
    q += (d - pooled) ** 2 / v;
  }
  return { q, df: k - 1, pValue: chiSquareUpperTail(q, k - 1), pooled, k };
}
