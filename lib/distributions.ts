/**
 * Typed access to the distributions custflow needs (through jstat), so model code never touches an
 * untyped module. Parameterisations are spelled out in each name.
 */
import jStat from 'jstat';

export const normalCdf = (x: number, mean = 0, sd = 1): number => jStat.normal.cdf(x, mean, sd);
export const normalQuantile = (p: number, mean = 0, sd = 1): number => jStat.normal.inv(p, mean, sd);
export const studentTCdf = (t: number, df: number): number => jStat.studentt.cdf(t, df);
export const studentTQuantile = (p: number, df: number): number => jStat.studentt.inv(p, df);
export const chiSquareCdf = (x: number, df: number): number => jStat.chisquare.cdf(x, df);
export const fCdf = (x: number, df1: number, df2: number): number => jStat.centralF.cdf(x, df1, df2);
export const betaCdf = (x: number, a: number, b: number): number => jStat.beta.cdf(x, a, b);
export const betaQuantile = (p: number, a: number, b: number): number => jStat.beta.inv(p, a, b);
/** Gamma with shape k and scale theta (jstat's parameterisation). */
export const gammaShapeScaleCdf = (x: number, shape: number, scale: number): number =>
  jStat.gamma.cdf(x, shape, scale);
export const logGamma = (x: number): number => jStat.gammaln(x);
export const logBeta = (a: number, b: number): number => jStat.betaln(a, b);
/** Regularized incomplete beta I_x(a, b). */
export const regularizedIncompleteBeta = (x: number, a: number, b: number): number => jStat.ibeta(x, a, b);
