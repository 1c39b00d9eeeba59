import { afterEach, describe, expect, it, vi } from 'vitest';
import { escapeHtml } from '../../../activities/report/format';
import { renderReport, unavailableReason } from '../../../activities/report/html';
import type { ReportData } from '../../../activities/report/model';
import {
  HOSTILE_PERSONA,
  HOSTILE_PRODUCT,
  HOSTILE_SEGMENT,
  runOnlyReportData,
  sampleReportData,
} from './fixture';

/** Every start tag of the document (escaped text contains no '<', so these are the real tags). */
function tags(html: string): string[] {
  return html.match(/<[a-zA-Z][^>]*>/g) ?? [];
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters and nothing else', () => {
    expect(escapeHtml(`<a href="x">'&'</a> é`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; é',
    );
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });
});

describe('renderReport escaping', () => {
  const html = renderReport(sampleReportData());

  it('leaves no executable markup from the data', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    for (const tag of tags(html)) expect(tag).not.toMatch(/\son[a-z]+\s*=/i);
  });

  it('shows the hostile product, persona and segment names as escaped text', () => {
    const product = escapeHtml(HOSTILE_PRODUCT);
    const persona = escapeHtml(HOSTILE_PERSONA);
    const segment = escapeHtml(HOSTILE_SEGMENT);
    expect(product).toBe(
      '&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;&lt;script&gt;window.__xss=1&lt;/script&gt;',
    );
    expect(persona).toBe('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(segment).toContain('&#39;single&#39;');
    // Product table and bar tooltip; persona card, at-risk list and migration chart; CLV segment table.
    expect(count(html, product)).toBeGreaterThanOrEqual(2);
    expect(count(html, persona)).toBeGreaterThanOrEqual(5);
    expect(count(html, segment)).toBeGreaterThanOrEqual(2);
    // SVG text is escaped too: the migration heatmap tooltips carry the persona name.
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs.some((svg) => svg.includes(persona))).toBe(true);
  });

  it('escapes run fields and stage errors', () => {
    const data = runOnlyReportData();
    data.run.dataset = 'shop"><script>x()</script>';
    data.run.runId = `run'<b>`;
    const out = renderReport(data);
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toContain('<b>IRLS');
    expect(out).not.toContain("run'<b>");
    expect(out).toContain('shop&quot;&gt;&lt;script&gt;x()&lt;/script&gt;');
    expect(out).toContain('run&#39;&lt;b&gt;');
    expect(out).toContain('logistic.fit: &lt;b&gt;IRLS&lt;/b&gt; did not converge');
  });
});

