/**
 * The exploratory page's product ranking, shown when the data have no categories (Online Retail): the card is
 * titled as products, names from the data are escaped, and no id repeats in the document (the card first
 * reused the top-products card's id).
 */
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../activities/report/html';
import type { ReportData } from '../../../activities/report/model';
import { sampleReportData } from './fixture';

const HOSTILE_NAME = 'HEART <script>window.__xss=3</script> & "LIGHT"';

function withProducts(): ReportData {
  const data = sampleReportData();
  if (!data.eda) throw new Error('the sample report has no exploratory page');
  data.eda = {
    ...data.eda,
    categories: undefined,
    nullRates: [
      ...data.eda.nullRates.filter((n) => n.column !== 'category'),
      { column: 'category', nulls: 10, rate: 1 },
    ],
    products: {
      products: [
        {
          productId: '22423',
          name: 'REGENCY CAKESTAND 3 TIER',
          revenue: 250,
          share: 0.6,
          orders: 2,
          recentChange: 0.5,
        },
        { productId: '85123A', name: HOSTILE_NAME, revenue: 60, share: 0.15, orders: 2, recentChange: null },
      ],
      months: ['2011-01', '2011-02'],
      trend: [
        { productId: '22423', name: 'REGENCY CAKESTAND 3 TIER', revenue: [100, 150] },
        { productId: '85123A', name: HOSTILE_NAME, revenue: [20, 40] },
      ],
      distinct: 2,
    },
  };
  return data;
}

describe('product ranking card', () => {
  const html = renderReport(withProducts());

  it('ranks products, titled as products, with the reason categories are missing', () => {
    expect(html).toContain('Product revenue ranking and trend');
    expect(html).toContain('Products, not categories: no transaction line has a category');
    expect(html).toContain('Merchandise revenue by product (2 products)');
    expect(html).not.toContain('Category revenue ranking and trend');
    expect(html).toContain('The leading product, REGENCY CAKESTAND 3 TIER, brings 60.0% of it.');
  });

  it('escapes product names and keeps every id unique', () => {
    expect(html).not.toContain('<script>window.__xss=3');
    expect(html).toContain('HEART &lt;script&gt;window.__xss=3&lt;/script&gt; &amp; &quot;LIGHT&quot;');
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toContain('product-ranking');
    expect(ids.length).toBe(new Set(ids).size);
  });
});
