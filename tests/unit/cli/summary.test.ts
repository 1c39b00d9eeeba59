/** The run summary a person reads: stages, headline figures from the metrics, warnings, where the report is. */
import { describe, expect, it } from 'vitest';
import type { RunSummary, StageSummary } from '../../../lib/runTypes';
import { describeSummary, headlineFigures } from '../../../scripts/commands/runs';

const stage = (
  metrics: Record<string, unknown>,
  status: StageSummary['status'] = 'completed',
): StageSummary => ({
  status,
  durationMs: 1200,
  outputs: {},
  metrics,
});

const summary: RunSummary = {
  runId: '20261203T080000Z-0123456789ab',
  workflowId: 'custflow-shop-2023-12',
  dataset: 'shop',
  month: '2023-12',
  status: 'COMPLETED',
  cutoff: '2023-12-31T23:59:59.999Z',
  configHash: 'abc',
  startedAt: '2026-12-03T08:00:00.000Z',
  durationMs: 61_000,
  stages: {
    clean: stage({ inputRows: 541909, outputRows: 397924, quarantinedRows: 135080, duplicateRows: 5268 }),
    segment: stage({ k: 2, silhouette: 0.2712 }),
    clv: stage({ totalClv: 7362575.4, horizonMonths: 12, customers: 4338 }),
    churn: stage({ auc: 0.7412, baselineAuc: 0.69 }),
    forecast: stage({ model: 'holtWinters(additive, damped)', mase: 0.8312, baselineMase: 1.02 }),
    report: {
      ...stage({}),
      outputs: {
        html: 's3://b/runs/shop/2023-12/r/report/report.html',
        crm: 's3://b/runs/shop/2023-12/r/report/crm_export.csv',
      },
    },
  },
  warnings: [{ stage: 'segment', code: 'segment_k_at_edge', message: 'k = 2 is the smallest k tried' }],
  reportUri: 's3://b/runs/shop/2023-12/r/report/report.html',
  summaryUri: 's3://b/runs/shop/2023-12/r/run.json',
};

describe('run summary for people', () => {
  it('shows rows in, kept and quarantined, k, AUC, total CLV, the forecast model and MASE', () => {
    expect(headlineFigures(summary)).toEqual([
      'rows       541,909 in, 397,924 kept, 135,080 quarantined (24.9%), 5,268 duplicates dropped',
      'segments   k = 2 (silhouette 0.271)',
      'churn      AUC 0.741 (baseline 0.690)',
      'CLV        total 7,362,575 over 12 months, 4,338 customers',
      'forecast   holtWinters(additive, damped), MASE 0.831 (baseline 1.020)',
    ]);
  });

  it("says which spans the revenue compares and names the next open day, in the report's words", () => {
    // The report's metrics carry the headlines it showed (activities/report/headlines.ts).
    const withHeadlines: RunSummary = {
      ...summary,
      stages: {
        ...summary.stages,
        report: {
          ...summary.stages.report,
          metrics: {
            headlines: {
              currency: 'GBP',
              revenue: {
                kind: 'monthToDate',
                current: { from: '2011-12-01', to: '2011-12-09', revenue: 341_539.4 },
                previous: { from: '2011-11-01', to: '2011-11-09', revenue: 402_000 },
                change: 341_539.4 / 402_000 - 1,
                label: 'Dec 1-9 vs Nov 1-9',
                currentLabel: 'Dec 1-9',
              },
              next: {
                label: 'next open day',
                date: '2012-01-01',
                dateText: 'Sun 1 Jan 2012',
                mean: 35_780.36,
                lower80: 21_368.29,
                upper80: 51_152.21,
              },
            },
          },
        },
      },
    };
    const lines = headlineFigures(withHeadlines);
    expect(lines).toContain('revenue    £341,539, Dec 1-9 vs Nov 1-9: −15.0% (£402,000)');
    expect(lines).toContain('next       next open day (Sun 1 Jan 2012): £35,780, 80%: £21,368 – £51,152');
    // never the whole-month comparison of a partial month, never a closed day's "NEXT DAY $0.00"
    expect(lines.join('\n')).not.toMatch(/on 2011-11|\$0\.00/);
    expect(lines.indexOf('revenue    £341,539, Dec 1-9 vs Nov 1-9: −15.0% (£402,000)')).toBe(1);
  });

  it('leaves out what a stage that did not finish would have said', () => {
    const failed: RunSummary = {
      ...summary,
      stages: { ...summary.stages, churn: stage({ auc: 0.5 }, 'failed'), forecast: stage({}, 'skipped') },
    };
    const lines = headlineFigures(failed);
    expect(lines.some((l) => l.startsWith('churn'))).toBe(false);
    expect(lines.some((l) => l.startsWith('forecast'))).toBe(false);
  });

  it('prints the warnings in full, the saved report and how to get the CRM export', () => {
    const text = describeSummary(summary, { reportFile: '/home/me/report.html' });
    expect(text).toContain('HEADLINES\n  rows       541,909 in');
    expect(text).toContain(
      'WARNINGS (1): read these before trusting the numbers\n  ! segment [segment_k_at_edge] k = 2 is the smallest k tried',
    );
    expect(text).toContain(
      'report:  s3://b/runs/shop/2023-12/r/report/report.html\n         saved as /home/me/report.html',
    );
    expect(text).toContain(`npx custflow export ${summary.runId} --crm customers.csv`);
  });
});
