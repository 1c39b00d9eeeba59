/**
 * Value models beside the high-value logistic classifier, on the same training and holdout windows:
 *
 * - a depth-limited classification tree (CART, lib/ruleTree.ts) of the high-value label on the features in
 *   their own units (missing values at the training median), whose leaves are readable rules; its probability is the high-value share of the leaf,
 *   so it is judged by the same accuracy (at 0.5), AUC and Brier score as the logistic models;
 * - a spend regression: ordinary least squares of log(1 + future spend) on the standardised features (the
 *   churn models' standardiser: median imputation, sign(x) log1p(|x|) for skewed columns), with 95%
 *   confidence intervals from the classical covariance s^2 (X'X)^-1 and the normal quantile (the windows
 *   hold thousands of customers, where the t and normal quantiles agree to three digits), R^2 on the
 *   training window and on the holdout.
 *
 * Features that are constant on the training window are left out of the regression (their column of X'X is
 * zero), and so is a feature that is a linear combination of the ones before it (the weekday or season
 * spend shares sum to 1 with the intercept): columns are added in feature order and one whose Cholesky pivot
 * vanishes is named in `collinearFeatures` instead.
 */
import { cholesky, choleskyInverse } from '../../lib/numeric/linalg';
import { normalQuantile } from '../../lib/numeric/distributions';
import { fitRuleTree, ruleOf, ruleText } from '../../lib/ruleTree';
import type { FeatureMatrix } from './data';
import { evaluateBinary, type BinaryMetrics } from './metrics';
import { applyStandardizer, fitStandardizer } from './standardize';
import { runToEnd, type Steps } from '../../lib/yieldEvery';

/** One window's rows: features, high-value labels and the spend the label was cut from. */
export interface ValueWindow {
  X: FeatureMatrix;
  y: Uint8Array;
  spend: Float64Array;
}

export interface ValueModelOptions {
  featureNames: readonly string[];
  log1pFeatures?: readonly string[];
  /** Depth of the tree, 1..4 (default 3: rules short enough to read). */
  treeDepth?: number;
  /** Fewest training customers in a leaf (default max(20, 1% of rows)). */
  minLeaf?: number;
}

export interface TreeRuleSummary {
  text: string;
  customers: number;
  /** Share of the leaf's training customers who are high-value. */
  highValueShare: number;
}

export interface ValueTreeResult {
  depth: number;
  metrics: BinaryMetrics;
  rules: TreeRuleSummary[];
}

export interface CoefficientInterval {
  name: string;
  estimate: number;
  se: number;
  lower: number;
  upper: number;
}

export interface SpendRegressionResult {
  n: number;
  /** Intercept first, then one per kept feature (standardised units). */
  coefficients: CoefficientInterval[];
  droppedFeatures: string[];
  /** Features left out because they are linear combinations of the intercept and earlier features. */
  collinearFeatures: string[];
  r2: number;
  holdoutR2: number;
  residualSd: number;
}

export interface ValueModelsResult {
  tree: ValueTreeResult;
  spendRegression: SpendRegressionResult | null;
  spendRegressionReason?: string;
}

/**
 * Columns of a row-major matrix as named typed arrays in their own units, a missing value (NaN) replaced by
 * the training median (as the logistic models impute): a NaN would satisfy neither side of a split.
 */
function columnsOf(
  X: FeatureMatrix,
  names: readonly string[],
  medians: Float64Array,
): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  names.forEach((name, j) => {
    const col = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      const v = X.data[i * X.cols + j];
      col[i] = Number.isNaN(v) ? medians[j] : v;
    }
    out[name] = col;
  });
  return out;
}

/** Fit the tree on `train`, judge it on `holdout`. */
export function fitValueTree(
  train: ValueWindow,
  holdout: ValueWindow,
  options: ValueModelOptions,
): ValueTreeResult {
  const depth = options.treeDepth ?? 3;
  const names = options.featureNames;
  const labels = Int32Array.from(train.y);
  const { medians } = fitStandardizer(train.X, names);
  const tree = fitRuleTree(columnsOf(train.X, names, medians), names, labels, 2, {
    maxDepth: depth,
    ...(options.minLeaf !== undefined ? { minLeaf: options.minLeaf } : {}),
  });
  const holdoutColumns = columnsOf(holdout.X, names, medians);
  const probability = new Float64Array(holdout.X.rows);
  for (let i = 0; i < holdout.X.rows; i++) {
    const rule = ruleOf(tree.rules, (f) => holdoutColumns[f][i]);
    probability[i] = rule ? (rule.segment === 1 ? rule.purity : 1 - rule.purity) : 0.5;
  }
  return {
    depth,
    metrics: evaluateBinary(probability, holdout.y),
    rules: tree.rules.map((r) => ({
      text: ruleText(r.conditions) || 'all customers',
      customers: r.customers,
      highValueShare: r.segment === 1 ? r.purity : 1 - r.purity,
    })),
  };
}

