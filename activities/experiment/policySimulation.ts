/**
 * Monte Carlo simulation of marketing policies before running them: a policy contacts the customers its
 * target rule selects, at a cost per contact, and is assumed to lift each contacted customer's purchase
 * probability p to min(1, p (1 + u_c)) and the spend of their orders by the factor 1 + u_s. The uplifts u_c,
 * u_s are uncertain at the campaign level and drawn once per simulation; given them, customers respond
 * independently. Each simulation yields incremental orders (buyers with the policy minus buyers without;
 * one order per buying customer in the horizon) and incremental revenue; over N seeded simulations we
 * report their distribution, ROI, the probability of reaching the policy's goal, and (where one exists) the
 * exact binomial probability beside the simulated one. Policies are ranked by expected incremental profit.
 *
 * Coupling of the two worlds: customer i buys without the policy iff U_i < p_i and with it iff U_i < p'_i
 * (one uniform U_i), so with u_c >= 0 the policy only adds buyers (Bernoulli(p'_i - p_i) each) and with
 * u_c < 0 it only loses baseline buyers.
 *
 * Two methods:
 * - 'perCustomer': exactly the model above, one uniform per targeted customer per simulation. O(N n).
 * - 'binned' (default): customers are grouped into `bins` equal-width bins of p; per bin and simulation the
 *   counts of buyers, extra buyers and lost buyers are drawn as exact binomials (binomialSampler.ts) with the
 *   bin's mean probability. Exactness: when all customers of a bin share one p (in particular the exact-
 *   answer case below) the counts are exactly distributed. Otherwise the mean count is exact (up to the cap
 *   p' <= 1, applied to the bin mean) and the variance exceeds the true Poisson-binomial variance
 *   sum_i d_i (1 - d_i), d_i = |p'_i - p_i| = p_i |u_c|, by u_c^2 sum_i (p_i - pbar)^2; as p varies by at
 *   most the bin width w within a bin, the relative excess is below |u_c| w / (1 - pbar |u_c|): under 1 % for
 *   the default w = 1/128 and |u_c| <= 0.5, and under 0.02 % where pbar >= 0.1 and |u_c| <= 0.5.
 *   Revenue given a count k is k times the bin's p-weighted mean spend (exact in expectation) plus a normal
 *   term with the finite-population variance k (n_b - k) / (n_b - 1) var_p(spend) for which customers
 *   bought (first two moments exact to first order; normal shape by the finite-population CLT, Hajek 1960).
 *   O(N bins), independent of the number of customers.
 */
import { Rng } from '../../lib/random';
import type { PolicyConfig } from '../../lib/stageConfig/experiment';
import { affineSummary, summarize } from './distributionSummary';
import type { DistributionSummary } from './distributionSummary';
import { binomialUpperTail } from '../../lib/numeric/distributions';
import { selectTargets, validateCustomerScores } from './targeting';
import type { CustomerScores, TargetRule } from './targeting';
import { upliftSampler } from './upliftDistribution';
import type { UpliftDistribution } from './upliftDistribution';
import { buildBins, complementOf, simulateBinned, simulatePerCustomer } from './policySamplers';

/** What a policy should achieve in the horizon; both when both are given. */
export interface PolicyGoal {
  /** At least this many incremental orders. */
  extraOrders?: number;
  /** At least this much incremental revenue. */
  incrementalRevenue?: number;
  /**
   * At least this much total revenue in the horizon from every scored customer: the targeted customers
   * with the policy plus the others without it (baseline buyers are simulated too; see simulateBinned).
   */
  totalRevenue?: number;
}

/** A policy to simulate. */
export interface Policy {
  name: string;
  /** Which customers to contact (default: everyone). */
  target?: TargetRule;
  /** Relative uplift of the purchase probability. */
  upliftConversion: UpliftDistribution;
  /** Relative uplift of spend per order (default fixed 0). */
  upliftSpend?: UpliftDistribution;
  /** Cost of contacting one customer (>= 0). */
  costPerContact: number;
  goal?: PolicyGoal;
  /** Fixed conversion uplifts at which boostSweep.ts simulates the policy again. */
  boostSweep?: number[];
}

// Compile-time check that a parsed policy (the config schema in lib/stageConfig/experiment.ts) is a Policy.
const _policyCompatible = (policy: PolicyConfig): Policy => policy;
void _policyCompatible;

/** Options of simulatePolicies. */
export interface SimulationOptions {
  /** Number of simulations per policy (default 10,000). */
  simulations?: number;
  /** Seed; each policy's stream is derived from it and the policy name, so results do not depend on order. */
  seed?: number;
  /** 'binned' (default) or 'perCustomer' (exact, O(simulations x customers)). */
  method?: 'binned' | 'perCustomer';
  /** Number of equal-width probability bins for 'binned' (default 128). */
  bins?: number;
}

