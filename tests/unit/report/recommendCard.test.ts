/** The report's recommend card: the category lists' first choices, escaped, and absent for older summaries. */
import { describe, expect, it } from 'vitest';
import { recommendCard } from '../../../activities/report/cards/recommend';
import type { ReportRecommend } from '../../../activities/report/model';

const base: ReportRecommend = {
  rules: 0,
  topRules: [],
  bundles: [],
  attachment: [],
  evaluation: null,
  evaluationWindow: null,
  blend: 0.5,
  blendChosenBy: 'default',
  notes: [],
};

describe('recommend card', () => {
  it('lists each first category with its customers and reason, escaping names from data', () => {
    const html = recommendCard({
      ...base,
      categoryFirstChoices: [
        { category: 'garden', customers: 1234, reason: 'bought together with kitchen in 67% of its orders' },
        {
          category: '<b>toys</b>',
          customers: 5,
          reason: 'among the most ordered categories of the last 90 days',
        },
      ],
    });
    expect(html).toContain('Top category per customer');
    expect(html).toContain('<td>garden</td><td class="num">1,234</td>');
    expect(html).toContain('bought together with kitchen in 67% of its orders');
    expect(html).toContain('&lt;b&gt;toys&lt;/b&gt;');
    expect(html).not.toContain('<b>toys</b>');
  });

  it('leaves the category table out when the summary has no category lists', () => {
    expect(recommendCard(base)).not.toContain('Top category per customer');
    expect(recommendCard({ ...base, categoryFirstChoices: null })).not.toContain('Top category per customer');
  });
});
