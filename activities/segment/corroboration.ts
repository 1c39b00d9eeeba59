/**
 * How much each feature block (behavioural dimension) should weigh in the persona distance: by how well
 * its own grouping of the customers is echoed by another block.
 *
 * Why corroboration. Customers who form a real persona differ from the others in several related ways
 * (bulk buyers have large baskets AND a stationery-heavy mix AND weekday orders; big-ticket buyers have a
 * high order value AND order rarely). A block on its own, clustered by k-means, always yields some
 * partition, real or not: one-dimensional money columns are cut just as reproducibly when they are one
 * skewed blob, and one-order customers make share vectors lumpy. Scoring a block against a reference
 * distribution fails on exactly these shapes (a Gaussian reference calls skew and discreteness structure;
 * a column-permuted reference keeps a one-column block unchanged and calls correlation structure). What
 * noise cannot do is agree with another block: two blocks partition the customers alike only when a
 * shared grouping runs through both.
 *
 * Score of block B: the largest adjusted Rand index between a k-means partition of B (k = 2..5) and one of
 * any other block, the RFM witnesses included (purchase rhythm and total value: they describe personas,
 * do not enter the distance, but a persona that orders rarely and big should be allowed to say so). Block
 * weight: (score / best score)^2 as a column multiplier on top of 1/sqrt(columns), so a block half as
 * corroborated as the best keeps a sixteenth of its variance. Mechanical links between blocks (total value
 * is orders x order value) give partitions agreeing at ARI 0.1-0.3; shared groups gave 0.4-0.9 in the
 * planted scenarios (README, segmentation).
 *
 * Runs on a seeded sample (default 3,000 customers): 4 partitions per block, so the cost does not grow
 * with customers.
 */
import { Rng } from '../../lib/random';
import { fitKMeans } from './kmeans';
import { deriveSeed, sampleIndices, zeros } from './matrix';
import type { Matrix } from './matrix';
import { adjustedRandIndex } from './metrics';

export interface BlockCorroboration {
  dimension: string;
  /** Column indices of the block in its matrix. */
  columns: number[];
  /** Clustered on (true) or a witness only (false). */
  clustered: boolean;
  /** Largest ARI of this block's partitions with another block's (0 for a block alone). */
  corroboration: number;
  /** The block that agreed best, and the two k's. */
  witness: string | null;
  k: number;
  witnessK: number;
  /** Column multiplier applied on top of 1/sqrt(columns); null for witnesses. */
  weight: number | null;
}

export interface CorroborationOptions {
  seed: number;
  /** Customers used; more are sampled. Default 3,000. */
  sampleSize?: number;
  /** Largest k of each block's partitions (from 2). Default 5. */
  kMax?: number;
}

/**
 * Scores and weights of the clustered blocks of `m` (`dimensions[j]` names the block of column j) with
 * the witness blocks of `witnesses` (same rows). Both matrices are standardised columns.
 */
export function corroborateBlocks(
  m: Matrix,
  dimensions: readonly string[],
  witnesses: { matrix: Matrix; dimensions: readonly string[] } | null,
  options: CorroborationOptions,
): BlockCorroboration[] {
  if (dimensions.length !== m.cols) {
    throw new Error(`corroborateBlocks: ${dimensions.length} dimension names for ${m.cols} columns`);
  }
  if (witnesses && witnesses.matrix.rows !== m.rows) {
    throw new Error(`corroborateBlocks: witnesses have ${witnesses.matrix.rows} rows, the matrix ${m.rows}`);
  }
  const sampleSize = Math.min(options.sampleSize ?? 3000, m.rows);
  const kMax = Math.min(options.kMax ?? 5, sampleSize - 1);
  const idx = sampleIndices(m.rows, sampleSize, new Rng(deriveSeed(options.seed, 0xc0bb)));
  const blocks: { dimension: string; source: Matrix; columns: number[]; clustered: boolean }[] = [];
  const group = (source: Matrix, dims: readonly string[], clustered: boolean): void => {
    const byName = new Map<string, number[]>();
    dims.forEach((d, j) => byName.set(d, [...(byName.get(d) ?? []), j]));
    for (const [dimension, columns] of byName) {
      // A block clustered on is its own witness already.
      if (!clustered && blocks.some((b) => b.dimension === dimension)) continue;
      blocks.push({ dimension, source, columns, clustered });
    }
  };
  group(m, dimensions, true);
  if (witnesses) group(witnesses.matrix, witnesses.dimensions, false);

  const partitions = blocks.map((block, b) => {
    const width = block.columns.length;
    const sub = zeros(sampleSize, width);
    const scale = 1 / Math.sqrt(width);
    for (let r = 0; r < sampleSize; r++) {
      const p = idx[r] * block.source.cols;
      for (let c = 0; c < width; c++)
        sub.data[r * width + c] = block.source.data[p + block.columns[c]] * scale;
    }
    const labels: Int32Array[] = [];
    for (let k = 2; k <= kMax; k++) {
      labels.push(
        fitKMeans(sub, { k, seed: deriveSeed(options.seed, 100 * b + k), nInit: 3, skipValidation: true })
          .labels,
      );
    }
    return labels;
  });

  const result: BlockCorroboration[] = blocks.map((block, a) => {
    let best = 0;
    let witness: string | null = null;
    let k = 0;
    let witnessK = 0;
    blocks.forEach((other, b) => {
      if (b === a) return;
      partitions[a].forEach((x, i) => {
        partitions[b].forEach((y, j) => {
          const ari = adjustedRandIndex(x, y);
          if (ari > best + 1e-12) {
            best = ari;
            witness = other.dimension;
            k = i + 2;
            witnessK = j + 2;
          }
        });
      });
    });
    return {
      dimension: block.dimension,
      columns: block.columns,
      clustered: block.clustered,
      corroboration: best,
      witness,
      k,
      witnessK,
      weight: null,
    };
  });
  const top = Math.max(0, ...result.filter((r) => r.clustered).map((r) => r.corroboration));
  for (const r of result) {
    if (!r.clustered) continue;
    // Nothing agrees with anything (or one block): no evidence to weigh by, so every block counts fully.
    r.weight = top > 0 ? (r.corroboration / top) ** 2 : 1;
  }
  return result;
}
