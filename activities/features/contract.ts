/**
 * What other stages and the report read of features: its metrics and insights.json. The customer feature
 * SQL and the feature dictionary are shared code in lib/customerFeatures/.
 */
export type { FeaturesMetrics } from './outputs';
export type { Insights } from './insights';
export type { AttributeTest, AttributeTestsResult } from './attributeTests';
