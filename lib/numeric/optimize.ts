/**
 * Unconstrained minimization for maximum-likelihood fits: BFGS with a strong-Wolfe line search (Nocedal and
 * Wright 2006, Algorithms 3.5, 3.6 and 6.1), Nelder-Mead as a derivative-free fallback, finite-difference
 * gradients and Hessians, and a symmetric matrix inverse for standard errors.
 *
 * Objective values that are NaN or +/-Infinity are treated as +Infinity: the line search shrinks its step
 * away from them, so a likelihood may simply return NaN outside its domain.
 */
import { cholesky, choleskyInverse } from './linalg';

/** What `minimize` found. `converged` is false whenever a stopping rule other than a tolerance ended the run. */
export interface MinimizeResult {
  /** The best point found. */
  x: Float64Array;
  /** f(x). */
  value: number;
  /** True when the gradient (BFGS) or simplex (Nelder-Mead) tolerance was met. */
  converged: boolean;
  /** Iterations performed. */
  iterations: number;
  /** Infinity norm of the gradient at x (numerical for Nelder-Mead). */
  gradientNorm: number;
  /** Why the run stopped, in words. */
  message: string;
}

/** Options of `minimize`. */
export interface MinimizeOptions {
  /** 'bfgs' (default) or 'nelder-mead'. */
  method?: 'bfgs' | 'nelder-mead';
  /** Analytic gradient of f; central differences when absent. */
  gradient?: (x: Float64Array) => Float64Array;
  /** Iteration limit: default 500 for BFGS, 1000 * dimension for Nelder-Mead. */
  maxIterations?: number;
  /**
   * BFGS stops when max_i |g_i| <= gradientTolerance * max(1, |f(x)|) (scaled so the rule means the same for
   * a log-likelihood over 100 or 1,000,000 customers). Default 1e-8.
   */
  gradientTolerance?: number;
  /**
   * Relative change of f below which the run counts as stalled: BFGS stops (converged only if the gradient is
   * within 1000x its tolerance); Nelder-Mead stops converged when the simplex's f values agree this closely.
   * Default 1e-12 for BFGS, 1e-10 for Nelder-Mead.
   */
  functionTolerance?: number;
}

/** Minimize f from x0. Never throws for a failed search: read `converged` and `message`. */
export function minimize(
  f: (x: Float64Array) => number,
  x0: ArrayLike<number>,
  options: MinimizeOptions = {},
): MinimizeResult {
  if (x0.length === 0) throw new Error('minimize: x0 must have at least one coordinate');
  for (let i = 0; i < x0.length; i++) {
    if (!Number.isFinite(x0[i])) throw new Error(`minimize: x0[${i}] must be finite (got ${x0[i]})`);
  }
  const objective = (x: Float64Array): number => {
    const value = f(x);
    return Number.isNaN(value) || value === -Infinity ? Infinity : value;
  };
  if (options.method === 'nelder-mead') return nelderMead(objective, Float64Array.from(x0), options);
  return bfgs(objective, Float64Array.from(x0), options);
}

