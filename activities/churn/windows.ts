/**
 * Labelled windows: features at a cutoff joined with the churn labels of the window after it, the fit
 * sample of a window, and the checks that a window can train or judge a classifier.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent } from '../../lib/duck';
import { buildCustomerFeatures } from '../../lib/customerFeatures/customerFeatures';
import { Rng, sampleIndices } from '../../lib/random';
import type { FeatureMatrix } from './data';
import { matrixFromColumns } from './data';
import { churnLabelsSql } from './labels';

/** Fewest customers a labelled window (training or evaluation) needs for a model worth reporting. */
export const MIN_WINDOW_CUSTOMERS = 50;
/** Fewest customers of each class (e.g. churners and stayers) a labelled window needs. */
export const MIN_CLASS_CUSTOMERS = 10;

/**
 * Why a labelled window cannot train or evaluate a classifier (too few customers, or too few of one class),
 * or null when it can. `what` names the window and label in the message.
 */
export function windowShortfall(what: string, y: Uint8Array): string | null {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  return windowShortfallOfCounts(what, y.length, positives);
}

/** windowShortfall from a window's counts (a sharded run merges them exactly from its shards). */
export function windowShortfallOfCounts(what: string, customers: number, positives: number): string | null {
  const negatives = customers - positives;
  if (customers < MIN_WINDOW_CUSTOMERS) {
    return `${what}: ${customers} labelled customers, fewer than the ${MIN_WINDOW_CUSTOMERS} needed`;
  }
  if (Math.min(positives, negatives) < MIN_CLASS_CUSTOMERS) {
    return `${what}: ${positives} positives and ${negatives} negatives of ${customers}; each class needs at least ${MIN_CLASS_CUSTOMERS}`;
  }
  return null;
}

/** Features at one cutoff joined with their labels, in customer_id order. */
export interface LabelledWindow {
  cutoff: string;
  X: FeatureMatrix;
  churned: Uint8Array;
  futureSpend: Float64Array;
  /** Customers with features at the cutoff (the join with the labels must keep them all). */
  featureRows: number;
}

/** A window the models are fitted on: the whole window (rows null) or a sample of its rows, in row order. */
export interface FitWindow extends LabelledWindow {
  rows: Int32Array | null;
}

/** The window itself when it has at most `max` customers, else a seeded uniform sample of `max` of them. */
export function fitSample(window: LabelledWindow, max: number, seed: number): FitWindow {
  const { rows: n, cols, data } = window.X;
  if (n <= max) return { ...window, rows: null };
  const rows = sampleIndices(n, max, new Rng(seed)).sort();
  const sampled = new Float64Array(max * cols);
  for (let i = 0; i < max; i++) sampled.set(data.subarray(rows[i] * cols, (rows[i] + 1) * cols), i * cols);
  return {
    cutoff: window.cutoff,
    X: { rows: max, cols, data: sampled },
    churned: takeRows(window.churned, rows),
    futureSpend: takeRows(window.futureSpend, rows),
    featureRows: window.featureRows,
    rows,
  };
}

export function takeRows<T extends Uint8Array | Float64Array>(values: T, rows: Int32Array): T {
  const out = new (values.constructor as new (length: number) => T)(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]];
  return out;
}

/** How a labelled window is built: the cutoff, the window and the tables the features come from. */
export interface LabelledWindowOptions {
  cutoff: string;
  windowDays: number;
  featureNames: string[];
  hasEvents: boolean;
  table: string;
  eventsTable?: string;
}

/**
 * The SELECT of a labelled window over the features table `featuresTable` built at the cutoff: customer_id,
 * the model features, churned and future_spend (DOUBLE), in customer_id order; `extra` adds columns.
 */
function labelledWindowSql(options: LabelledWindowOptions, featuresTable: string, extra = ''): string {
  const labels = churnLabelsSql({
    cutoff: options.cutoff,
    windowDays: options.windowDays,
    table: options.table,
  });
  return `SELECT f.customer_id, ${options.featureNames.map((n) => `f.${sqlIdent(n)}`).join(', ')},
            l.churned::DOUBLE AS churned, l.future_spend::DOUBLE AS future_spend${extra}
     FROM ${sqlIdent(featuresTable)} f JOIN (${labels}) l USING (customer_id)
     ORDER BY f.customer_id`;
}

/**
 * Run `use` on the SELECT of the labelled window at the cutoff (features built from the transactions,
 * joined with the churn labels of the window after it); returns its result and the customers with features.
 */
export async function withLabelledWindow<T>(
  duck: Duck,
  options: LabelledWindowOptions,
  use: (sql: string) => Promise<T>,
  extraColumns = '',
): Promise<{ result: T; featureRows: number }> {
  const built = await buildCustomerFeatures(duck, {
    cutoff: options.cutoff,
    hasEvents: options.hasEvents,
    table: options.table,
    eventsTable: options.eventsTable,
    outputTable: 'churn_features_window',
  });
  const result = await use(labelledWindowSql(options, built.table, extraColumns));
  await duck.run(`DROP TABLE ${sqlIdent(built.table)}`);
  return { result, featureRows: built.customers };
}

/** Read a labelled window (customer_id order) from a SELECT with the feature, churned and future_spend columns. */
export async function readLabelledWindow(
  duck: Duck,
  sql: string,
  options: { cutoff: string; featureNames: string[]; featureRows?: number },
): Promise<LabelledWindow> {
  const { rowCount, columns } = await duck.columns(sql, [...options.featureNames, 'churned', 'future_spend']);
  const X = matrixFromColumns(options.featureNames.map((n) => columns[n]));
  const churned = new Uint8Array(rowCount);
  for (let i = 0; i < rowCount; i++) churned[i] = columns.churned[i] === 1 ? 1 : 0;
  return {
    cutoff: options.cutoff,
    X,
    churned,
    futureSpend: columns.future_spend,
    featureRows: options.featureRows ?? rowCount,
  };
}

/** Features at `cutoff` (built from the transactions) joined with churn labels of the window after it. */
export async function loadLabelledWindow(
  duck: Duck,
  options: LabelledWindowOptions,
): Promise<LabelledWindow> {
  const { result, featureRows } = await withLabelledWindow(duck, options, (sql) =>
    readLabelledWindow(duck, sql, options),
  );
  return { ...result, featureRows };
}

export async function loadMatrix(duck: Duck, sql: string, featureNames: string[]): Promise<FeatureMatrix> {
  const { columns } = await duck.columns(sql, featureNames);
  return matrixFromColumns(featureNames.map((n) => columns[n]));
}

export function columnOf(X: FeatureMatrix, column: number, name: string): Float64Array {
  if (column < 0) throw new Error(`churn: baseline feature ${name} is not a feature`);
  const out = new Float64Array(X.rows);
  for (let i = 0, p = column; i < X.rows; i++, p += X.cols) out[i] = X.data[p];
  return out;
}

export function positiveShare(y: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i];
  return y.length === 0 ? 0 : s / y.length;
}