describe('renderReport structure', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is one self-contained document: no script, no external resource', () => {
    const html = renderReport(sampleReportData());
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).not.toMatch(/@import|url\(/i);
    for (const tag of tags(html)) {
      expect(tag).not.toMatch(/^<(script|link|img|iframe|object|embed|image|use|foreignObject)\b/i);
      expect(tag).not.toMatch(/\s(src|srcset|xlink:href|action)\s*=/i);
      const href = /\shref="([^"]*)"/.exec(tag);
      if (href) expect(href[1].startsWith('#')).toBe(true);
    }
    // Two pages, each a section the print stylesheet breaks before.
    expect(html).toContain('<section class="page" id="operational">');
    expect(html).toContain('<section class="page" id="strategic">');
    expect(html).toMatch(/@media print\{[^@]*\.page\{break-before:page/);
  });

  it('renders every chart of a full run', () => {
    const html = renderReport(sampleReportData());
    const labels = [...html.matchAll(/<svg class="chart"[^>]*aria-label="([^"]*)"/g)].map((m) => m[1]);
    expect(labels).toEqual([
      'Stage durations',
      'Quarantined rows by reason',
      'Revenue by month',
      'Active and new customers by month',
      'Share of customers and of revenue by persona',
      'Persona migration matrix',
      'Distribution of customer lifetime value',
      'Total CLV by segment',
      'Holdout: predicted and actual purchases per customer by calibration frequency',
      'Calibration: predicted churn probability against observed churn rate',
      'Feature importance of the churn model',
      'High-value logistic coefficients (standardised) with 95% credible intervals',
      'Spend regression coefficients with 95% confidence intervals',
      'Cohort retention by months since first purchase',
      'Cumulative revenue per acquired customer by months since first purchase',
      'Revenue forecast by week with 80% and 95% intervals',
      'Relative lift of treatment over control with 95% intervals',
      'Incremental revenue by policy: mean and 5th to 95th percentile',
      'Revenue of the best-selling products',
      // page 3, exploratory analysis
      'Distribution of monetary_total',
      'Distribution of frequency_orders',
      'Revenue by country',
      'Revenue by category',
      'Monthly revenue of the top 2 categories',
      'Mean spend per order by category and season',
      'Revenue from new and returning customers by month',
      'Elbow: within-cluster sum of squares by k',
      'Silhouette by k',
      'Persona profiles: mean of each feature',
    ]);
    expect(html).not.toContain('No data');
    expect(html).not.toContain('Not available');
  });

  it('formats the planted figures (thousands separators, percentages, currency)', () => {
    const html = renderReport(sampleReportData());
    // Data quality: 541,909 in, 374,542 kept (69.12%), reconciliation adds up.
    expect(html).toContain('<td class="num">541,909</td>');
    expect(html).toContain('<td class="num">69.12%</td>');
    expect(html).toContain('reconciled');
    // Money in the run currency (GBP), a negative amount with a typographic minus.
    expect(html).toContain('£142,593');
    expect(html).toContain('−£310.00');
    // Lift and its interval as signed percentages; the SRM flag on the unbalanced experiment only.
    expect(html).toContain('+3.1% to +31.8%');
    expect(count(html, '>SRM</span>')).toBe(1);
    // Stage durations.
    expect(html).toContain('14.5 s');
    // Freshness: last row 2011-11-30 17:42 against a cutoff at 23:59:59.999 is 0.3 days.
    expect(html).toContain('0.3 days');
  });

  it('shows every amount in the dataset currency, and no symbol when the dataset has none', () => {
    const gbp = renderReport(sampleReportData());
    expect(gbp).toContain('£142,593');
    expect(gbp).not.toMatch(/\$\d/);
    const usd = sampleReportData();
    usd.run.currency = 'USD';
    const usdHtml = renderReport(usd);
    expect(usdHtml).toContain('$142,593');
    expect(usdHtml).toContain('−$310.00');
    expect(usdHtml).not.toContain('£');
    const none = sampleReportData();
    delete none.run.currency;
    const plain = renderReport(none);
    expect(plain).toContain('>142,593<');
    expect(plain).toContain('−310.00');
    // no symbol anywhere in front of a figure: tables, cards and chart labels alike
    expect(plain).not.toMatch(/[$£€]\d/);
  });

  it('counts the non-merchandise lines clean kept and flagged, by code', () => {
    const data = sampleReportData();
    data.dataQuality!.nonMerchandiseRows = 1_905;
    data.dataQuality!.nonMerchandiseByCode = {
      POST: 1_196,
      M: 454,
      C2: 134,
      D: 77,
      CRUK: 16,
      DOT: 16,
      'BANK CHARGES': 12,
    };
    const html = renderReport(data);
    expect(html).toContain(
      '<td>of which non-merchandise (postage, fees; flagged, kept)</td><td class="num">1,905</td>',
    );
    expect(html).toContain(
      'Non-merchandise lines by code: POST 1,196, M 454, C2 134, D 77, CRUK 16, DOT 16, BANK CHARGES 12.',
    );
    // without the metric (a clean stage before line_kind) there is no such row
    expect(renderReport(sampleReportData())).not.toContain('non-merchandise');
  });

  it('shows the run status as a whole word, never cut with an ellipsis', () => {
    for (const status of ['COMPLETED', 'TERMINATED', 'FAILED']) {
      const data = sampleReportData();
      data.run.status = status;
      const html = renderReport(data);
      expect(html).toContain(`<div class="value word" title="${status}">${status}</div>`);
    }
    // the word class lets the value show whole (no clipping, no ellipsis) at a size that fits the card
    const css = /\.kpi \.value\.word\{([^}]*)\}/.exec(renderReport(sampleReportData()))?.[1] ?? '';
    expect(css).toContain('text-overflow:clip');
    expect(css).toContain('overflow:visible');
  });

  it('puts every run warning in a banner under the masthead, escaped', () => {
    const data = sampleReportData();
    expect(renderReport(data)).not.toContain('class="warnings"');
    data.run.warnings = [
      { stage: 'clv', code: 'clv_boundary_limit_model', message: 'b -> infinity: scored with the limit' },
      { stage: 'churn', code: 'stage_failed', message: '<b>bad</b>' },
    ];
    const html = renderReport(data);
    const banner = /<section class="warnings"[^>]*>(.*?)<\/section>/.exec(html)?.[1] ?? '';
    expect(banner).toContain('2 warnings: read before trusting the numbers');
    expect(banner).toContain(
      // the code may wrap only after its underscores, never mid-word
      '<b>clv</b>: b -&gt; infinity: scored with the limit <code>clv_<wbr>boundary_<wbr>limit_<wbr>model</code>',
    );
    expect(banner).toContain('&lt;b&gt;bad&lt;/b&gt;');
    expect(html.indexOf('class="warnings"')).toBeLessThan(html.indexOf('id="operational"'));
  });

  it('lists the decision rules a CRM can automate, with their fidelity and stability', () => {
    const data = sampleReportData();
    data.segments!.stability = 0.94;
    data.segments!.ruleFidelity = 0.958;
    data.segments!.rules = [
      {
        text: 'monetary_max_order >= 512.3 -> Big-ticket occasionals',
        persona: 'Big-ticket occasionals',
        customers: 868,
      },
      {
        text: 'monetary_max_order < 512.3 and items_per_order < 90 -> Bargain <browsers>',
        persona: 'Bargain <browsers>',
        customers: 1171,
      },
    ];
    const html = renderReport(data);
    expect(html).toContain(
      'Decision rules a CRM can automate (95.8% of customers placed in their own persona)',
    );
    expect(html).toContain('<td>monetary_max_order &gt;= 512.3</td><td>Big-ticket occasionals</td>');
    expect(html).toContain(
      '<td>monetary_max_order &lt; 512.3 and items_per_order &lt; 90</td><td>Bargain &lt;browsers&gt;</td>',
    );
    expect(html).toContain('Stability (bootstrap ARI)');
  });

  it('names the purchase model that scored CLV, with its own parameters', () => {
    const data = sampleReportData();
    data.clv!.purchaseModel = {
      name: 'BG/NBD homogeneous-dropout limit (a, b -> infinity, a/(a+b) = p)',
      params: { r: 0.7973, alpha: 10.588, p: 0.00308 },
    };
    const html = renderReport(data);
    expect(html).toContain('BG/NBD homogeneous-dropout limit (a, b -&gt; infinity, a/(a+b) = p)');
    expect(html).toContain('r 0.797, α 10.588, p 0.00308');
    expect(html).not.toContain('BG/NBD r, α');
  });

  it('is deterministic and does not read the clock', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2001-01-01T00:00:00Z'));
    const first = renderReport(sampleReportData());
    vi.setSystemTime(new Date('2031-06-15T12:00:00Z'));
    const second = renderReport(sampleReportData());
    expect(second).toBe(first);
    expect(first).toContain('2011-12-01 02:14 UTC');
  });
});

