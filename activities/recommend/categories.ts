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
import { fitNeighbors, popularity } from './fit';
import { reasonSql, SOURCE_NAME_SQL } from './outputs';
import { createListsTable, scoreInBatches } from './scoreCustomers';

/** Category baskets (baskets.ts). */
const CATEGORY_BASKET = 'rec_category_basket';

/** The lists table of the category lists (scoreCustomers.ts). */
const CATEGORY_LISTS = 'rec_category_lists';

/**
 * Category lists at `at` for the customers of rec_score_set (audience.ts), `config.categoryTopN` each, blend
 * `blend`, into table rec_category_lists. False when there are fewer than two categories (nothing to
 * recommend beyond what a customer has).
 */
export async function categoryLists(
  duck: Duck,
  options: {
    at: string;
    categories: number;
    config: RecommendConfig;
    blend: number;
    onProgress?: (customersDone: number) => void;
  },
): Promise<boolean> {
  const { config } = options;
  if (options.categories < 2) return false;
  const [fit] = await fitNeighbors(duck, {
    dates: [options.at],
    itemCount: options.categories,
    neighbors: config.neighbors,
    minPairOrders: config.minPairOrders,
    basketTable: CATEGORY_BASKET,
  });
  const fill = await popularity(duck, options.at, config.popularityDays, CATEGORY_BASKET);
  await scoreInBatches(duck, {
    scoreSet: 'rec_score_set',
    at: options.at,
    basketTable: CATEGORY_BASKET,
    neighbors: fit.table,
    itemCount: options.categories,
    settings: {
      topN: config.categoryTopN,
      recentDays: config.recentDays,
      halfLifeDays: config.historyHalfLifeDays,
      fill,
    },
    blend: options.blend,
    table: CATEGORY_LISTS,
    onProgress: options.onProgress,
  });
  return true;
}

/**
 * category_recommendations.parquet (from rec_category_lists when `found`, else empty): customer_id, rank,
 * category, score, source (co_purchase | buy_again | popular), reason, because_category. Returns the rows
 * written.
 */
export async function writeCategoryRecommendations(
  duck: Duck,
  found: boolean,
  config: RecommendConfig,
  path: string,
): Promise<number> {
  if (!found) await createListsTable(duck, CATEGORY_LISTS);
  const { rows } = await duck.one<{ rows: number }>(
    `SELECT count(*)::INTEGER AS rows FROM ${CATEGORY_LISTS}`,
  );
  await duck.toParquet(
    `SELECT s.customer_id, l.rank, c.category, round(l.score, 6) AS score, ${SOURCE_NAME_SQL} AS source,
            ${reasonSql('bc.category', 'categories', config.popularityDays)} AS reason,
            bc.category AS because_category
     FROM ${CATEGORY_LISTS} l JOIN rec_score_set s USING (pos) JOIN rec_categories c ON c.item = l.item
     LEFT JOIN rec_categories bc ON bc.item = l.because
     ORDER BY l.pos, l.rank`,
    path,
  );
  await duck.run(`DROP TABLE ${CATEGORY_LISTS}`);
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
