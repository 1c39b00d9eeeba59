/**
 * Inline SVG charts for the report: plain strings, no script, no external resource. Every label from data
 * goes through `escapeHtml`; coordinates are rounded to 0.1 px so the same data gives the same bytes.
 */
import { escapeHtml as esc, fmtCompact, isNum } from './format';

/** Series colours: a restrained qualitative palette that stays distinct in greyscale print. */
export const PALETTE = ['#2f6fdf', '#f08c2e', '#23a37a', '#8a5cd6', '#d94a4a', '#1aa3c2', '#7c8796'];

/** Widths that match the page layout: one chart per row, or two side by side. */
export const FULL_WIDTH = 1000;
export const HALF_WIDTH = 490;

const FONT_SIZE = 11;
const TEXT = '#334155';
const MUTED = '#64748b';
const GRID = '#e5e9f0';
const AXIS = '#94a3b8';

/** Round to 0.1 px (deterministic, compact coordinates). */
function r(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/**
 * Approximate rendered width of text (per-character classes in em, measured on DejaVu Sans, the widest
 * common fallback of the system font stack, plus 5% so labels never overflow).
 */
export function textWidth(text: string, size = FONT_SIZE): number {
  let em = 0;
  for (const ch of text) {
    if (/[iljtfrI.,:;'!|()[\] ]/.test(ch)) em += 0.34;
    else if (/[mwMW@%]/.test(ch)) em += 0.93;
    else if (/[<>=+~&]/.test(ch)) em += 0.84;
    else if (/[A-Z]/.test(ch)) em += 0.7;
    else if (/[0-9]/.test(ch)) em += 0.64;
    else em += 0.6;
  }
  return em * size * 1.05;
}

/** Shorten text so that it fits in maxWidth pixels (and at most maxChars characters). */
export function fitText(text: string, maxWidth: number, maxChars = Infinity, size = FONT_SIZE): string {
  let chars = Array.from(text);
  if (chars.length > maxChars) chars = chars.slice(0, Math.max(1, maxChars));
  let candidate = chars.join('');
  if (candidate === text && textWidth(text, size) <= maxWidth) return text;
  while (chars.length > 1 && textWidth(`${candidate}…`, size) > maxWidth) {
    chars = chars.slice(0, -1);
    candidate = chars.join('');
  }
  return `${candidate}…`;
}

/** Shorten text to at most maxChars, ending with an ellipsis. */
export function truncate(text: string, maxChars: number): string {
  const chars = Array.from(text);
  return chars.length <= maxChars ? text : `${chars.slice(0, Math.max(1, maxChars - 1)).join('')}…`;
}

function svgOpen(width: number, height: number, label: string): string {
  return (
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${r(width)} ${r(height)}" ` +
    `width="${r(width)}" height="${r(height)}" role="img" aria-label="${esc(label)}">` +
    `<title>${esc(label)}</title>`
  );
}

function text(
  x: number,
  y: number,
  content: string,
  options: {
    anchor?: 'start' | 'middle' | 'end';
    size?: number;
    fill?: string;
    weight?: number;
    rotate?: number;
  } = {},
): string {
  const anchor = options.anchor ?? 'start';
  const attrs = [`x="${r(x)}"`, `y="${r(y)}"`];
  if (anchor !== 'start') attrs.push(`text-anchor="${anchor}"`);
  if ((options.size ?? FONT_SIZE) !== FONT_SIZE) attrs.push(`font-size="${options.size}"`);
  attrs.push(`fill="${options.fill ?? TEXT}"`);
  if (options.weight) attrs.push(`font-weight="${options.weight}"`);
  if (options.rotate) attrs.push(`transform="rotate(${options.rotate} ${r(x)} ${r(y)})"`);
  return `<text ${attrs.join(' ')}>${esc(content)}</text>`;
}

/** A placeholder drawn when a chart has nothing to show. */
function emptyChart(width: number, label: string, message: string): string {
  const height = 60;
  return (
    svgOpen(width, height, label) +
    `<rect x="0.5" y="0.5" width="${r(width - 1)}" height="${height - 1}" fill="#f8fafc" stroke="${GRID}" rx="4"/>` +
    text(width / 2, height / 2 + 4, message, { anchor: 'middle', fill: MUTED }) +
    '</svg>'
  );
}

/** 1, 2, 2.5 or 5 times a power of ten, near span / count. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** Axis domain widened to round ticks, and the ticks. */
export function niceScale(
  min: number,
  max: number,
  count = 5,
): { min: number; max: number; ticks: number[] } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 1, ticks: [0, 0.5, 1] };
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= min === 0 ? 0 : pad;
    max += pad;
  }
  const step = niceStep(max - min, count);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-6; i++) ticks.push(Number((lo + i * step).toPrecision(12)));
  return { min: lo, max: hi, ticks };
}

