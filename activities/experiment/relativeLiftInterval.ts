/**
 * Confidence interval for the relative lift mean_t / mean_c - 1 of two independent sample means, by
 * Fieller's theorem (Fieller 1954, "Some problems in interval estimation", JRSS B 16(2)).
 *
 * Why Fieller rather than the delta method: the delta interval r +- q se(r) is symmetric and too narrow
 * when the control mean is noisy, while Fieller's set {r : (m_t - r m_c)^2 <= q^2 (v_t + r^2 v_c)} is exact
 * for normally distributed means, asymmetric as a ratio should be, and excludes r = 1 exactly when the
 * unpooled test of m_t = m_c at the same critical value q rejects. So with q the Welch t quantile the
 * interval agrees with the Welch p-value.
 *
 * When m_c^2 <= q^2 v_c (the control mean is not significantly different from 0) the set is unbounded and the
 * relative lift has no finite interval: the bounds are NaN and `method` says 'unbounded'.
 */

/** A relative-lift interval [low, high] (relative: 0.05 means +5 %). */
export interface RelativeLiftInterval {
  low: number;
  high: number;
  method: 'fieller' | 'unbounded';
}

/**
 * Fieller interval for mean_t / mean_c - 1.
 * @param meanTreatment sample mean of the treatment group
 * @param varianceOfMeanTreatment squared standard error of that mean (s_t^2 / n_t)
 * @param meanControl sample mean of the control group
 * @param varianceOfMeanControl squared standard error of that mean (s_c^2 / n_c)
 * @param critical two-sided critical value (1.96 for 95 % normal, or a t quantile)
 */
export function fiellerRelativeLiftInterval(
  meanTreatment: number,
  varianceOfMeanTreatment: number,
  meanControl: number,
  varianceOfMeanControl: number,
  critical: number,
): RelativeLiftInterval {
  const q2 = critical * critical;
  // Quadratic a r^2 - 2 b r + c <= 0 in the ratio r.
  const a = meanControl * meanControl - q2 * varianceOfMeanControl;
  const b = meanTreatment * meanControl;
  const c = meanTreatment * meanTreatment - q2 * varianceOfMeanTreatment;
  if (!(a > 0)) return { low: NaN, high: NaN, method: 'unbounded' };
  const discriminant = Math.max(0, b * b - a * c);
  const root = Math.sqrt(discriminant);
  return { low: (b - root) / a - 1, high: (b + root) / a - 1, method: 'fieller' };
}
