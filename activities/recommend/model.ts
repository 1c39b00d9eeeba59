/**
 * Per-customer recommendation lists from item-to-item co-occurrence, the customer's own purchase history, or
 * a blend of the two, over typed arrays (the relational work, counting co-occurrences, is done in DuckDB
 * before this runs; see fit.ts).
 *
 * For customer u with history H(u) (product i bought in o_i orders, last a_i days before the scoring date):
 *   interest  w_i    = o_i * 2^(-a_i / halfLife)                       (frequent and recent purchases count most)
 *   co-purchase c_j  = sum over i in H(u) of w_i * sim(i -> j)          (j among the kept neighbours of i)
 *   buy again  b_j   = w_j for j in H(u), else 0
 *   score      s_j   = beta * b_j / max b + (1 - beta) * c_j / max c
 * Products bought within `recentDays` of the scoring date are not candidates; the list is the topN
 * candidates by score (ties: lower item index first, so the output is deterministic), filled with the most
 * popular products when there are fewer candidates. beta = 1 with recentDays = 0 and no fill-in is the
 * buy-again baseline. Each entry remembers why it is there: the history product that contributed most to its
 * co-purchase score (and that pair's confidence), or the customer's own purchases, or popularity.
 */

import { runToEnd, runYielding, type Steps } from '../../lib/yieldEvery';

/** Item-to-item neighbours as compressed sparse rows: item i's neighbours are at [start[i], start[i + 1]). */
export interface NeighborTable {
  start: Int32Array;
  item: Int32Array;
  /** sim(i -> j), the co-purchase weight. */
  similarity: Float64Array;
  /** P(j in the order | i in the order): the "bought together" share shown in the reason. */
  confidence: Float64Array;
}

/** Purchase histories of the customers being scored, as compressed sparse rows by customer position. */
export interface Histories {
  /** Customers (positions 0..customers-1); customer p's entries are at [start[p], start[p + 1]). */
  customers: number;
  start: Int32Array;
  item: Int32Array;
  /** Orders of the customer holding the product. */
  orders: Float64Array;
  /** Days from the customer's last purchase of the product to the scoring date (>= 0). */
  ageDays: Float64Array;
}

/** Why a product is on a list. */
export const SOURCE = { coPurchase: 0, buyAgain: 1, popular: 2 } as const;
export const SOURCE_NAMES = ['co_purchase', 'buy_again', 'popular'] as const;

/** How lists are built. */
export interface ListSettings {
  topN: number;
  /** Products bought within this many days are not candidates (0: none excluded). */
  recentDays: number;
  halfLifeDays: number;
  /** Products by popularity, most popular first, to fill short lists; empty for no fill-in. */
  fill: Int32Array;
}

/** topN entries per customer (item -1 where a list is shorter). */
export interface RecommendationLists {
  customers: number;
  topN: number;
  item: Int32Array;
  score: Float64Array;
  source: Uint8Array;
  /** For co-purchase entries: the history product behind it, and P(item | that product). Else -1, NaN. */
  because: Int32Array;
  confidence: Float64Array;
  /** For buy-again entries: the customer's orders with the product and days since the last. Else NaN. */
  orders: Float64Array;
  ageDays: Float64Array;
}

function emptyLists(customers: number, topN: number): RecommendationLists {
  const size = customers * topN;
  return {
    customers,
    topN,
    item: new Int32Array(size).fill(-1),
    score: new Float64Array(size),
    source: new Uint8Array(size),
    because: new Int32Array(size).fill(-1),
    confidence: new Float64Array(size).fill(Number.NaN),
    orders: new Float64Array(size).fill(Number.NaN),
    ageDays: new Float64Array(size).fill(Number.NaN),
  };
}

/**
 * Lists for every customer of `histories`, one set per blend weight in `blends` (the co-occurrence sums are
 * shared). `onProgress` is called every few thousand customers (heartbeats). Synchronous: tests and small
 * inputs; the stage runs {@link recommendListsYielding}.
 */
export function recommendLists(
  histories: Histories,
  neighbors: NeighborTable,
  itemCount: number,
  settings: ListSettings,
  blends: readonly number[],
  onProgress?: (customersDone: number) => void,
): RecommendationLists[] {
  return runToEnd(recommendListsSteps(histories, neighbors, itemCount, settings, blends, onProgress));
}

