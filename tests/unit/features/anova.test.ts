import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck } from '../../../lib/duck';
import { Rng } from '../../../lib/random';
import {
  kruskalWallis,
  oneWayAnova,
  twoWayAnova,
  type CellSummary,
  type GroupSummary,
} from '../../../activities/features/anova';
import { computeInsights, decimalToScaledBigInt } from '../../../activities/features/insights';
import { createTransactions, type Line } from './helpers';

/** R's PlantGrowth: dried plant weight under a control and two treatments (Dobson 1983, table 2.1). */
const PLANT_GROWTH: Record<string, number[]> = {
  ctrl: [4.17, 5.58, 5.18, 6.11, 4.5, 4.61, 5.17, 4.53, 5.33, 5.14],
  trt1: [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69],
  trt2: [6.31, 5.12, 5.54, 5.5, 5.37, 5.29, 4.92, 6.15, 5.8, 5.26],
};

/** R's ToothGrowth: odontoblast length by supplement (VC, OJ) and dose (0.5, 1, 2 mg/day), 10 per cell. */
const TOOTH_GROWTH: Record<string, Record<string, number[]>> = {
  VC: {
    '0.5': [4.2, 11.5, 7.3, 5.8, 6.4, 10, 11.2, 11.2, 5.2, 7],
    '1': [16.5, 16.5, 15.2, 17.3, 22.5, 17.3, 13.6, 14.5, 18.8, 15.5],
    '2': [23.6, 18.5, 33.9, 25.5, 26.4, 32.5, 26.7, 21.5, 23.3, 29.5],
  },
  OJ: {
    '0.5': [15.2, 21.5, 17.6, 9.7, 14.5, 10, 8.2, 9.4, 16.5, 9.7],
    '1': [19.7, 23.3, 23.6, 26.4, 20, 25.2, 25.8, 21.2, 14.5, 27.3],
    '2': [25.5, 26.4, 22.4, 24.5, 24.8, 30.9, 26.4, 27.3, 29.4, 23],
  },
};

function summary(values: readonly number[]): GroupSummary {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  return { n, mean, ssWithin: values.reduce((s, v) => s + (v - mean) ** 2, 0) };
}

/** Mid-ranks of pooled values (ties share the mean of the positions they occupy). */
function midRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1][0] === order[start][0]) end++;
    for (let k = start; k <= end; k++) ranks[order[k][1]] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return ranks;
}

/** One single-line order per observation, category = group, dated in the month given. */
function observationLines(
  groups: Record<string, readonly number[]>,
  monthOf: (group: string, index: number) => string,
): Line[] {
  const lines: Line[] = [];
  for (const [group, values] of Object.entries(groups)) {
    values.forEach((value, i) => {
      lines.push({
        customer: `${group}-${i}`,
        order: `${group}-${monthOf(group, i)}-${i}`,
        ts: `2011-${monthOf(group, i)}-10 10:00:00`,
        product: 'P',
        category: group,
        quantity: 1,
        unitPrice: value,
      });
    });
  }
  return lines;
}

