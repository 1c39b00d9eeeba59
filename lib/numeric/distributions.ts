/**
 * The distributions custflow tests with: upper tails with full double precision in the far tails (p-values,
 * exact binomial answers) and the cdfs and quantiles that interval code needs.
 *
 * Tails are computed directly from the special functions (special.ts): jstat computes an upper tail as
 * 1 - cdf and stops its incomplete-beta continued fraction after 100 terms at 3e-7 tolerance, while an SRM
 * p-value of 1e-12, an ANOVA p-value of 1e-40 or a Beta(20000, 180000) cdf needs better. Cdfs and quantiles
 * in the body of a distribution come from jstat (typed here, so model code never touches an untyped module).
 */
import jStat from 'jstat';
import { erfc, regularizedIncompleteBeta, upperRegularizedGamma } from './special';

/** P(Z > z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Two-sided p-value P(|Z| >= |z|) for a standard normal Z. */
export function normalTwoSidedPValue(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return erfc(Math.abs(z) / Math.SQRT2);
}

/** Two-sided P(|T| >= |t|) for Student's t with df degrees of freedom: I_{df/(df+t^2)}(df/2, 1/2) (A&S 26.7). */
export function studentTTwoSidedPValue(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (!Number.isFinite(t)) return 0;
  if (df === Infinity) return normalTwoSidedPValue(t);
  const t2 = t * t;
  return regularizedIncompleteBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
}

/** P(T > t) for Student's t with df degrees of freedom. */
export function studentTUpperTail(t: number, df: number): number {
  const half = 0.5 * studentTTwoSidedPValue(t, df);
  return t >= 0 ? half : 1 - half;
}

/** P(X > x) for a chi-square X with df degrees of freedom: Q(df/2, x/2). */
export function chiSquareUpperTail(x: number, df: number): number {
  if (!(df > 0)) throw new Error(`chiSquareUpperTail: df must be > 0 (got ${df})`);
  return upperRegularizedGamma(df / 2, x / 2);
}

/**
 * P(X >= k) for X ~ Binomial(n, p), exactly: I_p(k, n - k + 1) (A&S 1964, 26.5.24).
 * Non-integer k is rounded up (X >= 2.5 means X >= 3).
 */
export function binomialUpperTail(n: number, p: number, k: number): number {
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`binomialUpperTail: n must be an integer >= 0 (got ${n})`);
  if (!(p >= 0 && p <= 1)) throw new Error(`binomialUpperTail: p must lie in [0, 1] (got ${p})`);
  const kk = Math.ceil(k);
  if (kk <= 0) return 1;
  if (kk > n) return 0;
  if (p === 0) return 0;
  if (p === 1) return 1;
  return regularizedIncompleteBeta(p, kk, n - kk + 1);
}

/**
 * P(F > f) for Snedecor's F with (df1, df2) degrees of freedom: I_{df2/(df2 + df1 f)}(df2/2, df1/2)
 * (A&S 26.6.2), with 1 - x passed exactly so that small p-values keep their digits.
 */
export function fUpperTail(f: number, df1: number, df2: number): number {
  if (!(f > 0)) return 1;
  if (!Number.isFinite(f)) return 0;
  const denominator = df2 + df1 * f;
  return regularizedIncompleteBeta(df2 / denominator, df2 / 2, df1 / 2, (df1 * f) / denominator);
}

/** P(Z <= x) for a normal with the given mean and standard deviation (jstat). */
export const normalCdf = (x: number, mean = 0, sd = 1): number => jStat.normal.cdf(x, mean, sd);
/** The p-quantile of a normal with the given mean and standard deviation (jstat). */
export const normalQuantile = (p: number, mean = 0, sd = 1): number => jStat.normal.inv(p, mean, sd);
/** The p-quantile of Student's t with df degrees of freedom (jstat). */
export const studentTQuantile = (p: number, df: number): number => jStat.studentt.inv(p, df);