function bfgs(f: (x: Float64Array) => number, x: Float64Array, options: MinimizeOptions): MinimizeResult {
  const n = x.length;
  const maxIterations = options.maxIterations ?? 500;
  const gtol = options.gradientTolerance ?? 1e-8;
  const ftol = options.functionTolerance ?? 1e-12;
  const gradient = options.gradient ?? ((point: Float64Array) => numericGradient(f, point));
  const safeGradient = (point: Float64Array): Float64Array | null => {
    const g = gradient(point);
    for (let i = 0; i < n; i++) if (!Number.isFinite(g[i])) return null;
    return g;
  };

  let fx = f(x);
  if (!Number.isFinite(fx)) {
    return {
      x,
      value: fx,
      converged: false,
      iterations: 0,
      gradientNorm: NaN,
      message: 'f(x0) is not finite',
    };
  }
  let g = safeGradient(x);
  if (g === null) {
    return {
      x,
      value: fx,
      converged: false,
      iterations: 0,
      gradientNorm: NaN,
      message: 'gradient at x0 is not finite',
    };
  }
  // Inverse Hessian approximation, row-major.
  const H = new Float64Array(n * n);
  const resetH = (scale: number): void => {
    H.fill(0);
    for (let i = 0; i < n; i++) H[i * n + i] = scale;
  };
  resetH(1);
  let freshH = true;
  let firstStep = true;
  const p = new Float64Array(n);
  const s = new Float64Array(n);
  const y = new Float64Array(n);
  const Hy = new Float64Array(n);

  let iteration = 0;
  for (; iteration < maxIterations; iteration++) {
    const gnorm = infNorm(g);
    if (gnorm <= gtol * Math.max(1, Math.abs(fx))) {
      return {
        x,
        value: fx,
        converged: true,
        iterations: iteration,
        gradientNorm: gnorm,
        message: 'gradient tolerance met',
      };
    }
    // Search direction p = -H g.
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum -= H[i * n + j] * g[j];
      p[i] = sum;
    }
    let slope = dot(p, g);
    if (!(slope < 0)) {
      // H lost positive definiteness numerically: restart from steepest descent.
      resetH(1);
      freshH = true;
      for (let i = 0; i < n; i++) p[i] = -g[i];
      slope = dot(p, g);
    }
    const initialStep = firstStep ? Math.min(1, 1 / infNorm(p)) : 1;
    const search = wolfeLineSearch(f, safeGradient, x, fx, g, p, slope, initialStep);
    if (search === null) {
      if (!freshH) {
        // Retry once along steepest descent with a fresh Hessian approximation.
        resetH(1);
        freshH = true;
        firstStep = true;
        continue;
      }
      const converged = gnorm <= 1000 * gtol * Math.max(1, Math.abs(fx));
      return {
        x,
        value: fx,
        converged,
        iterations: iteration,
        gradientNorm: gnorm,
        message: converged
          ? 'line search cannot improve f; gradient within 1000x tolerance'
          : `line search failed to find a lower point (gradient norm ${gnorm.toPrecision(3)})`,
      };
    }
    for (let i = 0; i < n; i++) {
      s[i] = search.x[i] - x[i];
      y[i] = search.g[i] - g[i];
    }
    const previous = fx;
    x = search.x;
    fx = search.f;
    g = search.g;
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (firstStep || freshH) {
        // Scale the initial approximation to the curvature just seen (Nocedal and Wright 2006, eq. 6.20).
        resetH(sy / dot(y, y));
      }
      // BFGS inverse update (Nocedal and Wright 2006, eq. 6.17), written out to avoid n^3 products.
      const rho = 1 / sy;
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let j = 0; j < n; j++) sum += H[i * n + j] * y[j];
        Hy[i] = sum;
      }
      const yHy = dot(y, Hy);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          H[i * n + j] += -rho * (Hy[i] * s[j] + s[i] * Hy[j]) + (rho * rho * yHy + rho) * s[i] * s[j];
        }
      }
      freshH = false;
    }
    firstStep = false;
    if (Math.abs(previous - fx) <= ftol * Math.max(1, Math.abs(fx))) {
      const gnormNow = infNorm(g);
      const scale = Math.max(1, Math.abs(fx));
      if (gnormNow <= gtol * scale) {
        return {
          x,
          value: fx,
          converged: true,
          iterations: iteration + 1,
          gradientNorm: gnormNow,
          message: 'gradient tolerance met',
        };
      }
      const converged = gnormNow <= 1000 * gtol * scale;
      return {
        x,
        value: fx,
        converged,
        iterations: iteration + 1,
        gradientNorm: gnormNow,
        message: converged
          ? 'function change below tolerance; gradient within 1000x tolerance'
          : `stalled: function change below tolerance but gradient norm ${gnormNow.toPrecision(3)}`,
      };
    }
  }
  const gnorm = infNorm(g);
  const converged = gnorm <= gtol * Math.max(1, Math.abs(fx));
  return {
    x,
    value: fx,
    converged,
    iterations: iteration,
    gradientNorm: gnorm,
    message: converged
      ? 'gradient tolerance met'
      : `iteration limit ${maxIterations} reached (gradient norm ${gnorm.toPrecision(3)})`,
  };
}

interface LineSearchPoint {
  x: Float64Array;
  f: number;
  g: Float64Array;
}

/**
 * Step length satisfying the strong Wolfe conditions with c1 = 1e-4, c2 = 0.9 (Nocedal and Wright 2006,
 * Algorithms 3.5 and 3.6). Non-finite f or gradient at a trial point count as "too far". Null on failure.
 */
