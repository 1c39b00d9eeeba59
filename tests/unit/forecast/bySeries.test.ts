/**
 * Per-category and per-segment forecasts against planted truth: a category with a planted weekly pattern,
 * a flat one, one too young to forecast, and two personas that split every category's sales 70/30.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDailyRevenue } from '../../../activities/features/revenueSeries';
import { computeSeriesForecasts } from '../../../activities/forecast/bySeries';
import { OTHER_CATEGORIES } from '../../../activities/forecast/seriesTables';
import { readSeriesForecastRows } from '../../../activities/report/cards/forecastSeries';
import { computeForecast } from '../../../activities/forecast/computeForecast';
import { forecastSection, type ForecastConfig } from '../../../lib/stageConfig/forecast';
import type { SeriesDimensionSummary } from '../../../activities/forecast/contract';
import { dayNumber, isoDate, weekday } from '../../../activities/forecast/series';
import { withDuck, type Duck } from '../../../lib/duck';
import { Rng } from '../../../lib/random';

/** Planted weekday multipliers (Sunday..Saturday) of the weekly category; mean 1. */
const WEEKLY = [0.4, 0.8, 0.9, 1.0, 1.1, 1.3, 1.5];
const WEEKLY_LEVEL = 1000;
const FLAT_LEVEL = 500;
const NOISE_SD = 40;
const FIRST = '2023-01-01';
const CUTOFF = '2024-02-29T23:59:59.999Z';
const DAYS = dayNumber('2024-02-29') - dayNumber(FIRST) + 1; // 425 days
/** The young category sells only in the last 60 days (under the default minimum of 112). */
const YOUNG_DAYS = 60;

/** One line per category, persona and day: the personas split each category's day 70/30. */
async function plantTransactions(duck: Duck): Promise<void> {
  const rng = new Rng(14);
  const rows: string[] = [];
  const first = dayNumber(FIRST);
  for (let i = 0; i < DAYS; i++) {
    const day = first + i;
    const date = isoDate(day);
    const daily: [string, number][] = [
      ['weekly', WEEKLY_LEVEL * WEEKLY[weekday(day)] + rng.normal(0, NOISE_SD)],
      ['flat', FLAT_LEVEL + rng.normal(0, NOISE_SD)],
    ];
    if (i >= DAYS - YOUNG_DAYS) daily.push(['young', 200 + rng.normal(0, 20)]);
    for (const [category, amount] of daily) {
      for (const [customer, share] of [
        ['a', 0.7],
        ['b', 0.3],
      ] as const) {
        const value = Math.round(amount * share * 100) / 100;
        rows.push(
          `('${customer}', '${customer}-${category}-${i}', TIMESTAMP '${date} 12:00:00', 'p-${category}', '${category}', 1, ${value})`,
        );
      }
    }
  }
  await duck.run(`CREATE TABLE transactions (customer_id VARCHAR, order_id VARCHAR, ts TIMESTAMP,
    product_id VARCHAR, category VARCHAR, quantity INTEGER, amount DECIMAL(18,4))`);
  for (let i = 0; i < rows.length; i += 2000) {
    await duck.run(`INSERT INTO transactions VALUES ${rows.slice(i, i + 2000).join(',')}`);
  }
  await duck.run(`CREATE TABLE segments AS SELECT * FROM (VALUES ('a', 'Regulars'), ('b', 'Occasionals'))
    t(customer_id, persona)`);
}

async function forecastAll(duck: Duck, outDir: string, config: ForecastConfig) {
  await buildDailyRevenue(duck, { cutoff: CUTOFF });
  const total = await computeForecast(duck, {
    source: { table: 'daily_revenue' },
    config,
    cutoff: CUTOFF,
    outDir,
  });
  const series = await computeSeriesForecasts(duck, {
    transactionsTable: 'transactions',
    segments: { table: 'segments' },
    cutoff: CUTOFF,
    config,
    total: { context: total.context, forecast: total.forecast },
    outDir,
  });
  const rows = await readSeriesForecastRows(duck, series.paths.forecasts);
  return { total, series, rows };
}

let outDir = '';
let result: Awaited<ReturnType<typeof forecastAll>>;
beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'forecast-by-series-'));
  result = await withDuck(async (duck) => {
    await plantTransactions(duck);
    return forecastAll(duck, outDir, forecastSection.parse({}));
  });
}, 180_000);
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

function dimension(name: string): SeriesDimensionSummary {
  const found = result.series.summary.dimensions.find((d) => d.dimension === name);
  if (!found) throw new Error(`no ${name} dimension`);
  return found;
}

