/**
 * Gradient-boosted regression trees for binary log-loss (Friedman 2001, "Greedy function approximation",
 * Algorithm 5, LK_TreeBoost), with second-order leaf values and split gains as in XGBoost (Chen and Guestrin
 * 2016, eqs. 5 and 7) and histogram-based split finding as in LightGBM (Ke et al. 2017) and XGBoost's `hist`:
 * every feature is cut once into at most `maxBins` quantile bins, each node accumulates per-bin gradient and
 * Hessian sums, and the larger child's histogram is the parent's minus the smaller child's.
 *
 * Missing values (NaN) get their own bin; each split learns whether they go left or right (the sparsity-aware
 * default direction of Chen and Guestrin 2016, Algorithm 3). A feature with no missing value in training sends
 * NaN right at prediction time.
 *
 * Deterministic: the only randomness is the per-tree row subsample, drawn from a seeded Rng.
 *
 * Verbs: fitGradientBoosting -> GradientBoostingModel with predictProbability, predictRaw, featureImportance,
 * toJSON.
 */
import { Rng } from '../../lib/random';
import { runToEnd, type Steps } from '../../lib/yieldEvery';
import type { FeatureImportance, FeatureMatrix, ProbabilityModel } from './data';
import { defaultFeatureNames, rankImportance, sigmoid, validateLabels, validateMatrix } from './data';

/** Options of fitGradientBoosting. */
export interface GradientBoostingOptions {
  /** Names of the columns of X (default x0, x1, ...). */
  featureNames?: readonly string[];
  /** Number of trees (boosting rounds), default 100. */
  trees?: number;
  /** Maximum depth of each tree (root = depth 0), default 4. */
  maxDepth?: number;
  /** Shrinkage applied to every leaf value (Friedman 2001, section 5), default 0.1. */
  learningRate?: number;
  /** Fewest training rows (of the subsample) in a leaf, default 20. */
  minSamplesLeaf?: number;
  /** Fraction of rows drawn (without replacement, Bernoulli) for each tree (Friedman 2002), default 0.8. */
  subsample?: number;
  /** L2 penalty on leaf values (XGBoost's lambda), default 1. */
  l2?: number;
  /** Smallest split gain worth taking, default 0. */
  minGain?: number;
  /**
   * Cap on the expected rows drawn per tree, default 100,000: on large inputs the sampling fraction becomes
   * min(subsample, maxRowsPerTree / rows), which bounds the cost of a tree while every leaf still sees
   * thousands of rows (on the benchmark's 1M synthetic customers: holdout AUC 0.7960 at 100,000 rows per tree,
   * 0.7962 at 250,000, for 0.66x the fitting time).
   */
  maxRowsPerTree?: number;
  /** Quantile bins per feature, at most 64 (the default). */
  maxBins?: number;
  /** Rows sampled (evenly spaced) to place the bin edges, default 100,000. */
  binSampleRows?: number;
  /** Seed of the subsample stream, default 1. */
  seed?: number;
}

/** One fitted tree in flat arrays; node 0 is the root, feature -1 marks a leaf. */
export interface BoostedTree {
  feature: Int32Array;
  /** Rows with x <= threshold go left. */
  threshold: Float64Array;
  /** The same split as a bin index: bin <= thresholdBin goes left. */
  thresholdBin: Uint8Array;
  /** 1 when missing values go left. */
  missingLeft: Uint8Array;
  left: Int32Array;
  /** Always left + 1 for a split node (children are allocated together). */
  right: Int32Array;
  /** Leaf contribution to the log-odds (learning rate already applied). */
  value: Float64Array;
}

/** A fitted gradient-boosting classifier. */
export class GradientBoostingModel implements ProbabilityModel {
  readonly kind = 'gradientBoosting';

  constructor(
    readonly featureNames: readonly string[],
    /** Initial log-odds: logit of the training positive rate. */
    readonly baseScore: number,
    readonly trees: readonly BoostedTree[],
    /** Total split gain per feature over all trees. */
    readonly gainByFeature: Float64Array,
    /** Number of splits per feature over all trees. */
    readonly splitsByFeature: Float64Array,
    readonly options: Required<Omit<GradientBoostingOptions, 'featureNames'>>,
    /** Mean log-loss on the training rows after the last tree (from the bins the trees were grown on). */
    readonly trainingLogLoss: number,
  ) {
    this.packed = packTrees(trees);
  }

