/**
 * Bayesian logistic regression with independent Gaussian priors, approximated by Laplace's method (MacKay
 * 1992, "The evidence framework applied to classification networks"; Bishop 2006, section 4.5): the posterior
 * is replaced by the Gaussian N(theta_MAP, H^-1), with theta_MAP the posterior mode (found by Newton, see
 * irls.ts) and H the Hessian of the negative log-posterior there (observed information plus prior precision).
 *
 * Priors are on the standardized scale (each feature centered and divided by its training sd), where one
 * prior sd means the same thing for every feature: coefficients ~ N(0, priorSd^2), intercept ~ N(0,
 * interceptPriorSd^2). The defaults (2.5 and 10) are weakly informative in the sense of Gelman, Jakulin,
 * Pittau and Su 2008.
 *
 * Per-customer intervals: under the Laplace posterior the linear predictor eta = x~' theta is exactly
 * Gaussian, N(x~' theta_MAP, x~' H^-1 x~) (a linear function of a Gaussian: no delta-method or sampling
 * error), and the logistic function is monotone, so the 2.5% and 97.5% posterior quantiles of the probability
 * are the logistic of those of eta. The point probability returned is the posterior median, sigmoid(x~'
 * theta_MAP); the posterior mean is given by MacKay's probit approximation (MacKay 1992; Bishop 2006,
 * eq. 4.153). `sampleCoefficients` draws from the same Gaussian with a seeded Rng for anything else.
 *
 * Verbs: fitBayesianLogistic -> BayesianLogisticModel with predictProbability, predictWithInterval,
 * coefficientSummary, sampleCoefficients, featureImportance, toJSON.
 */
import { normalQuantile } from '../../lib/numeric/distributions';
import type { Rng } from '../../lib/random';
import type { FeatureImportance, FeatureMatrix, ProbabilityModel } from './data';
import { defaultFeatureNames, rankImportance, sigmoid, validateLabels, validateMatrix } from './data';
import { fitPenalizedLogistic, toOriginalScale } from './irls';
import { cholesky } from '../../lib/numeric/linalg';
import type { Standardizer } from './standardize';
import { applyStandardizer, fitStandardizer, standardizeRow } from './standardize';

/** Options of fitBayesianLogistic. */
export interface BayesianLogisticOptions {
  /** Names of the columns of X (default x0, x1, ...). */
  featureNames?: readonly string[];
  /** Prior sd of each standardized coefficient (default 2.5). */
  priorSd?: number;
  /** Prior sd of the intercept (default 10; Infinity = flat). */
  interceptPriorSd?: number;
  /** Right-skewed columns to transform by sign(x) log1p(|x|) before standardizing. */
  log1pFeatures?: readonly string[];
  /** Credible level of the reported intervals (default 0.95). */
  credibleLevel?: number;
  /** Newton iterations at most (default 50). */
  maxIterations?: number;
  /** Inputs with more than twice this many rows start from a subsample fit (default 100,000; see irls.ts). */
  warmStartRows?: number;
}

/** Posterior summary of one parameter. */
export interface CoefficientSummary {
  /** 'intercept' or the feature name. */
  name: string;
  /** Posterior mean (= mode under the Laplace approximation). */
  mean: number;
  sd: number;
  /** Equal-tailed credible interval at the model's credible level. */
  lower: number;
  upper: number;
}

/** Per-customer posterior probabilities (Float64Arrays, one entry per row). */
export interface ProbabilityInterval {
  /** Posterior median of P(y = 1 | x): sigmoid of the posterior mean of eta. */
  probability: Float64Array;
  /** Posterior mean of P(y = 1 | x) by MacKay's probit approximation. */
  mean: Float64Array;
  /** Lower and upper credible bounds at the model's credible level (exact under the Laplace posterior). */
  lower: Float64Array;
  upper: Float64Array;
}

/** A fitted Laplace-approximate Bayesian logistic regression. */
export class BayesianLogisticModel implements ProbabilityModel {
  readonly kind = 'bayesianLogistic';
  private readonly covarianceFactor: Float64Array;

