/**
 * RFM quintile scores (Hughes 1994): recency, frequency and monetary value each scored 1-5 by equal-count
 * bins, 5 the best (most recent, most frequent, highest spend), reported beside the cluster label.
 *
 * Ties are broken by row order, exactly as the usual pandas recipe
 * `pd.qcut(x.rank(method='first'), 5, labels=...)`: ranks are 1..n, bin q holds ranks r with
 * 1 + (q-1)(n-1)/5 < r <= 1 + q(n-1)/5 (the first bin also holds r = 1). The comparison is done in exact
 * integer arithmetic (5(r-1) <= q(n-1)), so bin edges never wobble with floating point. Callers should
 * order rows by customer id first so that tie-breaking is reproducible.
 */

import { stableArgsort } from './quantile';

/** Per-customer RFM scores, each 1..5 (5 = best). */
export interface RfmScores {
  recency: Uint8Array;
  frequency: Uint8Array;
  monetary: Uint8Array;
  /** r x 100 + f x 10 + m, e.g. 545: the usual RFM cell code. */
  code: Uint16Array;
}

/** Inputs of `rfmScores`, one value per customer in the same row order. */
export interface RfmInput {
  /** Days since the last order (smaller is better). */
  recencyDays: ArrayLike<number>;
  /** Number of orders. */
  frequency: ArrayLike<number>;
  /** Spend (net revenue). */
  monetary: ArrayLike<number>;
}

/** RFM quintile scores for every customer. */
export function rfmScores(input: RfmInput): RfmScores {
  const n = input.recencyDays.length;
  if (input.frequency.length !== n || input.monetary.length !== n) {
    throw new Error(
      `rfm: recencyDays, frequency and monetary must have equal lengths (got ${n}, ${input.frequency.length}, ${input.monetary.length})`,
    );
  }
  const recencyBins = quantileBins(input.recencyDays, 5, 'recencyDays');
  const recency = new Uint8Array(n);
  // Fewest days since the last order = lowest rank = bin 1 = recency score 5.
  for (let i = 0; i < n; i++) recency[i] = 6 - recencyBins[i];
  const frequency = quantileBins(input.frequency, 5, 'frequency');
  const monetary = quantileBins(input.monetary, 5, 'monetary');
  const code = new Uint16Array(n);
  for (let i = 0; i < n; i++) code[i] = recency[i] * 100 + frequency[i] * 10 + monetary[i];
  return { recency, frequency, monetary, code };
}

/**
 * Equal-count bins 1..bins of `values` by rank with ties in row order (pandas rank(method='first') then
 * qcut). The ranks come from a stable radix argsort, so ties keep row order by construction.
 */
export function quantileBins(values: ArrayLike<number>, bins: number, name = 'values'): Uint8Array {
  if (!Number.isInteger(bins) || bins < 1 || bins > 255) {
    throw new Error(`rfm: bins must be an integer in 1..255 (got ${bins})`);
  }
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new Error(`rfm: ${name} must be finite (row ${i} has ${v})`);
  }
  const order = stableArgsort(values);
  const out = new Uint8Array(n);
  const span = n - 1;
  for (let r0 = 0; r0 < n; r0++) {
    // Smallest q with bins * r0 <= q * (n - 1), at least 1 (the division of integers is exact here).
    out[order[r0]] = span === 0 ? 1 : Math.max(1, Math.ceil((bins * r0) / span));
  }
  return out;
}
