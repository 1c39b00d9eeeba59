/**
 * Mergeable moments of per-customer experiment columns, for the sharded stage (sharded.ts): each shard
 * sums its customers' values and the products of every pair of columns exactly (lib/numeric/exactSum.ts)
 * and writes the partials; reduce adds the partials of every shard and rounds once. The merged sums are
 * therefore the same doubles for any shard count S, and so is every statistic derived from them.
 *
 * From the sums S_a = sum v_a and S_ab = sum v_a v_b of n customers: mean_a = S_a / n and the unbiased
 * co-moment C_ab = (S_ab - S_a mean_b) / (n - 1). Against the two-pass moments of groupMoments.ts (the
 * unsharded stage) the difference is a rounding error of relative size about 1e-16 (1 + mean^2 / variance),
 * far below the 1e-9 the tests allow.
 */
import { ExactSum } from '../../lib/numeric/exactSum';
import type { RatioMoments } from './customMetrics';
import type { SampleSummary } from './twoSampleTests';

/** Moments of a group as JSON: count, and the exact partials of each sum and each pair's product sum. */
export interface CoMomentsJson {
  n: number;
  /** sums[a]: partials of sum v_a. */
  sums: number[][];
  /** products[pairIndex(a, b)] for a <= b: partials of sum v_a v_b. */
  products: number[][];
}

/** Index of the pair (a, b), a <= b, in the packed upper triangle of `columns` columns. */
function pairIndex(a: number, b: number, columns: number): number {
  const [i, j] = a <= b ? [a, b] : [b, a];
  return i * columns - (i * (i - 1)) / 2 + (j - i);
}

/** Exact running sums of m columns and of their pairwise products over a group of customers. */
export class CoMoments {
  n = 0;
  private readonly sums: ExactSum[];
  private readonly products: ExactSum[];

  constructor(readonly columns: number) {
    this.sums = Array.from({ length: columns }, () => new ExactSum());
    this.products = Array.from({ length: (columns * (columns + 1)) / 2 }, () => new ExactSum());
  }

  /** Adds one customer's values (one per column, finite). */
  add(values: ArrayLike<number>): void {
    this.n++;
    const m = this.columns;
    for (let a = 0; a < m; a++) {
      this.sums[a].add(values[a]);
      for (let b = a; b < m; b++) this.products[pairIndex(a, b, m)].add(values[a] * values[b]);
    }
  }

  /** Adds another group's moments (a shard's), exactly. */
  addJson(json: CoMomentsJson): void {
    if (json.sums.length !== this.columns) {
      throw new Error(`CoMoments: a part has ${json.sums.length} columns, expected ${this.columns}`);
    }
    this.n += json.n;
    json.sums.forEach((partials, a) => this.sums[a].addPartials(partials));
    json.products.forEach((partials, k) => this.products[k].addPartials(partials));
  }

  toJson(): CoMomentsJson {
    return {
      n: this.n,
      sums: this.sums.map((s) => s.partials()),
      products: this.products.map((s) => s.partials()),
    };
  }

  /** The exact sum of column a, rounded once. */
  sum(a: number): number {
    return this.sums[a].value();
  }

  /** Mean of column a (NaN for an empty group). */
  mean(a: number): number {
    return this.n > 0 ? this.sums[a].value() / this.n : NaN;
  }

  /** Unbiased co-moment of columns a and b (the variance when a = b); NaN below 2 customers. */
  covariance(a: number, b: number): number {
    if (this.n < 2) return NaN;
    const centred =
      this.products[pairIndex(a, b, this.columns)].value() - this.sums[a].value() * this.mean(b);
    return centred / (this.n - 1);
  }

  /** n, mean and unbiased variance of column a, as the two-sample tests take them. */
  summary(a: number): SampleSummary {
    return { n: this.n, mean: this.mean(a), variance: this.covariance(a, a) };
  }

  /** Moments of numerator y and denominator x (column indexes), as the delta method takes them. */
  ratioMoments(y: number, x: number): RatioMoments {
    return {
      n: this.n,
      meanX: this.mean(x),
      meanY: this.mean(y),
      varianceX: this.covariance(x, x),
      varianceY: this.covariance(y, y),
      covarianceXY: this.covariance(x, y),
    };
  }
}

/**
 * CUPED of a treatment against the control from the two arms' moments of the outcome y and covariate x
 * (cuped.ts's estimator): theta = pooled within-arm cov(x, y) / var(x), and the adjusted outcome
 * y - theta (x - mean x) has in each arm mean mean_y - theta (mean_x,arm - mean_x) and variance
 * var_y - 2 theta cov(x, y) + theta^2 var_x.
 */
export function cupedFromMoments(
  control: CoMoments,
  treatment: CoMoments,
  y: number,
  x: number,
): { theta: number; control: SampleSummary; treatment: SampleSummary } {
  let covariance = 0;
  let varianceX = 0;
  let total = 0;
  let sumX = 0;
  for (const arm of [control, treatment]) {
    if (arm.n === 0) continue;
    total += arm.n;
    sumX += arm.mean(x) * arm.n;
    if (arm.n < 2) continue;
    covariance += arm.covariance(x, y) * (arm.n - 1);
    varianceX += arm.covariance(x, x) * (arm.n - 1);
  }
  const theta = varianceX > 0 ? covariance / varianceX : 0;
  const meanX = total > 0 ? sumX / total : NaN;
  const adjusted = (arm: CoMoments): SampleSummary => ({
    n: arm.n,
    mean: arm.mean(y) - theta * (arm.mean(x) - meanX),
    variance: arm.covariance(y, y) - 2 * theta * arm.covariance(x, y) + theta * theta * arm.covariance(x, x),
  });
  return { theta, control: adjusted(control), treatment: adjusted(treatment) };
}