function wolfeLineSearch(
  f: (x: Float64Array) => number,
  gradient: (x: Float64Array) => Float64Array | null,
  x: Float64Array,
  f0: number,
  g0: Float64Array,
  p: Float64Array,
  slope0: number,
  initialStep: number,
): LineSearchPoint | null {
  const c1 = 1e-4;
  const c2 = 0.9;
  const n = x.length;
  const at = (alpha: number): Float64Array => {
    const point = new Float64Array(n);
    for (let i = 0; i < n; i++) point[i] = x[i] + alpha * p[i];
    return point;
  };
  interface Trial {
    alpha: number;
    f: number;
    slope: number;
    x: Float64Array;
    g: Float64Array | null;
  }
  const evaluate = (alpha: number, withGradient: boolean): Trial => {
    const point = at(alpha);
    const value = f(point);
    if (!Number.isFinite(value)) return { alpha, f: Infinity, slope: NaN, x: point, g: null };
    if (!withGradient) return { alpha, f: value, slope: NaN, x: point, g: null };
    const g = gradient(point);
    if (g === null) return { alpha, f: Infinity, slope: NaN, x: point, g: null };
    return { alpha, f: value, slope: dot(g, p), x: point, g };
  };
  // Best Armijo point seen, returned if the curvature condition cannot be met (still a valid descent step).
  let fallback: Trial | null = null;
  const consider = (trial: Trial): void => {
    if (
      trial.g !== null &&
      trial.f <= f0 + c1 * trial.alpha * slope0 &&
      (fallback === null || trial.f < fallback.f)
    ) {
      fallback = trial;
    }
  };

  const zoom = (lo: Trial, hi: Trial): Trial | null => {
    for (let k = 0; k < 40; k++) {
      let alpha: number;
      const width = hi.alpha - lo.alpha;
      if (Number.isFinite(hi.f) && Number.isFinite(lo.slope)) {
        // Minimizer of the quadratic through (lo.f, lo.slope) and hi.f, safeguarded into the interval.
        const denom = 2 * (hi.f - lo.f - lo.slope * width);
        alpha = denom > 0 ? lo.alpha - (lo.slope * width * width) / denom : lo.alpha + 0.5 * width;
        const low = lo.alpha + 0.1 * width;
        const high = lo.alpha + 0.9 * width;
        if (!(width > 0 ? alpha >= low && alpha <= high : alpha <= low && alpha >= high))
          alpha = lo.alpha + 0.5 * width;
      } else {
        // Non-finite side: bisect towards the finite one, biased to stay close to it.
        alpha = lo.alpha + 0.2 * width;
      }
      const trial = evaluate(alpha, true);
      consider(trial);
      if (!Number.isFinite(trial.f) || trial.f > f0 + c1 * alpha * slope0 || trial.f >= lo.f) {
        hi = trial;
      } else {
        if (Math.abs(trial.slope) <= -c2 * slope0) return trial;
        if (trial.slope * (hi.alpha - lo.alpha) >= 0) hi = lo;
        lo = trial;
      }
      if (Math.abs(hi.alpha - lo.alpha) <= 1e-16 * Math.max(1, Math.abs(lo.alpha))) break;
    }
    return null;
  };

  let previous: Trial = { alpha: 0, f: f0, slope: slope0, x, g: g0 };
  let alpha = initialStep;
  for (let i = 0; i < 60; i++) {
    const trial = evaluate(alpha, true);
    consider(trial);
    let found: Trial | null = null;
    if (!Number.isFinite(trial.f) || trial.f > f0 + c1 * alpha * slope0 || (i > 0 && trial.f >= previous.f)) {
      found = zoom(previous, trial);
      return finish(found ?? fallback);
    }
    if (Math.abs(trial.slope) <= -c2 * slope0) return finish(trial);
    if (trial.slope >= 0) {
      found = zoom(trial, previous);
      return finish(found ?? fallback);
    }
    previous = trial;
    alpha *= 2;
    if (alpha > 1e20) break;
  }
  return finish(fallback);

  function finish(trial: Trial | null): LineSearchPoint | null {
    if (trial === null || trial.g === null || !(trial.f < f0)) return null;
    return { x: trial.x, f: trial.f, g: trial.g };
  }
}

