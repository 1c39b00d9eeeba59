/**
 * The segment stage's contract (issue 13): the metrics the run summary, the report and other tools read
 * (docs/DESIGN.md; fields may be added, never renamed) and the typed reference to last month's output.
 */
import type { MigrationKey } from './migration';

/** Quality of the segmentation at one k (compact, for metrics and the report). */
export interface KMetrics {
  k: number;
  silhouette: number;
  inertia: number;
  calinskiHarabasz: number;
  daviesBouldin: number;
  /** BIC of the mixture (method gmm); null for k-means. */
  bic: number | null;
  /** Bootstrap stability at this k (criterion 'separation'; null otherwise). */
  stability: number | null;
  /** Worst density-valley ratio between two segments (criterion 'separation'; null otherwise). */
  separation: number | null;
}

/** Customers moving between last month's personas (rows) and this month's (columns). */
export interface MigrationSummary {
  previousRunId: string;
  previousMonth: string;
  /** The persona column customers were matched on (migration.ts). */
  matchedOn: MigrationKey;
  /** Row labels: last month's personas, then '(new)'. */
  from: string[];
  /** Column labels: this month's personas, then '(gone)'. */
  to: string[];
  counts: number[][];
  stayed: number;
  moved: number;
  newCustomers: number;
  goneCustomers: number;
}

/** The stage's metrics: docs/DESIGN.md's contract (k, silhouette, sizes, personas) and more. */
export interface SegmentMetrics extends Record<string, unknown> {
  k: number;
  /** Mean silhouette of the final labels on the silhouette sample. */
  silhouette: number;
  /** Customers per segment, segment 0 first (the largest). */
  sizes: number[];
  /** Persona name per segment. */
  personas: string[];
  method: 'kmeans' | 'gmm';
  /** Customers the silhouettes were computed on. */
  silhouetteSampleSize: number;
  /** Customers the k search was fitted on. */
  fitSampleSize: number;
  seed: number;
  customers: number;
  /** Number of clustering features. */
  features: number;
  metricsByK: KMetrics[];
  /** Mean pairwise ARI of k-means refits on 80% subsamples (stability.ts); >= 0.7 is a stable k. */
  stability: number;
  /** Share of customers whose decision rule (rules.ts) names their own segment. */
  ruleFidelity: number;
  /** Customers with no net purchase (monetary_total <= 0): persona "No net purchase" whatever their segment. */
  noNetPurchase: number;
  /** Null when there is no previous month's segmentation; `migrationReason` says why. */
  migration: MigrationSummary | null;
  migrationReason?: string;
  /**
   * Sharded runs (stage version 7): customers the model was fitted on (the hash sample of sample.ts; every
   * customer when there are at most `segment.fitSampleCustomers`). Absent from unsharded runs, which fit on
   * every customer.
   */
  segmentationSampleSize?: number;
}

/** Last month's latest completed run's segments output. */
export interface PreviousSegments {
  /** The run that computed them (last month's latest completed run, or the run it took them from). */
  runId: string;
  month: string;
  sha256: string;
  /** Object key of its segments.parquet. */
  key: string;
}
