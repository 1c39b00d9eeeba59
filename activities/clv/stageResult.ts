/**
 * What the clv stage hands the stage runner, whichever way it ran: the unsharded activity (index.ts) and
 * the sharded reduce (sharded.ts) write the same two outputs with the same metrics, so they build the
 * result here once and cannot drift apart.
 */
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import { withDuck } from '../../lib/duck';
import type { StageWarning } from '../../lib/runTypes';
import type { StageComputeResult } from '../../lib/stage';
import type { ClvMetrics } from './summaryDocument';

/** The written files and figures of a clv computation (computeClv or reduceClvShards). */
export interface ClvComputed {
  paths: { clv: string; summary: string };
  rows: number;
  metrics: ClvMetrics;
  warnings: StageWarning[];
}

/** The stage result of a clv computation: clv.parquet (one row per customer) and clv_summary.json. */
export function clvStageResult(result: ClvComputed): StageComputeResult<ClvMetrics> {
  return {
    outputs: {
      clv: { path: result.paths.clv, rows: result.rows },
      summary: { path: result.paths.summary },
    },
    metrics: result.metrics,
    warnings: result.warnings,
  };
}

/** Run a clv computation on a DuckDB connection spilling into the step's scratch directory. */
export function withClvDuck(
  scratchDir: string,
  compute: (duck: Duck) => Promise<ClvComputed>,
): Promise<StageComputeResult<ClvMetrics>> {
  return withDuck(async (duck) => clvStageResult(await compute(duck)), {
    tempDirectory: join(scratchDir, 'duck'),
  });
}
