import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck } from '../../../lib/duck';
import { buildCohorts } from '../../../activities/features/cohorts';
import {
  buildCustomerFeatures,
  type CustomerFeatureResult,
} from '../../../activities/features/customerFeatures';
import { SEASON_KEYS, WEEKDAY_KEYS } from '../../../activities/features/dictionary';
import { computeInsights } from '../../../activities/features/insights';
import { buildMonthlyKpis } from '../../../activities/features/kpis';
import { buildDailyRevenue } from '../../../activities/features/revenueSeries';
import { createOnlineRetailTransactions } from './helpers';
import { HAS_ONLINE_RETAIL } from '../../sharedData';

const HAVE_DATA = HAS_ONLINE_RETAIL;
const CUTOFF = '2011-12-31T23:59:59.999Z';

describe.skipIf(!HAVE_DATA)('features on UCI Online Retail (real data)', () => {
  let duck: Duck;
  let features: CustomerFeatureResult;

  beforeAll(async () => {
    duck = await Duck.open();
    await createOnlineRetailTransactions(duck);
    features = await buildCustomerFeatures(duck, { cutoff: CUTOFF, hasEvents: false });
    console.log(`online retail: ${features.customers} customers x ${features.featureNames.length} features`);
  });
  afterAll(() => duck?.close());

  it('has one row per customer with a purchase: 4,338 (4,372 ids, 4,339 with a positive quantity, one of them only at price 0)', () => {
    expect(features.customers).toBe(4338);
    expect(features.featureNames.length).toBeGreaterThanOrEqual(25);
  });

  it('matches hand-checkable customers of the published RFM tables', async () => {
    const rows = await duck.all<Record<string, number | string>>(
      `SELECT * FROM customer_features WHERE customer_id IN ('12346', '12347') ORDER BY customer_id`,
    );
    const [c12346, c12347] = rows;
    // 12346 bought 74,215 units at 1.04 on 2011-01-18 and returned them all the same day
    expect(c12346).toMatchObject({
      frequency_orders: 1,
      monetary_total: 0,
      monetary_mean_order: 77183.6,
      returned_value: 77183.6,
      return_rate: 1,
      items_per_order: 74215,
      recency_days: 347,
    });
    // 12347: 7 invoices, 4,310.00 in total, first 2010-12-07, last 2011-12-07
    expect(c12347).toMatchObject({
      frequency_orders: 7,
      active_months: 7,
      recency_days: 24,
      tenure_days: 389,
      return_rate: 0,
    });
    expect(c12347.monetary_total).toBeCloseTo(4310, 9);
    expect(c12347.monetary_mean_order).toBeCloseTo(4310 / 7, 9);
    expect(c12347.ipt_mean_days).toBeCloseTo(
      (Date.UTC(2011, 11, 7, 15, 52) - Date.UTC(2010, 11, 7, 14, 57)) / 86_400_000 / 6,
      9,
    );
  });

  it('has sane ranges: shares in [0, 1] summing to 1, no Saturday trade, no categories', async () => {
    const weekdaySum = WEEKDAY_KEYS.map((k) => `spend_share_${k}`).join(' + ');
    const seasonSum = SEASON_KEYS.map((k) => `spend_share_${k}`).join(' + ');
    const s = await duck.one<Record<string, number>>(`
      SELECT max(abs(${weekdaySum} - 1)) AS weekday_error, max(abs(${seasonSum} - 1)) AS season_error,
             max(spend_share_sat) AS saturday, max(distinct_categories) AS categories,
             min(recency_days) AS min_recency, max(tenure_days) AS max_tenure,
             min(least(return_rate, spend_share_mon, spend_share_thu)) AS min_share, max(return_rate) AS max_return_rate,
             min(spend_trend) AS min_trend, max(spend_trend) AS max_trend, min(frequency_orders) AS min_frequency,
             count(*) FILTER (WHERE recency_days > tenure_days) AS recency_after_tenure,
             count(*) FILTER (WHERE frequency_orders > 2 AND ipt_std_days = 0) AS constant_gaps,
             median(monetary_total) AS median_monetary, sum(frequency_orders) AS orders
      FROM customer_features`);
    expect(s.weekday_error).toBeLessThan(1e-9);
    expect(s.season_error).toBeLessThan(1e-9);
    expect(s.saturday).toBe(0);
    expect(s.categories).toBe(0);
    expect(s.min_recency).toBe(22); // the last invoice is on 2011-12-09
    expect(s.max_tenure).toBe(395); // the first on 2010-12-01
    expect(s.min_share).toBeGreaterThanOrEqual(0);
    expect(s.max_return_rate).toBeLessThanOrEqual(1);
    expect(s.min_trend).toBeGreaterThanOrEqual(-1);
    expect(s.max_trend).toBeLessThanOrEqual(1);
    expect(s.min_frequency).toBe(1);
    expect(s.recency_after_tenure).toBe(0);
    expect(s.median_monetary).toBeGreaterThan(300);
    expect(s.median_monetary).toBeLessThan(1500);
    expect(s.orders).toBeGreaterThan(18_000); // ~18,500 purchase invoices
    expect(s.orders).toBeLessThan(19_000);
  });

  it('daily revenue, cohorts and KPIs reconcile with the transactions', async () => {
    const daily = await buildDailyRevenue(duck, { cutoff: CUTOFF });
    expect(daily).toMatchObject({
      firstDate: '2010-12-01',
      lastDate: '2011-12-31',
      lastTradingDate: '2011-12-09',
      days: 396,
    });
    expect(daily.tradingDays).toBe(305); // one file per trading day
    const totals = await duck.one<{ lines: number; daily: number }>(
      `SELECT (SELECT sum(amount::DECIMAL(18,4))::DOUBLE FROM transactions) AS lines,
              (SELECT sum(revenue) FROM daily_revenue) AS daily`,
    );
    expect(totals.daily).toBeCloseTo(totals.lines, 4);
    const cohorts = await buildCohorts(duck, { cutoff: CUTOFF });
    expect(cohorts.cohorts).toBe(13);
    expect(cohorts.rows).toBe((13 * 14) / 2);
    const december = await duck.one<{ size: number; m1: number }>(
      `SELECT max(cohort_size) AS size, max(retained_share) FILTER (WHERE months_since = 1) AS m1 FROM cohorts WHERE cohort_month = '2010-12'`,
    );
    expect(december.size).toBe(885); // the December 2010 cohort of the published cohort analyses
    expect(december.m1).toBeCloseTo(324 / 885, 12);
    const { members } = await duck.one<{ members: number }>(
      `SELECT sum(customers) AS members FROM cohorts WHERE months_since = 0`,
    );
    expect(members).toBe(4338);
    const kpis = await buildMonthlyKpis(duck, { cutoff: CUTOFF, hasEvents: false });
    expect(kpis.months).toBe(13);
    const k = await duck.one<{ new_customers: number; revenue: number }>(
      `SELECT sum(new_customers) AS new_customers, sum(revenue) AS revenue FROM kpis_monthly`,
    );
    expect(k.new_customers).toBe(4338);
    expect(k.revenue).toBeCloseTo(totals.lines, 4);
  });

  it('insights skip the category tests with a reason and correlate the behavioural features', async () => {
    const insights = await computeInsights(duck, { cutoff: CUTOFF, featureNames: features.featureNames });
    expect(insights.categorySpend.skippedReason).toMatch(/fewer than 2 categories/);
    expect(insights.categorySeason.skippedReason).toMatch(/fewer than 2 categories/);
    expect(insights.correlation.constantFeatures).toEqual(['distinct_categories', 'spend_share_sat']);
    expect(insights.correlation.strongestPairs).toHaveLength(10);
    // frequency and active months are nearly the same thing for a retailer's wholesale customers
    expect(insights.correlation.strongestPairs[0]).toMatchObject({
      a: 'frequency_orders',
      b: 'active_months',
    });
    expect(insights.correlation.strongestPairs[0].r).toBeGreaterThan(0.9);
    const recency = insights.correlation.features.indexOf('recency_days');
    const frequency = insights.correlation.features.indexOf('frequency_orders');
    expect(insights.correlation.matrix[recency][frequency]).toBeLessThan(-0.3);
  });
});
