/**
 * How the backtest will run on a series: which candidates, on which season, with how many origins how far
 * apart, so that it fits the history.
 */
import type { Holiday } from './additiveRegression';
import { defaultCandidates, holtWintersCandidate, sarimaCandidate, type Candidate } from './backtest';
import type { SarimaSearchBounds } from './sarimaSearch';
import { seasonalNaiveMinLength } from './seasonalNaive';
import { closedMask, isoDate, openView, periodDay, type RegularSeries } from './series';
/** Smallest training window (open periods) of any candidate set: the trend models need 8 points. */
export const MIN_TRAIN_OPEN = 8;

/** How the backtest will run: which candidates, on which season, with how many origins how far apart. */
export interface BacktestPlan {
  candidateSet: 'seasonal' | 'nonSeasonal';
  /** Season length on open periods (1 for the non-seasonal set). */
  seasonLength: number;
  origins: number;
  /** Periods between consecutive origins (the horizon unless the history is short: then windows overlap). */
  step: number;
  candidates: Candidate[];
}

/**
 * Plan the backtest so that it fits the history. Each origin's training window must hold the candidate's
 * minimum, 8 open periods and as many open periods as the forecast window (forecasting 28 days from a week of
 * data says nothing), and after the last origin one horizon must remain.
 *
 * Order: the seasonal candidates, else (their baseline, seasonal naive, does not fit even once) the
 * non-seasonal ones (season length 1; the additive regression keeps its Fourier seasonality), else no plan.
 * Within a set: the configured origins one horizon apart when every candidate fits; otherwise the plan scores
 * as many candidates as possible, then keeps as many origins as possible, as far apart as possible (down to
 * one period: overlapping test windows, still honest out-of-sample forecasts). Seasonal candidates that cannot
 * be scored at all are still listed (reported as not scored) and their non-seasonal counterparts (damped Holt,
 * ARIMA(0,1,1)) join so the choice stays broad.
 *
 * The least history that can be forecast is thus about max(horizon, 8) + horizon periods. Below it the stage writes
 * no forecast and completes: a young dataset is not bad data, and failing the run would block the report.
 */