describe('forecasts per category and per segment', () => {
  it('recovers the planted weekly pattern of one category and beats seasonal naive on it', () => {
    const weekly = dimension('category').series.find((s) => s.series === 'weekly');
    expect(weekly?.status).toBe('forecast');
    expect(weekly?.mase).not.toBeNull();
    expect(weekly!.mase!).toBeLessThan(weekly!.baselineMase!);
    const rows = result.rows.filter((r) => r.dimension === 'category' && r.series === 'weekly');
    expect(rows).toHaveLength(28);
    for (const row of rows) {
      const planted = WEEKLY_LEVEL * WEEKLY[weekday(dayNumber(row.date))];
      expect(Math.abs(row.mean - planted) / planted).toBeLessThan(0.08);
    }
  });

  it('keeps a flat category flat, its 80% interval around the planted level', () => {
    const rows = result.rows.filter((r) => r.dimension === 'category' && r.series === 'flat');
    expect(rows).toHaveLength(28);
    for (const row of rows) {
      expect(Math.abs(row.mean - FLAT_LEVEL)).toBeLessThan(3 * NOISE_SD);
      expect(row.lower80).toBeLessThan(FLAT_LEVEL);
      expect(row.upper80).toBeGreaterThan(FLAT_LEVEL);
    }
    const means = rows.map((r) => r.mean);
    expect(Math.max(...means) - Math.min(...means)).toBeLessThan(2 * NOISE_SD);
  });

  it('calls a category with 60 days of history too short, loudly', () => {
    const young = dimension('category').series.find((s) => s.series === 'young');
    expect(young?.status).toBe('too_short');
    expect(young?.reason).toContain('60 days');
    expect(young?.reason).toContain('minHistoryDays (112)');
    const warning = result.series.warnings.find((w) => w.code === 'forecast_series_not_forecast');
    expect(warning?.message).toContain('1 of 3 category series');
    expect(warning?.message).toContain('young');
  });

  it('checks coherence: the series partition the history and their forecasts add up to the total', () => {
    const categories = dimension('category').coherence!;
    expect(Math.abs(categories.historyGap!)).toBeLessThan(1e-9);
    // young (~200 a day) has no forecast: the sum misses about 28 x 200 of the total's ~28 x 1,700.
    expect(categories.unforecastShare).toBeGreaterThan(0);
    const plantedTotal = 28 * (WEEKLY_LEVEL + FLAT_LEVEL + 200);
    expect(Math.abs(categories.totalForecast! - plantedTotal) / plantedTotal).toBeLessThan(0.05);
    const plantedSeries = 28 * (WEEKLY_LEVEL + FLAT_LEVEL);
    expect(Math.abs(categories.seriesTotal - plantedSeries) / plantedSeries).toBeLessThan(0.05);
    expect(categories.gap!).toBeCloseTo(
      (categories.seriesTotal - categories.totalForecast!) / categories.totalForecast!,
      12,
    );

    const segments = dimension('segment');
    expect(segments.series.map((s) => s.series)).toEqual(['Regulars', 'Occasionals']);
    expect(segments.series.every((s) => s.status === 'forecast')).toBe(true);
    expect(segments.series[0].revenueShare).toBeCloseTo(0.7, 3);
    const coherence = segments.coherence!;
    expect(Math.abs(coherence.historyGap!)).toBeLessThan(1e-9);
    expect(coherence.unforecastShare).toBe(0);
    expect(coherence.coherent).toBe(true);
    expect(Math.abs(coherence.gap!)).toBeLessThan(0.05);
  });

  it('sums the categories beyond the top N into one series that still partitions the history, same bytes twice', async () => {
    const config = forecastSection.parse({ bySeries: { topCategories: 1, segments: false } });
    const dirs = [
      await mkdtemp(join(tmpdir(), 'forecast-by-series-top-')),
      await mkdtemp(join(tmpdir(), 'forecast-by-series-top-')),
    ];
    try {
      const runs = [];
      for (const dir of dirs) {
        runs.push(
          await withDuck(async (duck) => {
            await plantTransactions(duck);
            return forecastAll(duck, dir, config);
          }),
        );
      }
      const top = runs[0];
      const categories = top.series.summary.dimensions;
      expect(categories.map((d) => d.dimension)).toEqual(['category']);
      const names = categories[0].series.map((s) => s.series);
      expect(names).toEqual(['weekly', OTHER_CATEGORIES]);
      const other = categories[0].series[1];
      expect(other.status).toBe('forecast');
      expect(Math.abs(categories[0].coherence!.historyGap!)).toBeLessThan(1e-9);
      expect(other.revenueShare + categories[0].series[0].revenueShare).toBeCloseTo(1, 9);
      // Same inputs and config: the same bytes and the same summary.
      expect(runs[1].series.summary).toEqual(top.series.summary);
      for (const key of ['forecasts', 'history'] as const) {
        const [a, b] = await Promise.all(runs.map((r) => readFile(r.series.paths[key])));
        expect(b.equals(a), key).toBe(true);
      }
    } finally {
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('skips the segments loudly when there are no assignments', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forecast-by-series-noseg-'));
    try {
      const config = forecastSection.parse({ bySeries: { categories: false } });
      const out = await withDuck(async (duck) => {
        await plantTransactions(duck);
        await buildDailyRevenue(duck, { cutoff: CUTOFF });
        const total = await computeForecast(duck, {
          source: { table: 'daily_revenue' },
          config: { ...config, origins: 1 },
          cutoff: CUTOFF,
          outDir: dir,
        });
        return computeSeriesForecasts(duck, {
          transactionsTable: 'transactions',
          segments: { unavailable: 'the segment stage did not complete' },
          cutoff: CUTOFF,
          config,
          total: { context: total.context, forecast: total.forecast },
          outDir: dir,
        });
      });
      expect(out.summary.dimensions).toEqual([
        {
          dimension: 'segment',
          status: 'skipped',
          reason: 'the segment stage did not complete',
          series: [],
          coherence: null,
        },
      ]);
      expect(out.warnings.map((w) => w.code)).toEqual(['forecast_segments_unavailable']);
      expect(out.rows.forecasts).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
