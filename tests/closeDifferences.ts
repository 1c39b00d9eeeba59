/**
 * Where two documents differ, for tests that hold one computation to another (sharded against unsharded,
 * S = 1 against S = 8): numbers equal to 1e-9 (relative; absolute below 1), NaN equal to NaN (both
 * "undefined", e.g. a lift over a zero control), everything else equal, at every path. An empty list means
 * the same answer; otherwise each entry names the path and both values.
 */
export function closeDifferences(a: unknown, b: unknown, path = ''): string[] {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b ||
      Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)) ||
      (Number.isNaN(a) && Number.isNaN(b))
      ? []
      : [`${path}: ${a} vs ${b}`];
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path}: ${a.length} vs ${b.length} items`];
    return a.flatMap((x, i) => closeDifferences(x, b[i], `${path}[${i}]`));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) =>
      closeDifferences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return a === b ? [] : [`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}
