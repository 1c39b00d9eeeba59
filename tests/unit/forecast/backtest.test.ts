import { describe, expect, it } from 'vitest';
import {
  backtest,
  holtWintersCandidate,
  seasonalNaiveCandidate,
  selectModel,
  defaultCandidates,
  forecastMetrics,
} from '../../../activities/forecast/backtest';
import * as seasonalNaive from '../../../activities/forecast/seasonalNaive';
import { Rng } from '../../../lib/random';

const weekly = [300, -50, -20, 0, 30, 60, -320];

/** Planted: a fixed weekly profile plus iid Gaussian noise, so every interval's true coverage is known. */
function noiseSeries(days: number, sd: number, seed: number) {
  const rng = new Rng(seed);
  const values = Float64Array.from({ length: days }, (_, t) => 1000 + weekly[t % 7] + rng.normal(0, sd));
  return { start: '2020-01-06', grain: 'day' as const, values };
}

describe('backtest: planted Gaussian noise', () => {
  const series = noiseSeries(900, 50, 17);
  const options = { horizon: 7, origins: 40 };

  it('seasonal naive intervals cover close to nominal and its MASE is near 1', () => {
    // Forecast error e_{t+h} - e_{t+h-7} has variance 2 sd^2, which the residual sd estimates: nominal coverage.
    const score = backtest(series, seasonalNaiveCandidate(), options);
    expect(score.points).toBe(280);
    expect(Math.abs(score.coverage80 - 0.8)).toBeLessThan(0.06);
    expect(Math.abs(score.coverage95 - 0.95)).toBeLessThan(0.04);
    expect(Math.abs(score.mase - 1)).toBeLessThan(0.12);
  });

  it('Holt-Winters intervals cover close to nominal and its MASE is near 1/sqrt(2)', () => {
    // A model that learns the profile has error sd ~ sd, against sqrt(2) sd for the seasonal naive scale.
    const score = backtest(series, holtWintersCandidate({ seasonality: 'additive', trend: 'none' }), options);
    expect(Math.abs(score.coverage80 - 0.8)).toBeLessThan(0.06);
    expect(Math.abs(score.coverage95 - 0.95)).toBeLessThan(0.04);
    expect(Math.abs(score.mase - Math.SQRT1_2)).toBeLessThan(0.08);
    // MAPE of an error of mean absolute size sd sqrt(2/pi) on values near 1000: about 4%.
    expect(Math.abs(score.mape - (100 * 50 * Math.sqrt(2 / Math.PI)) / 1000)).toBeLessThan(1);
  });

  it('selectModel picks a model that beats the seasonal naive baseline and refits it', () => {
    const selection = selectModel(series, defaultCandidates(), {
      horizon: 14,
      origins: 5,
      forecastHorizon: 28,
    });
    const chosen = selection.scores.find((s) => s.name === selection.chosen);
    expect(chosen).toBeDefined();
    expect(selection.chosen).not.toBe('seasonalNaive');
    expect(chosen!.mase).toBeLessThan(selection.baseline.mase);
    expect(selection.forecast.mean.length).toBe(28);
    expect(forecastMetrics(selection)).toEqual({
      model: selection.chosen,
      mape: chosen!.mape,
      mase: chosen!.mase,
      baselineMase: selection.baseline.mase,
      coverage80: chosen!.coverage80,
      coverage95: chosen!.coverage95,
      horizon: 28,
    });
    expect(selection.forecast.start).toBe('2022-06-24');
    for (let h = 0; h < 28; h++)
      expect(Math.abs(selection.forecast.mean[h] - (1000 + weekly[(900 + h) % 7]))).toBeLessThan(60);
  });

  it('skips zero actuals in MAPE and leaves closed weekdays out of every score', () => {
    const rng = new Rng(4);
    // Closed on Sundays (2020-01-05 is a Sunday: t % 7 === 6), one open day with zero revenue.
    const values = Float64Array.from({ length: 400 }, (_, t) => (t % 7 === 6 ? 0 : 500 + rng.normal(0, 20)));
    values[390] = 0;
    const series = { start: '2020-01-06', grain: 'day' as const, values, closedWeekdays: [0] };
    const score = backtest(series, seasonalNaiveCandidate(), { horizon: 14, origins: 3 });
    expect(score.excludedClosed).toBe(6);
    expect(score.points).toBe(36);
    expect(score.skippedZeroActuals).toBe(1);
    const model = seasonalNaive.fit(series);
    expect(model.seasonLength).toBe(6);
    const forecast = model.forecast(14);
    for (let h = 0; h < 14; h++) {
      if ((400 + h) % 7 === 6) {
        expect(forecast.mean[h]).toBe(0);
        expect(forecast.upper95[h]).toBe(0);
      } else expect(forecast.mean[h]).toBeGreaterThan(400);
    }
  });
});

describe('short series: clear errors, no crash', () => {
  const short = (n: number) => ({
    start: '2021-01-04',
    grain: 'day' as const,
    values: new Float64Array(n).fill(10),
  });

  it('each model says how many observations it needs and how many it got', () => {
    expect(() => seasonalNaive.fit(short(5))).toThrow(
      'seasonalNaive.fit: needs at least 9 observations (one season of 7 plus 2); the series has 5',
    );
    expect(() => holtWintersCandidate().fit(short(10))).toThrow(
      /holtWinters\.fit: needs at least 15 observations .*the series has 10/,
    );
    expect(() => defaultCandidates()[3].fit(short(12))).toThrow(
      /sarima\.fit: needs at least \d+ observations .*the series has 12/,
    );
  });

  it('backtest and selectModel say how many periods the backtest needs', () => {
    expect(() => backtest(short(20), seasonalNaiveCandidate(), { horizon: 7, origins: 3 })).toThrow(
      'backtest(seasonalNaive): needs at least 30 periods (9 to fit the first origin + horizon 7 + 2 more origins x step 7); the series has 20',
    );
    expect(() => selectModel(short(20), defaultCandidates(), { horizon: 14, origins: 5 })).toThrow(
      /needs at least 79 periods .*the series has 20/,
    );
  });

  it('a candidate too short for the series is reported, not fatal', () => {
    // 30 days, 2 origins of 7: enough for seasonal naive (9 + 14), Holt-Winters (15 + 14) and the regression,
    // not for the airline model (22 + 14).
    const selection = selectModel(noiseSeries(30, 10, 2), defaultCandidates(), { horizon: 7, origins: 2 });
    const sarima = selection.scores.find((s) => s.name.startsWith('sarima'));
    expect(sarima?.error).toBe(
      'backtest(sarima(0,1,1)(0,1,1)): needs at least 36 periods (22 to fit the first origin + horizon 7 + 1 more origins x step 7); the series has 30',
    );
    expect(selection.notes.some((note) => note.startsWith('sarima(0,1,1)(0,1,1) not scored'))).toBe(true);
    const scored = selection.scores.filter((s) => s.error === undefined).map((s) => s.name);
    expect(scored).toContain('holtWinters(additive, damped)');
    expect(scored).toContain('additiveRegression(l1)');
    expect(selection.scores.find((s) => s.name === selection.chosen)?.error).toBeUndefined();
  });
});
