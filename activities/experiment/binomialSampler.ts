/**
 * Exact Binomial(n, p) variates in O(1) expected time for any n, so a policy simulation can draw the
 * number of buyers among a million customers in one call. lib/random's `Rng.binomial` walks geometric
 * waiting times, O(n p) per draw, which is too slow at that scale.
 *
 * n min(p, 1-p) < 30: inversion by sequential search (Kachitvichyanukul and Schmeiser 1988, algorithm BINV);
 * otherwise BTPE, triangle-parallelogram-exponential rejection (same paper, section 3). Both are exact.
 */
import type { Rng } from '../../lib/random';

/** A Binomial(n, p) variate; n a non-negative integer (up to 2^53), p in [0, 1]. */
export function sampleBinomial(rng: Rng, n: number, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`sampleBinomial: p must lie in [0, 1] (got ${p})`);
  if (!Number.isInteger(n) || n < 0) throw new Error(`sampleBinomial: n must be an integer >= 0 (got ${n})`);
  if (n === 0 || p === 0) return 0;
  if (p === 1) return n;
  const flip = p > 0.5;
  const r = flip ? 1 - p : p;
  const x = n * r < 30 ? inversion(rng, n, r) : btpe(rng, n, r);
  return flip ? n - x : x;
}

// BINV: walk the pmf from 0 using f(x+1) = f(x) (n-x) p / ((x+1) q); restart in the (negligible) event that
// the walk passes mean + 10 sd, where rounding could otherwise run it to n.
function inversion(rng: Rng, n: number, p: number): number {
  const q = 1 - p;
  const q0 = Math.exp(n * Math.log1p(-p));
  const ratio = p / q;
  const bound = Math.min(n, n * p + 10 * Math.sqrt(n * p * q + 1));
  for (;;) {
    let x = 0;
    let px = q0;
    let u = rng.uniform();
    while (u > px) {
      x++;
      if (x > bound) break;
      u -= px;
      px *= ((n - x + 1) * ratio) / x;
    }
    if (x <= bound) return x;
  }
}

// BTPE for p <= 0.5 and n p >= 30 (Kachitvichyanukul and Schmeiser 1988, steps 0-5.3).
function btpe(rng: Rng, n: number, p: number): number {
  const q = 1 - p;
  const npq = n * p * q;
  const fm = n * p + p;
  const m = Math.floor(fm);
  const p1 = Math.floor(2.195 * Math.sqrt(npq) - 4.6 * q) + 0.5;
  const xm = m + 0.5;
  const xl = xm - p1;
  const xr = xm + p1;
  const c = 0.134 + 20.5 / (15.3 + m);
  let a = (fm - xl) / (fm - xl * p);
  const lambdaL = a * (1 + a / 2);
  a = (xr - fm) / (xr * q);
  const lambdaR = a * (1 + a / 2);
  const p2 = p1 * (1 + 2 * c);
  const p3 = p2 + c / lambdaL;
  const p4 = p3 + c / lambdaR;

  for (;;) {
    // Step 1: choose a region of the majorizing function.
    const u = rng.uniform() * p4;
    let v = rng.uniform();
    let y: number;
    if (u <= p1) {
      // Triangle: accepted outright.
      return Math.floor(xm - p1 * v + u);
    }
    if (u <= p2) {
      // Parallelograms.
      const x = xl + (u - p1) / c;
      v = v * c + 1 - Math.abs(m - x + 0.5) / p1;
      if (v > 1) continue;
      y = Math.floor(x);
    } else if (u <= p3) {
      // Left exponential tail.
      if (v === 0) continue;
      y = Math.floor(xl + Math.log(v) / lambdaL);
      if (y < 0) continue;
      v = v * (u - p2) * lambdaL;
    } else {
      // Right exponential tail.
      if (v === 0) continue;
      y = Math.floor(xr - Math.log(v) / lambdaR);
      if (y > n) continue;
      v = v * (u - p3) * lambdaR;
    }

    const k = Math.abs(y - m);
    if (k <= 20 || k >= npq / 2 - 1) {
      // Step 5.1: evaluate f(y)/f(m) by the recursion.
      const s = p / q;
      const aa = s * (n + 1);
      let f = 1;
      if (m < y) for (let i = m + 1; i <= y; i++) f *= aa / i - s;
      else if (m > y) for (let i = y + 1; i <= m; i++) f /= aa / i - s;
      if (v <= f) return y;
      continue;
    }

    // Step 5.2: squeeze on log(f(y)/f(m)).
    const rho = (k / npq) * ((k * (k / 3 + 0.625) + 1 / 6) / npq + 0.5);
    const t = (-k * k) / (2 * npq);
    const logV = Math.log(v);
    if (logV < t - rho) return y;
    if (logV > t + rho) continue;

    // Step 5.3: final comparison with Stirling-corrected log(f(y)/f(m)).
    const x1 = y + 1;
    const f1 = m + 1;
    const z = n + 1 - m;
    const w = n - y + 1;
    const bound =
      xm * Math.log(f1 / x1) +
      (n - m + 0.5) * Math.log(z / w) +
      (y - m) * Math.log((w * p) / (x1 * q)) +
      stirlingCorrection(f1) +
      stirlingCorrection(z) +
      stirlingCorrection(x1) +
      stirlingCorrection(w);
    if (logV <= bound) return y;
  }
}

// The Stirling series remainder 1/(12x) - 1/(360x^3) + 1/(1260x^5) - 1/(1680x^7) + 1/(1188x^9), nested.
function stirlingCorrection(x: number): number {
  const x2 = x * x;
  return (13860 - (462 - (132 - (99 - 140 / x2) / x2) / x2) / x2) / x / 166320;
}
