import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forecastSection } from '../../../lib/stageConfig/forecast';
import { computeForecast } from '../../../activities/forecast/computeForecast';
import { withDuck, type Duck } from '../../../lib/duck';
import { Rng } from '../../../lib/random';
import { HAS_ONLINE_RETAIL, ONLINE_RETAIL_BY_DAY, ONLINE_RETAIL_GLOB } from '../../sharedData';

const folder = ONLINE_RETAIL_BY_DAY;
const present = HAS_ONLINE_RETAIL;
if (!present) console.warn(`stage.test: ${folder} not found; the Online Retail stage check is skipped`);

let outDir = '';
beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'forecast-stage-test-'));
});
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

/** A features-shaped daily_revenue table from per-day revenue and trading flags, starting at `start`. */
async function createDailyRevenue(
  duck: Duck,
  start: string,
  revenue: Float64Array,
  trading: Uint8Array,
  table = 'daily_revenue',
): Promise<void> {
  await duck.run('CREATE OR REPLACE TABLE daily_in (i INTEGER, revenue DOUBLE, has_trading BOOLEAN)');
  const appender = await duck.connection.createAppender('daily_in');
  for (let i = 0; i < revenue.length; i++) {
    appender.appendInteger(i);
    appender.appendDouble(revenue[i]);
    appender.appendBoolean(trading[i] === 1);
    appender.endRow();
  }
  appender.closeSync();
  await duck.run(`CREATE OR REPLACE TABLE ${table} AS
    SELECT (DATE '${start}' + i) AS date, revenue, 0::BIGINT AS orders, 0::BIGINT AS customers, has_trading
    FROM daily_in ORDER BY i`);
}

/** Planted daily revenue: level + trend + yearly cycle + Gaussian noise; its expectation on day t is `truth(t)`. */
function plantedDaily(days: number, seed: number) {
  const truth = (t: number) => 10_000 + 4 * t + 1500 * Math.sin((2 * Math.PI * t) / 365.25);
  const rng = new Rng(seed);
  const revenue = Float64Array.from({ length: days }, (_, t) => truth(t) + rng.normal(0, 600));
  return { truth, revenue, trading: new Uint8Array(days).fill(1) };
}

