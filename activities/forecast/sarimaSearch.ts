/**
 * SARIMA order search by AIC within bounds (forecast.sarimaSearch): with the differencing orders d and D
 * fixed, every (p, q, P, Q) with p <= maxP, q <= maxQ, P <= maxSeasonalP, Q <= maxSeasonalQ is fitted by
 * exact maximum likelihood (sarima.ts) and the lowest AIC wins; ties go to fewer coefficients, then to the
 * earlier order. AICs are comparable only between models of the same differenced series, hence d and D
 * fixed (Hyndman and Khandakar 2008, "Automatic time series forecasting: the forecast package for R", JSS
 * 27(3), section 3.2, choose d and D first and then search p, q, P, Q by information criterion). A full grid
 * rather than their stepwise walk: the bounds are small, and the grid's answer does not depend on the start.
 *
 * An order whose fit fails (too short for it, a likelihood the optimizer cannot evaluate) is skipped; when
 * none fits the search throws, and the backtest reports the candidate as not scored.
 */
import type { ForecastConfig } from '../../lib/stageConfig/forecast';
import * as sarima from './sarima';
import { openView, type RegularSeries } from './series';

/** The search bounds (forecast.sarimaSearch). */
export type SarimaSearchBounds = NonNullable<ForecastConfig['sarimaSearch']>;

/** One order tried and its AIC (NaN when the fit failed). */
export interface SarimaOrderTried {
  order: { p: number; d: number; q: number };
  seasonal: { P: number; D: number; Q: number };
  aic: number;
}

/** The best model and every order tried. */
export interface SarimaSearchResult {
  model: sarima.SarimaModel;
  order: { p: number; d: number; q: number };
  seasonal: { P: number; D: number; Q: number };
  tried: SarimaOrderTried[];
}

/** The orders within the bounds, fewest coefficients first (so that ties keep the simpler model). */
export function ordersWithin(bounds: SarimaSearchBounds): Omit<SarimaOrderTried, 'aic'>[] {
  const orders: Omit<SarimaOrderTried, 'aic'>[] = [];
  for (let p = 0; p <= bounds.maxP; p++)
    for (let q = 0; q <= bounds.maxQ; q++)
      for (let P = 0; P <= bounds.maxSeasonalP; P++)
        for (let Q = 0; Q <= bounds.maxSeasonalQ; Q++)
          orders.push({ order: { p, d: bounds.d, q }, seasonal: { P, D: bounds.seasonalD, Q } });
  const size = (o: Omit<SarimaOrderTried, 'aic'>) => o.order.p + o.order.q + o.seasonal.P + o.seasonal.Q;
  return orders
    .map((o, index) => ({ o, index }))
    .sort((a, b) => size(a.o) - size(b.o) || a.index - b.index)
    .map(({ o }) => o);
}

/** Fit every order within the bounds to the series and keep the lowest AIC. */
export function searchSarimaOrder(
  series: RegularSeries,
  bounds: SarimaSearchBounds,
  period = openView(series).seasonLength,
): SarimaSearchResult {
  const tried: SarimaOrderTried[] = [];
  let best: SarimaSearchResult | null = null;
  const errors: string[] = [];
  for (const candidate of ordersWithin(bounds)) {
    const seasonal = period > 1 ? { ...candidate.seasonal, period } : { P: 0, D: 0, Q: 0 };
    if (period <= 1 && (candidate.seasonal.P > 0 || candidate.seasonal.Q > 0)) continue;
    try {
      const model = sarima.fit(series, { order: candidate.order, seasonal, transform: bounds.transform });
      tried.push({ ...candidate, aic: model.aic });
      if (Number.isFinite(model.aic) && (best === null || model.aic < best.model.aic)) {
        best = { model, order: candidate.order, seasonal: candidate.seasonal, tried };
      }
    } catch (error) {
      tried.push({ ...candidate, aic: NaN });
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (!best)
    throw new Error(
      `sarimaSearch: no order within the bounds could be fitted (${errors[0] ?? 'none tried'})`,
    );
  return { ...best, tried };
}

/** Shortest series the search accepts: that of its simplest order (more complex orders may be skipped). */
export function sarimaSearchMinLength(bounds: SarimaSearchBounds, period: number): number {
  const seasonal = period > 1 ? { P: 0, D: bounds.seasonalD, Q: 0, period } : { P: 0, D: 0, Q: 0 };
  return sarima.sarimaMinLength({ order: { p: 0, d: bounds.d, q: 0 }, seasonal }, period);
}
