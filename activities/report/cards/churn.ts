/** Strategic card: churn risk. */
import { fmtInt, fmtNum, fmtPct, MISSING } from '../format';
import type { ReportChurn } from '../model';
import { barChart, HALF_WIDTH, PALETTE, xyChart } from '../svg';
import { LIST_ROWS, type Ctx, table, card, stats, grid2 } from '../html/blocks';

export function churnCard(ctx: Ctx, churn: ReportChurn): string {
  const calibration = xyChart({
    label: 'Calibration: predicted churn probability against observed churn rate',
    points: churn.calibration.map((b) => ({
      x: b.meanPredicted,
      y: b.observedRate,
      weight: b.count,
      tooltip: `predicted ${fmtPct(b.meanPredicted)}, observed ${fmtPct(b.observedRate)}, ${fmtInt(b.count)} customers`,
    })),
    xDomain: [0, 1],
    yDomain: [0, 1],
    xFormat: (v) => fmtPct(v, 0),
    yFormat: (v) => fmtPct(v, 0),
    diagonal: true,
    xTitle: 'Mean predicted probability',
    yTitle: 'Observed churn rate',
    width: HALF_WIDTH,
  });
  const importance = barChart({
    label: 'Feature importance of the churn model',
    items: [...churn.importance]
      .sort((a, b) => b.importance - a.importance)
      .slice(0, 12)
      .map((f) => ({ label: f.feature, value: f.importance, color: PALETTE[3] })),
    format: (v) => fmtNum(v, 3),
    width: HALF_WIDTH,
  });
  const atRisk = table(
    [
      { label: '#' },
      { label: 'Customer' },
      { label: 'Persona' },
      { label: 'P(churn)', numeric: true },
      { label: 'CLV', numeric: true },
    ],
    churn.atRisk
      .slice(0, LIST_ROWS)
      .map((c, i) => [
        String(i + 1),
        c.customerId,
        c.persona ?? MISSING,
        fmtPct(c.churnProbability),
        ctx.money(c.clv),
      ]),
  );
  return card(
    'Churn risk',
    `Probability that an active customer makes no purchase in the churn window${churn.window ? ` (${churn.window})` : ''}, scored at the cutoff by a model trained on an earlier cutoff.`,
    stats([
      ['Model', churn.model],
      ['AUC', fmtNum(churn.auc, 3)],
      ['Baseline AUC', fmtNum(churn.baselineAuc, 3)],
      ['PR-AUC', fmtNum(churn.prAuc, 3)],
      ['Brier', fmtNum(churn.brier, 4)],
      ['Churn rate', fmtPct(churn.positiveRate)],
    ]) +
      grid2('<h4>Calibration</h4>' + calibration, '<h4>What drives the score</h4>' + importance) +
      `<h4>Valuable customers most at risk (top ${Math.min(LIST_ROWS, churn.atRisk.length)} of ${fmtInt(churn.atRisk.length)})</h4>` +
      (churn.atRisk.length > 0 ? atRisk : '<p class="note">No customer above the risk threshold.</p>'),
    'churn',
  );
}