  private readonly packed: PackedTrees;

  /** Log-odds (sum of the base score and every tree's leaf value) for every row of X. */
  predictRaw(X: FeatureMatrix): Float64Array {
    validateMatrix('GradientBoostingModel.predictRaw', X);
    const cols = this.featureNames.length;
    if (X.cols !== cols) {
      throw new Error(
        `GradientBoostingModel.predictRaw: X has ${X.cols} columns, the model was fitted on ${cols}`,
      );
    }
    const { rows, data } = X;
    const { roots, depth, feature, threshold, missingLeft, left, value } = this.packed;
    const treeCount = roots.length;
    const raw = new Float64Array(rows).fill(this.baseScore);
    const node = new Int32Array(WALK_BLOCK);
    // A block of rows walks each tree together, level by level: the rows' walks are independent, so the
    // processor overlaps their memory loads, and the block (a few KB of X) stays in cache across all trees.
    // Leaves point to themselves and never move (see packTrees), so every walk takes exactly depth[t] steps.
    for (let start = 0; start < rows; start += WALK_BLOCK) {
      const m = Math.min(WALK_BLOCK, rows - start);
      const blockBase = start * cols;
      for (let t = 0; t < treeCount; t++) {
        node.fill(roots[t]);
        for (let level = depth[t]; level > 0; level--) {
          for (let k = 0, base = blockBase; k < m; k++, base += cols) {
            const n = node[k];
            const x = data[base + feature[n]];
            // Children are adjacent (right = left + 1). NaN fails x > threshold, so it goes right only when
            // the node sends missing values right.
            node[k] = left[n] + (+(x > threshold[n]) | (+(x !== x) & (missingLeft[n] ^ 1)));
          }
        }
        for (let k = 0; k < m; k++) raw[start + k] += value[node[k]];
      }
    }
    return raw;
  }

  /** P(y = 1 | x) for every row of X. */
  predictProbability(X: FeatureMatrix): Float64Array {
    const raw = this.predictRaw(X);
    for (let i = 0; i < raw.length; i++) raw[i] = sigmoid(raw[i]);
    return raw;
  }

  /** Total split gain per feature (the reduction in the second-order log-loss objective it bought). */
  featureImportance(): FeatureImportance[] {
    return rankImportance(this.featureNames, this.gainByFeature);
  }

  /** Plain-number description of the ensemble (settings, importance; trees as arrays). */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      options: this.options,
      baseScore: this.baseScore,
      featureNames: this.featureNames,
      gainByFeature: Array.from(this.gainByFeature),
      trees: this.trees.map((t) => ({
        feature: Array.from(t.feature),
        threshold: Array.from(t.threshold),
        missingLeft: Array.from(t.missingLeft),
        left: Array.from(t.left),
        right: Array.from(t.right),
        value: Array.from(t.value),
      })),
    };
  }
}

/** Rows walked together through each tree at prediction time. */
const WALK_BLOCK = 64;

/**
 * Every tree's nodes in shared arrays, child indices absolute, roots[t] tree t's root and depth[t] its depth.
 * Leaves are made absorbing for the branch-free walk: feature 0, threshold +Infinity (nothing is above it),
 * missing values sent left, and left = the leaf itself, so a step from a leaf stays on it.
 */
interface PackedTrees {
  roots: Int32Array;
  depth: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  missingLeft: Uint8Array;
  left: Int32Array;
  value: Float64Array;
}

/** Depth of a tree (0 for a single leaf). */
function treeDepth(tree: BoostedTree, node = 0): number {
  if (tree.feature[node] < 0) return 0;
  return 1 + Math.max(treeDepth(tree, tree.left[node]), treeDepth(tree, tree.right[node]));
}

