/**
 * One series through the stage's model selection: plan the backtest so that it fits the history (plan.ts),
 * backtest the candidates and refit the lowest-MASE one, or the pinned family (backtest.ts). The total
 * revenue series and every per-category and per-segment series (bySeries.ts) go through this one function,
 * so each gets the same candidates, origins, horizon and pinning.
 */
import type { Holiday } from './additiveRegression';
import { selectModel, type Selection } from './backtest';
import type { ForecastConfig } from '../../lib/stageConfig/forecast';
import { planBacktest, type BacktestPlan } from './plan';
import type { RegularSeries } from './series';

/** The outcome of {@link chooseForecast}: a plan and a selection, or the reason there is no forecast. */
export interface ChosenForecast {
  plan: BacktestPlan | null;
  selection: Selection | null;
  /** Why there is no forecast (too short a history, no model could be fitted); null when there is one. */
  reason: string | null;
  /** The plan's notes, then the selection's. */
  notes: string[];
}

/** Plan, backtest and choose for one series, with the run's forecast config and holidays. */
export function chooseForecast(
  series: RegularSeries,
  options: {
    config: Pick<ForecastConfig, 'horizon' | 'origins' | 'model' | 'sarimaSearch'>;
    holidays: readonly Holiday[];
    /** Periods from the series' end to the first period forecast (the gap to the cutoff). */
    lead: number;
  },
): ChosenForecast {
  const { config, lead } = options;
  const notes: string[] = [];
  const planned = planBacktest(series, {
    horizon: config.horizon,
    origins: config.origins,
    holidays: options.holidays,
    lead,
    ...(config.sarimaSearch ? { sarimaSearch: config.sarimaSearch } : {}),
  });
  notes.push(...planned.notes);
  const plan = planned.plan;
  if (!plan) return { plan: null, selection: null, reason: planned.reason, notes };
  try {
    const selection = selectModel(series, plan.candidates, {
      horizon: config.horizon,
      origins: plan.origins,
      step: plan.step,
      lead,
      ...(plan.candidateSet === 'nonSeasonal' ? { seasonLength: 1 } : {}),
      ...(config.model !== 'auto' ? { pinnedFamily: config.model } : {}),
    });
    notes.push(...selection.notes);
    return { plan, selection, reason: null, notes };
  } catch (error) {
    // What selectModel throws after planning is a property of the data (e.g. a series that repeats itself
    // exactly, so MASE has no scale, or no candidate fits): report it like a short history.
    return {
      plan,
      selection: null,
      reason: `no model could be chosen: ${error instanceof Error ? error.message : String(error)}`,
      notes,
    };
  }
}
