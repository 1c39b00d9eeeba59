/** Strategic card: experiments and targeting policies. */
import { escapeHtml as esc, fmtInt, fmtNum, fmtP, fmtPct, fmtSignedPct, isNum, MISSING } from '../format';
import type { ReportExperiment, ReportExperiments } from '../model';
import { forestPlot, FULL_WIDTH, PALETTE } from '../svg';
import { type Cell, type Column, type Ctx, table, badge, card, notAvailable } from '../html/blocks';

/** 'revenuePerCustomer' -> 'revenue per customer'. */
function humanize(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`);
}

function experimentValue(ctx: Ctx, metric: string, value: number | undefined): string {
  if (!isNum(value)) return MISSING;
  if (metric === 'conversion') return fmtPct(value, 2);
  if (/revenue|spend|value/i.test(metric)) return ctx.money(value);
  return fmtNum(value, 3);
}

export function experimentsCard(ctx: Ctx, ex: ReportExperiments): string {
  const threshold = ex.srmThreshold ?? 0.001;
  let experimentsBlock: string;
  if (ex.experiments.length === 0) {
    experimentsBlock = notAvailable(ctx.data.unavailable?.experiments ?? 'no experiment ran in this period');
  } else {
    const label = (e: ReportExperiment): string =>
      `${e.id}${e.treatment ? ` · ${e.treatment}` : ''} · ${humanize(e.metric)}`;
    const forest = forestPlot({
      label: 'Relative lift of treatment over control with 95% intervals',
      items: ex.experiments.map((e) => ({
        label: label(e),
        estimate: e.lift,
        low: e.ci[0],
        high: e.ci[1],
        color: e.ci[0] > 0 ? '#23a37a' : e.ci[1] < 0 ? '#d94a4a' : '#7c8796',
      })),
      format: (v) => fmtSignedPct(v, 0),
      width: FULL_WIDTH,
    });
    const rows: Cell[][] = ex.experiments.map((e) => [
      {
        html:
          `<span class="nowrap">${esc(e.id)}</span>` +
          (e.treatment ? `<div class="sub">${esc(`vs ${e.treatment}`)}</div>` : ''),
      },
      humanize(e.metric),
      isNum(e.customersControl) || isNum(e.customersTreatment)
        ? `${fmtInt(e.customersControl)} / ${fmtInt(e.customersTreatment)}`
        : MISSING,
      experimentValue(ctx, e.metric, e.controlValue),
      experimentValue(ctx, e.metric, e.treatmentValue),
      fmtSignedPct(e.lift),
      `${fmtSignedPct(e.ci[0])} to ${fmtSignedPct(e.ci[1])}`,
      fmtP(e.pValue),
      fmtPct(e.probabilityToBeatControl),
      isNum(e.srmPValue) && e.srmPValue < threshold
        ? { html: `${esc(fmtP(e.srmPValue))} ${badge('SRM', 'bad').html}` }
        : fmtP(e.srmPValue),
    ]);
    experimentsBlock =
      forest +
      table(
        [
          { label: 'Experiment' },
          { label: 'Metric' },
          { label: 'n (ctrl / treat)', numeric: true },
          { label: 'Control', numeric: true },
          { label: 'Treatment', numeric: true },
          { label: 'Lift', numeric: true },
          { label: '95% CI', numeric: true },
          { label: 'p', numeric: true },
          { label: 'P(beat ctrl)', numeric: true },
          { label: 'SRM p', numeric: true },
        ],
        rows,
      );
  }
  let policiesBlock: string;
  if (ex.policies.length === 0) {
    policiesBlock = '<p class="note">No targeting policy was simulated.</p>';
  } else {
    const policies = [...ex.policies].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
    const forest = forestPlot({
      label: 'Incremental revenue by policy: mean and 5th to 95th percentile',
      items: policies.map((p, i) => ({
        label: p.name,
        estimate: p.incrementalRevenue.mean,
        low: p.incrementalRevenue.p5,
        high: p.incrementalRevenue.p95,
        color: PALETTE[i % PALETTE.length],
      })),
      format: ctx.moneyShort,
      width: FULL_WIDTH,
    });
    const showExact = policies.some((p) => isNum(p.exactProbabilityOfTarget));
    const columns: Column[] = [
      { label: 'Rank' },
      { label: 'Policy' },
      { label: 'Targeted', numeric: true },
      { label: 'Cost', numeric: true },
      { label: 'Incr. revenue', numeric: true },
      { label: '90% range', numeric: true },
      { label: 'ROI', numeric: true },
      { label: 'P(goal)', numeric: true },
    ];
    if (showExact) columns.push({ label: 'P(goal) exact', numeric: true });
    const rows: Cell[][] = policies.map((p) => {
      const row: Cell[] = [
        isNum(p.rank) ? String(p.rank) : MISSING,
        p.name,
        fmtInt(p.customersTargeted),
        ctx.money(p.cost),
        ctx.money(p.incrementalRevenue.mean),
        `${ctx.money(p.incrementalRevenue.p5)} – ${ctx.money(p.incrementalRevenue.p95)}`,
        fmtPct(p.roi, 0),
        fmtPct(p.probabilityOfTarget),
      ];
      if (showExact) row.push(fmtPct(p.exactProbabilityOfTarget));
      return row;
    });
    policiesBlock = forest + table(columns, rows);
  }
  return card(
    'Experiments and policies',
    `Treatment against control (relative lift, 95% interval; SRM flagged below p = ${fmtP(threshold)}), then simulated targeting policies ranked by expected incremental profit.`,
    '<h4>Experiments</h4>' + experimentsBlock + '<h4>Targeting policies</h4>' + policiesBlock,
    'experiments',
  );
}
