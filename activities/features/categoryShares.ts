/**
 * Share of each customer's spend per product category, for the dataset's largest categories: what a
 * customer buys says as much about who they are as how often they buy. Added as columns
 * `category_share_<slug>` to the customer feature table (none when the data has no categories, like
 * Online Retail). Shares of gross purchase value of merchandise lines (returns, postage and fees excluded:
 * a category mix describes goods), 0 for customers with none.
 */
import { sqlIdent, sqlString, sqlTimestamp, type Duck } from '../../lib/duck';
import type { FeatureDefinition } from '../../lib/customerFeatures/dictionary';
import { merchandiseConditionSql } from '../../lib/customerFeatures/sql';

export interface CategoryShareResult {
  /** Added feature columns, largest category first. */
  featureNames: string[];
  definitions: FeatureDefinition[];
}

export function categorySlug(category: string): string {
  return (
    category
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 40) || 'unnamed'
  );
}

/**
 * The dataset's largest categories by merchandise revenue, largest first. A decision over the whole data:
 * a sharded run takes it once (features' prepare step) and gives the list to every shard.
 */
export async function topCategories(
  duck: Duck,
  options: { cutoff: string; table?: string; maxCategories?: number },
): Promise<string[]> {
  const table = options.table ?? 'transactions';
  const cutoff = sqlTimestamp(options.cutoff, 'topCategories');
  const merchandise = await merchandiseConditionSql(duck, table);
  const top = await duck.all<{ category: string }>(
    `SELECT category FROM ${table} WHERE category IS NOT NULL AND amount > 0 AND ts <= ${cutoff} AND ${merchandise}
     GROUP BY category ORDER BY sum(amount) DESC, category LIMIT ${options.maxCategories ?? 10}`,
  );
  return top.map((t) => t.category);
}

export async function addCategoryShares(
  duck: Duck,
  options: {
    cutoff: string;
    featuresTable?: string;
    table?: string;
    maxCategories?: number;
    /** The categories to share over (topCategories of the whole data); default: this table's top ones. */
    categories?: readonly string[];
  },
): Promise<CategoryShareResult> {
  const featuresTable = options.featuresTable ?? 'customer_features';
  const table = options.table ?? 'transactions';
  const cutoff = sqlTimestamp(options.cutoff, 'addCategoryShares');
  const merchandise = await merchandiseConditionSql(duck, table);
  const top = options.categories ?? (await topCategories(duck, options));
  if (top.length < 2) return { featureNames: [], definitions: [] };
  const slugs = new Map<string, string>();
  for (const category of top) {
    let slug = `category_share_${categorySlug(category)}`;
    while ([...slugs.values()].includes(slug)) slug += '_';
    slugs.set(category, slug);
  }
  // DECIMAL sums keep the shares byte-identical from run to run (parallel DOUBLE sums are not).
  const shares = [...slugs.entries()]
    .map(
      ([category, slug]) =>
        `COALESCE(sum(amount::DECIMAL(18,4)) FILTER (WHERE category = ${sqlString(category)}) / NULLIF(sum(amount::DECIMAL(18,4)), 0), 0)::DOUBLE AS ${sqlIdent(slug)}`,
    )
    .join(', ');
  await duck.run(`CREATE OR REPLACE TABLE category_shares AS
    SELECT customer_id, ${shares} FROM ${table} WHERE amount > 0 AND ts <= ${cutoff} AND ${merchandise} GROUP BY customer_id`);
  const columns = [...slugs.values()];
  await duck.run(`CREATE OR REPLACE TABLE ${featuresTable} AS
    SELECT f.*, ${columns.map((c) => `COALESCE(s.${sqlIdent(c)}, 0) AS ${sqlIdent(c)}`).join(', ')}
    FROM ${featuresTable} f LEFT JOIN category_shares s USING (customer_id) ORDER BY f.customer_id`);
  return {
    featureNames: columns,
    definitions: [...slugs.entries()].map(([category, slug]) => ({
      name: slug,
      definition: `share of the customer's gross purchase value in category "${category}" (one of the dataset's ${columns.length} largest categories by revenue)`,
      unit: 'share',
      skewed: false,
    })),
  };
}
