/**
 * The two samplers of policySimulation.ts (see its header for the model and for the exactness of each):
 * 'binned' draws exact binomial counts per probability bin, O(simulations x bins); 'perCustomer' draws one
 * uniform per targeted customer, O(simulations x customers). Both fill per-simulation incremental orders and
 * revenue, and, for a total-revenue goal, the baseline revenue of every scored customer.
 */
import type { Rng } from '../../lib/random';
import { sampleBinomial } from './binomialSampler';
import type { CustomerScores } from './targeting';
import type { UpliftSampler } from './upliftDistribution';

/** Targeted customers grouped by purchase probability, with their p-weighted spend moments. */
export interface Bins {
  count: Float64Array;
  probability: Float64Array;
  spendMean: Float64Array;
  spendVariance: Float64Array;
  length: number;
}

// Group targeted customers by probability; spend moments are p-weighted because buyers, extra buyers and
// lost buyers are all drawn with probability proportional to p within a narrow bin.
export function buildBins(customers: CustomerScores, targets: Int32Array, binCount: number): Bins {
  const n = new Float64Array(binCount);
  const sumP = new Float64Array(binCount);
  const sumPS = new Float64Array(binCount);
  const sumS = new Float64Array(binCount);
  const p = customers.purchaseProbability;
  const s = customers.spendPerOrder;
  for (let k = 0; k < targets.length; k++) {
    const i = targets[k];
    const b = Math.min(binCount - 1, Math.floor(p[i] * binCount));
    n[b]++;
    sumP[b] += p[i];
    sumPS[b] += p[i] * s[i];
    sumS[b] += s[i];
  }
  const spendMeanAll = new Float64Array(binCount);
  for (let b = 0; b < binCount; b++)
    spendMeanAll[b] = sumP[b] > 0 ? sumPS[b] / sumP[b] : n[b] > 0 ? sumS[b] / n[b] : 0;
  const sumDev = new Float64Array(binCount);
  for (let k = 0; k < targets.length; k++) {
    const i = targets[k];
    const b = Math.min(binCount - 1, Math.floor(p[i] * binCount));
    const d = s[i] - spendMeanAll[b];
    sumDev[b] += (sumP[b] > 0 ? p[i] : 1) * d * d;
  }
  const bins: Bins = {
    count: new Float64Array(binCount),
    probability: new Float64Array(binCount),
    spendMean: new Float64Array(binCount),
    spendVariance: new Float64Array(binCount),
    length: 0,
  };
  for (let b = 0; b < binCount; b++) {
    if (n[b] === 0 || sumP[b] === 0) continue; // p = 0 customers never buy, with or without the policy
    const j = bins.length++;
    bins.count[j] = n[b];
    bins.probability[j] = sumP[b] / n[b];
    bins.spendMean[j] = spendMeanAll[b];
    bins.spendVariance[j] = sumDev[b] / sumP[b];
  }
  return bins;
}

// Variance of the sum of the spends of k customers drawn without replacement from a bin of n whose spends
// have variance v (finite-population correction); its mean is k times the bin's mean spend.
function spendSumVariance(k: number, n: number, variance: number): number {
  return k > 0 && k < n ? (k * variance * (n - k)) / (n - 1) : 0;
}