describe('forecast stage: Online Retail daily revenue', () => {
  it.skipIf(!present)(
    'detects Saturday as closed, trims the days after 2011-12-09 and beats seasonal naive with near-nominal coverage',
    async () => {
      // Approximates features' daily_revenue from the raw files: line amounts of lines with a customer and a
      // positive price, every calendar day to the December cutoff, has_trading = any line that day.
      const columns =
        "{'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'Description': 'VARCHAR', 'Quantity': 'DOUBLE', " +
        "'InvoiceDate': 'TIMESTAMP', 'UnitPrice': 'DOUBLE', 'CustomerID': 'VARCHAR', 'Country': 'VARCHAR'}";
      const result = await withDuck(async (duck) => {
        await duck.run(`CREATE TABLE lines AS
          SELECT CAST(InvoiceDate AS DATE) AS day, Quantity * UnitPrice AS amount
          FROM read_csv('${ONLINE_RETAIL_GLOB}', header = true, columns = ${columns})
          WHERE CustomerID IS NOT NULL AND CustomerID <> '' AND UnitPrice > 0`);
        await duck.run(`CREATE TABLE daily_revenue AS
          WITH days AS (SELECT day, sum(amount) AS revenue FROM lines GROUP BY day),
          calendar AS (SELECT unnest(generate_series(DATE '2010-12-01', DATE '2011-12-31', INTERVAL 1 DAY))::DATE AS date)
          SELECT c.date, coalesce(d.revenue, 0)::DOUBLE AS revenue, 0::BIGINT AS orders, 0::BIGINT AS customers,
                 d.day IS NOT NULL AS has_trading
          FROM calendar c LEFT JOIN days d ON d.day = c.date ORDER BY c.date`);
        const out = await computeForecast(duck, {
          source: { table: 'daily_revenue' },
          config: forecastSection.parse({}),
          outDir,
        });
        const rows = await duck.all<{ date: string; mean: number; lower80: number; upper95: number }>(
          `SELECT strftime(date, '%Y-%m-%d') AS date, mean, lower80, upper95
           FROM read_parquet('${out.paths.forecast}') ORDER BY date`,
        );
        const history = await duck.one<{ n: number; first: string; last: string }>(
          `SELECT count(*)::INTEGER AS n, strftime(min(date), '%Y-%m-%d') AS first, strftime(max(date), '%Y-%m-%d') AS last
           FROM read_parquet('${out.paths.history}')`,
        );
        return { out, rows, history };
      });
      const { metrics } = result.out;
      console.log(
        `Online Retail, day grain, horizon 28, 5 origins: chosen ${metrics.model}, MASE ${metrics.mase?.toFixed(3)} ` +
          `(seasonal naive ${metrics.baselineMase?.toFixed(3)}), MAPE ${metrics.mape?.toFixed(1)}%, ` +
          `coverage80 ${metrics.coverage80?.toFixed(3)}, coverage95 ${metrics.coverage95?.toFixed(3)}\n` +
          metrics.scores.map((s) => `  ${s.name}: MASE ${s.mase?.toFixed(3) ?? 'not scored'}`).join('\n'),
      );
      // Saturday (6) never trades; Sunday does.
      expect(metrics.closedWeekdays).toEqual([6]);
      expect(metrics.closedWeekdaysSource).toBe('auto');
      // The data end on Friday 2011-12-09; the 22 zero-filled days to the cutoff are cut.
      expect(metrics.lastObservedDate).toBe('2011-12-09');
      expect(metrics.seriesEnd).toBe('2011-12-09');
      expect(metrics.points).toBe(374);
      expect(result.history).toEqual({ n: 374, first: '2010-12-01', last: '2011-12-09' });
      expect(metrics.forecastStart).toBe('2011-12-10');
      expect(metrics.notes.some((n) => n.includes('22 days after the last trading day 2011-12-09'))).toBe(
        true,
      );
      // The chosen model beats the baseline; its intervals cover within 10 points of nominal.
      expect(metrics.model).not.toBeNull();
      expect(metrics.origins).toBe(5);
      expect(metrics.backtestPoints).toBe(120); // 5 windows x 28 days, less 20 Saturdays
      expect(metrics.mase!).toBeLessThan(metrics.baselineMase!);
      expect(Math.abs(metrics.coverage80! - 0.8)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(metrics.coverage95! - 0.95)).toBeLessThanOrEqual(0.1);
      // Forecast: 28 days from Saturday 2011-12-10, Saturdays exactly 0, open days positive with ordered bounds.
      expect(result.rows).toHaveLength(28);
      expect(result.rows[0].date).toBe('2011-12-10');
      expect(result.rows[27].date).toBe('2012-01-06');
      for (const [i, row] of result.rows.entries()) {
        if (i % 7 === 0) expect(row.mean).toBe(0);
        else {
          expect(row.mean).toBeGreaterThan(0);
          expect(row.lower80).toBeLessThan(row.mean);
          expect(row.upper95).toBeGreaterThan(row.mean);
        }
      }
      const report = JSON.parse(await readFile(result.out.paths.backtest, 'utf8')) as {
        chosen: string;
        scores: { name: string }[];
      };
      expect(report.chosen).toBe(metrics.model);
      expect(report.scores.map((s) => s.name)).toEqual(metrics.scores.map((s) => s.name));
    },
    60_000,
  );
});

