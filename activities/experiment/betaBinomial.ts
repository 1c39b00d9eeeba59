/**
 * Bayesian comparison of two conversion rates with Beta-Binomial conjugacy: with a Beta(a0, b0) prior and
 * x conversions out of n, the posterior is Beta(a0 + x, b0 + n - x). The probability that the treatment's
 * rate exceeds the control's is P(T > C) = integral f_T(t) F_C(t) dt, computed by Gauss-Legendre quadrature
 * over the region where f_T carries mass (exact to ~1e-12 for any real parameters >= 1). Evan Miller's
 * closed form (Miller 2015, "Formulas for Bayesian A/B testing") is provided for integer a_T as a check.
 */
import { logGamma, regularizedIncompleteBeta } from '../../lib/numeric/special';

/** Parameters of a Beta(alpha, beta) distribution. */
export interface BetaParams {
  alpha: number;
  beta: number;
}

/** The uniform Beta(1, 1) prior. */
export const UNIFORM_PRIOR: BetaParams = { alpha: 1, beta: 1 };

/** Posterior Beta after `successes` conversions among `trials` customers. */
export function betaPosterior(
  successes: number,
  trials: number,
  prior: BetaParams = UNIFORM_PRIOR,
): BetaParams {
  if (!(successes >= 0 && successes <= trials)) {
    throw new Error(`betaPosterior: successes must lie in [0, trials] (got ${successes} of ${trials})`);
  }
  if (!(prior.alpha >= 1) || !(prior.beta >= 1)) {
    throw new Error(`betaPosterior: prior alpha and beta must be >= 1 (got ${prior.alpha}, ${prior.beta})`);
  }
  return { alpha: prior.alpha + successes, beta: prior.beta + trials - successes };
}

const logBeta = (a: number, b: number): number => logGamma(a) + logGamma(b) - logGamma(a + b);

// Gauss-Legendre nodes and weights on [-1, 1] by Newton's method on P_n (Press et al. 2007, 4.6.1, gauleg).
function gaussLegendre(order: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(order);
  const weights = new Float64Array(order);
  const half = Math.floor((order + 1) / 2);
  for (let i = 0; i < half; i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (order + 0.5));
    let derivative = 0;
    for (let iteration = 0; iteration < 100; iteration++) {
      let p1 = 1;
      let p2 = 0;
      for (let j = 0; j < order; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = ((2 * j + 1) * z * p2 - j * p3) / (j + 1);
      }
      derivative = (order * (z * p1 - p2)) / (z * z - 1);
      const step = p1 / derivative;
      z -= step;
      if (Math.abs(step) < 1e-15) break;
    }
    nodes[i] = -z;
    nodes[order - 1 - i] = z;
    weights[i] = weights[order - 1 - i] = 2 / ((1 - z * z) * derivative * derivative);
  }
  return { nodes, weights };
}

const GL = gaussLegendre(16);
// Mass of a Beta with both parameters >= 1 beyond 40 sd of its mean is below 1e-17.
const SUPPORT_SDS = 40;

function meanAndSd({ alpha, beta }: BetaParams): [number, number] {
  const total = alpha + beta;
  return [alpha / total, Math.sqrt((alpha * beta) / (total * total * (total + 1)))];
}

function checkParams(where: string, label: string, params: BetaParams): void {
  if (!(params.alpha >= 1) || !(params.beta >= 1) || !Number.isFinite(params.alpha + params.beta)) {
    throw new Error(
      `${where}: ${label} alpha and beta must be finite and >= 1 (got ${params.alpha}, ${params.beta})`,
    );
  }
}

/**
 * P(theta_T > theta_C) for independent theta_C ~ Beta(control), theta_T ~ Beta(treatment): composite
 * 16-point Gauss-Legendre on `panels` equal panels of [max(lowT, lowC), highT], where low/high are mean -+ 40
 * sd clipped to [0, 1] (f_T vanishes outside its range, F_C below the control's).
 */
export function probabilityToBeatControl(control: BetaParams, treatment: BetaParams, panels = 64): number {
  checkParams('probabilityToBeatControl', 'control', control);
  checkParams('probabilityToBeatControl', 'treatment', treatment);
  const [meanT, sdT] = meanAndSd(treatment);
  const [meanC, sdC] = meanAndSd(control);
  const low = Math.max(0, meanT - SUPPORT_SDS * sdT, meanC - SUPPORT_SDS * sdC);
  const high = Math.min(1, meanT + SUPPORT_SDS * sdT);
  if (!(high > low)) return 0;
  const logNorm = logBeta(treatment.alpha, treatment.beta);
  const width = (high - low) / panels;
  let total = 0;
  for (let panel = 0; panel < panels; panel++) {
    const centre = low + (panel + 0.5) * width;
    for (let j = 0; j < GL.nodes.length; j++) {
      const x = centre + 0.5 * width * GL.nodes[j];
      if (x <= 0 || x >= 1) continue;
      const logDensity =
        (treatment.alpha - 1) * Math.log(x) + (treatment.beta - 1) * Math.log1p(-x) - logNorm;
      const density = Math.exp(logDensity);
      if (density === 0) continue;
      total += GL.weights[j] * density * regularizedIncompleteBeta(x, control.alpha, control.beta);
    }
  }
  return Math.min(1, Math.max(0, 0.5 * width * total));
}

/**
 * Evan Miller's closed form for integer treatment.alpha (Miller 2015):
 * P(T > C) = sum_{i=0}^{a_T - 1} B(a_C + i, b_C + b_T) / ((b_T + i) B(1 + i, b_T) B(a_C, b_C)).
 * O(a_T) terms, each positive, summed in the log domain.
 */
export function probabilityToBeatControlClosedForm(control: BetaParams, treatment: BetaParams): number {
  checkParams('probabilityToBeatControlClosedForm', 'control', control);
  checkParams('probabilityToBeatControlClosedForm', 'treatment', treatment);
  if (!Number.isInteger(treatment.alpha)) {
    throw new Error(
      `probabilityToBeatControlClosedForm: treatment alpha must be an integer (got ${treatment.alpha})`,
    );
  }
  const { alpha: aC, beta: bC } = control;
  const { alpha: aT, beta: bT } = treatment;
  const logBetaControl = logBeta(aC, bC);
  let sum = 0;
  for (let i = 0; i < aT; i++) {
    sum += Math.exp(logBeta(aC + i, bC + bT) - Math.log(bT + i) - logBeta(1 + i, bT) - logBetaControl);
  }
  return Math.min(1, sum);
}
