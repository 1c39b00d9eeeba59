/**
 * Personas: planted customer types get the names their construction implies, descriptions quote the
 * numbers, names are unique (spend qualifiers on collisions), and missing optional features degrade
 * gracefully.
 */
import { describe, expect, it } from 'vitest';
import { describePersonas, hasNoNetPurchase, profileSegments } from '../../../activities/segment/personas';
import type {
  PersonaFeatures,
  PopulationProfile,
  SegmentProfile,
} from '../../../activities/segment/personas';
import { plantedCustomers } from './planted';

const POPULATION: PopulationProfile = {
  customers: 1000,
  revenue: 100_000,
  median: {
    recencyDays: 60,
    frequency: 2,
    monetaryTotal: 150,
    avgOrderValue: 60,
    tenureDays: 400,
    returnRate: 0.05,
    discountShare: 0.2,
    spendTrend: 0,
  },
  p25: {
    recencyDays: 20,
    frequency: 1,
    monetaryTotal: 60,
    avgOrderValue: 35,
    tenureDays: 150,
    returnRate: 0.01,
    discountShare: 0.05,
  },
  p75: {
    recencyDays: 180,
    frequency: 4,
    monetaryTotal: 400,
    avgOrderValue: 100,
    tenureDays: 800,
    returnRate: 0.1,
    discountShare: 0.4,
  },
};

const seg = (
  segment: number,
  customers: number,
  revenue: number,
  typical: PersonaFeatures,
): SegmentProfile => ({
  segment,
  customers,
  revenue,
  typical,
});

