/**
 * Reading a Prometheus text exposition in tests: the value of the one sample of `name` whose labels
 * include `labels` (others may be present, in any order). Undefined when none matches; throws when
 * several do, so a test names its sample exactly.
 */
export function sampleValue(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const matches: number[] = [];
  for (const line of text.split('\n')) {
    const parsed = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!parsed || parsed[1] !== name) continue;
    const present = new Map<string, string>();
    for (const pair of (parsed[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      present.set(pair[1], pair[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
    if (Object.entries(labels).every(([key, value]) => present.get(key) === value))
      matches.push(Number(parsed[3] === '+Inf' ? Infinity : parsed[3]));
  }
  if (matches.length > 1)
    throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0];
}
