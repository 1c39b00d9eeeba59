import { describe, expect, it } from 'vitest';
import {
  currencySymbol,
  fmtCompact,
  fmtDuration,
  fmtInt,
  fmtMoney,
  fmtMoneyCompact,
  fmtNum,
  fmtP,
  fmtPct,
  fmtSignedPct,
  fmtTimestamp,
} from '../../../activities/report/format';
import {
  barChart,
  fitText,
  forestPlot,
  heatmap,
  histogram,
  lineChart,
  niceScale,
  sequentialColor,
  textWidth,
} from '../../../activities/report/svg';

/** Numeric attribute values of every element `name` in the markup. */
function attrs(svg: string, name: string, attr: string): number[] {
  const out: number[] = [];
  for (const match of svg.matchAll(new RegExp(`<${name}\\b[^>]*>`, 'g'))) {
    const value = new RegExp(`\\s${attr}="([^"]*)"`).exec(match[0]);
    if (value) out.push(Number(value[1]));
  }
  return out;
}

describe('number formatting', () => {
  it('uses thousands separators, percentages, currency and a typographic minus', () => {
    expect(fmtInt(1_234_567.4)).toBe('1,234,567');
    expect(fmtInt(-1_234)).toBe('−1,234');
    expect(fmtNum(-0.0004, 2)).toBe('0.00');
    expect(fmtNum(1234.5678, 2)).toBe('1,234.57');
    expect(fmtPct(0.1234)).toBe('12.3%');
    expect(fmtSignedPct(0.042)).toBe('+4.2%');
    expect(fmtSignedPct(-0.042)).toBe('−4.2%');
    expect(fmtMoney(1_234.5, 'GBP')).toBe('£1,235');
    expect(fmtMoney(12.5, 'USD')).toBe('$12.50');
    expect(fmtMoney(-310, 'GBP')).toBe('−£310.00');
    // no currency (or no valid code): a plain number, never a guessed '$'
    expect(fmtMoney(5, 'not a code')).toBe('5.00');
    expect(fmtMoney(12.5)).toBe('12.50');
    expect(fmtMoney(-1_234.5)).toBe('−1,235');
    expect(fmtMoneyCompact(1_234, 'GBP')).toBe('£1.2k');
    expect(fmtMoneyCompact(1_234)).toBe('1.2k');
    expect(fmtMoneyCompact(-2_500_000, 'EUR')).toBe('−€2.5M');
    expect(currencySymbol('USD')).toBe('$');
    expect(currencySymbol(undefined)).toBe('');
    expect(fmtCompact(1_234)).toBe('1.2k');
    expect(fmtCompact(2_500_000)).toBe('2.5M');
    expect(fmtCompact(0.25)).toBe('0.25');
    expect(fmtP(0.0004)).toBe('<0.001');
    expect(fmtP(0.0132)).toBe('0.013');
  });

  it('shows missing and non-finite values as a dash', () => {
    for (const value of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(fmtInt(value)).toBe('—');
      expect(fmtPct(value)).toBe('—');
      expect(fmtMoney(value)).toBe('—');
      expect(fmtP(value)).toBe('—');
    }
  });

  it('formats durations and timestamps', () => {
    expect(fmtDuration(850)).toBe('850 ms');
    expect(fmtDuration(12_345)).toBe('12.3 s');
    expect(fmtDuration(125_000)).toBe('2 min 05 s');
    expect(fmtDuration(3_720_000)).toBe('1 h 02 min');
    expect(fmtTimestamp('2011-11-30T23:59:59.999Z')).toBe('2011-11-30 23:59 UTC');
    expect(fmtTimestamp('not a date')).toBe('not a date');
  });
});

describe('axis scales', () => {
  it('widens the domain to round ticks of 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceScale(0, 97).ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceScale(0, 1).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceScale(-3, 7).ticks).toEqual([-4, -2, 0, 2, 4, 6, 8]);
    expect(niceScale(0, 12_000).ticks).toEqual([0, 2_500, 5_000, 7_500, 10_000, 12_500]);
    expect(niceScale(5, 5).ticks.length).toBeGreaterThan(1);
  });

  it('maps 0 and 1 to the ends of the sequential scale', () => {
    expect(sequentialColor(0)).toBe('#f7fbff');
    expect(sequentialColor(1)).toBe('#08306b');
    expect(sequentialColor(Number.NaN)).toBe('#f7fbff');
  });
});

