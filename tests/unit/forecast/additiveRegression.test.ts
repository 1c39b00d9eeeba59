import { describe, expect, it } from 'vitest';
import * as additiveRegression from '../../../activities/forecast/additiveRegression';
import { dayNumber, isoDate, weekday } from '../../../activities/forecast/series';
import { Rng } from '../../../lib/random';

// Planted components of a daily series from 2019-01-01 over three years.
const start = '2019-01-01';
const firstDay = dayNumber(start);
const weeklyEffect = [-250, 120, 90, 60, 40, 80, -140]; // by weekday, Sunday first; sums to 0
const changeDay = 600;
const trend = (t: number): number => 5000 + 3 * t + (t > changeDay ? -2 * (t - changeDay) : 0);
const yearly = (day: number): number =>
  400 * Math.sin((2 * Math.PI * day) / 365.25) + 150 * Math.cos((4 * Math.PI * day) / 365.25);
const christmas = ['2019-12-25', '2020-12-25', '2021-12-25', '2022-12-25'];
const christmasDays = new Set(christmas.map((d) => dayNumber(d)));
const holidayEffect = 1500;
const truth = (t: number): number => {
  const day = firstDay + t;
  return trend(t) + weeklyEffect[weekday(day)] + yearly(day) + (christmasDays.has(day) ? holidayEffect : 0);
};

describe('additiveRegression: planted trend + weekly + yearly + holiday', () => {
  const n = 1096;
  const sd = 100;
  const rng = new Rng(21);
  const values = Float64Array.from({ length: n }, (_, t) => truth(t) + rng.normal(0, sd));
  const model = additiveRegression.fit(
    { start, grain: 'day', values },
    { holidays: [{ name: 'christmas', dates: christmas }] },
  );

  it('recovers the holiday effect and the noise level', () => {
    // Three occurrences with noise sd 100: standard error about 60.
    expect(Math.abs(model.holidayEffects.christmas[0] - holidayEffect)).toBeLessThan(250);
    expect(Math.abs(model.sigma - sd)).toBeLessThan(10);
  });

  it('recovers the weekly profile', () => {
    const positions = Float64Array.from({ length: 7 }, (_, i) => 400 + i);
    const parts = model.components(positions);
    for (let i = 0; i < 7; i++) {
      expect(Math.abs(parts.weekly[i] - weeklyEffect[weekday(firstDay + 400 + i)])).toBeLessThan(20);
    }
  });

  it('recovers the yearly cycle and the trend (with its change of slope)', () => {
    const positions = Float64Array.from({ length: 73 }, (_, i) => 365 + 5 * i);
    const parts = model.components(positions);
    for (let i = 0; i < positions.length; i++) {
      expect(Math.abs(parts.yearly[i] - yearly(firstDay + positions[i]))).toBeLessThan(60);
    }
    const at = model.components([100, 500, 800, 1090]).trend;
    [100, 500, 800, 1090].forEach((t, i) => expect(Math.abs(at[i] - trend(t))).toBeLessThan(30));
    // Slope before and after the change (3/day, then 1/day), from the fitted trend.
    const slopes = model.components([100, 400, 800, 1090]).trend;
    expect(Math.abs((slopes[1] - slopes[0]) / 300 - 3)).toBeLessThan(0.15);
    expect(Math.abs((slopes[3] - slopes[2]) / 290 - 1)).toBeLessThan(0.15);
  });

  it('forecasts the next 60 days, holiday included, with intervals around the planted mean', () => {
    const forecast = model.forecast(60);
    expect(forecast.start).toBe(isoDate(firstDay + n));
    let inside80 = 0;
    for (let h = 0; h < 60; h++) {
      const expected = truth(n + h);
      expect(Math.abs(forecast.mean[h] - expected)).toBeLessThan(80);
      if (expected > forecast.lower80[h] && expected < forecast.upper80[h]) inside80++;
    }
    expect(inside80).toBe(60);
  });

  it('L2 penalty gives the same components within tolerance', () => {
    const ridge = additiveRegression.fit(
      { start, grain: 'day', values },
      { holidays: [{ name: 'christmas', dates: christmas }], penalty: 'l2', trendUncertainty: false },
    );
    expect(Math.abs(ridge.holidayEffects.christmas[0] - holidayEffect)).toBeLessThan(250);
    const forecast = ridge.forecast(30);
    for (let h = 0; h < 30; h++) expect(Math.abs(forecast.mean[h] - truth(n + h))).toBeLessThan(150);
  });
});
