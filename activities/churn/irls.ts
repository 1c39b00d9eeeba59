/**
 * Penalized logistic regression by Newton's method (equivalently iteratively reweighted least squares,
 * McCullagh and Nelder 1989, section 4.4): the shared solver behind the L2 logistic model (ridge penalty) and
 * the Bayesian logistic model (the MAP under a Gaussian prior is the same problem, Gelman et al. 2013 ch. 16).
 *
 * Objective, over the design [1, z] with z the standardized features (Hastie, Tibshirani and Friedman 2009,
 * eq. 4.20 plus a ridge term):
 *   f(theta) = -sum_i [ y_i eta_i - log(1 + exp(eta_i)) ] + 1/2 sum_k penalty_k theta_k^2,  eta_i = [1, z_i] theta.
 * Steps are halved while they would increase f, so every accepted iterate decreases the objective.
 */
import type { FeatureMatrix } from './data';
import { cholesky, choleskyInverse, choleskySolve, congruence } from '../../lib/numeric/linalg';
import type { Standardizer } from './standardize';
import { standardizeRow } from './standardize';

/** Options of fitPenalizedLogistic. */
export interface PenalizedLogisticOptions {
  /** Quadratic penalty per parameter, length cols + 1, index 0 the intercept (0 = unpenalized). */
  penalty: Float64Array;
  /** Newton iterations at most (default 50). */
  maxIterations?: number;
  /**
   * Converged when every |Newton step| is below this (default 1e-7, standardized scale). The step is then
   * applied, and Newton's quadratic convergence leaves an error of the order of its square.
   */
  tolerance?: number;
  /** Inputs with more than twice this many rows start from a subsample fit (default 100,000). */
  warmStartRows?: number;
}

/** Result of fitPenalizedLogistic; the parameters are [intercept, coefficients of the standardized columns]. */
export interface PenalizedLogisticResult {
  theta: Float64Array;
  /** Hessian of f (observed information plus penalty) at the solution, (cols + 1)^2 row-major. */
  hessian: Float64Array;
  /** Inverse Hessian, or null when it is not positive definite. */
  covariance: Float64Array | null;
  /** Log-likelihood at theta (penalty excluded). */
  logLikelihood: number;
  /** f(theta): negative log-likelihood plus penalty. */
  objective: number;
  iterations: number;
  converged: boolean;
  message: string;
}

interface Evaluation {
  objective: number;
  logLikelihood: number;
  gradient: Float64Array;
  /** Null for a gradient-only pass. */
  hessian: Float64Array | null;
}

/** Rows per block of the Hessian accumulation (column-major scratch of cols x BLOCK doubles). */
const BLOCK = 128;

/**
 * Value and gradient of f at theta in one pass over the rows, and the Hessian when asked. The Hessian (the
 * expensive part: (cols + 1)(cols + 2) / 2 products per row) is accumulated block by block as dot products over
 * column-major copies of the block, which keeps the running sums in registers instead of in memory.
 */