/** P(goal reached): simulated with its Monte Carlo standard error, and exact where available. */
export interface GoalProbability {
  simulated: number;
  standardError: number;
  /** Exact binomial probability (see exactProbabilityOfTarget), or null. */
  exact: number | null;
}

/** Simulated outcome of one policy. */
export interface PolicyResult {
  name: string;
  /** 1 = highest expected incremental profit. */
  rank: number;
  customersTargeted: number;
  /** customersTargeted x costPerContact. */
  cost: number;
  incrementalOrders: DistributionSummary;
  incrementalRevenue: DistributionSummary;
  /** Incremental revenue - cost. */
  incrementalProfit: DistributionSummary;
  /** (E[incremental revenue] - cost) / cost; NaN when the cost is 0. */
  roi: number;
  /** Percentiles of the simulated ROI. */
  roiPercentiles: { p5: number; p50: number; p95: number };
  /** P(incremental revenue > cost). */
  probabilityOfProfit: number;
  /** P(every stated goal is reached), or null without a goal. */
  probabilityOfTarget: number | null;
  probabilityOfTargetStandardError: number | null;
  /**
   * Exact P(goal) when u_c is fixed and all targeted customers share one purchase probability p, so that
   * incremental orders are Binomial(n, p'-p) (or minus Binomial(n, p-p') for a negative uplift); a revenue
   * goal additionally needs one common spend and u_s fixed at 0. Otherwise null.
   */
  exactProbabilityOfTarget: number | null;
  goals: {
    extraOrders?: GoalProbability;
    incrementalRevenue?: GoalProbability;
    totalRevenue?: GoalProbability;
  };
  /** Total revenue of every scored customer in the horizon, with the policy; only with a totalRevenue goal. */
  totalRevenue?: DistributionSummary;
  /** Uplift means assumed (of the truncated distributions). */
  meanUpliftConversion: number;
  meanUpliftSpend: number;
  simulations: number;
  method: 'binned' | 'perCustomer';
  seed: number;
}

/** The summary the run report carries per policy (docs/DESIGN.md stage metrics), plus context fields. */
export interface PolicyMetricRow {
  name: string;
  rank: number;
  incrementalRevenue: { mean: number; p5: number; p95: number };
  roi: number;
  probabilityOfTarget: number | null;
  exactProbabilityOfTarget: number | null;
  expectedIncrementalProfit: number;
  customersTargeted: number;
  cost: number;
}

// P(D >= k) for incremental orders D when all n customers share probability p and u_c is fixed.
function exactOrdersAtLeast(n: number, p: number, uc: number, k: number): number {
  const delta = Math.min(1, p * (1 + uc)) - p;
  if (delta >= 0) return binomialUpperTail(n, delta, k);
  // D = -L with L ~ Binomial(n, -delta): P(-L >= k) = P(L <= -k) = 1 - P(L >= 1 - k).
  return 1 - binomialUpperTail(n, -delta, 1 - k);
}

function commonValue(values: Float64Array, targets: Int32Array): number | null {
  if (targets.length === 0) return null;
  const first = values[targets[0]];
  for (let k = 1; k < targets.length; k++) {
    if (Math.abs(values[targets[k]] - first) > 1e-12 * Math.max(1, Math.abs(first))) return null;
  }
  return first;
}

// Relative tolerance in goal comparisons, so that sums of equal spends that round just below a goal count.
const GOAL_TOLERANCE = 1e-9;

