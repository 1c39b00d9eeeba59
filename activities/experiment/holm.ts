/** Holm-Bonferroni adjustment: moved to lib/numeric/multipleTesting.ts (shared with features' attribute tests). */
export { holmAdjust } from '../../lib/numeric/multipleTesting';
