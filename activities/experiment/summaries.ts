/**
 * From the stage's findings to its metrics: the contract rows of the analysed experiments, the status of
 * every experiment, and the stage's own check of its results (errors for broken numbers, warnings for what a
 * reader must know before acting).
 */
import { checkFiniteMetrics } from '../../lib/outputChecks';
import type { StageWarning } from '../../lib/runTypes';
import { experimentMetricRows } from './abTest';
import type {
  ExperimentMetrics,
  ExperimentMetricSummary,
  ExperimentReport,
  ExperimentStatusSummary,
} from './contract';

/** Contract rows of the analysed experiments, and the status of every experiment. */
export function experimentSummaries(reports: readonly ExperimentReport[]): {
  rows: ExperimentMetricSummary[];
  status: ExperimentStatusSummary[];
} {
  const rows: ExperimentMetricSummary[] = [];
  for (const report of reports) {
    if (!report.analysis) continue;
    for (const row of experimentMetricRows(report.analysis)) {
      rows.push({
        id: row.id,
        treatment: row.treatment,
        metric: row.metric,
        lift: row.lift,
        ci: row.ci,
        pValue: row.pValue,
        srmPValue: row.srmPValue,
        srmFlagged: row.srmFlagged,
        probabilityToBeatControl: row.probabilityToBeatControl,
        controlValue: row.controlValue,
        treatmentValue: row.treatmentValue,
        customersControl: row.customersControl,
        customersTreatment: row.customersTreatment,
      });
    }
  }
  const status = reports.map((r) => ({
    id: r.id,
    status: r.status,
    customers: r.customers,
    srmPValue: r.srm ? r.srm.pValue : null,
    reason: r.reason,
  }));
  return { rows, status };
}

/**
 * The stage's own check of its results. Policy outcomes must be finite (a NaN incremental revenue is a
 * broken simulation, not a result). What a reader must know before acting becomes a warning: a sample
 * ratio mismatch (the split itself is suspect), an undefined lift (a control group with no conversions),
 * a failed guardrail, a policy naming segments that do not exist, customers whose baseline came from the churn proxy.
 */
export function checkExperimentResults(
  metrics: Pick<ExperimentMetrics, 'experiments' | 'policies' | 'guardrails'>,
  policies: readonly { name: string; warnings: readonly string[] }[],
  churnProxyCustomers: number,
): StageWarning[] {
  for (const policy of metrics.policies) {
    const { mean, p5, p95 } = policy.incrementalRevenue;
    // ROI is undefined (NaN) when the policy costs nothing, e.g. when it targets no customer.
    checkFiniteMetrics(`experiment policy ${policy.name}`, {
      mean,
      p5,
      p95,
      ...(policy.cost > 0 ? { roi: policy.roi } : {}),
    });
  }
  const warnings: StageWarning[] = [];
  for (const row of metrics.experiments) {
    const where = `${row.id} (${row.treatment}, ${row.metric})`;
    if (row.srmFlagged) {
      warnings.push({
        code: 'experiment_sample_ratio_mismatch',
        message: `${where}: the split differs from the planned one (SRM p = ${row.srmPValue.toExponential(2)}); its lift is not trustworthy`,
      });
    }
    if (![row.lift, row.ci[0], row.ci[1], row.pValue].every(Number.isFinite)) {
      warnings.push({
        code: 'experiment_lift_undefined',
        message: `${where}: the relative lift is undefined (control value ${row.controlValue})`,
      });
    }
  }
  for (const policy of metrics.policies) {
    if (policy.customersTargeted === 0) {
      warnings.push({
        code: 'experiment_policy_targets_nobody',
        message: `${policy.name}: no scored customer matches its target this month; its outcome is 0`,
      });
    }
  }
  for (const guardrail of metrics.guardrails ?? []) {
    if (guardrail.pass) continue;
    warnings.push({
      code: 'experiment_guardrail_failed',
      message: `${guardrail.id} (${guardrail.treatment}): guardrail on ${guardrail.metric} failed: ${guardrail.reason}`,
    });
  }
  for (const policy of policies) {
    for (const message of policy.warnings)
      warnings.push({ code: 'experiment_policy', message: `${policy.name}: ${message}` });
  }
  if (churnProxyCustomers > 0) {
    warnings.push({
      code: 'experiment_churn_proxy',
      message: `${churnProxyCustomers} customers' baseline purchase probability comes from the churn proxy (no CLV purchase model)`,
    });
  }
  return warnings;
}