/** Linear map of [d0, d1] onto [p0, p1]. */
function linear(d0: number, d1: number, p0: number, p1: number): (value: number) => number {
  const span = d1 - d0 || 1;
  return (value) => p0 + ((value - d0) / span) * (p1 - p0);
}

/** A legend entry. */
interface LegendItem {
  name: string;
  color: string;
  kind?: 'box' | 'line' | 'dash' | 'band' | 'dot';
  opacity?: number;
}

/** One row of legend entries starting at (x, y); returns the markup. */
function legend(items: LegendItem[], x: number, y: number): string {
  let out = '';
  let cursor = x;
  for (const item of items) {
    const kind = item.kind ?? 'box';
    if (kind === 'line' || kind === 'dash') {
      out += `<line x1="${r(cursor)}" y1="${r(y - 4)}" x2="${r(cursor + 16)}" y2="${r(y - 4)}" stroke="${item.color}" stroke-width="2"${kind === 'dash' ? ' stroke-dasharray="4 3"' : ''}/>`;
      cursor += 21;
    } else if (kind === 'dot') {
      out += `<circle cx="${r(cursor + 5)}" cy="${r(y - 4)}" r="4" fill="${item.color}"/>`;
      cursor += 14;
    } else {
      const opacity = item.opacity ?? 1;
      out += `<rect x="${r(cursor)}" y="${r(y - 9)}" width="12" height="10" rx="2" fill="${item.color}"${opacity < 1 ? ` fill-opacity="${opacity}"` : ''}/>`;
      cursor += 17;
    }
    out += text(cursor, y, item.name, { fill: MUTED });
    cursor += textWidth(item.name) + 18;
  }
  return out;
}

/** A horizontal bar. */
export interface BarItem {
  label: string;
  value: number;
  color?: string;
}

/** Options of barChart. */
export interface BarChartOptions {
  /** Accessible name (also the tooltip of the chart). */
  label: string;
  items: BarItem[];
  /** Value labels at the end of the bars. */
  format: (value: number) => string;
  width?: number;
  color?: string;
  /** Longest label kept before truncation (the full label stays in the bar's tooltip). */
  maxLabelChars?: number;
}

/** Horizontal bar chart, one row per item, with the value printed at the end of each bar. */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? HALF_WIDTH;
  const items = options.items.filter((item) => isNum(item.value));
  if (items.length === 0) return emptyChart(width, options.label, 'No data');
  const maxLeft = width * 0.45;
  const labels = items.map((item) => fitText(item.label, maxLeft - 14, options.maxLabelChars ?? 40));
  const valueLabels = items.map((item) => options.format(item.value));
  const left = Math.min(maxLeft, Math.max(...labels.map((label) => textWidth(label))) + 14);
  const right = Math.max(...valueLabels.map((label) => textWidth(label))) + 12;
  const rowHeight = 24;
  const top = 6;
  const height = top + items.length * rowHeight + 6;
  const minValue = Math.min(0, ...items.map((item) => item.value));
  const maxValue = Math.max(0, ...items.map((item) => item.value));
  const x = linear(minValue, maxValue === minValue ? 1 : maxValue, left, width - right);
  const zero = x(0);
  let body = '';
  items.forEach((item, i) => {
    const y = top + i * rowHeight;
    const x0 = Math.min(zero, x(item.value));
    const barWidth = Math.max(item.value === 0 ? 0 : 1, Math.abs(x(item.value) - zero));
    body += text(left - 8, y + 16, labels[i], { anchor: 'end' });
    body +=
      `<rect x="${r(x0)}" y="${r(y + 5)}" width="${r(barWidth)}" height="15" rx="2" fill="${item.color ?? options.color ?? PALETTE[0]}">` +
      `<title>${esc(`${item.label}: ${valueLabels[i]}`)}</title></rect>`;
    const valueX = item.value < 0 ? x0 - 5 : x0 + barWidth + 5;
    body += text(valueX, y + 16, valueLabels[i], { anchor: item.value < 0 ? 'end' : 'start', fill: MUTED });
  });
  body += `<line x1="${r(zero)}" y1="${top}" x2="${r(zero)}" y2="${r(height - 6)}" stroke="${AXIS}"/>`;
  return svgOpen(width, height, options.label) + body + '</svg>';
}

/** A named series of values, one per category. */
export interface Series {
  name: string;
  values: (number | null)[];
  color?: string;
}

/** Options of groupedBarChart. */
export interface GroupedBarChartOptions {
  label: string;
  categories: string[];
  series: Series[];
  format: (value: number) => string;
  width?: number;
  maxLabelChars?: number;
}