describe('forecast stage: the forecast starts after the cutoff', () => {
  it.skipIf(!present)(
    'Online Retail December 2011: starts 2012-01-01 (not inside December), scores the same lead times, next open day',
    async () => {
      const columns =
        "{'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'Description': 'VARCHAR', 'Quantity': 'DOUBLE', " +
        "'InvoiceDate': 'TIMESTAMP', 'UnitPrice': 'DOUBLE', 'CustomerID': 'VARCHAR', 'Country': 'VARCHAR'}";
      const result = await withDuck(async (duck) => {
        await duck.run(`CREATE TABLE daily_revenue AS
          WITH lines AS (
            SELECT CAST(InvoiceDate AS DATE) AS day, Quantity * UnitPrice AS amount
            FROM read_csv('${ONLINE_RETAIL_GLOB}', header = true, columns = ${columns})
            WHERE CustomerID IS NOT NULL AND CustomerID <> '' AND UnitPrice > 0),
          days AS (SELECT day, sum(amount) AS revenue FROM lines GROUP BY day),
          calendar AS (SELECT unnest(generate_series(DATE '2010-12-01', DATE '2011-12-31', INTERVAL 1 DAY))::DATE AS date)
          SELECT c.date, coalesce(d.revenue, 0)::DOUBLE AS revenue, 0::BIGINT AS orders, 0::BIGINT AS customers,
                 d.day IS NOT NULL AS has_trading
          FROM calendar c LEFT JOIN days d ON d.day = c.date ORDER BY c.date`);
        const out = await computeForecast(duck, {
          source: { table: 'daily_revenue' },
          config: forecastSection.parse({}),
          cutoff: '2011-12-31T23:59:59.999Z',
          outDir,
        });
        const rows = await duck.all<{ date: string; mean: number }>(
          `SELECT strftime(date, '%Y-%m-%d') AS date, mean FROM read_parquet('${out.paths.forecast}') ORDER BY date`,
        );
        return { out, rows };
      });
      const { metrics } = result.out;
      console.log(
        `Online Retail with cutoff 2011-12-31: lead ${metrics.lead} days, chosen ${metrics.model}, MASE ${metrics.mase?.toFixed(3)} ` +
          `(seasonal naive ${metrics.baselineMase?.toFixed(3)}), coverage80 ${metrics.coverage80?.toFixed(3)}, ` +
          `coverage95 ${metrics.coverage95?.toFixed(3)}, next ${JSON.stringify(metrics.next)}`,
      );
      expect(metrics.lastObservedDate).toBe('2011-12-09');
      expect(metrics.lead).toBe(22); // Dec 10..31
      expect(metrics.cutoff).toBe('2011-12-31T23:59:59.999Z');
      expect(metrics.forecastStart).toBe('2012-01-01');
      expect(result.rows).toHaveLength(28);
      expect(result.rows[0].date).toBe('2012-01-01');
      expect(result.rows.every((r) => r.date > '2011-12-31')).toBe(true);
      // 2012-01-01 is a Sunday, an open day for Online Retail (only Saturday is closed).
      expect(metrics.next?.date).toBe('2012-01-01');
      expect(metrics.next!.mean).toBeGreaterThan(0);
      expect(metrics.next!.lower80).toBeLessThan(metrics.next!.upper80);
      // The backtest skips 22 days after each origin, as the shown forecast does: same points, other windows.
      expect(result.out.backtest.settings.lead).toBe(22);
      expect(metrics.backtestPoints).toBe(120);
      expect(
        metrics.notes.some((n) => n.includes('scores forecasts made as far ahead (periods 23 to 50')),
      ).toBe(true);
      expect(metrics.model).not.toBeNull();
    },
    90_000,
  );

  it('names the next open day: the day after a Friday cutoff is a closed Saturday, so the next is Sunday', async () => {
    // Planted: 400 days from Monday 2021-01-04, every Saturday closed (no trading, 0), the data ending on
    // Wednesday 2022-02-02 (day 394) and the cutoff on Friday 2022-02-04: lead 2 days (Thu, Fri).
    const days = 400;
    const { revenue, trading } = plantedDaily(days, 5);
    const start = Date.UTC(2021, 0, 4) / 86_400_000;
    for (let t = 0; t < days; t++) {
      const weekday = (((start + t + 4) % 7) + 7) % 7;
      if (weekday === 6) {
        revenue[t] = 0;
        trading[t] = 0;
      }
    }
    const lastDay = 394; // 2022-02-02
    for (let t = lastDay + 1; t < days; t++) {
      revenue[t] = 0;
      trading[t] = 0;
    }
    const result = await withDuck(async (duck) => {
      await createDailyRevenue(duck, '2021-01-04', revenue.slice(0, 397), trading.slice(0, 397));
      return computeForecast(duck, {
        source: { table: 'daily_revenue' },
        config: forecastSection.parse({ horizon: 14 }),
        cutoff: '2022-02-04T23:59:59.999Z',
        outDir,
      });
    });
    const { metrics, forecast } = result;
    expect(metrics.closedWeekdays).toEqual([6]);
    expect(metrics.lastObservedDate).toBe('2022-02-02');
    expect(metrics.lead).toBe(2);
    expect(metrics.forecastStart).toBe('2022-02-05'); // Saturday, forecast as exactly 0
    expect(forecast!.mean[0]).toBe(0);
    expect(metrics.next?.date).toBe('2022-02-06'); // Sunday: the first open day
    expect(metrics.next!.mean).toBeGreaterThan(5000);
    expect(metrics.next!.mean).toBe(forecast!.mean[1]);
  });
});