export function simulateBinned(
  rng: Rng,
  bins: Bins,
  conversion: UpliftSampler,
  spend: UpliftSampler,
  simulations: number,
  orders: Float64Array,
  revenue: Float64Array,
  baseline: Baseline | null = null,
): void {
  for (let sim = 0; sim < simulations; sim++) {
    const uc = conversion.sample(rng);
    const us = spend.sample(rng);
    let simOrders = 0;
    let simRevenue = 0;
    let simBaseline = 0;
    let baselineVariance = 0;
    // The normal spend-heterogeneity terms of all bins are independent, so their sum is one normal draw
    // with the summed variance.
    let noiseVariance = 0;
    for (let b = 0; b < bins.length; b++) {
      const n = bins.count[b];
      const p = bins.probability[b];
      const m = bins.spendMean[b];
      const v = bins.spendVariance[b];
      const delta = Math.min(1, p * (1 + uc)) - p;
      if (us === 0 && !baseline) {
        // Marginally each customer is an extra buyer w.p. delta (or a lost buyer w.p. -delta), independently.
        if (delta !== 0) {
          const k = sampleBinomial(rng, n, Math.abs(delta));
          const signed = delta > 0 ? k : -k;
          simOrders += signed;
          simRevenue += signed * m;
          noiseVariance += spendSumVariance(k, n, v);
        }
        continue;
      }
      // With a spend uplift the baseline buyers matter too: buyers B, then extra among non-buyers or lost
      // among buyers (the coupling in the header).
      const buyers = sampleBinomial(rng, n, p);
      let extra = 0;
      let lost = 0;
      if (delta > 0) extra = sampleBinomial(rng, n - buyers, Math.min(1, delta / (1 - p)));
      else if (delta < 0) lost = sampleBinomial(rng, buyers, Math.min(1, -delta / p));
      const kept = buyers - lost;
      if (baseline) {
        simBaseline += buyers * m;
        baselineVariance += spendSumVariance(buyers, n, v);
      }
      simOrders += extra - lost;
      simRevenue += m * (extra * (1 + us) - lost + kept * us);
      noiseVariance +=
        (1 + us) * (1 + us) * spendSumVariance(extra, n, v) +
        spendSumVariance(lost, n, v) +
        us * us * spendSumVariance(kept, n, v);
    }
    orders[sim] = simOrders;
    revenue[sim] = noiseVariance > 0 ? simRevenue + Math.sqrt(noiseVariance) * rng.normal() : simRevenue;
    if (baseline) {
      // Customers the policy does not contact buy as they would anyway.
      for (let b = 0; b < baseline.untargeted.length; b++) {
        const k = sampleBinomial(rng, baseline.untargeted.count[b], baseline.untargeted.probability[b]);
        simBaseline += k * baseline.untargeted.spendMean[b];
        baselineVariance += spendSumVariance(
          k,
          baseline.untargeted.count[b],
          baseline.untargeted.spendVariance[b],
        );
      }
      const noise = baselineVariance > 0 ? Math.sqrt(baselineVariance) * rng.normal() : 0;
      baseline.revenue[sim] = simBaseline + noise;
    }
  }
}

/** Baseline revenue draws (without the policy) for a total-revenue goal: the untargeted customers' bins. */
export interface Baseline {
  untargeted: Bins;
  revenue: Float64Array;
}

/** Indices of the customers not in targets (targets ascending or not). */
export function complementOf(size: number, targets: Int32Array): Int32Array {
  const chosen = new Uint8Array(size);
  for (let k = 0; k < targets.length; k++) chosen[targets[k]] = 1;
  const rest = new Int32Array(size - targets.length);
  let j = 0;
  for (let i = 0; i < size; i++) if (!chosen[i]) rest[j++] = i;
  return rest;
}

export function simulatePerCustomer(
  rng: Rng,
  customers: CustomerScores,
  targets: Int32Array,
  conversion: UpliftSampler,
  spend: UpliftSampler,
  simulations: number,
  orders: Float64Array,
  revenue: Float64Array,
  baseline: { untargeted: Int32Array; revenue: Float64Array } | null = null,
): void {
  const p = customers.purchaseProbability;
  const s = customers.spendPerOrder;
  for (let sim = 0; sim < simulations; sim++) {
    const uc = conversion.sample(rng);
    const us = spend.sample(rng);
    let simOrders = 0;
    let simRevenue = 0;
    let simBaseline = 0;
    for (let k = 0; k < targets.length; k++) {
      const i = targets[k];
      const u = rng.uniform();
      const base = u < p[i];
      const treated = u < Math.min(1, p[i] * (1 + uc));
      if (base) simBaseline += s[i];
      if (treated && !base) {
        simOrders++;
        simRevenue += s[i] * (1 + us);
      } else if (base && !treated) {
        simOrders--;
        simRevenue -= s[i];
      } else if (base) {
        simRevenue += s[i] * us;
      }
    }
    orders[sim] = simOrders;
    revenue[sim] = simRevenue;
    if (baseline) {
      for (let k = 0; k < baseline.untargeted.length; k++) {
        const i = baseline.untargeted[k];
        if (rng.uniform() < p[i]) simBaseline += s[i];
      }
      baseline.revenue[sim] = simBaseline;
    }
  }
}
