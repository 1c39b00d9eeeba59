/**
 * Page 3 of the report: exploratory analysis. Distributions of the key customer features, revenue by country
 * (or the configured dimension) and by category with its trend, category x season means, new against
 * returning customers, null rates and outliers, the elbow beside the silhouette, and the persona profiles.
 */
import {
  escapeHtml as esc,
  fmtCompact,
  fmtInt,
  fmtNum,
  fmtP,
  fmtPct,
  fmtSignedPct,
  MISSING,
} from '../format';
import type {
  ReportCategorySeason,
  ReportEda,
  ReportProductRanking,
  ReportSegmentProfile,
} from '../edaModel';
import type { ReportSegments } from '../model';
import { barChart, FULL_WIDTH, HALF_WIDTH, heatmap, histogram, lineChart, PALETTE, truncate } from '../svg';
import {
  type Cell,
  type Column,
  type Ctx,
  card,
  code,
  grid2,
  stats,
  table,
  unavailableReason,
  notAvailableCard,
} from './blocks';

/** Features whose values are money (formatted with the currency). */
const MONEY_FEATURES = new Set(['monetary_total', 'monetary_mean_order']);

export function edaPage(ctx: Ctx): string {
  const { data } = ctx;
  const eda = data.eda;
  const cards: string[] = [];
  if (!eda) {
    cards.push(notAvailableCard('Exploratory analysis', unavailableReason(data, 'dataQuality')));
  } else {
    cards.push(distributionsCard(ctx, eda));
    cards.push(dimensionCard(ctx, eda));
    cards.push(categoryCard(ctx, eda));
    if (data.categorySeason) cards.push(categorySeasonCard(ctx, data.categorySeason));
    cards.push(newVsReturningCard(ctx, eda));
    cards.push(completenessCard(eda));
  }
  if (data.segments) cards.push(elbowCard(data.segments));
  if (eda?.segmentProfile) cards.push(profileCard(eda.segmentProfile));
  return (
    '<section class="page" id="eda"><div class="page-head"><h2>3 · Exploratory analysis</h2>' +
    '<span>What the data look like: distributions, where revenue comes from, how complete the columns are.</span></div>' +
    cards.join('') +
    '</section>'
  );
}

function featureFormat(ctx: Ctx, feature: string): (v: number) => string {
  return MONEY_FEATURES.has(feature) ? ctx.moneyShort : (v) => fmtCompact(v);
}

function distributionsCard(ctx: Ctx, eda: ReportEda): string {
  const dists = eda.distributions;
  if (dists.length === 0) return notAvailableCard('Feature distributions', 'no customer feature table');
  const rows: Cell[][] = dists.map((d) => {
    const f = featureFormat(ctx, d.feature);
    return [
      code(d.feature),
      f(d.mean),
      f(d.sd),
      fmtNum(d.skewness, 2),
      f(d.min),
      f(d.p5),
      f(d.p25),
      f(d.median),
      f(d.p75),
      f(d.p95),
      f(d.max),
    ];
  });
  const columns: Column[] = [
    { label: 'Feature' },
    ...['Mean', 'SD', 'Skew', 'Min', 'P5', 'P25', 'Median', 'P75', 'P95', 'Max'].map((label) => ({
      label,
      numeric: true,
    })),
  ];
  const charts = dists.map((d) =>
    histogram({
      label: `Distribution of ${d.feature}`,
      edges: d.histogram.edges,
      counts: d.histogram.counts,
      xFormat: featureFormat(ctx, d.feature),
      xTitle: `${d.feature}${d.histogram.clipped > 0 ? ` (${fmtInt(d.histogram.clipped)} beyond P1–P99 in the end bins)` : ''}`,
      yTitle: 'Customers',
      width: HALF_WIDTH,
      height: 200,
      color: PALETTE[(dists.indexOf(d) + 1) % PALETTE.length],
    }),
  );
  const pairs: string[] = [];
  for (let i = 0; i < charts.length; i += 2) pairs.push(grid2(charts[i], charts[i + 1] ?? ''));
  return card(
    'Feature distributions',
    `Per-customer features at the cutoff (${fmtInt(dists[0].customers)} customers): quantiles, skewness and histograms between the 1st and 99th percentiles (values beyond fall into the end bins, none is dropped).`,
    table(columns, rows) + pairs.join(''),
    'distributions',
  );
}

