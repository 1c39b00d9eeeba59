/**
 * Category-level next best offer (issue 12 item 3): the top categories each active customer has not bought
 * recently, from the same model as the product lists (model.ts) run on category baskets. An order's
 * categories (rec_category_basket, baskets.ts) are its "items"; item-to-item co-occurrence between categories
 * and the customer's own category history are blended with the weight chosen for products, and each entry
 * keeps its reason (the category it was bought together with and how often, the customer's own purchases, or
 * popularity). Written to category_recommendations.parquet.
 */
import type { Duck } from '../../lib/duck';
import { sqlString } from '../../lib/duck';
import type { RecommendConfig } from '../../lib/stageConfig/recommend';
import type { CategoryListsSummary } from './contract';
import { fitNeighbors, loadHistories, popularity } from './fit';
import { recommendLists, type RecommendationLists } from './model';
import { listsTable, reasonSql, SOURCE_NAME_SQL } from './outputs';

/** Category baskets (baskets.ts). */
const CATEGORY_BASKET = 'rec_category_basket';

/**
 * Category lists at `at` for the customers of rec_score_set (audience.ts), `config.categoryTopN` each, blend
 * `blend`. Null when there are fewer than two categories (nothing to recommend beyond what a customer has).
 */
export async function categoryLists(
  duck: Duck,
  options: { at: string; categories: number; config: RecommendConfig; blend: number },
): Promise<RecommendationLists | null> {
  const { config } = options;
  if (options.categories < 2) return null;
  const [fit] = await fitNeighbors(duck, {
    dates: [options.at],
    itemCount: options.categories,
    neighbors: config.neighbors,
    minPairOrders: config.minPairOrders,
    basketTable: CATEGORY_BASKET,
  });
  const fill = await popularity(duck, options.at, config.popularityDays, CATEGORY_BASKET);
  const histories = await loadHistories(duck, 'rec_score_set', options.at, CATEGORY_BASKET);
  const [lists] = recommendLists(
    histories,
    fit.table,
    options.categories,
    {
      topN: config.categoryTopN,
      recentDays: config.recentDays,
      halfLifeDays: config.historyHalfLifeDays,
      fill,
    },
    [options.blend],
  );
  return lists;
}

/**
 * category_recommendations.parquet: customer_id, rank, category, score, source (co_purchase | buy_again |
 * popular), reason, because_category. Returns the rows written.
 */
export async function writeCategoryRecommendations(
  duck: Duck,
  lists: RecommendationLists | null,
  config: RecommendConfig,
  path: string,
): Promise<number> {
  const rows = await listsTable(duck, 'rec_category_lists', lists);
  await duck.toParquet(
    `SELECT s.customer_id, l.rank, c.category, round(l.score, 6) AS score, ${SOURCE_NAME_SQL} AS source,
            ${reasonSql('bc.category', 'categories', config.popularityDays)} AS reason,
            bc.category AS because_category
     FROM rec_category_lists l JOIN rec_score_set s USING (pos) JOIN rec_categories c ON c.item = l.item
     LEFT JOIN rec_categories bc ON bc.item = l.because
     ORDER BY l.pos, l.rank`,
    path,
  );
  await duck.run('DROP TABLE rec_category_lists');
  return rows;
}

/** The summary of the category lists just written (`path`): customers by first category, with a typical reason. */
export async function summarizeCategoryLists(
  duck: Duck,
  path: string,
  options: { topN: number; categories: number; rows: number },
): Promise<CategoryListsSummary> {
  const firstChoices = await duck.all<{
    category: string;
    customers: number;
    source: string;
    reason: string;
  }>(
    `SELECT category, count(*)::INTEGER AS customers, mode(source ORDER BY source) AS source,
            mode(reason ORDER BY reason) AS reason
     FROM read_parquet(${sqlString(path)}) WHERE rank = 1
     GROUP BY category ORDER BY customers DESC, category`,
  );
  return { ...options, firstChoices };
}
