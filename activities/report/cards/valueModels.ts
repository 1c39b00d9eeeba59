/**
 * Strategic card: value models. Who will spend above the median in the next window: the logistic
 * classifier, its Bayesian version and (when fitted) a depth-limited tree, all judged on the same holdout
 * against always guessing the majority class; the Bayesian coefficients with their intervals, the tree's
 * rules, the spend regression, and the predicted high-value and churn rates per persona.
 */
import { escapeHtml as esc, fmtInt, fmtNum, fmtPct, isNum, MISSING } from '../format';
import type { ReportCoefficient, ReportValueModels } from '../edaModel';
import { forestPlot, HALF_WIDTH } from '../svg';
import { type Cell, type Ctx, card, grid2, stats, table } from '../html/blocks';

/** Coefficients drawn (the largest in size; the full list is in the churn stage's model.json). */
const COEFFICIENT_ROWS = 12;

function coefficientPlot(label: string, all: ReportCoefficient[]): string {
  const coefficients = [...all]
    .sort((a, b) => Math.abs(b.estimate) - Math.abs(a.estimate) || a.name.localeCompare(b.name))
    .slice(0, COEFFICIENT_ROWS);
  const note =
    all.length > coefficients.length
      ? `<p class="note">${esc(`The ${coefficients.length} largest of ${all.length} coefficients; all are in the churn stage's model.json.`)}</p>`
      : '';
  return (
    forestPlot({
      label,
      items: coefficients.map((c) => ({
        label: c.name,
        estimate: c.estimate,
        low: c.lower,
        high: c.upper,
        color: c.lower > 0 ? '#23a37a' : c.upper < 0 ? '#d94a4a' : '#7c8796',
      })),
      format: (v) => fmtNum(v, 2),
      width: HALF_WIDTH,
    }) + note
  );
}

export function valueModelsCard(ctx: Ctx, vm: ReportValueModels): string {
  const best = vm.models
    .filter((m) => m.model !== 'Majority class' && isNum(m.accuracy))
    .sort((a, b) => (b.accuracy ?? 0) - (a.accuracy ?? 0))[0];
  const scores = table(
    [
      { label: 'Model' },
      { label: 'Accuracy', numeric: true },
      { label: 'vs majority', numeric: true },
      { label: 'AUC', numeric: true },
      { label: 'Brier', numeric: true },
    ],
    vm.models.map((m) => [
      m.model,
      fmtPct(m.accuracy),
      isNum(m.accuracy) && isNum(vm.majorityAccuracy)
        ? `${m.accuracy - vm.majorityAccuracy >= 0 ? '+' : '−'}${fmtNum(Math.abs(m.accuracy - vm.majorityAccuracy) * 100, 1)} pts`
        : MISSING,
      fmtNum(m.auc, 3),
      fmtNum(m.brier, 4),
    ]),
    vm.models.map((m) => (m === best ? 'chosen' : null)),
  );
  const parts: string[] = [];
  parts.push(
    stats([
      [
        'High-value',
        // A zero median means most active customers bought nothing in the window: "above the median" is then
        // "bought again", and the card must not read as if it separated big spenders.
        vm.threshold === 0
          ? `any purchase in the window: more than half of the active customers bought nothing, so the median future spend is ${ctx.money(0)} and these models predict a repeat purchase, not high spend`
          : `future spend above ${ctx.money(vm.threshold)} (the window's median)`,
      ],
      ['High-value share of the holdout', fmtPct(vm.positiveRate)],
      ['Best on the holdout', best ? `${best.model} (${fmtPct(best.accuracy)})` : MISSING],
    ]),
  );
  const coefficients =
    vm.coefficients.length > 0
      ? coefficientPlot(
          'High-value logistic coefficients (standardised) with 95% credible intervals',
          vm.coefficients,
        )
      : '<p class="note">No coefficients were recorded.</p>';
  parts.push(
    grid2(
      '<h4>Same holdout, same label</h4>' + scores,
      '<h4>Bayesian logistic coefficients (95% credible intervals)</h4>' + coefficients,
    ),
  );
  if (vm.treeRules && vm.treeRules.length > 0) {
    parts.push(
      '<h4>The tree’s rules</h4>' +
        table(
          [
            { label: 'If' },
            { label: 'Customers', numeric: true },
            { label: 'High-value share', numeric: true },
          ],
          vm.treeRules.map((r) => [r.text, fmtInt(r.customers), fmtPct(r.highValueShare)]),
        ),
    );
  }
  const reg = vm.spendRegression;
  const bySegment = table(
    [
      { label: 'Persona' },
      { label: 'Customers', numeric: true },
      { label: 'P(high-value)', numeric: true },
      { label: 'P(churn)', numeric: true },
    ],
    vm.bySegment.map((s): Cell[] => [
      s.segment,
      fmtInt(s.customers),
      fmtPct(s.highValueRate),
      fmtPct(s.churnRate),
    ]),
  );
  const regression = reg
    ? stats([
        ['Customers', fmtInt(reg.n)],
        ['R² (fit)', fmtNum(reg.r2, 3)],
        ['R² (holdout)', fmtNum(reg.holdoutR2, 3)],
      ]) +
      coefficientPlot('Spend regression coefficients with 95% confidence intervals', reg.coefficients) +
      `<p class="note">${esc('Ordinary least squares of log(1 + future spend) on the standardised features: a coefficient is the change in log spend per standard deviation of the feature.')}</p>`
    : '<p class="note">The churn stage recorded no spend regression for this run.</p>';
  parts.push(
    grid2(
      '<h4>Spend regression</h4>' + regression,
      '<h4>High-value and churn rates by persona</h4>' +
        (vm.bySegment.length > 0 ? bySegment : '<p class="note">No persona scores.</p>'),
    ),
  );
  return card(
    'Value models',
    'Who will spend above the median in the next window, judged on a later holdout window than the one fitted; the per-customer probability and its interval are in the CRM export.',
    parts.join(''),
    'value-models',
  );
}
