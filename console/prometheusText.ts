/**
 * The Prometheus text exposition format (version 0.0.4), for the few families the console exports: a
 * family is a name, a type, a help line and labelled samples. Label values are escaped as the format asks
 * (backslash, double quote, newline), so a dataset name can never break a line or forge a label.
 */

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface Sample {
  /** Suffix of the family name (`_bucket`, `_sum`, `_count` for histograms), else ''. */
  suffix?: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

const formatValue = (value: number): string =>
  Number.isNaN(value) ? 'NaN' : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value);

export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels)
        .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
        .join(',');
      lines.push(
        `${family.name}${sample.suffix ?? ''}${labels ? `{${labels}}` : ''} ${formatValue(sample.value)}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** A cumulative histogram's samples (`_bucket` with `le`, `_sum`, `_count`) from raw observations. */
export function histogramSamples(
  labels: Readonly<Record<string, string>>,
  observations: readonly number[],
  bounds: readonly number[],
): Sample[] {
  const samples: Sample[] = bounds.map((le) => ({
    suffix: '_bucket',
    labels: { ...labels, le: String(le) },
    value: observations.filter((x) => x <= le).length,
  }));
  samples.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: observations.length });
  samples.push({ suffix: '_sum', labels, value: observations.reduce((a, b) => a + b, 0) });
  samples.push({ suffix: '_count', labels, value: observations.length });
  return samples;
}
