/**
 * Descriptive statistics over numeric arrays: mean, sample variance, type-7 quantiles and Pearson's r.
 * One implementation each, shared by every stage, so the same data give the same bits everywhere.
 */

/** Arithmetic mean (left-to-right sum, then one division); NaN when empty. */
export function mean(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  return sum / n;
}

/**
 * Sample variance with the n - 1 divisor (two-pass about the mean, which is numerically stable); 0 for a
 * single value, NaN when empty. Pass `center` when the mean is already known.
 */
export function sampleVariance(values: ArrayLike<number>, center = mean(values)): number {
  const n = values.length;
  if (n === 0) return NaN;
  if (n === 1) return 0;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - center) ** 2;
  return ss / (n - 1);
}

/**
 * Quantile q of ascending-sorted values by linear interpolation between order statistics: R's default type 7
 * and numpy's default (Hyndman and Fan 1996, "Sample quantiles in statistical packages", definition 7).
 * NaN when empty; throws for q outside [0, 1].
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(q >= 0 && q <= 1)) throw new Error(`quantileSorted: q must lie in [0, 1] (got ${q})`);
  const position = (n - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(n - 1, below + 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

/** Pearson correlation of two equally long samples (two-pass); NaN with fewer than 2 points or no spread. */
export function pearsonCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`pearsonCorrelation: lengths differ (${n} vs ${b.length})`);
  if (n < 2) return NaN;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a[i];
    meanB += b[i];
  }
  meanA /= n;
  meanB /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - meanA;
    const db = b[i] - meanB;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/**
 * Pearson correlation of rows that each stand for `weights[i]` observations (frequency weights): equal to
 * pearsonCorrelation on the data with row i repeated weights[i] times, without repeating it. Grouped data
 * (distinct values with counts, as merged shard statistics hold them) is summed in the order given.
 * NaN with total weight below 2 or no spread.
 */
export function weightedPearsonCorrelation(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  weights: ArrayLike<number>,
): number {
  const n = a.length;
  if (b.length !== n || weights.length !== n)
    throw new Error(`weightedPearsonCorrelation: lengths differ (${n}, ${b.length}, ${weights.length})`);
  let total = 0;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    if (!(w >= 0) || !Number.isFinite(w))
      throw new Error(`weightedPearsonCorrelation: weights must be finite and >= 0 (row ${i}, got ${w})`);
    total += w;
    meanA += w * a[i];
    meanB += w * b[i];
  }
  if (!(total >= 2)) return NaN;
  meanA /= total;
  meanB /= total;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    const da = a[i] - meanA;
    const db = b[i] - meanB;
    sab += w * da * db;
    saa += w * da * da;
    sbb += w * db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}
