/**
 * Per-group sample moments in two passes over typed arrays (means first, then centred sums), so variances
 * of revenue stay accurate at a million customers where sum-of-squares formulas lose digits.
 */

/** Count, mean and unbiased variance of y per group; with a covariate x also its moments and cov(x, y). */
export interface GroupMoments {
  groupCount: number;
  count: Float64Array;
  meanY: Float64Array;
  /** Unbiased (n - 1) sample variance; NaN for a group with fewer than 2 members. */
  varianceY: Float64Array;
  meanX: Float64Array | null;
  varianceX: Float64Array | null;
  covarianceXY: Float64Array | null;
}

/**
 * Moments of y (and optionally x) per group. `group[i]` in [0, groupCount) or -1 to leave row i out.
 * Groups with no rows get count 0 and NaN moments.
 */
export function groupMoments(
  group: ArrayLike<number>,
  groupCount: number,
  y: ArrayLike<number>,
  x?: ArrayLike<number>,
): GroupMoments {
  const n = group.length;
  const count = new Float64Array(groupCount);
  const meanY = new Float64Array(groupCount);
  const meanX = x ? new Float64Array(groupCount) : null;
  for (let i = 0; i < n; i++) {
    const g = group[i];
    if (g < 0) continue;
    count[g]++;
    meanY[g] += y[i];
    if (meanX && x) meanX[g] += x[i];
  }
  for (let g = 0; g < groupCount; g++) {
    meanY[g] = count[g] > 0 ? meanY[g] / count[g] : NaN;
    if (meanX) meanX[g] = count[g] > 0 ? meanX[g] / count[g] : NaN;
  }
  const varianceY = new Float64Array(groupCount);
  const varianceX = x ? new Float64Array(groupCount) : null;
  const covarianceXY = x ? new Float64Array(groupCount) : null;
  for (let i = 0; i < n; i++) {
    const g = group[i];
    if (g < 0) continue;
    const dy = y[i] - meanY[g];
    varianceY[g] += dy * dy;
    if (x && meanX && varianceX && covarianceXY) {
      const dx = x[i] - meanX[g];
      varianceX[g] += dx * dx;
      covarianceXY[g] += dx * dy;
    }
  }
  for (let g = 0; g < groupCount; g++) {
    const denominator = count[g] - 1;
    varianceY[g] = denominator > 0 ? varianceY[g] / denominator : NaN;
    if (varianceX && covarianceXY) {
      varianceX[g] = denominator > 0 ? varianceX[g] / denominator : NaN;
      covarianceXY[g] = denominator > 0 ? covarianceXY[g] / denominator : NaN;
    }
  }
  return { groupCount, count, meanY, varianceY, meanX, varianceX, covarianceXY };
}
