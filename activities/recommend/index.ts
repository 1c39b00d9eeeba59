/**
 * recommend: which products go together (association rules over market baskets, per persona bundles and
 * add-on attachment rates) and what to offer each active customer next (item-to-item co-occurrence blended
 * with the customer's own purchases), judged on the month that follows the fit, never on the past.
 *
 * Time discipline. The data may end before the run's cutoff C (Online Retail ends 2011-12-09, the December
 * run's cutoff is 12-31), and a window reaching past the last data would score every list as a miss. So the
 * stage works from the effective end D = min(C, end of the UTC day of the last order), as churn does:
 * - evaluation: fit at E = D - 1 month on orders up to E, score the customers who have a history at E and
 *   buy in (E, D], measure against what they bought there (evaluation.ts), next to a popularity baseline
 *   (the most ordered products of the `popularityDays` before E) and a buy-again baseline (the customer's
 *   own products by recency-weighted frequency);
 * - the blend weight (config `blend: auto`) is chosen on the month before, fit at V = E - 1 month and
 *   measured on (V, E], so the evaluation month that is reported played no part in choosing it;
 * - recommendations: fit at D on all orders, one list per active customer (features' customers whose
 *   recency is within `activeDays`).
 * Rules and bundles are mined over every order up to D.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Duck, sqlString, sqlTimestamp as timestampSql, writeColumns } from '../../lib/duck';
import { OutputCheckError } from '../../lib/errors';
import { checkFiniteMetrics, checkParquetColumns } from '../../lib/outputChecks';
import type { StageWarning } from '../../lib/runTypes';
import { defineStageActivity, type StageDefinition } from '../../lib/stage';
import { buildBaskets, type BasketCounts } from './baskets';
import type { RecommendConfig } from './config';
import { rankingMetrics, type RankingMetrics } from './evaluation';
import { evaluationSet, fitNeighbors, loadHistories, loadTargets, popularity, type NeighborFit } from './fit';
import { constantLists, recommendLists, SOURCE_NAMES, type RecommendationLists } from './model';
import {
  attachmentRates,
  createRulesTable,
  mineLevel,
  personaBundles,
  RULES_TABLE,
  type LevelMiningSummary,
  type PersonaAttachment,
} from './rules';

/** Blend weights tried when config `blend` is auto (weight of the customer's own history). */
export const BLEND_GRID = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] as const;
/** The blend used when `auto` cannot be chosen (no customer to validate on). */
export const DEFAULT_BLEND = 0.5;
/** Rules listed in the summary (and the report) per level. */
const TOP_RULES = 20;
/** The order group of customers the segment stage did not assign (or every order without segments). */
export const UNSEGMENTED = '(all customers)';
/** Evaluation lists hold at least this many entries (hit rate and precision at 10). */
const EVAL_LIST = 10;

/** One evaluation window and the customers measured on it. */
export interface EvaluationWindow {
  /** The fit date (orders up to it) and the end of the window measured (exclusive start, inclusive end). */
  from: string;
  to: string;
  customers: number;
}

/** The recommend stage's metrics: DESIGN.md's `rules` and `evaluation`, and what explains them. */
export interface RecommendMetrics extends Record<string, unknown> {
  /** Rules kept, product and category levels together. */
  rules: number;
  productRules: number;
  categoryRules: number;
  /** Model vs baselines on the evaluation month; null when no customer could be measured. */
  evaluation: { model: RankingMetrics; popularity: RankingMetrics; buyAgain: RankingMetrics } | null;
  /** The pure item-to-item lists (blend 0) on the evaluation month, for comparison. */
  itemToItem: RankingMetrics | null;
  /** Weight of the customer's own history in the model's score, and how it was set. */
  blend: number;
  blendChosenBy: 'validation' | 'config' | 'default';
  evaluationWindow: EvaluationWindow | null;
  validationWindow: EvaluationWindow | null;
  /** True when the model beats both baselines on hit rate at 10 (null when not measured). */
  beatsBaselines: boolean | null;
  /** Active customers given a list, and list rows written. */
  recommendedCustomers: number;
  recommendationRows: number;
  /** Share of orders holding a rule's antecedent that also hold its consequent (all orders). */
  attachmentRate: number | null;
  effectiveEnd: string | null;
  items: number;
  orders: number;
  notes: string[];
}

