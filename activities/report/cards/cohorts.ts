/** Strategic card: cohort retention, and the cohorts' cumulative revenue per acquired customer. */
import { fmtInt, fmtPct, isNum } from '../format';
import type { ReportCohorts } from '../model';
import { FULL_WIDTH, heatmap, lineChart, PALETTE } from '../svg';
import { type Ctx, card, notAvailableCard } from '../html/blocks';

/** Cohorts drawn as revenue curves (evenly spaced over the acquisition months, so the lines stay readable). */
const REVENUE_CURVES = 6;

/** Cumulative revenue per customer acquired, by months since acquisition, for a spread of cohorts. */
function revenueCurves(ctx: Ctx, cohorts: ReportCohorts, ages: number): string {
  const n = cohorts.cohortMonths.length;
  const picks = [
    ...new Set(
      Array.from({ length: Math.min(REVENUE_CURVES, n) }, (_, i) =>
        Math.round((i * (n - 1)) / Math.max(1, Math.min(REVENUE_CURVES, n) - 1)),
      ),
    ),
  ];
  const series = picks.map((row, i) => {
    const size = cohorts.sizes?.[row] ?? 0;
    let total = 0;
    const values = Array.from({ length: ages }, (_, a) => {
      const v = cohorts.revenue[row]?.[a];
      if (!isNum(v) || size <= 0) return null;
      total += v;
      return total / size;
    });
    return { name: cohorts.cohortMonths[row], values, color: PALETTE[i % PALETTE.length] };
  });
  if (series.every((s) => s.values.every((v) => v === null))) return '';
  return (
    '<h4>Cumulative revenue per acquired customer</h4>' +
    lineChart({
      label: 'Cumulative revenue per acquired customer by months since first purchase',
      x: Array.from({ length: ages }, (_, a) => `M${a}`),
      series,
      yFormat: ctx.moneyShort,
      width: FULL_WIDTH,
      height: 260,
    })
  );
}

export function cohortCard(ctx: Ctx, cohorts: ReportCohorts): string {
  if (cohorts.cohortMonths.length === 0) return notAvailableCard('Cohort retention', 'no cohorts');
  const ages = Math.max(1, cohorts.maxAge + 1);
  const values = cohorts.retention.map((row) => Array.from({ length: ages }, (_, a) => row[a] ?? null));
  // Month 0 is 100% by definition; shade against the best later month so the pattern after it shows.
  const laterMax = Math.max(1e-9, ...values.flatMap((row) => row.slice(1).filter(isNum)));
  const shade = values.map((row) =>
    row.map((v, a) => (isNum(v) ? (a === 0 ? 1 : Math.min(1, v / laterMax)) : null)),
  );
  const rowLabels = cohorts.cohortMonths.map((m, i) =>
    cohorts.sizes && isNum(cohorts.sizes[i]) ? `${m} (${fmtInt(cohorts.sizes[i])})` : m,
  );
  const chart = heatmap({
    label: 'Cohort retention by months since first purchase',
    rowLabels,
    colLabels: Array.from({ length: ages }, (_, a) => `M${a}`),
    values,
    shade,
    format: (v) => fmtPct(v, 0),
    rowTitle: 'Acquisition month (customers)',
    colTitle: 'Months since first purchase',
    width: FULL_WIDTH,
    legendLabels: ['0%', `${fmtPct(laterMax, 0)}+`],
  });
  return card(
    'Cohort retention',
    'Share of each acquisition cohort that buys again in each later month, and what each cohort has spent per customer acquired so far.',
    chart + revenueCurves(ctx, cohorts, ages),
    'cohorts',
  );
}
