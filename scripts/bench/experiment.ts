/**
 * Experiment benchmark (issue target: 10,000 policy simulations over 1,000,000 customers under 20 s).
 *
 * 1,000,000 synthetic customers (purchase probability, spend per order, CLV, churn, segment); four policies
 * of different shapes (everyone, a churn band, top N by value at risk, two segments with a spend uplift),
 * 10,000 seeded simulations each with the default binned method. Timed: the whole simulatePolicies call
 * (validation, targeting, binning and all 40,000 simulations). Beside it, analyzeExperiment on a 1,000,000
 * customer two-arm experiment with a pre-period covariate and segments. Data generation is not timed.
 */
import { analyzeExperiment } from '../../activities/experiment/abTest';
import { simulatePolicies } from '../../activities/experiment/policySimulation';
import type { Policy } from '../../activities/experiment/policySimulation';
import type { CustomerScores } from '../../activities/experiment/targeting';
import { Rng } from '../../lib/random';

function synthesizeCustomers(n: number, seed: number): CustomerScores {
  const rng = new Rng(seed);
  const customers: CustomerScores = {
    purchaseProbability: new Float64Array(n),
    spendPerOrder: new Float64Array(n),
    clv: new Float64Array(n),
    churnProbability: new Float64Array(n),
    segment: new Int32Array(n),
    segmentNames: ['new', 'active', 'loyal', 'at-risk', 'lapsed', 'vip'],
  };
  for (let i = 0; i < n; i++) {
    const p = rng.beta(2, 5);
    const spend = rng.gamma(4, 0.1);
    customers.purchaseProbability[i] = p;
    customers.spendPerOrder[i] = spend;
    customers.churnProbability[i] = 1 - 0.9 * p;
    customers.clv[i] = 6 * p * spend;
    customers.segment[i] = rng.int(customers.segmentNames.length);
  }
  return customers;
}

const POLICIES: Policy[] = [
  {
    name: 'everyone',
    upliftConversion: { dist: 'normal', mean: 0.05, sd: 0.02 },
    costPerContact: 0.5,
    goal: { extraOrders: 14_000 },
  },
  {
    name: 'churn-band',
    target: { minChurnProbability: 0.7, maxChurnProbability: 0.95 },
    upliftConversion: { dist: 'beta', mean: 0.1, sd: 0.05 },
    costPerContact: 1,
    goal: { incrementalRevenue: 500_000 },
  },
  {
    name: 'top-value-at-risk',
    target: { topN: 100_000, rankBy: 'valueAtRisk' },
    upliftConversion: { dist: 'fixed', value: 0.2 },
    costPerContact: 2,
    goal: { extraOrders: 2500 },
  },
  {
    name: 'loyal-vip-upsell',
    target: { segments: ['loyal', 'vip'] },
    upliftConversion: { dist: 'uniform', min: 0, max: 0.15 },
    upliftSpend: { dist: 'normal', mean: 0.05, sd: 0.02 },
    costPerContact: 0.3,
  },
];

function synthesizeExperiment(n: number, seed: number) {
  const rng = new Rng(seed);
  const variant = new Int32Array(n);
  const converted = new Uint8Array(n);
  const revenue = new Float64Array(n);
  const preRevenue = new Float64Array(n);
  const segment = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    variant[i] = rng.uniform() < 0.5 ? 0 : 1;
    segment[i] = rng.int(6);
    const level = rng.gamma(2, 0.05);
    preRevenue[i] = rng.uniform() < 0.3 ? level * (0.5 + rng.uniform()) : 0;
    if (rng.uniform() < (variant[i] ? 0.105 : 0.1)) {
      converted[i] = 1;
      revenue[i] = level * Math.exp(rng.normal(0, 0.5));
    }
  }
  return {
    id: 'bench',
    variantNames: ['control', 'treatment'],
    variant,
    converted,
    revenue,
    preRevenue,
    segment,
    segmentNames: ['a', 'b', 'c', 'd', 'e', 'f'],
  };
}

/** Figures in ms (and counts) for the experiment stage's targets. */
export async function benchExperiment(
  customers = 1_000_000,
  simulations = 10_000,
): Promise<Record<string, number>> {
  const figures: Record<string, number> = { experimentCustomers: customers, policySimulations: simulations };
  const scores = synthesizeCustomers(customers, 1);
  let start = performance.now();
  const results = simulatePolicies(scores, POLICIES, { simulations, seed: 42 });
  figures.policySimulationMs = Math.round(performance.now() - start);
  figures.policySimulationPolicies = results.length;
  figures.policySimulationMsPerPolicy = Math.round(figures.policySimulationMs / results.length);

  const experiment = synthesizeExperiment(customers, 2);
  start = performance.now();
  analyzeExperiment(experiment);
  figures.abTestAnalysisMs = Math.round(performance.now() - start);
  return Promise.resolve(figures);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const customers = process.argv[2] ? Number(process.argv[2]) : 1_000_000;
  const simulations = process.argv[3] ? Number(process.argv[3]) : 10_000;
  benchExperiment(customers, simulations).then(
    (figures) => console.log(JSON.stringify(figures, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
