/**
 * Decision rules for the personas (segment) and the high-value tree (churn's value models): a shallow classification tree (CART, Breiman, Friedman, Olshen and
 * Stone 1984; Gini impurity, binary splits on thresholds midway between sorted values) fitted to reproduce
 * the segment labels from readable features in their own units. Each leaf is one rule a CRM can automate
 * ("frequency_orders >= 3 and items_per_order < 12 -> Bulk buyers"); fidelity is the share of customers
 * whose rule names their own segment.
 *
 * Split search sorts each feature once per node on a typed index array; a split must leave at least
 * `minLeaf` rows on each side. Sibling leaves of the same segment are merged, and each rule keeps one bound
 * per feature and side, so the rules read cleanly. Depth is capped (default 3, at most 4) so the rules stay short enough to
 * type into a CRM. Deterministic: ties go to the earlier feature, then the lower threshold.
 */

export interface RuleCondition {
  feature: string;
  op: '<' | '>=';
  threshold: number;
}

export interface Rule {
  /** Leaf number, 0-based, left to right. */
  id: number;
  conditions: RuleCondition[];
  /** Segment the rule assigns (the majority segment of its customers). */
  segment: number;
  /** Customers the rule covers. */
  customers: number;
  /** Share of its customers whose segment is `segment`. */
  purity: number;
}

export interface RuleTree {
  rules: Rule[];
  /** Leaf (rule id) of every row. */
  leafOf: Int32Array;
  /** Share of rows whose rule's segment is their own segment. */
  fidelity: number;
  depth: number;
}

export interface RuleTreeOptions {
  /** Maximum depth, 1..4. Default 3. */
  maxDepth?: number;
  /** Fewest rows in a leaf. Default max(20, 1% of rows). */
  minLeaf?: number;
}

/** A subtree while fitting: a leaf (rows and their majority segment) or a split into two subtrees. */
type Built =
  | { leaf: true; rows: Int32Array; conditions: RuleCondition[]; segment: number; correct: number }
  | { leaf: false; left: Built; right: Built };

/**
 * Fits the tree to `labels` (0..k-1) from the named feature columns (same row order). Sibling leaves that
 * name the same segment are merged into their parent, bottom-up, so no two rules differ only in a
 * condition that changes nothing; each rule's conditions are simplified (simplifyConditions). Fidelity
 * is the same as the unmerged tree's.
 */
export function fitRuleTree(
  columns: Readonly<Record<string, ArrayLike<number>>>,
  features: readonly string[],
  labels: Int32Array,
  k: number,
  options: RuleTreeOptions = {},
): RuleTree {
  const n = labels.length;
  const maxDepth = options.maxDepth ?? 3;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 4) {
    throw new Error(`fitRuleTree: maxDepth must be an integer in 1..4 (got ${maxDepth})`);
  }
  const minLeaf = options.minLeaf ?? Math.max(20, Math.ceil(0.01 * n));
  for (const f of features) {
    if (!columns[f] || columns[f].length !== n) throw new Error(`fitRuleTree: column ${f} needs ${n} values`);
  }
  const leaf = (rows: Int32Array, conditions: RuleCondition[]): Built => {
    const counts = new Float64Array(k);
    for (const i of rows) counts[labels[i]]++;
    let segment = 0;
    for (let c = 1; c < k; c++) if (counts[c] > counts[segment]) segment = c;
    return { leaf: true, rows, conditions, segment, correct: counts[segment] };
  };
  const build = (rows: Int32Array, conditions: RuleCondition[], depth: number): Built => {
    const split = depth < maxDepth ? bestSplit(columns, features, labels, k, rows, minLeaf) : null;
    if (!split) return leaf(rows, conditions);
    const col = columns[split.feature];
    const cond = (op: '<' | '>='): RuleCondition[] => [
      ...conditions,
      { feature: split.feature, op, threshold: split.threshold },
    ];
    const left = build(
      rows.filter((i) => col[i] < split.threshold),
      cond('<'),
      depth + 1,
    );
    const right = build(
      rows.filter((i) => col[i] >= split.threshold),
      cond('>='),
      depth + 1,
    );
    // Both sides name the same segment: the split changes no customer's rule outcome, so drop it.
    if (left.leaf && right.leaf && left.segment === right.segment) return leaf(rows, conditions);
    return { leaf: false, left, right };
  };
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const rules: Rule[] = [];
  const leafOf = new Int32Array(n);
  let correct = 0;
  // Left before right, so rule ids read left to right.
  const collect = (node: Built): void => {
    if (!node.leaf) {
      collect(node.left);
      collect(node.right);
      return;
    }
    const id = rules.length;
    for (const i of node.rows) leafOf[i] = id;
    correct += node.correct;
    rules.push({
      id,
      conditions: simplifyConditions(node.conditions),
      segment: node.segment,
      customers: node.rows.length,
      purity: node.rows.length > 0 ? node.correct / node.rows.length : 0,
    });
  };
  collect(build(all, [], 0));
  return { rules, leafOf, fidelity: n > 0 ? correct / n : 0, depth: maxDepth };
}