function packTrees(trees: readonly BoostedTree[]): PackedTrees {
  const total = trees.reduce((s, t) => s + t.feature.length, 0);
  const packed: PackedTrees = {
    roots: new Int32Array(trees.length),
    depth: new Int32Array(trees.length),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    missingLeft: new Uint8Array(total),
    left: new Int32Array(total),
    value: new Float64Array(total),
  };
  let offset = 0;
  trees.forEach((tree, t) => {
    packed.roots[t] = offset;
    packed.depth[t] = treeDepth(tree);
    packed.value.set(tree.value, offset);
    for (let k = 0; k < tree.feature.length; k++) {
      const leaf = tree.feature[k] < 0;
      packed.feature[offset + k] = leaf ? 0 : tree.feature[k];
      packed.threshold[offset + k] = leaf ? Infinity : tree.threshold[k];
      packed.missingLeft[offset + k] = leaf ? 1 : tree.missingLeft[k];
      packed.left[offset + k] = leaf ? offset + k : offset + tree.left[k];
    }
    offset += tree.feature.length;
  });
  return packed;
}

/** Bin edges per feature and the binned training matrix. */
interface Binning {
  /** edges[j][b]: values x <= edges[j][b] (and above edges[j][b - 1]) fall in bin b; above all: bin edges.length. */
  edges: Float64Array[];
  /** Row-major bin index per value, `width` bytes per row (cols rounded up to a multiple of 4); `missingBin` for NaN. */
  bins: Uint8Array;
  width: number;
  missingBin: number;
}

/**
 * Quantile bin edges from an evenly spaced row sample: with at most maxBins distinct values each value gets its
 * own bin (edges at midpoints between neighbours); otherwise edges at the k/maxBins sample quantiles, deduplicated.
 */
function binFeatures(X: FeatureMatrix, maxBins: number, sampleRows: number): Binning {
  const { rows, cols, data } = X;
  const stride = Math.max(1, Math.ceil(rows / sampleRows));
  const sample = new Float64Array(Math.ceil(rows / stride));
  const edges: Float64Array[] = [];
  for (let j = 0; j < cols; j++) {
    let m = 0;
    for (let i = 0; i < rows; i += stride) {
      const v = data[i * cols + j];
      if (v === v) sample[m++] = v;
    }
    const sorted = sample.slice(0, m).sort();
    const distinct: number[] = [];
    for (let k = 0; k < m && distinct.length <= maxBins; k++) {
      if (k === 0 || sorted[k] !== sorted[k - 1]) distinct.push(sorted[k]);
    }
    const cut: number[] = [];
    if (distinct.length <= maxBins) {
      for (let k = 0; k + 1 < distinct.length; k++) cut.push(0.5 * (distinct[k] + distinct[k + 1]));
    } else {
      for (let k = 1; k < maxBins; k++) {
        const q = sorted[Math.floor((k * m) / maxBins) - 1];
        // The top value cannot be an edge (nothing would fall above it in the sample).
        if ((cut.length === 0 || q > cut[cut.length - 1]) && q < sorted[m - 1]) cut.push(q);
      }
    }
    edges.push(Float64Array.from(cut));
  }
  const missingBin = maxBins;
  // Rows padded to whole 32-bit words, so that a row of bins can be copied as a few Uint32 words.
  const width = Math.ceil(cols / 4) * 4;
  const bins = new Uint8Array(rows * width);
  // Edges padded with +Infinity to 64 per feature, so the search below is a fixed, branch-light descent.
  const padded = new Float64Array(cols * 64).fill(Infinity);
  for (let j = 0; j < cols; j++) padded.set(edges[j], j * 64);
  // Rows outer, features inner: one sequential pass over X (features outer would stride through it cols times).
  for (let i = 0, p = 0; i < rows; i++) {
    const out = i * width;
    for (let j = 0, e = 0; j < cols; j++, p++, e += 64) {
      const v = data[p];
      if (v !== v) {
        bins[out + j] = missingBin;
        continue;
      }
      // Number of edges below v = first b with v <= edge b (at most 63 real edges, the rest +Infinity).
      // Each step sets one bit from a comparison (no branch to mispredict): 2.5x faster than ternaries here.
      let b = +(v > padded[e + 31]) << 5;
      b |= +(v > padded[e + b + 15]) << 4;
      b |= +(v > padded[e + b + 7]) << 3;
      b |= +(v > padded[e + b + 3]) << 2;
      b |= +(v > padded[e + b + 1]) << 1;
      b += +(v > padded[e + b]);
      bins[out + j] = b;
    }
  }
  return { edges, bins, width, missingBin };
}