/** OLS of log1p(spend) on the standardised features; null (with the reason) when X'X is singular. */
export function fitSpendRegression(
  train: ValueWindow,
  holdout: ValueWindow,
  options: ValueModelOptions,
): { result: SpendRegressionResult | null; reason?: string } {
  const names = options.featureNames;
  const standardizer = fitStandardizer(train.X, names, { log1pFeatures: options.log1pFeatures ?? [] });
  const Z = applyStandardizer(standardizer, train.X);
  const Zh = applyStandardizer(standardizer, holdout.X);
  // Keep the columns that vary on the training window.
  const keep: number[] = [];
  const dropped: string[] = [];
  for (let j = 0; j < Z.cols; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < Z.rows; i++) {
      const v = Z.data[i * Z.cols + j];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi > lo) keep.push(j);
    else dropped.push(names[j]);
  }
  const n = Z.rows;
  const y = Float64Array.from(train.spend, (s) => Math.log1p(Math.max(0, s)));
  // X'X and X'y over every varying column, the intercept first.
  const full = keep.length + 1;
  const fullXtx = new Float64Array(full * full);
  const fullXty = new Float64Array(full);
  const row = new Float64Array(full);
  for (let i = 0; i < n; i++) {
    row[0] = 1;
    for (let k = 0; k < keep.length; k++) row[k + 1] = Z.data[i * Z.cols + keep[k]];
    for (let a = 0; a < full; a++) {
      fullXty[a] += row[a] * y[i];
      for (let b = 0; b <= a; b++) fullXtx[a * full + b] += row[a] * row[b];
    }
  }
  // Greedy in feature order: a column joins when X'X of the chosen columns stays positive definite.
  const sub = (indexes: number[]): Float64Array => {
    const m = indexes.length;
    const out = new Float64Array(m * m);
    for (let a = 0; a < m; a++) {
      for (let b = 0; b <= a; b++) {
        const [hi, lo] = indexes[a] >= indexes[b] ? [indexes[a], indexes[b]] : [indexes[b], indexes[a]];
        out[a * m + b] = fullXtx[hi * full + lo];
        out[b * m + a] = out[a * m + b];
      }
    }
    return out;
  };
  const chosen = [0];
  const collinear: string[] = [];
  for (let k = 1; k < full; k++) {
    const trial = [...chosen, k];
    if (cholesky(sub(trial), trial.length, { relative: 1e-9 })) chosen.push(k);
    else collinear.push(names[keep[k - 1]]);
  }
  const p = chosen.length;
  if (n <= p) return { result: null, reason: `${n} customers for ${p} coefficients` };
  keep.splice(0, keep.length, ...chosen.slice(1).map((k) => keep[k - 1]));
  const xtx = sub(chosen);
  const xty = Float64Array.from(chosen, (k) => fullXty[k]);
  const L = cholesky(xtx, p, { relative: 1e-9 });
  if (!L) return { result: null, reason: "X'X is singular: some features are perfectly collinear" };
  const inverse = choleskyInverse(L, p);
  const beta = new Float64Array(p);
  for (let a = 0; a < p; a++) {
    let s = 0;
    for (let b = 0; b < p; b++) s += inverse[a * p + b] * xty[b];
    beta[a] = s;
  }
  const predict = (M: FeatureMatrix, i: number): number => {
    let s = beta[0];
    for (let k = 0; k < keep.length; k++) s += beta[k + 1] * M.data[i * M.cols + keep[k]];
    return s;
  };
  const rSquared = (M: FeatureMatrix, target: Float64Array): { r2: number; sse: number } => {
    let mean = 0;
    for (let i = 0; i < target.length; i++) mean += target[i];
    mean /= target.length;
    let sse = 0;
    let sst = 0;
    for (let i = 0; i < target.length; i++) {
      sse += (target[i] - predict(M, i)) ** 2;
      sst += (target[i] - mean) ** 2;
    }
    return { r2: sst > 0 ? 1 - sse / sst : NaN, sse };
  };
  const fit = rSquared(Z, y);
  const yh = Float64Array.from(holdout.spend, (s) => Math.log1p(Math.max(0, s)));
  const held = rSquared(Zh, yh);
  const sigma2 = fit.sse / (n - p);
  const z = normalQuantile(0.975);
  const coefficients: CoefficientInterval[] = Array.from({ length: p }, (_, a) => {
    const se = Math.sqrt(sigma2 * inverse[a * p + a]);
    return {
      name: a === 0 ? 'intercept' : names[keep[a - 1]],
      estimate: beta[a],
      se,
      lower: beta[a] - z * se,
      upper: beta[a] + z * se,
    };
  });
  return {
    result: {
      n,
      coefficients,
      droppedFeatures: dropped,
      collinearFeatures: collinear,
      r2: fit.r2,
      holdoutR2: held.r2,
      residualSd: Math.sqrt(sigma2),
    },
  };
}

/** The tree and the spend regression on the high-value model's windows. */
export function fitValueModels(
  train: ValueWindow,
  holdout: ValueWindow,
  options: ValueModelOptions,
): ValueModelsResult {
  return runToEnd(valueModelsSteps(train, holdout, options));
}

/** fitValueModels with a step between the two models (lib/yieldEvery.ts). */
export function* valueModelsSteps(
  train: ValueWindow,
  holdout: ValueWindow,
  options: ValueModelOptions,
): Steps<ValueModelsResult> {
  const tree = fitValueTree(train, holdout, options);
  yield;
  const regression = fitSpendRegression(train, holdout, options);
  return {
    tree,
    spendRegression: regression.result,
    ...(regression.reason ? { spendRegressionReason: regression.reason } : {}),
  };
}