describe('one-way ANOVA and Kruskal-Wallis: PlantGrowth', () => {
  it('oneWayAnova matches R anova(lm(weight ~ group)): F(2, 27) = 4.846, p = 0.01591', () => {
    const result = oneWayAnova(Object.values(PLANT_GROWTH).map(summary));
    expect(result.dfBetween).toBe(2);
    expect(result.dfWithin).toBe(27);
    expect(result.ssBetween).toBeCloseTo(3.76634, 5);
    expect(result.ssWithin).toBeCloseTo(10.49209, 5);
    expect(result.f as number).toBeCloseTo(4.846088, 5);
    expect(result.pValue as number).toBeCloseTo(0.01591, 5);
    expect(result.etaSquared).toBeCloseTo(3.76634 / (3.76634 + 10.49209), 5);
  });

  it('kruskalWallis matches R kruskal.test(weight ~ group): chi-squared = 7.9882, df = 2, p = 0.01842', () => {
    const pooled = Object.values(PLANT_GROWTH).flat();
    const ranks = midRanks(pooled);
    const groups = Object.values(PLANT_GROWTH).map((values, g) => ({
      n: values.length,
      rankSum: ranks.slice(g * 10, g * 10 + 10).reduce((s, r) => s + r, 0),
    }));
    const counts = new Map<number, number>();
    for (const v of pooled) counts.set(v, (counts.get(v) ?? 0) + 1);
    const tieSum = [...counts.values()].reduce((s, t) => s + t ** 3 - t, 0);
    expect(tieSum).toBeGreaterThan(0); // 4.17 occurs twice
    const result = kruskalWallis(groups, tieSum);
    expect(result.h).toBeCloseTo(7.9882, 4);
    expect(result.df).toBe(2);
    expect(result.pValue).toBeCloseTo(0.01842, 5);
    expect(result.epsilonSquared).toBeCloseTo(7.9882 / 29, 4);
  });

  it('Kruskal-Wallis without ties reproduces the textbook formula exactly', () => {
    // ranks 1..9 in three groups: R = 6, 15, 24; H = 12/(9*10) * (36 + 225 + 576)/3 - 30 = 7.2
    const result = kruskalWallis(
      [
        { n: 3, rankSum: 6 },
        { n: 3, rankSum: 15 },
        { n: 3, rankSum: 24 },
      ],
      0,
    );
    expect(result.h).toBeCloseTo(7.2, 12);
    expect(result.pValue).toBeCloseTo(Math.exp(-7.2 / 2), 10); // chi-square with 2 df: p = exp(-x/2)
  });

  it('rejects bad input by naming the field', () => {
    expect(() => oneWayAnova([{ n: 3, mean: 1, ssWithin: 1 }])).toThrow(/at least 2 groups/);
    expect(() =>
      oneWayAnova([
        { n: 0, mean: 1, ssWithin: 0 },
        { n: 2, mean: 1, ssWithin: 0 },
      ]),
    ).toThrow(/group 0 n/);
    expect(() =>
      kruskalWallis(
        [
          { n: 2, rankSum: 3 },
          { n: 2, rankSum: 7 },
        ],
        -1,
      ),
    ).toThrow(/tieSum/);
  });

  describe('through computeInsights (DuckDB sums of squares and mid-ranks)', () => {
    let duck: Duck;
    beforeAll(async () => {
      duck = await Duck.open({ threads: 2 });
      await createTransactions(
        duck,
        observationLines(PLANT_GROWTH, () => '01'),
      );
      await duck.run(`CREATE TABLE customer_features AS SELECT 1.0::DOUBLE AS recency_days`);
    });
    afterAll(() => duck.close());

    it('gives the published F and H, and skips the two-way test with one season', async () => {
      const insights = await computeInsights(duck, { cutoff: '2011-12-31T23:59:59.999Z', featureNames: [] });
      const spend = insights.categorySpend;
      expect(spend.skippedReason).toBeNull();
      expect(spend.observations).toBe(30);
      expect(spend.categories.map((c) => c.category)).toEqual(['ctrl', 'trt1', 'trt2']);
      expect(spend.categories[0].mean).toBeCloseTo(5.032, 12);
      expect(spend.categories[1].median).toBeCloseTo(4.55, 12);
      expect(spend.oneWayAnova?.f as number).toBeCloseTo(4.846088, 5);
      expect(spend.oneWayAnova?.pValue as number).toBeCloseTo(0.01591, 5);
      expect(spend.kruskalWallis?.h as number).toBeCloseTo(7.9882, 4);
      expect(spend.kruskalWallis?.pValue as number).toBeCloseTo(0.01842, 5);
      expect(insights.categorySeason.anova).toBeNull();
      expect(insights.categorySeason.skippedReason).toMatch(/fewer than 2 seasons/);
      expect(JSON.parse(JSON.stringify(insights))).toEqual(insights);
    });
  });
});