function nelderMead(
  f: (x: Float64Array) => number,
  x0: Float64Array,
  options: MinimizeOptions,
): MinimizeResult {
  const n = x0.length;
  const maxIterations = options.maxIterations ?? 1000 * n;
  const ftol = options.functionTolerance ?? 1e-10;
  const xtol = 1e-8;
  // Adaptive coefficients for higher dimensions (Gao and Han 2012).
  const reflect = 1;
  const expand = 1 + 2 / n;
  const contract = 0.75 - 1 / (2 * n);
  const shrink = 1 - 1 / n;
  const simplex: Float64Array[] = [Float64Array.from(x0)];
  for (let i = 0; i < n; i++) {
    const vertex = Float64Array.from(x0);
    vertex[i] = vertex[i] !== 0 ? vertex[i] * 1.05 : 0.00025;
    simplex.push(vertex);
  }
  const values = simplex.map((v) => f(v));
  const order = Array.from({ length: n + 1 }, (_, i) => i);
  const centroid = new Float64Array(n);
  const pointAlong = (coefficient: number): Float64Array => {
    const worst = simplex[order[n]];
    const point = new Float64Array(n);
    for (let j = 0; j < n; j++) point[j] = centroid[j] + coefficient * (centroid[j] - worst[j]);
    return point;
  };
  let iteration = 0;
  let converged = false;
  for (; iteration < maxIterations; iteration++) {
    order.sort((i, j) => values[i] - values[j]);
    const best = order[0];
    const worstIndex = order[n];
    let fspread = 0;
    let xspread = 0;
    for (let k = 1; k <= n; k++) {
      const v = order[k];
      fspread = Math.max(fspread, Math.abs(values[v] - values[best]));
      for (let j = 0; j < n; j++) xspread = Math.max(xspread, Math.abs(simplex[v][j] - simplex[best][j]));
    }
    if (
      Number.isFinite(values[best]) &&
      fspread <= ftol * Math.max(1, Math.abs(values[best])) &&
      xspread <= xtol * Math.max(1, infNorm(simplex[best]))
    ) {
      converged = true;
      break;
    }
    centroid.fill(0);
    for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) centroid[j] += simplex[order[k]][j] / n;
    const reflected = pointAlong(reflect);
    const fr = f(reflected);
    if (fr < values[best]) {
      const expanded = pointAlong(reflect * expand);
      const fe = f(expanded);
      if (fe < fr) {
        simplex[worstIndex] = expanded;
        values[worstIndex] = fe;
      } else {
        simplex[worstIndex] = reflected;
        values[worstIndex] = fr;
      }
      continue;
    }
    if (fr < values[order[n - 1]]) {
      simplex[worstIndex] = reflected;
      values[worstIndex] = fr;
      continue;
    }
    const outside = fr < values[worstIndex];
    const contracted = pointAlong(outside ? reflect * contract : -contract);
    const fc = f(contracted);
    if (outside ? fc <= fr : fc < values[worstIndex]) {
      simplex[worstIndex] = contracted;
      values[worstIndex] = fc;
      continue;
    }
    for (let k = 1; k <= n; k++) {
      const v = order[k];
      for (let j = 0; j < n; j++)
        simplex[v][j] = simplex[best][j] + shrink * (simplex[v][j] - simplex[best][j]);
      values[v] = f(simplex[v]);
    }
  }
  order.sort((i, j) => values[i] - values[j]);
  const x = simplex[order[0]];
  const value = values[order[0]];
  const g = Number.isFinite(value) ? numericGradient(f, x) : new Float64Array(n).fill(NaN);
  return {
    x: Float64Array.from(x),
    value,
    converged,
    iterations: iteration,
    gradientNorm: infNorm(g),
    message: converged ? 'simplex converged' : `iteration limit ${maxIterations} reached`,
  };
}

/**
 * Central-difference gradient with step h_i = h * max(1, |x_i|) (default h = eps^(1/3) ~ 6e-6). Falls back to
 * a one-sided difference where one side is not finite.
 */
export function numericGradient(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  h = 6.0554544523933395e-6,
): Float64Array {
  const n = x.length;
  const point = Float64Array.from(x);
  const g = new Float64Array(n);
  let f0: number | null = null;
  for (let i = 0; i < n; i++) {
    const xi = point[i];
    const step = h * Math.max(1, Math.abs(xi));
    point[i] = xi + step;
    const up = f(point);
    point[i] = xi - step;
    const down = f(point);
    point[i] = xi;
    if (Number.isFinite(up) && Number.isFinite(down)) {
      g[i] = (up - down) / (2 * step);
    } else {
      f0 ??= f(point);
      if (Number.isFinite(up)) g[i] = (up - f0) / step;
      else if (Number.isFinite(down)) g[i] = (f0 - down) / step;
      else g[i] = NaN;
    }
  }
  return g;
}

/**
 * Central-difference Hessian from function values, symmetric by construction, with step
 * h_i = h * max(1, |x_i|) (default h = eps^(1/4) ~ 1.2e-4). Returns rows.
 */