/** recommend_summary.json: what the report shows, and the settings and choices behind the metrics. */
export interface RecommendSummary {
  effectiveEnd: string | null;
  mining: LevelMiningSummary[];
  topRules: RuleRow[];
  bundles: BundleRow[];
  attachment: PersonaAttachment[];
  evaluation: RecommendMetrics['evaluation'];
  itemToItem: RankingMetrics | null;
  evaluationWindow: EvaluationWindow | null;
  validation: {
    window: EvaluationWindow;
    grid: { blend: number; metrics: RankingMetrics }[];
  } | null;
  blend: number;
  blendChosenBy: RecommendMetrics['blendChosenBy'];
  notes: string[];
}

/** A rule as the summary lists it (names resolved). */
export interface RuleRow {
  level: string;
  antecedent: string[];
  antecedentNames: string[];
  consequent: string;
  consequentName: string;
  orders: number;
  support: number;
  confidence: number;
  lift: number;
}

/** A persona's bundle as the summary lists it. */
export interface BundleRow {
  persona: string;
  rank: number;
  productA: string;
  nameA: string;
  productB: string;
  nameB: string;
  orders: number;
  support: number;
  confidenceAB: number;
  confidenceBA: number;
  lift: number;
}

/** Inputs of {@link computeRecommendations}. */
export interface ComputeRecommendationsOptions {
  /** Clean's transactions (customer_id, order_id, ts, product_id, product_name, category, quantity, amount, line_kind). */
  transactionsTable: string;
  /** Features' customers (customer_id, recency_days): who gets a list. Without it, customers with recent orders. */
  customersTable?: string;
  /** Segments (customer_id, persona) for per-persona bundles and attachment. */
  segmentsTable?: string;
  cutoff: string;
  config: RecommendConfig;
  outDir: string;
  heartbeat?: (detail: unknown) => void;
}

/** What {@link computeRecommendations} wrote and found. */
export interface ComputeRecommendationsResult {
  metrics: RecommendMetrics;
  summary: RecommendSummary;
  paths: { recommendations: string; rules: string; bundles: string; summary: string };
  rows: { recommendations: number; rules: number; bundles: number };
  warnings: StageWarning[];
}

/** The recommend stage (for runStage in tests and tools); `recommend` is its Temporal activity. */
export const recommendStage: StageDefinition<RecommendMetrics> = {
  stage: 'recommend',
  version: 1,
  // Deterministic: no sampling, so the run seed does not enter the outputs.
  configSection: (config) => config.recommend,
  async compute(ctx) {
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    const featuresPath = await ctx.fetchUpstream('features', 'customerFeatures');
    const segmentsPath = ctx.upstream.segment?.outputs.segments
      ? await ctx.fetchUpstream('segment', 'segments')
      : undefined;
    const duck = await Duck.open({ tempDirectory: join(ctx.scratchDir, 'duck') });
    try {
      await duck.run(
        `CREATE TABLE transactions AS
         SELECT COLUMNS(c -> c IN ('customer_id', 'order_id', 'ts', 'product_id', 'product_name', 'category',
                                   'quantity', 'amount', 'line_kind'))
         FROM read_parquet(${sqlString(transactionsPath)})`,
      );
      await duck.run(
        `CREATE TABLE customers AS SELECT customer_id, recency_days FROM read_parquet(${sqlString(featuresPath)})`,
      );
      if (segmentsPath) {
        await duck.run(
          `CREATE TABLE segments AS SELECT customer_id, persona FROM read_parquet(${sqlString(segmentsPath)})`,
        );
      }
      const result = await computeRecommendations(duck, {
        transactionsTable: 'transactions',
        customersTable: 'customers',
        segmentsTable: segmentsPath ? 'segments' : undefined,
        cutoff: ctx.run.cutoff,
        config: ctx.run.config.recommend,
        outDir: ctx.scratchDir,
        heartbeat: (detail) => ctx.heartbeat(detail),
      });
      ctx.log('recommend done', { rules: result.metrics.rules, blend: result.metrics.blend });
      return {
        outputs: {
          recommendations: { path: result.paths.recommendations, rows: result.rows.recommendations },
          rules: { path: result.paths.rules, rows: result.rows.rules },
          bundles: { path: result.paths.bundles, rows: result.rows.bundles },
          summary: { path: result.paths.summary },
        },
        metrics: result.metrics,
        warnings: result.warnings,
      };
    } finally {
      duck.close();
    }
  },
};

