/**
 * Everything the run report shows, as plain JSON-able data. Only `run` is required: a run may have no events,
 * no experiments, or a failed stage, and the report then says "not available: <reason>" for that part.
 *
 * Numbers that may be undefined in the stage outputs (NaN p-values, empty cohort cells) are typed
 * `number | null` where they are expected to be missing; the renderer also treats NaN and Infinity as missing
 * ("—"), since JSON turns them into null anyway.
 */

import type { ReportAttributeTests } from './cards/attributeTests';
import type { ReportSegmentAttributeProfiles } from './cards/segmentAttributeProfiles';
import type { ReportForecastSeries } from './cards/forecastSeries';
import type { ForecastControls } from '../forecast/contract';
import type { ReportCategorySeason, ReportEda, ReportExperimentDetail, ReportValueModels } from './edaModel';
import type { Headlines } from './headlines';
import type { ExperimentMetrics } from '../experiment/contract';

/**
 * Status of one stage as the run summary records it; 'thisReport' is the report stage itself, which is
 * still rendering when the report is written (shown as "this report", never as "running").
 */
export type ReportStageStatus =
  'pending' | 'running' | 'completed' | 'cached' | 'failed' | 'skipped' | 'cancelled' | 'thisReport';

/** One stage of the run. */
export interface ReportStage {
  name: string;
  status: ReportStageStatus;
  durationMs: number;
  /** Error message of a failed stage (file, line and rule when known). */
  error?: string;
  /** For cached stages: the run whose outputs were reused. */
  computedByRunId?: string;
}

/** Identity and timing of the run (the one required section). */
export interface ReportRun {
  dataset: string;
  /** 'YYYY-MM'. */
  month: string;
  runId: string;
  /** Run status (COMPLETED, FAILED, RUNNING, ...). */
  status: string;
  /** Last instant of the month, ISO UTC. */
  cutoff: string;
  /** When the report was produced, ISO UTC; passed in so the same data renders the same bytes. */
  generatedAt: string;
  stages: ReportStage[];
  /** The run summary's warnings (fallbacks taken, partial checks, failed or skipped stages), shown in the header. */
  warnings?: { stage: string; code: string; message: string }[];
  /** ISO 4217 code for money figures (default 'USD'). */
  currency?: string;
  /** Short hash of the dataset config. */
  configHash?: string;
  /** Code version that produced the run. */
  codeVersion?: string;
}

/** The report's optional sections, for "not available" reasons. */
export type ReportSection =
  | 'dataQuality'
  | 'features'
  | 'segments'
  | 'cohorts'
  | 'clv'
  | 'churn'
  | 'forecast'
  | 'experiments'
  | 'recommend'
  | 'topProducts'
  | 'exports';

/** Browsing events after cleaning (absent when the dataset has no events table). */
export interface ReportEvents {
  inputRows: number;
  outputRows: number;
  sessions: number;
  quarantinedByReason?: Record<string, number>;
}

/** Row counts and freshness of the cleaned data. */
export interface ReportDataQuality {
  inputRows: number;
  outputRows: number;
  /** Quarantined rows per rule broken. */
  quarantinedByReason: Record<string, number>;
  duplicateRows: number;
  afterCutoffRows: number;
  /** Distinct customers kept. */
  customers: number;
  /** First and last transaction timestamps kept, ISO UTC. */
  firstTs: string | null;
  lastTs: string | null;
  /** Kept lines flagged non-merchandise (postage, fees), and per product code; absent before clean v2. */
  nonMerchandiseRows?: number;
  nonMerchandiseByCode?: Record<string, number>;
  events?: ReportEvents;
}

/** One column of the customer feature table. */
export interface ReportFeatureDefinition {
  name: string;
  definition: string;
  unit: string;
}

/** One month of the KPI table. */
export interface ReportKpiMonth {
  /** 'YYYY-MM'. */
  month: string;
  activeCustomers: number;
  newCustomers: number;
  returningCustomers: number;
  orders: number;
  revenue: number;
  averageOrderValue: number;
  /** Share of active customers with two or more orders in the month, 0..1. */
  repeatRate: number;
  /** Purchases per session, 0..1 (only with events). */
  conversionPerSession?: number | null;
}

/** Exploratory findings of the features stage. */
export interface ReportInsights {
  /** Strongest feature correlations, strongest first. */
  strongestPairs?: { a: string; b: string; r: number }[];
  /** Spend per order by category and the tests of equal means. */
  categorySpend?: {
    categories: { category: string; n: number; mean: number; median: number }[];
    anovaPValue: number | null;
    kruskalWallisPValue: number | null;
    skippedReason: string | null;
  };
}

/** Feature dictionary, monthly KPIs and insights. */
export interface ReportFeatures {
  dictionary: ReportFeatureDefinition[];
  kpisMonthly: ReportKpiMonth[];
  insights?: ReportInsights;
}

/** Cluster quality at one k. */
export interface ReportKMetrics {
  k: number;
  silhouette: number | null;
  inertia: number | null;
  calinskiHarabasz: number | null;
  daviesBouldin: number | null;
}

