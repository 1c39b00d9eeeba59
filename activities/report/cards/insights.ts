/** Strategic card: exploratory insights of the features stage. */
import { escapeHtml as esc, fmtInt, fmtNum, fmtPPhrase } from '../format';
import type { ReportFeatures } from '../model';
import { type Ctx, table, code, card, grid2, notAvailable } from '../html/blocks';

export function insightsCard(ctx: Ctx, features: ReportFeatures): string {
  const insights = features.insights;
  if (!insights) return '';
  const parts: string[] = [];
  if (insights.strongestPairs && insights.strongestPairs.length > 0) {
    parts.push(
      '<h4>Strongest feature correlations</h4>' +
        table(
          [{ label: 'Feature' }, { label: 'Feature' }, { label: 'Pearson r', numeric: true }],
          insights.strongestPairs.map((p) => [code(p.a), code(p.b), fmtNum(p.r, 3)]),
        ),
    );
  }
  const spend = insights.categorySpend;
  if (spend) {
    const body = spend.skippedReason
      ? notAvailable(spend.skippedReason)
      : table(
          [
            { label: 'Category' },
            { label: 'Orders', numeric: true },
            { label: 'Mean', numeric: true },
            { label: 'Median', numeric: true },
          ],
          spend.categories.map((c) => [c.category, fmtInt(c.n), ctx.money(c.mean), ctx.money(c.median)]),
        ) +
        `<p class="note">${esc(`Test of equal means: ANOVA ${fmtPPhrase(spend.anovaPValue)}, Kruskal-Wallis ${fmtPPhrase(spend.kruskalWallisPValue)}.`)}</p>`;
    parts.push('<h4>Spend per order by category</h4>' + body);
  }
  if (parts.length === 0) return '';
  return card(
    'Insights',
    'Exploratory findings from the features stage.',
    parts.length === 2 ? grid2(parts[0], parts[1]) : parts[0],
  );
}
