/**
 * experiment: the stage activity. Reads the clean transactions and assignments, the segments, and (for
 * the policies, when those stages completed) the clv and churn outputs; computeExperiment.ts does the
 * work. The stage runs when clv or churn failed (lib/dag.ts OPTIONAL_DEPENDENCIES): the A/B analysis
 * needs neither.
 */
import { defineStageActivity, type StageDefinition } from '../../lib/stage';
import { computeExperiment } from './computeExperiment';
import type { ExperimentMetrics } from './contract';

/** The stage definition (compute callable with a StageContext); `experiment` is the activity. */
export const experimentStage: StageDefinition<ExperimentMetrics> = {
  stage: 'experiment',
  version: 1,
  configSection: (c) => ({
    experiment: c.experiment,
    seed: c.seed,
    clvTimeUnit: c.clv.timeUnit,
    churnWindow: c.churn.window,
  }),
  async compute(ctx) {
    const fetchIf = async (present: boolean, stage: 'clean' | 'clv' | 'churn', output: string) =>
      present ? ctx.fetchUpstream(stage, output) : null;
    return computeExperiment({
      transactionsPath: await ctx.fetchUpstream('clean', 'transactions'),
      assignmentsPath: await fetchIf(
        Boolean(ctx.upstream.clean?.outputs.assignments),
        'clean',
        'assignments',
      ),
      segmentsPath: await ctx.fetchUpstream('segment', 'segments'),
      clvPath: await fetchIf(Boolean(ctx.upstream.clv?.outputs.clv), 'clv', 'clv'),
      churnPath: await fetchIf(Boolean(ctx.upstream.churn?.outputs.scores), 'churn', 'scores'),
      clvMetrics: ctx.upstream.clv?.metrics,
      cutoffIso: ctx.run.cutoff,
      config: ctx.run.config.experiment,
      seed: ctx.run.config.seed,
      clvTimeUnit: ctx.run.config.clv.timeUnit,
      churnWindowDays: ctx.run.config.churn.window,
      scratchDir: ctx.scratchDir,
      heartbeat: (detail) => ctx.heartbeat(detail),
    });
  },
};

/** The experiment stage activity. */
export const experiment = defineStageActivity(experimentStage);
