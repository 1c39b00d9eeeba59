/**
 * Held-out metrics of a probabilistic binary classifier: ROC AUC, average precision (PR-AUC), Brier score,
 * log-loss, accuracy at a threshold, and a calibration table with the Hosmer-Lemeshow statistic.
 *
 * Scores may be any real numbers for the ranking metrics (AUC, average precision); the probability metrics
 * require values in [0, 1]. NaN scores are an error: a model that emits them is broken, and silently dropping
 * rows would flatter it.
 */
import { chiSquareUpperTail } from '../../lib/numeric/distributions';

function checkInputs(
  where: string,
  scores: ArrayLike<number>,
  y: Uint8Array,
  probabilities: boolean,
): { positives: number } {
  if (scores.length !== y.length) {
    throw new Error(`${where}: scores has ${scores.length} values, labels y has ${y.length}`);
  }
  if (y.length === 0) throw new Error(`${where}: needs at least one row`);
  let positives = 0;
  for (let i = 0; i < y.length; i++) {
    const s = scores[i];
    if (!(s === s) || (probabilities && (s < 0 || s > 1))) {
      throw new Error(
        `${where}: score must be ${probabilities ? 'a probability in [0, 1]' : 'a number, not NaN'} (row ${i}, got ${s})`,
      );
    }
    if (y[i] > 1) throw new Error(`${where}: label y must be 0 or 1 (row ${i}, got ${y[i]})`);
    positives += y[i];
  }
  return { positives };
}

/** Scores of the positive rows and of the negative rows, each sorted ascending. */
function splitSorted(
  scores: ArrayLike<number>,
  y: Uint8Array,
  positives: number,
): { pos: Float64Array; neg: Float64Array } {
  const pos = new Float64Array(positives);
  const neg = new Float64Array(y.length - positives);
  for (let i = 0, a = 0, b = 0; i < y.length; i++) {
    if (y[i] === 1) pos[a++] = scores[i];
    else neg[b++] = scores[i];
  }
  return { pos: pos.sort(), neg: neg.sort() };
}

/**
 * Area under the ROC curve: the Mann-Whitney statistic U / (n1 n0) (Mann and Whitney 1947; Hanley and McNeil
 * 1982, eq. 2), the probability that a random positive scores above a random negative, ties counting 1/2.
 * Throws unless both classes occur.
 */
export function rocAuc(scores: ArrayLike<number>, y: Uint8Array): number {
  const { positives } = checkInputs('rocAuc', scores, y, false);
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new Error(`rocAuc: labels y must contain both classes (${positives} positives of ${y.length})`);
  }
  const { pos, neg } = splitSorted(scores, y, positives);
  // For each positive (ascending), count negatives strictly below it and tied with it.
  let below = 0;
  let belowOrEqual = 0;
  let u = 0;
  for (let k = 0; k < positives; k++) {
    const s = pos[k];
    while (below < negatives && neg[below] < s) below++;
    if (belowOrEqual < below) belowOrEqual = below;
    while (belowOrEqual < negatives && neg[belowOrEqual] <= s) belowOrEqual++;
    u += below + 0.5 * (belowOrEqual - below);
  }
  return u / (positives * negatives);
}

/**
 * Average precision, sum over thresholds of (R_k - R_{k-1}) P_k, one threshold per distinct score, highest
 * first (the step-wise PR-AUC of scikit-learn's average_precision_score; Manning, Raghavan and Schuetze 2008,
 * section 8.4). Tied scores enter together. Throws when there is no positive.
 */
export function averagePrecision(scores: ArrayLike<number>, y: Uint8Array): number {
  const { positives } = checkInputs('averagePrecision', scores, y, false);
  if (positives === 0)
    throw new Error('averagePrecision: labels y contain no positive, so recall is undefined');
  const { pos, neg } = splitSorted(scores, y, positives);
  let ip = pos.length - 1;
  let ineg = neg.length - 1;
  let truePositives = 0;
  let falsePositives = 0;
  let previousRecall = 0;
  let ap = 0;
  while (ip >= 0) {
    const threshold = ineg >= 0 && neg[ineg] > pos[ip] ? neg[ineg] : pos[ip];
    while (ip >= 0 && pos[ip] === threshold) {
      truePositives++;
      ip--;
    }
    while (ineg >= 0 && neg[ineg] === threshold) {
      falsePositives++;
      ineg--;
    }
    const recall = truePositives / positives;
    if (recall > previousRecall) {
      ap += (recall - previousRecall) * (truePositives / (truePositives + falsePositives));
      previousRecall = recall;
    }
  }
  return ap;
}

/** Brier score: mean squared difference between the predicted probability and the 0/1 outcome (Brier 1950). */
export function brierScore(probabilities: ArrayLike<number>, y: Uint8Array): number {
  checkInputs('brierScore', probabilities, y, true);
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const d = probabilities[i] - y[i];
    s += d * d;
  }
  return s / y.length;
}

