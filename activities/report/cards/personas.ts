/** Strategic card: behavioural personas, cluster quality by k and the CRM decision rules. */
import { escapeHtml as esc, fmtCompact, fmtInt, fmtNum, fmtPct } from '../format';
import type { ReportSegments } from '../model';
import { groupedBarChart, HALF_WIDTH, PALETTE } from '../svg';
import { type Ctx, table, badge, card, stats, grid2, notAvailableCard } from '../html/blocks';

export function personasCard(ctx: Ctx, segments: ReportSegments): string {
  const personas = segments.personas;
  if (personas.length === 0) return notAvailableCard('Personas', 'segmentation produced no personas');
  const shares = groupedBarChart({
    label: 'Share of customers and of revenue by persona',
    categories: personas.map((p) => p.name),
    series: [
      { name: 'Customers', values: personas.map((p) => p.customerShare), color: '#9aa5b4' },
      { name: 'Revenue', values: personas.map((p) => p.revenueShare), color: PALETTE[0] },
    ],
    format: (v) => fmtPct(v),
    width: HALF_WIDTH,
  });
  const quality = table(
    [
      { label: 'k' },
      { label: 'Silhouette', numeric: true },
      { label: 'Inertia', numeric: true },
      { label: 'Calinski-Harabasz', numeric: true },
      { label: 'Davies-Bouldin', numeric: true },
    ],
    segments.metricsByK.map((m) => [
      String(m.k),
      fmtNum(m.silhouette, 3),
      fmtCompact(m.inertia),
      fmtNum(m.calinskiHarabasz, 1),
      fmtNum(m.daviesBouldin, 3),
    ]),
    segments.metricsByK.map((m) => (m.k === segments.k ? 'chosen' : null)),
  );
  const cards = personas
    .map((p, i) => {
      const color = PALETTE[i % PALETTE.length];
      const actions = p.actions.map((a) => `<li>${esc(a)}</li>`).join('');
      return (
        `<div class="persona" style="border-left-color:${color}"><h5>${esc(p.name)}</h5>` +
        `<div class="figures">${esc(`${fmtInt(p.customers)} customers (${fmtPct(p.customerShare)}) · ${fmtPct(p.revenueShare)} of revenue`)}</div>` +
        `<p>${esc(p.description)}</p>` +
        (actions ? `<ul>${actions}</ul>` : '') +
        '</div>'
      );
    })
    .join('');
  const left =
    stats([
      ['Segments (k)', String(segments.k)],
      ['Silhouette', fmtNum(segments.silhouette, 3)],
      ...(segments.stability !== undefined
        ? ([['Stability (bootstrap ARI)', fmtNum(segments.stability, 2)]] as [string, string][])
        : []),
      ['Chosen by', segments.chosenBy],
    ]) + (segments.metricsByK.length > 0 ? '<h4>Cluster quality by k</h4>' + quality : '');
  const rules =
    segments.rules && segments.rules.length > 0
      ? `<h4>Decision rules a CRM can automate (${esc(fmtPct(segments.ruleFidelity ?? null))} of customers placed in their own persona)</h4>` +
        table(
          [{ label: 'If' }, { label: 'Persona' }, { label: 'Customers', numeric: true }],
          segments.rules.map((r) => {
            const suffix = ` -> ${r.persona}`;
            const condition = r.text.endsWith(suffix) ? r.text.slice(0, -suffix.length) : r.text;
            return [condition, r.persona, fmtInt(r.customers)];
          }),
        )
      : '';
  const none = segments.noNetPurchase;
  // Customers who returned everything are named for that in the CRM export, never after their cluster.
  const noNetPurchase =
    none && none.customers > 0
      ? `<p class="note">${badge(none.name, 'warn').html} ${esc(
          `${fmtInt(none.customers)} ${none.customers === 1 ? 'customer has' : 'customers have'} no net purchase ` +
            '(net revenue at or below zero: every purchase returned or cancelled). The CRM export names them ' +
            `"${none.name}" whatever their segment, with no P(alive), and suggests: ${none.actions[0] ?? 'no action'}.`,
        )}</p>`
      : '';
  return card(
    'Personas',
    'Behavioural personas (what and how customers buy: order value, price, basket, category mix, weekday habit), named from how each differs from the typical customer; value tiers (RFM scores) sit beside them in the CRM export.',
    grid2('<h4>Customers and revenue</h4>' + shares, left) +
      `<div class="personas">${cards}</div>` +
      noNetPurchase +
      rules,
    'personas',
  );
}