/**
 * {@link recommendLists} giving the event loop a turn now and then: the validation grid over 11 blends
 * scores every evaluated customer in one call, seconds of JavaScript at ten times the demo, and the
 * stage's heartbeat timer must keep firing meanwhile. Same lists, same bytes.
 */
export function recommendListsYielding(
  histories: Histories,
  neighbors: NeighborTable,
  itemCount: number,
  settings: ListSettings,
  blends: readonly number[],
  onProgress?: (customersDone: number) => void,
): Promise<RecommendationLists[]> {
  return runYielding(recommendListsSteps(histories, neighbors, itemCount, settings, blends, onProgress));
}

/**
 * Customers scored between steps of {@link recommendListsSteps}: a few milliseconds of work, so the
 * generator's overhead is nothing beside it and the loop is never held much past the yield interval.
 */
const CUSTOMERS_PER_STEP = 512;

/** The body of {@link recommendLists}, a step (`yield`) every {@link CUSTOMERS_PER_STEP} customers. */
function* recommendListsSteps(
  histories: Histories,
  neighbors: NeighborTable,
  itemCount: number,
  settings: ListSettings,
  blends: readonly number[],
  onProgress?: (customersDone: number) => void,
): Steps<RecommendationLists[]> {
  const { topN } = settings;
  const out = blends.map(() => emptyLists(histories.customers, topN));
  const co = new Float64Array(itemCount);
  const buy = new Float64Array(itemCount);
  const bestContribution = new Float64Array(itemCount);
  const bestFrom = new Int32Array(itemCount).fill(-1);
  const bestConfidence = new Float64Array(itemCount);
  const historyOrders = new Float64Array(itemCount);
  const historyAge = new Float64Array(itemCount);
  const excluded = new Uint8Array(itemCount);
  const seen = new Uint8Array(itemCount);
  const own = new Uint8Array(itemCount);
  const touched = new Int32Array(itemCount);
  const candidates = new Int32Array(itemCount);
  const topItem = new Int32Array(topN);
  const topScore = new Float64Array(topN);
  const topOtherCo = new Float64Array(topN);
  const needCoPurchase = blends.some((b) => b < 1);
  const lnHalf = Math.LN2 / settings.halfLifeDays;

  for (let p = 0; p < histories.customers; p++) {
    let touchedCount = 0;
    for (let k = histories.start[p]; k < histories.start[p + 1]; k++) {
      const i = histories.item[k];
      const age = histories.ageDays[k];
      const interest = histories.orders[k] * Math.exp(-lnHalf * age);
      buy[i] = interest;
      own[i] = 1;
      historyOrders[i] = histories.orders[k];
      historyAge[i] = age;
      if (age < settings.recentDays) excluded[i] = 1;
      if (seen[i] === 0) {
        seen[i] = 1;
        touched[touchedCount++] = i;
      }
      if (!needCoPurchase) continue;
      for (let n = neighbors.start[i]; n < neighbors.start[i + 1]; n++) {
        const j = neighbors.item[n];
        const contribution = interest * neighbors.similarity[n];
        co[j] += contribution;
        if (contribution > bestContribution[j] || (contribution === bestContribution[j] && i < bestFrom[j])) {
          bestContribution[j] = contribution;
          bestFrom[j] = i;
          bestConfidence[j] = neighbors.confidence[n];
        }
        if (seen[j] === 0) {
          seen[j] = 1;
          touched[touchedCount++] = j;
        }
      }
    }
    // The candidates of every blend's list. A product outside the history has buy 0, so its score is
    // (1 - beta) co / maxCo for every blend, non-decreasing in co: only the topN largest co of those can
    // reach a list. The rest are dropped once here instead of being scored per blend (the validation grid
    // scores 11 blends). The cut keeps every product within a relative 1e-9 of the topN-th co, far beyond
    // the rounding of the score, so score ties are broken exactly as over every product.
    let maxBuy = 0;
    let maxCo = 0;
    let others = 0;
    for (let t = 0; t < touchedCount; t++) {
      const j = touched[t];
      if (excluded[j]) continue;
      if (buy[j] > maxBuy) maxBuy = buy[j];
      if (co[j] > maxCo) maxCo = co[j];
      if (own[j]) continue;
      const c = co[j];
      if (others === topN && !(c > topOtherCo[topN - 1])) continue;
      let pos = others < topN ? others++ : topN - 1;
      while (pos > 0 && c > topOtherCo[pos - 1]) {
        topOtherCo[pos] = topOtherCo[pos - 1];
        pos--;
      }
      topOtherCo[pos] = c;
    }
    const otherCut = others === topN ? topOtherCo[topN - 1] * (1 - 1e-9) : -Infinity;
    let candidateCount = 0;
    for (let t = 0; t < touchedCount; t++) {
      const j = touched[t];
      if (excluded[j]) continue;
      if (own[j] || co[j] >= otherCut) candidates[candidateCount++] = j;
    }

    blends.forEach((beta, b) => {
      const lists = out[b];
      const base = p * topN;
      let filled = 0;
      for (let t = 0; t < candidateCount; t++) {
        const j = candidates[t];
        const s =
          (maxBuy > 0 ? (beta * buy[j]) / maxBuy : 0) + (maxCo > 0 ? ((1 - beta) * co[j]) / maxCo : 0);
        if (!(s > 0)) continue;
        // Insertion into the sorted top list (score descending, item ascending).
        if (
          filled === topN &&
          !(s > topScore[topN - 1] || (s === topScore[topN - 1] && j < topItem[topN - 1]))
        )
          continue;
        let pos = filled < topN ? filled++ : topN - 1;
        while (pos > 0 && (s > topScore[pos - 1] || (s === topScore[pos - 1] && j < topItem[pos - 1]))) {
          topScore[pos] = topScore[pos - 1];
          topItem[pos] = topItem[pos - 1];
          pos--;
        }
        topScore[pos] = s;
        topItem[pos] = j;
      }
      for (let r = 0; r < filled; r++) {
        const j = topItem[r];
        const at = base + r;
        lists.item[at] = j;
        lists.score[at] = topScore[r];
        const buyPart = maxBuy > 0 ? (beta * buy[j]) / maxBuy : 0;
        const coPart = maxCo > 0 ? ((1 - beta) * co[j]) / maxCo : 0;
        if (coPart >= buyPart && bestFrom[j] >= 0) {
          lists.source[at] = SOURCE.coPurchase;
          lists.because[at] = bestFrom[j];
          lists.confidence[at] = bestConfidence[j];
        } else {
          lists.source[at] = SOURCE.buyAgain;
          lists.orders[at] = historyOrders[j];
          lists.ageDays[at] = historyAge[j];
        }
      }
      // Fill-in: popular products the customer has not bought recently and the list does not hold yet.
      for (let f = 0; filled < topN && f < settings.fill.length; f++) {
        const j = settings.fill[f];
        if (excluded[j]) continue;
        let present = false;
        for (let r = 0; r < filled; r++) if (lists.item[base + r] === j) present = true;
        if (present) continue;
        const at = base + filled++;
        lists.item[at] = j;
        lists.score[at] = 0;
        lists.source[at] = SOURCE.popular;
      }
    });

    for (let t = 0; t < touchedCount; t++) {
      const j = touched[t];
      co[j] = 0;
      buy[j] = 0;
      bestContribution[j] = 0;
      bestFrom[j] = -1;
      bestConfidence[j] = 0;
      historyOrders[j] = 0;
      historyAge[j] = 0;
      excluded[j] = 0;
      seen[j] = 0;
      own[j] = 0;
    }
    if (onProgress && (p + 1) % 50_000 === 0) onProgress(p + 1);
    if ((p + 1) % CUSTOMERS_PER_STEP === 0) yield;
  }
  return out;
}

/** The same list (e.g. the most popular products) for every customer. */
export function constantLists(customers: number, topN: number, items: Int32Array): RecommendationLists {
  const lists = emptyLists(customers, topN);
  const n = Math.min(topN, items.length);
  for (let p = 0; p < customers; p++) {
    for (let r = 0; r < n; r++) {
      lists.item[p * topN + r] = items[r];
      lists.score[p * topN + r] = n - r;
      lists.source[p * topN + r] = SOURCE.popular;
    }
  }
  return lists;
}
