/**
 * The report in a real browser: Debian's chromium driven by playwright-core (no browser download). Renders
 * the full fixture to a file, opens it from disk, and checks that it loads with no console error and no
 * network request, that every chart draws, that hostile product names show as text without running, and
 * that a full-page screenshot is a real image. Set REPORT_SCREENSHOT_DIR to keep the HTML and PNG.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../../activities/report/html';
import { HOSTILE_PERSONA, HOSTILE_PRODUCT, sampleReportData } from './fixture';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `report browser test SKIPPED: ${CHROMIUM} does not exist (install it with: apt-get install -y chromium)`,
  );
}

interface ChartBox {
  label: string;
  width: number;
  height: number;
  /** Marks (rect, path, circle, polygon, line) with a non-empty bounding box. */
  drawn: number;
}

// Page-side code as source text: the project compiles without the DOM library.
const MEASURE_CHARTS = `Array.from(document.querySelectorAll('svg')).map((svg) => {
  const box = svg.getBoundingClientRect();
  let drawn = 0;
  for (const mark of svg.querySelectorAll('rect, path, circle, polygon, line')) {
    const b = mark.getBBox();
    if (b.width > 0 || b.height > 0) drawn += 1;
  }
  return { label: svg.getAttribute('aria-label') || '', width: box.width, height: box.height, drawn };
})`;

describe.skipIf(!hasChromium)('report in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  const keep = process.env.REPORT_SCREENSHOT_DIR;

  beforeAll(async () => {
    dir = keep ?? mkdtempSync(join(tmpdir(), 'custflow-report-'));
    mkdirSync(dir, { recursive: true });
    // launch() gives every browser a fresh temporary profile (user data dir), removed on close.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    if (!keep && dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens offline with every chart drawn, escaped text and no script run', async () => {
    const data = sampleReportData();
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReport(data));

    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, offline: true });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('request', (request) => requests.push(request.url()));

    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: 'load' });

    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(requests).toEqual([url]);

    // Every chart has a size and drawn marks.
    const charts = await page.evaluate<ChartBox[]>(MEASURE_CHARTS);
    expect(charts).toHaveLength(29);
    for (const chart of charts) {
      expect(chart.width, chart.label).toBeGreaterThan(100);
      expect(chart.height, chart.label).toBeGreaterThan(40);
      expect(chart.drawn, chart.label).toBeGreaterThanOrEqual(3);
    }
    // The forecast has its two interval bands; the cohort heatmap one cell per observed cohort-month.
    const forecastBands = await page.locator('svg[aria-label^="Revenue forecast"] polygon.band').count();
    expect(forecastBands).toBe(2);
    const observed = data.cohorts!.retention.flat().filter((v) => v !== null).length;
    expect(observed).toBe(78);
    const cohortCells = await page.locator('svg[aria-label^="Cohort retention"] rect:has(title)').count();
    expect(cohortCells).toBe(observed);

    // Hostile names are shown as text, and nothing ran.
    const text = (await page.textContent('body')) ?? '';
    expect(text).toContain(HOSTILE_PRODUCT);
    expect(text).toContain(HOSTILE_PERSONA);
    expect(await page.locator('td', { hasText: HOSTILE_PRODUCT }).count()).toBe(1);
    const dom = await page.evaluate<{ xss: unknown; scripts: number; images: number }>(
      '({ xss: window.__xss, scripts: document.scripts.length, images: document.images.length })',
    );
    expect(dom).toEqual({ xss: undefined, scripts: 0, images: 0 });

    // Printing puts the strategic page on a new sheet.
    await page.emulateMedia({ media: 'print' });
    const breaks = await page.evaluate<{ operational: string; strategic: string }>(
      `({ operational: getComputedStyle(document.getElementById('operational')).breakBefore,
          strategic: getComputedStyle(document.getElementById('strategic')).breakBefore })`,
    );
    expect(breaks).toEqual({ operational: 'auto', strategic: 'page' });
    await page.emulateMedia({ media: 'screen' });

    const png = join(dir, 'report.png');
    await page.screenshot({ path: png, fullPage: true });
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(statSync(png).size).toBeGreaterThan(20_000);
    // IHDR: width and height of the full page.
    expect(bytes.readUInt32BE(16)).toBe(1200);
    expect(bytes.readUInt32BE(20)).toBeGreaterThan(5_000);
    if (keep) console.log(`report screenshot: ${png}`);
    await context.close();
  });

  it('shows the run status whole in its card, on a wide and a narrow screen', async () => {
    for (const status of ['COMPLETED', 'TERMINATED']) {
      const data = sampleReportData();
      data.run.status = status;
      const file = join(dir, `status-${status}.html`);
      writeFileSync(file, renderReport(data));
      for (const width of [1200, 380]) {
        const context = await browser.newContext({ viewport: { width, height: 900 }, offline: true });
        const page = await context.newPage();
        await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
        const box = await page.evaluate<{ text: string; scroll: number; client: number; overflow: string }>(
          `(() => { const v = [...document.querySelectorAll('.kpi')].find((k) => k.querySelector('.label').textContent === 'Run status').querySelector('.value');
             return { text: v.textContent, scroll: v.scrollWidth, client: v.clientWidth, overflow: getComputedStyle(v).textOverflow }; })()`,
        );
        expect(box.text).toBe(status);
        expect(box.overflow, `${status} at ${width}px`).toBe('clip');
        expect(box.scroll, `${status} at ${width}px`).toBeLessThanOrEqual(box.client);
        await context.close();
      }
    }
  });
});
