/**
 * Analysis-of-variance tests from group summaries. The summaries (counts, means, within-group sums of squares,
 * rank sums) come from DuckDB aggregates, so these functions are O(groups) whatever the number of rows.
 *
 * - One-way ANOVA: Fisher (1925); effect sizes eta-squared and omega-squared (Hays 1963).
 * - Kruskal-Wallis H with the tie correction: Kruskal and Wallis (1952), eq. 1.1 and 1.3; effect size
 *   epsilon-squared = H / ((N^2 - 1) / (N + 1)) (Tomczak and Tomczak 2014, eq. 5).
 * - Two-way ANOVA with interaction, Type II sums of squares (each main effect adjusted for the other, the
 *   interaction for both: Langsrud 2003), fitted by weighted least squares on the cell means. Within-cell
 *   variation is orthogonal to every factorial model, so RSS(model) = SS_within + sum_cells n (mean - fit)^2,
 *   which equals the fit on the raw rows exactly.
 */
import { chiSquareUpperTail, fUpperTail } from '../../lib/numeric/distributions';

/** Size, mean and within-group sum of squared deviations of one group. */
export interface GroupSummary {
  n: number;
  mean: number;
  /** sum over the group of (x - mean)^2. */
  ssWithin: number;
}

/** One-way ANOVA table with effect sizes. */
export interface OneWayAnovaResult {
  groups: number;
  n: number;
  dfBetween: number;
  dfWithin: number;
  ssBetween: number;
  ssWithin: number;
  ssTotal: number;
  f: number | null;
  pValue: number | null;
  /** SS_between / SS_total. */
  etaSquared: number;
  /** (SS_between - df_between MS_within) / (SS_total + MS_within), floored at 0. */
  omegaSquared: number;
}

function checkGroups(groups: readonly GroupSummary[], caller: string): void {
  groups.forEach((g, i) => {
    if (!Number.isInteger(g.n) || g.n < 1)
      throw new Error(`${caller}: group ${i} n must be an integer >= 1 (got ${g.n})`);
    if (!Number.isFinite(g.mean))
      throw new Error(`${caller}: group ${i} mean must be finite (got ${g.mean})`);
    if (!(g.ssWithin >= 0))
      throw new Error(`${caller}: group ${i} ssWithin must be >= 0 (got ${g.ssWithin})`);
  });
}

/** One-way ANOVA F test (Fisher 1925) from group summaries; needs at least 2 groups. */
export function oneWayAnova(groups: readonly GroupSummary[]): OneWayAnovaResult {
  const caller = 'oneWayAnova';
  checkGroups(groups, caller);
  if (groups.length < 2) throw new Error(`${caller}: needs at least 2 groups (got ${groups.length})`);
  let n = 0;
  let sum = 0;
  let ssWithin = 0;
  for (const g of groups) {
    n += g.n;
    sum += g.n * g.mean;
    ssWithin += g.ssWithin;
  }
  const grand = sum / n;
  let ssBetween = 0;
  for (const g of groups) ssBetween += g.n * (g.mean - grand) ** 2;
  const k = groups.length;
  const dfBetween = k - 1;
  const dfWithin = n - k;
  const ssTotal = ssBetween + ssWithin;
  const msWithin = dfWithin > 0 ? ssWithin / dfWithin : NaN;
  const f = dfWithin > 0 && msWithin > 0 ? ssBetween / dfBetween / msWithin : null;
  return {
    groups: k,
    n,
    dfBetween,
    dfWithin,
    ssBetween,
    ssWithin,
    ssTotal,
    f,
    pValue: f === null ? null : fUpperTail(f, dfBetween, dfWithin),
    etaSquared: ssTotal > 0 ? ssBetween / ssTotal : 0,
    omegaSquared:
      ssTotal > 0 && dfWithin > 0
        ? Math.max(0, (ssBetween - dfBetween * msWithin) / (ssTotal + msWithin))
        : 0,
  };
}

/** Size and sum of mid-ranks (ranks over all groups pooled, ties averaged) of one group. */
export interface RankGroup {
  n: number;
  rankSum: number;
}

/** Kruskal-Wallis test result. */
export interface KruskalWallisResult {
  groups: number;
  n: number;
  /** Tie-corrected H statistic. */
  h: number;
  df: number;
  pValue: number;
  /** 1 - sum(t^3 - t) / (N^3 - N): the divisor applied to the uncorrected H. */
  tieCorrection: number;
  /** H / ((N^2 - 1) / (N + 1)) = H / (N - 1). */
  epsilonSquared: number;
}

