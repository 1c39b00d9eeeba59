/** Page 2 of the report: its headline figures and the strategic cards, in order. */
import { fmtInt, fmtNum, fmtSignedPct } from '../format';
import { churnCard } from '../cards/churn';
import { clvCard } from '../cards/clv';
import { cohortCard } from '../cards/cohorts';
import { experimentsCard } from '../cards/experiments';
import { experimentControlsCard } from '../cards/experimentControls';
import { forecastCard } from '../cards/forecast';
import { forecastSeriesCard } from '../cards/forecastSeries';
import { insightsCard } from '../cards/insights';
import { attributeTestsCard } from '../cards/attributeTests';
import { segmentAttributeProfilesCard } from '../cards/segmentAttributeProfiles';
import { kpiTrendCard } from '../cards/kpiTrend';
import { migrationCard } from '../cards/migration';
import { personasCard } from '../cards/personas';
import { recommendCard } from '../cards/recommend';
import { topProductsCard } from '../cards/topProducts';
import { experimentSegmentsCard } from '../cards/experimentSegments';
import { valueModelsCard } from '../cards/valueModels';
import { executiveSummary } from './summary';
import { type Ctx, kpi, kpiMoney, sectionOr, sum } from './blocks';

export function strategicPage(ctx: Ctx): string {
  const { data } = ctx;
  const kpis = strategicKpis(ctx);
  const cards = [
    sectionOr(ctx, 'features', 'Monthly KPIs', data.features, (f) => kpiTrendCard(ctx, f)),
    sectionOr(ctx, 'segments', 'Personas', data.segments, (s) => personasCard(ctx, s)),
    data.segments ? migrationCard(data.segments) : '',
    data.segmentAttributeProfiles ? segmentAttributeProfilesCard(ctx, data.segmentAttributeProfiles) : '',
    sectionOr(ctx, 'clv', 'Customer lifetime value', data.clv, (c) => clvCard(ctx, c)),
    sectionOr(ctx, 'churn', 'Churn risk', data.churn, (c) => churnCard(ctx, c)),
    data.valueModels ? valueModelsCard(ctx, data.valueModels) : '',
    sectionOr(ctx, 'cohorts', 'Cohort retention', data.cohorts, (c) => cohortCard(ctx, c)),
    sectionOr(ctx, 'forecast', 'Revenue forecast', data.forecast, (f) => forecastCard(ctx, f)),
    data.forecastSeries ? forecastSeriesCard(ctx, data.forecastSeries) : '',
    sectionOr(ctx, 'experiments', 'Experiments and policies', data.experiments, (e) =>
      experimentsCard(ctx, e),
    ),
    data.experiments ? experimentControlsCard(ctx, data.experiments) : '',
    data.experimentDetail ? experimentSegmentsCard(ctx, data.experimentDetail) : '',
    sectionOr(ctx, 'recommend', 'Bundles and next best offer', data.recommend, recommendCard),
    topProductsCard(ctx),
    data.features?.insights ? insightsCard(ctx, data.features) : '',
    data.attributeTests ? attributeTestsCard(ctx, data.attributeTests) : '',
  ];
  return (
    '<section class="page" id="strategic"><div class="page-head"><h2>2 · Strategic</h2>' +
    '<span>Who the customers are, what they are worth, and what to do next.</span></div>' +
    (kpis ? `<div class="kpis">${kpis}</div>` : '') +
    executiveSummary(ctx) +
    cards.join('') +
    '</section>'
  );
}

function strategicKpis(ctx: Ctx): string {
  const { data } = ctx;
  const out: string[] = [];
  const months = data.features?.kpisMonthly ?? [];
  const revenue = data.headlines?.revenue;
  // Like with like (headlines.ts): a month whose data end early is compared over the same days of the
  // previous month, and the card says which spans; a whole-month comparison of 9 days read as a collapse.
  if (revenue) {
    const sub =
      revenue.change !== null
        ? `${revenue.label}: ${fmtSignedPct(revenue.change)}`
        : `${revenue.label}${revenue.note ? ` (${revenue.note})` : ''}`;
    out.push(kpi('Revenue', kpiMoney(ctx, revenue.current.revenue), sub));
  } else if (months.length > 0) {
    const last = months[months.length - 1];
    out.push(kpi('Revenue', kpiMoney(ctx, last.revenue), `${last.month} (no comparable span)`));
  }
  if (months.length > 0) {
    const last = months[months.length - 1];
    const span = revenue?.kind === 'monthToDate' ? revenue.currentLabel : last.month;
    out.push(
      kpi('Active customers', fmtInt(last.activeCustomers), `${span} · ${fmtInt(last.newCustomers)} new`),
    );
  }
  if (data.segments)
    out.push(kpi('Personas', String(data.segments.personas.length), `k = ${data.segments.k}`));
  if (data.clv) {
    const total = sum(data.clv.bySegment.map((s) => s.totalClv));
    const customers = sum(data.clv.bySegment.map((s) => s.customers));
    out.push(
      kpi(
        'Expected CLV',
        kpiMoney(ctx, total),
        customers > 0 ? `${ctx.money(total / customers)} per customer` : undefined,
      ),
    );
  }
  if (data.churn)
    out.push(
      kpi('Churn model AUC', fmtNum(data.churn.auc, 3), `baseline ${fmtNum(data.churn.baselineAuc, 3)}`),
    );
  // The forecast's first open period after the cutoff: never a closed Saturday forecast as 0 (headlines.ts).
  const next = data.headlines?.next;
  if (next) {
    out.push(
      kpi(
        next.label,
        kpiMoney(ctx, next.mean),
        `${next.dateText} · 80%: ${ctx.moneyShort(next.lower80)} – ${ctx.moneyShort(next.upper80)}`,
      ),
    );
  }
  return out.join('');
}
