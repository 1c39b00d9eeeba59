import { describe, expect, it } from 'vitest';
import { defaultCandidates, selectModel } from '../../../activities/forecast/backtest';
import { buildSeries } from '../../../activities/forecast/series';
import { withDuck } from '../../../lib/duck';
import { HAS_ONLINE_RETAIL, ONLINE_RETAIL_BY_DAY, ONLINE_RETAIL_GLOB } from '../../sharedData';

const folder = ONLINE_RETAIL_BY_DAY;
const present = HAS_ONLINE_RETAIL;
if (!present)
  console.warn(`onlineRetail.test: ${folder} not found; the Online Retail forecast check is skipped`);

describe('forecast: Online Retail daily revenue', () => {
  it.skipIf(!present)(
    'the chosen model beats seasonal naive on backtest MASE with near-nominal coverage',
    async () => {
      // Approximates the cleaned data: drop lines without a customer or with a non-positive price. Declared
      // columns spare DuckDB sniffing all 305 files (30 s against 2 s here).
      const columns =
        "{'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'Description': 'VARCHAR', 'Quantity': 'DOUBLE', " +
        "'InvoiceDate': 'TIMESTAMP', 'UnitPrice': 'DOUBLE', 'CustomerID': 'VARCHAR', 'Country': 'VARCHAR'}";
      const rows = await withDuck((duck) =>
        duck.all<{ day: string; revenue: number }>(`
        SELECT strftime(CAST(InvoiceDate AS DATE), '%Y-%m-%d') AS day, SUM(Quantity * UnitPrice)::DOUBLE AS revenue
        FROM read_csv('${ONLINE_RETAIL_GLOB}', header = true, columns = ${columns})
        WHERE CustomerID IS NOT NULL AND CustomerID <> '' AND UnitPrice > 0
        GROUP BY 1 ORDER BY 1`),
      );
      expect(rows.length).toBe(305);
      // The shop never trades on Saturday; other missing days (Christmas, bank holidays) are days with no revenue.
      const series = buildSeries(
        rows.map((r) => r.day),
        rows.map((r) => r.revenue),
        'day',
        { closedWeekdays: [6] },
      );
      expect(series.start).toBe('2010-12-01');
      expect(series.values.length).toBe(374);

      const selection = selectModel(series, defaultCandidates(), { horizon: 14, origins: 5 });
      const chosen = selection.scores.find((s) => s.name === selection.chosen)!;
      console.log(
        'Online Retail daily revenue, horizon 14, 5 origins:\n' +
          selection.scores
            .map(
              (s) =>
                `  ${s.name}: ${s.error ?? `MASE ${s.mase.toFixed(3)} MAPE ${s.mape.toFixed(1)}% cov80 ${s.coverage80.toFixed(3)} cov95 ${s.coverage95.toFixed(3)}`}`,
            )
            .join('\n') +
          `\n  chosen ${selection.chosen}; notes: ${selection.notes.join(' | ')}`,
      );
      expect(chosen.points).toBe(60);
      expect(chosen.mase).toBeLessThan(selection.baseline.mase);
      expect(Math.abs(chosen.coverage80 - 0.8)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(chosen.coverage95 - 0.95)).toBeLessThanOrEqual(0.1);
      // Saturdays in the forecast are exactly 0 (closed).
      expect(selection.forecast.start).toBe('2011-12-10');
      expect(selection.forecast.mean[0]).toBe(0);
    },
  );
});