function dimensionCard(ctx: Ctx, eda: ReportEda): string {
  const dim = eda.dimension;
  if (!dim) return notAvailableCard('Revenue by country', 'the transactions have no country column');
  const label = dim.dimension.charAt(0).toUpperCase() + dim.dimension.slice(1);
  const all = dim.other ? [...dim.rows, dim.other] : dim.rows;
  const share = (v: number): string => (dim.totalRevenue !== 0 ? fmtPct(v / dim.totalRevenue) : MISSING);
  const chart = barChart({
    label: `Revenue by ${dim.dimension}`,
    items: all.map((r, i) => ({
      label: r.value,
      value: r.revenue,
      color: i < dim.rows.length ? PALETTE[0] : '#9aa5b4',
    })),
    format: ctx.moneyShort,
    width: HALF_WIDTH,
  });
  const rows: Cell[][] = all.map((r) => [
    r.value,
    ctx.money(r.revenue),
    share(r.revenue),
    fmtInt(r.customers),
    fmtInt(r.orders),
  ]);
  return card(
    `Revenue by ${dim.dimension}`,
    `Merchandise revenue by ${dim.dimension} (${fmtInt(dim.distinct)} distinct values; the top ${dim.rows.length} listed, the rest summed).`,
    grid2(
      chart,
      table(
        [
          { label },
          { label: 'Revenue', numeric: true },
          { label: 'Share', numeric: true },
          { label: 'Customers', numeric: true },
          { label: 'Orders', numeric: true },
        ],
        rows,
      ),
    ),
    'dimension',
  );
}

/** The columns after the name(s) in the category and product ranking tables; rankingCells fills them. */
const RANKING_COLUMNS = [
  { label: 'Revenue', numeric: true },
  { label: 'Share', numeric: true },
  { label: 'Orders', numeric: true },
  { label: 'Last 3 months', numeric: true },
];

function rankingCells(
  ctx: Ctx,
  ranked: { revenue: number; share: number; orders: number; recentChange: number | null },
): Cell[] {
  return [
    ctx.money(ranked.revenue),
    fmtPct(ranked.share),
    fmtInt(ranked.orders),
    fmtSignedPct(ranked.recentChange),
  ];
}

/** Monthly revenue of the top entries of a ranking (categories or products), one line each. */
function rankingTrendChart<Trend extends { revenue: number[] }>(
  ctx: Ctx,
  plural: string,
  months: string[],
  trend: Trend[],
  nameOf: (entry: Trend) => string,
): string {
  return lineChart({
    label: `Monthly revenue of the top ${trend.length} ${plural}`,
    x: months,
    series: trend.map((t, i) => ({ name: nameOf(t), values: t.revenue, color: PALETTE[i % PALETTE.length] })),
    yFormat: ctx.moneyShort,
    width: FULL_WIDTH,
    height: 240,
  });
}

/** Products ranked by revenue, with the trend of the top ones: the page's ranking when there are no categories. */
function productCard(ctx: Ctx, products: ReportProductRanking, why: string): string {
  const label = (p: { productId: string; name: string }): string =>
    p.name === p.productId ? p.productId : `${p.productId} · ${p.name}`;
  // Descriptions are long (Online Retail's run to 35 characters): the chart and table take the full width.
  const chart = barChart({
    label: 'Revenue by product',
    items: products.products.map((p) => ({ label: label(p), value: p.revenue, color: PALETTE[2] })),
    format: ctx.moneyShort,
    width: FULL_WIDTH,
    maxLabelChars: 48,
  });
  const rows: Cell[][] = products.products.map((p, i) => [
    String(i + 1),
    code(p.productId),
    p.name,
    ...rankingCells(ctx, p),
  ]);
  // The legend holds five names on one line only when each is short.
  const trend = rankingTrendChart(ctx, 'products', products.months, products.trend, (t) =>
    truncate(label(t), 20),
  );
  return card(
    'Product revenue ranking and trend',
    `Products, not categories: ${why}, so products (product code and their most used description) are ranked instead. Merchandise revenue by product (${fmtInt(products.distinct)} products); "last 3 months" compares the last three calendar months with the three before (the cutoff's month may be partial).`,
    chart +
      table([{ label: '#' }, { label: 'Product' }, { label: 'Description' }, ...RANKING_COLUMNS], rows) +
      trend,
    'product-ranking',
  );
}

