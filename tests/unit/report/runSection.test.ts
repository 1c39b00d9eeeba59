/** The report's run header: rendered as the last stage, it shows the status the run ends with. */
import { describe, expect, it } from 'vitest';
import { runSection } from '../../../activities/report/gather';
import type { RunRef, RunSummary } from '../../../lib/runTypes';

const run = { dataset: 'shop', month: '2024-06', runId: 'r1', cutoff: '2024-06-30T23:59:59.999Z' } as RunRef;

function summary(statuses: Record<string, string>): RunSummary {
  return {
    runId: 'r1',
    workflowId: 'custflow-shop-2024-06',
    dataset: 'shop',
    month: '2024-06',
    status: 'RUNNING',
    cutoff: run.cutoff,
    configHash: 'abc',
    startedAt: '2024-07-01T00:00:00.000Z',
    summaryUri: 's3://b/runs/shop/2024-06/r1/run.json',
    stages: Object.fromEntries(
      Object.entries(statuses).map(([name, status]) => [
        name,
        { status, durationMs: 5, outputs: {}, metrics: {} },
      ]),
    ),
  } as RunSummary;
}

describe('runSection', () => {
  it('shows COMPLETED when every other stage completed or came from the cache; the report stage is "this report", never "running"', () => {
    const section = runSection(
      run,
      summary({ ingest: 'completed', clean: 'cached', report: 'running' }),
      'v',
    );
    expect(section.status).toBe('COMPLETED');
    expect(section.stages.find((s) => s.name === 'report')?.status).toBe('thisReport');
  });

  it('shows FAILED when a stage failed, as the workflow will record', () => {
    const section = runSection(
      run,
      summary({ ingest: 'completed', clean: 'failed', features: 'skipped', report: 'running' }),
      'v',
    );
    expect(section.status).toBe('FAILED');
  });

  it('keeps a recorded final status and says RUNNING without a summary', () => {
    expect(runSection(run, { ...summary({ ingest: 'completed' }), status: 'CANCELED' }, 'v').status).toBe(
      'CANCELED',
    );
    expect(runSection(run, undefined, 'v').status).toBe('RUNNING');
  });
});