/** Horizontal grouped bars: one group per category, one bar per series, legend on top. */
export function groupedBarChart(options: GroupedBarChartOptions): string {
  const width = options.width ?? HALF_WIDTH;
  const { categories, series } = options;
  const values = series.flatMap((s) => s.values.filter(isNum));
  if (categories.length === 0 || values.length === 0) return emptyChart(width, options.label, 'No data');
  const maxLeft = width * 0.42;
  const labels = categories.map((category) => fitText(category, maxLeft - 14, options.maxLabelChars ?? 40));
  const left = Math.min(maxLeft, Math.max(...labels.map((label) => textWidth(label))) + 14);
  const right = 54;
  const barHeight = 11;
  const groupHeight = series.length * (barHeight + 2) + 12;
  const top = 26;
  const height = top + categories.length * groupHeight + 4;
  const maxValue = Math.max(0, ...values);
  const x = linear(0, maxValue || 1, left, width - right);
  let body = legend(
    series.map((s, i) => ({ name: s.name, color: s.color ?? PALETTE[i % PALETTE.length] })),
    left,
    14,
  );
  categories.forEach((category, c) => {
    const groupTop = top + c * groupHeight;
    body += text(left - 8, groupTop + (series.length * (barHeight + 2)) / 2 + 4, labels[c], {
      anchor: 'end',
    });
    series.forEach((s, i) => {
      const value = s.values[c];
      if (!isNum(value)) return;
      const y = groupTop + i * (barHeight + 2);
      const barWidth = Math.max(value > 0 ? 1 : 0, x(value) - left);
      const color = s.color ?? PALETTE[i % PALETTE.length];
      body +=
        `<rect x="${r(left)}" y="${r(y)}" width="${r(barWidth)}" height="${barHeight}" rx="2" fill="${color}">` +
        `<title>${esc(`${category}, ${s.name}: ${options.format(value)}`)}</title></rect>`;
      body += text(left + barWidth + 4, y + barHeight - 2, options.format(value), { size: 10, fill: MUTED });
    });
  });
  body += `<line x1="${r(left)}" y1="${top - 4}" x2="${r(left)}" y2="${r(height - 4)}" stroke="${AXIS}"/>`;
  return svgOpen(width, height, options.label) + body + '</svg>';
}

/** Left margin wide enough for formatted y tick labels. */
function yAxisMargin(ticks: number[], format: (value: number) => string): number {
  return Math.max(34, Math.max(...ticks.map((tick) => textWidth(format(tick)))) + 14);
}

/** Horizontal gridlines with y tick labels. */
function yGrid(
  ticks: number[],
  y: (value: number) => number,
  left: number,
  right: number,
  format: (value: number) => string,
): string {
  let out = '';
  for (const tick of ticks) {
    out += `<line x1="${r(left)}" y1="${r(y(tick))}" x2="${r(right)}" y2="${r(y(tick))}" stroke="${GRID}"/>`;
    out += text(left - 6, y(tick) + 4, format(tick), { anchor: 'end', fill: MUTED, size: 10 });
  }
  return out;
}

function axisTitles(
  width: number,
  height: number,
  top: number,
  bottom: number,
  xTitle?: string,
  yTitle?: string,
): string {
  let out = '';
  if (xTitle) out += text(width / 2, height - 4, xTitle, { anchor: 'middle', fill: MUTED, size: 10 });
  if (yTitle)
    out += text(12, top + (height - top - bottom) / 2, yTitle, {
      anchor: 'middle',
      fill: MUTED,
      size: 10,
      rotate: -90,
    });
  return out;
}

/** Options of columnChart. */
export interface ColumnChartOptions {
  label: string;
  categories: string[];
  series: Series[];
  /** Format of the y axis ticks. */
  yFormat?: (value: number) => string;
  width?: number;
  height?: number;
  xTitle?: string;
  yTitle?: string;
}

