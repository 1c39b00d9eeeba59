/**
 * Report layout (issue 15): no "running" row in a finished report, the feature dictionary in a collapsed
 * appendix, names that wrap only at underscores, a plain sentence for every quarantine reason, and headline
 * cards that say which spans they compare.
 */
import { describe, expect, it } from 'vitest';
import { QUARANTINE_REASONS } from '../../../activities/clean/rules';
import { QUARANTINE_REASON_SENTENCES, renderReport } from '../../../activities/report/html';
import { sampleReportData } from './fixture';

const cssOf = (html: string): string =>
  (/<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '').replace(/\/\*[\s\S]*?\*\//g, '');
const between = (html: string, start: string, end: string): string => {
  const from = html.indexOf(start);
  return from < 0 ? '' : html.slice(from, html.indexOf(end, from));
};

describe('report layout', () => {
  it('shows the report stage as "this report", never as running, and leaves it out of the durations', () => {
    const html = renderReport(sampleReportData());
    const stages = between(html, '<h3>Stages</h3>', '</section>');
    expect(stages).toContain('<span class="badge ok">this report</span>');
    expect(stages).not.toContain('>running<');
    expect(stages).not.toContain('<title>report,');
  });

  it('moves the feature dictionary out of the operational page into a collapsed appendix', () => {
    const data = sampleReportData();
    const html = renderReport(data);
    const operational = between(html, 'id="operational"', 'id="strategic"');
    expect(operational).not.toContain('Feature dictionary');
    const appendix = html.slice(html.indexOf('<section class="page" id="appendix">'));
    expect(html.indexOf('id="appendix"')).toBeGreaterThan(html.indexOf('id="strategic"'));
    // collapsed: <details> without the open attribute, the dictionary rows inside it
    expect(appendix).toMatch(
      /<details class="appendix"><summary>Feature dictionary \(\d+ features\)<\/summary>/,
    );
    const details = between(appendix, '<details', '</details>');
    const snake = data.features!.dictionary.find((f) => f.name.includes('_'))!.name;
    expect(details).toContain(`<code>${snake.split('_').join('_<wbr>')}</code>`);
    expect(details.split('<tr>').length - 2).toBe(data.features!.dictionary.length);
    expect(html).toContain('<a href="#appendix">Appendix</a>');
  });

  it('never breaks a name mid-word: no break-all, "anywhere" only for ids, snake_case wraps at underscores', () => {
    const data = sampleReportData();
    const html = renderReport(data);
    const css = cssOf(html);
    expect(css).not.toMatch(/word-break\s*:\s*break-all/);
    const anywhere = css.match(/[^{}]+\{[^}]*overflow-wrap:anywhere[^}]*\}/g) ?? [];
    expect(anywhere.map((rule) => rule.slice(0, rule.indexOf('{')).trim())).toEqual(['code.id']);
    // long ids (the export URI, the run id) may break anywhere; names may not
    expect(html).toMatch(/<code class="id">s3:\/\//);
    expect(html).toContain(`<code class="id">${data.run.runId}</code>`);
    for (const name of data.features!.dictionary.map((f) => f.name)) {
      expect(html).toContain(`<code>${name.split('_').join('_<wbr>')}</code>`);
    }
  });

  it('explains every quarantine reason of the clean stage in one plain sentence', () => {
    for (const reason of QUARANTINE_REASONS) {
      const sentence = QUARANTINE_REASON_SENTENCES[reason];
      expect(sentence, reason).toBeDefined();
      // one sentence: capitalised, a full stop at the end and none before another sentence
      expect(sentence).toMatch(/^[A-Z].*\.$/);
      expect(sentence).not.toMatch(/[.!?]\s+[A-Z]/);
    }
    const data = sampleReportData();
    data.dataQuality!.quarantinedByReason = Object.fromEntries(QUARANTINE_REASONS.map((r, i) => [r, i + 1]));
    const html = renderReport(data);
    const card = between(html, '<h3>Data quality</h3>', '</section>');
    expect(card).toContain('<h4>What each reason means</h4>');
    for (const reason of QUARANTINE_REASONS) {
      expect(card).toContain(`<dd>${QUARANTINE_REASON_SENTENCES[reason]}</dd>`);
    }
    // true to clean: quarantined rows are in no revenue figure
    expect(QUARANTINE_REASON_SENTENCES.missing_customer_id).toContain('out of every revenue figure');
  });

  it('draws bars only for quarantine reasons that caught rows, and lists every reason in the table', () => {
    const data = sampleReportData();
    data.dataQuality!.quarantinedByReason = { missing_customer_id: 120, zero_quantity: 0 };
    const card = between(renderReport(data), '<h3>Data quality</h3>', '</section>');
    const chart = between(card, '<svg', '</svg>');
    expect(chart).toContain('missing_customer_id');
    expect(chart).not.toContain('zero_quantity');
    // names wrap at underscores (<wbr>), so compare the table's text without them
    expect(card.slice(card.indexOf('</svg>')).replaceAll('<wbr>', '')).toContain('zero_quantity');
  });

  it('headline cards say which spans they compare and name the next open period', () => {
    const data = sampleReportData();
    data.headlines = {
      currency: 'GBP',
      revenue: {
        kind: 'monthToDate',
        current: { from: '2011-12-01', to: '2011-12-09', revenue: 341_539 },
        previous: { from: '2011-11-01', to: '2011-11-09', revenue: 400_000 },
        change: 341_539 / 400_000 - 1,
        label: 'Dec 1-9 vs Nov 1-9',
        currentLabel: 'Dec 1-9',
      },
      next: {
        label: 'next open day',
        date: '2012-01-02',
        dateText: 'Mon 2 Jan 2012',
        mean: 35_780,
        lower80: 21_368,
        upper80: 51_152,
      },
    };
    const html = renderReport(data);
    expect(html).toContain('<div class="sub">Dec 1-9 vs Nov 1-9: −14.6%</div>');
    expect(html).toContain('<div class="label">next open day</div>');
    expect(html).toContain('Mon 2 Jan 2012 · 80%: £21.4k – £51.2k');
    // the old whole-month comparison and the "Next day" card of a closed Saturday are gone
    expect(html).not.toMatch(/ on 20\d\d-\d\d</);
    expect(html).not.toContain('>Next day<');
    // the month's active customers say the span too
    expect(html).toMatch(/<div class="label">Active customers<\/div>.*?<div class="sub">Dec 1-9 · /);
  });

  it('says how many customers have no net purchase and that the CRM export names them so', () => {
    const data = sampleReportData();
    data.segments!.noNetPurchase = {
      name: 'No net purchase',
      rule: 'monetary_total <= 0 (every purchase returned or cancelled) -> No net purchase',
      customers: 42,
      actions: ['Leave out of value-based campaigns until a purchase is kept'],
    };
    const html = renderReport(data);
    const personas = between(html, '<h3>Personas</h3>', '</section>');
    expect(personas).toContain('<span class="badge warn">No net purchase</span>');
    expect(personas).toContain('42 customers have no net purchase');
    expect(personas).toContain('with no P(alive)');
  });
});
