import { describe, expect, it } from 'vitest';
import * as holtWinters from '../../../activities/forecast/holtWinters';
import { Rng } from '../../../lib/random';

const m = 12;
const additivePattern = [-30, -22, -8, 4, 12, 25, 38, 33, 10, -6, -20, -36]; // sums to 0
const multiplicativePattern = [0.8, 0.85, 0.95, 1.0, 1.05, 1.15, 1.3, 1.25, 1.05, 0.95, 0.85, 0.8]; // averages 1

describe('holtWinters: planted seasonal series', () => {
  it('recovers level, trend and additive seasonality and forecasts the planted mean', () => {
    const rng = new Rng(3);
    const n = 240;
    const sd = 2;
    const truth = (t: number): number => 200 + 0.8 * t + additivePattern[t % m];
    const values = Float64Array.from({ length: n }, (_, t) => truth(t) + rng.normal(0, sd));
    const model = holtWinters.fit(
      { start: '2000-01-01', grain: 'month', values },
      { seasonality: 'additive', trend: 'additive' },
    );
    expect(model.converged).toBe(true);
    // Final states: level at the last observation, slope 0.8 per month, and the seasonal states of the next 12 months.
    expect(Math.abs(model.level - (200 + 0.8 * (n - 1)))).toBeLessThan(1.5);
    expect(Math.abs(model.slope - 0.8)).toBeLessThan(0.1);
    for (let k = 0; k < m; k++)
      expect(Math.abs(model.seasons[k] - additivePattern[(n + k) % m])).toBeLessThan(2.5);
    expect(Math.abs(model.sigma - sd)).toBeLessThan(0.3);
    const forecast = model.forecast(24);
    for (let h = 0; h < 24; h++) {
      expect(Math.abs(forecast.mean[h] - truth(n + h))).toBeLessThan(3.5);
      // Intervals widen with the horizon and bracket the planted mean.
      expect(forecast.lower95[h]).toBeLessThan(truth(n + h));
      expect(forecast.upper95[h]).toBeGreaterThan(truth(n + h));
      expect(forecast.upper95[h] - forecast.lower95[h]).toBeGreaterThan(
        forecast.upper80[h] - forecast.lower80[h],
      );
    }
    // One-step 95% interval is mean +/- 1.96 sigma.
    expect(
      Math.abs((forecast.upper95[0] - forecast.lower95[0]) / (2 * 1.959963984540054) - model.sigma),
    ).toBeLessThan(1e-9 * model.sigma);
  });

  it('recovers multiplicative seasonality and forecasts within 1.5%', () => {
    const rng = new Rng(8);
    const n = 180;
    const truth = (t: number): number => (500 + 2 * t) * multiplicativePattern[t % m];
    const values = Float64Array.from({ length: n }, (_, t) => truth(t) + rng.normal(0, 5));
    const model = holtWinters.fit(
      { start: '2005-01-01', grain: 'month', values },
      { seasonality: 'multiplicative', trend: 'damped' },
    );
    expect(model.converged).toBe(true);
    for (let k = 0; k < m; k++) {
      expect(Math.abs(model.seasons[k] - multiplicativePattern[(n + k) % m])).toBeLessThan(0.015);
    }
    expect(model.parameters.phi).toBeGreaterThanOrEqual(0.8);
    expect(model.parameters.phi).toBeLessThanOrEqual(0.98);
    const forecast = model.forecast(12);
    for (let h = 0; h < 12; h++) {
      expect(Math.abs(forecast.mean[h] / truth(n + h) - 1)).toBeLessThan(0.015);
      expect(forecast.lower80[h]).toBeLessThan(forecast.mean[h]);
      expect(forecast.upper80[h]).toBeGreaterThan(forecast.mean[h]);
    }
  });

  it('refuses multiplicative seasonality on a zero, naming the date', () => {
    const values = Float64Array.from({ length: 60 }, (_, t) => 10 + (t % 7));
    values[9] = 0;
    expect(() =>
      holtWinters.fit({ start: '2021-03-01', grain: 'day', values }, { seasonality: 'multiplicative' }),
    ).toThrow(/multiplicative seasonality needs values > 0; 2021-03-10 has 0/);
  });
});
