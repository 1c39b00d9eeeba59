import { describe, expect, it } from 'vitest';
import { filePeriod, selectRawScope } from '../../../activities/ingest/scope';
import { monthCutoffMs } from '../../../lib/month';
import { DataValidationError } from '../../../lib/errors';

const object = (key: string) => ({ key, size: 10, etag: 'e' });

describe('which raw files a run reads', () => {
  it('reads a day or a month from a file name', () => {
    expect(filePeriod('by-day/2011-06-15.csv.gz')).toEqual({
      startMs: Date.UTC(2011, 5, 15),
      endMs: Date.UTC(2011, 5, 16) - 1,
    });
    expect(filePeriod('2023-02.csv')).toEqual({
      startMs: Date.UTC(2023, 1, 1),
      endMs: Date.UTC(2023, 2, 1) - 1,
    });
    expect(filePeriod('CDNOW_master.txt')).toBeUndefined();
  });

  it('leaves files dated after the cutoff for later runs and always reads undated files', () => {
    const scope = selectRawScope(
      'shop',
      [
        object('raw/shop/online-retail/transactions/2011-11-30.csv.gz'),
        object('raw/shop/online-retail/transactions/2011-12-01.csv.gz'),
        object('raw/shop/cdnow/transactions/CDNOW_master.txt'),
        object('raw/other/canonical/transactions/2011-01.csv'),
      ],
      monthCutoffMs('2011-11'),
    );
    expect(scope.inScope.map((f) => f.key)).toEqual([
      'raw/shop/online-retail/transactions/2011-11-30.csv.gz',
      'raw/shop/cdnow/transactions/CDNOW_master.txt',
    ]);
    expect(scope.afterCutoff.map((f) => f.key)).toEqual([
      'raw/shop/online-retail/transactions/2011-12-01.csv.gz',
    ]);
    expect(scope.inScope[0].periodEndMs).toBe(Date.UTC(2011, 11, 1) - 1);
  });

  it('refuses a file outside the raw/<dataset>/<format>/<table>/ layout, naming it', () => {
    expect(() => selectRawScope('shop', [object('raw/shop/excel/transactions/a.xlsx')], 0)).toThrow(
      DataValidationError,
    );
    expect(() => selectRawScope('shop', [object('raw/shop/excel/transactions/a.xlsx')], 0)).toThrow(
      /raw\/shop\/excel\/transactions\/a\.xlsx/,
    );
  });
});
