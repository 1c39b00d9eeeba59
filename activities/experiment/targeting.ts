/**
 * Customer scores the policy simulation works on, and the rule that picks which customers a policy
 * contacts (segment, churn-risk band, CLV band, then the top N by a ranking score).
 */

/** One entry per customer in every array (same order). */
export interface CustomerScores {
  /** Baseline probability of at least one purchase in the horizon (e.g. from churn or P(alive)). */
  purchaseProbability: Float64Array;
  /** Expected spend per order (e.g. the Gamma-Gamma conditional mean). */
  spendPerOrder: Float64Array;
  clv: Float64Array;
  churnProbability: Float64Array;
  /** Index into segmentNames. */
  segment: Int32Array;
  segmentNames: readonly string[];
}

/** Which customers a policy contacts; every condition must hold, then topN keeps the highest ranked. */
export interface TargetRule {
  /** Segment names to include (default all). */
  segments?: readonly string[];
  minChurnProbability?: number;
  maxChurnProbability?: number;
  minClv?: number;
  maxClv?: number;
  /** Keep only the N highest by rankBy among those passing the other conditions. */
  topN?: number;
  /** Score for topN: clv (default), churnProbability, or valueAtRisk = clv x churnProbability. */
  rankBy?: 'clv' | 'churnProbability' | 'valueAtRisk';
}

/** Throw on arrays of different lengths or values outside their ranges, naming the customer index. */
export function validateCustomerScores(customers: CustomerScores): void {
  const n = customers.purchaseProbability.length;
  const arrays: [string, ArrayLike<number>][] = [
    ['spendPerOrder', customers.spendPerOrder],
    ['clv', customers.clv],
    ['churnProbability', customers.churnProbability],
    ['segment', customers.segment],
  ];
  for (const [name, values] of arrays) {
    if (values.length !== n) {
      throw new Error(
        `policySimulation: customers.${name} has ${values.length} values, purchaseProbability has ${n}`,
      );
    }
  }
  const segments = customers.segmentNames.length;
  for (let i = 0; i < n; i++) {
    const p = customers.purchaseProbability[i];
    if (!(p >= 0 && p <= 1)) {
      throw new Error(
        `policySimulation: purchaseProbability must lie in [0, 1] (customer index ${i}, got ${p})`,
      );
    }
    const s = customers.spendPerOrder[i];
    if (!(s >= 0) || !Number.isFinite(s)) {
      throw new Error(
        `policySimulation: spendPerOrder must be finite and >= 0 (customer index ${i}, got ${s})`,
      );
    }
    if (!Number.isFinite(customers.clv[i])) {
      throw new Error(`policySimulation: clv must be finite (customer index ${i}, got ${customers.clv[i]})`);
    }
    const c = customers.churnProbability[i];
    if (!(c >= 0 && c <= 1)) {
      throw new Error(
        `policySimulation: churnProbability must lie in [0, 1] (customer index ${i}, got ${c})`,
      );
    }
    const g = customers.segment[i];
    if (!(g >= 0 && g < segments)) {
      throw new Error(
        `policySimulation: segment must be an index in [0, ${segments}) (customer index ${i}, got ${g})`,
      );
    }
  }
}

/** Indices (ascending) of the customers a rule selects; ties at the topN cut go to the lower index. */
export function selectTargets(
  customers: CustomerScores,
  rule: TargetRule = {},
  where = 'selectTargets',
): Int32Array {
  const n = customers.purchaseProbability.length;
  let allowedSegment: Uint8Array | null = null;
  if (rule.segments) {
    allowedSegment = new Uint8Array(customers.segmentNames.length);
    for (const name of rule.segments) {
      const index = customers.segmentNames.indexOf(name);
      if (index < 0) {
        throw new Error(`${where}: unknown segment '${name}' (known: ${customers.segmentNames.join(', ')})`);
      }
      allowedSegment[index] = 1;
    }
  }
  const minChurn = rule.minChurnProbability ?? -Infinity;
  const maxChurn = rule.maxChurnProbability ?? Infinity;
  const minClv = rule.minClv ?? -Infinity;
  const maxClv = rule.maxClv ?? Infinity;
  if (rule.topN !== undefined && (!Number.isInteger(rule.topN) || rule.topN < 0)) {
    throw new Error(`${where}: topN must be an integer >= 0 (got ${rule.topN})`);
  }
  const selected = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (allowedSegment && allowedSegment[customers.segment[i]] === 0) continue;
    const churn = customers.churnProbability[i];
    const clv = customers.clv[i];
    if (churn < minChurn || churn > maxChurn || clv < minClv || clv > maxClv) continue;
    selected[count++] = i;
  }
  if (rule.topN === undefined || rule.topN >= count) return selected.slice(0, count);

  const rankBy = rule.rankBy ?? 'clv';
  const score = (i: number): number =>
    rankBy === 'clv'
      ? customers.clv[i]
      : rankBy === 'churnProbability'
        ? customers.churnProbability[i]
        : customers.clv[i] * customers.churnProbability[i];
  const scores = new Float64Array(count);
  for (let k = 0; k < count; k++) scores[k] = score(selected[k]);
  const sorted = scores.slice().sort();
  const keep = rule.topN;
  if (keep === 0) return new Int32Array(0);
  const threshold = sorted[count - keep];
  let above = 0;
  for (let k = 0; k < count; k++) if (scores[k] > threshold) above++;
  let tiesLeft = keep - above;
  const out = new Int32Array(keep);
  let m = 0;
  for (let k = 0; k < count; k++) {
    if (scores[k] > threshold || (scores[k] === threshold && tiesLeft-- > 0)) out[m++] = selected[k];
  }
  return out;
}