describe('two-way ANOVA', () => {
  it('ToothGrowth through computeInsights matches R aov(len ~ supp * factor(dose))', async () => {
    // supp -> category; dose 0.5 / 1 / 2 -> a January / April / July order (winter / spring / summer)
    const months: Record<string, string> = { '0.5': '01', '1': '04', '2': '07' };
    const lines: Line[] = [];
    for (const [supp, byDose] of Object.entries(TOOTH_GROWTH)) {
      for (const [dose, values] of Object.entries(byDose)) {
        lines.push(
          ...observationLines({ [supp]: values }, () => months[dose]).map((l) => ({
            ...l,
            customer: `${l.customer}-${dose}`,
            order: `${l.order}-${dose}`,
          })),
        );
      }
    }
    const duck = await Duck.open({ threads: 2 });
    try {
      await createTransactions(duck, lines);
      await duck.run(`CREATE TABLE customer_features AS SELECT 1.0::DOUBLE AS recency_days`);
      const insights = await computeInsights(duck, { cutoff: '2011-12-31T23:59:59.999Z', featureNames: [] });
      const result = insights.categorySeason.anova;
      expect(insights.categorySeason.seasons).toEqual(['winter', 'spring', 'summer']);
      expect(result).not.toBeNull();
      if (!result) return;
      expect(result.sumsOfSquares).toBe('type II');
      // R: supp 1 205.35 F 15.572 p 0.000231; dose 2 2426.43 F 92.000 p < 2e-16; supp:dose 2 108.32 F 4.107 p 0.0219; residuals 54 712.11
      expect(result.a.df).toBe(1);
      expect(result.a.ss).toBeCloseTo(205.35, 2);
      expect(result.a.f as number).toBeCloseTo(15.572, 3);
      expect(result.a.pValue as number).toBeCloseTo(0.000231, 6);
      expect(result.b.df).toBe(2);
      expect(result.b.ss).toBeCloseTo(2426.434, 3);
      expect(result.b.f as number).toBeCloseTo(92.0, 3);
      expect(result.b.pValue as number).toBeLessThan(2e-16);
      expect(result.interaction.df).toBe(2);
      expect(result.interaction.ss).toBeCloseTo(108.319, 3);
      expect(result.interaction.f as number).toBeCloseTo(4.107, 3);
      expect(result.interaction.pValue as number).toBeCloseTo(0.02186, 5);
      expect(result.residual.df).toBe(54);
      expect(result.residual.ss).toBeCloseTo(712.106, 3);
      expect(result.interaction.partialEtaSquared).toBeCloseTo(108.319 / (108.319 + 712.106), 5);
      // one-way on supp alone: R anova(lm(len ~ supp)) F(1, 58) = 3.668, p = 0.06039
      expect(insights.categorySpend.oneWayAnova?.f as number).toBeCloseTo(3.668, 3);
      expect(insights.categorySpend.oneWayAnova?.pValue as number).toBeCloseTo(0.06039, 5);
    } finally {
      duck.close();
    }
  });

  /** Planted balanced design: y = 50 + a_i + b_j + d * (-1)^(i+j) + N(0, sigma^2), n per cell. */
  function plantedCells(
    interaction: number,
    seed: number,
  ): { cells: CellSummary[]; raw: { a: number; b: number; y: number }[] } {
    const rng = new Rng(seed);
    const mainA = [0, 2, -1, 1];
    const mainB = [0, -2, 1, 3];
    const raw: { a: number; b: number; y: number }[] = [];
    const cells: CellSummary[] = [];
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const values: number[] = [];
        for (let k = 0; k < 60; k++) {
          const y = 50 + mainA[i] + mainB[j] + interaction * (-1) ** (i + j) + rng.normal(0, 2);
          values.push(y);
          raw.push({ a: i, b: j, y });
        }
        cells.push({ a: i, b: j, ...summary(values) });
      }
    }
    return { cells, raw };
  }

  it('recovers a planted interaction (d = 1, sigma = 2: partial eta^2 ~ d^2 / (d^2 + sigma^2) = 0.2)', () => {
    const { cells } = plantedCells(1, 7);
    const result = twoWayAnova(cells);
    expect(result.n).toBe(960);
    expect(result.interaction.df).toBe(9);
    expect(result.residual.df).toBe(944);
    expect(result.interaction.pValue as number).toBeLessThan(1e-20);
    expect(result.interaction.partialEtaSquared).toBeGreaterThan(0.15);
    expect(result.interaction.partialEtaSquared).toBeLessThan(0.25);
    // main effects: var(a) = 1.25, var(b) = 3.25 -> partial eta^2 ~ 1.25 / 5.25 and 3.25 / 7.25
    expect(result.a.partialEtaSquared).toBeCloseTo(1.25 / 5.25, 1);
    expect(result.b.partialEtaSquared).toBeCloseTo(3.25 / 7.25, 1);
    // residual mean square estimates sigma^2 = 4
    expect(result.residual.ss / result.residual.df).toBeCloseTo(4, 0);
  });

  it('finds no interaction where none is planted', () => {
    const { cells } = plantedCells(0, 11);
    const result = twoWayAnova(cells);
    expect(result.interaction.pValue as number).toBeGreaterThan(0.01);
    expect(result.interaction.partialEtaSquared).toBeLessThan(0.03);
    expect(result.a.pValue as number).toBeLessThan(1e-20);
  });

  it('Type II sums of squares on an unbalanced design equal model comparisons fitted on the raw rows', () => {
    const rng = new Rng(3);
    const raw: { a: number; b: number; y: number }[] = [];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++) {
        const n = 3 + rng.int(25);
        for (let k = 0; k < n; k++)
          raw.push({ a: i, b: j, y: 10 + i + 0.5 * j + (i === 2 && j === 3 ? 3 : 0) + rng.normal(0, 1.5) });
      }
    }
    const cells: CellSummary[] = [];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++)
        cells.push({ a: i, b: j, ...summary(raw.filter((r) => r.a === i && r.b === j).map((r) => r.y)) });
    }
    const result = twoWayAnova(cells);
    const rssB = olsRss(raw, { a: false, b: true, ab: false });
    const rssA = olsRss(raw, { a: true, b: false, ab: false });
    const rssAB = olsRss(raw, { a: true, b: true, ab: false });
    const rssFull = olsRss(raw, { a: true, b: true, ab: true });
    expect(result.a.ss).toBeCloseTo(rssB - rssAB, 8);
    expect(result.b.ss).toBeCloseTo(rssA - rssAB, 8);
    expect(result.interaction.ss).toBeCloseTo(rssAB - rssFull, 8);
    expect(result.residual.ss).toBeCloseTo(rssFull, 8);
    expect(result.residual.df).toBe(raw.length - 12);
    // unbalanced: Type I for A (SS(A) alone) differs from Type II, so the test can tell them apart
    const rssNull = olsRss(raw, { a: false, b: false, ab: false });
    expect(Math.abs(rssNull - rssA - result.a.ss)).toBeGreaterThan(1e-3);
  });

  it('allows empty cells (interaction df shrinks) and rejects a one-level factor', () => {
    const { cells } = plantedCells(0.5, 5);
    const withHole = cells.filter((c) => !(c.a === 3 && c.b === 3));
    const result = twoWayAnova(withHole);
    expect(result.cells).toBe(15);
    expect(result.interaction.df).toBe(8);
    expect(() => twoWayAnova(cells.filter((c) => c.a === 0))).toThrow(/at least 2 levels/);
  });
});