function hashSeed(seed: number, name: string): number {
  // FNV-1a over the name's UTF-16 code units, mixed with the seed.
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return (h ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
}

function validatePolicy(policy: Policy): void {
  const where = `policy '${policy.name}'`;
  if (typeof policy.name !== 'string' || policy.name === '')
    throw new Error('policySimulation: policy name must be non-empty');
  if (!(policy.costPerContact >= 0) || !Number.isFinite(policy.costPerContact)) {
    throw new Error(`${where}: costPerContact must be a finite number >= 0 (got ${policy.costPerContact})`);
  }
  const goal = policy.goal;
  if (goal?.extraOrders !== undefined && !Number.isFinite(goal.extraOrders)) {
    throw new Error(`${where}: goal.extraOrders must be a finite number (got ${goal.extraOrders})`);
  }
  if (goal?.totalRevenue !== undefined && !Number.isFinite(goal.totalRevenue)) {
    throw new Error(`${where}: goal.totalRevenue must be a finite number (got ${goal.totalRevenue})`);
  }
  if (goal?.incrementalRevenue !== undefined && !Number.isFinite(goal.incrementalRevenue)) {
    throw new Error(
      `${where}: goal.incrementalRevenue must be a finite number (got ${goal.incrementalRevenue})`,
    );
  }
}

function simulateValidated(
  customers: CustomerScores,
  policy: Policy,
  options: Required<SimulationOptions>,
): PolicyResult {
  validatePolicy(policy);
  const where = `policy '${policy.name}'`;
  const conversion = upliftSampler(policy.upliftConversion, `${where}.upliftConversion`);
  const spend = upliftSampler(policy.upliftSpend ?? { dist: 'fixed', value: 0 }, `${where}.upliftSpend`);
  const targets = selectTargets(customers, policy.target, `${where}.target`);
  const simulations = options.simulations;
  const seed = options.seed;
  const rng = new Rng(hashSeed(seed, policy.name));
  const orders = new Float64Array(simulations);
  const revenue = new Float64Array(simulations);
  const goal = policy.goal ?? {};
  const hasTotalGoal = goal.totalRevenue !== undefined;
  // Baseline revenue is drawn only for a total-revenue goal, so other policies keep their random streams.
  const baselineRevenue = hasTotalGoal ? new Float64Array(simulations) : null;
  const untargeted = baselineRevenue
    ? complementOf(customers.purchaseProbability.length, targets)
    : new Int32Array(0);
  if (options.method === 'perCustomer') {
    simulatePerCustomer(
      rng,
      customers,
      targets,
      conversion,
      spend,
      simulations,
      orders,
      revenue,
      baselineRevenue ? { untargeted, revenue: baselineRevenue } : null,
    );
  } else {
    simulateBinned(
      rng,
      buildBins(customers, targets, options.bins),
      conversion,
      spend,
      simulations,
      orders,
      revenue,
      baselineRevenue
        ? { untargeted: buildBins(customers, untargeted, options.bins), revenue: baselineRevenue }
        : null,
    );
  }
  // Total revenue with the policy = baseline of everyone + the policy's incremental revenue.
  const totalRevenue = baselineRevenue;
  if (totalRevenue) for (let sim = 0; sim < simulations; sim++) totalRevenue[sim] += revenue[sim];

  const cost = targets.length * policy.costPerContact;
  const revenueSummary = summarize(revenue);
  let profitable = 0;
  for (let sim = 0; sim < simulations; sim++) if (revenue[sim] > cost) profitable++;

  const hasOrdersGoal = goal.extraOrders !== undefined;
  const hasRevenueGoal = goal.incrementalRevenue !== undefined;
  let ordersHit = 0;
  let revenueHit = 0;
  let totalHit = 0;
  let bothHit = 0;
  const totalTarget = goal.totalRevenue as number;
  for (let sim = 0; sim < simulations; sim++) {
    const o = !hasOrdersGoal || orders[sim] >= (goal.extraOrders as number) - GOAL_TOLERANCE;
    const target = goal.incrementalRevenue as number;
    const r = !hasRevenueGoal || revenue[sim] >= target - GOAL_TOLERANCE * Math.max(1, Math.abs(target));
    const t =
      !totalRevenue || totalRevenue[sim] >= totalTarget - GOAL_TOLERANCE * Math.max(1, Math.abs(totalTarget));
    if (o) ordersHit++;
    if (r) revenueHit++;
    if (t) totalHit++;
    if (o && r && t) bothHit++;
  }

  // Exact answers: orders need fixed u_c and one common p; revenue also one common spend and u_s = 0.
  const commonP = conversion.fixed ? commonValue(customers.purchaseProbability, targets) : null;
  const commonSpend = commonValue(customers.spendPerOrder, targets);
  const uc = conversion.mean;
  const exactOrdersThreshold = hasOrdersGoal
    ? Math.ceil((goal.extraOrders as number) - GOAL_TOLERANCE)
    : -Infinity;
  const revenueExactPossible = spend.fixed && spend.mean === 0 && commonSpend !== null && commonSpend > 0;
  const exactRevenueThreshold =
    hasRevenueGoal && revenueExactPossible
      ? Math.ceil((goal.incrementalRevenue as number) / commonSpend - GOAL_TOLERANCE)
      : -Infinity;
  const n = targets.length;
  const exactOrders =
    commonP !== null && hasOrdersGoal ? exactOrdersAtLeast(n, commonP, uc, exactOrdersThreshold) : null;
  const exactRevenue =
    commonP !== null && hasRevenueGoal && revenueExactPossible
      ? exactOrdersAtLeast(n, commonP, uc, exactRevenueThreshold)
      : null;
  const anyGoal = hasOrdersGoal || hasRevenueGoal || hasTotalGoal;
  // No exact answer involves the baseline of the untargeted customers.
  const exactJoint =
    commonP !== null &&
    anyGoal &&
    !hasTotalGoal &&
    (!hasOrdersGoal || exactOrders !== null) &&
    (!hasRevenueGoal || exactRevenue !== null)
      ? exactOrdersAtLeast(n, commonP, uc, Math.max(exactOrdersThreshold, exactRevenueThreshold))
      : null;

  const probability = (hits: number): { simulated: number; standardError: number } => {
    const simulated = hits / simulations;
    return { simulated, standardError: Math.sqrt((simulated * (1 - simulated)) / simulations) };
  };
  const goals: PolicyResult['goals'] = {};
  if (hasOrdersGoal) goals.extraOrders = { ...probability(ordersHit), exact: exactOrders };
  if (hasRevenueGoal) goals.incrementalRevenue = { ...probability(revenueHit), exact: exactRevenue };
  if (hasTotalGoal) goals.totalRevenue = { ...probability(totalHit), exact: null };
  const joint = anyGoal ? probability(bothHit) : null;

  const roiOf = (value: number): number => (cost > 0 ? (value - cost) / cost : NaN);
  return {
    name: policy.name,
    rank: 1,
    customersTargeted: n,
    cost,
    incrementalOrders: summarize(orders),
    incrementalRevenue: revenueSummary,
    incrementalProfit: affineSummary(revenueSummary, -cost, 1),
    roi: roiOf(revenueSummary.mean),
    roiPercentiles: {
      p5: roiOf(revenueSummary.p5),
      p50: roiOf(revenueSummary.p50),
      p95: roiOf(revenueSummary.p95),
    },
    probabilityOfProfit: profitable / simulations,
    probabilityOfTarget: joint ? joint.simulated : null,
    probabilityOfTargetStandardError: joint ? joint.standardError : null,
    exactProbabilityOfTarget: exactJoint,
    goals,
    ...(totalRevenue ? { totalRevenue: summarize(totalRevenue) } : {}),
    meanUpliftConversion: conversion.mean,
    meanUpliftSpend: spend.mean,
    simulations,
    method: options.method,
    seed,
  };
}

function resolveOptions(options: SimulationOptions): Required<SimulationOptions> {
  const resolved = {
    simulations: options.simulations ?? 10_000,
    seed: options.seed ?? 42,
    method: options.method ?? 'binned',
    bins: options.bins ?? 128,
  };
  if (!Number.isInteger(resolved.simulations) || resolved.simulations < 1) {
    throw new Error(`policySimulation: simulations must be an integer >= 1 (got ${resolved.simulations})`);
  }
  if (!Number.isInteger(resolved.bins) || resolved.bins < 1) {
    throw new Error(`policySimulation: bins must be an integer >= 1 (got ${resolved.bins})`);
  }
  if (resolved.method !== 'binned' && resolved.method !== 'perCustomer') {
    throw new Error(
      `policySimulation: method must be 'binned' or 'perCustomer' (got ${String(resolved.method)})`,
    );
  }
  return resolved;
}

/** Simulate one policy (rank 1). */
export function simulatePolicy(
  customers: CustomerScores,
  policy: Policy,
  options: SimulationOptions = {},
): PolicyResult {
  validateCustomerScores(customers);
  return simulateValidated(customers, policy, resolveOptions(options));
}

/** Simulate every policy and rank them by expected incremental profit (ties by name). */
export function simulatePolicies(
  customers: CustomerScores,
  policies: readonly Policy[],
  options: SimulationOptions = {},
): PolicyResult[] {
  validateCustomerScores(customers);
  const names = new Set<string>();
  for (const policy of policies) {
    if (names.has(policy.name))
      throw new Error(`policySimulation: policy name '${policy.name}' is used twice`);
    names.add(policy.name);
  }
  const resolved = resolveOptions(options);
  const results = policies.map((policy) => simulateValidated(customers, policy, resolved));
  results.sort(
    (a, b) =>
      b.incrementalProfit.mean - a.incrementalProfit.mean || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  results.forEach((result, index) => (result.rank = index + 1));
  return results;
}

/** The run-summary rows for ranked results. */
export function policyMetricRows(results: readonly PolicyResult[]): PolicyMetricRow[] {
  return results.map((r) => ({
    name: r.name,
    rank: r.rank,
    incrementalRevenue: {
      mean: r.incrementalRevenue.mean,
      p5: r.incrementalRevenue.p5,
      p95: r.incrementalRevenue.p95,
    },
    roi: r.roi,
    probabilityOfTarget: r.probabilityOfTarget,
    exactProbabilityOfTarget: r.exactProbabilityOfTarget,
    expectedIncrementalProfit: r.incrementalProfit.mean,
    customersTargeted: r.customersTargeted,
    cost: r.cost,
  }));
}