/** Vertical grouped columns with a y axis (e.g. predicted against actual per bucket). */
export function columnChart(options: ColumnChartOptions): string {
  const width = options.width ?? HALF_WIDTH;
  const height = options.height ?? 240;
  const { categories, series } = options;
  const values = series.flatMap((s) => s.values.filter(isNum));
  if (categories.length === 0 || values.length === 0) return emptyChart(width, options.label, 'No data');
  const yFormat = options.yFormat ?? fmtCompact;
  const scale = niceScale(Math.min(0, ...values), Math.max(0, ...values), 5);
  const top = series.length > 1 ? 30 : 12;
  const bottom = options.xTitle ? 40 : 26;
  const left = yAxisMargin(scale.ticks, yFormat) + (options.yTitle ? 14 : 0);
  const right = 10;
  const y = linear(scale.min, scale.max, height - bottom, top);
  const slot = (width - left - right) / categories.length;
  const barWidth = Math.min(28, (slot * 0.75) / series.length);
  let body = yGrid(scale.ticks, y, left, width - right, yFormat);
  if (series.length > 1) {
    body += legend(
      series.map((s, i) => ({ name: s.name, color: s.color ?? PALETTE[i % PALETTE.length] })),
      left,
      14,
    );
  }
  const labelEvery = Math.max(1, Math.ceil((categories.length * 36) / (width - left - right)));
  categories.forEach((category, c) => {
    const center = left + slot * (c + 0.5);
    const groupLeft = center - (barWidth * series.length) / 2;
    series.forEach((s, i) => {
      const value = s.values[c];
      if (!isNum(value)) return;
      const y0 = y(Math.max(0, value));
      const h = Math.max(value !== 0 ? 1 : 0, Math.abs(y(value) - y(0)));
      body +=
        `<rect x="${r(groupLeft + i * barWidth)}" y="${r(y0)}" width="${r(barWidth - 1)}" height="${r(h)}" fill="${s.color ?? PALETTE[i % PALETTE.length]}">` +
        `<title>${esc(`${category}, ${s.name}: ${yFormat(value)}`)}</title></rect>`;
    });
    if (c % labelEvery === 0)
      body += text(center, height - bottom + 14, truncate(category, 12), {
        anchor: 'middle',
        size: 10,
        fill: MUTED,
      });
  });
  body += `<line x1="${r(left)}" y1="${r(y(0))}" x2="${r(width - right)}" y2="${r(y(0))}" stroke="${AXIS}"/>`;
  body += axisTitles(width, height, top, bottom, options.xTitle, options.yTitle);
  return svgOpen(width, height, options.label) + body + '</svg>';
}

/** Options of histogram. */
export interface HistogramOptions {
  label: string;
  /** Bin edges, counts.length + 1 of them. */
  edges: number[];
  counts: number[];
  xFormat?: (value: number) => string;
  width?: number;
  height?: number;
  xTitle?: string;
  yTitle?: string;
  color?: string;
}

/**
 * Histogram drawn as adjacent bins of equal drawn width labelled with their edges; uneven edges (e.g. for a
 * heavy tail) stay readable, and the tooltip of each bin gives its range and count.
 */
export function histogram(options: HistogramOptions): string {
  const width = options.width ?? HALF_WIDTH;
  const height = options.height ?? 240;
  const { edges, counts } = options;
  if (counts.length === 0 || edges.length !== counts.length + 1) {
    return emptyChart(width, options.label, 'No data');
  }
  const xFormat = options.xFormat ?? fmtCompact;
  const scale = niceScale(0, Math.max(1, ...counts.filter(isNum)), 5);
  const top = 12;
  const bottom = options.xTitle ? 42 : 28;
  const left = yAxisMargin(scale.ticks, fmtCompact) + (options.yTitle ? 14 : 0);
  const right = 14;
  const y = linear(0, scale.max, height - bottom, top);
  const binWidth = (width - left - right) / counts.length;
  let body = yGrid(scale.ticks, y, left, width - right, fmtCompact);
  counts.forEach((count, i) => {
    if (!isNum(count)) return;
    const x0 = left + i * binWidth;
    const h = Math.max(count > 0 ? 1 : 0, y(0) - y(count));
    body +=
      `<rect x="${r(x0 + 0.5)}" y="${r(y(0) - h)}" width="${r(Math.max(1, binWidth - 1))}" height="${r(h)}" fill="${options.color ?? PALETTE[0]}">` +
      `<title>${esc(`${xFormat(edges[i])} – ${xFormat(edges[i + 1])}: ${fmtCompact(count)}`)}</title></rect>`;
  });
  const labelEvery = Math.max(1, Math.ceil((edges.length * 40) / (width - left - right)));
  edges.forEach((edge, i) => {
    if (i % labelEvery !== 0 && i !== edges.length - 1) return;
    if (
      i === edges.length - 1 &&
      i % labelEvery !== 0 &&
      edges.length - 1 - (i - (i % labelEvery)) < labelEvery / 2
    )
      return;
    body += text(left + i * binWidth, height - bottom + 14, xFormat(edge), {
      anchor: 'middle',
      size: 10,
      fill: MUTED,
    });
  });
  body += `<line x1="${r(left)}" y1="${r(y(0))}" x2="${r(width - right)}" y2="${r(y(0))}" stroke="${AXIS}"/>`;
  body += axisTitles(width, height, top, bottom, options.xTitle, options.yTitle);
  return svgOpen(width, height, options.label) + body + '</svg>';
}

/** A shaded interval around a line (e.g. an 80% prediction interval). */
export interface Band {
  name: string;
  lower: (number | null)[];
  upper: (number | null)[];
  color?: string;
  opacity?: number;
}