/** Residual sum of squares of OLS on the raw rows with reference-coded dummies (normal equations). */
function olsRss(
  rows: readonly { a: number; b: number; y: number }[],
  terms: { a: boolean; b: boolean; ab: boolean },
): number {
  const design = (r: { a: number; b: number }): number[] => {
    const x = [1];
    if (terms.a) for (let l = 1; l < 3; l++) x.push(r.a === l ? 1 : 0);
    if (terms.b) for (let l = 1; l < 4; l++) x.push(r.b === l ? 1 : 0);
    if (terms.ab)
      for (let la = 1; la < 3; la++) for (let lb = 1; lb < 4; lb++) x.push(r.a === la && r.b === lb ? 1 : 0);
    return x;
  };
  const p = design(rows[0]).length;
  const xtx = Array.from({ length: p }, () => new Array<number>(p + 1).fill(0));
  for (const r of rows) {
    const x = design(r);
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) xtx[i][j] += x[i] * x[j];
      xtx[i][p] += x[i] * r.y;
    }
  }
  // Gauss-Jordan with partial pivoting on the augmented matrix
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(xtx[r][c]) > Math.abs(xtx[pivot][c])) pivot = r;
    [xtx[c], xtx[pivot]] = [xtx[pivot], xtx[c]];
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const factor = xtx[r][c] / xtx[c][c];
      for (let k = c; k <= p; k++) xtx[r][k] -= factor * xtx[c][k];
    }
  }
  const beta = xtx.map((row, i) => row[p] / row[i]);
  return rows.reduce((s, r) => {
    const fit = design(r).reduce((acc, x, i) => acc + x * beta[i], 0);
    return s + (r.y - fit) ** 2;
  }, 0);
}

