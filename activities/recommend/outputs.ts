/**
 * The stage's files: recommendations.parquet, rules.parquet and bundles.parquet written straight from
 * DuckDB, and the rows of the summary read back from the same relations.
 */
import type { Duck } from '../../lib/duck';
import { sqlString } from '../../lib/duck';
import type { RecommendConfig } from '../../lib/stageConfig/recommend';
import type { BundleRow, RuleRow } from './contract';
import { SOURCE_NAMES } from './model';
import { RULES_TABLE } from './rules';

/** Rules listed in the summary (and the report) per level. */
const TOP_RULES = 20;

/** A list entry's source (table alias `l`) by name, as SQL. */
export const SOURCE_NAME_SQL = `[${SOURCE_NAMES.map(sqlString).join(', ')}][l.source + 1]`;

/**
 * recommendations.parquet from the lists table `rec_lists` (scoreCustomers.ts): customer_id, rank,
 * product_id, product_name, category, score, source (co_purchase | buy_again | popular), reason,
 * because_product_id.
 */
export async function writeRecommendations(duck: Duck, config: RecommendConfig, path: string): Promise<void> {
  await duck.toParquet(
    `SELECT s.customer_id, l.rank, i.product_id, i.product_name, i.category, round(l.score, 6) AS score,
            ${SOURCE_NAME_SQL} AS source,
            ${reasonSql('coalesce(bi.product_name, bi.product_id)', 'products', config.popularityDays)} AS reason,
            bi.product_id AS because_product_id
     FROM rec_lists l JOIN rec_score_set s USING (pos) JOIN rec_items i ON i.item = l.item
     LEFT JOIN rec_items bi ON bi.item = l.because
     ORDER BY l.pos, l.rank`, // pos numbers the customers in customer_id order (activeCustomers)
    path,
  );
}

/**
 * The reason a list entry (table alias `l`: source, confidence, orders, age_days) is there, as SQL: the
 * history item behind a co-purchase (`becauseName`, an SQL expression) and the share of its orders that held
 * the entry, the customer's own purchases, or popularity among `noun`.
 */
export function reasonSql(
  becauseName: string,
  noun: 'products' | 'categories',
  popularityDays: number,
): string {
  return `CASE l.source
              WHEN 0 THEN format('bought together with {} in {}% of its orders',
                                 ${becauseName}, round(100 * l.confidence)::INTEGER)
              WHEN 1 THEN format('bought in {} of your orders, last {} days ago',
                                 l.orders::INTEGER, floor(l.age_days)::INTEGER)
              ELSE format('among the most ordered ${noun} of the last {} days', ${popularityDays})
            END`;
}

/** The SQL of rules with product ids and names resolved (a category is its own id and name). */
function resolvedRulesSql(): string {
  return `WITH labels AS (
       SELECT 'product' AS level, item, product_id AS id, coalesce(product_name, product_id) AS name FROM rec_items
       UNION ALL SELECT 'category', item, category, category FROM rec_categories),
     numbered AS (SELECT row_number() OVER () AS rule_id, * FROM ${RULES_TABLE}),
     antecedents AS (
       SELECT u.rule_id, list(l.id ORDER BY u.k) AS ids, list(l.name ORDER BY u.k) AS names
       FROM (SELECT rule_id, level, unnest(antecedent) AS item, generate_subscripts(antecedent, 1) AS k FROM numbered) u
       JOIN labels l USING (level, item) GROUP BY u.rule_id)
     SELECT r.level, r.size, a.ids AS antecedent, a.names AS antecedent_names, c.id AS consequent,
            c.name AS consequent_name, r.orders, r.antecedent_orders, r.consequent_orders, r.support, r.confidence, r.lift
     FROM numbered r JOIN antecedents a USING (rule_id) JOIN labels c ON c.level = r.level AND c.item = r.consequent`;
}

/** rules.parquet: every kept rule, by level, then lift, orders and items. */
export async function writeRules(duck: Duck, path: string): Promise<number> {
  await duck.run(`CREATE OR REPLACE TEMP TABLE rec_rules_out AS ${resolvedRulesSql()}`);
  await duck.toParquet(
    `SELECT * FROM rec_rules_out ORDER BY level DESC, lift DESC, orders DESC, antecedent, consequent`,
    path,
  );
  return (await duck.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM rec_rules_out')).n;
}

/** The top rules of each level by lift (one rule per itemset direction), for the summary. */
export async function topRules(duck: Duck): Promise<RuleRow[]> {
  const rows = await duck.all<{
    level: string;
    antecedent: string[];
    antecedent_names: string[];
    consequent: string;
    consequent_name: string;
    orders: number;
    support: number;
    confidence: number;
    lift: number;
  }>(
    `SELECT * FROM rec_rules_out
     QUALIFY row_number() OVER (PARTITION BY level ORDER BY lift DESC, orders DESC, antecedent, consequent) <= ${TOP_RULES}
     ORDER BY level DESC, lift DESC, orders DESC, antecedent, consequent`,
  );
  return rows.map((r) => ({
    level: r.level,
    antecedent: r.antecedent,
    antecedentNames: r.antecedent_names,
    consequent: r.consequent,
    consequentName: r.consequent_name,
    orders: r.orders,
    support: r.support,
    confidence: r.confidence,
    lift: r.lift,
  }));
}

const BUNDLES_SQL = `SELECT b.persona, b.rank, ia.product_id AS product_a, coalesce(ia.product_name, ia.product_id) AS name_a,
         ib.product_id AS product_b, coalesce(ib.product_name, ib.product_id) AS name_b, b.orders, b.persona_orders,
         b.support, b.confidence_ab, b.confidence_ba, b.lift
  FROM rec_bundles b JOIN rec_items ia ON ia.item = b.a JOIN rec_items ib ON ib.item = b.b
  ORDER BY b.persona, b.rank`;

/** bundles.parquet: each persona's top bundles. */
export async function writeBundles(duck: Duck, path: string): Promise<number> {
  await duck.toParquet(BUNDLES_SQL, path);
  return (await duck.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM rec_bundles')).n;
}

export async function readBundles(duck: Duck): Promise<BundleRow[]> {
  const rows = await duck.all<{
    persona: string;
    rank: number;
    product_a: string;
    name_a: string;
    product_b: string;
    name_b: string;
    orders: number;
    support: number;
    confidence_ab: number;
    confidence_ba: number;
    lift: number;
  }>(BUNDLES_SQL);
  return rows.map((r) => ({
    persona: r.persona,
    rank: r.rank,
    productA: r.product_a,
    nameA: r.name_a,
    productB: r.product_b,
    nameB: r.name_b,
    orders: r.orders,
    support: r.support,
    confidenceAB: r.confidence_ab,
    confidenceBA: r.confidence_ba,
    lift: r.lift,
  }));
}