/** A named segment. */
export interface ReportPersona {
  name: string;
  description: string;
  customers: number;
  /** 0..1. */
  customerShare: number;
  /** 0..1. */
  revenueShare: number;
  actions: string[];
}

/** Customers moving between personas since the previous run (rows: before, columns: now). */
export interface ReportMigration {
  labelsFrom: string[];
  labelsTo: string[];
  counts: number[][];
  /** Month of the previous run, 'YYYY-MM'. */
  previousMonth?: string;
}

/** Segmentation result. */
export interface ReportSegments {
  k: number;
  silhouette: number | null;
  /** How k was chosen, in words (e.g. 'silhouette, k in 3..8'). */
  chosenBy: string;
  metricsByK: ReportKMetrics[];
  personas: ReportPersona[];
  migration?: ReportMigration;
  /** Bootstrap stability (mean ARI) of the chosen segmentation. */
  stability?: number | null;
  /** Decision rules (a shallow tree) a CRM can automate, and the share of customers they place correctly. */
  rules?: { text: string; persona: string; customers: number }[];
  ruleFidelity?: number | null;
  /**
   * Customers whose net revenue is <= 0 (every purchase returned): persona "No net purchase" in the CRM
   * export whatever their segment, with no P(alive) (segment v6).
   */
  noNetPurchase?: { name: string; rule: string; customers: number; actions: string[] };
}

/** Acquisition cohorts by month. */
export interface ReportCohorts {
  /** 'YYYY-MM' per row. */
  cohortMonths: string[];
  /** Largest months-since-acquisition shown. */
  maxAge: number;
  /** Cohort sizes (customers acquired), per row. */
  sizes?: number[];
  /** retention[row][age]: share of the cohort buying in month `age` (null where not yet observable). */
  retention: (number | null)[][];
  /** revenue[row][age]: revenue of the cohort in month `age`. */
  revenue: (number | null)[][];
}

/** Predicted against actual purchases in the CLV holdout, per calibration-frequency bucket. */
export interface ReportHoldoutBucket {
  frequency: string;
  predicted: number;
  actual: number;
  customers: number;
}

/** Customer lifetime value (BG/NBD + Gamma-Gamma). */
export interface ReportClv {
  timeUnit: string;
  /** Horizon of the CLV figures, in time units. */
  horizon?: number;
  params: { r: number; alpha: number; a: number; b: number };
  /** The repeat-buying model that scored (BG/NBD, its homogeneous-dropout limit, Pareto/NBD) and its parameters. */
  purchaseModel?: { name: string; params: Record<string, number> };
  spend: { p: number; q: number; v: number };
  /** edges.length === counts.length + 1. */
  histogram: { edges: number[]; counts: number[] };
  bySegment: { segment: string; customers: number; meanClv: number; totalClv: number }[];
  holdout?: ReportHoldoutBucket[];
  top: { customerId: string; clv: number; pAlive: number }[];
}

/** Churn model and its scores. */
export interface ReportChurn {
  auc: number;
  prAuc: number;
  brier: number;
  baselineAuc: number;
  positiveRate: number;
  model: string;
  /** Churn window in words (e.g. '90 days'). */
  window?: string;
  calibration: { meanPredicted: number; observedRate: number; count: number }[];
  importance: { feature: string; importance: number }[];
  atRisk: { customerId: string; churnProbability: number; clv: number | null; persona: string | null }[];
}

/** Revenue forecast with the chosen model's backtest scores. */
export interface ReportForecast {
  model: string;
  /** 'day' | 'week' | 'month'. */
  grain: string;
  mase: number;
  baselineMase: number;
  mape: number;
  coverage80: number;
  coverage95: number;
  history: { date: string; value: number }[];
  forecast: {
    date: string;
    mean: number;
    lower80: number;
    upper80: number;
    lower95: number;
    upper95: number;
  }[];
  scores: {
    model: string;
    mase: number | null;
    mape: number | null;
    coverage80: number | null;
    coverage95: number | null;
    error?: string;
  }[];
  notes?: string[];
  /** The controls in use (pinning, SARIMA order and how, holidays); absent for forecasts before v3. */
  controls?: ForecastControls;
}

/** One treatment-versus-control comparison. */
export interface ReportExperiment {
  id: string;
  /** conversion | revenuePerCustomer | ... */
  metric: string;
  treatment?: string;
  customersControl?: number;
  customersTreatment?: number;
  controlValue?: number;
  treatmentValue?: number;
  /** Relative lift, treatment over control. */
  lift: number;
  /** 95% interval of the relative lift. */
  ci: [number, number];
  pValue: number | null;
  srmPValue: number | null;
  probabilityToBeatControl: number | null;
}

/** Simulated outcome of one targeting policy. */
export interface ReportPolicy {
  name: string;
  rank?: number;
  customersTargeted?: number;
  cost?: number;
  incrementalRevenue: { mean: number; p5: number; p95: number };
  roi: number | null;
  probabilityOfTarget: number | null;
  exactProbabilityOfTarget?: number | null;
}