describe('correlation matrix', () => {
  it('recovers a planted correlation, applies log1p to skewed features, lists constant features', async () => {
    const rng = new Rng(21);
    const n = 20_000;
    const rows: string[] = [];
    for (let i = 0; i < n; i++) {
      const x = rng.normal(3, 0.5);
      const y = 0.8 * ((x - 3) / 0.5) + 0.6 * rng.normal();
      const z = rng.normal();
      // monetary_total is skewed in the dictionary: log1p(exp(x) - 1) = x, so its corr with y is 0.8
      rows.push(`('c${i}', ${Math.expm1(x)}, ${y}, ${z}, 1.0)`);
    }
    const duck = await Duck.open({ threads: 2 });
    try {
      await createTransactions(duck, []);
      await duck.run(
        `CREATE TABLE customer_features (customer_id VARCHAR, monetary_total DOUBLE, spend_trend DOUBLE, return_rate DOUBLE, ipt_std_days DOUBLE)`,
      );
      for (let i = 0; i < n; i += 2000)
        await duck.run(`INSERT INTO customer_features VALUES ${rows.slice(i, i + 2000).join(',')}`);
      const names = ['monetary_total', 'spend_trend', 'return_rate', 'ipt_std_days'];
      const insights = await computeInsights(duck, {
        cutoff: '2011-12-31T23:59:59.999Z',
        featureNames: names,
      });
      const c = insights.correlation;
      expect(insights.categorySpend.skippedReason).toMatch(/fewer than 2 categories/);
      expect(c.customers).toBe(n);
      expect(c.constantFeatures).toEqual(['ipt_std_days']);
      expect(c.features).toEqual(['monetary_total', 'spend_trend', 'return_rate']);
      expect(c.matrix.map((r) => r.length)).toEqual([3, 3, 3]);
      for (let i = 0; i < 3; i++) {
        expect(c.matrix[i][i]).toBe(1);
        for (let j = 0; j < 3; j++) expect(c.matrix[i][j]).toBe(c.matrix[j][i]);
      }
      expect(c.matrix[0][1]).toBeCloseTo(0.8, 1);
      expect(Math.abs(c.matrix[0][1] - 0.8)).toBeLessThan(0.015);
      expect(Math.abs(c.matrix[0][2])).toBeLessThan(0.03);
      expect(c.strongestPairs[0]).toMatchObject({ a: 'monetary_total', b: 'spend_trend' });
      expect(c.strongestPairs).toHaveLength(3);
      const raw = await computeInsights(duck, {
        cutoff: '2011-12-31T23:59:59.999Z',
        featureNames: names,
        correlationTransform: 'raw',
      });
      expect(raw.correlation.matrix[0][1]).toBeLessThan(c.matrix[0][1] - 0.02); // exp() bends the relation
    } finally {
      duck.close();
    }
  });

  it('decimalToScaledBigInt reads DuckDB DECIMAL text exactly', () => {
    expect(decimalToScaledBigInt('123.45', 4)).toBe(1234500n);
    expect(decimalToScaledBigInt('-0.0001', 4)).toBe(-1n);
    expect(decimalToScaledBigInt('7', 2)).toBe(700n);
    expect(() => decimalToScaledBigInt('1.23456', 4)).toThrow(/more than 4 decimals/);
    expect(() => decimalToScaledBigInt('1e5', 4)).toThrow(/not a decimal/);
  });
});
