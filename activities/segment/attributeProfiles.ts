/**
 * Segment profiles of what a dataset declares beyond the canonical columns (issue 14, item 1): for each
 * segment, the mean of every extension-column and customer-attribute feature (features' `ext_*` and `attr_*`
 * columns), beside the population's. For a share or one-hot column the mean is the segment's share (of lines
 * at that level, or of customers with that attribute level); for a measure, the segment's mean. Written as
 * segment_attribute_profiles.json only when the features table has such columns.
 *
 * Means are exact DECIMAL sums over counts, so the document has the same bytes whatever the thread split.
 */
import { sqlIdent, sqlString, type Duck } from '../../lib/duck';
import { writeJson } from './outputs';

export interface SegmentAttributeProfiles {
  /** The profiled columns, in the features table's order. */
  columns: string[];
  segments: { segment: number; customers: number; means: Record<string, number> }[];
  population: { customers: number; means: Record<string, number> };
}

const PROFILED = /^(ext|attr)_/;

/**
 * From `featuresSource` (a table expression with customer_id and the features) and `segmentsPath` (segments.parquet:
 * customer_id, segment), write the document to `path`; undefined (nothing written) without profiled columns.
 */
export async function writeSegmentAttributeProfiles(
  duck: Duck,
  options: { featuresSource: string; segmentsPath: string; path: string },
): Promise<SegmentAttributeProfiles | undefined> {
  const columns = (
    await duck.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${options.featuresSource}`)
  )
    .map((c) => c.column_name)
    .filter((c) => PROFILED.test(c));
  if (columns.length === 0) return undefined;
  const means = columns
    .map((c) => `(sum(f.${sqlIdent(c)}::DECIMAL(38, 10)) / count(*))::DOUBLE AS ${sqlIdent(c)}`)
    .join(', ');
  const from = `${options.featuresSource} f JOIN read_parquet(${sqlString(options.segmentsPath)}) s USING (customer_id)`;
  const bySegment = await duck.all<Record<string, number>>(
    `SELECT s.segment::INTEGER AS segment, count(*)::INTEGER AS customers, ${means} FROM ${from}
     GROUP BY s.segment ORDER BY s.segment`,
  );
  const overall = await duck.one<Record<string, number>>(
    `SELECT count(*)::INTEGER AS customers, ${means} FROM ${from}`,
  );
  const pick = (row: Record<string, number>): Record<string, number> =>
    Object.fromEntries(columns.map((c) => [c, row[c]]));
  const document: SegmentAttributeProfiles = {
    columns,
    segments: bySegment.map((r) => ({ segment: r.segment, customers: r.customers, means: pick(r) })),
    population: { customers: overall.customers, means: pick(overall) },
  };
  await writeJson(options.path, document);
  return document;
}
