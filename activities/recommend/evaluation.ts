/**
 * Top-K ranking metrics of recommendation lists against what each customer actually bought next.
 *
 * For the evaluated customers u (history before the fit date and a purchase in the window after it), with
 * T(u) the distinct products bought in the window and L_K(u) the first K entries of u's list:
 *   hitRate@K    = share of customers with |L_K(u) n T(u)| > 0
 *   precision@10 = mean over customers of |L_10(u) n T(u)| / 10   (a short list still counts 10 slots)
 *   recall@10    = mean over customers of |L_10(u) n T(u)| / |T(u)|
 *   coverage     = distinct products on any L_10(u) / products bought by anyone up to the fit date
 */
import type { RecommendationLists } from './model';

/** The DESIGN.md contract for each of model, popularity and buyAgain. */
export interface RankingMetrics {
  hitRate5: number;
  hitRate10: number;
  precision10: number;
  recall10: number;
  coverage: number;
}

/** What each customer bought in the evaluation window, as compressed sparse rows aligned with the lists. */
export interface Targets {
  customers: number;
  start: Int32Array;
  item: Int32Array;
}

/** Evaluate lists (at least 10 entries each) against targets; `catalogueSize` is coverage's denominator. */
export function rankingMetrics(
  lists: RecommendationLists,
  targets: Targets,
  itemCount: number,
  catalogueSize: number,
): RankingMetrics {
  if (lists.customers !== targets.customers) {
    throw new Error(`rankingMetrics: ${lists.customers} lists for ${targets.customers} customers`);
  }
  if (lists.topN < 10) throw new Error(`rankingMetrics: lists of ${lists.topN} entries; 10 are needed`);
  const inTarget = new Uint8Array(itemCount);
  const recommended = new Uint8Array(itemCount);
  let hits5 = 0;
  let hits10 = 0;
  let precisionSum = 0;
  let recallSum = 0;
  for (let p = 0; p < targets.customers; p++) {
    const from = targets.start[p];
    const to = targets.start[p + 1];
    for (let k = from; k < to; k++) inTarget[targets.item[k]] = 1;
    let found5 = 0;
    let found10 = 0;
    for (let r = 0; r < 10; r++) {
      const j = lists.item[p * lists.topN + r];
      if (j < 0) continue;
      recommended[j] = 1;
      if (inTarget[j]) {
        found10++;
        if (r < 5) found5++;
      }
    }
    if (found5 > 0) hits5++;
    if (found10 > 0) hits10++;
    precisionSum += found10 / 10;
    if (to > from) recallSum += found10 / (to - from);
    for (let k = from; k < to; k++) inTarget[targets.item[k]] = 0;
  }
  const n = targets.customers;
  let distinct = 0;
  for (let j = 0; j < itemCount; j++) distinct += recommended[j];
  return {
    hitRate5: n > 0 ? hits5 / n : Number.NaN,
    hitRate10: n > 0 ? hits10 / n : Number.NaN,
    precision10: n > 0 ? precisionSum / n : Number.NaN,
    recall10: n > 0 ? recallSum / n : Number.NaN,
    coverage: catalogueSize > 0 ? distinct / catalogueSize : Number.NaN,
  };
}
