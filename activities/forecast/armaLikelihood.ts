/**
 * The exact Gaussian likelihood of a stationary ARMA series by the Kalman filter on Harvey's state space form
 * (Harvey 1989 §3.4; Durbin and Koopman 2012 §3.4), started from the stationary state covariance, with
 * sigma^2 concentrated out. SARIMA (sarima.ts) differences its series and multiplies out its seasonal
 * polynomials, then maximizes this likelihood and forecasts from the filter's last predicted state.
 */

export interface FilterResult {
  ssq: number;
  sumLogF: number;
  nObs: number;
  innovations: Float64Array;
  /** Predicted state a_{n+1|n}. */
  state: Float64Array;
}

/**
 * Exact ARMA likelihood pieces by the Kalman filter on Harvey's form, sigma^2 = 1 (concentrated out):
 * state dimension r = max(p, q + 1), T = [phi | shift], R = (1, theta_1, ..., theta_{r-1})' (Harvey 1989 eq.
 * 3.4.5). Returns null when the AR part is not stationary.
 */
export function armaFilter(
  w: Float64Array,
  ar: Float64Array,
  ma: Float64Array,
  mu: number,
): FilterResult | null {
  const p = ar.length;
  const r = Math.max(p, ma.length + 1);
  const phi = new Float64Array(r);
  phi.set(ar);
  const R = new Float64Array(r);
  R[0] = 1;
  for (let i = 0; i < ma.length; i++) R[i + 1] = ma[i];
  const P = initialCovariance(phi, R, p > 0);
  if (P === null) return null;
  const a = new Float64Array(r);
  const column = new Float64Array(r);
  const innovations = new Float64Array(w.length);
  let ssq = 0;
  let sumLogF = 0;
  let steady = false;
  for (let t = 0; t < w.length; t++) {
    const v = w[t] - mu - a[0];
    innovations[t] = v;
    if (steady) {
      // Converged filter: P_{t|t} = 0, so F = 1, K = R (Harvey 1989 §3.3.4, steady state).
      ssq += v * v;
      for (let i = 0; i < r; i++) a[i] += R[i] * v;
    } else {
      const F = P[0];
      if (!(F > 0)) return null;
      ssq += (v * v) / F;
      sumLogF += Math.log(F);
      // Update a += P[:,0] v / F and P_upd = P - P[:,0] P[0,:] / F (Durbin and Koopman 2012 eq. 4.24). Row and
      // column 0 of P_upd vanish (y_t is the first state element, observed without noise), so the prediction
      // T P_upd T' + R R' needs no AR coefficients: P_ij <- P_upd(i+1, j+1) + R_i R_j. Computed on the upper
      // triangle in increasing order, in place: entry (i+1, j+1) is read before it is overwritten.
      for (let i = 0; i < r; i++) column[i] = P[i * r];
      for (let i = 0; i < r; i++) a[i] += (column[i] * v) / F;
      let maxAbs = 0;
      for (let i = 0; i < r; i++) {
        const ci = i + 1 < r ? column[i + 1] / F : 0;
        for (let j = i; j < r; j++) {
          const updated = i + 1 < r && j + 1 < r ? P[(i + 1) * r + j + 1] - ci * column[j + 1] : 0;
          if (Math.abs(updated) > maxAbs) maxAbs = Math.abs(updated);
          const value = updated + R[i] * R[j];
          P[i * r + j] = value;
          P[j * r + i] = value;
        }
      }
      if (maxAbs < 1e-13) steady = true;
    }
    // Predict state a = T a.
    const a0 = a[0];
    for (let i = 0; i < r - 1; i++) a[i] = phi[i] * a0 + a[i + 1];
    a[r - 1] = phi[r - 1] * a0;
  }
  return { ssq, sumLogF, nObs: w.length, innovations, state: a };
}

/**
 * Stationary covariance of the state, P = T P T' + R R'. Pure MA: closed form, P_ij = sum_k R_(i+k) R_(j+k).
 * With AR terms: the doubling iteration P <- P + A P A', A <- A^2 (Anderson and Moore 1979 §6.7).
 */
function initialCovariance(phi: Float64Array, R: Float64Array, hasAr: boolean): Float64Array | null {
  const r = R.length;
  const P = new Float64Array(r * r);
  if (!hasAr) {
    for (let i = 0; i < r; i++) {
      for (let j = i; j < r; j++) {
        let sum = 0;
        for (let k = 0; j + k < r; k++) sum += R[i + k] * R[j + k];
        P[i * r + j] = sum;
        P[j * r + i] = sum;
      }
    }
    return P;
  }
  let A = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    A[i * r] = phi[i];
    if (i + 1 < r) A[i * r + i + 1] = 1;
  }
  for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) P[i * r + j] = R[i] * R[j];
  const AP = new Float64Array(r * r);
  for (let iteration = 0; iteration < 64; iteration++) {
    matmul(A, P, AP, r, false);
    const APAt = new Float64Array(r * r);
    matmul(AP, A, APAt, r, true);
    let maxAbs = 0;
    for (let k = 0; k < r * r; k++) {
      P[k] += APAt[k];
      if (!Number.isFinite(P[k])) return null;
    }
    const A2 = new Float64Array(r * r);
    matmul(A, A, A2, r, false);
    A = A2;
    for (let k = 0; k < r * r; k++) maxAbs = Math.max(maxAbs, Math.abs(A[k]));
    if (maxAbs < 1e-15) return P;
  }
  return null;
}

/** out = X Y (or X Y' when transposeY), r x r row-major. */
function matmul(X: Float64Array, Y: Float64Array, out: Float64Array, r: number, transposeY: boolean): void {
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let sum = 0;
      if (transposeY) for (let k = 0; k < r; k++) sum += X[i * r + k] * Y[j * r + k];
      else for (let k = 0; k < r; k++) sum += X[i * r + k] * Y[k * r + j];
      out[i * r + j] = sum;
    }
  }
}

/** Concentrated Gaussian log-likelihood (Harvey 1989 eq. 3.4.9): -n/2 (log 2 pi + 1 + log s2) - 1/2 sum log F. */
export function logLikelihoodOf(result: FilterResult): { logLik: number; sigma2: number } {
  const n = result.nObs;
  const sigma2 = result.ssq / n;
  return { logLik: -0.5 * (n * (Math.log(2 * Math.PI * sigma2) + 1) + result.sumLogF), sigma2 };
}
