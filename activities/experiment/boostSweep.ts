/**
 * A policy's boost sweep (experiment.policies[].boostSweep): the policy simulated again with its conversion
 * uplift fixed at each listed value, everything else unchanged, giving P(goal) and the expected incremental
 * revenue and profit against the boost, the data of a "how big must the boost be" chart.
 *
 * Every point uses the policy's own random stream (the seed is derived from seed and policy name), so the
 * points share their random numbers (common random numbers): the curve is monotone in the boost up to the
 * binomial draws' discreteness, and differences between points are not Monte Carlo noise.
 */
import type { Policy, SimulationOptions } from './policySimulation';
import { simulatePolicy } from './policySimulation';
import type { CustomerScores } from './targeting';

/** One point of the sweep. */
export interface BoostSweepPoint {
  /** Fixed relative conversion uplift (0.1 = +10 %). */
  boost: number;
  /** P(every goal of the policy is reached), simulated. */
  probabilityOfTarget: number;
  probabilityOfTargetStandardError: number;
  /** Exact P(goal) where simulatePolicy has one, else null. */
  exactProbabilityOfTarget: number | null;
  expectedIncrementalOrders: number;
  expectedIncrementalRevenue: number;
  expectedIncrementalProfit: number;
}

/** The sweep of one policy, or null when it has no boostSweep or no goal. Boosts are sorted ascending. */
export function boostSweep(
  customers: CustomerScores,
  policy: Policy,
  options: SimulationOptions,
): BoostSweepPoint[] | null {
  if (!policy.boostSweep || !policy.goal) return null;
  const boosts = [...new Set(policy.boostSweep)].sort((a, b) => a - b);
  return boosts.map((boost) => {
    const result = simulatePolicy(
      customers,
      { ...policy, upliftConversion: { dist: 'fixed', value: boost }, boostSweep: undefined },
      options,
    );
    return {
      boost,
      probabilityOfTarget: result.probabilityOfTarget ?? NaN,
      probabilityOfTargetStandardError: result.probabilityOfTargetStandardError ?? NaN,
      exactProbabilityOfTarget: result.exactProbabilityOfTarget,
      expectedIncrementalOrders: result.incrementalOrders.mean,
      expectedIncrementalRevenue: result.incrementalRevenue.mean,
      expectedIncrementalProfit: result.incrementalProfit.mean,
    };
  });
}