/**
 * The same rule with one bound per feature and side: "x < 460 and x < 179" is "x < 179", "x >= 5 and
 * x >= 9" is "x >= 9". Order of first appearance is kept, so the rule still reads from the root down.
 */
export function simplifyConditions(conditions: readonly RuleCondition[]): RuleCondition[] {
  const kept: RuleCondition[] = [];
  for (const c of conditions) {
    const same = kept.findIndex((d) => d.feature === c.feature && d.op === c.op);
    if (same < 0) {
      kept.push({ ...c });
      continue;
    }
    const tighter = c.op === '<' ? c.threshold < kept[same].threshold : c.threshold > kept[same].threshold;
    if (tighter) kept[same] = { ...c };
  }
  return kept;
}

/** The Gini-best split of `rows`, or null when none lowers impurity with minLeaf rows on each side. */
function bestSplit(
  columns: Readonly<Record<string, ArrayLike<number>>>,
  features: readonly string[],
  labels: Int32Array,
  k: number,
  rows: Int32Array,
  minLeaf: number,
): { feature: string; threshold: number } | null {
  const m = rows.length;
  if (m < 2 * minLeaf) return null;
  const total = new Float64Array(k);
  for (const i of rows) total[labels[i]]++;
  const gini = (counts: Float64Array, size: number): number => {
    if (size === 0) return 0;
    let s = 0;
    for (let c = 0; c < k; c++) s += counts[c] * counts[c];
    return size - s / size; // size x Gini impurity
  };
  const parent = gini(total, m);
  if (parent <= 0) return null;
  let best: { feature: string; threshold: number; impurity: number } | null = null;
  const left = new Float64Array(k);
  const right = new Float64Array(k);
  const values = new Float64Array(m);
  for (const feature of features) {
    const col = columns[feature];
    const order = Int32Array.from(rows).sort((a, b) => col[a] - col[b] || a - b);
    for (let r = 0; r < m; r++) values[r] = col[order[r]];
    left.fill(0);
    right.set(total);
    for (let r = 0; r < m - 1; r++) {
      const c = labels[order[r]];
      left[c]++;
      right[c]--;
      const nLeft = r + 1;
      if (nLeft < minLeaf || m - nLeft < minLeaf || values[r] === values[r + 1]) continue;
      const impurity = gini(left, nLeft) + gini(right, m - nLeft);
      if (impurity < parent - 1e-9 && (best === null || impurity < best.impurity - 1e-9)) {
        best = { feature, threshold: roundThreshold(values[r], values[r + 1]), impurity };
      }
    }
  }
  return best;
}

/** A readable threshold strictly above `lo` and at most `hi`: the shortest decimal in (lo, hi]. */
export function roundThreshold(lo: number, hi: number): number {
  for (let digits = 0; digits <= 6; digits++) {
    const scale = 10 ** digits;
    const t = Math.ceil(((lo + hi) / 2) * scale) / scale;
    if (t > lo && t <= hi) return t;
    const up = Math.floor(hi * scale) / scale;
    if (up > lo && up <= hi) return up;
  }
  return (lo + hi) / 2;
}

/** "orders >= 3 and basket_size < 12" (or "everyone" for a tree with no split). */
export function ruleText(conditions: readonly RuleCondition[]): string {
  if (conditions.length === 0) return 'everyone';
  return conditions.map((c) => `${c.feature} ${c.op} ${formatNumber(c.threshold)}`).join(' and ');
}

function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4)));
}

/** Predicts the rule (leaf id) of one row of features, e.g. to score customers outside the fit. */
export function ruleOf(rules: readonly Rule[], value: (feature: string) => number): Rule | undefined {
  return rules.find((r) =>
    r.conditions.every((c) =>
      c.op === '<' ? value(c.feature) < c.threshold : value(c.feature) >= c.threshold,
    ),
  );
}
