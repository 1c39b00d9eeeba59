import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck } from '../../../lib/duck';
import { buildCohorts } from '../../../activities/features/cohorts';
import { buildMonthlyKpis } from '../../../activities/features/kpis';
import { buildDailyRevenue } from '../../../activities/features/revenueSeries';
import { createEvents, createTransactions, type Line } from './helpers';

const CUTOFF = '2011-04-30T23:59:59.999Z';

/*
 * U1 buys in Jan (two lines), Feb and Apr; U2 in Jan and Mar, returns 40 in Mar; U3 twice on Feb 1;
 * U4 returns 15 in Jan (goods from before the data) and first buys in Mar.
 */
const line = (customer: string, order: string, ts: string, quantity: number, unitPrice: number): Line => ({
  customer,
  order,
  ts,
  product: 'P',
  category: null,
  quantity,
  unitPrice,
});
const LINES: Line[] = [
  line('U1', 'O1', '2011-01-10 10:00:00', 2, 25),
  line('U1', 'O1', '2011-01-10 10:00:00', 1, 50),
  line('U1', 'O2', '2011-02-14 10:00:00', 1, 50),
  line('U1', 'O3', '2011-04-05 10:00:00', 1, 30),
  line('U2', 'O4', '2011-01-20 10:00:00', 1, 200),
  line('U2', 'O5', '2011-03-03 10:00:00', 1, 80),
  line('U2', 'R1', '2011-03-20 10:00:00', -1, 40),
  line('U3', 'O6', '2011-02-01 09:00:00', 1, 20),
  line('U3', 'O7', '2011-02-01 17:00:00', 1, 30),
  line('U4', 'R2', '2011-01-25 10:00:00', -1, 15),
  line('U4', 'O8', '2011-03-10 10:00:00', 1, 60),
];