export const recommend = defineStageActivity<RecommendMetrics>(recommendStage);

/** The whole stage on a DuckDB connection, without Temporal or S3. */
export async function computeRecommendations(
  duck: Duck,
  options: ComputeRecommendationsOptions,
): Promise<ComputeRecommendationsResult> {
  const { config } = options;
  const heartbeat = options.heartbeat ?? (() => undefined);
  const notes: string[] = [];
  const counts = await buildBaskets(duck, options.transactionsTable, options.cutoff);
  heartbeat({ step: 'baskets' });

  const effectiveEnd = await effectiveEndOf(duck, options.cutoff);
  if (effectiveEnd && effectiveEnd < new Date(Date.parse(options.cutoff)).toISOString()) {
    notes.push(`the data ends ${effectiveEnd.slice(0, 10)}, before the cutoff: windows end there`);
  }

  // Rules, bundles and attachment over every order up to the effective end.
  await orderGroups(duck, options.segmentsTable);
  await createRulesTable(duck);
  const thresholds = {
    minSupport: config.minSupport,
    minOrders: config.minOrders,
    minConfidence: config.minConfidence,
    minLift: config.minLift,
    maxItemsetSize: config.maxItemsetSize,
  };
  const mining: LevelMiningSummary[] = [];
  if (counts.orders > 0) {
    mining.push(
      await mineLevel(duck, {
        basketTable: 'rec_basket',
        level: 'product',
        thresholds,
        orderGroups: 'rec_order_groups',
      }),
    );
    heartbeat({ step: 'productRules' });
    if (counts.categories > 1) {
      mining.push(
        await mineLevel(duck, { basketTable: 'rec_category_basket', level: 'category', thresholds }),
      );
    } else {
      notes.push('no category rules: the products have fewer than two categories');
    }
    await personaBundles(duck, {
      orderGroups: 'rec_order_groups',
      thresholds,
      perPersona: config.bundlesPerPersona,
    });
  } else {
    notes.push('no merchandise purchase orders up to the cutoff: no rules, bundles or recommendations');
    await duck.run(`CREATE OR REPLACE TABLE rec_bundles (persona VARCHAR, rank INTEGER, a INTEGER, b INTEGER,
      orders BIGINT, persona_orders BIGINT, support DOUBLE, confidence_ab DOUBLE, confidence_ba DOUBLE, lift DOUBLE)`);
  }
  const attachment = counts.orders > 0 ? await attachmentRates(duck, 'rec_order_groups') : [];
  heartbeat({ step: 'rules' });

  // The blend: chosen on the validation month, then measured on the evaluation month.
  const evaluationEnd = effectiveEnd;
  const evaluationStart = evaluationEnd ? monthBefore(evaluationEnd) : null;
  const validationStart = evaluationStart ? monthBefore(evaluationStart) : null;
  let blend = typeof config.blend === 'number' ? config.blend : DEFAULT_BLEND;
  let blendChosenBy: RecommendMetrics['blendChosenBy'] =
    typeof config.blend === 'number' ? 'config' : 'default';
  let validation: RecommendSummary['validation'] = null;
  const listSettings = (fill: Int32Array, topN: number) => ({
    topN,
    recentDays: config.recentDays,
    halfLifeDays: config.historyHalfLifeDays,
    fill,
  });
  // Neighbour tables at every fit date the stage uses, from one pass over the pairs (fit.ts).
  const fitDates = [
    ...(config.blend === 'auto' && validationStart ? [validationStart] : []),
    ...(evaluationStart ? [evaluationStart] : []),
    ...(effectiveEnd ? [effectiveEnd] : []),
  ].filter((date, k, all) => all.indexOf(date) === k);
  const fitted = await fitNeighbors(duck, {
    dates: fitDates,
    itemCount: counts.items,
    neighbors: config.neighbors,
    minPairOrders: config.minPairOrders,
  });
  const fitAt = (date: string): NeighborFit => fitted[fitDates.indexOf(date)];
  heartbeat({ step: 'neighbors' });
  if (config.blend === 'auto' && validationStart && evaluationStart) {
    const measured = await measureWindow(
      duck,
      counts,
      config,
      fitAt(validationStart),
      validationStart,
      evaluationStart,
      BLEND_GRID,
    );
    if (measured) {
      validation = {
        window: measured.window,
        grid: BLEND_GRID.map((b, i) => ({ blend: b, metrics: measured.lists[i] })),
      };
      // Best hit rate at 10; ties by recall at 10, then the smaller weight (more cross-sell).
      let best = 0;
      validation.grid.forEach((g, i) => {
        const top = validation!.grid[best].metrics;
        if (
          g.metrics.hitRate10 > top.hitRate10 ||
          (g.metrics.hitRate10 === top.hitRate10 && g.metrics.recall10 > top.recall10)
        )
          best = i;
      });
      blend = BLEND_GRID[best];
      blendChosenBy = 'validation';
    } else {
      notes.push(
        `blend ${DEFAULT_BLEND} by default: no customer bought in the validation month (${validationStart.slice(0, 10)} to ${evaluationStart.slice(0, 10)}) after buying before it`,
      );
    }
  }
  heartbeat({ step: 'validation' });

  let evaluation: RecommendMetrics['evaluation'] = null;
  let itemToItem: RankingMetrics | null = null;
  let evaluationWindow: EvaluationWindow | null = null;
  if (evaluationStart && evaluationEnd) {
    const measured = await measureWindow(
      duck,
      counts,
      config,
      fitAt(evaluationStart),
      evaluationStart,
      evaluationEnd,
      [blend, 0],
      true,
    );
    if (measured && measured.baselines) {
      evaluation = { model: measured.lists[0], ...measured.baselines };
      itemToItem = measured.lists[1];
      evaluationWindow = measured.window;
    } else {
      notes.push(
        `not evaluated: no customer bought in the evaluation month (${evaluationStart.slice(0, 10)} to ${evaluationEnd.slice(0, 10)}) after buying before it`,
      );
    }
  }
  heartbeat({ step: 'evaluation' });

  // Recommendations at the effective end for every active customer.
  const recommendedCustomers = await activeCustomers(duck, options, config, effectiveEnd);
  let lists: RecommendationLists | null = null;
  if (effectiveEnd && recommendedCustomers > 0) {
    const fit = fitAt(effectiveEnd);
    const fill = await popularity(duck, effectiveEnd, config.popularityDays);
    const histories = await loadHistories(duck, 'rec_score_set', effectiveEnd);
    heartbeat({ step: 'histories' });
    [lists] = recommendLists(
      histories,
      fit.table,
      counts.items,
      listSettings(fill, config.topN),
      [blend],
      (done) => heartbeat({ step: 'score', customers: done }),
    );
  }
  const paths = {
    recommendations: join(options.outDir, 'recommendations.parquet'),
    rules: join(options.outDir, 'rules.parquet'),
    bundles: join(options.outDir, 'bundles.parquet'),
    summary: join(options.outDir, 'recommend_summary.json'),
  };
  heartbeat({ step: 'scored' });
  const recommendationRows = await writeRecommendations(duck, lists, config, paths.recommendations);
  heartbeat({ step: 'recommendationsWritten' });
  const ruleRows = await writeRules(duck, paths.rules);
  const bundleRows = await writeBundles(duck, paths.bundles);
  heartbeat({ step: 'written' });

  const productRules = mining.find((m) => m.level === 'product')?.rules ?? 0;
  const categoryRules = mining.find((m) => m.level === 'category')?.rules ?? 0;
  const beatsBaselines = evaluation
    ? evaluation.model.hitRate10 > evaluation.popularity.hitRate10 &&
      evaluation.model.hitRate10 > evaluation.buyAgain.hitRate10
    : null;
  const overall = attachment.find((a) => a.persona === '(all)');
  const metrics: RecommendMetrics = {
    rules: productRules + categoryRules,
    productRules,
    categoryRules,
    evaluation,
    itemToItem,
    blend,
    blendChosenBy,
    evaluationWindow,
    validationWindow: validation?.window ?? null,
    beatsBaselines,
    recommendedCustomers,
    recommendationRows,
    attachmentRate: overall?.attachmentRate ?? null,
    effectiveEnd,
    items: counts.items,
    orders: counts.orders,
    notes,
  };
  const summary: RecommendSummary = {
    effectiveEnd,
    mining,
    topRules: await topRules(duck),
    bundles: await readBundles(duck),
    attachment,
    evaluation,
    itemToItem,
    evaluationWindow,
    validation,
    blend,
    blendChosenBy,
    notes,
  };
  await writeFile(paths.summary, JSON.stringify(summary, null, 2) + '\n');

  const warnings = await checkRecommendOutputs(duck, {
    paths,
    metrics,
    recommendationRows,
    topN: config.topN,
  });
  return {
    metrics,
    summary,
    paths,
    rows: { recommendations: recommendationRows, rules: ruleRows, bundles: bundleRows },
    warnings,
  };
}

