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