export function numericHessian(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  h = 1.220703125e-4,
): Float64Array[] {
  const n = x.length;
  const point = Float64Array.from(x);
  const steps = Array.from({ length: n }, (_, i) => h * Math.max(1, Math.abs(point[i])));
  const f0 = f(point);
  const hessian = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const xi = point[i];
    point[i] = xi + steps[i];
    const up = f(point);
    point[i] = xi - steps[i];
    const down = f(point);
    point[i] = xi;
    hessian[i][i] = (up - 2 * f0 + down) / (steps[i] * steps[i]);
    for (let j = 0; j < i; j++) {
      const xj = point[j];
      const value = (si: number, sj: number): number => {
        point[i] = xi + si * steps[i];
        point[j] = xj + sj * steps[j];
        const v = f(point);
        point[i] = xi;
        point[j] = xj;
        return v;
      };
      const cross = (value(1, 1) - value(1, -1) - value(-1, 1) + value(-1, -1)) / (4 * steps[i] * steps[j]);
      hessian[i][j] = cross;
      hessian[j][i] = cross;
    }
  }
  return hessian;
}

/**
 * Hessian as central differences of an analytic gradient (more accurate than `numericHessian`), symmetrized.
 * Step h_i = h * max(1, |x_i|), default h = eps^(1/3).
 */
export function numericHessianFromGradient(
  gradient: (x: Float64Array) => Float64Array,
  x: ArrayLike<number>,
  h = 6.0554544523933395e-6,
): Float64Array[] {
  const n = x.length;
  const point = Float64Array.from(x);
  const columns: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const xj = point[j];
    const step = h * Math.max(1, Math.abs(xj));
    point[j] = xj + step;
    const up = Float64Array.from(gradient(point));
    point[j] = xj - step;
    const down = gradient(point);
    point[j] = xj;
    const column = new Float64Array(n);
    for (let i = 0; i < n; i++) column[i] = (up[i] - down[i]) / (2 * step);
    columns.push(column);
  }
  const hessian = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) hessian[i][j] = 0.5 * (columns[j][i] + columns[i][j]);
  }
  return hessian;
}

/**
 * Inverse of a symmetric matrix given as rows: Cholesky when positive definite, otherwise Gauss-Jordan with
 * partial pivoting (an indefinite Hessian still has an inverse, whose negative diagonal callers can flag).
 * Null when singular (a pivot below 1e-13 of the largest entry) or when an entry is not finite.
 */
export function invertSymmetric(matrix: readonly ArrayLike<number>[]): Float64Array[] | null {
  const n = matrix.length;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    if (matrix[i].length !== n)
      throw new Error(`invertSymmetric: row ${i} has ${matrix[i].length} entries, expected ${n}`);
    for (let j = 0; j < n; j++) {
      if (!Number.isFinite(matrix[i][j])) return null;
      scale = Math.max(scale, Math.abs(matrix[i][j]));
    }
  }
  if (n === 0 || scale === 0) return null;
  return choleskyInverseOfRows(matrix, n) ?? gaussJordanInverse(matrix, n, scale);
}

/** The inverse through Cholesky (linalg.ts) of the symmetric part of the rows; null unless positive definite. */
function choleskyInverseOfRows(matrix: readonly ArrayLike<number>[], n: number): Float64Array[] | null {
  const symmetric = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) symmetric[i * n + j] = 0.5 * (matrix[i][j] + matrix[j][i]);
  }
  const L = cholesky(symmetric, n, { relative: 1e-13 });
  if (L === null) return null;
  const inverse = choleskyInverse(L, n);
  return Array.from({ length: n }, (_, i) => inverse.slice(i * n, (i + 1) * n));
}

function gaussJordanInverse(
  matrix: readonly ArrayLike<number>[],
  n: number,
  scale: number,
): Float64Array[] | null {
  const a = Array.from({ length: n }, (_, i) => Float64Array.from(matrix[i]));
  const inverse = Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    row[i] = 1;
    return row;
  });
  for (let column = 0; column < n; column++) {
    let pivot = column;
    for (let r = column + 1; r < n; r++) if (Math.abs(a[r][column]) > Math.abs(a[pivot][column])) pivot = r;
    if (Math.abs(a[pivot][column]) <= 1e-13 * scale) return null;
    [a[column], a[pivot]] = [a[pivot], a[column]];
    [inverse[column], inverse[pivot]] = [inverse[pivot], inverse[column]];
    const factor = 1 / a[column][column];
    for (let j = 0; j < n; j++) {
      a[column][j] *= factor;
      inverse[column][j] *= factor;
    }
    for (let r = 0; r < n; r++) {
      if (r === column) continue;
      const m = a[r][column];
      if (m === 0) continue;
      for (let j = 0; j < n; j++) {
        a[r][j] -= m * a[column][j];
        inverse[r][j] -= m * inverse[column][j];
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const mean = 0.5 * (inverse[i][j] + inverse[j][i]);
      inverse[i][j] = mean;
      inverse[j][i] = mean;
    }
  }
  return inverse;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function infNorm(v: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (!(a <= max)) max = a;
  }
  return max;
}