/**
 * Kruskal-Wallis H (Kruskal and Wallis 1952, eq. 1.1, tie correction eq. 1.3) from rank sums;
 * `tieSum` = sum over tied value groups of (t^3 - t). p from the chi-square approximation with k - 1 df.
 */
export function kruskalWallis(groups: readonly RankGroup[], tieSum: number): KruskalWallisResult {
  const caller = 'kruskalWallis';
  if (groups.length < 2) throw new Error(`${caller}: needs at least 2 groups (got ${groups.length})`);
  groups.forEach((g, i) => {
    if (!Number.isInteger(g.n) || g.n < 1)
      throw new Error(`${caller}: group ${i} n must be an integer >= 1 (got ${g.n})`);
  });
  if (!(tieSum >= 0)) throw new Error(`${caller}: tieSum must be >= 0 (got ${tieSum})`);
  let n = 0;
  let term = 0;
  for (const g of groups) {
    n += g.n;
    term += (g.rankSum * g.rankSum) / g.n;
  }
  // Kruskal and Wallis (1952) eq. 1.1
  const hRaw = (12 / (n * (n + 1))) * term - 3 * (n + 1);
  // eq. 1.3: divide by 1 - sum(t^3 - t) / (N^3 - N)
  const tieCorrection = 1 - tieSum / (n * n * n - n);
  const h = tieCorrection > 0 ? Math.max(0, hRaw / tieCorrection) : 0;
  const df = groups.length - 1;
  return {
    groups: groups.length,
    n,
    h,
    df,
    pValue: chiSquareUpperTail(h, df),
    tieCorrection,
    epsilonSquared: n > 1 ? h / (n - 1) : 0,
  };
}

/** One cell of a two-factor layout: level indices (0-based), size, mean and within-cell sum of squares. */
export interface CellSummary extends GroupSummary {
  a: number;
  b: number;
}

/** One row of an ANOVA table. */
export interface AnovaEffect {
  ss: number;
  df: number;
  f: number | null;
  pValue: number | null;
  /** SS_effect / (SS_effect + SS_residual). */
  partialEtaSquared: number;
}

/** Two-way ANOVA table (Type II sums of squares). */
export interface TwoWayAnovaResult {
  sumsOfSquares: 'type II';
  n: number;
  levelsA: number;
  levelsB: number;
  /** Non-empty cells. */
  cells: number;
  a: AnovaEffect;
  b: AnovaEffect;
  interaction: AnovaEffect;
  residual: { ss: number; df: number };
  ssTotal: number;
}

/**
 * Two-way ANOVA with interaction, Type II sums of squares (Langsrud 2003): SS(A | B), SS(B | A) and
 * SS(AB | A, B), from cell summaries. Empty cells are allowed (the interaction df shrinks accordingly).
 */