function categoryCard(ctx: Ctx, eda: ReportEda): string {
  const cats = eda.categories;
  if (!cats) {
    const nulls = eda.nullRates.find((n) => n.column === 'category');
    const reason = !nulls
      ? 'the transactions have no category column'
      : 'no transaction line has a category (the column is empty in this dataset)';
    if (eda.products) return productCard(ctx, eda.products, reason);
    return notAvailableCard('Category revenue ranking and trend', reason);
  }
  const chart = barChart({
    label: 'Revenue by category',
    items: cats.categories.map((c) => ({ label: c.category, value: c.revenue, color: PALETTE[2] })),
    format: ctx.moneyShort,
    width: HALF_WIDTH,
    maxLabelChars: 24,
  });
  const rows: Cell[][] = cats.categories.map((c, i) => [String(i + 1), c.category, ...rankingCells(ctx, c)]);
  const trend = rankingTrendChart(ctx, 'categories', cats.months, cats.trend, (t) => t.category);
  return card(
    'Category revenue ranking and trend',
    `Merchandise revenue by category (${fmtInt(cats.distinct)} categories); "last 3 months" compares the last three calendar months with the three before (the cutoff's month may be partial).`,
    grid2(chart, table([{ label: '#' }, { label: 'Category' }, ...RANKING_COLUMNS], rows)) + trend,
    'categories',
  );
}

function categorySeasonCard(ctx: Ctx, cs: ReportCategorySeason): string {
  if (cs.skippedReason || cs.cells.length === 0) {
    return notAvailableCard('Spend by category and season', cs.skippedReason ?? 'no cells');
  }
  const categories = [...new Set(cs.cells.map((c) => c.category))];
  const values = categories.map((cat) =>
    cs.seasons.map((season) => cs.cells.find((c) => c.category === cat && c.season === season)?.mean ?? null),
  );
  const chart = heatmap({
    label: 'Mean spend per order by category and season',
    rowLabels: categories,
    colLabels: cs.seasons,
    values,
    format: ctx.moneyShort,
    rowTitle: 'Category',
    colTitle: 'Season',
    width: FULL_WIDTH,
  });
  return card(
    'Spend by category and season',
    'Mean spend per order in each category and season, and the two-way ANOVA (Type II) of the features stage: does the category effect depend on the season?',
    stats([
      ['Category p', fmtP(cs.categoryPValue)],
      ['Season p', fmtP(cs.seasonPValue)],
      ['Interaction p', fmtP(cs.interactionPValue)],
      ['Interaction partial η²', fmtNum(cs.interactionEtaSquared, 4)],
    ]) + chart,
    'category-season',
  );
}

function newVsReturningCard(ctx: Ctx, eda: ReportEda): string {
  const nr = eda.newVsReturning;
  if (!nr || nr.months.length === 0) return '';
  const x = nr.months.map((m) => m.month);
  const chart = lineChart({
    label: 'Revenue from new and returning customers by month',
    x,
    series: [
      { name: 'New', values: nr.months.map((m) => m.newRevenue), color: PALETTE[1] },
      { name: 'Returning', values: nr.months.map((m) => m.returningRevenue), color: PALETTE[0] },
    ],
    yFormat: ctx.moneyShort,
    width: FULL_WIDTH,
    height: 230,
  });
  const rows: Cell[][] = [...nr.months].reverse().map((m) => {
    const active = m.newCustomers + m.returningCustomers;
    return [
      { html: `<span class="nowrap">${esc(m.month)}</span>` },
      fmtInt(m.newCustomers),
      fmtInt(m.returningCustomers),
      active > 0 ? fmtPct(m.returningCustomers / active) : MISSING,
      ctx.money(m.newOrderValue),
      ctx.money(m.returningOrderValue),
    ];
  });
  const r = nr.repeatWithin;
  return card(
    'New and returning customers',
    'A customer is new in the month of their first order and returning in each later month with an order.',
    stats([
      [
        `New customers who ordered again within ${r.days} days`,
        `${fmtPct(r.rate)} (${fmtInt(r.repeated)} of ${fmtInt(r.eligible)} acquired ${r.days}+ days before the cutoff)`,
      ],
    ]) +
      chart +
      table(
        [
          { label: 'Month' },
          { label: 'New customers', numeric: true },
          { label: 'Returning customers', numeric: true },
          { label: 'Returning share', numeric: true },
          { label: 'Order value, new', numeric: true },
          { label: 'Order value, returning', numeric: true },
        ],
        rows,
      ),
    'new-returning',
  );
}

