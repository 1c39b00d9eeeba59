/**
 * Exact floating-point sums that merge (Shewchuk 1997, "Adaptive precision floating-point arithmetic";
 * the algorithm of Python's math.fsum). An accumulator keeps the running sum exactly as a short list of
 * non-overlapping doubles (its partials); partials of several accumulators (one per shard) add into one
 * without error, and `value()` rounds the exact total correctly. The result is therefore the same double
 * whatever the order of the additions or how the values were split into parts: a sharded stage's sums
 * have the same bits for any shard count, which a plain `+=` loop does not give.
 */
export class ExactSum {
  private readonly parts: number[] = [];

  /** Adds one finite value exactly. */
  add(value: number): void {
    if (!Number.isFinite(value)) throw new Error(`ExactSum: values must be finite (got ${value})`);
    const parts = this.parts;
    let x = value;
    let kept = 0;
    for (let j = 0; j < parts.length; j++) {
      let y = parts[j];
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) parts[kept++] = lo;
      x = hi;
    }
    parts.length = kept;
    parts.push(x);
  }

  /** Adds the exact value of another accumulator's partials (a shard's summary). */
  addPartials(partials: readonly number[]): void {
    for (const p of partials) this.add(p);
  }

  /** The exact running sum as non-overlapping doubles, smallest magnitude first (JSON-safe). */
  partials(): number[] {
    return [...this.parts];
  }

  /** The exact sum rounded to the nearest double (ties to even), as math.fsum rounds it. */
  value(): number {
    const parts = this.parts;
    let n = parts.length;
    if (n === 0) return 0;
    let hi = parts[--n];
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = parts[--n];
      hi = x + y;
      const yr = hi - x;
      lo = y - yr;
      if (lo !== 0) break;
    }
    // Round half-even correctly when the remainder below `lo` has the same sign (fsum's last step).
    if (n > 0 && ((lo < 0 && parts[n - 1] < 0) || (lo > 0 && parts[n - 1] > 0))) {
      const y = lo * 2;
      const x = hi + y;
      const yr = x - hi;
      if (y === yr) hi = x;
    }
    return hi;
  }
}

/** The correctly rounded sum of several accumulators' partials (e.g. one per shard). */
export function mergeExactSums(partialLists: readonly (readonly number[])[]): number {
  const total = new ExactSum();
  for (const partials of partialLists) total.addPartials(partials);
  return total.value();
}