  constructor(
    readonly featureNames: readonly string[],
    readonly standardizer: Standardizer,
    /** Posterior mode [intercept, standardized coefficients]. */
    readonly posteriorMean: Float64Array,
    /** Laplace posterior covariance (inverse Hessian of the negative log-posterior), row-major. */
    readonly posteriorCovariance: Float64Array,
    readonly priorSd: number,
    readonly interceptPriorSd: number,
    readonly credibleLevel: number,
    readonly logLikelihood: number,
    readonly iterations: number,
    readonly converged: boolean,
    readonly message: string,
  ) {
    const factor = cholesky(posteriorCovariance, posteriorMean.length);
    if (factor === null)
      throw new Error('BayesianLogisticModel: posterior covariance is not positive definite');
    this.covarianceFactor = factor;
  }

  /** Posterior mean, sd and credible interval per parameter (intercept first), on the standardized scale. */
  coefficientSummary(): CoefficientSummary[] {
    const d = this.posteriorMean.length;
    const z = normalQuantile(0.5 + this.credibleLevel / 2);
    const names = ['intercept', ...this.featureNames];
    return names.map((name, k) => {
      const mean = this.posteriorMean[k];
      const sd = Math.sqrt(this.posteriorCovariance[k * d + k]);
      return { name, mean, sd, lower: mean - z * sd, upper: mean + z * sd };
    });
  }

  /** The same summaries on the raw feature scale (throws if a column is log1p-transformed). */
  coefficientSummaryOriginalScale(): CoefficientSummary[] {
    const mapped = toOriginalScale(this.standardizer, this.posteriorMean, this.posteriorCovariance);
    const d = this.posteriorMean.length;
    const covariance = mapped.covariance as Float64Array;
    const z = normalQuantile(0.5 + this.credibleLevel / 2);
    const means = [mapped.intercept, ...mapped.coefficients];
    return ['intercept', ...this.featureNames].map((name, k) => {
      const sd = Math.sqrt(covariance[k * d + k]);
      return { name, mean: means[k], sd, lower: means[k] - z * sd, upper: means[k] + z * sd };
    });
  }

  /** Posterior median probability per row (sigmoid of the posterior mean linear predictor). */
  predictProbability(X: FeatureMatrix): Float64Array {
    return this.predictWithInterval(X).probability;
  }

  /** Per-row posterior median, approximate mean, and credible interval of P(y = 1 | x). */
  predictWithInterval(X: FeatureMatrix): ProbabilityInterval {
    validateMatrix('BayesianLogisticModel.predictWithInterval', X);
    const cols = this.featureNames.length;
    if (X.cols !== cols) {
      throw new Error(
        `BayesianLogisticModel.predictWithInterval: X has ${X.cols} columns, the model was fitted on ${cols}`,
      );
    }
    const d = cols + 1;
    const z = normalQuantile(0.5 + this.credibleLevel / 2);
    const theta = this.posteriorMean;
    const S = this.posteriorCovariance;
    const probability = new Float64Array(X.rows);
    const mean = new Float64Array(X.rows);
    const lower = new Float64Array(X.rows);
    const upper = new Float64Array(X.rows);
    const row = new Float64Array(cols);
    const x = new Float64Array(d);
    x[0] = 1;
    for (let i = 0; i < X.rows; i++) {
      standardizeRow(this.standardizer, X, i, row);
      x.set(row, 1);
      let eta = 0;
      for (let k = 0; k < d; k++) eta += theta[k] * x[k];
      // x' S x over the upper triangle (S is symmetric).
      let variance = 0;
      for (let j = 0; j < d; j++) {
        const xj = x[j];
        let s = 0.5 * S[j * d + j] * xj;
        for (let k = j + 1; k < d; k++) s += S[j * d + k] * x[k];
        variance += 2 * xj * s;
      }
      const sd = Math.sqrt(Math.max(variance, 0));
      probability[i] = sigmoid(eta);
      // MacKay 1992: E[sigmoid(eta)] ~ sigmoid(mu / sqrt(1 + pi sigma^2 / 8)) (Bishop 2006, eq. 4.153).
      mean[i] = sigmoid(eta / Math.sqrt(1 + (Math.PI * variance) / 8));
      lower[i] = sigmoid(eta - z * sd);
      upper[i] = sigmoid(eta + z * sd);
    }
    return { probability, mean, lower, upper };
  }