/**
 * The instant one calendar month before `iso`: a month-end instant (the last millisecond of a month, as run
 * cutoffs are) maps to the last millisecond of the month before; any other keeps its day and time, clamped to
 * the shorter month (2011-12-09T23:59:59.999Z -> 2011-11-09T23:59:59.999Z, 03-31 -> 02-28 or 02-29).
 */
export function monthBefore(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`recommend: not a valid instant (${iso})`);
  const next = new Date(ms + 1);
  if (next.getUTCDate() === 1 && next.getTime() % 86_400_000 === 0) {
    return new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() - 1, 1) - 1).toISOString();
  }
  const d = new Date(ms);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 0)).getUTCDate();
  return new Date(
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, Math.min(d.getUTCDate(), lastDay)) + (ms % 86_400_000),
  ).toISOString();
}

/** min(cutoff, end of the UTC day of the last order), ISO; null without orders. */
async function effectiveEndOf(duck: Duck, cutoff: string): Promise<string | null> {
  const row = await duck.one<{ last: string | null }>(
    `SELECT strftime(least(${timestampSql(cutoff)},
                           date_trunc('day', max(ts)) + INTERVAL 1 DAY - INTERVAL 1 MILLISECOND),
                     '%Y-%m-%dT%H:%M:%S.%gZ') AS last
     FROM rec_orders`,
  );
  return row.last;
}

