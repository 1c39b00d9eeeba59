/** Strategic card: cohort retention. */
import { fmtInt, fmtPct, isNum } from '../format';
import type { ReportCohorts } from '../model';
import { FULL_WIDTH, heatmap } from '../svg';
import { card, notAvailable } from '../html/blocks';

export function cohortCard(cohorts: ReportCohorts): string {
  if (cohorts.cohortMonths.length === 0) return card('Cohort retention', null, notAvailable('no cohorts'));
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
    'Share of each acquisition cohort that buys again in each later month.',
    chart,
    'cohorts',
  );
}
