/**
 * The experiment stage's computation on local files, callable from tests without a stage context:
 *
 * 1. Real experiments (when the dataset has assignments): assignments.ts, over the configured outcome
 *    window and pre-period, with the configured metrics and guardrails.
 * 2. Policies from config (experiment.policies): customers at the cutoff with their baseline purchase
 *    probability over the policy horizon (experiment.policyHorizonDays, 14 days by default, the default
 *    outcome window, so a lift measured by an experiment is directly an `upliftConversion`), then a seeded
 *    Monte Carlo simulation of each policy (policySimulation.ts), ranked by expected incremental profit,
 *    and the boost sweeps that policies ask for (boostSweep.ts). Policies need the clv and churn outputs:
 *    without them (those stages failed) the experiments are still analysed, and a warning says the
 *    policies were not simulated.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlString, withDuck, type Duck } from '../../lib/duck';
import type { StageWarning } from '../../lib/runTypes';
import type { StageComputeResult, StageOutputFile } from '../../lib/stage';
import type { DAYS_PER_UNIT } from '../../lib/timeUnits';
import { analyzeAssignments } from './assignments';
import type { AssignmentAnalysis } from './assignments';
import { boostSweep } from './boostSweep';
import type { ExperimentConfig } from '../../lib/stageConfig/experiment';
import { MAX_METRIC_EXPERIMENT_ROWS, MAX_METRIC_POLICY_ROWS } from './contract';
import type { ExperimentMetrics, ExperimentResults } from './contract';
import { loadPolicyCustomers, preparePolicies, purchaseRateParamsFromMetrics } from './policyCustomers';
import type { PolicyCustomers } from './policyCustomers';
import { policyMetricRows, simulatePolicies } from './policySimulation';
import { checkExperimentResults, experimentSummaries } from './summaries';

/** Local inputs and settings of computeExperiment. */
export interface ExperimentInputs {
  /** clean transactions (Parquet). */
  transactionsPath: string;
  /** clean assignments (Parquet), or null when the dataset has none. */
  assignmentsPath: string | null;
  /** segment output: customer_id, persona. */
  segmentsPath: string;
  /** clv output, or null when the clv stage did not complete. */
  clvPath: string | null;
  /** churn scores, or null when the churn stage did not complete. */
  churnPath: string | null;
  /** The clv stage's metrics (its purchase-rate params), if it completed. */
  clvMetrics: Record<string, unknown> | undefined;
  cutoffIso: string;
  config: ExperimentConfig;
  seed: number;
  clvTimeUnit: keyof typeof DAYS_PER_UNIT;
  /** churn.window in days (the window of churn_probability). */
  churnWindowDays: number;
  /** Where outputs and DuckDB's spill files go. */
  scratchDir: string;
  heartbeat?: (detail: Record<string, unknown>) => void;
}

/** Analyse the experiments and simulate the policies; write experiment_results.json into scratchDir. */
export async function computeExperiment(
  inputs: ExperimentInputs,
): Promise<StageComputeResult<ExperimentMetrics>> {
  const { config } = inputs;
  const heartbeat = inputs.heartbeat ?? (() => undefined);
  const notes: string[] = [];
  return withDuck(
    async (duck) => {
      const parquet = (path: string) => `read_parquet(${sqlString(path)})`;
      await duck.run(
        `CREATE TABLE segments AS SELECT customer_id, persona FROM ${parquet(inputs.segmentsPath)}`,
      );

      let assignmentAnalysis: AssignmentAnalysis | null = null;
      if (inputs.assignmentsPath) {
        heartbeat({ step: 'experiments' });
        // Configured metrics may read any column of the transactions.
        const columns = config.metrics.length > 0 ? '*' : 'customer_id, ts, amount';
        await duck.run(
          `CREATE TABLE transactions AS SELECT ${columns} FROM ${parquet(inputs.transactionsPath)}`,
        );
        await duck.run(`CREATE TABLE assignments AS SELECT * FROM ${parquet(inputs.assignmentsPath)}`);
        assignmentAnalysis = await analyzeAssignments(duck, {
          transactions: 'transactions',
          assignments: 'assignments',
          segments: 'segments',
          cutoffIso: inputs.cutoffIso,
          windowDays: config.windowDays,
          preWindowDays: config.preWindowDays,
          config,
          progress: heartbeat,
        });
        if (assignmentAnalysis.experiments.length === 0)
          notes.push('assignments hold no experiment up to the cutoff');
      } else {
        notes.push('no experiments: the dataset has no assignments table');
      }
      return finishExperiment(duck, inputs, assignmentAnalysis, notes);
    },
    { tempDirectory: join(inputs.scratchDir, 'duck') },
  );
}

