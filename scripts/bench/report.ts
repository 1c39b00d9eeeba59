/**
 * Report benchmark: render the HTML report for the sample run and for a large one (3 years of daily revenue
 * with a 90-day forecast, 36 monthly cohorts, 200 at-risk customers, 40 products), and write the CRM CSV
 * for 1,000,000 customers. Figures are medians of a few repetitions, in ms (bytes where named).
 */
import { crmCsv } from '../../activities/report/csv';
import type { CrmRow } from '../../activities/report/csv';
import { renderReport } from '../../activities/report/html';
import type { ReportData } from '../../activities/report/model';
import { histogramBins } from '../../activities/report/summaries';
import { Rng } from '../../lib/random';
import { sampleReportData } from './reportSample';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(repeats: number, fn: () => void): number {
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    fn();
    runs.push(performance.now() - start);
  }
  return Math.round(median(runs) * 10) / 10;
}

/** The sample run scaled up to the largest report a monthly run produces. */
export function largeReport(): ReportData {
  const data = sampleReportData();
  const rng = new Rng(1);
  const day = 86_400_000;
  const start = Date.UTC(2009, 0, 1);
  data.forecast!.grain = 'day';
  data.forecast!.history = Array.from({ length: 3 * 365 }, (_, i) => ({
    date: new Date(start + i * day).toISOString().slice(0, 10),
    value: 20_000 + 5_000 * Math.sin((i / 365) * 2 * Math.PI) + rng.normal(0, 1_500),
  }));
  data.forecast!.forecast = Array.from({ length: 90 }, (_, h) => ({
    date: new Date(start + (3 * 365 + h) * day).toISOString().slice(0, 10),
    mean: 20_000,
    lower80: 20_000 - 2_000 * Math.sqrt(h + 1),
    upper80: 20_000 + 2_000 * Math.sqrt(h + 1),
    lower95: 20_000 - 3_000 * Math.sqrt(h + 1),
    upper95: 20_000 + 3_000 * Math.sqrt(h + 1),
  }));
  const cohorts = 36;
  data.cohorts = {
    cohortMonths: Array.from(
      { length: cohorts },
      (_, c) => `${2009 + Math.floor(c / 12)}-${String((c % 12) + 1).padStart(2, '0')}`,
    ),
    maxAge: cohorts - 1,
    retention: Array.from({ length: cohorts }, (_, c) =>
      Array.from({ length: cohorts }, (_, a) =>
        a < cohorts - c ? (a === 0 ? 1 : 0.25 * Math.exp(-0.04 * a)) : null,
      ),
    ),
    revenue: [],
  };
  data.churn!.atRisk = Array.from({ length: 200 }, (_, i) => ({
    customerId: `c${i}`,
    churnProbability: 0.9 - i / 1000,
    clv: 5_000 - i * 10,
    persona: 'At-risk big spenders',
  }));
  data.topProducts = Array.from({ length: 40 }, (_, i) => ({
    productName: `PRODUCT ${i}`,
    revenue: 100_000 / (i + 1),
  }));
  return data;
}

/** Median timings of rendering and export. */
export function benchReport(customers = 1_000_000): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  const sample = sampleReportData();
  figures.renderSampleMs = time(5, () => renderReport(sample));
  figures.renderSampleBytes = renderReport(sample).length;
  const large = largeReport();
  figures.renderLargeMs = time(5, () => renderReport(large));
  figures.renderLargeBytes = renderReport(large).length;

  const rng = new Rng(2);
  const personas = ['High-value loyal', 'At-risk big spenders', 'Promising newcomers', 'Lapsed one-timers'];
  const rows: CrmRow[] = Array.from({ length: customers }, (_, i) => {
    const persona = personas[i % personas.length];
    return {
      customerId: String(100_000 + i),
      segment: String(i % personas.length),
      persona,
      rfmCell: `${1 + (i % 5)}${1 + ((i >> 3) % 5)}${1 + ((i >> 6) % 5)}`,
      clv: rng.gamma(0.9, 1 / 1_100),
      pAlive: rng.uniform(),
      churnProbability: rng.uniform(),
      suggestedAction:
        i % 7 === 0 ? 'Send a personal win-back offer, before they lapse' : 'Enrol in a loyalty tier',
    };
  });
  figures[`crmCsv${customers}Ms`] = time(3, () => crmCsv(rows));
  figures[`crmCsv${customers}Bytes`] = crmCsv(rows).length;
  const clv = Float64Array.from(rows, (row) => row.clv ?? 0);
  figures[`histogram${customers}Ms`] = time(3, () => histogramBins(clv));
  return Promise.resolve(figures);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const customers = process.argv[2] ? Number(process.argv[2]) : 1_000_000;
  benchReport(customers).then(
    (figures) => console.log(JSON.stringify(figures, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