describe('daily revenue, cohorts and monthly KPIs on a tiny table', () => {
  let duck: Duck;
  beforeAll(async () => {
    duck = await Duck.open({ threads: 2 });
    await createTransactions(duck, LINES);
    await createEvents(duck, [
      { customer: 'U1', session: 's1', ts: '2011-01-10 09:55:00', type: 'view' },
      { customer: 'U1', session: 's1', ts: '2011-01-10 10:00:00', type: 'purchase' },
      { customer: 'U9', session: 's2', ts: '2011-01-11 10:00:00', type: 'view' },
      { customer: 'U1', session: 's3', ts: '2011-02-02 10:00:00', type: 'view' },
      { customer: 'U3', session: 's4', ts: '2011-02-01 08:55:00', type: 'add_to_cart' },
      { customer: 'U3', session: 's4', ts: '2011-02-01 09:00:00', type: 'purchase' },
      { customer: 'U1', session: 's5', ts: '2011-02-14 10:00:00', type: 'purchase' },
      { customer: 'U2', session: 's6', ts: '2011-03-31 23:50:00', type: 'view' },
      { customer: 'U2', session: 's6', ts: '2011-04-01 00:05:00', type: 'purchase' },
      { customer: 'U2', session: 's7', ts: '2011-05-02 10:00:00', type: 'purchase' }, // after the cutoff
    ]);
  });
  afterAll(() => duck.close());

  it('daily revenue covers every day to the cutoff, zero-filled and flagged', async () => {
    const result = await buildDailyRevenue(duck, { cutoff: CUTOFF });
    expect(result).toEqual({
      table: 'daily_revenue',
      days: 22 + 28 + 31 + 30,
      firstDate: '2011-01-10',
      lastDate: '2011-04-30',
      lastTradingDate: '2011-04-05',
      tradingDays: 9,
    });
    const rows = await duck.all<{
      day: string;
      revenue: number;
      orders: number;
      customers: number;
      has_trading: boolean;
    }>(
      `SELECT strftime(date, '%Y-%m-%d') AS day, revenue, orders, customers, has_trading FROM daily_revenue`,
    );
    const byDay = new Map(rows.map((r) => [r.day, r]));
    expect(rows[0].day).toBe('2011-01-10');
    expect(byDay.get('2011-01-10')).toMatchObject({
      revenue: 100,
      orders: 1,
      customers: 1,
      has_trading: true,
    });
    expect(byDay.get('2011-01-11')).toMatchObject({
      revenue: 0,
      orders: 0,
      customers: 0,
      has_trading: false,
    });
    expect(byDay.get('2011-01-25')).toMatchObject({
      revenue: -15,
      orders: 0,
      customers: 0,
      has_trading: true,
    });
    expect(byDay.get('2011-02-01')).toMatchObject({
      revenue: 50,
      orders: 2,
      customers: 1,
      has_trading: true,
    });
    expect(byDay.get('2011-03-20')).toMatchObject({ revenue: -40, orders: 0, has_trading: true });
    expect(byDay.get('2011-04-30')).toMatchObject({ revenue: 0, has_trading: false });
    expect(rows.reduce((s, r) => s + r.revenue, 0)).toBe(515);
    const types = await duck.all<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'daily_revenue' ORDER BY ordinal_position`,
    );
    expect(types.map((t) => `${t.column_name}:${t.data_type}`)).toEqual([
      'date:DATE',
      'revenue:DOUBLE',
      'orders:BIGINT',
      'customers:BIGINT',
      'has_trading:BOOLEAN',
    ]);
  });

  it('cohorts: the full triangle of retained customers and net revenue', async () => {
    const result = await buildCohorts(duck, { cutoff: CUTOFF });
    expect(result).toEqual({ table: 'cohorts', cohorts: 3, rows: 9 });
    const rows = await duck.all(`SELECT * FROM cohorts`);
    expect(rows).toEqual([
      {
        cohort_month: '2011-01',
        months_since: 0,
        customers: 2,
        retained_share: 1,
        revenue: 300,
        cohort_size: 2,
      },
      {
        cohort_month: '2011-01',
        months_since: 1,
        customers: 1,
        retained_share: 0.5,
        revenue: 50,
        cohort_size: 2,
      },
      {
        cohort_month: '2011-01',
        months_since: 2,
        customers: 1,
        retained_share: 0.5,
        revenue: 40,
        cohort_size: 2,
      },
      {
        cohort_month: '2011-01',
        months_since: 3,
        customers: 1,
        retained_share: 0.5,
        revenue: 30,
        cohort_size: 2,
      },
      {
        cohort_month: '2011-02',
        months_since: 0,
        customers: 1,
        retained_share: 1,
        revenue: 50,
        cohort_size: 1,
      },
      {
        cohort_month: '2011-02',
        months_since: 1,
        customers: 0,
        retained_share: 0,
        revenue: 0,
        cohort_size: 1,
      },
      {
        cohort_month: '2011-02',
        months_since: 2,
        customers: 0,
        retained_share: 0,
        revenue: 0,
        cohort_size: 1,
      },
      // U4's January return predates their first purchase: it belongs to no cohort month
      {
        cohort_month: '2011-03',
        months_since: 0,
        customers: 1,
        retained_share: 1,
        revenue: 60,
        cohort_size: 1,
      },
      {
        cohort_month: '2011-03',
        months_since: 1,
        customers: 0,
        retained_share: 0,
        revenue: 0,
        cohort_size: 1,
      },
    ]);
  });

  it('monthly KPIs without events', async () => {
    const result = await buildMonthlyKpis(duck, { cutoff: CUTOFF, hasEvents: false });
    expect(result.months).toBe(4);
    expect(result.columns).not.toContain('sessions');
    const rows = await duck.all(`SELECT * FROM kpis_monthly`);
    expect(Object.keys(rows[0])).toEqual(result.columns);
    expect(rows).toEqual([
      {
        month: '2011-01',
        active_customers: 2,
        new_customers: 2,
        returning_customers: 0,
        orders: 2,
        revenue: 285,
        average_order_value: 150,
        repeat_rate: 0,
        new_purchase_rate: 1,
        returning_purchase_rate: 0,
      },
      {
        month: '2011-02',
        active_customers: 2,
        new_customers: 1,
        returning_customers: 1,
        orders: 3,
        revenue: 100,
        average_order_value: 100 / 3,
        repeat_rate: 0.5,
        new_purchase_rate: 2,
        returning_purchase_rate: 1,
      },
      {
        month: '2011-03',
        active_customers: 2,
        new_customers: 1,
        returning_customers: 1,
        orders: 2,
        revenue: 100,
        average_order_value: 70,
        repeat_rate: 0.5,
        new_purchase_rate: 1,
        returning_purchase_rate: 1,
      },
      {
        month: '2011-04',
        active_customers: 1,
        new_customers: 0,
        returning_customers: 1,
        orders: 1,
        revenue: 30,
        average_order_value: 30,
        repeat_rate: 1,
        new_purchase_rate: 0,
        returning_purchase_rate: 1,
      },
    ]);
  });

  it('monthly KPIs with events: conversion per session, split new / returning', async () => {
    const result = await buildMonthlyKpis(duck, { cutoff: CUTOFF, hasEvents: true });
    const rows = await duck.all<Record<string, number | string>>(
      `SELECT month, sessions, converted_sessions, conversion_per_session, new_conversion_per_session,
              returning_conversion_per_session FROM kpis_monthly`,
    );
    expect(result.columns).toContain('conversion_per_session');
    expect(rows).toEqual([
      // U1 converts in the month of their first purchase (new); U9 never buys (new)
      {
        month: '2011-01',
        sessions: 2,
        converted_sessions: 1,
        conversion_per_session: 0.5,
        new_conversion_per_session: 0.5,
        returning_conversion_per_session: 0,
      },
      // U1 returning (1 of 2 sessions converts), U3 new (converts)
      {
        month: '2011-02',
        sessions: 3,
        converted_sessions: 2,
        conversion_per_session: 2 / 3,
        new_conversion_per_session: 1,
        returning_conversion_per_session: 0.5,
      },
      // a session belongs to the month of its first event (Mar 31), even if it buys on Apr 1
      {
        month: '2011-03',
        sessions: 1,
        converted_sessions: 1,
        conversion_per_session: 1,
        new_conversion_per_session: 0,
        returning_conversion_per_session: 1,
      },
      {
        month: '2011-04',
        sessions: 0,
        converted_sessions: 0,
        conversion_per_session: 0,
        new_conversion_per_session: 0,
        returning_conversion_per_session: 0,
      },
    ]);
  });
});