/** rec_order_groups (ord, grp): each order's persona (its customer's), or UNSEGMENTED. */
async function orderGroups(duck: Duck, segmentsTable: string | undefined): Promise<void> {
  await duck.run(`CREATE OR REPLACE TABLE rec_order_groups AS
    SELECT o.ord, ${segmentsTable ? `coalesce(s.persona, ${sqlString(UNSEGMENTED)})` : sqlString(UNSEGMENTED)} AS grp
    FROM rec_orders o
    ${segmentsTable ? `JOIN rec_customers c USING (cust) LEFT JOIN ${segmentsTable} s USING (customer_id)` : ''}
    ORDER BY o.ord`);
}

/**
 * Fit at `from`, list for the customers evaluated on (from, to], measure each blend (and, with
 * `baselines`, the popularity and buy-again baselines). Null when no customer can be evaluated.
 */
async function measureWindow(
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
  const lists = recommendLists(histories, fit.table, counts.items, settings, blends).map(measure);
  const window = { from, to, customers };
  if (!baselines) return { window, lists };
  const [buyAgainLists] = recommendLists(
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

/**
 * rec_score_set (pos, cust, customer_id): who gets a list. Features' customers whose recency is within
 * activeDays (a customer without merchandise purchases gets popular products); without the features table,
 * customers with an order within activeDays of the effective end.
 */
async function activeCustomers(
  duck: Duck,
  options: ComputeRecommendationsOptions,
  config: RecommendConfig,
  effectiveEnd: string | null,
): Promise<number> {
  const source = options.customersTable
    ? `SELECT f.customer_id, c.cust FROM ${options.customersTable} f LEFT JOIN rec_customers c USING (customer_id)
       WHERE f.recency_days <= ${config.activeDays}`
    : effectiveEnd
      ? `SELECT c.customer_id, c.cust FROM rec_customers c JOIN rec_orders o USING (cust) GROUP BY ALL
         HAVING max(o.ts) > ${timestampSql(effectiveEnd)} - INTERVAL ${config.activeDays} DAY`
      : `SELECT customer_id, cust FROM rec_customers WHERE false`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE rec_score_set AS
    SELECT (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS pos, cust, customer_id
    FROM (${source}) ORDER BY pos`);
  return (await duck.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM rec_score_set')).n;
}

/**
 * recommendations.parquet: customer_id, rank, product_id, product_name, category, score, source
 * (co_purchase | buy_again | popular), reason, because_product_id. Returns the rows written.
 */
async function writeRecommendations(
  duck: Duck,
  lists: RecommendationLists | null,
  config: RecommendConfig,
  path: string,
): Promise<number> {
  // Every slot goes in as typed arrays, a data chunk at a time; empty slots (item -1) are dropped in SQL.
  const slots = lists ? lists.customers * lists.topN : 0;
  const topN = lists?.topN ?? 1;
  const position = new Int32Array(slots);
  const rank = new Int32Array(slots);
  for (let at = 0; at < slots; at++) {
    position[at] = Math.floor(at / topN);
    rank[at] = (at % topN) + 1;
  }
  await writeColumns(duck, 'rec_slots', slots, [
    { name: 'pos', type: 'INTEGER', values: position },
    { name: 'rank', type: 'INTEGER', values: rank },
    { name: 'item', type: 'INTEGER', values: lists?.item ?? null },
    { name: 'score', type: 'DOUBLE', values: lists?.score ?? null },
    { name: 'source', type: 'UTINYINT', values: lists?.source ?? null },
    { name: 'because', type: 'INTEGER', values: lists?.because ?? null },
    { name: 'confidence', type: 'DOUBLE', values: lists?.confidence ?? null },
    { name: 'orders', type: 'DOUBLE', values: lists?.orders ?? null },
    { name: 'age_days', type: 'DOUBLE', values: lists?.ageDays ?? null },
  ]);
  await duck.run('CREATE OR REPLACE TABLE rec_lists AS SELECT * FROM rec_slots WHERE item >= 0');
  await duck.run('DROP TABLE rec_slots');
  const sourceName = `[${SOURCE_NAMES.map(sqlString).join(', ')}][l.source + 1]`;
  await duck.toParquet(
    `SELECT s.customer_id, l.rank, i.product_id, i.product_name, i.category, round(l.score, 6) AS score,
            ${sourceName} AS source,
            CASE l.source
              WHEN 0 THEN format('bought together with {} in {}% of its orders',
                                 coalesce(bi.product_name, bi.product_id), round(100 * l.confidence)::INTEGER)
              WHEN 1 THEN format('bought in {} of your orders, last {} days ago',
                                 l.orders::INTEGER, floor(l.age_days)::INTEGER)
              ELSE format('among the most ordered products of the last {} days', ${config.popularityDays})
            END AS reason,
            bi.product_id AS because_product_id
     FROM rec_lists l JOIN rec_score_set s USING (pos) JOIN rec_items i ON i.item = l.item
     LEFT JOIN rec_items bi ON bi.item = l.because
     ORDER BY l.pos, l.rank`, // pos numbers the customers in customer_id order (activeCustomers)
    path,
  );
  return (await duck.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM rec_lists')).n;
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
async function writeRules(duck: Duck, path: string): Promise<number> {
  await duck.run(`CREATE OR REPLACE TEMP TABLE rec_rules_out AS ${resolvedRulesSql()}`);
  await duck.toParquet(
    `SELECT * FROM rec_rules_out ORDER BY level DESC, lift DESC, orders DESC, antecedent, consequent`,
    path,
  );
  return (await duck.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM rec_rules_out')).n;
}

/** The top rules of each level by lift (one rule per itemset direction), for the summary. */
async function topRules(duck: Duck): Promise<RuleRow[]> {
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
async function writeBundles(duck: Duck, path: string): Promise<number> {
  await duck.toParquet(BUNDLES_SQL, path);
  return (await duck.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM rec_bundles')).n;
}

async function readBundles(duck: Duck): Promise<BundleRow[]> {
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

/**
 * The stage's own check of what it wrote: some active customer has a list when there are products (a
 * customer with no product left to offer is a warning), ranks 1..topN without a repeated product, scores finite and >= 0, a reason on every row; every rule's
 * support and confidence in [0, 1] and lift finite and positive; the evaluation figures finite. A model that
 * does not beat both baselines on hit rate at 10, or no evaluation at all, is a warning.
 */
export async function checkRecommendOutputs(
  duck: Duck,
  input: {
    paths: ComputeRecommendationsResult['paths'];
    metrics: RecommendMetrics;
    recommendationRows: number;
    topN: number;
  },
): Promise<StageWarning[]> {
  const { metrics } = input;
  await checkParquetColumns(
    duck,
    input.paths.recommendations,
    'recommendations.parquet',
    [
      { column: 'customer_id', notNull: true },
      { column: 'rank', notNull: true, min: 1, max: input.topN },
      { column: 'product_id', notNull: true },
      { column: 'score', notNull: true, finite: true, min: 0 },
      { column: 'source', notNull: true },
      { column: 'reason', notNull: true },
    ],
    { expectRows: input.recommendationRows, uniqueBy: ['customer_id', 'product_id'] },
  );
  const warnings: StageWarning[] = [];
  if (metrics.items > 0 && metrics.recommendedCustomers > 0) {
    const { listed } = await duck.one<{ listed: number }>(
      `SELECT count(DISTINCT customer_id)::INTEGER AS listed FROM read_parquet(${sqlString(input.paths.recommendations)})`,
    );
    if (listed === 0) {
      throw new OutputCheckError(
        `output check failed for recommendations.parquet: none of ${metrics.recommendedCustomers} active customers has a list although the catalogue has ${metrics.items} products`,
      );
    }
    // A customer who recently bought every product there is to offer has no candidate left: CDNOW has one
    // "product" (CDs), so recent buyers get nothing. Said, not failed.
    if (listed < metrics.recommendedCustomers) {
      warnings.push({
        code: 'recommend_customers_without_list',
        message: `${metrics.recommendedCustomers - listed} of ${metrics.recommendedCustomers} active customers got no recommendation: no product of the ${metrics.items} in the catalogue was left to offer them`,
      });
    }
  }
  await checkParquetColumns(duck, input.paths.rules, 'rules.parquet', [
    { column: 'support', notNull: true, finite: true, min: 0, max: 1 },
    { column: 'confidence', notNull: true, finite: true, min: 0, max: 1 },
    { column: 'lift', notNull: true, finite: true, min: 0 },
  ]);
  if (!metrics.evaluation) {
    warnings.push({
      code: 'recommend_not_evaluated',
      message: `recommendations were not measured against a following month: ${metrics.notes.find((n) => n.startsWith('not evaluated')) ?? 'no evaluation window'}`,
    });
    return warnings;
  }
  for (const [name, m] of Object.entries(metrics.evaluation)) {
    checkFiniteMetrics(`recommend evaluation (${name})`, { ...m });
  }
  const { model, popularity: pop, buyAgain } = metrics.evaluation;
  if (!metrics.beatsBaselines) {
    warnings.push({
      code: 'recommend_below_baseline',
      message: `the model's hit rate at 10 (${model.hitRate10.toFixed(3)}) does not beat both baselines (popularity ${pop.hitRate10.toFixed(3)}, buy again ${buyAgain.hitRate10.toFixed(3)})`,
    });
  }
  return warnings;
}
