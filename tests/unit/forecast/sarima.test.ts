import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as sarima from '../../../activities/forecast/sarima';
import { buildSeries } from '../../../activities/forecast/series';
import { Rng } from '../../../lib/random';
import { hasSharedData, sharedDataPath } from '../../sharedData';

const AIRLINE_CSV = sharedDataPath('airline', 'airpassengers.csv');

// Box-Jenkins series G (monthly airline passengers, 1949-01 to 1960-12).
function airline() {
  const lines = readFileSync(AIRLINE_CSV, 'utf8').trim().split('\n');
  expect(lines[0]).toBe('month,passengers');
  const rows = lines.slice(1).map((line) => line.split(','));
  return buildSeries(
    rows.map(([month]) => `${month}-01`),
    rows.map(([, value]) => Number(value)),
    'month',
  );
}

describe.skipIf(!hasSharedData('airline', 'airpassengers.csv'))(
  'sarima: the airline model (0,1,1)(0,1,1)12 on log passengers',
  () => {
    let series: ReturnType<typeof airline>;
    let model: ReturnType<typeof sarima.fit>;
    beforeAll(() => {
      series = airline();
      model = sarima.fit(series, {
        order: { p: 0, d: 1, q: 1 },
        seasonal: { P: 0, D: 1, Q: 1 },
        transform: 'log',
      });
    });

    it('matches the published exact ML estimates to 3 decimals', () => {
      expect(series.values.length).toBe(144);
      expect(model.converged).toBe(true);
      // Published (R arima, Box-Jenkins): theta = -0.4018 (s.e. 0.0896), Theta = -0.5569 (s.e. 0.0731),
      // sigma^2 = 0.001348, log-likelihood 244.70, AIC -483.4.
      expect(Math.abs(model.coefficients.ma[0] - -0.4018)).toBeLessThan(5e-4);
      expect(Math.abs(model.coefficients.sma[0] - -0.5569)).toBeLessThan(5e-4);
      expect(Math.abs(model.sigma - 0.0367)).toBeLessThan(5e-4);
      expect(Math.abs(model.sigma2 - 0.001348)).toBeLessThan(5e-7);
      expect(Math.abs(model.logLikelihood - 244.7)).toBeLessThan(5e-3);
      expect(Math.abs(model.aic - -483.4)).toBeLessThan(0.05);
      expect(Math.abs(model.standardErrors.ma[0] - 0.0896)).toBeLessThan(5e-4);
      expect(Math.abs(model.standardErrors.sma[0] - 0.0731)).toBeLessThan(5e-4);
      expect(model.coefficients.constant).toBeNull();
    });

    it('forecasts 1961 as R predict.Arima does (log scale 6.110186, 6.053775, 6.171715; se 0.0367, 0.0428)', () => {
      const forecast = model.forecast(3);
      expect(forecast.start).toBe('1961-01-01');
      const published = [6.110186, 6.053775, 6.171715];
      published.forEach((value, i) =>
        expect(Math.abs(Math.log(forecast.mean[i]) - value)).toBeLessThan(1e-4),
      );
      // The 95% interval on the log scale is mean +/- 1.96 se, with se_1 = sigma and se_2 = sigma sqrt(1 + (1 + theta)^2).
      const se1 = (Math.log(forecast.upper95[0]) - Math.log(forecast.lower95[0])) / (2 * 1.959964);
      const se2 = (Math.log(forecast.upper95[1]) - Math.log(forecast.lower95[1])) / (2 * 1.959964);
      expect(Math.abs(se1 - 0.036716)).toBeLessThan(1e-4);
      expect(Math.abs(se2 - 0.042783)).toBeLessThan(1e-4);
    });
  },
);

describe('sarima: planted models', () => {
  it('recovers a planted ARMA(1,1) with mean', () => {
    const rng = new Rng(11);
    const n = 3000;
    const values = new Float64Array(n);
    let previous = 0;
    let previousShock = 0;
    for (let t = -200; t < n; t++) {
      const shock = rng.normal(0, 2);
      const x = 0.6 * previous + shock + 0.3 * previousShock;
      previous = x;
      previousShock = shock;
      if (t >= 0) values[t] = 50 + x;
    }
    const model = sarima.fit({ start: '2000-01-03', grain: 'day', values }, { order: { p: 1, d: 0, q: 1 } });
    expect(model.converged).toBe(true);
    // Tolerances of about 3 standard errors for n = 3000.
    expect(Math.abs(model.coefficients.ar[0] - 0.6)).toBeLessThan(0.05);
    expect(Math.abs(model.coefficients.ma[0] - 0.3)).toBeLessThan(0.06);
    expect(Math.abs((model.coefficients.constant ?? NaN) - 50)).toBeLessThan(0.4);
    expect(Math.abs(model.sigma - 2)).toBeLessThan(0.08);
    expect(model.standardErrors.ar[0]).toBeGreaterThan(0.005);
    expect(model.standardErrors.ar[0]).toBeLessThan(0.05);
  });

  it('recovers a planted seasonal MA on a seasonally differenced series', () => {
    const rng = new Rng(5);
    const n = 1500;
    const m = 7;
    const shocks = new Float64Array(n);
    const values = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      shocks[t] = rng.normal(0, 1);
      // (1 - B^7) y_t = (1 - 0.5 B)(1 - 0.7 B^7) e_t, started at a fixed weekly profile.
      const lag = t >= m ? values[t - m] : 10 + t;
      values[t] =
        lag +
        shocks[t] -
        0.5 * (t >= 1 ? shocks[t - 1] : 0) -
        0.7 * (t >= m ? shocks[t - m] : 0) +
        0.35 * (t >= m + 1 ? shocks[t - m - 1] : 0);
    }
    const model = sarima.fit(
      { start: '2000-01-03', grain: 'day', values },
      { order: { p: 0, d: 0, q: 1 }, seasonal: { P: 0, D: 1, Q: 1 } },
    );
    expect(model.period).toBe(7);
    expect(Math.abs(model.coefficients.ma[0] - -0.5)).toBeLessThan(0.07);
    expect(Math.abs(model.coefficients.sma[0] - -0.7)).toBeLessThan(0.07);
    expect(Math.abs(model.sigma - 1)).toBeLessThan(0.06);
  });

  it('refuses a log transform of a zero with the date', () => {
    const values = new Float64Array(60).fill(5);
    values[10] = 0;
    expect(() =>
      sarima.fit(
        { start: '2020-01-01', grain: 'day', values },
        { order: { p: 0, d: 1, q: 1 }, transform: 'log' },
      ),
    ).toThrow(/transform 'log' needs values > 0; 2020-01-11 has 0/);
  });
});