/** Mean negative log-likelihood of the outcomes, probabilities clipped to [1e-15, 1 - 1e-15] as scikit-learn does. */
export function logLoss(probabilities: ArrayLike<number>, y: Uint8Array): number {
  checkInputs('logLoss', probabilities, y, true);
  const eps = 1e-15;
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const p = Math.min(Math.max(probabilities[i], eps), 1 - eps);
    s -= y[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return s / y.length;
}

/** Share of rows classified correctly when p >= threshold predicts 1 (default threshold 0.5). */
export function accuracy(probabilities: ArrayLike<number>, y: Uint8Array, threshold = 0.5): number {
  checkInputs('accuracy', probabilities, y, true);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if ((probabilities[i] >= threshold ? 1 : 0) === y[i]) correct++;
  return correct / y.length;
}

/** One row of a calibration table. */
export interface CalibrationBin {
  /** Smallest and largest predicted probability in the bin. */
  lower: number;
  upper: number;
  /** Mean predicted probability (the expected rate). */
  meanPredicted: number;
  /** Share of positives observed. */
  observedRate: number;
  count: number;
}

/** Options of calibrationTable. */
export interface CalibrationOptions {
  /** Number of bins, default 10 (deciles). */
  bins?: number;
  /** 'quantile' (equal counts, ties kept together; the default) or 'uniform' (equal widths on [0, 1]). */
  strategy?: 'quantile' | 'uniform';
}

/**
 * Calibration (reliability) table: rows grouped by predicted probability, with mean predicted and observed
 * rate per group (Hosmer and Lemeshow 1980 use the same deciles of risk). In quantile mode the cut points are
 * the k/bins order statistics and a row equal to a cut point goes to the upper bin, so ties never straddle two
 * bins (bins can then be uneven; empty bins are dropped). The counts sum to n.
 */
export function calibrationTable(
  probabilities: ArrayLike<number>,
  y: Uint8Array,
  options: CalibrationOptions = {},
): CalibrationBin[] {
  checkInputs('calibrationTable', probabilities, y, true);
  const bins = options.bins ?? 10;
  const strategy = options.strategy ?? 'quantile';
  if (!Number.isInteger(bins) || bins < 1)
    throw new Error(`calibrationTable: bins must be an integer >= 1 (got ${bins})`);
  const n = y.length;
  const cuts = new Float64Array(bins - 1);
  if (strategy === 'quantile') {
    const sorted = Float64Array.from(probabilities).sort();
    for (let k = 1; k < bins; k++) cuts[k - 1] = sorted[Math.floor((k * n) / bins)];
  } else if (strategy === 'uniform') {
    for (let k = 1; k < bins; k++) cuts[k - 1] = k / bins;
  } else {
    throw new Error(`calibrationTable: strategy must be 'quantile' or 'uniform' (got ${String(strategy)})`);
  }
  const count = new Float64Array(bins);
  const sumPredicted = new Float64Array(bins);
  const sumObserved = new Float64Array(bins);
  const lower = new Float64Array(bins).fill(Infinity);
  const upper = new Float64Array(bins).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const p = probabilities[i];
    // Number of cut points <= p.
    let lo = 0;
    let hi = cuts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cuts[mid] <= p) lo = mid + 1;
      else hi = mid;
    }
    count[lo]++;
    sumPredicted[lo] += p;
    sumObserved[lo] += y[i];
    if (p < lower[lo]) lower[lo] = p;
    if (p > upper[lo]) upper[lo] = p;
  }
  const table: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (count[b] === 0) continue;
    table.push({
      lower: lower[b],
      upper: upper[b],
      meanPredicted: sumPredicted[b] / count[b],
      observedRate: sumObserved[b] / count[b],
      count: count[b],
    });
  }
  return table;
}

/** Hosmer-Lemeshow goodness-of-fit test on a calibration table. */
export interface HosmerLemeshow {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
}

/**
 * Hosmer-Lemeshow statistic sum_g (O_g - E_g)^2 / (E_g (1 - E_g / n_g)) over the bins, referred to a
 * chi-square with (bins - 2) degrees of freedom (Hosmer and Lemeshow 1980). Bins whose expected count is 0 or
 * n_g contribute nothing.
 */
export function hosmerLemeshow(table: readonly CalibrationBin[]): HosmerLemeshow {
  let statistic = 0;
  for (const bin of table) {
    const expected = bin.meanPredicted * bin.count;
    const observed = bin.observedRate * bin.count;
    const variance = expected * (1 - bin.meanPredicted);
    if (variance > 0) statistic += ((observed - expected) * (observed - expected)) / variance;
  }
  const degreesOfFreedom = Math.max(1, table.length - 2);
  return { statistic, degreesOfFreedom, pValue: chiSquareUpperTail(statistic, degreesOfFreedom) };
}

/** All held-out metrics of one classifier at once. */
export interface BinaryMetrics {
  n: number;
  positiveRate: number;
  auc: number;
  prAuc: number;
  brier: number;
  logLoss: number;
  accuracy: number;
}

/** AUC, average precision, Brier score, log-loss and accuracy (at `threshold`) of probabilities against y. */
export function evaluateBinary(
  probabilities: ArrayLike<number>,
  y: Uint8Array,
  threshold = 0.5,
): BinaryMetrics {
  const { positives } = checkInputs('evaluateBinary', probabilities, y, true);
  return {
    n: y.length,
    positiveRate: positives / y.length,
    auc: rocAuc(probabilities, y),
    prAuc: averagePrecision(probabilities, y),
    brier: brierScore(probabilities, y),
    logLoss: logLoss(probabilities, y),
    accuracy: accuracy(probabilities, y, threshold),
  };
}
