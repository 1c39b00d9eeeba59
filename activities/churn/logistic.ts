/**
 * L2-regularized logistic regression on standardized features (Hastie, Tibshirani and Friedman 2009, section
 * 4.4.4): minimize -loglik + l2/2 ||beta||^2 over the standardized coefficients, the intercept unpenalized,
 * by Newton/IRLS with step halving (see irls.ts). The penalty is on the sum, not the mean, of the log-loss,
 * so l2 = 1 matches scikit-learn's LogisticRegression(C=1) on the same standardized columns.
 *
 * Verbs: fitLogistic -> LogisticModel with predictProbability, predictLinear, featureImportance,
 * originalScale, toJSON.
 */
import type { FeatureImportance, FeatureMatrix, ProbabilityModel } from './data';
import { defaultFeatureNames, rankImportance, sigmoid, validateLabels, validateMatrix } from './data';
import { fitPenalizedLogistic, linearPredictor, toOriginalScale } from './irls';
import type { OriginalScaleParameters } from './irls';
import type { Standardizer } from './standardize';
import { applyStandardizer, fitStandardizer } from './standardize';

/** Options of fitLogistic. */
export interface LogisticOptions {
  /** Names of the columns of X (default x0, x1, ...). */
  featureNames?: readonly string[];
  /** Ridge penalty on the standardized coefficients (default 1; 0 = maximum likelihood). */
  l2?: number;
  /** Right-skewed columns to transform by sign(x) log1p(|x|) before standardizing. */
  log1pFeatures?: readonly string[];
  /** Newton iterations at most (default 50). */
  maxIterations?: number;
  /** Inputs with more than twice this many rows start from a subsample fit (default 100,000; see irls.ts). */
  warmStartRows?: number;
  /** Convergence tolerance on the largest Newton step (default 1e-7; see irls.ts). */
  tolerance?: number;
}

/** A fitted L2 logistic regression. Coefficients are per standardized feature (one sd of the training column). */
export class LogisticModel implements ProbabilityModel {
  readonly kind = 'logistic';

  constructor(
    readonly featureNames: readonly string[],
    readonly standardizer: Standardizer,
    /** [intercept, standardized coefficients]. */
    readonly theta: Float64Array,
    /**
     * Standard errors of theta from the inverse penalized Hessian: the usual inverse-Fisher standard errors
     * when l2 = 0; with l2 > 0 they are the sd of the corresponding Gaussian posterior. NaN if not available.
     */
    readonly standardErrors: Float64Array,
    /** Inverse penalized Hessian of [intercept, coefficients], or null if the Hessian was singular. */
    readonly covariance: Float64Array | null,
    readonly l2: number,
    readonly logLikelihood: number,
    readonly iterations: number,
    readonly converged: boolean,
    readonly message: string,
  ) {}

  /** Intercept on the standardized scale (log-odds at the training means). */
  get intercept(): number {
    return this.theta[0];
  }

  /** Coefficients per standardized feature. */
  get coefficients(): Float64Array {
    return this.theta.subarray(1);
  }

  /** Log-odds for every row of X. */
  predictLinear(X: FeatureMatrix): Float64Array {
    this.checkColumns('LogisticModel.predictLinear', X);
    return linearPredictor(this.standardizer, this.theta, X);
  }

  /** P(y = 1 | x) for every row of X. */
  predictProbability(X: FeatureMatrix): Float64Array {
    const eta = this.predictLinear(X);
    for (let i = 0; i < eta.length; i++) eta[i] = sigmoid(eta[i]);
    return eta;
  }

  /** |standardized coefficient| per feature: the change in log-odds for one training sd of the feature. */
  featureImportance(): FeatureImportance[] {
    const values = new Float64Array(this.featureNames.length);
    for (let j = 0; j < values.length; j++) values[j] = Math.abs(this.theta[j + 1]);
    return rankImportance(this.featureNames, values);
  }

  /** Intercept, coefficients and covariance on the raw feature scale (throws if a column is log1p-transformed). */
  originalScale(): OriginalScaleParameters {
    return toOriginalScale(this.standardizer, this.theta, this.covariance);
  }

  /** Plain-number description of the fit, for a model artifact or a report. */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      l2: this.l2,
      converged: this.converged,
      message: this.message,
      iterations: this.iterations,
      logLikelihood: this.logLikelihood,
      intercept: this.theta[0],
      coefficients: this.featureNames.map((feature, j) => ({
        feature,
        coefficient: this.theta[j + 1],
        standardError: this.standardErrors[j + 1],
      })),
      standardizer: {
        medians: Array.from(this.standardizer.medians),
        means: Array.from(this.standardizer.means),
        scales: Array.from(this.standardizer.scales),
        log1p: Array.from(this.standardizer.log1p),
      },
    };
  }

  private checkColumns(where: string, X: FeatureMatrix): void {
    validateMatrix(where, X);
    if (X.cols !== this.featureNames.length) {
      throw new Error(
        `${where}: X has ${X.cols} columns, the model was fitted on ${this.featureNames.length}`,
      );
    }
  }
}

/**
 * Fit an L2 logistic regression of y on X. The standardization is fitted on these rows (median imputation of
 * NaN, optional log1p, centering and scaling) and travels with the model. Never throws on non-convergence:
 * check `converged` and `message`.
 */
export function fitLogistic(X: FeatureMatrix, y: Uint8Array, options: LogisticOptions = {}): LogisticModel {
  const featureNames = options.featureNames ?? defaultFeatureNames(X.cols);
  validateMatrix('fitLogistic', X, featureNames);
  validateLabels('fitLogistic', y, X.rows, true);
  const l2 = options.l2 ?? 1;
  if (!(l2 >= 0) || !Number.isFinite(l2))
    throw new Error(`fitLogistic: l2 must be a finite number >= 0 (got ${l2})`);
  const standardizer = fitStandardizer(X, featureNames, { log1pFeatures: options.log1pFeatures });
  const Z = applyStandardizer(standardizer, X);
  const penalty = new Float64Array(X.cols + 1);
  for (let j = 0; j < X.cols; j++) {
    // A constant column standardizes to zeros: its gradient is 0, and a unit penalty keeps the Hessian invertible.
    penalty[j + 1] = standardizer.constant[j] === 1 ? Math.max(l2, 1) : l2;
  }
  const fit = fitPenalizedLogistic(Z, y, {
    penalty,
    maxIterations: options.maxIterations,
    warmStartRows: options.warmStartRows,
    tolerance: options.tolerance,
  });
  const d = X.cols + 1;
  const standardErrors = new Float64Array(d).fill(NaN);
  if (fit.covariance !== null) {
    for (let k = 0; k < d; k++) standardErrors[k] = Math.sqrt(fit.covariance[k * d + k]);
  }
  for (let j = 0; j < X.cols; j++) if (standardizer.constant[j] === 1) standardErrors[j + 1] = NaN;
  return new LogisticModel(
    [...featureNames],
    standardizer,
    fit.theta,
    standardErrors,
    fit.covariance,
    l2,
    fit.logLikelihood,
    fit.iterations,
    fit.converged,
    fit.message,
  );
}