/** What finishExperiment reads besides the experiments' analysis: the policy inputs and settings. */
export type ExperimentFinishInputs = Omit<
  ExperimentInputs,
  'transactionsPath' | 'assignmentsPath' | 'segmentsPath'
>;

/**
 * Everything after the experiments' analysis, shared by the unsharded and the sharded stage: the policy
 * customers and simulations, experiment_results.json in scratchDir, the metrics and the warnings. DuckDB
 * table `segments` (customer_id, persona) must exist; `notes` gains the reasons for empty parts.
 */
export async function finishExperiment(
  duck: Duck,
  inputs: ExperimentFinishInputs,
  assignmentAnalysis: AssignmentAnalysis | null,
  notes: string[],
): Promise<StageComputeResult<ExperimentMetrics>> {
  const { config } = inputs;
  const heartbeat = inputs.heartbeat ?? (() => undefined);
  const extraWarnings: StageWarning[] = [];
  const parquet = (path: string) => `read_parquet(${sqlString(path)})`;
  const reports = assignmentAnalysis?.experiments ?? [];

  let policyCustomers: PolicyCustomers | null = null;
  if (inputs.clvPath && inputs.churnPath) {
    heartbeat({ step: 'policy customers' });
    policyCustomers = await loadPolicyCustomers(duck, {
      clv: parquet(inputs.clvPath),
      churn: parquet(inputs.churnPath),
      segments: 'segments',
      horizonDays: config.policyHorizonDays,
      purchaseModel: purchaseRateParamsFromMetrics(inputs.clvMetrics, inputs.clvTimeUnit),
      churnWindowDays: inputs.churnWindowDays,
    });
    if (policyCustomers.purchaseProbabilitySource.churnProxy > 0) {
      notes.push(
        `${policyCustomers.purchaseProbabilitySource.churnProxy} customers' baseline purchase probability is the churn proxy ` +
          `(CLV model parameters or x, T, p_alive unavailable)`,
      );
    }
  } else {
    const missing = [inputs.clvPath ? null : 'clv', inputs.churnPath ? null : 'churn']
      .filter(Boolean)
      .join(' and ');
    notes.push(`no policy customers: the ${missing} stage did not complete`);
    if (config.policies.length > 0) {
      extraWarnings.push({
        code: 'experiment_policies_not_simulated',
        message: `${config.policies.length} configured policies were not simulated: the ${missing} stage did not complete`,
      });
    }
  }

  let policies: ExperimentResults['policies'] = [];
  if (config.policies.length === 0) {
    notes.push('no policies configured (experiment.policies)');
  } else if (policyCustomers) {
    heartbeat({ step: 'policies' });
    const prepared = preparePolicies(config.policies, policyCustomers.scores.segmentNames);
    const options = {
      simulations: config.simulations,
      seed: inputs.seed,
      method: config.method,
      bins: config.bins,
    };
    const results = simulatePolicies(policyCustomers.scores, prepared.policies, options);
    policies = results.map((r) => {
      const policy = prepared.policies.find((p) => p.name === r.name);
      heartbeat({ step: 'boost sweep', policy: r.name });
      const sweep = policy && policyCustomers ? boostSweep(policyCustomers.scores, policy, options) : null;
      return { ...r, warnings: prepared.warnings[r.name] ?? [], ...(sweep ? { boostSweep: sweep } : {}) };
    });
  }

  const customerSummary = policyCustomers
    ? (() => {
        const { scores, ...summary } = policyCustomers;
        return { ...summary, segmentNames: scores.segmentNames };
      })()
    : null;
  const results: ExperimentResults = {
    cutoff: inputs.cutoffIso,
    confidence: 1 - config.alpha,
    windowDays: config.windowDays,
    preWindowDays: config.preWindowDays,
    experiments: reports,
    assignments: assignmentAnalysis
      ? {
          invalidRows: assignmentAnalysis.invalidRows,
          afterCutoffRows: assignmentAnalysis.afterCutoffRows,
        }
      : null,
    policyHorizonDays: config.policyHorizonDays,
    policyCustomers: customerSummary,
    policies,
    notes,
  };
  const resultsPath = join(inputs.scratchDir, 'experiment_results.json');
  await writeFile(resultsPath, JSON.stringify(results, null, 2));

  const metrics = experimentMetrics(results, policyCustomers?.customers ?? 0);
  const outputs: Record<string, StageOutputFile> = { results: { path: resultsPath } };
  const warnings = [
    ...checkExperimentResults(metrics, policies, policyCustomers?.purchaseProbabilitySource.churnProxy ?? 0),
    ...extraWarnings,
  ];
  return { outputs, metrics, warnings };
}