describe('renderReport with missing sections', () => {
  it('renders with only run info and says why each part is missing', () => {
    const html = renderReport(runOnlyReportData());
    // 12 cards of pages 1 and 2, and the exploratory page
    expect(count(html, '<div class="na">Not available: ')).toBe(13);
    expect(html).toContain(
      'Not available: the churn stage failed: logistic.fit: &lt;b&gt;IRLS&lt;/b&gt; did not converge after 50 iterations',
    );
    expect(html).toContain('Not available: the forecast stage has not finished');
    expect(html).toContain('Not available: the experiment stage was skipped');
    expect(html).toContain('Not available: the clean stage produced no data for this part');
    expect(html).toContain('Not available: no export was written with this report');
    // Only the stage chart has data to draw.
    expect(count(html, '<svg class="chart"')).toBe(1);
  });

  it('uses the reason passed in, and names a stage that did not run', () => {
    const data: ReportData = {
      run: { ...runOnlyReportData().run, stages: [] },
      unavailable: { experiments: 'the dataset has no assignments table' },
    };
    expect(unavailableReason(data, 'experiments')).toBe('the dataset has no assignments table');
    expect(unavailableReason(data, 'churn')).toBe('the churn stage did not run');
    const html = renderReport(data);
    expect(html).toContain('Not available: the dataset has no assignments table');
    expect(html).toContain('Not available: the run summary lists no stages');
  });

  it('survives empty lists and non-finite numbers without printing NaN or undefined', () => {
    const data = sampleReportData();
    data.features!.kpisMonthly = [];
    data.features!.insights = {
      categorySpend: {
        categories: [],
        anovaPValue: null,
        kruskalWallisPValue: null,
        skippedReason: 'fewer than two categories',
      },
    };
    data.segments!.metricsByK = [];
    data.segments!.silhouette = null;
    delete data.segments!.migration;
    data.clv!.histogram = { edges: [0], counts: [] };
    data.clv!.holdout = [];
    data.clv!.top = [];
    data.churn!.auc = Number.NaN;
    data.churn!.calibration = [];
    data.churn!.importance = [];
    data.churn!.atRisk = [];
    data.cohorts!.retention[0] = [];
    data.forecast!.history = [];
    data.forecast!.mase = Number.POSITIVE_INFINITY;
    data.experiments!.experiments[0].pValue = null;
    data.experiments!.experiments[1].ci = [Number.NaN, Number.NaN];
    data.experiments!.policies = [];
    data.topProducts = [];
    const html = renderReport(data);
    expect(html).not.toMatch(/NaN|undefined|Infinity|\[object/);
    expect(html).toContain('Not available: the KPI table is empty');
    expect(html).toContain('Not available: no previous run to compare with');
    expect(html).toContain('Not available: the history is too short for a holdout period');
    expect(html).toContain('Not available: fewer than two categories');
    expect(html).toContain('No data');
  });
});
