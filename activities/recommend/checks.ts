/** The recommend stage's own checks of what it wrote. */
import type { Duck } from '../../lib/duck';
import { sqlString } from '../../lib/duck';
import { OutputCheckError } from '../../lib/errors';
import { checkFiniteMetrics, checkParquetColumns } from '../../lib/outputChecks';
import type { StageWarning } from '../../lib/runTypes';
import type { RecommendMetrics } from './contract';

/**
 * The stage's own check of what it wrote: some active customer has a list when there are products (a
 * customer with no product left to offer is a warning), ranks 1..topN without a repeated product, scores finite and >= 0, a reason on every row; every rule's
 * support and confidence in [0, 1] and lift finite and positive; the evaluation figures finite. A model that
 * does not beat both baselines on hit rate at 10, or no evaluation at all, is a warning.
 */
export async function checkRecommendOutputs(
  duck: Duck,
  input: {
    /** Category lists are checked when given (a stage run always gives them). */
    paths: { recommendations: string; rules: string; categoryRecommendations?: string };
    metrics: RecommendMetrics;
    recommendationRows: number;
    categoryRecommendationRows?: number;
    topN: number;
    categoryTopN?: number;
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
  if (input.paths.categoryRecommendations) {
    await checkParquetColumns(
      duck,
      input.paths.categoryRecommendations,
      'category_recommendations.parquet',
      [
        { column: 'customer_id', notNull: true },
        { column: 'rank', notNull: true, min: 1, max: input.categoryTopN },
        { column: 'category', notNull: true },
        { column: 'score', notNull: true, finite: true, min: 0 },
        { column: 'source', notNull: true },
        { column: 'reason', notNull: true },
      ],
      { expectRows: input.categoryRecommendationRows, uniqueBy: ['customer_id', 'category'] },
    );
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
