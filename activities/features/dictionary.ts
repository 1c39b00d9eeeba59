/** Moved to lib/customerFeatures/dictionary.ts (shared by features, churn and segment). */
export * from '../../lib/customerFeatures/dictionary';
