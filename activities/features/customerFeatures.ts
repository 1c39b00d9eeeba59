/** Moved to lib/customerFeatures/customerFeatures.ts (shared by features and churn). */
export * from '../../lib/customerFeatures/customerFeatures';
