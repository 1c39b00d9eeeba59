/**
 * CUPED: variance reduction with a pre-experiment covariate (Deng, Xu, Kohavi and Walker 2013, "Improving
 * the sensitivity of online controlled experiments by utilizing pre-experiment data", WSDM).
 * Y_cuped = Y - theta (X - mean(X)) with theta = cov(Y, X) / var(X) estimated on both arms pooled; because
 * X is measured before assignment, the adjustment leaves the treatment effect unbiased and shrinks the
 * variance of each arm's mean by the factor 1 - rho^2.
 */
import { groupMoments } from './groupMoments';

/** The CUPED coefficient and the adjusted outcome. */
export interface CupedAdjustment {
  /** cov(Y, X) / var(X) over the included rows (0 when X is constant). */
  theta: number;
  /** Mean of X over the included rows, subtracted so adjusted means stay on the scale of Y. */
  meanX: number;
  /** Y - theta (X - meanX) for included rows; NaN for rows left out. */
  adjusted: Float64Array;
}

/**
 * theta and the adjusted outcome. `arm[i]` is the arm of row i in [0, armCount), or -1 to leave the row out
 * (e.g. a second treatment when comparing control with the first). theta uses the pooled within-arm
 * covariance and variance, so a real treatment effect on Y does not leak into it; omit `arm` for one group.
 */
export function cupedAdjust(
  y: ArrayLike<number>,
  x: ArrayLike<number>,
  arm?: ArrayLike<number>,
  armCount = 1,
): CupedAdjustment {
  const n = y.length;
  if (x.length !== n) throw new Error(`cupedAdjust: covariate has ${x.length} values, outcome has ${n}`);
  if (arm && arm.length !== n) throw new Error(`cupedAdjust: arm has ${arm.length} values, outcome has ${n}`);
  const group = arm ?? new Int32Array(n);
  const groups = arm ? armCount : 1;
  const moments = groupMoments(group, groups, y, x);
  const meanXByArm = moments.meanX as Float64Array;
  const varianceXByArm = moments.varianceX as Float64Array;
  const covarianceByArm = moments.covarianceXY as Float64Array;
  let covariance = 0;
  let varianceX = 0;
  let total = 0;
  let sumX = 0;
  for (let g = 0; g < groups; g++) {
    const c = moments.count[g];
    if (c === 0) continue;
    total += c;
    sumX += meanXByArm[g] * c;
    if (c < 2) continue;
    covariance += covarianceByArm[g] * (c - 1);
    varianceX += varianceXByArm[g] * (c - 1);
  }
  const theta = varianceX > 0 ? covariance / varianceX : 0;
  const meanX = total > 0 ? sumX / total : NaN;
  const adjusted = new Float64Array(n);
  for (let i = 0; i < n; i++) adjusted[i] = group[i] >= 0 ? y[i] - theta * (x[i] - meanX) : NaN;
  return { theta, meanX, adjusted };
}
