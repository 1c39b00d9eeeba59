/**
 * The fitted segmentation as plain JSON (it travels in every shard activity's input: a few KB), and its
 * application to one shard's customers: the same shrinkage, transform and weights as the fit, then the
 * nearest k-means centroid (or the most probable mixture component), the distance to it and the decision
 * rule. A customer's segment depends only on its own features and the model, never on its shard.
 */
import { distanceToCentroid, observationCountOf, scaleColumns, shrinkTowards } from './clusterFeatures';
import type { SegmentColumnPlan, SegmentFit } from './fit';
import { predictGmm } from './gmm';
import { predictKMeans } from './kmeans';
import { fromColumns, fromRows, type Matrix } from './matrix';
import { ruleOf, type Rule } from './rules';
import { applyTransform, type TransformParams } from './transform';

export interface SegmentModel {
  method: 'kmeans' | 'gmm';
  k: number;
  columns: SegmentColumnPlan;
  /** Features shrunk towards a mean by their observation count (clusterFeatures.ts shrinkTowards). */
  shrink: { feature: string; count: string; mean: number }[];
  /** The transform's parameters (skewness left out: it is not needed to apply it and may be NaN). */
  transform: Omit<TransformParams, 'skewness'>;
  weights: number[];
  /** k rows of the clustering space (centroids or mixture means). */
  centroids: number[][];
  mixture: { weights: number[]; means: number[][]; variances: number[][] } | null;
  rules: Rule[];
}

const rowsOf = (m: Matrix): number[][] =>
  Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));

/** The model of a fit, as JSON-safe data. */
export function segmentModelOf(fit: SegmentFit, columns: SegmentColumnPlan): SegmentModel {
  const { segmentation, params } = fit;
  return {
    method: segmentation.method,
    k: segmentation.k,
    columns,
    shrink: Object.entries(fit.shrinkMeans).map(([feature, mean]) => ({
      feature,
      count: observationCountOf(feature) ?? '',
      mean,
    })),
    transform: {
      columnNames: params.columnNames,
      log1p: params.log1p,
      log1pReason: params.log1pReason,
      mean: params.mean,
      sd: params.sd,
      constant: params.constant,
    },
    weights: Array.from(fit.weights),
    centroids: rowsOf(segmentation.centroids),
    mixture: segmentation.mixture
      ? {
          weights: Array.from(segmentation.mixture.weights),
          means: rowsOf(segmentation.mixture.means),
          variances: rowsOf(segmentation.mixture.variances),
        }
      : null,
    rules: fit.tree.rules,
  };
}

/** Segment, distance and rule of every row of `columns` (one shard's customers, customer_id order). */
export interface SegmentAssignment {
  labels: Int32Array;
  distances: Float64Array;
  ruleIdOf: Int32Array;
  /** Rows whose rule names their own segment. */
  ruleAgrees: number;
}

export function assignSegments(
  model: SegmentModel,
  columns: Readonly<Record<string, Float64Array>>,
  rowCount: number,
): SegmentAssignment {
  const labels = new Int32Array(rowCount);
  const ruleIdOf = new Int32Array(rowCount);
  if (rowCount === 0) return { labels, distances: new Float64Array(0), ruleIdOf, ruleAgrees: 0 };
  const shrunk = new Map(model.shrink.map((s) => [s.feature, s]));
  const values = model.columns.features.map((f) => {
    const s = shrunk.get(f);
    return s ? shrinkTowards(columns[f], columns[s.count], s.mean) : columns[f];
  });
  const matrix = applyTransform(
    fromColumns(values),
    { ...model.transform, skewness: model.transform.log1p.map(() => NaN) },
    { inPlace: true },
  );
  scaleColumns(matrix, model.weights);
  const centroids = fromRows(model.centroids);
  if (model.mixture) {
    labels.set(
      predictGmm(matrix, {
        k: model.k,
        weights: Float64Array.from(model.mixture.weights),
        means: fromRows(model.mixture.means),
        variances: fromRows(model.mixture.variances),
      }).labels,
    );
  } else {
    labels.set(predictKMeans(matrix, centroids).labels);
  }
  const distances = distanceToCentroid(matrix, labels, centroids);
  let ruleAgrees = 0;
  for (let i = 0; i < rowCount; i++) {
    const rule = ruleOf(model.rules, (f) => columns[f][i]);
    if (!rule)
      throw new Error(`segment: customer ${i + 1} matches no decision rule (the leaves must cover everyone)`);
    ruleIdOf[i] = rule.id;
    if (rule.segment === labels[i]) ruleAgrees++;
  }
  return { labels, distances, ruleIdOf, ruleAgrees };
}