function evaluate(
  Z: FeatureMatrix,
  y: Uint8Array,
  theta: Float64Array,
  penalty: Float64Array,
  withHessian: boolean,
): Evaluation {
  const { rows, cols, data } = Z;
  const d = cols + 1;
  const gradient = new Float64Array(d);
  const block = withHessian ? new Float64Array(cols * cols) : null;
  const hessianRow0 = new Float64Array(d);
  const zt = new Float64Array(cols * BLOCK);
  const wzt = new Float64Array(cols * BLOCK);
  const theta0 = theta[0];
  let logLikelihood = 0;
  for (let start = 0; start < rows; start += BLOCK) {
    const m = Math.min(BLOCK, rows - start);
    for (let r = 0; r < m; r++) {
      const i = start + r;
      const base = i * cols;
      let eta = theta0;
      for (let j = 0; j < cols; j++) eta += theta[j + 1] * data[base + j];
      // One exponential serves both the probability and the log-likelihood y eta - log(1 + e^eta), both
      // computed without overflow.
      const e = Math.exp(-Math.abs(eta));
      const prob = eta >= 0 ? 1 / (1 + e) : e / (1 + e);
      const label = y[i];
      logLikelihood += label * eta - (eta > 0 ? eta : 0) - Math.log1p(e);
      const residual = label - prob;
      gradient[0] += residual;
      for (let j = 0; j < cols; j++) gradient[j + 1] += residual * data[base + j];
      if (block !== null) {
        const w = prob * (1 - prob);
        hessianRow0[0] += w;
        for (let j = 0, o = r; j < cols; j++, o += BLOCK) {
          const z = data[base + j];
          zt[o] = z;
          wzt[o] = w * z;
          hessianRow0[j + 1] += w * z;
        }
      }
    }
    if (block !== null) {
      for (let j = 0; j < cols; j++) {
        const jo = j * BLOCK;
        let k = j;
        // Two columns at a time: one load of w z_j serves two products.
        for (; k + 1 < cols; k += 2) {
          const ko = k * BLOCK;
          const ko2 = ko + BLOCK;
          let s1 = 0;
          let s2 = 0;
          for (let r = 0; r < m; r++) {
            const a = wzt[jo + r];
            s1 += a * zt[ko + r];
            s2 += a * zt[ko2 + r];
          }
          block[j * cols + k] += s1;
          block[j * cols + k + 1] += s2;
        }
        if (k < cols) {
          const ko = k * BLOCK;
          let s1 = 0;
          for (let r = 0; r < m; r++) s1 += wzt[jo + r] * zt[ko + r];
          block[j * cols + k] += s1;
        }
      }
    }
  }
  let hessian: Float64Array | null = null;
  if (block !== null) {
    hessian = new Float64Array(d * d);
    for (let k = 0; k < d; k++) {
      hessian[k] = hessianRow0[k];
      hessian[k * d] = hessianRow0[k];
    }
    for (let j = 0; j < cols; j++) {
      for (let k = j; k < cols; k++) {
        const v = block[j * cols + k];
        hessian[(j + 1) * d + (k + 1)] = v;
        hessian[(k + 1) * d + (j + 1)] = v;
      }
    }
  }
  // Switch from the log-likelihood's gradient to f's, and add the penalty.
  let penaltyTerm = 0;
  for (let k = 0; k < d; k++) {
    gradient[k] = -gradient[k] + penalty[k] * theta[k];
    if (hessian !== null) hessian[k * d + k] += penalty[k];
    penaltyTerm += 0.5 * penalty[k] * theta[k] * theta[k];
  }
  return { objective: -logLikelihood + penaltyTerm, logLikelihood, gradient, hessian };
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let k = 0; k < v.length; k++) m = Math.max(m, Math.abs(v[k]));
  return m;
}

interface NewtonOutcome {
  theta: Float64Array;
  evaluation: Evaluation;
  iterations: number;
  converged: boolean;
  message: string;
}

/**
 * Damped Newton from `start`. Stops when the Newton step at the current point is below `tolerance` (that
 * last, tiny step is taken without another pass, so the Hessian returned is the one at the point it was
 * computed from: the difference is of the order of the tolerance).
 */
function newton(
  Z: FeatureMatrix,
  y: Uint8Array,
  start: Float64Array,
  penalty: Float64Array,
  maxIterations: number,
  tolerance: number,
): NewtonOutcome {
  const d = Z.cols + 1;
  let theta = start;
  let current = evaluate(Z, y, theta, penalty, true);
  let iterations = 0;
  for (;;) {
    const L = cholesky(current.hessian as Float64Array, d);
    if (L === null) {
      const message = `Hessian not positive definite after ${iterations} Newton iterations (collinear features with no penalty?)`;
      return { theta, evaluation: current, iterations, converged: false, message };
    }
    const step = choleskySolve(L, d, current.gradient);
    const maxStep = maxAbs(step);
    if (!Number.isFinite(maxStep)) {
      return {
        theta,
        evaluation: current,
        iterations,
        converged: false,
        message: `non-finite Newton step after ${iterations} iterations`,
      };
    }
    if (maxStep < tolerance) {
      const final = new Float64Array(d);
      for (let k = 0; k < d; k++) final[k] = theta[k] - step[k];
      return {
        theta: final,
        evaluation: current,
        iterations,
        converged: true,
        message: `converged in ${iterations} Newton iterations`,
      };
    }
    if (iterations >= maxIterations) {
      const largest = maxAbs(theta.subarray(1));
      const message =
        `did not converge in ${maxIterations} Newton iterations (last step ${maxStep.toPrecision(3)}, largest standardized ` +
        `coefficient ${largest.toPrecision(3)}; complete separation of the classes makes unpenalized coefficients diverge: add an L2 penalty)`;
      return { theta, evaluation: current, iterations, converged: false, message };
    }
    iterations++;
    // Step halving: accept the first fraction of the Newton step that does not increase f.
    let accepted: { theta: Float64Array; evaluation: Evaluation } | null = null;
    const slack = 1e-12 * Math.max(1, Math.abs(current.objective));
    for (let halvings = 0, scale = 1; halvings < 30; halvings++, scale *= 0.5) {
      const candidate = new Float64Array(d);
      for (let k = 0; k < d; k++) candidate[k] = theta[k] - scale * step[k];
      const evaluation = evaluate(Z, y, candidate, penalty, true);
      if (evaluation.objective <= current.objective + slack) {
        accepted = { theta: candidate, evaluation };
        break;
      }
    }
    if (accepted === null) {
      return {
        theta,
        evaluation: current,
        iterations,
        converged: false,
        message: `no decrease along the Newton direction at iteration ${iterations}`,
      };
    }
    theta = accepted.theta;
    current = accepted.evaluation;
  }
}