/**
 * Per-(feature, bin) sums of gradient, Hessian and row count over the rows order[start, end): the one loop
 * that dominates training time (a module-level function so every input is a local in the hot loop).
 */
function buildHistogram(
  length: number,
  order: Int32Array,
  start: number,
  end: number,
  gradient: Float64Array,
  hessian: Float64Array,
  bins: Uint8Array,
  width: number,
  cols: number,
  slots: number,
): Float64Array {
  const hist = new Float64Array(length);
  for (let r = start; r < end; r++) {
    const i = order[r];
    const g = gradient[i];
    const h = hessian[i];
    const base = i * width;
    for (let j = 0, slotBase = 0; j < cols; j++, slotBase += slots) {
      const o = (slotBase + bins[base + j]) * 3;
      hist[o] += g;
      hist[o + 1] += h;
      hist[o + 2] += 1;
    }
  }
  return hist;
}

interface SplitChoice {
  gain: number;
  feature: number;
  bin: number;
  missingLeft: boolean;
  /** Gradient and Hessian sums and row count of the left child. */
  gLeft: number;
  hLeft: number;
  cLeft: number;
}

/** Growing tree: node arrays that grow as nodes are added. */
class TreeBuilder {
  feature: number[] = [];
  thresholdBin: number[] = [];
  threshold: number[] = [];
  missingLeft: number[] = [];
  left: number[] = [];
  right: number[] = [];
  value: number[] = [];

  addNode(): number {
    this.feature.push(-1);
    this.thresholdBin.push(0);
    this.threshold.push(0);
    this.missingLeft.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.value.push(0);
    return this.feature.length - 1;
  }

  build(): BoostedTree {
    return {
      feature: Int32Array.from(this.feature),
      threshold: Float64Array.from(this.threshold),
      thresholdBin: Uint8Array.from(this.thresholdBin),
      missingLeft: Uint8Array.from(this.missingLeft),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      value: Float64Array.from(this.value),
    };
  }
}

interface OpenNode {
  id: number;
  start: number;
  end: number;
  depth: number;
  /** Interleaved [gradient sum, Hessian sum, count] per (feature, bin); null for a node that cannot split. */
  histogram: Float64Array | null;
  gradient: number;
  hessian: number;
}

/**
 * Fit gradient-boosted trees to 0/1 labels by minimizing log-loss. Starts from the logit of the positive rate;
 * each round fits a depth-limited tree to the gradient g = p - y and Hessian h = p (1 - p) of a row subsample.
 */
export function fitGradientBoosting(
  X: FeatureMatrix,
  y: Uint8Array,
  options: GradientBoostingOptions = {},
): GradientBoostingModel {
  return runToEnd(gradientBoostingSteps(X, y, options));
}

