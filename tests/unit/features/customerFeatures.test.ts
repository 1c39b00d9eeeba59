import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck } from '../../../lib/duck';
import { buildCustomerFeatures } from '../../../activities/features/customerFeatures';
import { FEATURE_DICTIONARY, featureDefinitions } from '../../../activities/features/dictionary';
import { createEvents, createTransactions, type Line } from './helpers';

const CUTOFF = '2011-12-31T23:59:59.999Z';
const DAY = 86_400_000;

/*
 * Hand-made customers (2011 weekdays: Jun 6 Mon, Oct 5 Wed, Dec 2 Fri, Dec 10 Sat, Sep 15 Thu, Nov 7 Mon,
 * Nov 21 Mon, Mar 1 Tue, Mar 15 Tue).
 * A: three purchase orders (Jun, Oct, Dec) and a separate return order.
 * B: one order in September, one line after the cutoff (ignored), no category.
 * C: a return only (no purchase order): no row.
 * D: two orders at the same instant, one of them with an in-order return line, and a third 14 days later.
 * E: lines without an order id: one order per timestamp.
 */
const LINES: Line[] = [
  {
    customer: 'A',
    order: 'A1',
    ts: '2011-06-06 10:00:00',
    product: 'P1',
    category: 'X',
    quantity: 2,
    unitPrice: 10,
  },
  {
    customer: 'A',
    order: 'A1',
    ts: '2011-06-06 10:00:00',
    product: 'P2',
    category: 'Y',
    quantity: 1,
    unitPrice: 30,
  },
  {
    customer: 'A',
    order: 'A2',
    ts: '2011-10-05 12:00:00',
    product: 'P1',
    category: 'X',
    quantity: 4,
    unitPrice: 10,
  },
  {
    customer: 'A',
    order: 'A3',
    ts: '2011-12-02 09:00:00',
    product: 'P3',
    category: 'Z',
    quantity: 1,
    unitPrice: 100,
  },
  {
    customer: 'A',
    order: 'CA4',
    ts: '2011-12-10 11:00:00',
    product: 'P3',
    category: 'Z',
    quantity: -1,
    unitPrice: 100,
  },
  {
    customer: 'B',
    order: 'B1',
    ts: '2011-09-15 14:30:00',
    product: 'P9',
    category: null,
    quantity: 3,
    unitPrice: 5.5,
  },
  {
    customer: 'B',
    order: 'B2',
    ts: '2012-01-05 10:00:00',
    product: 'P9',
    category: null,
    quantity: 3,
    unitPrice: 5.5,
  },
  {
    customer: 'C',
    order: 'CC1',
    ts: '2011-11-01 10:00:00',
    product: 'P1',
    category: 'X',
    quantity: -2,
    unitPrice: 10,
  },
  {
    customer: 'D',
    order: 'D1',
    ts: '2011-11-07 08:00:00',
    product: 'P1',
    category: 'X',
    quantity: 2,
    unitPrice: 10,
  },
  {
    customer: 'D',
    order: 'D1',
    ts: '2011-11-07 08:00:00',
    product: 'P2',
    category: 'Y',
    quantity: -1,
    unitPrice: 5,
  },
  {
    customer: 'D',
    order: 'D2',
    ts: '2011-11-07 08:00:00',
    product: 'P3',
    category: 'Z',
    quantity: 1,
    unitPrice: 7,
  },
  {
    customer: 'D',
    order: 'D3',
    ts: '2011-11-21 08:00:00',
    product: 'P1',
    category: 'X',
    quantity: 1,
    unitPrice: 10,
  },
  {
    customer: 'E',
    order: null,
    ts: '2011-03-01 10:00:00',
    product: 'P1',
    category: 'X',
    quantity: 1,
    unitPrice: 10,
  },
  {
    customer: 'E',
    order: null,
    ts: '2011-03-01 10:00:00',
    product: 'P2',
    category: 'X',
    quantity: 1,
    unitPrice: 20,
  },
  {
    customer: 'E',
    order: null,
    ts: '2011-03-15 10:00:00',
    product: 'P1',
    category: 'X',
    quantity: 1,
    unitPrice: 10,
  },
];

type Row = Record<string, number | string>;

