/**
 * Sample ratio mismatch check: a chi-square goodness-of-fit test of the observed variant counts against the
 * planned split (Fabijan et al. 2019, "Diagnosing sample ratio mismatch in online controlled experiments",
 * KDD). A tiny p-value means assignment or logging is broken and the experiment's lift is
 * untrustworthy, whatever its own p-value says.
 */
import { chiSquareUpperTail } from '../../lib/numeric/distributions';

/** Result of the SRM check. */
export interface SampleRatioMismatch {
  chiSquare: number;
  df: number;
  /** P(chi-square_df >= chiSquare) under the planned split. */
  pValue: number;
  /** pValue < threshold. */
  flagged: boolean;
  threshold: number;
  observed: number[];
  expected: number[];
  /** The planned split normalised to shares summing to 1. */
  plannedShare: number[];
}

/** Default flagging threshold: strict, because a real SRM is usually glaring and false alarms are costly. */
export const DEFAULT_SRM_THRESHOLD = 0.001;

/**
 * Chi-square SRM test. `plannedSplit` holds positive weights per variant (any scale; default equal).
 * Pearson's statistic sum (O - E)^2 / E on k - 1 degrees of freedom.
 */
export function sampleRatioMismatch(
  counts: readonly number[],
  plannedSplit?: readonly number[],
  threshold = DEFAULT_SRM_THRESHOLD,
): SampleRatioMismatch {
  const k = counts.length;
  if (k < 2) throw new Error(`sampleRatioMismatch: need at least 2 variants (got ${k})`);
  const weights = plannedSplit ?? counts.map(() => 1);
  if (weights.length !== k) {
    throw new Error(`sampleRatioMismatch: plannedSplit has ${weights.length} weights for ${k} variants`);
  }
  weights.forEach((w, j) => {
    if (!(w > 0) || !Number.isFinite(w)) {
      throw new Error(`sampleRatioMismatch: plannedSplit weight ${j} must be a finite number > 0 (got ${w})`);
    }
  });
  counts.forEach((c, j) => {
    if (!Number.isInteger(c) || c < 0) {
      throw new Error(`sampleRatioMismatch: count ${j} must be an integer >= 0 (got ${c})`);
    }
  });
  const totalWeight = weights.reduce((s, w) => s + w, 0);
  const total = counts.reduce((s, c) => s + c, 0);
  const plannedShare = weights.map((w) => w / totalWeight);
  const expected = plannedShare.map((share) => share * total);
  let chiSquare = 0;
  for (let j = 0; j < k; j++) {
    const d = counts[j] - expected[j];
    chiSquare += expected[j] > 0 ? (d * d) / expected[j] : 0;
  }
  const df = k - 1;
  const pValue = total > 0 ? chiSquareUpperTail(chiSquare, df) : 1;
  return {
    chiSquare,
    df,
    pValue,
    flagged: pValue < threshold,
    threshold,
    observed: [...counts],
    expected,
    plannedShare,
  };
}