/** The stage metrics from its results: contract rows capped in number, the rest in the results file. */
export function experimentMetrics(results: ExperimentResults, policyCustomers: number): ExperimentMetrics {
  const { experiments: reports, policies } = results;
  const summaries = experimentSummaries(reports);
  const metricNotes = [...results.notes];
  if (summaries.rows.length > MAX_METRIC_EXPERIMENT_ROWS) {
    metricNotes.push(
      `experiments: ${summaries.rows.length} rows, first ${MAX_METRIC_EXPERIMENT_ROWS} here (all in experiment_results.json)`,
    );
  }
  if (policies.length > MAX_METRIC_POLICY_ROWS) {
    metricNotes.push(
      `policies: ${policies.length}, top ${MAX_METRIC_POLICY_ROWS} here (all in experiment_results.json)`,
    );
  }
  const metrics: ExperimentMetrics = {
    experiments: summaries.rows.slice(0, MAX_METRIC_EXPERIMENT_ROWS),
    policies: policyMetricRows(policies.slice(0, MAX_METRIC_POLICY_ROWS)),
    experimentStatus: summaries.status.slice(0, MAX_METRIC_EXPERIMENT_ROWS),
    confidence: results.confidence,
    windowDays: results.windowDays,
    preWindowDays: results.preWindowDays,
    policyHorizonDays: results.policyHorizonDays,
    policyCustomers,
    notes: metricNotes,
  };
  const customMetrics = reports.flatMap((r) => (r.customMetrics ?? []).map((m) => ({ id: r.id, ...m })));
  const guardrails = reports.flatMap((r) => (r.guardrails ?? []).map((g) => ({ id: r.id, ...g })));
  const sweeps = policies.flatMap((p) => (p.boostSweep ? [{ name: p.name, points: p.boostSweep }] : []));
  if (customMetrics.length > 0) metrics.customMetrics = customMetrics.slice(0, MAX_METRIC_EXPERIMENT_ROWS);
  if (guardrails.length > 0) metrics.guardrails = guardrails.slice(0, MAX_METRIC_EXPERIMENT_ROWS);
  if (sweeps.length > 0) metrics.boostSweeps = sweeps.slice(0, MAX_METRIC_POLICY_ROWS);
  return metrics;
}
