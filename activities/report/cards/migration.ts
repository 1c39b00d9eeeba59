/** Strategic card: persona migration since the previous run. */
import { fmtInt, fmtPct, MISSING } from '../format';
import type { ReportSegments } from '../model';
import { FULL_WIDTH, heatmap } from '../svg';
import { card, stats, sum, notAvailableCard } from '../html/blocks';

export function migrationCard(segments: ReportSegments): string {
  const m = segments.migration;
  if (!m) return notAvailableCard('Persona migration', 'no previous run to compare with');
  let stayed = 0;
  let inBoth = 0;
  let total = 0;
  const rowShares = m.counts.map((row) => {
    const rowTotal = sum(row);
    return row.map((n) => (rowTotal > 0 ? n / rowTotal : 0));
  });
  // The last row holds customers new this month and the last column those gone since; neither had the
  // chance to keep a persona.
  m.counts.forEach((row, r) =>
    row.forEach((n, c) => {
      total += n;
      if (r === m.counts.length - 1 || c === row.length - 1) return;
      inBoth += n;
      if (m.labelsFrom[r] === m.labelsTo[c]) stayed += n;
    }),
  );
  const chart = heatmap({
    label: 'Persona migration matrix',
    rowLabels: m.labelsFrom,
    colLabels: m.labelsTo,
    values: m.counts,
    shade: rowShares,
    format: fmtInt,
    rowTitle: 'Before',
    colTitle: 'Now',
    width: FULL_WIDTH,
    legendLabels: ['0% of row', '100% of row'],
    outline: (r, c) => m.labelsFrom[r] === m.labelsTo[c],
  });
  return card(
    'Persona migration',
    `Customers by persona ${m.previousMonth ? `in ${m.previousMonth}` : 'in the previous run'} (rows) and now (columns); segments sharing a persona (spend tiers) are one row and column. Shading is the share of the row; outlined cells kept their persona.`,
    stats([
      ['Customers compared', fmtInt(total)],
      ['In both months', fmtInt(inBoth)],
      ['Kept their persona', inBoth > 0 ? fmtPct(stayed / inBoth) : MISSING],
    ]) + chart,
  );
}
