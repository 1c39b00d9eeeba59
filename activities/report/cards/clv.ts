/** Strategic card: customer lifetime value. */
import { fmtInt, fmtNum, fmtPct, isNum } from '../format';
import type { ReportClv } from '../model';
import { barChart, columnChart, HALF_WIDTH, histogram, PALETTE } from '../svg';
import { LIST_ROWS, type Ctx, table, card, stats, grid2, notAvailable } from '../html/blocks';

/** The repeat-buying model's name and parameters, whichever model scored (the limit has r, α, p). */
function purchaseModelStats(clv: ReportClv): [string, string][] {
  if (!clv.purchaseModel) {
    return [
      ['BG/NBD r, α', `${fmtNum(clv.params.r, 3)}, ${fmtNum(clv.params.alpha, 3)}`],
      ['a, b', `${fmtNum(clv.params.a, 3)}, ${fmtNum(clv.params.b, 3)}`],
    ];
  }
  const symbol: Record<string, string> = { alpha: 'α', beta: 'β' };
  const params = Object.entries(clv.purchaseModel.params)
    .map(([name, value]) => `${symbol[name] ?? name} ${fmtNum(value, Math.abs(value) < 0.01 ? 5 : 3)}`)
    .join(', ');
  return [
    ['Purchase model', clv.purchaseModel.name],
    ['Parameters', params],
  ];
}

export function clvCard(ctx: Ctx, clv: ReportClv): string {
  const hist = histogram({
    label: 'Distribution of customer lifetime value',
    edges: clv.histogram.edges,
    counts: clv.histogram.counts,
    xFormat: ctx.moneyShort,
    xTitle: 'CLV',
    yTitle: 'Customers',
    width: HALF_WIDTH,
  });
  const bySegmentSorted = [...clv.bySegment].sort((a, b) => b.totalClv - a.totalClv);
  const bySegment = barChart({
    label: 'Total CLV by segment',
    items: bySegmentSorted.map((s, i) => ({
      label: s.segment,
      value: s.totalClv,
      color: PALETTE[i % PALETTE.length],
    })),
    format: ctx.moneyShort,
    width: HALF_WIDTH,
  });
  const segmentTable = table(
    [
      { label: 'Segment' },
      { label: 'Customers', numeric: true },
      { label: 'Mean CLV', numeric: true },
      { label: 'Total CLV', numeric: true },
    ],
    bySegmentSorted.map((s) => [s.segment, fmtInt(s.customers), ctx.money(s.meanClv), ctx.money(s.totalClv)]),
  );
  const holdout =
    clv.holdout && clv.holdout.length > 0
      ? columnChart({
          label: 'Holdout: predicted and actual purchases per customer by calibration frequency',
          categories: clv.holdout.map((b) => b.frequency),
          series: [
            { name: 'Predicted', values: clv.holdout.map((b) => b.predicted), color: PALETTE[0] },
            { name: 'Actual', values: clv.holdout.map((b) => b.actual), color: PALETTE[1] },
          ],
          yFormat: (v) => fmtNum(v, v < 10 ? 1 : 0),
          xTitle: 'Purchases in the calibration period',
          yTitle: 'Holdout purchases',
          width: HALF_WIDTH,
        })
      : notAvailable('the history is too short for a holdout period');
  const top = table(
    [
      { label: '#' },
      { label: 'Customer' },
      { label: 'CLV', numeric: true },
      { label: 'P(alive)', numeric: true },
    ],
    clv.top
      .slice(0, LIST_ROWS)
      .map((c, i) => [String(i + 1), c.customerId, ctx.money(c.clv), fmtPct(c.pAlive)]),
  );
  const params = stats([
    ['Time unit', clv.timeUnit],
    ...(isNum(clv.horizon)
      ? ([['Horizon', `${fmtInt(clv.horizon)} ${clv.timeUnit}s`]] as [string, string][])
      : []),
    ...purchaseModelStats(clv),
    [
      'Gamma-Gamma p, q, v',
      `${fmtNum(clv.spend.p, 2)}, ${fmtNum(clv.spend.q, 2)}, ${fmtNum(clv.spend.v, 2)}`,
    ],
  ]);
  return card(
    'Customer lifetime value',
    'Expected discounted revenue per customer: expected purchases from the repeat-buying model times Gamma-Gamma spend per order.',
    params +
      grid2('<h4>Distribution</h4>' + hist, '<h4>By segment</h4>' + bySegment) +
      grid2(
        segmentTable + '<h4>Model check on the holdout period</h4>' + holdout,
        `<h4>Most valuable customers (top ${Math.min(LIST_ROWS, clv.top.length)})</h4>` +
          (clv.top.length > 0 ? top : '<p class="note">No customers.</p>'),
      ),
    'clv',
  );
}