/**
 * Minimize f by damped Newton steps from theta = [logit(mean y), 0, ...]. Z must already be standardized
 * (finite, no NaN). Reports converged = false with a reason instead of returning a silent bad fit.
 *
 * Large inputs (more than twice `warmStartRows`) first get a cheap start: Newton on an evenly spaced row
 * subsample (penalty scaled by the sampling fraction so its optimum estimates the full one), then chord
 * iterations on all rows that reuse the subsample's Hessian scaled to the full size and need only the gradient
 * (cols + 1 products per row instead of (cols + 1)^2 / 2). The final Newton iterations on all rows, with the
 * exact Hessian, decide convergence, so the answer is the same optimum; only the path to it is cheaper.
 */
export function fitPenalizedLogistic(
  Z: FeatureMatrix,
  y: Uint8Array,
  options: PenalizedLogisticOptions,
): PenalizedLogisticResult {
  const d = Z.cols + 1;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-7;
  const warmStartRows = options.warmStartRows ?? 100_000;
  const penalty = options.penalty;
  if (penalty.length !== d)
    throw new Error(`fitPenalizedLogistic: penalty must have cols + 1 = ${d} entries`);
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  const rate = positives / Math.max(1, y.length);
  let theta: Float64Array = new Float64Array(d);
  theta[0] = Math.log(rate / (1 - rate));
  let warmNote = '';
  if (Z.rows > 2 * warmStartRows) {
    const warm = warmStart(Z, y, theta, penalty, warmStartRows, maxIterations, tolerance);
    theta = warm.theta;
    warmNote = warm.note;
  }
  const outcome = newton(Z, y, theta, penalty, maxIterations, tolerance);
  const L = cholesky(outcome.evaluation.hessian as Float64Array, d);
  return {
    theta: outcome.theta,
    hessian: outcome.evaluation.hessian as Float64Array,
    covariance: L === null ? null : choleskyInverse(L, d),
    logLikelihood: outcome.evaluation.logLikelihood,
    objective: outcome.evaluation.objective,
    iterations: outcome.iterations,
    converged: outcome.converged,
    message: warmNote === '' ? outcome.message : `${outcome.message} (${warmNote})`,
  };
}

