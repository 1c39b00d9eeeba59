/** Strategic card: bundles and next best offer. */
import { escapeHtml as esc, fmtDate, fmtInt, fmtNum, fmtPct } from '../format';
import type { ReportRankingMetrics, ReportRecommend } from '../model';
import { table, card, grid2, notAvailable } from '../html/blocks';

/** Rules and bundles listed in the report (the full lists are in rules.parquet and bundles.parquet). */
const RECOMMEND_ROWS = 10;

export function recommendCard(rec: ReportRecommend): string {
  const parts: string[] = [];
  const window = rec.evaluationWindow;
  if (rec.evaluation && window) {
    const rows: [string, ReportRankingMetrics | undefined][] = [
      [`Model (blend ${fmtNum(rec.blend, 1)})`, rec.evaluation.model],
      ['Item-to-item alone', rec.evaluation.itemToItem],
      ['Popularity baseline', rec.evaluation.popularity],
      ['Buy-again baseline', rec.evaluation.buyAgain],
    ];
    parts.push(
      '<h4>Judged on the following month</h4>' +
        table(
          [
            { label: 'Recommender' },
            { label: 'Hit rate @5', numeric: true },
            { label: 'Hit rate @10', numeric: true },
            { label: 'Precision @10', numeric: true },
            { label: 'Recall @10', numeric: true },
            { label: 'Coverage', numeric: true },
          ],
          rows
            .filter((r): r is [string, ReportRankingMetrics] => r[1] !== undefined)
            .map(([name, m]) => [
              name,
              fmtPct(m.hitRate5),
              fmtPct(m.hitRate10),
              fmtPct(m.precision10),
              fmtPct(m.recall10),
              fmtPct(m.coverage),
            ]),
          rows.filter((r) => r[1] !== undefined).map((_, i) => (i === 0 ? 'chosen' : null)),
        ) +
        `<p class="note">${esc(
          `Fitted on orders up to ${fmtDate(window.from)}, measured on what ${fmtInt(window.customers)} returning customers bought until ${fmtDate(window.to)}. ` +
            `Blend: weight of the customer's own purchases against co-purchases, ${rec.blendChosenBy === 'validation' ? 'chosen on the month before (never on the month shown)' : `set by ${rec.blendChosenBy}`}.`,
        )}</p>`,
    );
  } else {
    parts.push(
      '<h4>Judged on the following month</h4>' + notAvailable(rec.notes.join('; ') || 'not evaluated'),
    );
  }
  const rules = rec.topRules.filter((r) => r.level === 'product').slice(0, RECOMMEND_ROWS);
  const categoryRules = rec.topRules.filter((r) => r.level === 'category').slice(0, RECOMMEND_ROWS);
  const rulesTable = (list: ReportRecommend['topRules']): string =>
    table(
      [
        { label: 'In the basket' },
        { label: 'Also bought' },
        { label: 'Orders', numeric: true },
        { label: 'Support', numeric: true },
        { label: 'Confidence', numeric: true },
        { label: 'Lift', numeric: true },
      ],
      list.map((r) => [
        r.antecedent.join(' + '),
        r.consequent,
        fmtInt(r.orders),
        fmtPct(r.support, 2),
        fmtPct(r.confidence),
        fmtNum(r.lift, 1),
      ]),
    );
  parts.push(
    `<h4>Strongest rules (${fmtInt(rec.rules)} kept)</h4>` +
      (rules.length > 0 ? rulesTable(rules) : notAvailable('no rule reached the thresholds')),
  );
  if (categoryRules.length > 0) parts.push('<h4>Category rules</h4>' + rulesTable(categoryRules));
  const attachment = table(
    [
      { label: 'Persona' },
      { label: 'Orders with an antecedent', numeric: true },
      { label: 'With its add-on', numeric: true },
      { label: 'Attachment', numeric: true },
    ],
    rec.attachment.map((a) => [
      a.persona === '(all)' ? 'All orders' : a.persona,
      fmtInt(a.ordersWithAntecedent),
      fmtInt(a.ordersWithAddOn),
      fmtPct(a.attachmentRate),
    ]),
  );
  const bundles =
    rec.bundles.length > 0
      ? table(
          [
            { label: 'Persona' },
            { label: 'Bundle' },
            { label: 'Orders', numeric: true },
            { label: 'Confidence', numeric: true },
            { label: 'Lift', numeric: true },
          ],
          rec.bundles.map((b) => [
            b.persona,
            `${b.productA} + ${b.productB}`,
            fmtInt(b.orders),
            fmtPct(b.confidence),
            fmtNum(b.lift, 1),
          ]),
        )
      : notAvailable('no pair reached the thresholds within a persona');
  parts.push(
    grid2('<h4>Add-on attachment by persona</h4>' + attachment, '<h4>Top bundles by persona</h4>' + bundles),
  );
  if (rec.categoryFirstChoices && rec.categoryFirstChoices.length > 0) {
    parts.push(
      '<h4>Top category per customer</h4>' +
        table(
          [
            { label: 'Category offered first' },
            { label: 'Customers', numeric: true },
            { label: 'Typical reason' },
          ],
          rec.categoryFirstChoices
            .slice(0, RECOMMEND_ROWS)
            .map((c) => [c.category, fmtInt(c.customers), c.reason]),
        ) +
        `<p class="note">${esc(
          'Categories each active customer has not bought recently, from co-purchases of categories and the customer’s own category history (category_recommendations.parquet; the first is in the CRM export).',
        )}</p>`,
    );
  }
  return card(
    'Bundles and next best offer',
    'Products bought together (association rules over orders: support, confidence, lift), each persona’s bundles and how often an add-on joins its antecedent, and the per-customer recommendations judged against popularity and buy-again baselines. The top three per customer are in the CRM export.',
    parts.join(''),
    'recommend',
  );
}
