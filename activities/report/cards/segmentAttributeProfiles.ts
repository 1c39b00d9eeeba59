/**
 * Strategic card beside the personas: each segment's profile of what the dataset declares beyond the
 * canonical columns (segment's segment_attribute_profiles.json, issue 14): the segment means of the
 * extension-column and customer-attribute features (shares for share and one-hot columns), one row per
 * feature, one column per segment and the population, so a marketer reads "segment 2 buys 61% in the app,
 * against 34% overall" at a glance. Absent when the dataset declares nothing.
 */
import { readFile } from 'node:fs/promises';
import { escapeHtml as esc, fmtInt, fmtNum } from '../format';
import { type Ctx, card, code, table } from '../html/blocks';

/** The document segment writes (activities/segment/attributeProfiles.ts). */
export interface ReportSegmentAttributeProfiles {
  columns: string[];
  segments: { segment: number; customers: number; means: Record<string, number> }[];
  population: { customers: number; means: Record<string, number> };
}

export async function segmentAttributeProfilesSection(
  path: string | undefined,
): Promise<ReportSegmentAttributeProfiles | undefined> {
  return path ? (JSON.parse(await readFile(path, 'utf8')) as ReportSegmentAttributeProfiles) : undefined;
}

const isShare = (column: string): boolean => /_share_/.test(column);

/** Shares and indicators as percentages, measures as numbers. */
function cell(column: string, value: number | undefined, indicators: ReadonlySet<string>): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return isShare(column) || indicators.has(column) ? `${fmtNum(100 * value, 1)}%` : fmtNum(value, 2);
}

export function segmentAttributeProfilesCard(ctx: Ctx, profiles: ReportSegmentAttributeProfiles): string {
  const personaOf = new Map((ctx.data.segments?.personas ?? []).map((p, i) => [i, p.name]));
  // one-hot and missing indicators: every segment mean lies in [0, 1] and the dictionary says "indicator"
  const indicators = new Set(
    (ctx.data.features?.dictionary ?? []).filter((d) => d.unit === 'indicator').map((d) => d.name),
  );
  const rows = profiles.columns.map((column) => [
    code(column),
    ...profiles.segments.map((s) => cell(column, s.means[column], indicators)),
    cell(column, profiles.population.means[column], indicators),
  ]);
  return card(
    'Segment profiles: attributes and extension columns',
    `Mean of each declared column's features per segment (${fmtInt(profiles.population.customers)} customers); shares and indicators in percent.`,
    table(
      [
        { label: 'Feature' },
        ...profiles.segments.map((s) => ({
          label: `${s.segment}${personaOf.has(s.segment) ? ` · ${personaOf.get(s.segment)}` : ''} (${fmtInt(s.customers)})`,
          numeric: true,
        })),
        { label: 'All', numeric: true },
      ],
      rows,
    ) +
      `<p class="note">${esc('ext_* come from extension columns of transactions and events, attr_* from the customers table; see the feature dictionary.')}</p>`,
    'segment-attribute-profiles',
  );
}
