/**
 * Quantiles in linear time by selection (Hoare 1961, FIND), for per-segment medians and population
 * quartiles over a million customers without sorting each column.
 */

/**
 * The q-quantile of `values` with linear interpolation between order statistics (numpy's default, Hyndman
 * and Fan 1996 type 7). Reorders `values` in place; NaN for an empty array.
 */
export function quantileInPlace(values: Float64Array, q: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1] (got ${q})`);
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const low = selectInPlace(values, lo);
  if (h === lo) return low;
  // After selection everything right of lo is >= values[lo]; the next order statistic is their minimum.
  let next = Infinity;
  for (let i = lo + 1; i < n; i++) if (values[i] < next) next = values[i];
  return low + (h - lo) * (next - low);
}

/** Rearranges `a` so that a[k] is the k-th smallest (0-based), smaller before, larger after; returns a[k]. */
export function selectInPlace(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    // Median of three as pivot keeps sorted and reversed inputs linear.
    const mid = (left + right) >>> 1;
    if (a[mid] < a[left]) swap(a, mid, left);
    if (a[right] < a[left]) swap(a, right, left);
    if (a[right] < a[mid]) swap(a, right, mid);
    const pivot = a[mid];
    let i = left;
    let j = right;
    // Hoare partition: both scans stop on elements equal to the pivot, so runs of ties split evenly.
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k];
  }
  return a[k];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Row indices ordered by value, ties in row order (a stable argsort), by LSD radix sort on the IEEE-754
 * bits made order-preserving (sign bit flipped for non-negatives, all bits flipped for negatives): four
 * counting passes of 16 bits, linear time, no comparator calls. -0 sorts with 0. Values must be finite.
 */
export function stableArgsort(values: ArrayLike<number>): Int32Array {
  const n = values.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  const hiWord = LITTLE_ENDIAN ? 1 : 0;
  const loWord = 1 - hiWord;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    f64[0] = v === 0 ? 0 : v;
    let h = u32[hiWord];
    let l = u32[loWord];
    if (h >= 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else {
      h = (h | 0x80000000) >>> 0;
    }
    hi[i] = h;
    lo[i] = l;
  }
  let order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let scratch = new Int32Array(n);
  const counts = new Int32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const words = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(words[i] >>> shift) & 0xffff]++;
    // A pass where every key has the same digit would not move anything.
    if (n > 0 && counts[(words[0] >>> shift) & 0xffff] === n) continue;
    let total = 0;
    for (let b = 0; b < 65536; b++) {
      const c = counts[b];
      counts[b] = total;
      total += c;
    }
    for (let p = 0; p < n; p++) {
      const i = order[p];
      scratch[counts[(words[i] >>> shift) & 0xffff]++] = i;
    }
    const t = order;
    order = scratch;
    scratch = t;
  }
  return order;
}
