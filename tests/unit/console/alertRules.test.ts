/**
 * The Prometheus alert rules shipped in infra/prometheus/custflow-rules.yaml name only metrics that the
 * console or the workers export (a renamed metric would leave an alert that can never fire), and each
 * rule has the fields Prometheus requires.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { consoleMetricFamilies } from '../../../console/metrics';
import { WORKER_METRIC_NAMES } from '../../../workers/metrics';

interface RuleFile {
  groups: {
    name: string;
    rules: { alert?: string; expr?: string; labels?: object; annotations?: object }[];
  }[];
}

const rules = parse(
  readFileSync(new URL('../../../infra/prometheus/custflow-rules.yaml', import.meta.url), 'utf8'),
) as RuleFile;

const exported = new Set<string>(WORKER_METRIC_NAMES);
for (const family of consoleMetricFamilies({
  overviews: [],
  runs: [],
  taskQueues: [],
  temporalReachable: false,
  now: 0,
})) {
  exported.add(family.name);
  if (family.type === 'histogram')
    for (const suffix of ['_bucket', '_sum', '_count']) exported.add(family.name + suffix);
}

describe('alert rules', () => {
  const all = rules.groups.flatMap((g) => g.rules);

  it('include run failed, run late and no worker polling', () => {
    expect(all.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['CustflowRunFailed', 'CustflowRunLate', 'CustflowNoWorkerPolling']),
    );
  });

  it.each(all.map((r) => [r.alert ?? '?', r] as const))('%s names exported metrics only', (_, rule) => {
    expect(rule.expr).toBeTruthy();
    expect(rule.annotations).toHaveProperty('summary');
    const names = rule.expr?.match(/custflow_[a-z_]+/g) ?? [];
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(exported, `${name} in ${rule.alert}`).toContain(name);
  });
});
