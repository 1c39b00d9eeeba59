import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck } from '../../../lib/duck';
import { churnCutoffs, churnLabelsSql, highValueLabels } from '../../../activities/churn/labels';

describe('churnCutoffs', () => {
  it('places the holdout and training cutoffs one and two windows before the run cutoff', () => {
    // 2011-12-31 minus 90 days is 2011-10-02; minus 180 days is 2011-07-04.
    expect(churnCutoffs('2011-12-31T23:59:59.999Z', 90)).toEqual({
      trainCutoff: '2011-07-04T23:59:59.999Z',
      holdoutCutoff: '2011-10-02T23:59:59.999Z',
      scoreCutoff: '2011-12-31T23:59:59.999Z',
      windowDays: 90,
    });
  });

  it('rejects a history too short for two closed windows, and a bad window', () => {
    expect(() => churnCutoffs('2011-12-31T23:59:59.999Z', 90, '2011-08-01T00:00:00Z')).toThrow(
      /at least 2 x churn.window \(180 days\)/,
    );
    expect(churnCutoffs('2011-12-31T23:59:59.999Z', 90, '2010-12-01T00:00:00Z').windowDays).toBe(90);
    expect(() => churnCutoffs('2011-12-31T23:59:59.999Z', 0)).toThrow(
      /churn.window must be an integer number of days >= 1/,
    );
  });
});

describe('churnLabelsSql', () => {
  let duck: Duck;
  beforeAll(async () => {
    duck = await Duck.open({ threads: 1 });
    await duck.run(`CREATE TABLE transactions (customer_id VARCHAR, order_id VARCHAR, ts TIMESTAMP, product_id VARCHAR,
      category VARCHAR, quantity INTEGER, unit_price DOUBLE, amount DOUBLE, country VARCHAR)`);
    const rows: [string, string, string, number][] = [
      // A: active, buys in the window (30) and returns 10 of it in another order -> stays, spend 20.
      ['A', 'a1', '2011-11-01 10:00:00', 50],
      ['A', 'a2', '2012-01-15 10:00:00', 30],
      ['A', 'a3', '2012-02-01 10:00:00', -10],
      // B: next purchase after the window closes -> churned.
      ['B', 'b1', '2011-06-01 10:00:00', 100],
      ['B', 'b2', '2012-04-15 10:00:00', 70],
      // C: only a return order inside the window -> churned, spend floored at 0.
      ['C', 'c1', '2011-10-10 10:00:00', 20],
      ['C', 'c2', '2012-01-20 10:00:00', -5],
      // D: first purchase after the cutoff -> not active, no label.
      ['D', 'd1', '2012-01-05 10:00:00', 15],
      // E: only a return before the cutoff -> not active.
      ['E', 'e1', '2011-09-01 10:00:00', -10],
      // F: purchase at the last instant of the window -> inside; G: one millisecond later -> outside.
      ['F', 'f1', '2011-05-01 10:00:00', 5],
      ['F', 'f2', '2012-03-30 23:59:59.999', 12],
      ['G', 'g1', '2011-05-01 10:00:00', 5],
      ['G', 'g2', '2012-03-31 00:00:00', 12],
      // H: purchase at the cutoff instant itself -> active, nothing after -> churned.
      ['H', 'h1', '2011-12-31 23:59:59.999', 8],
    ];
    for (const [customer, order, ts, amount] of rows) {
      await duck.run(
        `INSERT INTO transactions VALUES ('${customer}', '${order}', TIMESTAMP '${ts}', 'p', NULL, 1, ${amount}, ${amount}, NULL)`,
      );
    }
  });
  afterAll(() => duck.close());

  it('labels every customer active at the cutoff by purchases in (cutoff, cutoff + W days]', async () => {
    const sql = churnLabelsSql({ cutoff: '2011-12-31T23:59:59.999Z', windowDays: 90 });
    const rows = await duck.all<{
      customer_id: string;
      churned: number;
      future_orders: number;
      future_spend: number;
    }>(sql);
    expect(rows).toEqual([
      { customer_id: 'A', churned: 0, future_orders: 1, future_spend: 20 },
      { customer_id: 'B', churned: 1, future_orders: 0, future_spend: 0 },
      { customer_id: 'C', churned: 1, future_orders: 0, future_spend: 0 },
      { customer_id: 'F', churned: 0, future_orders: 1, future_spend: 12 },
      { customer_id: 'G', churned: 1, future_orders: 0, future_spend: 0 },
      { customer_id: 'H', churned: 1, future_orders: 0, future_spend: 0 },
    ]);
  });
});

describe('highValueLabels', () => {
  it("takes the median over active customers (the issue's definition) and flags when it coincides with retention", () => {
    const spend = Float64Array.from([0, 0, 0, 10, 20]);
    const active = highValueLabels(spend);
    expect(active.threshold).toBe(0);
    expect(Array.from(active.y)).toEqual([0, 0, 0, 1, 1]);
    expect(active.coincidesWithRetention).toBe(true);
    const purchasers = highValueLabels(spend, 'purchasers');
    expect(purchasers.threshold).toBe(15);
    expect(Array.from(purchasers.y)).toEqual([0, 0, 0, 0, 1]);
    expect(purchasers.positiveRate).toBe(0.2);
    const even = highValueLabels(Float64Array.from([5, 1, 3, 8]));
    expect(even.threshold).toBe(4);
    expect(Array.from(even.y)).toEqual([1, 0, 0, 1]);
    expect(even.coincidesWithRetention).toBe(false);
    expect(() => highValueLabels(Float64Array.from([1, -2]))).toThrow(/row 1, got -2/);
  });
});