export function twoWayAnova(cells: readonly CellSummary[]): TwoWayAnovaResult {
  const caller = 'twoWayAnova';
  checkGroups(cells, caller);
  cells.forEach((c, i) => {
    if (!Number.isInteger(c.a) || c.a < 0 || !Number.isInteger(c.b) || c.b < 0) {
      throw new Error(`${caller}: cell ${i} level indices a, b must be integers >= 0 (got ${c.a}, ${c.b})`);
    }
  });
  const levelsA = new Set(cells.map((c) => c.a)).size;
  const levelsB = new Set(cells.map((c) => c.b)).size;
  if (levelsA < 2 || levelsB < 2) {
    throw new Error(`${caller}: needs at least 2 levels of each factor (got ${levelsA} and ${levelsB})`);
  }
  const keys = new Set(cells.map((c) => `${c.a}:${c.b}`));
  if (keys.size !== cells.length) throw new Error(`${caller}: each (a, b) cell must appear once`);
  // Relabel levels densely so that dummy columns are never empty by construction.
  const aIndex = denseIndex(cells.map((c) => c.a));
  const bIndex = denseIndex(cells.map((c) => c.b));
  const weights = new Float64Array(cells.length);
  const means = new Float64Array(cells.length);
  let n = 0;
  let ssWithin = 0;
  let sum = 0;
  cells.forEach((c, i) => {
    weights[i] = c.n;
    means[i] = c.mean;
    n += c.n;
    sum += c.n * c.mean;
    ssWithin += c.ssWithin;
  });
  const grand = sum / n;
  let ssCells = 0;
  for (let i = 0; i < cells.length; i++) ssCells += weights[i] * (means[i] - grand) ** 2;
  const ssTotal = ssWithin + ssCells;
  // Every model has an intercept, so centring leaves the RSS unchanged and avoids cancellation.
  const centred = Float64Array.from(means, (v) => v - grand);

  const columnsFor = (terms: { a: boolean; b: boolean; ab: boolean }): Float64Array[] => {
    const cols: Float64Array[] = [new Float64Array(cells.length).fill(1)];
    if (terms.a)
      for (let l = 1; l < levelsA; l++) cols.push(Float64Array.from(aIndex, (v) => (v === l ? 1 : 0)));
    if (terms.b)
      for (let l = 1; l < levelsB; l++) cols.push(Float64Array.from(bIndex, (v) => (v === l ? 1 : 0)));
    if (terms.ab) {
      for (let la = 1; la < levelsA; la++) {
        for (let lb = 1; lb < levelsB; lb++) {
          cols.push(Float64Array.from(aIndex, (v, i) => (v === la && bIndex[i] === lb ? 1 : 0)));
        }
      }
    }
    return cols;
  };
  const fit = (terms: { a: boolean; b: boolean; ab: boolean }): { rss: number; rank: number } => {
    const { rss, rank } = weightedResidualSumOfSquares(columnsFor(terms), centred, weights);
    return { rss: rss + ssWithin, rank };
  };
  const onlyA = fit({ a: true, b: false, ab: false });
  const onlyB = fit({ a: false, b: true, ab: false });
  const additive = fit({ a: true, b: true, ab: false });
  const full = fit({ a: true, b: true, ab: true });

  const dfResidual = n - full.rank;
  const ssResidual = full.rss;
  const msResidual = dfResidual > 0 ? ssResidual / dfResidual : NaN;
  const effect = (ss: number, df: number): AnovaEffect => {
    const clean = Math.max(0, ss);
    const f = df > 0 && dfResidual > 0 && msResidual > 0 ? clean / df / msResidual : null;
    return {
      ss: clean,
      df,
      f,
      pValue: f === null ? null : fUpperTail(f, df, dfResidual),
      partialEtaSquared: clean + ssResidual > 0 ? clean / (clean + ssResidual) : 0,
    };
  };
  return {
    sumsOfSquares: 'type II',
    n,
    levelsA,
    levelsB,
    cells: cells.length,
    a: effect(onlyB.rss - additive.rss, additive.rank - onlyB.rank),
    b: effect(onlyA.rss - additive.rss, additive.rank - onlyA.rank),
    interaction: effect(additive.rss - full.rss, full.rank - additive.rank),
    residual: { ss: ssResidual, df: dfResidual },
    ssTotal,
  };
}

function denseIndex(values: readonly number[]): Int32Array {
  const sorted = [...new Set(values)].sort((x, y) => x - y);
  const map = new Map(sorted.map((v, i) => [v, i]));
  return Int32Array.from(values, (v) => map.get(v) as number);
}

/**
 * Residual sum of squares of the weighted least-squares fit of y on the given columns, and the rank of the
 * design. Modified Gram-Schmidt with one re-orthogonalisation pass on rows scaled by sqrt(weight); a column
 * whose remaining norm is below 1e-10 of its original norm is linearly dependent and dropped.
 */
export function weightedResidualSumOfSquares(
  columns: readonly Float64Array[],
  y: Float64Array,
  weights: Float64Array,
): { rss: number; rank: number } {
  const m = y.length;
  const sqrtW = Float64Array.from(weights, Math.sqrt);
  const basis: Float64Array[] = [];
  for (const column of columns) {
    const v = Float64Array.from(column, (x, i) => x * sqrtW[i]);
    const original = euclideanNorm(v);
    if (original === 0) continue;
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += q[i] * v[i];
        for (let i = 0; i < m; i++) v[i] -= dot * q[i];
      }
    }
    const norm = euclideanNorm(v);
    if (norm <= 1e-10 * original) continue;
    for (let i = 0; i < m; i++) v[i] /= norm;
    basis.push(v);
  }
  const r = Float64Array.from(y, (x, i) => x * sqrtW[i]);
  for (let pass = 0; pass < 2; pass++) {
    for (const q of basis) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[i] * r[i];
      for (let i = 0; i < m; i++) r[i] -= dot * q[i];
    }
  }
  let rss = 0;
  for (let i = 0; i < m; i++) rss += r[i] * r[i];
  return { rss, rank: basis.length };
}

function euclideanNorm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}
