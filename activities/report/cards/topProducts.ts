/** Strategic card: top products. */
import { fmtInt, fmtPct, isNum, MISSING } from '../format';
import { barChart, HALF_WIDTH, PALETTE } from '../svg';
import {
  type Cell,
  type Column,
  type Ctx,
  table,
  card,
  grid2,
  unavailableReason,
  sum,
  notAvailableCard,
} from '../html/blocks';

export function topProductsCard(ctx: Ctx): string {
  const products = ctx.data.topProducts;
  if (!products) return notAvailableCard('Top products', unavailableReason(ctx.data, 'topProducts'));
  if (products.length === 0) return notAvailableCard('Top products', 'no product sold in the period');
  const sorted = [...products].sort((a, b) => b.revenue - a.revenue).slice(0, 15);
  const total = sum(products.map((p) => p.revenue));
  const chart = barChart({
    label: 'Revenue of the best-selling products',
    items: sorted.map((p) => ({ label: p.productName, value: p.revenue, color: PALETTE[2] })),
    format: ctx.moneyShort,
    width: HALF_WIDTH,
    maxLabelChars: 28,
  });
  const showOrders = sorted.some((p) => isNum(p.orders));
  const columns: Column[] = [
    { label: 'Product' },
    { label: 'Revenue', numeric: true },
    { label: 'Share', numeric: true },
  ];
  if (showOrders) columns.push({ label: 'Orders', numeric: true });
  const rows: Cell[][] = sorted.map((p) => {
    const row: Cell[] = [
      p.productName,
      ctx.money(p.revenue),
      total > 0 ? fmtPct(p.revenue / total) : MISSING,
    ];
    if (showOrders) row.push(fmtInt(p.orders));
    return row;
  });
  return card(
    'Top products',
    'Products with the most revenue up to the cutoff (share of the listed products).',
    grid2(chart, table(columns, rows)),
    'products',
  );
}
