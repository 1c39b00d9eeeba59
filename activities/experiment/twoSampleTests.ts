/**
 * Frequentist two-sample comparisons of a treatment with the control: the two-proportion z-test for
 * conversion and Welch's unequal-variance t-test for a per-customer mean such as revenue. Each reports the
 * absolute lift with its Wald interval and the relative lift with its Fieller interval
 * (see relativeLiftInterval.ts).
 */
import {
  normalQuantile,
  normalTwoSidedPValue,
  studentTQuantile,
  studentTTwoSidedPValue,
} from '../../lib/numeric/distributions';
import { fiellerRelativeLiftInterval } from './relativeLiftInterval';

/** n, mean and unbiased variance of one group. */
export interface SampleSummary {
  n: number;
  mean: number;
  variance: number;
}

/** Treatment versus control on one metric. Relative values are fractions (0.05 = +5 %). */
export interface TwoSampleComparison {
  controlValue: number;
  treatmentValue: number;
  /** treatment - control. */
  absoluteLift: number;
  absoluteCi: [number, number];
  /** treatment / control - 1 (NaN when the control value is 0). */
  lift: number;
  /** Fieller interval for `lift`; NaN bounds when unbounded (see ciMethod). */
  ci: [number, number];
  ciMethod: 'fieller' | 'unbounded';
  /** z or t statistic. */
  statistic: number;
  /** Degrees of freedom of the statistic (Infinity for the z-test). */
  df: number;
  pValue: number;
  /** Unpooled standard error of the absolute lift. */
  standardError: number;
}

/** The two-sided critical value for a confidence level, normal when df is Infinity. */
export function criticalValue(confidence: number, df = Infinity): number {
  if (!(confidence > 0 && confidence < 1)) {
    throw new Error(`criticalValue: confidence must lie in (0, 1) (got ${confidence})`);
  }
  const upper = 1 - (1 - confidence) / 2;
  return df === Infinity || df > 1e7 ? normalQuantile(upper) : studentTQuantile(upper, df);
}

/**
 * Two-proportion z-test with the pooled standard error under H0: p_t = p_c (Fleiss, Levin and Paik 2003,
 * Statistical Methods for Rates and Proportions, ch. 2, without continuity correction); intervals use the
 * unpooled standard error.
 */
export function twoProportionZTest(
  successesControl: number,
  nControl: number,
  successesTreatment: number,
  nTreatment: number,
  confidence = 0.95,
): TwoSampleComparison {
  if (!(nControl > 0) || !(nTreatment > 0)) {
    throw new Error(
      `twoProportionZTest: both groups need at least one customer (n=${nControl}, ${nTreatment})`,
    );
  }
  if (
    successesControl < 0 ||
    successesControl > nControl ||
    successesTreatment < 0 ||
    successesTreatment > nTreatment
  ) {
    throw new Error('twoProportionZTest: successes must lie in [0, n] in each group');
  }
  const pc = successesControl / nControl;
  const pt = successesTreatment / nTreatment;
  const pooled = (successesControl + successesTreatment) / (nControl + nTreatment);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / nControl + 1 / nTreatment));
  const diff = pt - pc;
  const z = pooledSe > 0 ? diff / pooledSe : diff === 0 ? 0 : Math.sign(diff) * Infinity;
  const varianceMeanC = (pc * (1 - pc)) / nControl;
  const varianceMeanT = (pt * (1 - pt)) / nTreatment;
  const se = Math.sqrt(varianceMeanC + varianceMeanT);
  const q = criticalValue(confidence);
  const interval = fiellerRelativeLiftInterval(pt, varianceMeanT, pc, varianceMeanC, q);
  return {
    controlValue: pc,
    treatmentValue: pt,
    absoluteLift: diff,
    absoluteCi: [diff - q * se, diff + q * se],
    lift: pc > 0 ? pt / pc - 1 : NaN,
    ci: [interval.low, interval.high],
    ciMethod: interval.method,
    statistic: z,
    df: Infinity,
    pValue: normalTwoSidedPValue(z),
    standardError: se,
  };
}

/**
 * Welch's t-test with Welch-Satterthwaite degrees of freedom (Welch 1947, Biometrika 34;
 * Satterthwaite 1946). The Fieller interval uses the same t quantile, so it excludes 0 exactly when the
 * test rejects at 1 - confidence.
 */
export function welchTTest(
  control: SampleSummary,
  treatment: SampleSummary,
  confidence = 0.95,
): TwoSampleComparison {
  if (!(control.n >= 2) || !(treatment.n >= 2)) {
    throw new Error(`welchTTest: each group needs at least 2 customers (n=${control.n}, ${treatment.n})`);
  }
  const vc = control.variance / control.n;
  const vt = treatment.variance / treatment.n;
  const se = Math.sqrt(vc + vt);
  const diff = treatment.mean - control.mean;
  const df =
    se > 0
      ? ((vc + vt) * (vc + vt)) / ((vc * vc) / (control.n - 1) + (vt * vt) / (treatment.n - 1))
      : Infinity;
  const t = se > 0 ? diff / se : diff === 0 ? 0 : Math.sign(diff) * Infinity;
  const q = criticalValue(confidence, df);
  const interval = fiellerRelativeLiftInterval(treatment.mean, vt, control.mean, vc, q);
  return {
    controlValue: control.mean,
    treatmentValue: treatment.mean,
    absoluteLift: diff,
    absoluteCi: [diff - q * se, diff + q * se],
    lift: control.mean !== 0 ? treatment.mean / control.mean - 1 : NaN,
    ci: [interval.low, interval.high],
    ciMethod: interval.method,
    statistic: t,
    df,
    pValue: studentTTwoSidedPValue(t, df),
    standardError: se,
  };
}