describe('buildCustomerFeatures on hand-checkable customers', () => {
  let duck: Duck;
  let rows: Map<string, Row>;
  let featureNames: string[];
  let customers: number;

  beforeAll(async () => {
    duck = await Duck.open({ threads: 2 });
    await createTransactions(duck, LINES);
    const result = await buildCustomerFeatures(duck, { cutoff: CUTOFF, hasEvents: false });
    featureNames = result.featureNames;
    customers = result.customers;
    const all = await duck.all<Row>(`SELECT * FROM ${result.table}`);
    rows = new Map(all.map((r) => [r.customer_id as string, r]));
  });
  afterAll(() => duck.close());

  it('has one row per purchasing customer, ordered by id, every dictionary feature as a column', async () => {
    expect(customers).toBe(4);
    const ids = await duck.all<{ customer_id: string }>('SELECT customer_id FROM customer_features');
    expect(ids.map((r) => r.customer_id)).toEqual(['A', 'B', 'D', 'E']);
    expect(featureNames).toEqual(featureDefinitions(false).map((f) => f.name));
    expect(featureNames.length).toBeGreaterThanOrEqual(25);
    const columns = await duck.all<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'customer_features' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => c.column_name)).toEqual(['customer_id', ...featureNames]);
    expect(columns.slice(1).every((c) => c.data_type === 'DOUBLE')).toBe(true);
  });

  it('customer A: recency, tenure, frequency, monetary, returns', () => {
    const a = rows.get('A') as Row;
    expect(a.recency_days).toBe(29); // Dec 2 -> Dec 31
    expect(a.tenure_days).toBe(208); // Jun 6 -> Dec 31
    expect(a.frequency_orders).toBe(3);
    expect(a.active_months).toBe(3);
    expect(a.monetary_total).toBe(90); // 50 + 40 + 100 - 100
    expect(a.monetary_mean_order).toBeCloseTo(190 / 3, 12);
    expect(a.monetary_max_order).toBe(100);
    expect(a.returned_value).toBe(100);
    expect(a.return_rate).toBeCloseTo(100 / 190, 12);
    expect(a.returned_orders).toBe(1);
    expect(a.items_per_order).toBeCloseTo(8 / 3, 12);
    expect(a.lines_per_order).toBeCloseTo(4 / 3, 12);
    expect(a.avg_unit_price).toBeCloseTo(190 / 8, 12);
    expect(a.distinct_products).toBe(3);
    expect(a.distinct_categories).toBe(3);
    expect(a.orders_per_active_month).toBe(1);
    expect(a.orders_per_month).toBeCloseTo(3 / (208 / 30.4375), 12);
  });

  it('customer A: inter-purchase mean and sample std from timestamps', () => {
    const a = rows.get('A') as Row;
    const t1 = Date.UTC(2011, 5, 6, 10);
    const t2 = Date.UTC(2011, 9, 5, 12);
    const t3 = Date.UTC(2011, 11, 2, 9);
    const g1 = (t2 - t1) / DAY; // 121 days 2 hours
    const g2 = (t3 - t2) / DAY; // 57 days 21 hours
    expect(g1).toBeCloseTo(121 + 2 / 24, 12);
    expect(a.ipt_mean_days).toBeCloseTo((g1 + g2) / 2, 10);
    expect(a.ipt_std_days).toBeCloseTo(Math.abs(g1 - g2) / Math.SQRT2, 10);
  });

  it('customer A: weekday and season shares of gross spend, 90-day trend', () => {
    const a = rows.get('A') as Row;
    expect(a.spend_share_mon).toBeCloseTo(50 / 190, 12);
    expect(a.spend_share_wed).toBeCloseTo(40 / 190, 12);
    expect(a.spend_share_fri).toBeCloseTo(100 / 190, 12);
    expect(a.spend_share_sat).toBe(0); // the return order is on a Saturday but carries no gross spend
    expect([a.spend_share_tue, a.spend_share_thu, a.spend_share_sun]).toEqual([0, 0, 0]);
    expect(a.spend_share_summer).toBeCloseTo(50 / 190, 12);
    expect(a.spend_share_autumn).toBeCloseTo(40 / 190, 12);
    expect(a.spend_share_winter).toBeCloseTo(100 / 190, 12);
    expect(a.spend_share_spring).toBe(0);
    // cutoff - 90 days = Oct 2 23:59:59.999: Oct 5 and Dec 2 are recent; Jun 6 is before Jul 4 (cutoff - 180 days)
    expect(a.spend_last_90d).toBe(140);
    expect(a.spend_prev_90d).toBe(0);
    expect(a.spend_trend).toBe(1);
  });

  it('customer B: one order, neutral values, rows after the cutoff ignored', () => {
    const b = rows.get('B') as Row;
    expect(b.frequency_orders).toBe(1);
    expect(b.recency_days).toBe(107); // Sep 15 -> Dec 31
    expect(b.tenure_days).toBe(107);
    expect(b.ipt_mean_days).toBe(107); // one order: tenure
    expect(b.ipt_std_days).toBe(0);
    expect(b.monetary_total).toBeCloseTo(16.5, 12);
    expect(b.distinct_categories).toBe(0);
    expect(b.return_rate).toBe(0);
    expect(b.spend_share_thu).toBe(1);
    expect(b.spend_share_autumn).toBe(1);
    expect(b.spend_last_90d).toBe(0);
    expect(b.spend_prev_90d).toBeCloseTo(16.5, 12);
    expect(b.spend_trend).toBe(-1);
    expect(b.orders_per_month).toBeCloseTo(30.4375 / 107, 12);
  });

  it('customer D: simultaneous orders give a zero gap; in-order return lines', () => {
    const d = rows.get('D') as Row;
    expect(d.frequency_orders).toBe(3);
    expect(d.active_months).toBe(1);
    expect(d.orders_per_active_month).toBe(3);
    expect(d.ipt_mean_days).toBeCloseTo(7, 12); // gaps 0 and 14
    expect(d.ipt_std_days).toBeCloseTo(Math.sqrt(98), 10);
    expect(d.monetary_total).toBe(32); // 15 + 7 + 10
    expect(d.monetary_mean_order).toBeCloseTo(32 / 3, 12);
    expect(d.monetary_max_order).toBe(15);
    expect(d.returned_value).toBe(5);
    expect(d.return_rate).toBeCloseTo(5 / 37, 12);
    expect(d.returned_orders).toBe(1);
    expect(d.items_per_order).toBe(1); // (2 - 1 + 1 + 1) / 3
    expect(d.avg_unit_price).toBeCloseTo(37 / 4, 12);
    expect(d.distinct_products).toBe(2); // P2 only appears on a return line
    expect(d.distinct_categories).toBe(2);
    expect(d.recency_days).toBe(40);
    expect(d.tenure_days).toBe(54);
    expect(d.spend_share_mon).toBe(1);
  });

  it('customer E: lines without an order id form one order per timestamp', () => {
    const e = rows.get('E') as Row;
    expect(e.frequency_orders).toBe(2);
    expect(e.monetary_mean_order).toBe(20);
    expect(e.lines_per_order).toBe(1.5);
    expect(e.ipt_mean_days).toBe(14);
    expect(e.spend_share_tue).toBe(1);
    expect(e.spend_share_spring).toBe(1);
  });

  it('never writes NULL or non-finite values', async () => {
    const sql = featureNames
      .map((n) => `count(*) FILTER (WHERE ${n} IS NULL OR NOT isfinite(${n}))`)
      .join(' + ');
    const { bad } = await duck.one<{ bad: number }>(`SELECT (${sql})::INTEGER AS bad FROM customer_features`);
    expect(bad).toBe(0);
  });
});

