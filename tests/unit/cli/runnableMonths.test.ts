/** The words run, replay and backfill refuse months with (lib/runnableMonths.ts), shared by all three. */
import { describe, expect, it } from 'vitest';
import { monthsBeforeDataRefusal, unendedMonthsRefusal } from '../../../lib/runnableMonths';

describe('runnable months', () => {
  it('refuses the current month and later ones: they have not ended', () => {
    expect(unendedMonthsRefusal('run', ['2026-12'], '2026-12')).toBe(
      'cannot run 2026-12: the month has not ended yet (it is 2026-12 now)',
    );
    expect(unendedMonthsRefusal('backfill', ['2026-10', '2026-11', '2026-12', '2027-01'], '2026-12')).toBe(
      'cannot backfill 2026-12, 2027-01: the month has not ended yet (it is 2026-12 now)',
    );
    expect(unendedMonthsRefusal('replay', ['2026-11'], '2026-12')).toBeUndefined();
  });

  it('refuses months before the first data, and datasets with none', () => {
    expect(monthsBeforeDataRefusal('run', 'shop', ['2022-12'], '2023-01')).toBe(
      'cannot run 2022-12: the data of shop starts in 2023-01',
    );
    expect(monthsBeforeDataRefusal('backfill', 'shop', ['2022-11', '2022-12', '2023-01'], '2023-01')).toBe(
      'cannot backfill 2022-11, 2022-12: the data of shop starts in 2023-01',
    );
    expect(monthsBeforeDataRefusal('replay', 'shop', ['2023-01'], '2023-01')).toBeUndefined();
    expect(monthsBeforeDataRefusal('run', 'nothing', ['2023-01'], null)).toBe(
      'dataset nothing has no transactions loaded (load some with `custflow data load --dataset nothing ...`)',
    );
  });
});
