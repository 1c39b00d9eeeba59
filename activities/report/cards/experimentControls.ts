/**
 * Strategic card: what the experiment section of the config asked for, and what came of it. The configured
 * metrics (measures and ratios, with their intervals), the guardrails (pass or breach; a breach also reaches
 * the run's warnings as `experiment_guardrail_failed`), each policy's goal in words with its horizon, and the
 * boost sweeps: P(goal) against the size of the conversion boost, with the smallest boost that makes the
 * goal more likely than not.
 */
import { escapeHtml as esc, fmtInt, fmtNum, fmtP, fmtPct, fmtSignedPct, isNum, MISSING } from '../format';
import type { ReportExperiments, ReportPolicyGoal } from '../model';
import { HALF_WIDTH, xyChart } from '../svg';
import { type Cell, type Ctx, badge, card, grid2, stats, table } from '../html/blocks';

/** P(goal) at which a boost is read off the sweep: the goal becomes more likely than not. */
const EVEN_ODDS = 0.5;

type Sweep = NonNullable<ReportExperiments['boostSweeps']>[number];

/** 'revenuePerOrder' -> 'revenue per order'. */
function humanize(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`);
}

/** A policy's goal in words: "at least £5,000 of incremental sales over the next 14 days". */
export function goalInWords(ctx: Ctx, goal: ReportPolicyGoal, horizonDays: number | undefined): string {
  const parts: string[] = [];
  if (isNum(goal.extraOrders)) parts.push(`at least ${fmtInt(goal.extraOrders)} extra orders`);
  if (isNum(goal.incrementalRevenue))
    parts.push(
      `at least ${ctx.money(goal.incrementalRevenue)} of incremental sales (with the policy minus without)`,
    );
  if (isNum(goal.totalRevenue))
    parts.push(
      `at least ${ctx.money(goal.totalRevenue)} of total sales from every scored customer, targeted or not`,
    );
  const horizon = isNum(horizonDays) ? ` over the next ${fmtInt(horizonDays)} days` : '';
  return `${parts.join(', and ')}${horizon}`;
}

/** The smallest swept boost whose P(goal) reaches `level`, or null when none does. */
export function smallestBoostReaching(points: Sweep['points'], level: number): number | null {
  const hit = [...points].sort((a, b) => a.boost - b.boost).find((p) => p.probabilityOfTarget >= level);
  return hit ? hit.boost : null;
}

function sweepBlock(ctx: Ctx, sweep: Sweep, goal: ReportPolicyGoal | undefined, horizon?: number): string {
  const reach = smallestBoostReaching(sweep.points, EVEN_ODDS);
  const chart = xyChart({
    label: `${sweep.name}: P(goal) against the conversion boost`,
    points: sweep.points.map((p) => ({
      x: p.boost,
      y: p.probabilityOfTarget,
      tooltip: `boost ${fmtSignedPct(p.boost, 0)}: P(goal) ${fmtPct(p.probabilityOfTarget)}, expected incremental revenue ${ctx.money(p.expectedIncrementalRevenue)}`,
    })),
    yDomain: [0, 1],
    xFormat: (v) => fmtSignedPct(v, 0),
    yFormat: (v) => fmtPct(v, 0),
    referenceY: { value: EVEN_ODDS, label: 'goal as likely as not' },
    xTitle: 'relative conversion boost',
    yTitle: 'P(goal)',
    width: HALF_WIDTH,
  });
  const rows: Cell[][] = sweep.points.map((p) => [
    fmtSignedPct(p.boost, 0),
    fmtPct(p.probabilityOfTarget),
    fmtNum(p.expectedIncrementalOrders, 1),
    ctx.money(p.expectedIncrementalRevenue),
    ctx.money(p.expectedIncrementalProfit),
  ]);
  const points = table(
    [
      { label: 'Boost', numeric: true },
      { label: 'P(goal)', numeric: true },
      { label: 'Extra orders', numeric: true },
      { label: 'Incr. revenue', numeric: true },
      { label: 'Incr. profit', numeric: true },
    ],
    rows,
  );
  const goalText = goal ? goalInWords(ctx, goal, horizon) : 'its goal';
  const summary =
    reach === null
      ? `No swept boost makes the goal (${goalText}) as likely as not.`
      : `The smallest swept boost with P(goal) ≥ ${fmtPct(EVEN_ODDS, 0)} is ${fmtSignedPct(reach, 0)}: goal ${goalText}.`;
  return (
    `<h4>${esc(`Boost sweep: ${sweep.name}`)}</h4>` +
    grid2(chart, points) +
    `<p class="note">${esc(summary)}</p>`
  );
}

function bound(g: NonNullable<ReportExperiments['guardrails']>[number]): string {
  const parts: string[] = [];
  if (isNum(g.maxRelativeDrop)) parts.push(`drop ≤ ${fmtPct(g.maxRelativeDrop)}`);
  if (isNum(g.maxRelativeIncrease)) parts.push(`rise ≤ ${fmtPct(g.maxRelativeIncrease)}`);
  return parts.join(', ');
}

/** The card, or '' when the config asked for none of these. */
export function experimentControlsCard(ctx: Ctx, ex: ReportExperiments): string {
  const metrics = ex.customMetrics ?? [];
  const guardrails = ex.guardrails ?? [];
  const sweeps = ex.boostSweeps ?? [];
  const goals = ex.goals ?? [];
  if (metrics.length + guardrails.length + sweeps.length + goals.length === 0) return '';
  const level = fmtPct(ex.confidence ?? 0.95, 0);
  const parts: string[] = [];
  const breached = guardrails.filter((g) => !g.pass);
  if (breached.length > 0) {
    parts.push(
      `<div class="warnings" role="alert">${esc(
        `${breached.length} guardrail${breached.length === 1 ? '' : 's'} breached: ` +
          breached.map((g) => `${g.id} (${g.treatment}) on ${humanize(g.metric)}`).join('; ') +
          '. Do not roll out a breaching treatment before reading why (also in the run warnings).',
      )}</div>`,
    );
  }
  if (goals.length > 0) {
    parts.push(
      '<h4>Policy goals</h4>' +
        table(
          [{ label: 'Policy' }, { label: 'Goal' }, { label: 'P(goal)', numeric: true }],
          goals.map((g) => [
            g.policy,
            goalInWords(ctx, g, ex.policyHorizonDays),
            fmtPct(ex.policies.find((p) => p.name === g.policy)?.probabilityOfTarget),
          ]),
        ),
    );
  }
  if (metrics.length > 0) {
    parts.push(
      '<h4>Configured metrics</h4>' +
        table(
          [
            { label: 'Experiment' },
            { label: 'Treatment' },
            { label: 'Metric' },
            { label: 'Kind' },
            { label: 'Control', numeric: true },
            { label: 'Treatment', numeric: true },
            { label: 'Lift', numeric: true },
            { label: `${level} CI`, numeric: true },
            { label: 'p', numeric: true },
          ],
          metrics.map((m) => [
            m.id,
            m.treatment,
            humanize(m.metric),
            m.kind === 'ratio' ? 'ratio (delta method)' : 'per customer',
            fmtNum(m.controlValue, 3),
            fmtNum(m.treatmentValue, 3),
            fmtSignedPct(m.lift),
            isNum(m.ci[0]) && isNum(m.ci[1])
              ? `${fmtSignedPct(m.ci[0])} to ${fmtSignedPct(m.ci[1])}`
              : MISSING,
            fmtP(m.pValue),
          ]),
        ),
    );
  }
  if (guardrails.length > 0) {
    parts.push(
      '<h4>Guardrails</h4>' +
        table(
          [
            { label: 'Experiment' },
            { label: 'Treatment' },
            { label: 'Metric' },
            { label: 'Allowed' },
            { label: 'Lift', numeric: true },
            { label: `${level} CI`, numeric: true },
            { label: 'Verdict' },
            { label: 'Why' },
          ],
          guardrails.map((g) => [
            g.id,
            g.treatment,
            humanize(g.metric),
            bound(g),
            fmtSignedPct(g.lift),
            isNum(g.ci[0]) && isNum(g.ci[1])
              ? `${fmtSignedPct(g.ci[0])} to ${fmtSignedPct(g.ci[1])}`
              : MISSING,
            g.pass ? badge('pass', 'ok') : badge('breach', 'bad'),
            g.reason,
          ]),
          guardrails.map((g) => (g.pass ? null : 'bad')),
        ),
    );
  }
  for (const sweep of sweeps) {
    parts.push(
      sweepBlock(
        ctx,
        sweep,
        goals.find((g) => g.policy === sweep.name),
        ex.policyHorizonDays,
      ),
    );
  }
  const counts: [string, string][] = [];
  if (isNum(ex.policyHorizonDays)) counts.push(['Policy horizon', `${fmtInt(ex.policyHorizonDays)} days`]);
  if (guardrails.length > 0)
    counts.push(['Guardrails', `${guardrails.length - breached.length} pass, ${breached.length} breached`]);
  return card(
    'Experiment metrics, guardrails and goals',
    `The experiment config’s own metrics (measures per customer, ratios by the delta method; ${level} intervals of the relative lift), its guardrails (a guardrail passes when the whole interval stays within its bound), and what each policy was asked to reach.`,
    (counts.length > 0 ? stats(counts) : '') + parts.join(''),
    'experiment-controls',
  );
}