describe('forecast stage: short history', () => {
  it('completes without a forecast and says why when 40 days cannot hold a 28-day horizon', async () => {
    const { revenue, trading } = plantedDaily(40, 3);
    const result = await withDuck(async (duck) => {
      await createDailyRevenue(duck, '2021-03-01', revenue, trading);
      const out = await computeForecast(duck, {
        source: { table: 'daily_revenue' },
        config: forecastSection.parse({}),
        outDir,
      });
      const forecastRows = await duck.one<{ n: number }>(
        `SELECT count(*)::INTEGER AS n FROM read_parquet('${out.paths.forecast}')`,
      );
      const columns = await duck.all<{ column_name: string }>(
        `SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('${out.paths.forecast}'))`,
      );
      return { out, forecastRows: forecastRows.n, columns: columns.map((c) => c.column_name) };
    });
    const { metrics } = result.out;
    expect(metrics.model).toBeNull();
    expect(metrics.mase).toBeNull();
    expect(metrics.points).toBe(40);
    // Rule: training window >= horizon (28), plus one backtest window of 28: 56 days.
    expect(metrics.reason).toContain('has 40 days');
    expect(metrics.reason).toContain('needs at least 56');
    expect(metrics.notes).toEqual([`no forecast: ${metrics.reason}`]);
    expect(result.out.forecast).toBeNull();
    expect(result.forecastRows).toBe(0);
    expect(result.columns).toEqual([
      'date',
      'grain',
      'mean',
      'lower80',
      'upper80',
      'lower95',
      'upper95',
      'model',
    ]);
  });

  it('completes without a forecast when no day ever traded', async () => {
    const metrics = await withDuck(async (duck) => {
      await createDailyRevenue(duck, '2021-03-01', new Float64Array(30), new Uint8Array(30));
      const out = await computeForecast(duck, {
        source: { table: 'daily_revenue' },
        config: forecastSection.parse({}),
        outDir,
      });
      return out.metrics;
    });
    expect(metrics.model).toBeNull();
    expect(metrics.reason).toContain('had any trading');
    expect(metrics.lastObservedDate).toBeNull();
  });
});

