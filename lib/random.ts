/**
 * Seeded pseudo-random numbers for everything that must be reproducible: synthetic data, k-means++
 * seeding, Monte Carlo simulation, bootstrap. Same seed, same stream, on every machine.
 *
 * Generator: xoshiro128** (Blackman and Vigna 2018), 32-bit state words so it runs on plain JS numbers;
 * seeded through splitmix32 so that small consecutive seeds give unrelated streams.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A new generator whose stream is independent of this one's (for per-customer or per-shard streams). */
  fork(salt: number): Rng {
    return new Rng((this.nextUint32() ^ Math.imul(salt >>> 0, 0x9e3779b1)) >>> 0);
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Marsaglia polar method). */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + sd * z;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return mean + sd * u * f;
  }

  /** Exponential with the given rate. */
  exponential(rate: number): number {
    return -Math.log(1 - this.uniform()) / rate;
  }

  /** Gamma(shape, rate) by Marsaglia and Tsang (2000); shape < 1 through the boost u^(1/shape). */
  gamma(shape: number, rate = 1): number {
    if (shape < 1) {
      const u = this.uniform();
      return this.gamma(shape + 1, rate) * Math.pow(u === 0 ? Number.MIN_VALUE : u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return (d * v) / rate;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return (d * v) / rate;
    }
  }

  /** Beta(a, b) as a ratio of gammas. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }

  /** Poisson(lambda): inversion for small lambda, PTRS-free normal-approximation guard for large. */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda < 30) {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = this.uniform();
      while (p > limit) {
        k++;
        p *= this.uniform();
      }
      return k;
    }
    // Atkinson (1979) rejection for large lambda.
    const c = 0.767 - 3.36 / lambda;
    const beta = Math.PI / Math.sqrt(3 * lambda);
    const alpha = beta * lambda;
    const k = Math.log(c) - lambda - Math.log(beta);
    for (;;) {
      const u = this.uniform();
      const x = (alpha - Math.log((1 - u) / u)) / beta;
      const n = Math.floor(x + 0.5);
      if (n < 0) continue;
      const v = this.uniform();
      const y = alpha - beta * x;
      const lhs = y + Math.log(v / Math.pow(1 + Math.exp(y), 2));
      const rhs = k + n * Math.log(lambda) - logFactorial(n);
      if (lhs <= rhs) return n;
    }
  }

  /** Binomial(n, p): sum of Bernoullis for small n, normal-free inversion via Poisson-free waiting times otherwise. */
  binomial(n: number, p: number): number {
    if (p <= 0 || n <= 0) return 0;
    if (p >= 1) return n;
    if (n < 64) {
      let k = 0;
      for (let i = 0; i < n; i++) if (this.uniform() < p) k++;
      return k;
    }
    // Geometric waiting times (Devroye 1986, X.4): expected O(n p) draws.
    const q = Math.min(p, 1 - p);
    const logQ = Math.log(1 - q);
    let k = 0;
    let pos = 0;
    for (;;) {
      pos += Math.floor(Math.log(1 - this.uniform()) / logQ) + 1;
      if (pos > n) break;
      k++;
    }
    return p <= 0.5 ? k : n - k;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const logFactorialTable: number[] = [0];
function logFactorial(n: number): number {
  if (n < 256) {
    for (let i = logFactorialTable.length; i <= n; i++)
      logFactorialTable[i] = logFactorialTable[i - 1] + Math.log(i);
    return logFactorialTable[n];
  }
  // Stirling series.
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + 1 / (12 * n) - 1 / (360 * n * n * n);
}

/**
 * `size` distinct indices drawn uniformly from [0, n), in draw order (partial Fisher-Yates). Any prefix of
 * the result is itself a uniform sample, which lets a smaller sample nest inside a larger one.
 */
export function sampleIndices(n: number, size: number, rng: Rng): Int32Array {
  if (size > n) throw new Error(`sampleIndices: sample size ${size} exceeds population ${n}`);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = 0; i < size; i++) {
    const j = i + rng.int(n - i);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm.slice(0, size);
}

/** A well-mixed 32-bit seed from a base seed and a salt (e.g. k), so each sub-task has its own stream. */
export function deriveSeed(seed: number, salt: number): number {
  let z = (seed ^ Math.imul(salt + 0x632be5ab, 0x9e3779b1)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
