/**
 * The persona decision rules' tree (CART on readable features) lives in lib/ruleTree.ts, shared with the
 * churn stage's high-value tree; re-exported here for the segment stage's modules.
 */
export * from '../../lib/ruleTree';