describe('buildCustomerFeatures with events', () => {
  it('computes browsing ratios and cart completion; customers without events get zeros', async () => {
    const duck = await Duck.open({ threads: 2 });
    try {
      await createTransactions(duck, LINES);
      await createEvents(duck, [
        { customer: 'A', session: 's1', ts: '2011-06-06 09:50:00', type: 'view' },
        { customer: 'A', session: 's1', ts: '2011-06-06 09:52:00', type: 'view' },
        { customer: 'A', session: 's1', ts: '2011-06-06 09:55:00', type: 'add_to_cart' },
        { customer: 'A', session: 's1', ts: '2011-06-06 10:00:00', type: 'purchase' },
        { customer: 'A', session: 's2', ts: '2011-07-01 10:00:00', type: 'view' },
        { customer: 'A', session: 's3', ts: '2011-08-01 10:00:00', type: 'view' },
        { customer: 'A', session: 's3', ts: '2011-08-01 10:05:00', type: 'add_to_cart' },
        { customer: 'A', session: 's4', ts: '2012-02-01 10:00:00', type: 'view' }, // after the cutoff
        { customer: 'Z', session: 's9', ts: '2011-08-01 10:00:00', type: 'view' }, // never bought: no row
      ]);
      const result = await buildCustomerFeatures(duck, { cutoff: CUTOFF, hasEvents: true });
      expect(result.customers).toBe(4);
      expect(result.featureNames).toEqual(FEATURE_DICTIONARY.map((f) => f.name));
      const a = await duck.one<Row>(`SELECT * FROM customer_features WHERE customer_id = 'A'`);
      expect(a.sessions).toBe(3);
      expect(a.views_per_session).toBeCloseTo(4 / 3, 12);
      expect(a.view_to_cart_rate).toBe(0.5);
      expect(a.session_conversion_rate).toBeCloseTo(1 / 3, 12);
      expect(a.cart_completion_rate).toBe(0.5);
      expect(a.browse_only_share).toBeCloseTo(1 / 3, 12);
      const b = await duck.one<Row>(`SELECT * FROM customer_features WHERE customer_id = 'B'`);
      for (const name of [
        'sessions',
        'views_per_session',
        'view_to_cart_rate',
        'session_conversion_rate',
        'cart_completion_rate',
        'browse_only_share',
      ]) {
        expect(b[name]).toBe(0);
      }
    } finally {
      duck.close();
    }
  });

  it('rejects a missing events table and a missing column by name', async () => {
    const duck = await Duck.open();
    try {
      await createTransactions(duck, LINES);
      await expect(buildCustomerFeatures(duck, { cutoff: CUTOFF, hasEvents: true })).rejects.toThrow(
        /table "events" does not exist/,
      );
      await duck.run('ALTER TABLE transactions DROP COLUMN amount');
      await expect(buildCustomerFeatures(duck, { cutoff: CUTOFF, hasEvents: false })).rejects.toThrow(
        /lacks required column\(s\) amount/,
      );
      await expect(buildCustomerFeatures(duck, { cutoff: 'yesterday', hasEvents: false })).rejects.toThrow(
        /cutoff/,
      );
    } finally {
      duck.close();
    }
  });
});
