/**
 * Strategic card: experiments by segment. The experiment stage's per-segment breakdown (each segment's lift
 * and p-value, Holm-adjusted over all segments and treatments of a metric), Cochran's Q test of the treatment
 * x segment interaction on the conversion effect, and the power figures: the minimum detectable effect at the
 * configured alpha and power, and the power at the planned lift.
 */
import { escapeHtml as esc, fmtInt, fmtNum, fmtP, fmtPct, fmtSignedPct, isNum, MISSING } from '../format';
import type { ReportExperimentDetail } from '../edaModel';
import { badge, type Cell, type Ctx, card, table } from '../html/blocks';

/** Holm-adjusted p-value below which a segment's effect is flagged. */
const ALPHA = 0.05;

function metricValue(ctx: Ctx, metric: string, v: number | null): string {
  if (!isNum(v)) return MISSING;
  return metric === 'conversion' ? fmtPct(v, 2) : ctx.money(v);
}

export function experimentSegmentsCard(ctx: Ctx, detail: ReportExperimentDetail): string {
  const rows: Cell[][] = detail.segments.map((s) => [
    s.experiment,
    s.segment,
    s.treatment,
    s.metric === 'conversion' ? 'conversion' : 'revenue per customer',
    `${fmtInt(s.customersControl)} / ${fmtInt(s.customersTreatment)}`,
    metricValue(ctx, s.metric, s.controlValue),
    metricValue(ctx, s.metric, s.treatmentValue),
    fmtSignedPct(s.lift),
    fmtP(s.pValue),
    isNum(s.adjustedPValue) && s.adjustedPValue < ALPHA
      ? { html: `${esc(fmtP(s.adjustedPValue))} ${badge('significant', 'ok').html}` }
      : fmtP(s.adjustedPValue),
  ]);
  const segmentsTable = table(
    [
      { label: 'Experiment' },
      { label: 'Segment' },
      { label: 'Treatment' },
      { label: 'Metric' },
      { label: 'n (ctrl / treat)', numeric: true },
      { label: 'Control', numeric: true },
      { label: 'Treatment', numeric: true },
      { label: 'Lift', numeric: true },
      { label: 'p', numeric: true },
      { label: 'Holm p', numeric: true },
    ],
    rows,
  );
  const interactions =
    detail.interactions.length > 0
      ? table(
          [
            { label: 'Experiment' },
            { label: 'Treatment' },
            { label: 'Segments', numeric: true },
            { label: 'Q', numeric: true },
            { label: 'df', numeric: true },
            { label: 'p', numeric: true },
          ],
          detail.interactions.map((i) => [
            i.experiment,
            i.treatment,
            fmtInt(i.segments),
            fmtNum(i.q, 2),
            fmtInt(i.df),
            fmtP(i.pValue),
          ]),
        ) +
        `<p class="note">${esc('Cochran’s Q on the per-segment differences in conversion rate (inverse-variance weights): a small p means the treatment works differently across segments.')}</p>`
      : '<p class="note">Fewer than two segments with customers in both arms: no interaction test.</p>';
  const power = table(
    [
      { label: 'Experiment' },
      { label: 'Treatment' },
      { label: 'Metric' },
      { label: 'MDE', numeric: true },
      { label: 'MDE (relative)', numeric: true },
      { label: 'Power at planned lift', numeric: true },
    ],
    detail.power.map((p) => [
      p.experiment,
      p.treatment,
      p.metric,
      p.metric === 'conversion' ? fmtPct(p.mde, 2) : ctx.money(p.mde),
      fmtPct(p.mdeRelative),
      fmtPct(p.powerAtPlannedLift),
    ]),
  );
  return card(
    'Experiments by segment',
    `Each segment’s lift with its p-value, Holm-adjusted over all segments and treatments of the metric (flagged below ${fmtP(ALPHA)}); the treatment x segment interaction; and the smallest effect each experiment could detect.`,
    (detail.segments.length > 0 ? segmentsTable : '<p class="note">No per-segment breakdown.</p>') +
      // One above the other: the power table's six columns do not fit half the card's width.
      '<h4>Treatment x segment interaction</h4>' +
      interactions +
      '<h4>Power and minimum detectable effect</h4>' +
      power,
    'experiment-segments',
  );
}
