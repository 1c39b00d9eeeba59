/**
 * Measuring lists on a window (fit at its start, judged on what the customers bought in it) and choosing the
 * blend weight on the validation window.
 */
import type { Duck } from '../../lib/duck';
import type { BasketCounts } from './baskets';
import type { RecommendConfig } from '../../lib/stageConfig/recommend';
import type { EvaluationWindow } from './contract';
import { rankingMetrics, type RankingMetrics } from './evaluation';
import { evaluationSet, loadHistories, loadTargets, popularity, type NeighborFit } from './fit';
import { constantLists, recommendListsYielding, type RecommendationLists } from './model';
import { yieldEvery } from '../../lib/yieldEvery';

/** Blend weights tried when config `blend` is auto (weight of the customer's own history). */
export const BLEND_GRID = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] as const;
/** The blend used when `auto` cannot be chosen (no customer to validate on). */
export const DEFAULT_BLEND = 0.5;
/** Evaluation lists hold at least this many entries (hit rate and precision at 10). */
const EVAL_LIST = 10;

/**
 * Fit at `from`, list for the customers evaluated on (from, to], measure each blend (and, with
 * `baselines`, the popularity and buy-again baselines). Null when no customer can be evaluated.
 */
export async function measureWindow(
  duck: Duck,
  counts: BasketCounts,
  config: RecommendConfig,
  fit: NeighborFit,
  from: string,
  to: string,
  blends: readonly number[],
  baselines = false,
): Promise<{
  window: EvaluationWindow;
  lists: RankingMetrics[];
  baselines?: { popularity: RankingMetrics; buyAgain: RankingMetrics };
} | null> {
  const customers = await evaluationSet(duck, 'rec_eval_set', from, to);
  if (customers === 0) return null;
  const popular = await popularity(duck, from, config.popularityDays);
  const histories = await loadHistories(duck, 'rec_eval_set', from);
  const targets = await loadTargets(duck, 'rec_eval_set', from, to);
  const topN = Math.max(EVAL_LIST, config.topN);
  const settings = {
    topN,
    recentDays: config.recentDays,
    halfLifeDays: config.historyHalfLifeDays,
    fill: popular,
  };
  const measure = (lists: RecommendationLists): RankingMetrics =>
    rankingMetrics(lists, targets, counts.items, fit.catalogueSize);
  // The grid's lists are built with turns of the event loop between customers (model.ts) and measured
  // one blend at a time with a turn between, so the stage's heartbeat keeps firing.
  const yieldIfDue = yieldEvery();
  const lists: RankingMetrics[] = [];
  const gridLists = await recommendListsYielding(histories, fit.table, counts.items, settings, blends);
  for (const blendLists of gridLists) {
    lists.push(measure(blendLists));
    await yieldIfDue();
  }
  const window = { from, to, customers };
  if (!baselines) return { window, lists };
  const [buyAgainLists] = await recommendListsYielding(
    histories,
    fit.table,
    counts.items,
    { topN, recentDays: 0, halfLifeDays: config.historyHalfLifeDays, fill: new Int32Array(0) },
    [1],
  );
  return {
    window,
    lists,
    baselines: {
      popularity: measure(constantLists(customers, topN, popular)),
      buyAgain: measure(buyAgainLists),
    },
  };
}

/** The blend with the best hit rate at 10 on the validation grid; ties by recall at 10, then the smaller weight (more cross-sell). */
export function bestBlend(grid: readonly { blend: number; metrics: RankingMetrics }[]): number {
  let best = 0;
  grid.forEach((g, i) => {
    const top = grid[best].metrics;
    if (
      g.metrics.hitRate10 > top.hitRate10 ||
      (g.metrics.hitRate10 === top.hitRate10 && g.metrics.recall10 > top.recall10)
    )
      best = i;
  });
  return grid[best].blend;
}