/** The run's outliers.method in words (lib/outlierTreatment.ts). */
function outlierTreatmentWords(method: string | undefined): string {
  if (method === 'winsorize') return 'winsorized: |amount| clamped to the bounds (outliers.method)';
  if (method === 'exclude') return 'excluded: no spend from flagged lines (outliers.method)';
  return 'as delivered (outliers.method: none)';
}

function completenessCard(eda: ReportEda): string {
  const rows: Cell[][] = eda.nullRates.map((n) => [code(n.column), fmtInt(n.nulls), fmtPct(n.rate, 2)]);
  const o = eda.outliers;
  const outliers = o
    ? '<h4>Outliers</h4>' +
      stats([
        ['Lines flagged', fmtInt(o.rows)],
        ['Share of lines', eda.transactions > 0 ? fmtPct(o.rows / eda.transactions, 2) : MISSING],
        ['Bounds on |amount|', `${fmtNum(o.low, 2)} – ${fmtNum(o.high, 2)}`],
        ['Customers with a flagged line', o.customers === undefined ? MISSING : fmtInt(o.customers)],
        ['In the models', outlierTreatmentWords(o.treatment)],
      ]) +
      `<p class="note">${esc('The clean stage flags lines whose |amount| lies outside the IQR fences (clean.outlierIqrMultiplier); they are kept, never dropped. outliers.method decides how the spend models (clv, the customer features behind the segments, churn and the value models) read them; revenue totals always keep them.')}</p>`
    : '';
  return card(
    'Completeness and outliers',
    `Nulls per column of the ${fmtInt(eda.transactions)} cleaned transaction lines.`,
    grid2(
      table([{ label: 'Column' }, { label: 'Nulls', numeric: true }, { label: 'Rate', numeric: true }], rows),
      outliers,
    ),
    'completeness',
  );
}

function elbowCard(segments: ReportSegments): string {
  const byK = [...segments.metricsByK].sort((a, b) => a.k - b.k);
  if (byK.length < 2) return '';
  const x = byK.map((m) => `k=${m.k}`);
  const elbow = lineChart({
    label: 'Elbow: within-cluster sum of squares by k',
    x,
    series: [{ name: 'Inertia', values: byK.map((m) => m.inertia), color: PALETTE[0], markers: true }],
    yFormat: fmtCompact,
    width: HALF_WIDTH,
    height: 220,
    includeZero: false,
  });
  const silhouette = lineChart({
    label: 'Silhouette by k',
    x,
    series: [{ name: 'Silhouette', values: byK.map((m) => m.silhouette), color: PALETTE[2], markers: true }],
    yFormat: (v) => fmtNum(v, 2),
    width: HALF_WIDTH,
    height: 220,
    includeZero: false,
  });
  return card(
    'Choosing k: elbow and silhouette',
    `The within-cluster sum of squares falls with every k; the bend is the elbow. The silhouette rewards separated clusters. Chosen: k = ${segments.k} (${segments.chosenBy}).`,
    grid2('<h4>Elbow</h4>' + elbow, '<h4>Silhouette</h4>' + silhouette),
    'elbow',
  );
}

function profileCard(profile: ReportSegmentProfile): string {
  // Shade from 2 sd below (light) to 2 sd above (dark) the mean of all customers.
  const shade = profile.z.map((row) => row.map((z) => Math.max(0, Math.min(1, (z + 2) / 4))));
  const chart = heatmap({
    label: 'Persona profiles: mean of each feature',
    rowLabels: profile.personas.map((p, i) => `${p} (${fmtInt(profile.customers[i])})`),
    colLabels: profile.features,
    values: profile.means,
    shade,
    format: (v) => fmtCompact(v),
    rowTitle: 'Persona (customers)',
    colTitle: 'Feature',
    width: FULL_WIDTH,
    legendLabels: ['2 sd below all customers', '2 sd above'],
  });
  const strongest = profile.personas.map((p, i) => {
    let best = 0;
    profile.z[i].forEach((z, j) => {
      if (Math.abs(z) > Math.abs(profile.z[i][best])) best = j;
    });
    return `${p}: ${profile.features[best]} ${fmtNum(profile.z[i][best], 1)} sd`;
  });
  return card(
    'Persona profiles',
    'Mean of each key feature per persona; shading is the distance from all customers in standard deviations.',
    chart + `<p class="note">${esc(`Most distinctive feature per persona: ${strongest.join('; ')}.`)}</p>`,
    'profiles',
  );
}