/** fitGradientBoosting one tree at a step (lib/yieldEvery.ts): a stage runs it with runYielding. */
export function* gradientBoostingSteps(
  X: FeatureMatrix,
  y: Uint8Array,
  options: GradientBoostingOptions = {},
): Steps<GradientBoostingModel> {
  const featureNames = options.featureNames ?? defaultFeatureNames(X.cols);
  validateMatrix('fitGradientBoosting', X, featureNames);
  validateLabels('fitGradientBoosting', y, X.rows, true);
  const settings = {
    trees: options.trees ?? 100,
    maxDepth: options.maxDepth ?? 4,
    learningRate: options.learningRate ?? 0.1,
    minSamplesLeaf: options.minSamplesLeaf ?? 20,
    subsample: options.subsample ?? 0.8,
    maxRowsPerTree: options.maxRowsPerTree ?? 100_000,
    l2: options.l2 ?? 1,
    minGain: options.minGain ?? 0,
    maxBins: options.maxBins ?? 64,
    binSampleRows: options.binSampleRows ?? 100_000,
    seed: options.seed ?? 1,
  };
  const check = (name: string, ok: boolean, rule: string, value: number): void => {
    if (!ok) throw new Error(`fitGradientBoosting: ${name} must be ${rule} (got ${value})`);
  };
  check('trees', Number.isInteger(settings.trees) && settings.trees >= 1, 'an integer >= 1', settings.trees);
  check(
    'maxDepth',
    Number.isInteger(settings.maxDepth) && settings.maxDepth >= 1,
    'an integer >= 1',
    settings.maxDepth,
  );
  check(
    'learningRate',
    settings.learningRate > 0 && settings.learningRate <= 1,
    'in (0, 1]',
    settings.learningRate,
  );
  check(
    'minSamplesLeaf',
    Number.isInteger(settings.minSamplesLeaf) && settings.minSamplesLeaf >= 1,
    'an integer >= 1',
    settings.minSamplesLeaf,
  );
  check('subsample', settings.subsample > 0 && settings.subsample <= 1, 'in (0, 1]', settings.subsample);
  check(
    'maxRowsPerTree',
    Number.isInteger(settings.maxRowsPerTree) && settings.maxRowsPerTree >= 1,
    'an integer >= 1',
    settings.maxRowsPerTree,
  );
  check('l2', settings.l2 >= 0 && Number.isFinite(settings.l2), 'a finite number >= 0', settings.l2);
  check('minGain', settings.minGain >= 0, '>= 0', settings.minGain);
  check(
    'maxBins',
    Number.isInteger(settings.maxBins) && settings.maxBins >= 2 && settings.maxBins <= 64,
    'an integer in [2, 64]',
    settings.maxBins,
  );
  check(
    'binSampleRows',
    Number.isInteger(settings.binSampleRows) && settings.binSampleRows >= 1,
    'an integer >= 1',
    settings.binSampleRows,
  );

  const { rows, cols } = X;
  const { edges, bins, width, missingBin } = binFeatures(X, settings.maxBins, settings.binSampleRows);
  const slots = settings.maxBins + 1; // regular bins plus the missing bin
  const histogramLength = cols * slots * 3;
  const lambda = settings.l2;
  const minLeaf = settings.minSamplesLeaf;

  let positives = 0;
  for (let i = 0; i < rows; i++) positives += y[i];
  const rate = positives / rows;
  const baseScore = Math.log(rate / (1 - rate));
  const raw = new Float64Array(rows).fill(baseScore);
  // Per-tree working set indexed by position in the subsample ("compact" index), not by row: the sampled rows'
  // bins are copied together (as whole words) so that the histogram and partition loops below the root stay
  // within a few megabytes instead of hopping through the full binned matrix.
  const words = width / 4;
  const binWords = new Uint32Array(bins.buffer, bins.byteOffset, rows * words);
  const compactBins = new Uint8Array(rows * width);
  const compactWords = new Uint32Array(compactBins.buffer);
  const sampleRow = new Int32Array(rows);
  const gradient = new Float64Array(rows);
  const hessian = new Float64Array(rows);
  const order = new Int32Array(rows);
  const spill = new Int32Array(rows);
  const rng = new Rng(settings.seed);
  const fraction = Math.min(settings.subsample, settings.maxRowsPerTree / rows);
  const subsampleThreshold = Math.floor(fraction * 4294967296);

  const gainByFeature = new Float64Array(cols);
  const splitsByFeature = new Float64Array(cols);
  const trees: BoostedTree[] = [];

  // Second-order objective reduction of a split (Chen and Guestrin 2016, eq. 7, without the gamma term).
  const score = (g: number, h: number): number => (g * g) / (h + lambda);

  const bestSplit = (node: OpenNode, hist: Float64Array): SplitChoice | null => {
    const count = node.end - node.start;
    if (count < 2 * minLeaf) return null;
    const parentScore = score(node.gradient, node.hessian);
    let best: SplitChoice | null = null;
    for (let j = 0; j < cols; j++) {
      const nb = edges[j].length + 1;
      if (nb < 2) continue;
      const baseSlot = j * slots;
      const mo = (baseSlot + missingBin) * 3;
      const gMissing = hist[mo];
      const hMissing = hist[mo + 1];
      const cMissing = hist[mo + 2];
      let gLeft = 0;
      let hLeft = 0;
      let cLeft = 0;
      for (let b = 0; b < nb - 1; b++) {
        const o = (baseSlot + b) * 3;
        gLeft += hist[o];
        hLeft += hist[o + 1];
        cLeft += hist[o + 2];
        // Missing values to the right.
        let cl = cLeft;
        let cr = count - cLeft;
        if (cl >= minLeaf && cr >= minLeaf) {
          const gain =
            0.5 * (score(gLeft, hLeft) + score(node.gradient - gLeft, node.hessian - hLeft) - parentScore);
          if (gain > settings.minGain && (best === null || gain > best.gain)) {
            best = { gain, feature: j, bin: b, missingLeft: false, gLeft, hLeft, cLeft: cl };
          }
        }
        if (cMissing > 0) {
          // Missing values to the left.
          cl = cLeft + cMissing;
          cr = count - cl;
          if (cl >= minLeaf && cr >= minLeaf) {
            const gl = gLeft + gMissing;
            const hl = hLeft + hMissing;
            const gain = 0.5 * (score(gl, hl) + score(node.gradient - gl, node.hessian - hl) - parentScore);
            if (gain > settings.minGain && (best === null || gain > best.gain)) {
              best = { gain, feature: j, bin: b, missingLeft: true, gLeft: gl, hLeft: hl, cLeft: cl };
            }
          }
        }
      }
    }
    return best;
  };

  for (let t = 0; t < settings.trees; t++) {
    yield;
    // Row subsample (Friedman 2002), then gradients and Hessians of the log-loss for the sampled rows only.
    // The per-row draws come from a splitmix32 stream (Steele, Lea and Flood 2014) seeded from the model's
    // Rng: same seed, same rows, at a fraction of the cost of a method call per row.
    let sampled = 0;
    let state = rng.nextUint32() | 0;
    for (let i = 0; i < rows; i++) {
      state = (state + 0x9e3779b9) | 0;
      let z = Math.imul(state ^ (state >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      z = (z ^ (z >>> 16)) >>> 0;
      if (fraction >= 1 || z < subsampleThreshold) sampleRow[sampled++] = i;
    }
    if (sampled < 2 * minLeaf) continue;
    let gTotal = 0;
    let hTotal = 0;
    for (let c = 0; c < sampled; c++) {
      const i = sampleRow[c];
      const p = sigmoid(raw[i]);
      gradient[c] = p - y[i];
      hessian[c] = p * (1 - p);
      gTotal += gradient[c];
      hTotal += hessian[c];
      order[c] = c;
      for (let w = 0, from = i * words, to = c * words; w < words; w++)
        compactWords[to + w] = binWords[from + w];
    }
    const tree = new TreeBuilder();
    let level: OpenNode[] = [
      {
        id: tree.addNode(),
        start: 0,
        end: sampled,
        depth: 0,
        histogram: buildHistogram(
          histogramLength,
          order,
          0,
          sampled,
          gradient,
          hessian,
          compactBins,
          width,
          cols,
          slots,
        ),
        gradient: gTotal,
        hessian: hTotal,
      },
    ];
    while (level.length > 0) {
      const next: OpenNode[] = [];
      for (const node of level) {
        const split =
          node.histogram !== null && node.depth < settings.maxDepth ? bestSplit(node, node.histogram) : null;
        if (split === null) {
          // Newton step for the leaf (Chen and Guestrin 2016, eq. 5), shrunk by the learning rate.
          tree.value[node.id] = (-settings.learningRate * node.gradient) / (node.hessian + lambda);
          continue;
        }
        const { feature, bin, missingLeft, gLeft, hLeft, cLeft } = split;
        gainByFeature[feature] += split.gain;
        splitsByFeature[feature] += 1;
        const leftId = tree.addNode();
        const rightId = tree.addNode();
        tree.feature[node.id] = feature;
        tree.thresholdBin[node.id] = bin;
        tree.threshold[node.id] = edges[feature][bin];
        tree.missingLeft[node.id] = missingLeft ? 1 : 0;
        tree.left[node.id] = leftId;
        tree.right[node.id] = rightId;
        const depth = node.depth + 1;
        const cRight = node.end - node.start - cLeft;
        const gRight = node.gradient - gLeft;
        const hRight = node.hessian - hLeft;
        if (depth >= settings.maxDepth || (cLeft < 2 * minLeaf && cRight < 2 * minLeaf)) {
          // Both children will be leaves: their values need only the sums, so skip the partition and histograms.
          next.push(
            { id: leftId, start: 0, end: cLeft, depth, histogram: null, gradient: gLeft, hessian: hLeft },
            { id: rightId, start: 0, end: cRight, depth, histogram: null, gradient: gRight, hessian: hRight },
          );
          continue;
        }
        // Stable partition of order[start, end), left child's rows first: rows stay in ascending order within
        // every node, so the histogram and partition loops walk memory forwards instead of at random.
        let mid = node.start;
        let spilled = 0;
        const missingGoesLeft = missingLeft ? 1 : 0;
        for (let r = node.start; r < node.end; r++) {
          const i = order[r];
          const b = compactBins[i * width + feature];
          // Branch-free: write the row to both places, advance the one it belongs to.
          const right = +(b > bin) ^ (+(b === missingBin) & missingGoesLeft);
          order[mid] = i;
          spill[spilled] = i;
          mid += right ^ 1;
          spilled += right;
        }
        order.set(spill.subarray(0, spilled), mid);
        // Histogram of the smaller child from its rows, the larger one by subtraction from the parent.
        const leftSmaller = mid - node.start <= node.end - mid;
        const small = leftSmaller
          ? buildHistogram(
              histogramLength,
              order,
              node.start,
              mid,
              gradient,
              hessian,
              compactBins,
              width,
              cols,
              slots,
            )
          : buildHistogram(
              histogramLength,
              order,
              mid,
              node.end,
              gradient,
              hessian,
              compactBins,
              width,
              cols,
              slots,
            );
        const large = node.histogram as Float64Array;
        for (let k = 0; k < histogramLength; k++) large[k] -= small[k];
        const leftHistogram = leftSmaller ? small : large;
        const rightHistogram = leftSmaller ? large : small;
        next.push(
          {
            id: leftId,
            start: node.start,
            end: mid,
            depth,
            histogram: leftHistogram,
            gradient: gLeft,
            hessian: hLeft,
          },
          {
            id: rightId,
            start: mid,
            end: node.end,
            depth,
            histogram: rightHistogram,
            gradient: gRight,
            hessian: hRight,
          },
        );
      }
      level = next;
    }
    const built = tree.build();
    trees.push(built);
    // Update every row's log-odds (sampled or not) by walking the tree on the bins, branch-free and with
    // absorbing leaves (as in predictRaw): a leaf tests feature 0 against bin 255 (never exceeded), sends the
    // missing bin left, and points to itself.
    const nodes = built.feature.length;
    const walkFeature = new Int32Array(nodes);
    const walkBin = new Int32Array(nodes);
    const walkMissingLeft = new Int32Array(nodes);
    const walkLeft = new Int32Array(nodes);
    for (let k = 0; k < nodes; k++) {
      const leaf = built.feature[k] < 0;
      walkFeature[k] = leaf ? 0 : built.feature[k];
      walkBin[k] = leaf ? 255 : built.thresholdBin[k];
      walkMissingLeft[k] = leaf ? 0 : built.missingLeft[k];
      walkLeft[k] = leaf ? k : built.left[k];
    }
    const levels = treeDepth(built);
    const value = built.value;
    for (let i = 0, base = 0; i < rows; i++, base += width) {
      let node = 0;
      for (let level = 0; level < levels; level++) {
        const b = bins[base + walkFeature[node]];
        node = walkLeft[node] + (+(b > walkBin[node]) ^ (+(b === missingBin) & walkMissingLeft[node]));
      }
      raw[i] += value[node];
    }
  }
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const eta = raw[i];
    // -log-likelihood log(1 + e^eta) - y eta, without overflow.
    loss += (eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta))) - y[i] * eta;
  }
  return new GradientBoostingModel(
    [...featureNames],
    baseScore,
    trees,
    gainByFeature,
    splitsByFeature,
    settings,
    loss / rows,
  );
}
