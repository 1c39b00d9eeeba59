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
import type { Duck } from '../../lib/duck';
import type { StageWarning } from '../../lib/runTypes';
import { activeCustomers, orderGroups } from './audience';
import { buildBaskets } from './baskets';
import { categoryLists, summarizeCategoryLists, writeCategoryRecommendations } from './categories';
import { checkRecommendOutputs } from './checks';
import type { RecommendConfig } from '../../lib/stageConfig/recommend';
import type { EvaluationWindow, RecommendMetrics, RecommendSummary } from './contract';
import type { RankingMetrics } from './evaluation';
import { fitNeighbors, popularity, type NeighborFit } from './fit';
import { readBundles, topRules, writeBundles, writeRecommendations, writeRules } from './outputs';
import {
  attachmentRates,
  createRulesTable,
  mineLevel,
  personaBundles,
  type LevelMiningSummary,
} from './rules';
import { bestBlend, BLEND_GRID, DEFAULT_BLEND, measureWindow } from './measure';
import { createListsTable, scoreInBatches } from './scoreCustomers';
import { effectiveEndOf, monthBefore } from './dates';

/**
 * DuckDB's memory cap for the stage (CUSTFLOW_DUCKDB_MEMORY_LIMIT when set). The stage's largest steps (the
 * pair self-join, the sorted write of a list per customer) spill to the temp directory beyond it instead of
 * growing the worker: 2 GB keeps the stage under issue 12's 4 GB at 1M customers, with the lists' typed
 * arrays (scoreCustomers.ts) beside it, and cost no measurable CPU at 300k customers (36.1 s capped at 1 GB
 * against 36.6 s at the 6 GB default).
 */
export function recommendDuckMemoryLimit(): string {
  return process.env.CUSTFLOW_DUCKDB_MEMORY_LIMIT ?? '2GB';
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
  paths: {
    recommendations: string;
    rules: string;
    bundles: string;
    summary: string;
    categoryRecommendations: string;
  };
  rows: { recommendations: number; rules: number; bundles: number; categoryRecommendations: number };
  warnings: StageWarning[];
}

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
        orders: counts.orders,
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
      blend = bestBlend(validation.grid);
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
  let recommendationRows = 0;
  if (effectiveEnd && recommendedCustomers > 0) {
    const fit = fitAt(effectiveEnd);
    const fill = await popularity(duck, effectiveEnd, config.popularityDays);
    recommendationRows = await scoreInBatches(duck, {
      scoreSet: 'rec_score_set',
      at: effectiveEnd,
      neighbors: fit.table,
      itemCount: counts.items,
      settings: listSettings(fill, config.topN),
      blend,
      table: 'rec_lists',
      onProgress: (done) => heartbeat({ step: 'score', customers: done }),
    });
  } else {
    await createListsTable(duck, 'rec_lists');
  }
  const paths = {
    recommendations: join(options.outDir, 'recommendations.parquet'),
    rules: join(options.outDir, 'rules.parquet'),
    bundles: join(options.outDir, 'bundles.parquet'),
    summary: join(options.outDir, 'recommend_summary.json'),
    categoryRecommendations: join(options.outDir, 'category_recommendations.parquet'),
  };
  heartbeat({ step: 'scored' });
  await writeRecommendations(duck, config, paths.recommendations);
  await duck.run('DROP TABLE rec_lists');
  heartbeat({ step: 'recommendationsWritten' });
  const ruleRows = await writeRules(duck, paths.rules);
  const bundleRows = await writeBundles(duck, paths.bundles);
  heartbeat({ step: 'written' });

  // The top categories per active customer, from the same model on category baskets.
  const categoryListsFound =
    effectiveEnd !== null &&
    recommendedCustomers > 0 &&
    (await categoryLists(duck, {
      at: effectiveEnd,
      categories: counts.categories,
      config,
      blend,
      onProgress: (done) => heartbeat({ step: 'categoryScore', customers: done }),
    }));
  if (!categoryListsFound && counts.categories < 2) {
    notes.push('no category lists: the products have fewer than two categories');
  }
  const categoryRows = await writeCategoryRecommendations(
    duck,
    categoryListsFound,
    config,
    paths.categoryRecommendations,
  );
  const categorySummary = categoryListsFound
    ? await summarizeCategoryLists(duck, paths.categoryRecommendations, {
        topN: config.categoryTopN,
        categories: counts.categories,
        rows: categoryRows,
      })
    : null;
  heartbeat({ step: 'categories' });

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
    categoryRecommendationRows: categoryRows,
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
    categoryLists: categorySummary,
    notes,
  };
  await writeFile(paths.summary, JSON.stringify(summary, null, 2) + '\n');

  const warnings = await checkRecommendOutputs(duck, {
    paths,
    metrics,
    recommendationRows,
    categoryRecommendationRows: categoryRows,
    topN: config.topN,
    categoryTopN: config.categoryTopN,
  });
  return {
    metrics,
    summary,
    paths,
    rows: {
      recommendations: recommendationRows,
      rules: ruleRows,
      bundles: bundleRows,
      categoryRecommendations: categoryRows,
    },
    warnings,
  };
}