/** What a policy was asked to reach over the policy horizon (experiment.policies[].goal); all stated must hold. */
export interface ReportPolicyGoal {
  policy: string;
  /** At least this many incremental orders. */
  extraOrders?: number;
  /** At least this much incremental revenue (with the policy minus without). */
  incrementalRevenue?: number;
  /** At least this much total revenue from every scored customer, targeted or not. */
  totalRevenue?: number;
}

/** Experiments and policy simulations. */
export interface ReportExperiments {
  experiments: ReportExperiment[];
  policies: ReportPolicy[];
  /** SRM p-value below which an experiment is flagged (default 0.001). */
  srmThreshold?: number;
  /** Confidence level of every interval (1 - experiment.alpha). */
  confidence?: number;
  /** Configured metrics (experiment.metrics) per experiment and treatment, with intervals. */
  customMetrics?: NonNullable<ExperimentMetrics['customMetrics']>;
  /** Guardrail verdicts (experiment.guardrails) per experiment and treatment. */
  guardrails?: NonNullable<ExperimentMetrics['guardrails']>;
  /** P(goal) and expected outcomes against the conversion boost, per policy with a boostSweep. */
  boostSweeps?: NonNullable<ExperimentMetrics['boostSweeps']>;
  /** The policies' goals, from the run's config. */
  goals?: ReportPolicyGoal[];
  /** Days over which policies are simulated and their goals counted. */
  policyHorizonDays?: number;
}

/** Top-K ranking figures of one recommender on the month after its fit (0..1; null when not measured). */
export interface ReportRankingMetrics {
  hitRate5: number | null;
  hitRate10: number | null;
  precision10: number | null;
  recall10: number | null;
  coverage: number | null;
}

/** Bundles and next-best-offer: association rules, per-persona bundles and attachment, the evaluation. */
export interface ReportRecommend {
  /** Rules kept (product and category levels). */
  rules: number;
  /** The strongest rules by lift (names come from data and may be hostile). */
  topRules: {
    level: string;
    antecedent: string[];
    consequent: string;
    orders: number;
    support: number;
    confidence: number;
    lift: number;
  }[];
  /** Each persona's top bundles (pairs), with the larger of the two confidences. */
  bundles: {
    persona: string;
    productA: string;
    productB: string;
    orders: number;
    confidence: number;
    lift: number;
  }[];
  /** Per persona (and '(all)'): orders holding a rule's antecedent, and the share also holding its consequent. */
  attachment: {
    persona: string;
    ordersWithAntecedent: number;
    ordersWithAddOn: number;
    attachmentRate: number | null;
  }[];
  evaluation: {
    model: ReportRankingMetrics;
    popularity: ReportRankingMetrics;
    buyAgain: ReportRankingMetrics;
    itemToItem?: ReportRankingMetrics;
  } | null;
  /** The fit date and the end of the month measured (ISO), and the customers measured. */
  evaluationWindow: { from: string; to: string; customers: number } | null;
  /** Weight of the customer's own history in the model's score, and how it was set. */
  blend: number;
  blendChosenBy: string;
  /** Customers by their first recommended category, with the typical reason (null: no category lists). */
  categoryFirstChoices?: { category: string; customers: number; reason: string }[] | null;
  notes: string[];
}

/** A file exported with the report (e.g. the CRM CSV). */
export interface ReportExport {
  name: string;
  /** Where it is (s3:// or relative path); shown as text, never fetched. */
  uri: string;
  rows: number;
  description?: string;
}

/** Everything the report shows. Only `run` is required. */
export interface ReportData {
  run: ReportRun;
  /** Revenue of the month against the comparable span, and the next open period (headlines.ts). */
  headlines?: Headlines;
  /** Why a section is missing (e.g. 'the dataset has no assignments table'); otherwise derived from the stages. */
  unavailable?: Partial<Record<ReportSection, string>>;
  dataQuality?: ReportDataQuality;
  features?: ReportFeatures;
  /** Customer attributes tested against spend (features' attribute_tests.json); absent without a customers table. */
  attributeTests?: ReportAttributeTests;
  /** Segment means of the extension-column and attribute features (segment_attribute_profiles.json). */
  segmentAttributeProfiles?: ReportSegmentAttributeProfiles;
  /** Forecasts per category and per segment (forecast v3's bySeries). */
  forecastSeries?: ReportForecastSeries;
  segments?: ReportSegments;
  cohorts?: ReportCohorts;
  clv?: ReportClv;
  churn?: ReportChurn;
  forecast?: ReportForecast;
  experiments?: ReportExperiments;
  recommend?: ReportRecommend;
  /** The exploratory page: distributions, country and category breakdowns, null rates (gatherEda.ts). */
  eda?: ReportEda;
  /** High-value models compared on one holdout, the spend regression, rates per persona (gatherModels.ts). */
  valueModels?: ReportValueModels;
  /** Spend per order by category and season, with the interaction p-value (features' insights). */
  categorySeason?: ReportCategorySeason;
  /** Per-segment A/B (Holm), treatment x segment interaction and power / MDE (gatherModels.ts). */
  experimentDetail?: ReportExperimentDetail;
  /** Best-selling products (names come from data and may be hostile). */
  topProducts?: { productName: string; revenue: number; orders?: number }[];
  exports?: ReportExport[];
}
