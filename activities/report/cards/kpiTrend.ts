/** Strategic card: monthly KPIs (revenue, active, new and returning customers). */
import { fmtCompact, fmtInt, fmtPct, isNum } from '../format';
import type { ReportFeatures } from '../model';
import { HALF_WIDTH, lineChart, PALETTE } from '../svg';
import { type Cell, type Column, type Ctx, table, card, grid2, notAvailableCard } from '../html/blocks';

export function kpiTrendCard(ctx: Ctx, features: ReportFeatures): string {
  const months = features.kpisMonthly;
  if (months.length === 0) return notAvailableCard('Monthly KPIs', 'the KPI table is empty');
  const x = months.map((m) => m.month);
  const revenue = lineChart({
    label: 'Revenue by month',
    x,
    series: [{ name: 'Revenue', values: months.map((m) => m.revenue), markers: months.length <= 36 }],
    yFormat: ctx.moneyShort,
    width: HALF_WIDTH,
    height: 230,
  });
  const customers = lineChart({
    label: 'Active and new customers by month',
    x,
    series: [
      { name: 'Active', values: months.map((m) => m.activeCustomers), color: PALETTE[0] },
      { name: 'New', values: months.map((m) => m.newCustomers), color: PALETTE[1] },
      { name: 'Returning', values: months.map((m) => m.returningCustomers), color: PALETTE[2] },
    ],
    yFormat: fmtCompact,
    width: HALF_WIDTH,
    height: 230,
  });
  const hasSessions = months.some((m) => isNum(m.conversionPerSession));
  const recent = months.slice(-12).reverse();
  const columns: Column[] = [
    { label: 'Month' },
    { label: 'Active', numeric: true },
    { label: 'New', numeric: true },
    { label: 'Orders', numeric: true },
    { label: 'Revenue', numeric: true },
    { label: 'Avg order', numeric: true },
    { label: 'Repeat rate', numeric: true },
  ];
  if (hasSessions) columns.push({ label: 'Conv./session', numeric: true });
  const rows: Cell[][] = recent.map((m) => {
    const row: Cell[] = [
      m.month,
      fmtInt(m.activeCustomers),
      fmtInt(m.newCustomers),
      fmtInt(m.orders),
      ctx.money(m.revenue),
      ctx.money(m.averageOrderValue),
      fmtPct(m.repeatRate),
    ];
    if (hasSessions) row.push(fmtPct(m.conversionPerSession, 2));
    return row;
  });
  return card(
    'Monthly KPIs',
    `Revenue and customers per calendar month up to the cutoff; the table shows the last ${recent.length} months, newest first.`,
    grid2(revenue, customers) + table(columns, rows),
  );
}
