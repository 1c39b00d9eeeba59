/** Like-with-like revenue headlines and the next open period (activities/report/headlines.ts), on planted days. */
import { describe, expect, it } from 'vitest';
import {
  nextPeriodHeadline,
  nextPeriodHeadlineText,
  revenueHeadline,
  revenueHeadlineText,
  type DailyRevenueDay,
} from '../../../activities/report/headlines';

/** Every day from `from` to `to` (inclusive) with revenue `value(date)`; trading where `trades(date)`. */
function days(
  from: string,
  to: string,
  value: (date: string) => number,
  trades: (date: string) => boolean = () => true,
): DailyRevenueDay[] {
  const out: DailyRevenueDay[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    const open = trades(date);
    out.push({ date, revenue: open ? value(date) : 0, hasTrading: open });
  }
  return out;
}
const dayOfMonth = (date: string): number => Number(date.slice(8, 10));
const isSaturday = (date: string): boolean => new Date(`${date}T00:00:00Z`).getUTCDay() === 6;

describe('revenueHeadline', () => {
  it('compares a month whose data end on the 9th with the same 9 days of the previous month', () => {
    // Planted: 100 per day of the month in November, 1000 + day in December; data end 2011-12-09, the
    // series runs to the cutoff with zero-filled days (as features writes it).
    const data = days(
      '2011-10-01',
      '2011-12-31',
      (d) => (d < '2011-11-01' ? 50 : d < '2011-12-01' ? 100 : 1000 + dayOfMonth(d)),
      (d) => d <= '2011-12-09',
    );
    const h = revenueHeadline(data, '2011-12', [6])!;
    expect(h.kind).toBe('monthToDate');
    expect(h.label).toBe('Dec 1-9 vs Nov 1-9');
    expect(h.currentLabel).toBe('Dec 1-9');
    expect(h.current).toEqual({ from: '2011-12-01', to: '2011-12-09', revenue: 9000 + 45 });
    expect(h.previous).toEqual({ from: '2011-11-01', to: '2011-11-09', revenue: 900 });
    expect(h.change).toBeCloseTo(9045 / 900 - 1, 12);
    // the old headline compared 9 days with the whole of November (3000): a 3x different "change"
    expect(h.previous!.revenue).not.toBe(3000);
    expect(revenueHeadlineText(h, 'GBP')).toBe('£9,045, Dec 1-9 vs Nov 1-9: +905.0% (£900.00)');
  });

  it('calls a month complete when only closed weekdays follow its last trading day', () => {
    // December 2011 ends on Saturday the 31st; a shop closed on Saturdays with data to Friday the 30th.
    const data = days(
      '2011-11-01',
      '2011-12-31',
      () => 10,
      (d) => !isSaturday(d),
    );
    const full = revenueHeadline(data, '2011-12', [6])!;
    expect(full.kind).toBe('fullMonth');
    expect(full.label).toBe('Dec 2011 vs Nov 2011');
    expect(full.current.to).toBe('2011-12-31');
    expect(full.previous).toEqual({ from: '2011-11-01', to: '2011-11-30', revenue: 10 * 26 });
    // without knowing Saturday is closed, the same data are month to date (Dec 1-30)
    expect(revenueHeadline(data, '2011-12', [])!.label).toBe('Dec 1-30 vs Nov 1-30');
  });

  it('clamps the previous span to the previous month and says when there is nothing to compare', () => {
    const march = revenueHeadline(
      days(
        '2011-02-01',
        '2011-03-31',
        () => 1,
        (d) => d <= '2011-03-30',
      ),
      '2011-03',
    )!;
    expect(march.label).toBe('Mar 1-30 vs Feb 1-28');
    // the data start after the previous month began: a half-covered month would read as growth
    const young = revenueHeadline(
      days('2010-12-01', '2010-12-31', () => 5),
      '2010-12',
    )!;
    expect(young.previous).toBeNull();
    expect(young.change).toBeNull();
    expect(young.label).toBe('Dec 2010');
    expect(young.note).toContain('the data start 2010-12-01');
    // a month past the end of the data is no month of zero sales
    const after = revenueHeadline(
      days(
        '2011-11-01',
        '2012-01-31',
        () => 5,
        (d) => d <= '2011-12-09',
      ),
      '2012-01',
    )!;
    expect(after.change).toBeNull();
    expect(after.note).toBe('no data in Jan 2012: the data end 2011-12-09');
    expect(
      revenueHeadline(
        days('2011-11-01', '2011-11-30', () => 5),
        '2012-01',
      ),
    ).toBeNull();
  });
});

describe('nextPeriodHeadline', () => {
  it('names the day, the week or the month forecast', () => {
    const next = { date: '2012-01-02', mean: 35_780.4, lower80: 21_368, upper80: 51_152 };
    const day = nextPeriodHeadline(next, 'day')!;
    expect(day.label).toBe('next open day');
    expect(day.dateText).toBe('Mon 2 Jan 2012');
    expect(nextPeriodHeadlineText(day, 'GBP')).toBe(
      'next open day (Mon 2 Jan 2012): £35,780, 80%: £21,368 – £51,152',
    );
    expect(nextPeriodHeadline(next, 'week')!.dateText).toBe('from Mon 2 Jan 2012');
    expect(nextPeriodHeadline({ ...next, date: '2012-01-01' }, 'month')!.dateText).toBe('Jan 2012');
    expect(nextPeriodHeadline(null, 'day')).toBeNull();
  });
});
