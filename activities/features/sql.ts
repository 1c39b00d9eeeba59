/** Moved to lib/customerFeatures/sql.ts (shared by features, churn, segment and recommend). */
export * from '../../lib/customerFeatures/sql';
