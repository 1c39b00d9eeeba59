/**
 * Power and minimum detectable effect (MDE) of the two tests in twoSampleTests.ts, for the sample sizes an
 * experiment actually had. Two-sided test at level alpha; like R's power.prop.test and power.t.test with
 * strict = FALSE, the power counts only rejections in the direction of the effect (the other tail adds less
 * than alpha / 2 and nothing at realistic effects).
 */
import {
  normalCdf,
  normalQuantile,
  studentTQuantile,
  studentTUpperTail,
} from '../../lib/numeric/distributions';

/** An effect size on the absolute scale and relative to the control (baseline) value. */
export interface MinimumDetectableEffect {
  absolute: number;
  relative: number;
}

function checkLevels(where: string, alpha: number, power?: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new Error(`${where}: alpha must lie in (0, 1) (got ${alpha})`);
  if (power !== undefined && !(power > 0 && power < 1)) {
    throw new Error(`${where}: power must lie in (0, 1) (got ${power})`);
  }
}

/**
 * Power of the two-proportion z-test to detect p_t = p_c + effect (Fleiss, Levin and Paik 2003, Statistical
 * Methods for Rates and Proportions, ch. 4, without continuity correction; with equal groups this is R's
 * power.prop.test):
 * Phi((|d| - z_{1-alpha/2} sqrt(pbar qbar (1/n_c + 1/n_t))) / sqrt(p_c q_c / n_c + p_t q_t / n_t)).
 */
export function proportionTestPower(
  baseline: number,
  nControl: number,
  nTreatment: number,
  absoluteEffect: number,
  alpha = 0.05,
): number {
  checkLevels('proportionTestPower', alpha);
  if (!(baseline >= 0 && baseline <= 1)) {
    throw new Error(`proportionTestPower: baseline must lie in [0, 1] (got ${baseline})`);
  }
  const pc = baseline;
  const pt = baseline + absoluteEffect;
  if (!(pt >= 0 && pt <= 1)) return NaN;
  const pooled = (nControl * pc + nTreatment * pt) / (nControl + nTreatment);
  const nullSd = Math.sqrt(pooled * (1 - pooled) * (1 / nControl + 1 / nTreatment));
  const alternativeSd = Math.sqrt((pc * (1 - pc)) / nControl + (pt * (1 - pt)) / nTreatment);
  const z = normalQuantile(1 - alpha / 2);
  const margin = Math.abs(absoluteEffect) - z * nullSd;
  if (alternativeSd === 0) return margin > 0 ? 1 : 0;
  return normalCdf(margin / alternativeSd);
}

/**
 * The smallest increase of the conversion rate the z-test detects with the given power: the root of
 * proportionTestPower(d) = power by bisection (power rises with d). NaN when even p_t = 1 is not enough.
 */
export function proportionMinimumDetectableEffect(
  baseline: number,
  nControl: number,
  nTreatment: number,
  alpha = 0.05,
  power = 0.8,
): MinimumDetectableEffect {
  checkLevels('proportionMinimumDetectableEffect', alpha, power);
  let high = 1 - baseline;
  if (!(high > 0) || proportionTestPower(baseline, nControl, nTreatment, high, alpha) < power) {
    return { absolute: NaN, relative: NaN };
  }
  let low = 0;
  for (let iteration = 0; iteration < 200 && high - low > 1e-15 * Math.max(1, high); iteration++) {
    const mid = 0.5 * (low + high);
    if (proportionTestPower(baseline, nControl, nTreatment, mid, alpha) < power) low = mid;
    else high = mid;
  }
  return { absolute: high, relative: baseline > 0 ? high / baseline : NaN };
}

function welchDf(sdControl: number, sdTreatment: number, nControl: number, nTreatment: number): number {
  const vc = (sdControl * sdControl) / nControl;
  const vt = (sdTreatment * sdTreatment) / nTreatment;
  const denominator = (vc * vc) / (nControl - 1) + (vt * vt) / (nTreatment - 1);
  return denominator > 0 ? ((vc + vt) * (vc + vt)) / denominator : Infinity;
}

/**
 * Power of Welch's t-test to detect a difference in means, approximating the noncentral t by a central t
 * shifted by the noncentrality d / se (Cohen 1988, Statistical Power Analysis for the Behavioral Sciences,
 * ch. 2): 0.86885 against R's power.t.test(n = 20, delta = 1) = 0.86895, and exact as n grows.
 */
export function meanTestPower(
  sdControl: number,
  sdTreatment: number,
  nControl: number,
  nTreatment: number,
  absoluteEffect: number,
  alpha = 0.05,
): number {
  checkLevels('meanTestPower', alpha);
  if (!(nControl >= 2) || !(nTreatment >= 2)) throw new Error('meanTestPower: each group needs n >= 2');
  const se = Math.sqrt((sdControl * sdControl) / nControl + (sdTreatment * sdTreatment) / nTreatment);
  const df = welchDf(sdControl, sdTreatment, nControl, nTreatment);
  if (!(se > 0)) return absoluteEffect !== 0 ? 1 : 0;
  const critical = df > 1e7 ? normalQuantile(1 - alpha / 2) : studentTQuantile(1 - alpha / 2, df);
  return studentTUpperTail(critical - Math.abs(absoluteEffect) / se, df);
}

/** The difference in means Welch's t-test detects with the given power: (t_{1-alpha/2} + t_{power}) se. */
export function meanMinimumDetectableEffect(
  sdControl: number,
  sdTreatment: number,
  nControl: number,
  nTreatment: number,
  baselineMean: number,
  alpha = 0.05,
  power = 0.8,
): MinimumDetectableEffect {
  checkLevels('meanMinimumDetectableEffect', alpha, power);
  if (!(nControl >= 2) || !(nTreatment >= 2))
    throw new Error('meanMinimumDetectableEffect: each group needs n >= 2');
  const se = Math.sqrt((sdControl * sdControl) / nControl + (sdTreatment * sdTreatment) / nTreatment);
  const df = welchDf(sdControl, sdTreatment, nControl, nTreatment);
  const quantile = (p: number): number => (df > 1e7 ? normalQuantile(p) : studentTQuantile(p, df));
  const absolute = (quantile(1 - alpha / 2) + quantile(power)) * se;
  return { absolute, relative: baselineMean !== 0 ? absolute / Math.abs(baselineMean) : NaN };
}