/** A line series over the chart's x positions. */
export interface LineSeries extends Series {
  dashed?: boolean;
  /** Draw a dot at every point (useful for short series). */
  markers?: boolean;
}

/** Options of lineChart. */
export interface LineChartOptions {
  label: string;
  /** One label per x position (dates or months), in order. */
  x: string[];
  series: LineSeries[];
  bands?: Band[];
  yFormat?: (value: number) => string;
  width?: number;
  height?: number;
  yTitle?: string;
  /** Index of the first forecast point: a dashed divider is drawn there. */
  dividerAt?: number;
  dividerLabel?: string;
  /** Start the y axis at zero when every value is non-negative (default true). */
  includeZero?: boolean;
}

/** Runs of consecutive indices where every given array has a finite value. */
function finiteRuns(length: number, ...arrays: (number | null)[][]): number[][] {
  const runs: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < length; i++) {
    if (arrays.every((array) => isNum(array[i]))) current.push(i);
    else if (current.length > 0) {
      runs.push(current);
      current = [];
    }
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

/** Line chart over ordered x labels, with optional shaded interval bands and a forecast divider. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? FULL_WIDTH;
  const height = options.height ?? 280;
  const n = options.x.length;
  const bands = options.bands ?? [];
  const values = [
    ...options.series.flatMap((s) => s.values.filter(isNum)),
    ...bands.flatMap((band) => [...band.lower.filter(isNum), ...band.upper.filter(isNum)]),
  ];
  if (n === 0 || values.length === 0) return emptyChart(width, options.label, 'No data');
  const yFormat = options.yFormat ?? fmtCompact;
  let lo = Math.min(...values);
  const hi = Math.max(...values);
  if ((options.includeZero ?? true) && lo >= 0) lo = 0;
  const scale = niceScale(lo, hi, 5);
  const top = 30;
  const bottom = 28;
  const left = yAxisMargin(scale.ticks, yFormat) + (options.yTitle ? 14 : 0);
  const right = 16;
  const x = (i: number): number =>
    n === 1 ? (left + width - right) / 2 : left + (i / (n - 1)) * (width - left - right);
  const y = linear(scale.min, scale.max, height - bottom, top);
  let body = yGrid(scale.ticks, y, left, width - right, yFormat);
  const legendItems: LegendItem[] = [];
  const lineLegend: LegendItem[] = [];
  let cumulativeTransparency = 1;
  bands.forEach((band) => {
    const color = band.color ?? PALETTE[0];
    const opacity = band.opacity ?? 0.15;
    for (const run of finiteRuns(n, band.lower, band.upper)) {
      const upper = run.map((i) => `${r(x(i))},${r(y(band.upper[i] as number))}`);
      const lower = run
        .slice()
        .reverse()
        .map((i) => `${r(x(i))},${r(y(band.lower[i] as number))}`);
      body += `<polygon class="band" points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="${opacity}"><title>${esc(band.name)}</title></polygon>`;
    }
    // Bands overlap (the 80% band lies inside the 95% band): the legend shows the combined shade.
    cumulativeTransparency *= 1 - opacity;
    legendItems.push({ name: band.name, color, kind: 'band', opacity: 1 - cumulativeTransparency });
  });
  if (options.dividerAt !== undefined && options.dividerAt > 0 && options.dividerAt < n) {
    const dx = (x(options.dividerAt - 1) + x(options.dividerAt)) / 2;
    body += `<line x1="${r(dx)}" y1="${top}" x2="${r(dx)}" y2="${r(height - bottom)}" stroke="${AXIS}" stroke-dasharray="3 3"/>`;
    if (options.dividerLabel) body += text(dx + 4, top + 10, options.dividerLabel, { size: 10, fill: MUTED });
  }
  options.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    for (const run of finiteRuns(n, s.values)) {
      const d = run
        .map((index, k) => `${k === 0 ? 'M' : 'L'}${r(x(index))} ${r(y(s.values[index] as number))}`)
        .join('');
      body += `<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`;
      if (s.markers || run.length === 1) {
        for (const index of run) {
          body += `<circle cx="${r(x(index))}" cy="${r(y(s.values[index] as number))}" r="2.5" fill="${color}"><title>${esc(`${options.x[index]}: ${yFormat(s.values[index] as number)}`)}</title></circle>`;
        }
      }
    }
    lineLegend.push({ name: s.name, color, kind: s.dashed ? 'dash' : 'line' });
  });
  const maxLabels = Math.max(2, Math.floor((width - left - right) / 80));
  const every = Math.max(1, Math.ceil(n / maxLabels));
  for (let i = 0; i < n; i += every) {
    body += text(x(i), height - bottom + 16, options.x[i], { anchor: 'middle', size: 10, fill: MUTED });
  }
  body += `<line x1="${r(left)}" y1="${r(height - bottom)}" x2="${r(width - right)}" y2="${r(height - bottom)}" stroke="${AXIS}"/>`;
  body += legend([...lineLegend, ...legendItems], left, 14);
  body += axisTitles(width, height, top, bottom, undefined, options.yTitle);
  return svgOpen(width, height, options.label) + body + '</svg>';
}

/** A point of an x-y chart; `weight` scales the dot. */
export interface XyPoint {
  x: number;
  y: number;
  weight?: number;
  tooltip?: string;
}

/** Options of xyChart. */
export interface XyChartOptions {
  label: string;
  points: XyPoint[];
  xDomain?: [number, number];
  yDomain?: [number, number];
  xFormat?: (value: number) => string;
  yFormat?: (value: number) => string;
  /** Draw the y = x reference line (perfect calibration). */
  diagonal?: boolean;
  /** A dashed horizontal line at this y (a goal or threshold), labelled at its right end; inside the y domain. */
  referenceY?: { value: number; label: string };
  width?: number;
  height?: number;
  xTitle?: string;
  yTitle?: string;
  color?: string;
}

/** Points joined by a line over numeric x and y (e.g. a calibration curve), with an optional y = x line. */
export function xyChart(options: XyChartOptions): string {
  const width = options.width ?? HALF_WIDTH;
  const height = options.height ?? 260;
  const points = options.points.filter((p) => isNum(p.x) && isNum(p.y)).sort((a, b) => a.x - b.x);
  if (points.length === 0) return emptyChart(width, options.label, 'No data');
  const xFormat = options.xFormat ?? fmtCompact;
  const yFormat = options.yFormat ?? fmtCompact;
  const xs = niceScale(
    options.xDomain?.[0] ?? Math.min(...points.map((p) => p.x)),
    options.xDomain?.[1] ?? Math.max(...points.map((p) => p.x)),
    5,
  );
  const reference = options.referenceY && isNum(options.referenceY.value) ? options.referenceY : undefined;
  // The reference line is always drawn: the y domain stretches to hold it.
  const yValues = [...points.map((p) => p.y), ...(reference ? [reference.value] : [])];
  const ys = niceScale(
    options.yDomain?.[0] ?? Math.min(...yValues),
    options.yDomain?.[1] ?? Math.max(...yValues),
    5,
  );
  const top = 12;
  const bottom = options.xTitle ? 42 : 28;
  const left = yAxisMargin(ys.ticks, yFormat) + (options.yTitle ? 14 : 0);
  const right = 14;
  const x = linear(xs.min, xs.max, left, width - right);
  const y = linear(ys.min, ys.max, height - bottom, top);
  let body = yGrid(ys.ticks, y, left, width - right, yFormat);
  for (const tick of xs.ticks) {
    body += `<line x1="${r(x(tick))}" y1="${top}" x2="${r(x(tick))}" y2="${r(height - bottom)}" stroke="${GRID}"/>`;
    body += text(x(tick), height - bottom + 14, xFormat(tick), { anchor: 'middle', size: 10, fill: MUTED });
  }
  if (options.diagonal) {
    const a = Math.max(xs.min, ys.min);
    const b = Math.min(xs.max, ys.max);
    body += `<line x1="${r(x(a))}" y1="${r(y(a))}" x2="${r(x(b))}" y2="${r(y(b))}" stroke="${AXIS}" stroke-dasharray="4 3"/>`;
  }
  if (reference) {
    const ry = y(reference.value);
    body += `<line x1="${r(left)}" y1="${r(ry)}" x2="${r(width - right)}" y2="${r(ry)}" stroke="${PALETTE[4]}" stroke-dasharray="5 4"/>`;
    body += text(width - right - 4, ry - 5, reference.label, { anchor: 'end', size: 10, fill: PALETTE[4] });
  }
  const color = options.color ?? PALETTE[0];
  body += `<path d="${points.map((p, i) => `${i === 0 ? 'M' : 'L'}${r(x(p.x))} ${r(y(p.y))}`).join('')}" fill="none" stroke="${color}" stroke-width="2"/>`;
  const maxWeight = Math.max(1, ...points.map((p) => p.weight ?? 1));
  for (const p of points) {
    const radius = 2.5 + 3.5 * Math.sqrt((p.weight ?? 1) / maxWeight);
    body += `<circle cx="${r(x(p.x))}" cy="${r(y(p.y))}" r="${r(radius)}" fill="${color}" fill-opacity="0.85" stroke="#fff"><title>${esc(p.tooltip ?? `${xFormat(p.x)}, ${yFormat(p.y)}`)}</title></circle>`;
  }
  body += `<line x1="${r(left)}" y1="${r(height - bottom)}" x2="${r(width - right)}" y2="${r(height - bottom)}" stroke="${AXIS}"/>`;
  body += axisTitles(width, height, top, bottom, options.xTitle, options.yTitle);
  return svgOpen(width, height, options.label) + body + '</svg>';
}

/** Sequential blue scale, t in 0..1 (light to dark). */
export function sequentialColor(t: number): string {
  const stops = [
    [247, 251, 255],
    [198, 219, 239],
    [107, 174, 214],
    [33, 113, 181],
    [8, 48, 107],
  ];
  const clamped = Math.min(1, Math.max(0, isNum(t) ? t : 0));
  const position = clamped * (stops.length - 1);
  const index = Math.min(stops.length - 2, Math.floor(position));
  const f = position - index;
  const channel = (c: number): string =>
    Math.round(stops[index][c] + f * (stops[index + 1][c] - stops[index][c]))
      .toString(16)
      .padStart(2, '0');
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}

/** Options of heatmap. */
export interface HeatmapOptions {
  label: string;
  rowLabels: string[];
  colLabels: string[];
  /** Printed in the cells (null: empty cell). */
  values: (number | null)[][];
  /** Colour intensity 0..1 per cell (default: values divided by their maximum). */
  shade?: (number | null)[][];
  format: (value: number) => string;
  rowTitle?: string;
  colTitle?: string;
  width?: number;
  /** Legend of the shading: labels at 0 and 1. */
  legendLabels?: [string, string];
  /** Cells to outline (e.g. customers who kept their persona). */
  outline?: (row: number, col: number) => boolean;
}

/** Grid of shaded cells with their values printed where they fit (cohort retention, migration matrix). */
export function heatmap(options: HeatmapOptions): string {
  const width = options.width ?? FULL_WIDTH;
  const rows = options.rowLabels.length;
  const cols = options.colLabels.length;
  const finite = options.values.flatMap((row) => row.filter(isNum));
  if (rows === 0 || cols === 0 || finite.length === 0) return emptyChart(width, options.label, 'No data');
  const maxValue = Math.max(...finite.map(Math.abs)) || 1;
  const shadeOf = (row: number, col: number): number | null => {
    const shade = options.shade?.[row]?.[col];
    if (options.shade) return isNum(shade) ? shade : null;
    const value = options.values[row]?.[col];
    return isNum(value) ? Math.abs(value) / maxValue : null;
  };
  const rowLabels = options.rowLabels.map((label) => fitText(label, 170, Infinity, 10));
  const colLabels = options.colLabels.map((label) => fitText(label, 120, Infinity, 10));
  const left = Math.max(...rowLabels.map((label) => textWidth(label, 10))) + 14 + (options.rowTitle ? 18 : 0);
  const right = 10;
  const cellWidth = Math.max(12, Math.min(64, (width - left - right) / cols));
  const rotate = colLabels.some((label) => textWidth(label, 10) > cellWidth - 4);
  const colLabelHeight = rotate
    ? Math.min(130, Math.max(...colLabels.map((label) => textWidth(label, 10))) * 0.72 + 12)
    : 18;
  const top = (options.colTitle ? 20 : 4) + colLabelHeight;
  const cellHeight = rows > 16 ? 18 : 24;
  const gridWidth = cellWidth * cols;
  const showText = cellWidth >= 30;
  const legendHeight = options.legendLabels ? 30 : 6;
  const height = top + rows * cellHeight + legendHeight;
  let body = '';
  if (options.colTitle)
    body += text(left + gridWidth / 2, 13, options.colTitle, {
      anchor: 'middle',
      fill: MUTED,
      size: 10,
      weight: 600,
    });
  if (options.rowTitle)
    body += text(12, top + (rows * cellHeight) / 2, options.rowTitle, {
      anchor: 'middle',
      fill: MUTED,
      size: 10,
      weight: 600,
      rotate: -90,
    });
  colLabels.forEach((label, c) => {
    const cx = left + (c + 0.5) * cellWidth;
    if (rotate) body += text(cx + 3, top - 6, label, { size: 10, fill: MUTED, rotate: -40 });
    else body += text(cx, top - 6, label, { anchor: 'middle', size: 10, fill: MUTED });
  });
  for (let row = 0; row < rows; row++) {
    const y0 = top + row * cellHeight;
    body += text(left - 8, y0 + cellHeight / 2 + 4, rowLabels[row], { anchor: 'end', size: 10 });
    for (let col = 0; col < cols; col++) {
      const value = options.values[row]?.[col];
      if (!isNum(value)) continue;
      const shade = shadeOf(row, col) ?? 0;
      const x0 = left + col * cellWidth;
      const tooltip = `${options.rowLabels[row]} → ${options.colLabels[col]}: ${options.format(value)}`;
      body += `<rect x="${r(x0)}" y="${r(y0)}" width="${r(cellWidth - 1)}" height="${cellHeight - 1}" fill="${sequentialColor(shade)}"><title>${esc(tooltip)}</title></rect>`;
      if (options.outline?.(row, col)) {
        body += `<rect x="${r(x0 + 1)}" y="${r(y0 + 1)}" width="${r(cellWidth - 3)}" height="${cellHeight - 3}" fill="none" stroke="#f08c2e" stroke-width="1.5"/>`;
      }
      if (showText) {
        body += text(x0 + cellWidth / 2, y0 + cellHeight / 2 + 3.5, options.format(value), {
          anchor: 'middle',
          size: cellWidth < 40 ? 9 : 10,
          fill: shade > 0.55 ? '#ffffff' : TEXT,
        });
      }
    }
  }
  if (options.legendLabels) {
    const ly = top + rows * cellHeight + 12;
    const steps = 6;
    const legendLeft = left;
    body += text(legendLeft, ly + 10, options.legendLabels[0], { size: 10, fill: MUTED });
    const swatchLeft = legendLeft + textWidth(options.legendLabels[0], 10) + 6;
    for (let i = 0; i < steps; i++) {
      body += `<rect x="${r(swatchLeft + i * 18)}" y="${r(ly + 1)}" width="18" height="10" fill="${sequentialColor(i / (steps - 1))}"/>`;
    }
    body += text(swatchLeft + steps * 18 + 6, ly + 10, options.legendLabels[1], { size: 10, fill: MUTED });
  }
  return (
    svgOpen(Math.min(width, left + gridWidth + right + (rotate ? 60 : 0)), height, options.label) +
    body +
    '</svg>'
  );
}

/** One estimate with its interval. */
export interface IntervalItem {
  label: string;
  estimate: number;
  low: number;
  high: number;
  color?: string;
}

/** Options of forestPlot. */
export interface ForestPlotOptions {
  label: string;
  items: IntervalItem[];
  format: (value: number) => string;
  /** Value of no effect, drawn as a dashed line (default 0). */
  reference?: number;
  width?: number;
  maxLabelChars?: number;
}

/** Estimates with interval whiskers, one row each, around a reference line (experiment lifts, policy ranges). */
export function forestPlot(options: ForestPlotOptions): string {
  const width = options.width ?? HALF_WIDTH;
  const items = options.items.filter((item) => isNum(item.estimate) && isNum(item.low) && isNum(item.high));
  if (items.length === 0) return emptyChart(width, options.label, 'No data');
  const reference = options.reference ?? 0;
  const maxLeft = width * 0.4;
  const labels = items.map((item) => fitText(item.label, maxLeft - 14, options.maxLabelChars ?? 60));
  const scale = niceScale(
    Math.min(reference, ...items.map((item) => item.low)),
    Math.max(reference, ...items.map((item) => item.high)),
    5,
  );
  const left = Math.min(maxLeft, Math.max(...labels.map((label) => textWidth(label))) + 14);
  const right = 16;
  const rowHeight = 26;
  const top = 8;
  const bottom = 24;
  const height = top + items.length * rowHeight + bottom;
  const x = linear(scale.min, scale.max, left, width - right);
  let body = '';
  for (const tick of scale.ticks) {
    body += `<line x1="${r(x(tick))}" y1="${top}" x2="${r(x(tick))}" y2="${r(height - bottom)}" stroke="${GRID}"/>`;
    body += text(x(tick), height - bottom + 14, options.format(tick), {
      anchor: 'middle',
      size: 10,
      fill: MUTED,
    });
  }
  body += `<line x1="${r(x(reference))}" y1="${top}" x2="${r(x(reference))}" y2="${r(height - bottom)}" stroke="${MUTED}" stroke-dasharray="4 3"/>`;
  items.forEach((item, i) => {
    const cy = top + i * rowHeight + rowHeight / 2;
    const color = item.color ?? PALETTE[0];
    body += text(left - 8, cy + 4, labels[i], { anchor: 'end' });
    body += `<line x1="${r(x(item.low))}" y1="${r(cy)}" x2="${r(x(item.high))}" y2="${r(cy)}" stroke="${color}" stroke-width="2"/>`;
    for (const end of [item.low, item.high]) {
      body += `<line x1="${r(x(end))}" y1="${r(cy - 5)}" x2="${r(x(end))}" y2="${r(cy + 5)}" stroke="${color}" stroke-width="2"/>`;
    }
    body += `<circle cx="${r(x(item.estimate))}" cy="${r(cy)}" r="5" fill="${color}" stroke="#fff" stroke-width="1.5"><title>${esc(`${item.label}: ${options.format(item.estimate)} (${options.format(item.low)} to ${options.format(item.high)})`)}</title></circle>`;
  });
  return svgOpen(width, height, options.label) + body + '</svg>';
}
