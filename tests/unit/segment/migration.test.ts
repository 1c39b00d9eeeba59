/** Migration matrix between two months' personas, with new and gone customers, counted by hand. */
import { describe, expect, it } from 'vitest';
import { GONE_CUSTOMERS, NEW_CUSTOMERS, migrationMatrix } from '../../../activities/segment/migration';

describe('migrationMatrix', () => {
  const previous = {
    customerIds: ['a', 'b', 'c', 'd', 'e', 'f'],
    personas: ['Loyal', 'Loyal', 'At risk', 'New', 'New', 'At risk'],
  };
  const current = {
    customerIds: ['a', 'b', 'c', 'd', 'e', 'g', 'h'],
    personas: ['Loyal', 'At risk', 'Lapsed', 'Loyal', 'New', 'New', 'New'],
  };

  it('counts moves, new and gone customers', () => {
    const mx = migrationMatrix(previous, current, { order: ['Loyal', 'New', 'At risk', 'Lapsed'] });
    expect(mx.from).toEqual(['Loyal', 'New', 'At risk', NEW_CUSTOMERS]);
    expect(mx.to).toEqual(['Loyal', 'New', 'At risk', 'Lapsed', GONE_CUSTOMERS]);
    expect(mx.counts).toEqual([
      // Loyal  New  At risk  Lapsed  gone
      [1, 0, 1, 0, 0], // Loyal: a stays, b -> At risk
      [1, 1, 0, 0, 0], // New: d -> Loyal, e stays
      [0, 0, 0, 1, 1], // At risk: c -> Lapsed, f gone
      [0, 2, 0, 0, 0], // new: g, h
    ]);
    expect(mx.rowShares[0]).toEqual([0.5, 0, 0.5, 0, 0]);
    expect(mx.stayed).toBe(2);
    expect(mx.moved).toBe(3);
    expect(mx.newCustomers).toBe(2);
    expect(mx.goneCustomers).toBe(1);
    const total = mx.counts.flat().reduce((a, b) => a + b, 0);
    // Every customer of either month appears once: 5 in both + 2 new + 1 gone.
    expect(total).toBe(8);
  });

  it('orders unlisted personas by code point and rejects duplicates and reserved labels', () => {
    const mx = migrationMatrix(previous, current);
    expect(mx.from).toEqual(['At risk', 'Loyal', 'New', NEW_CUSTOMERS]);
    expect(() => migrationMatrix({ customerIds: ['a', 'a'], personas: ['X', 'Y'] }, current)).toThrow(
      /customer a twice/,
    );
    expect(() => migrationMatrix({ customerIds: ['a'], personas: [NEW_CUSTOMERS] }, current)).toThrow(
      /reserved/,
    );
  });
});