describe('charts', () => {
  it('draws bar lengths proportional to the values', () => {
    const svg = barChart({
      label: 'bars',
      items: [
        { label: 'a', value: 10 },
        { label: 'b', value: 5 },
        { label: 'c', value: 2.5 },
      ],
      format: String,
    });
    const widths = attrs(svg, 'rect', 'width');
    expect(widths).toHaveLength(3);
    expect(widths[0] / widths[1]).toBeCloseTo(2, 2);
    expect(widths[0] / widths[2]).toBeCloseTo(4, 1);
  });

  it('draws histogram bins with heights proportional to the counts', () => {
    const svg = histogram({ label: 'h', edges: [0, 1, 2, 3], counts: [1, 2, 4] });
    const heights = attrs(svg, 'rect', 'height');
    expect(heights).toHaveLength(3);
    expect(heights[1] / heights[0]).toBeCloseTo(2, 1);
    expect(heights[2] / heights[0]).toBeCloseTo(4, 1);
  });

  it('draws one heatmap cell per finite value, darkest at the maximum', () => {
    const svg = heatmap({
      label: 'm',
      rowLabels: ['r1', 'r2', 'r3'],
      colLabels: ['c1', 'c2', 'c3'],
      values: [
        [1, 2, 3],
        [4, null, 6],
        [7, 8, 9],
      ],
      format: String,
    });
    const cells = svg.match(/<rect [^>]*><title>/g) ?? [];
    expect(cells).toHaveLength(8);
    expect(count(svg, `fill="${sequentialColor(1)}"`)).toBe(1);
    expect(svg).toContain('<title>r3 → c3: 9</title>');
  });

  it('shades one polygon per band and breaks lines at missing values', () => {
    const svg = lineChart({
      label: 'l',
      x: ['1', '2', '3', '4', '5', '6'],
      series: [{ name: 'actual', values: [1, 2, null, 4, 5, null] }],
      bands: [
        { name: '95%', lower: [null, null, null, 3, 4, 5], upper: [null, null, null, 5, 6, 7] },
        { name: '80%', lower: [null, null, null, 3.5, 4.5, 5.5], upper: [null, null, null, 4.5, 5.5, 6.5] },
      ],
      dividerAt: 3,
      dividerLabel: 'forecast',
    });
    expect(count(svg, '<polygon')).toBe(2);
    expect(count(svg, '<path')).toBe(2);
    expect(svg).toContain('>forecast</text>');
  });

  it('puts an estimate of zero on the reference line of a forest plot', () => {
    const svg = forestPlot({
      label: 'f',
      items: [
        { label: 'null effect', estimate: 0, low: -0.1, high: 0.1 },
        { label: 'positive', estimate: 0.2, low: 0.05, high: 0.35 },
      ],
      format: String,
    });
    const reference = /<line x1="([^"]+)"[^>]*stroke-dasharray/.exec(svg);
    expect(reference).not.toBeNull();
    expect(attrs(svg, 'circle', 'cx')[0]).toBe(Number(reference![1]));
  });

  it('escapes labels inside SVG and draws a placeholder without data', () => {
    const svg = barChart({ label: 'x"<', items: [{ label: '<b>&', value: 1 }], format: String });
    expect(svg).toContain('&lt;b&gt;&amp;');
    expect(svg).toContain('aria-label="x&quot;&lt;"');
    expect(svg).not.toContain('<b>');
    const empty = barChart({ label: 'none', items: [], format: String });
    expect(empty).toContain('No data');
    expect(empty.startsWith('<svg class="chart"')).toBe(true);
  });

  it('shortens labels to the room they have', () => {
    const long = 'WHITE HANGING HEART T-LIGHT HOLDER WITH A VERY LONG NAME';
    const fitted = fitText(long, 150);
    expect(fitted.endsWith('…')).toBe(true);
    expect(textWidth(fitted)).toBeLessThanOrEqual(150);
    expect(fitText('short', 150)).toBe('short');
  });
});

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}
