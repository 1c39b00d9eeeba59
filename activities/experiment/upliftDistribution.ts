/**
 * Campaign-level uncertainty about a policy's effect: a distribution for a relative uplift u (the policy
 * multiplies a probability or a spend by 1 + u), drawn once per simulation so that every simulated campaign
 * shares one true effect. Supports never go below -1, since a rate cannot fall below zero.
 */
import { normalCdf, normalQuantile } from '../../lib/numeric/distributions';
import type { Rng } from '../../lib/random';

/**
 * A relative uplift distribution:
 * - fixed: always `value`;
 * - normal: Normal(mean, sd) truncated to [min, max] (default [-1, Infinity]);
 * - beta: a Beta with the given mean and sd, scaled to [min, max] (default [0, 1]);
 * - uniform: Uniform(min, max).
 */
export type UpliftDistribution =
  | { dist: 'fixed'; value: number }
  | { dist: 'normal'; mean: number; sd: number; min?: number; max?: number }
  | { dist: 'beta'; mean: number; sd: number; min?: number; max?: number }
  | { dist: 'uniform'; min: number; max: number };

/** A validated distribution ready to draw from. */
export interface UpliftSampler {
  spec: UpliftDistribution;
  /** Expected value of the (truncated) distribution. */
  mean: number;
  /** True when every draw is the same number. */
  fixed: boolean;
  sample(rng: Rng): number;
}

const MIN_UPLIFT = -1;

/** Validate a spec and return its sampler; `where` prefixes error messages ("policy 'a'.upliftSpend"). */
export function upliftSampler(spec: UpliftDistribution, where: string): UpliftSampler {
  const fail = (rule: string): never => {
    throw new Error(`${where}: ${rule}`);
  };
  const finite = (name: string, value: number): void => {
    if (!Number.isFinite(value)) fail(`${name} must be a finite number (got ${value})`);
  };
  switch (spec.dist) {
    case 'fixed': {
      finite('value', spec.value);
      if (spec.value < MIN_UPLIFT) fail(`value must be >= -1 (got ${spec.value})`);
      const value = spec.value;
      return { spec, mean: value, fixed: true, sample: () => value };
    }
    case 'uniform': {
      finite('min', spec.min);
      finite('max', spec.max);
      if (spec.min < MIN_UPLIFT) fail(`min must be >= -1 (got ${spec.min})`);
      if (!(spec.max > spec.min)) fail(`max must be > min (got min ${spec.min}, max ${spec.max})`);
      const { min, max } = spec;
      return {
        spec,
        mean: 0.5 * (min + max),
        fixed: false,
        sample: (rng) => min + (max - min) * rng.uniform(),
      };
    }
    case 'normal': {
      finite('mean', spec.mean);
      finite('sd', spec.sd);
      if (!(spec.sd > 0)) fail(`sd must be > 0 (got ${spec.sd}; use dist 'fixed' for a known uplift)`);
      const min = spec.min ?? MIN_UPLIFT;
      const max = spec.max ?? Infinity;
      if (min < MIN_UPLIFT) fail(`min must be >= -1 (got ${min})`);
      if (!(max > min)) fail(`max must be > min (got min ${min}, max ${max})`);
      return truncatedNormal(spec, spec.mean, spec.sd, min, max, fail);
    }
    case 'beta': {
      finite('mean', spec.mean);
      finite('sd', spec.sd);
      const min = spec.min ?? 0;
      const max = spec.max ?? 1;
      finite('min', min);
      finite('max', max);
      if (min < MIN_UPLIFT) fail(`min must be >= -1 (got ${min})`);
      if (!(max > min)) fail(`max must be > min (got min ${min}, max ${max})`);
      const m = (spec.mean - min) / (max - min);
      const s = spec.sd / (max - min);
      if (!(m > 0 && m < 1)) fail(`mean must lie strictly inside (${min}, ${max}) (got ${spec.mean})`);
      if (!(s > 0) || s * s >= m * (1 - m)) {
        fail(
          `sd must be > 0 and below sqrt((mean - min)(max - mean)) = ${Math.sqrt(m * (1 - m)) * (max - min)}` +
            ` (got ${spec.sd})`,
        );
      }
      // Method of moments: alpha + beta = m (1 - m) / s^2 - 1.
      const k = (m * (1 - m)) / (s * s) - 1;
      const a = m * k;
      const b = (1 - m) * k;
      return { spec, mean: spec.mean, fixed: false, sample: (rng) => min + (max - min) * rng.beta(a, b) };
    }
    default:
      return fail(
        `unknown dist '${String((spec as { dist: unknown }).dist)}' (expected fixed, normal, beta or uniform)`,
      );
  }
}

function truncatedNormal(
  spec: UpliftDistribution,
  mean: number,
  sd: number,
  min: number,
  max: number,
  fail: (rule: string) => never,
): UpliftSampler {
  const a = (min - mean) / sd;
  const b = (max - mean) / sd;
  // Work in the lower half so that tail probabilities do not round to 1 (symmetry of the normal).
  const mirrored = a > 0;
  const lo = mirrored ? -b : a;
  const hi = mirrored ? -a : b;
  const cdfLo = normalCdf(lo);
  const cdfHi = normalCdf(hi);
  const mass = cdfHi - cdfLo;
  if (!(mass > 1e-12)) fail(`the interval [${min}, ${max}] holds no mass of Normal(${mean}, ${sd})`);
  const density = (z: number): number =>
    Number.isFinite(z) ? Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI) : 0;
  // Mean of a truncated normal (Johnson, Kotz and Balakrishnan 1994, Continuous Univariate Distributions,
  // vol. 1, ch. 13).
  const truncatedMean = mean + (sd * (density(a) - density(b))) / mass;
  const sample =
    mass > 0.25
      ? (rng: Rng): number => {
          // Rejection: at most 4 draws expected.
          for (;;) {
            const x = rng.normal(mean, sd);
            if (x >= min && x <= max) return x;
          }
        }
      : (rng: Rng): number => {
          const z = normalQuantile(cdfLo + mass * rng.uniform());
          const x = mean + sd * (mirrored ? -z : z);
          return Math.min(max, Math.max(min, x));
        };
  return { spec, mean: truncatedMean, fixed: false, sample };
}
