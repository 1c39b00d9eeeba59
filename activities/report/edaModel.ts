/**
 * What the report's exploratory page (EDA) and value-model card show, as plain JSON-able data. Kept apart
 * from model.ts so the shapes of the page grow here; ReportData holds them as optional fields.
 */

/** Distribution of one customer feature: quantiles, moments and an equal-width histogram. */
export interface ReportFeatureDistribution {
  feature: string;
  customers: number;
  mean: number;
  sd: number;
  /** Sample skewness (DuckDB skewness()). */
  skewness: number | null;
  min: number;
  p5: number;
  p25: number;
  median: number;
  p75: number;
  p95: number;
  max: number;
  /**
   * Histogram between the 1st and 99th percentiles (values outside fall into the end bins, so no customer
   * is left out: `clipped` says how many). edges.length === counts.length + 1.
   */
  histogram: { edges: number[]; counts: number[]; clipped: number };
}

/** Revenue, customers and orders of one value of a dimension (a country). */
export interface ReportDimensionRow {
  value: string;
  revenue: number;
  customers: number;
  orders: number;
}

/** A breakdown of revenue by one dimension of the transactions (country by default). */
export interface ReportDimensionBreakdown {
  dimension: string;
  /** The largest values by revenue; the rest summed into `other`. */
  rows: ReportDimensionRow[];
  other: ReportDimensionRow | null;
  /** Distinct values of the dimension (null counted as one value, shown as '(none)'). */
  distinct: number;
  totalRevenue: number;
}

/** Revenue ranking of categories and their monthly trend. */
export interface ReportCategoryRanking {
  categories: {
    category: string;
    revenue: number;
    share: number;
    orders: number;
    recentChange: number | null;
  }[];
  /** Months of the trend, 'YYYY-MM'; revenue[i][m] of the top categories. */
  months: string[];
  trend: { category: string; revenue: number[] }[];
  distinct: number;
}

/**
 * Revenue ranking of products and their monthly trend: shown instead of the category ranking when the data
 * have no categories. `name` is the product's most used description (its id when it has none).
 */
export interface ReportProductRanking {
  products: {
    productId: string;
    name: string;
    revenue: number;
    share: number;
    orders: number;
    recentChange: number | null;
  }[];
  /** Months of the trend, 'YYYY-MM'; revenue[m] of the top products. */
  months: string[];
  trend: { productId: string; name: string; revenue: number[] }[];
  distinct: number;
}

/** Null rate of one column of the cleaned transactions. */
export interface ReportNullRate {
  column: string;
  nulls: number;
  rate: number;
}

/** New against returning customers: per month and overall. */
export interface ReportNewVsReturning {
  months: {
    month: string;
    newCustomers: number;
    returningCustomers: number;
    newRevenue: number;
    returningRevenue: number;
    newOrderValue: number | null;
    returningOrderValue: number | null;
  }[];
  /** Share of customers acquired at least `days` before the cutoff who ordered again within `days`. */
  repeatWithin: { days: number; eligible: number; repeated: number; rate: number | null };
}

/** Outliers the clean stage flagged (kept, flagged, never dropped). */
export interface ReportOutliers {
  rows: number;
  low: number;
  high: number;
  /** How the spend models read them (run config outliers.method): 'none', 'exclude' or 'winsorize'. */
  treatment?: string;
  /** Customers with at least one flagged line: those whose model inputs a treatment other than none changes. */
  customers?: number;
}

/** The exploratory page. Each part is absent when its source is (no country column, no categories). */
export interface ReportEda {
  transactions: number;
  revenue: number;
  customers: number;
  orders: number;
  distributions: ReportFeatureDistribution[];
  dimension?: ReportDimensionBreakdown;
  categories?: ReportCategoryRanking;
  /** Only when there is no category ranking. */
  products?: ReportProductRanking;
  nullRates: ReportNullRate[];
  newVsReturning?: ReportNewVsReturning;
  outliers?: ReportOutliers;
  segmentProfile?: ReportSegmentProfile;
}

/** Mean of each key feature per persona, and its distance from all customers in standard deviations. */
export interface ReportSegmentProfile {
  personas: string[];
  customers: number[];
  features: string[];
  /** means[persona][feature]. */
  means: number[][];
  /** (persona mean - overall mean) / overall sd, per cell. */
  z: number[][];
}

/** Metrics of one model on the shared holdout. */
export interface ReportHoldoutScore {
  model: string;
  accuracy: number | null;
  auc: number | null;
  brier: number | null;
}

/** A coefficient with its interval (posterior or confidence). */
export interface ReportCoefficient {
  name: string;
  estimate: number;
  lower: number;
  upper: number;
}

/** The value models beside churn: high-value classifiers compared on one holdout, the spend regression. */
export interface ReportValueModels {
  /** High-value = future spend above this threshold (the holdout window's median). */
  threshold: number | null;
  positiveRate: number | null;
  majorityAccuracy: number | null;
  models: ReportHoldoutScore[];
  /** Bayesian logistic coefficients (standardised features) with 95% credible intervals. */
  coefficients: ReportCoefficient[];
  /** The depth-limited tree's rules, when the churn stage fitted one. */
  treeRules?: { text: string; customers: number; highValueShare: number }[];
  /** Spend regression: log1p(future spend) on the standardised features, 95% confidence intervals. */
  spendRegression?: {
    coefficients: ReportCoefficient[];
    r2: number | null;
    holdoutR2: number | null;
    n: number;
  };
  /** Per persona: customers, mean predicted churn and high-value probabilities. */
  bySegment: { segment: string; customers: number; churnRate: number | null; highValueRate: number | null }[];
}

/** One segment row of an experiment's per-segment breakdown. */
export interface ReportSegmentTest {
  experiment: string;
  segment: string;
  treatment: string;
  metric: string;
  customersControl: number;
  customersTreatment: number;
  controlValue: number | null;
  treatmentValue: number | null;
  lift: number | null;
  pValue: number | null;
  adjustedPValue: number | null;
}

/** Per-segment A/B results, the treatment x segment interaction test, and power and MDE per metric. */
export interface ReportExperimentDetail {
  segments: ReportSegmentTest[];
  /** Heterogeneity of the conversion effect across segments (Cochran's Q on absolute differences). */
  interactions: {
    experiment: string;
    treatment: string;
    q: number;
    df: number;
    pValue: number;
    segments: number;
  }[];
  power: {
    experiment: string;
    treatment: string;
    metric: string;
    mde: number | null;
    mdeRelative: number | null;
    powerAtPlannedLift: number | null;
  }[];
}

/** Spend per order by category and season (features' two-way ANOVA with interaction, Type II). */
export interface ReportCategorySeason {
  seasons: string[];
  cells: { category: string; season: string; n: number; mean: number }[];
  categoryPValue: number | null;
  seasonPValue: number | null;
  /** Does the category effect depend on the season? */
  interactionPValue: number | null;
  interactionEtaSquared: number | null;
  skippedReason: string | null;
}
