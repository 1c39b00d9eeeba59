/**
 * The experiment stage's contract: the metrics it returns (docs/DESIGN.md: `experiments`, `policies`, plus
 * context fields) and the experiment_results.json document the report reads. Types only, and the limits
 * and defaults that shape them.
 */
import type { ExperimentAnalysis, ExperimentMetricRow } from './abTest';
import type { CustomMetricResult, GuardrailResult } from './customMetrics';
import type { PolicyCustomers } from './policyCustomers';
import type { PolicyMetricRow, PolicyResult } from './policySimulation';
import type { BoostSweepPoint } from './boostSweep';
import type { SampleRatioMismatch } from './srm';

/** Days after assignment over which an experiment's outcome is measured. */
export const DEFAULT_WINDOW_DAYS = 14;
/** Days before assignment whose revenue is the CUPED covariate. */
export const DEFAULT_PRE_WINDOW_DAYS = 90;
/** Segment label of customers the segment stage did not place. */
export const UNSEGMENTED = 'unsegmented';
/** At most this many experiment rows go into the metrics (the rest stay in experiment_results.json). */
export const MAX_METRIC_EXPERIMENT_ROWS = 200;
/** At most this many policy rows go into the metrics. */
export const MAX_METRIC_POLICY_ROWS = 100;

/** Where an experiment stands at the cutoff. */
export type ExperimentStatus = 'analyzed' | 'running' | 'insufficient';

/** Counts of one variant (for a running experiment: so far, windows clipped at the cutoff). */
export interface VariantProgress {
  name: string;
  customers: number;
  conversions: number;
  revenue: number;
}

/** One experiment: its status, counts, SRM check and (when its windows have closed) the full analysis. */
export interface ExperimentReport {
  id: string;
  status: ExperimentStatus;
  /** Why there is no analysis (running, too few customers), else null. */
  reason: string | null;
  /** Customers analysed (one valid assignment each). */
  customers: number;
  /** Customers assigned to more than one variant of this experiment: left out. */
  conflictingCustomers: number;
  /** Repeated rows of the same customer and variant (the earliest assigned_at is kept). */
  duplicateRows: number;
  firstAssignedAt: string;
  lastAssignedAt: string;
  /** End of the last customer's outcome window; the experiment is analysed when this is <= the cutoff. */
  windowClosesAt: string;
  windowDays: number;
  preWindowDays: number;
  /** Variant names, sorted; the control is 'control' (any case) if present, else the first. */
  variantNames: string[];
  control: string;
  /** Planned traffic weights per variant (config plannedSplits, else equal). */
  plannedSplit: number[];
  variants: VariantProgress[];
  /** Sample ratio mismatch check (chi-square); null with fewer than 2 variants. */
  srm: SampleRatioMismatch | null;
  /** Full analysis (tests, CUPED, Bayesian, power/MDE, per-segment breakdown) when status is 'analyzed'. */
  analysis: ExperimentAnalysis | null;
  /** Configured metrics (experiment.metrics) per treatment; present only when metrics are configured. */
  customMetrics?: CustomMetricResult[];
  /** Guardrail verdicts (experiment.guardrails); present only when guardrails are configured. */
  guardrails?: GuardrailResult[];
}

/** One contract row per analysed experiment, treatment and metric (docs/DESIGN.md), plus context: the
 * analysis' run-summary row without its absolute lift. */
export type ExperimentMetricSummary = Omit<ExperimentMetricRow, 'absoluteLift'>;

/** Status of every experiment, analysed or not. */
export interface ExperimentStatusSummary {
  id: string;
  status: ExperimentStatus;
  customers: number;
  srmPValue: number | null;
  reason: string | null;
}

/** Stage metrics: the docs/DESIGN.md contract fields `experiments` and `policies`, plus context. */
export interface ExperimentMetrics extends Record<string, unknown> {
  experiments: ExperimentMetricSummary[];
  policies: PolicyMetricRow[];
  experimentStatus: ExperimentStatusSummary[];
  /** Confidence level of every `ci` (1 - experiment.alpha; 0.95 by default). */
  confidence: number;
  windowDays: number;
  preWindowDays: number;
  policyHorizonDays: number;
  policyCustomers: number;
  /** Why a part is empty or incomplete. */
  notes: string[];
  /** Configured metrics of the analysed experiments, with the experiment id; only when configured. */
  customMetrics?: (CustomMetricResult & { id: string })[];
  /** Guardrail verdicts of the analysed experiments, with the experiment id; only when configured. */
  guardrails?: (GuardrailResult & { id: string })[];
  /** Boost sweeps of the policies that ask for one (P(goal) against the conversion boost). */
  boostSweeps?: { name: string; points: BoostSweepPoint[] }[];
}

/** Everything the stage found: written as experiment_results.json. */
export interface ExperimentResults {
  cutoff: string;
  confidence: number;
  windowDays: number;
  preWindowDays: number;
  experiments: ExperimentReport[];
  assignments: { invalidRows: number; afterCutoffRows: number } | null;
  policyHorizonDays: number;
  /** Null when the clv or churn stage did not complete (policies need their scores). */
  policyCustomers: (Omit<PolicyCustomers, 'scores'> & { segmentNames: readonly string[] }) | null;
  /** Ranked by expected incremental profit. */
  policies: (PolicyResult & { warnings: string[]; boostSweep?: BoostSweepPoint[] })[];
  notes: string[];
}