  /**
   * `draws` parameter vectors from the Laplace posterior (theta_MAP + L e, L L' = covariance, e ~ N(0, I)),
   * row-major draws x (cols + 1), intercept first, standardized scale.
   */
  sampleCoefficients(draws: number, rng: Rng): Float64Array {
    const d = this.posteriorMean.length;
    const out = new Float64Array(draws * d);
    const e = new Float64Array(d);
    const L = this.covarianceFactor;
    for (let s = 0; s < draws; s++) {
      for (let k = 0; k < d; k++) e[k] = rng.normal();
      for (let r = 0; r < d; r++) {
        let v = this.posteriorMean[r];
        for (let k = 0; k <= r; k++) v += L[r * d + k] * e[k];
        out[s * d + r] = v;
      }
    }
    return out;
  }

  /** |posterior mean of the standardized coefficient| per feature. */
  featureImportance(): FeatureImportance[] {
    const values = new Float64Array(this.featureNames.length);
    for (let j = 0; j < values.length; j++) values[j] = Math.abs(this.posteriorMean[j + 1]);
    return rankImportance(this.featureNames, values);
  }

  /** Plain-number description of the posterior, for a model artifact or a report. */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      priorSd: this.priorSd,
      interceptPriorSd: this.interceptPriorSd,
      credibleLevel: this.credibleLevel,
      converged: this.converged,
      message: this.message,
      iterations: this.iterations,
      logLikelihood: this.logLikelihood,
      coefficients: this.coefficientSummary(),
    };
  }
}

/**
 * Fit the Laplace approximation to the posterior of a logistic regression of y on X. Throws if the posterior
 * Hessian is singular (impossible with finite prior sds); non-convergence of Newton is reported in
 * `converged` and `message`.
 */
export function fitBayesianLogistic(
  X: FeatureMatrix,
  y: Uint8Array,
  options: BayesianLogisticOptions = {},
): BayesianLogisticModel {
  const featureNames = options.featureNames ?? defaultFeatureNames(X.cols);
  validateMatrix('fitBayesianLogistic', X, featureNames);
  validateLabels('fitBayesianLogistic', y, X.rows, true);
  const priorSd = options.priorSd ?? 2.5;
  const interceptPriorSd = options.interceptPriorSd ?? 10;
  const credibleLevel = options.credibleLevel ?? 0.95;
  if (!(priorSd > 0) || !Number.isFinite(priorSd)) {
    throw new Error(`fitBayesianLogistic: priorSd must be a finite number > 0 (got ${priorSd})`);
  }
  if (!(interceptPriorSd > 0)) {
    throw new Error(`fitBayesianLogistic: interceptPriorSd must be > 0 (got ${interceptPriorSd})`);
  }
  if (!(credibleLevel > 0 && credibleLevel < 1)) {
    throw new Error(`fitBayesianLogistic: credibleLevel must be in (0, 1) (got ${credibleLevel})`);
  }
  const standardizer = fitStandardizer(X, featureNames, { log1pFeatures: options.log1pFeatures });
  const Z = applyStandardizer(standardizer, X);
  const penalty = new Float64Array(X.cols + 1);
  // Gaussian prior N(0, sd^2) contributes theta^2 / (2 sd^2) to the negative log-posterior.
  penalty[0] = 1 / (interceptPriorSd * interceptPriorSd);
  for (let j = 0; j < X.cols; j++) penalty[j + 1] = 1 / (priorSd * priorSd);
  const fit = fitPenalizedLogistic(Z, y, {
    penalty,
    maxIterations: options.maxIterations,
    warmStartRows: options.warmStartRows,
  });
  if (fit.covariance === null) {
    throw new Error(`fitBayesianLogistic: posterior Hessian is not positive definite (${fit.message})`);
  }
  return new BayesianLogisticModel(
    [...featureNames],
    standardizer,
    fit.theta,
    fit.covariance,
    priorSd,
    interceptPriorSd,
    credibleLevel,
    fit.logLikelihood,
    fit.iterations,
    fit.converged,
    fit.message,
  );
}