describe('forecast stage: week grain on three years of planted data', () => {
  it('forecasts 28 weeks close to the planted weekly expectation, read from Parquet', async () => {
    // 2021-01-04 is a Monday; 1096 days = 156 full weeks + 4 days (a partial last week, dropped).
    const days = 1096;
    const { truth, revenue, trading } = plantedDaily(days, 11);
    const result = await withDuck(async (duck) => {
      await createDailyRevenue(duck, '2021-01-04', revenue, trading);
      const path = join(outDir, 'daily_revenue.parquet');
      await duck.toParquet('SELECT * FROM daily_revenue ORDER BY date', path);
      const out = await computeForecast(duck, {
        source: { path },
        config: forecastSection.parse({ grain: 'week' }),
        outDir,
      });
      const rows = await duck.all<{
        date: string;
        grain: string;
        mean: number;
        lower95: number;
        upper95: number;
      }>(
        `SELECT strftime(date, '%Y-%m-%d') AS date, grain, mean, lower95, upper95
         FROM read_parquet('${out.paths.forecast}') ORDER BY date`,
      );
      return { out, rows };
    });
    const { metrics } = result.out;
    let relError = 0;
    let covered = 0;
    for (const [k, row] of result.rows.entries()) {
      expect(row.grain).toBe('week');
      expect(row.date).toBe(new Date(Date.UTC(2024, 0, 1 + 7 * k)).toISOString().slice(0, 10));
      // Planted expectation of week k after the series: the sum of its 7 days' expectations.
      let expected = 0;
      for (let d = 0; d < 7; d++) expected += truth(156 * 7 + 7 * k + d);
      relError += Math.abs(row.mean - expected) / expected;
      if (expected >= row.lower95 && expected <= row.upper95) covered++;
    }
    relError /= result.rows.length;
    console.log(
      `week grain, 156 weeks, horizon 28: chosen ${metrics.model}, MASE ${metrics.mase?.toFixed(3)} ` +
        `(seasonal naive ${metrics.baselineMase?.toFixed(3)}), coverage80 ${metrics.coverage80?.toFixed(3)}, ` +
        `coverage95 ${metrics.coverage95?.toFixed(3)}, ${metrics.origins} origins ${metrics.step} weeks apart; ` +
        `mean |error| against the planted expectation ${(100 * relError).toFixed(2)}%, ${covered}/28 inside the 95% interval`,
    );
    expect(metrics.grain).toBe('week');
    expect(metrics.points).toBe(156);
    expect(metrics.seriesStart).toBe('2021-01-04');
    expect(metrics.seriesEnd).toBe('2023-12-31');
    expect(metrics.forecastStart).toBe('2024-01-01');
    expect(metrics.seasonLength).toBe(52);
    expect(metrics.model).not.toBeNull();
    expect(metrics.scores.every((s) => s.scored)).toBe(true);
    expect(metrics.mase!).toBeLessThan(metrics.baselineMase!);
    expect(result.rows).toHaveLength(28);
    // Weekly noise sd is 600 sqrt(7) ~ 1.6k on ~110k (1.5%); a model that learns trend and yearly cycle is
    // within a few percent of the expectation, where last year's value (seasonal naive) is ~9% off.
    expect(relError).toBeLessThan(0.03);
    expect(covered).toBeGreaterThanOrEqual(26);
  }, 60_000);

  it('falls back to non-seasonal candidates on 60 weeks and says so', async () => {
    // 60 full weeks from Monday 2021-01-04 (420 days): the seasonal naive (52 weeks) needs 54 + 13 = 67.
    const { revenue, trading } = plantedDaily(420, 5);
    const metrics = await withDuck(async (duck) => {
      await createDailyRevenue(duck, '2021-01-04', revenue, trading);
      const out = await computeForecast(duck, {
        source: { table: 'daily_revenue' },
        config: forecastSection.parse({ grain: 'week', horizon: 13 }),
        outDir,
      });
      return out.metrics;
    });
    expect(metrics.points).toBe(60);
    expect(metrics.seasonLength).toBe(1);
    expect(metrics.model).not.toBeNull();
    expect(metrics.scores.map((s) => s.name)).toEqual([
      'seasonalNaive', // with season length 1: the naive forecast
      'holtWinters(none, damped)',
      'sarima(0,1,1)(0,0,0)',
      'additiveRegression(l1)',
    ]);
    expect(metrics.notes.some((n) => n.includes('non-seasonal candidates (season length 1) are used'))).toBe(
      true,
    );
    // Training floor 13 (the horizon) + horizon 13 leaves 34 weeks: 5 origins fit 8 weeks apart (4 x 8 <= 34 < 4 x 9).
    expect(metrics.origins).toBe(5);
    expect(metrics.step).toBe(8);
  }, 60_000);
});