/** Subsample Newton, then gradient-only chord iterations on all rows (see fitPenalizedLogistic). */
function warmStart(
  Z: FeatureMatrix,
  y: Uint8Array,
  start: Float64Array,
  penalty: Float64Array,
  sampleRows: number,
  maxIterations: number,
  tolerance: number,
): { theta: Float64Array; note: string } {
  const { rows, cols } = Z;
  const d = cols + 1;
  const stride = Math.floor(rows / sampleRows);
  const m = Math.ceil(rows / stride);
  const sampleData = new Float64Array(m * cols);
  const sampleY = new Uint8Array(m);
  for (let r = 0, i = 0; r < m; r++, i += stride) {
    sampleData.set(Z.data.subarray(i * cols, (i + 1) * cols), r * cols);
    sampleY[r] = y[i];
  }
  const fraction = m / rows;
  const samplePenalty = penalty.map((v) => v * fraction);
  const sample = newton(
    { rows: m, cols, data: sampleData },
    sampleY,
    start,
    samplePenalty,
    maxIterations,
    1e-5,
  );
  if (!sample.converged) return { theta: start, note: `subsample warm start skipped: ${sample.message}` };
  // Full-size Hessian estimate: the subsample's data part scaled up, plus the full penalty.
  const approx = Float64Array.from(sample.evaluation.hessian as Float64Array);
  for (let k = 0; k < d; k++) approx[k * d + k] -= samplePenalty[k];
  for (let k = 0; k < d * d; k++) approx[k] /= fraction;
  for (let k = 0; k < d; k++) approx[k * d + k] += penalty[k];
  const L = cholesky(approx, d);
  if (L === null) return { theta: sample.theta, note: 'chord iterations skipped' };
  let theta = sample.theta;
  let current = evaluate(Z, y, theta, penalty, false);
  let chordSteps = 0;
  for (; chordSteps < 25; chordSteps++) {
    const step = choleskySolve(L, d, current.gradient);
    if (!(maxAbs(step) >= tolerance)) break;
    const candidate = new Float64Array(d);
    for (let k = 0; k < d; k++) candidate[k] = theta[k] - step[k];
    const evaluation = evaluate(Z, y, candidate, penalty, false);
    if (!(evaluation.objective <= current.objective)) break;
    theta = candidate;
    current = evaluation;
  }
  return {
    theta,
    note: `warm start: ${sample.iterations} Newton iterations on ${m} rows, ${chordSteps} chord steps on all rows`,
  };
}

/**
 * Linear predictor eta_i = theta_0 + sum_j theta_{j+1} z_ij for every row of raw X, standardizing each row on
 * the fly with the training standardizer (no standardized copy of X is kept).
 */
export function linearPredictor(
  standardizer: Standardizer,
  theta: Float64Array,
  X: FeatureMatrix,
): Float64Array {
  const cols = X.cols;
  const eta = new Float64Array(X.rows);
  const z = new Float64Array(cols);
  for (let i = 0; i < X.rows; i++) {
    standardizeRow(standardizer, X, i, z);
    let s = theta[0];
    for (let j = 0; j < cols; j++) s += theta[j + 1] * z[j];
    eta[i] = s;
  }
  return eta;
}

/** Parameters and covariance mapped from the standardized to the raw feature scale. */
export interface OriginalScaleParameters {
  intercept: number;
  coefficients: Float64Array;
  /** Covariance of [intercept, coefficients] on the raw scale, or null when none was available. */
  covariance: Float64Array | null;
}

/**
 * The same linear predictor written on the raw features: beta_j = theta_j / s_j and
 * intercept = theta_0 - sum_j theta_j m_j / s_j, with the covariance carried by the linear map A (A Sigma A^T).
 * Only defined when no column is log1p-transformed (the map is then linear); NaN inputs still impute medians.
 */
export function toOriginalScale(
  standardizer: Standardizer,
  theta: Float64Array,
  covariance: Float64Array | null,
): OriginalScaleParameters {
  const cols = standardizer.featureNames.length;
  for (let j = 0; j < cols; j++) {
    if (standardizer.log1p[j] === 1) {
      throw new Error(
        `toOriginalScale: feature "${standardizer.featureNames[j]}" is log1p-transformed, so its coefficient has no raw-scale equivalent`,
      );
    }
  }
  const d = cols + 1;
  const A = new Float64Array(d * d);
  A[0] = 1;
  for (let j = 0; j < cols; j++) {
    const inverseScale = standardizer.constant[j] === 1 ? 0 : 1 / standardizer.scales[j];
    A[j + 1] = -standardizer.means[j] * inverseScale;
    A[(j + 1) * d + (j + 1)] = inverseScale;
  }
  const mapped = new Float64Array(d);
  for (let r = 0; r < d; r++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += A[r * d + k] * theta[k];
    mapped[r] = s;
  }
  return {
    intercept: mapped[0],
    coefficients: mapped.slice(1),
    covariance: covariance === null ? null : congruence(A, d, covariance, d),
  };
}
