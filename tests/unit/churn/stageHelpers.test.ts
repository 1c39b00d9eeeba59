import { describe, expect, it } from 'vitest';
import {
  chooseChurnModel,
  churnTimeline,
  compactImportance,
  MIN_CLASS_CUSTOMERS,
  MIN_WINDOW_CUSTOMERS,
  windowShortfall,
} from '../../../activities/churn/index';

describe('churnTimeline', () => {
  it('works back from the end of the last trading day when the data stops before the run cutoff', () => {
    // Online Retail: last invoice 2011-12-09 12:50, December run.
    const { timeline } = churnTimeline({
      runCutoff: '2011-12-31T23:59:59.999Z',
      firstTs: '2010-12-01T08:26:00.000Z',
      lastTs: '2011-12-09T12:50:00.000Z',
      windowDays: 90,
    });
    expect(timeline).toEqual({
      runCutoff: '2011-12-31T23:59:59.999Z',
      effectiveEnd: '2011-12-09T23:59:59.999Z',
      // 2011-12-09 minus 90 days is 2011-09-10; minus 90 more is 2011-06-12.
      evalCutoff: '2011-09-10T23:59:59.999Z',
      trainCutoff: '2011-06-12T23:59:59.999Z',
      dataEndsEarly: true,
      windowDays: 90,
    });
  });

  it('uses the run cutoff itself when the data reaches its last day', () => {
    const { timeline } = churnTimeline({
      runCutoff: '2024-12-31T23:59:59.999Z',
      firstTs: '2023-01-01T00:00:00Z',
      lastTs: '2024-12-31T18:00:00Z',
      windowDays: 30,
    });
    expect(timeline?.effectiveEnd).toBe('2024-12-31T23:59:59.999Z');
    expect(timeline?.dataEndsEarly).toBe(false);
    expect(timeline?.evalCutoff).toBe('2024-12-01T23:59:59.999Z');
    expect(timeline?.trainCutoff).toBe('2024-11-01T23:59:59.999Z');
  });

  it('never lets the effective end pass a mid-day run cutoff', () => {
    const { timeline } = churnTimeline({
      runCutoff: '2024-06-30T12:00:00Z',
      firstTs: '2023-01-01T00:00:00Z',
      lastTs: '2024-06-30T11:00:00Z',
      windowDays: 7,
    });
    expect(timeline?.effectiveEnd).toBe('2024-06-30T12:00:00.000Z');
    expect(timeline?.dataEndsEarly).toBe(false);
    expect(timeline?.evalCutoff).toBe('2024-06-23T12:00:00.000Z');
  });

  it('reports a history shorter than two windows as a reason, not an error', () => {
    const result = churnTimeline({
      runCutoff: '2024-06-30T23:59:59.999Z',
      firstTs: '2024-01-15T10:00:00Z',
      lastTs: '2024-06-30T09:00:00Z',
      windowDays: 90,
    });
    expect(result.timeline).toBeUndefined();
    expect(result.reason).toMatch(/history too short/);
    expect(result.reason).toMatch(/2 x churn.window = 180 days/);
    // A day more than 2W of history: the training cutoff falls just after the first transaction.
    const enough = churnTimeline({
      runCutoff: '2024-06-30T23:59:59.999Z',
      firstTs: '2024-01-01T00:00:00Z',
      lastTs: '2024-06-30T09:00:00Z',
      windowDays: 90,
    });
    expect(enough.timeline?.trainCutoff).toBe('2024-01-02T23:59:59.999Z');
  });

  it('reports an empty history, and rejects a malformed window or cutoff', () => {
    expect(
      churnTimeline({ runCutoff: '2024-06-30T23:59:59.999Z', firstTs: null, lastTs: null, windowDays: 90 })
        .reason,
    ).toMatch(/no transaction/);
    expect(() =>
      churnTimeline({ runCutoff: '2024-06-30', firstTs: null, lastTs: null, windowDays: 0 }),
    ).toThrow(/churn.window must be an integer/);
    expect(() => churnTimeline({ runCutoff: 'June', firstTs: null, lastTs: null, windowDays: 90 })).toThrow(
      /run cutoff "June"/,
    );
  });
});

describe('chooseChurnModel', () => {
  it('takes the higher held-out AUC under auto, logistic on a tie', () => {
    expect(chooseChurnModel('auto', { auc: 0.7, converged: true }, { auc: 0.71 }).chosen).toBe('gbm');
    expect(chooseChurnModel('auto', { auc: 0.72, converged: true }, { auc: 0.71 }).chosen).toBe('logistic');
    expect(chooseChurnModel('auto', { auc: 0.7, converged: true }, { auc: 0.7 }).chosen).toBe('logistic');
  });

  it('never picks a logistic regression that did not converge under auto, and obeys a fixed setting', () => {
    expect(chooseChurnModel('auto', { auc: 0.9, converged: false }, { auc: 0.6 }).chosen).toBe('gbm');
    expect(chooseChurnModel('logistic', { auc: 0.6, converged: true }, { auc: 0.9 }).chosen).toBe('logistic');
    expect(chooseChurnModel('gbm', { auc: 0.9, converged: true }, { auc: 0.6 }).chosen).toBe('gbm');
  });
});

describe('windowShortfall', () => {
  const labels = (positives: number, negatives: number): Uint8Array => {
    const y = new Uint8Array(positives + negatives);
    y.fill(1, 0, positives);
    return y;
  };

  it('accepts a window with enough customers of each class', () => {
    expect(windowShortfall('w', labels(MIN_CLASS_CUSTOMERS, MIN_WINDOW_CUSTOMERS))).toBeNull();
  });

  it('names too few customers, or too few of one class', () => {
    expect(windowShortfall('training window', labels(20, MIN_WINDOW_CUSTOMERS - 21))).toMatch(
      /^training window: 49 labelled customers, fewer than the 50 needed/,
    );
    expect(windowShortfall('w', labels(MIN_CLASS_CUSTOMERS - 1, 200))).toMatch(
      /9 positives and 200 negatives/,
    );
    expect(windowShortfall('w', labels(200, 0))).toMatch(/200 positives and 0 negatives/);
  });
});

describe('compactImportance', () => {
  it('keeps the first features with their share only', () => {
    const ranking = Array.from({ length: 12 }, (_, k) => ({
      feature: `f${k}`,
      importance: 12 - k,
      share: (12 - k) / 78,
    }));
    const compact = compactImportance(ranking);
    expect(compact).toHaveLength(10);
    expect(compact[0]).toEqual({ feature: 'f0', share: 12 / 78 });
    expect(compact[9]).toEqual({ feature: 'f9', share: 3 / 78 });
    expect(compactImportance(ranking, 2)).toHaveLength(2);
  });
});