export function planBacktest(
  series: RegularSeries,
  options: {
    horizon: number;
    origins: number;
    holidays?: readonly Holiday[];
    lead?: number;
    /** Search SARIMA orders by AIC instead of the airline model (forecast.sarimaSearch). */
    sarimaSearch?: SarimaSearchBounds;
  },
): { plan: BacktestPlan | null; reason: string; notes: string[] } {
  const { horizon } = options;
  // Periods between the series' end and the first period forecast: every backtest window spans them too.
  const lead = options.lead ?? 0;
  const window = lead + horizon;
  const n = series.values.length;
  const notes: string[] = [];
  const m = openView(series).seasonLength;
  const unit = series.grain === 'day' ? 'days' : `${series.grain}s`;
  // The training floor in open periods: the candidate's own minimum, 8, and as many open periods as the
  // forecast window holds. Candidates carry it as their minLength so selectModel's backtest applies it too.
  const horizonOpen = horizon - closedMask(series, n, horizon).reduce((a, b) => a + b, 0);
  const floored = (candidate: Candidate): Candidate => ({
    name: candidate.name,
    fit: (s) => candidate.fit(s),
    minLength: (s) => Math.max(candidate.minLength(s), MIN_TRAIN_OPEN, horizonOpen),
  });
  /** Calendar periods of the first training window a candidate needs. */
  const trainNeed = (candidate: Candidate): number => openPrefix(series, candidate.minLength(series));

  const sets: {
    candidateSet: BacktestPlan['candidateSet'];
    seasonLength: number;
    candidates: Candidate[];
  }[] = [];
  if (m > 1) {
    sets.push({
      candidateSet: 'seasonal',
      seasonLength: m,
      candidates: defaultCandidates({ holidays: options.holidays, sarimaSearch: options.sarimaSearch }).map(
        floored,
      ),
    });
  }
  sets.push({
    candidateSet: 'nonSeasonal',
    seasonLength: 1,
    candidates: defaultCandidates({
      holidays: options.holidays,
      seasonLength: 1,
      sarimaSearch: options.sarimaSearch,
    }).map(floored),
  });

  for (const set of sets) {
    // Candidates[0] is the baseline (seasonal naive); selectModel needs it scored.
    const needs = set.candidates.map(trainNeed);
    const baselineNeed = needs[0];
    if (baselineNeed + window > n) {
      if (set.candidateSet === 'seasonal') {
        // Said only if the non-seasonal set then fits; otherwise the reason says it all.
        notes.push(
          `the seasonal candidates (season ${m} ${unit}) need at least ${baselineNeed + window} ${unit} ` +
            `(a training window of ${baselineNeed} and one backtest window of ${window}); the series has ${n}: ` +
            'non-seasonal candidates (season length 1) are used and MASE is scaled by the naive forecast',
        );
      }
      continue;
    }
    let best = { scored: 0, origins: 0, step: 0 };
    for (let k = options.origins; k >= 1; k--) {
      for (let step = horizon; step >= 1; step--) {
        const span = window + step * (k - 1);
        if (baselineNeed + span > n) continue;
        const scored = needs.filter((need) => need + span <= n).length;
        const better =
          scored > best.scored ||
          (scored === best.scored && (k > best.origins || (k === best.origins && step > best.step)));
        if (better) best = { scored, origins: k, step };
        if (k === 1) break; // the step does not matter with one origin
      }
    }
    const unscored = set.candidates.filter((_, i) => needs[i] + window + best.step * (best.origins - 1) > n);
    const extra: Candidate[] = [];
    if (unscored.some((c) => c.name.startsWith('holtWinters'))) {
      extra.push(floored(holtWintersCandidate({ seasonality: 'none', trend: 'damped' })));
    }
    if (unscored.some((c) => c.name.startsWith('sarima'))) {
      extra.push(floored(sarimaCandidate({ order: { p: 0, d: 1, q: 1 } })));
    }
    if (best.origins < options.origins || best.step < horizon) {
      const baselineFitsConfigured = baselineNeed + lead + horizon * options.origins <= n;
      notes.push(
        `the history (${n} ${unit}) is too short ${baselineFitsConfigured ? 'to score every candidate with' : 'for'} ` +
          `${options.origins} backtest origins one horizon (${horizon}) apart: the backtest uses ${best.origins} ` +
          (best.origins === 1
            ? 'origin'
            : `origins ${best.step} ${best.step === 1 ? series.grain : unit} apart`) +
          (best.step < horizon && best.origins > 1 ? ' (overlapping test windows)' : ''),
      );
    }
    if (extra.length > 0) {
      notes.push(
        `${unscored.map((c) => c.name).join(', ')} cannot be backtested on ${n} ${unit}; ` +
          `the non-seasonal ${extra.map((c) => c.name).join(' and ')} ${extra.length === 1 ? 'is' : 'are'} scored in ${unscored.length === 1 ? 'its' : 'their'} place`,
      );
    }
    return {
      plan: {
        candidateSet: set.candidateSet,
        seasonLength: set.seasonLength,
        origins: best.origins,
        step: best.step,
        candidates: [...set.candidates, ...extra],
      },
      reason: '',
      notes,
    };
  }
  notes.length = 0;
  const minTrain = openPrefix(series, Math.max(seasonalNaiveMinLength(1), MIN_TRAIN_OPEN, horizonOpen));
  const reason =
    `the ${series.grain} series has ${n} ${unit} (${series.start} to ${isoDate(periodDay(series, n) - 1)}); ` +
    `a forecast of ${horizon} ${unit}${lead > 0 ? ` starting ${lead} ${unit} after the data ends` : ''} needs at least ${minTrain + window} ` +
    `(a training window of ${minTrain}, holding as many open periods as the forecast and never under ` +
    `${MIN_TRAIN_OPEN}, plus one backtest window of ${window}). A longer history or a shorter forecast.horizon gives a forecast`;
  return { plan: null, reason, notes };
}

/**
 * Calendar periods of the shortest prefix of a series holding `open` open periods (the calendar runs on past
 * the series' end when it is shorter, so the answer says how much history would be needed).
 */
export function openPrefix(series: RegularSeries, open: number): number {
  if (open <= 0) return 0;
  const mask = closedMask(series, 0, 7 * (open + 1));
  let count = 0;
  for (let i = 0; i < mask.length; i++) {
    count += 1 - mask[i];
    if (count >= open) return i + 1;
  }
  throw new Error(`openPrefix: no ${open} open periods within ${mask.length} (every weekday closed?)`);
}