describe('describePersonas', () => {
  it('names planted centroids by the documented rules and quotes their numbers', () => {
    const segments = [
      seg(0, 180, 41_000, {
        recencyDays: 12,
        frequency: 9,
        monetaryTotal: 1100,
        avgOrderValue: 120,
        tenureDays: 900,
      }),
      seg(1, 150, 3_000, {
        recencyDays: 15,
        frequency: 1,
        monetaryTotal: 55,
        avgOrderValue: 55,
        tenureDays: 20,
      }),
      seg(2, 100, 20_000, {
        recencyDays: 300,
        frequency: 6,
        monetaryTotal: 700,
        avgOrderValue: 110,
        tenureDays: 900,
      }),
      seg(3, 200, 6_000, {
        recencyDays: 40,
        frequency: 3,
        monetaryTotal: 60,
        avgOrderValue: 20,
        tenureDays: 300,
        discountShare: 0.6,
      }),
      seg(4, 200, 4_000, {
        recencyDays: 400,
        frequency: 1,
        monetaryTotal: 40,
        avgOrderValue: 40,
        tenureDays: 420,
      }),
      seg(5, 100, 16_000, {
        recencyDays: 35,
        frequency: 3,
        monetaryTotal: 180,
        avgOrderValue: 60,
        tenureDays: 500,
      }),
      seg(6, 70, 10_000, {
        recencyDays: 50,
        frequency: 3,
        monetaryTotal: 150,
        avgOrderValue: 50,
        tenureDays: 450,
      }),
    ];
    const personas = describePersonas(segments, POPULATION);
    expect(personas.map((p) => p.name)).toEqual([
      'High-value loyal',
      'New promising',
      'At-risk big spenders',
      'Bargain browsers',
      'Lapsed one-timers',
      'Steady regulars (higher spend)',
      'Steady regulars (lower spend)',
    ]);
    expect(personas[5].baseName).toBe('Steady regulars');
    const loyal = personas[0];
    expect(loyal.customerShare).toBeCloseTo(0.18, 12);
    expect(loyal.revenueShare).toBeCloseTo(0.41, 12);
    expect(loyal.description).toContain('4.5x as often as the median customer (9 vs 2 orders)');
    expect(loyal.description).toContain('last order 12 days ago (median 60)');
    expect(loyal.description).toContain('spend 7.3x the median (1100)');
    expect(loyal.description).toMatch(/41% of revenue from 18% of customers\.$/);
    expect(personas[1].description).toContain('customers for 20 days');
    expect(personas[3].description).toContain('60% of orders discounted');
    for (const p of personas) {
      expect(p.actions.length).toBeGreaterThanOrEqual(2);
      expect(p.actions.length).toBeLessThanOrEqual(3);
      expect(p.description).not.toMatch(/NaN|undefined/);
    }
  });

  it('covers returners, cooling regulars and big-ticket occasionals; three-way collisions get tiers', () => {
    const personas = describePersonas(
      [
        seg(0, 100, 5_000, {
          recencyDays: 40,
          frequency: 3,
          monetaryTotal: 200,
          tenureDays: 500,
          returnRate: 0.35,
        }),
        seg(1, 100, 9_000, {
          recencyDays: 30,
          frequency: 6,
          monetaryTotal: 300,
          tenureDays: 700,
          spendTrend: -0.4,
        }),
        seg(2, 100, 20_000, {
          recencyDays: 90,
          frequency: 2,
          monetaryTotal: 500,
          avgOrderValue: 250,
          tenureDays: 500,
        }),
        seg(3, 100, 3_000, { recencyDays: 70, frequency: 1, monetaryTotal: 70, tenureDays: 300 }),
        seg(4, 100, 2_000, { recencyDays: 70, frequency: 1, monetaryTotal: 65, tenureDays: 300 }),
        seg(5, 100, 4_000, { recencyDays: 70, frequency: 1, monetaryTotal: 80, tenureDays: 300 }),
      ],
      POPULATION,
    );
    expect(personas.map((p) => p.name)).toEqual([
      'Serial returners',
      'Cooling regulars',
      'Big-ticket occasionals',
      'Occasional shoppers (spend tier 2)',
      'Occasional shoppers (spend tier 3)',
      'Occasional shoppers (spend tier 1)',
    ]);
    expect(personas[0].description).toContain('return 35% of purchases');
    expect(personas[1].description).toContain('spend down 40% recently');
  });

  it('names the planted customer types from raw columns and true labels', () => {
    const { truth, columns } = plantedCustomers(42);
    const { segments, population } = profileSegments(
      {
        recencyDays: columns.recencyDays,
        frequency: columns.frequency,
        monetaryTotal: columns.monetaryTotal,
        avgOrderValue: columns.avgOrderValue,
        tenureDays: columns.tenureDays,
        returnRate: columns.returnRate,
        discountShare: columns.discountShare,
        spendTrend: columns.spendTrend,
      },
      truth,
      4,
    );
    const personas = describePersonas(segments, population);
    // Planted: loyal high spenders, bargain regulars, lapsed big-ticket buyers, new one-timers.
    expect(personas.map((p) => p.name)).toEqual([
      'High-value loyal',
      'Bargain browsers',
      'At-risk big spenders',
      'New promising',
    ]);
    expect(personas.map((p) => p.customerShare)).toEqual([0.4, 0.3, 0.2, 0.1]);
    expect(personas.reduce((s, p) => s + p.revenueShare, 0)).toBeCloseTo(1, 12);
    expect(segments[3].typical.frequency).toBe(1);
  });

  it('degrades to R, F, M only: unique names, no missing-value text', () => {
    const { truth, columns } = plantedCustomers(42);
    const { segments, population } = profileSegments(
      {
        recencyDays: columns.recencyDays,
        frequency: columns.frequency,
        monetaryTotal: columns.monetaryTotal,
      },
      truth,
      4,
    );
    const personas = describePersonas(segments, population);
    expect(new Set(personas.map((p) => p.name)).size).toBe(4);
    expect(personas[0].name).toBe('High-value loyal');
    expect(personas[3].name).toBe('New promising');
    for (const p of personas) expect(p.description).not.toMatch(/NaN|undefined|n\/a/);
  });

  it('rejects labels outside 0..k-1 and columns of the wrong length', () => {
    expect(() =>
      profileSegments({ recencyDays: [1, 2], frequency: [1, 2], monetaryTotal: [1, 2] }, [0, 3], 2),
    ).toThrow(/label of row 1/);
    expect(() =>
      profileSegments({ recencyDays: [1], frequency: [1, 2], monetaryTotal: [1, 2] }, [0, 1], 2),
    ).toThrow(/recencyDays has 1 values/);
  });
});

describe('hasNoNetPurchase', () => {
  it('is true when net revenue is at or below zero (everything returned), or not a number', () => {
    expect(hasNoNetPurchase(0)).toBe(true); // Online Retail 12346: bought 74,215 units, returned them all
    expect(hasNoNetPurchase(-12.5)).toBe(true);
    expect(hasNoNetPurchase(Number.NaN)).toBe(true);
    expect(hasNoNetPurchase(0.01)).toBe(false);
    expect(hasNoNetPurchase(77_183.6)).toBe(false);
  });
});
