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
 *
 * This file runs the steps in order; each lives in its module: baskets.ts, mineRules.ts,
 * blendAndEvaluation.ts, scoreCustomers.ts, categories.ts, outputs.ts and checks.ts.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import type { StageWarning } from '../../lib/runTypes';
import { activeCustomers } from './audience';
import { buildBaskets } from './baskets';
import { chooseBlendAndEvaluate } from './blendAndEvaluation';
import { categoryLists, summarizeCategoryLists, writeCategoryRecommendations } from './categories';
import { checkRecommendOutputs } from './checks';
import type { RecommendConfig } from '../../lib/stageConfig/recommend';
import type { RecommendMetrics, RecommendSummary } from './contract';
import { effectiveEndOf } from './dates';
import { popularity } from './fit';
import { mineRulesAndBundles } from './mineRules';
import { readBundles, topRules, writeBundles, writeRecommendations, writeRules } from './outputs';
import { createListsTable, scoreInBatches } from './scoreCustomers';

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
  const { mining, attachment } = await mineRulesAndBundles(duck, {
    counts,
    config,
    segmentsTable: options.segmentsTable,
    notes,
    heartbeat,
  });
  heartbeat({ step: 'rules' });

  // The blend: chosen on the validation month, then measured on the evaluation month.
  const { blend, blendChosenBy, validation, evaluation, itemToItem, evaluationWindow, finalFit } =
    await chooseBlendAndEvaluate(duck, { counts, config, effectiveEnd, notes, heartbeat });

  // Recommendations at the effective end for every active customer.
  const recommendedCustomers = await activeCustomers(duck, options, config, effectiveEnd);
  let recommendationRows = 0;
  if (effectiveEnd && finalFit && recommendedCustomers > 0) {
    const fill = await popularity(duck, effectiveEnd, config.popularityDays);
    recommendationRows = await scoreInBatches(duck, {
      scoreSet: 'rec_score_set',
      at: effectiveEnd,
      neighbors: finalFit.table,
      itemCount: counts.items,
      settings: {
        topN: config.topN,
        recentDays: config.recentDays,
        halfLifeDays: config.historyHalfLifeDays,
        fill,
      },
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
