/**
 * The recommend stage's contract: the metrics it returns (docs/DESIGN.md: `rules`, `evaluation`, plus
 * context fields) and recommend_summary.json, which the report reads. Types only.
 */
import type { RankingMetrics } from './evaluation';
import type { LevelMiningSummary, PersonaAttachment } from './rules';

export type { RankingMetrics } from './evaluation';
export type { LevelMiningSummary, PersonaAttachment } from './rules';

/** One evaluation window and the customers measured on it. */
export interface EvaluationWindow {
  /** The fit date (orders up to it) and the end of the window measured (exclusive start, inclusive end). */
  from: string;
  to: string;
  customers: number;
}

/** The recommend stage's metrics: DESIGN.md's `rules` and `evaluation`, and what explains them. */
export interface RecommendMetrics extends Record<string, unknown> {
  /** Rules kept, product and category levels together. */
  rules: number;
  productRules: number;
  categoryRules: number;
  /** Model vs baselines on the evaluation month; null when no customer could be measured. */
  evaluation: { model: RankingMetrics; popularity: RankingMetrics; buyAgain: RankingMetrics } | null;
  /** The pure item-to-item lists (blend 0) on the evaluation month, for comparison. */
  itemToItem: RankingMetrics | null;
  /** Weight of the customer's own history in the model's score, and how it was set. */
  blend: number;
  blendChosenBy: 'validation' | 'config' | 'default';
  evaluationWindow: EvaluationWindow | null;
  validationWindow: EvaluationWindow | null;
  /** True when the model beats both baselines on hit rate at 10 (null when not measured). */
  beatsBaselines: boolean | null;
  /** Active customers given a list, and list rows written. */
  recommendedCustomers: number;
  recommendationRows: number;
  /** Category list rows written (category_recommendations.parquet; 0 with fewer than two categories). */
  categoryRecommendationRows: number;
  /** Share of orders holding a rule's antecedent that also hold its consequent (all orders). */
  attachmentRate: number | null;
  effectiveEnd: string | null;
  items: number;
  orders: number;
  notes: string[];
}

/** recommend_summary.json: what the report shows, and the settings and choices behind the metrics. */
export interface RecommendSummary {
  effectiveEnd: string | null;
  mining: LevelMiningSummary[];
  topRules: RuleRow[];
  bundles: BundleRow[];
  attachment: PersonaAttachment[];
  evaluation: RecommendMetrics['evaluation'];
  itemToItem: RankingMetrics | null;
  evaluationWindow: EvaluationWindow | null;
  validation: {
    window: EvaluationWindow;
    grid: { blend: number; metrics: RankingMetrics }[];
  } | null;
  blend: number;
  blendChosenBy: RecommendMetrics['blendChosenBy'];
  /** The category lists: how many per customer and, per category, the customers whose first it is. */
  categoryLists: CategoryListsSummary | null;
  notes: string[];
}

/** What the category lists hold (issue 12 item 3). */
export interface CategoryListsSummary {
  topN: number;
  categories: number;
  rows: number;
  /** Customers by their first recommended category, most first (ties by category), with the most common reason. */
  firstChoices: { category: string; customers: number; source: string; reason: string }[];
}

/** A rule as the summary lists it (names resolved). */
export interface RuleRow {
  level: string;
  antecedent: string[];
  antecedentNames: string[];
  consequent: string;
  consequentName: string;
  orders: number;
  support: number;
  confidence: number;
  lift: number;
}

/** A persona's bundle as the summary lists it. */
export interface BundleRow {
  persona: string;
  rank: number;
  productA: string;
  nameA: string;
  productB: string;
  nameB: string;
  orders: number;
  support: number;
  confidenceAB: number;
  confidenceBA: number;
  lift: number;
}
