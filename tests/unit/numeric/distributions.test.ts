import { describe, expect, it } from 'vitest';
import {
  binomialUpperTail,
  chiSquareUpperTail,
  fUpperTail,
  normalTwoSidedPValue,
  normalUpperTail,
  studentTTwoSidedPValue,
  studentTUpperTail,
} from '../../../lib/numeric/distributions';
import { erfc, regularizedIncompleteBeta } from '../../../lib/numeric/special';

const relativeError = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('erfc and normal tails', () => {
  it('matches tabulated values, including the far tail', () => {
    // Abramowitz and Stegun 1964, table 7.1, and Wolfram values.
    expect(relativeError(erfc(1), 0.15729920705028513)).toBeLessThan(1e-14);
    expect(relativeError(erfc(0.1), 0.887537083981715)).toBeLessThan(1e-14);
    expect(relativeError(erfc(4), 1.541725790028002e-8)).toBeLessThan(1e-13);
    expect(relativeError(erfc(5), 1.537459794428035e-12)).toBeLessThan(1e-13);
    expect(erfc(-1)).toBeCloseTo(2 - 0.15729920705028513, 14);
  });

  it('gives the textbook normal quantiles', () => {
    expect(normalUpperTail(1.959963984540054)).toBeCloseTo(0.025, 14);
    expect(normalTwoSidedPValue(-2.5758293035489004)).toBeCloseTo(0.01, 14);
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 15);
  });
});

describe('Student t', () => {
  it('two-sided p-value at the tabulated 97.5 % quantiles', () => {
    // qt(0.975, df) from R.
    expect(studentTTwoSidedPValue(2.228138851986274, 10)).toBeCloseTo(0.05, 12);
    expect(studentTTwoSidedPValue(12.70620473617471, 1)).toBeCloseTo(0.05, 12);
    // 2 df in closed form: P(|T| > t) = 1 - t / sqrt(2 + t^2), far into the tail too.
    for (const t of [0.5, 3, 40]) {
      expect(relativeError(studentTTwoSidedPValue(t, 2), 1 - t / Math.sqrt(2 + t * t))).toBeLessThan(1e-11);
    }
  });

  it('upper tail is symmetric and uses the sign', () => {
    expect(studentTUpperTail(2.228138851986274, 10)).toBeCloseTo(0.025, 12);
    expect(studentTUpperTail(-2.228138851986274, 10)).toBeCloseTo(0.975, 12);
    // t with 1 df is Cauchy: P(T > 1) = 1/4.
    expect(studentTUpperTail(1, 1)).toBeCloseTo(0.25, 14);
  });
});

describe('chi-square upper tail', () => {
  it('matches qchisq and the closed form for 1 and 2 df', () => {
    expect(chiSquareUpperTail(3.841458820694124, 1)).toBeCloseTo(0.05, 13);
    expect(chiSquareUpperTail(11.070497693516351, 5)).toBeCloseTo(0.05, 13);
    // 1 df: P(X > x) = erfc(sqrt(x/2)); chi-square 32 is erfc(4).
    expect(relativeError(chiSquareUpperTail(32, 1), 1.541725790028002e-8)).toBeLessThan(1e-12);
    // 2 df: P(X > x) = exp(-x/2), also far in the tail.
    expect(relativeError(chiSquareUpperTail(100, 2), Math.exp(-50))).toBeLessThan(1e-12);
  });
});

describe('regularized incomplete beta and binomial tail', () => {
  it('matches closed forms', () => {
    // I_x(1, b) = 1 - (1-x)^b and I_x(a, 1) = x^a.
    expect(regularizedIncompleteBeta(0.3, 1, 7)).toBeCloseTo(1 - 0.7 ** 7, 14);
    expect(regularizedIncompleteBeta(0.3, 5, 1)).toBeCloseTo(0.3 ** 5, 15);
    // Symmetry I_{1/2}(a, a) = 1/2 also for parameters where jstat's 100-term fraction is not enough.
    expect(regularizedIncompleteBeta(0.5, 50_000, 50_000)).toBeCloseTo(0.5, 9);
  });

  it('gives exact binomial upper tails', () => {
    expect(binomialUpperTail(10, 0.5, 8)).toBeCloseTo(56 / 1024, 14);
    expect(binomialUpperTail(10, 0.5, 0)).toBe(1);
    expect(binomialUpperTail(10, 0.5, 11)).toBe(0);
    expect(binomialUpperTail(10, 0.3, 2.5)).toBeCloseTo(binomialUpperTail(10, 0.3, 3), 15);
    // Bin(2m+1, 1/2) is symmetric about m + 1/2.
    expect(binomialUpperTail(200_001, 0.5, 100_001)).toBeCloseTo(0.5, 9);
    // Direct pmf sum for a small case: P(Bin(20, 0.1) >= 5).
    let direct = 0;
    let pmf = 0.9 ** 20;
    for (let k = 0; k <= 20; k++) {
      if (k >= 5) direct += pmf;
      pmf *= ((20 - k) / (k + 1)) * (0.1 / 0.9);
    }
    expect(binomialUpperTail(20, 0.1, 5)).toBeCloseTo(direct, 14);
  });
});

describe('F upper tail', () => {
  it('matches the published 5 % and 1 % points and the closed form for 2 numerator df', () => {
    // Critical values F_0.05(3, 10) = 3.708265 and F_0.01(2, 20) = 5.848932 (R qf; Fisher-Yates tables).
    expect(fUpperTail(3.708265, 3, 10)).toBeCloseTo(0.05, 7);
    expect(fUpperTail(5.848932, 2, 20)).toBeCloseTo(0.01, 7);
    // F(2, n): P(F > f) = (1 + 2 f / n)^(-n/2), exact; far in the tail the relative error stays small.
    expect(relativeError(fUpperTail(1000, 2, 10), 201 ** -5)).toBeLessThan(1e-12);
    expect(fUpperTail(0, 2, 10)).toBe(1);
    expect(fUpperTail(Infinity, 2, 10)).toBe(0);
  });
});
