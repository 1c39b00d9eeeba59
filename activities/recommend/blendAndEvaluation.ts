/**
 * The "judged on the future" half of the stage: the item-to-item fits at every date the stage uses, the
 * blend weight chosen on the validation month (config `blend: auto`) and the evaluation month measured
 * against the popularity and buy-again baselines (measure.ts measures one window).
 *
 * With D the effective end: the evaluation fits at E = D - 1 month and measures (E, D]; the blend is chosen
 * by fitting at V = E - 1 month and measuring (V, E], so the evaluation month played no part in choosing
 * it; the recommendations use the fit at D.
 */
import type { Duck } from '../../lib/duck';
import type { BasketCounts } from './baskets';
import type { RecommendConfig } from '../../lib/stageConfig/recommend';
import type { EvaluationWindow, RecommendMetrics, RecommendSummary } from './contract';
import { monthBefore } from './dates';
import type { RankingMetrics } from './evaluation';
import { fitNeighbors, type NeighborFit } from './fit';
import { bestBlend, BLEND_GRID, DEFAULT_BLEND, measureWindow } from './measure';

/** The blend, how it was set, and the figures measured on the validation and evaluation months. */
export interface BlendAndEvaluation {
  blend: number;
  blendChosenBy: RecommendMetrics['blendChosenBy'];
  validation: RecommendSummary['validation'];
  evaluation: RecommendMetrics['evaluation'];
  itemToItem: RankingMetrics | null;
  evaluationWindow: EvaluationWindow | null;
  /** The neighbour table fitted at the effective end (the recommendations' fit); null without orders. */
  finalFit: NeighborFit | null;
}

/**
 * Fit at every date needed (one pass over the pairs, fit.ts), choose the blend and measure the evaluation
 * month. `notes` gets a sentence when a month has no customer to measure.
 */
export async function chooseBlendAndEvaluate(
  duck: Duck,
  options: {
    counts: BasketCounts;
    config: RecommendConfig;
    effectiveEnd: string | null;
    notes: string[];
    heartbeat: (detail: unknown) => void;
  },
): Promise<BlendAndEvaluation> {
  const { counts, config, effectiveEnd, notes, heartbeat } = options;
  const evaluationEnd = effectiveEnd;
  const evaluationStart = evaluationEnd ? monthBefore(evaluationEnd) : null;
  const validationStart = evaluationStart ? monthBefore(evaluationStart) : null;
  let blend = typeof config.blend === 'number' ? config.blend : DEFAULT_BLEND;
  let blendChosenBy: RecommendMetrics['blendChosenBy'] =
    typeof config.blend === 'number' ? 'config' : 'default';
  let validation: RecommendSummary['validation'] = null;
  // Neighbour tables at every fit date the stage uses, from one pass over the pairs (fit.ts).
  const fitDates = [
    ...(config.blend === 'auto' && validationStart ? [validationStart] : []),
    ...(evaluationStart ? [evaluationStart] : []),
    ...(effectiveEnd ? [effectiveEnd] : []),
  ].filter((date, k, all) => all.indexOf(date) === k);
  const fitted = await fitNeighbors(duck, {
    dates: fitDates,
    itemCount: counts.items,
    neighbors: config.neighbors,
    minPairOrders: config.minPairOrders,
  });
  const fitAt = (date: string): NeighborFit => fitted[fitDates.indexOf(date)];
  heartbeat({ step: 'neighbors' });
  if (config.blend === 'auto' && validationStart && evaluationStart) {
    const measured = await measureWindow(
      duck,
      counts,
      config,
      fitAt(validationStart),
      validationStart,
      evaluationStart,
      BLEND_GRID,
    );
    if (measured) {
      validation = {
        window: measured.window,
        grid: BLEND_GRID.map((b, i) => ({ blend: b, metrics: measured.lists[i] })),
      };
      blend = bestBlend(validation.grid);
      blendChosenBy = 'validation';
    } else {
      notes.push(
        `blend ${DEFAULT_BLEND} by default: no customer bought in the validation month (${validationStart.slice(0, 10)} to ${evaluationStart.slice(0, 10)}) after buying before it`,
      );
    }
  }
  heartbeat({ step: 'validation' });

  let evaluation: RecommendMetrics['evaluation'] = null;
  let itemToItem: RankingMetrics | null = null;
  let evaluationWindow: EvaluationWindow | null = null;
  if (evaluationStart && evaluationEnd) {
    const measured = await measureWindow(
      duck,
      counts,
      config,
      fitAt(evaluationStart),
      evaluationStart,
      evaluationEnd,
      [blend, 0],
      true,
    );
    if (measured && measured.baselines) {
      evaluation = { model: measured.lists[0], ...measured.baselines };
      itemToItem = measured.lists[1];
      evaluationWindow = measured.window;
    } else {
      notes.push(
        `not evaluated: no customer bought in the evaluation month (${evaluationStart.slice(0, 10)} to ${evaluationEnd.slice(0, 10)}) after buying before it`,
      );
    }
  }
  heartbeat({ step: 'evaluation' });
  return {
    blend,
    blendChosenBy,
    validation,
    evaluation,
    itemToItem,
    evaluationWindow,
    finalFit: effectiveEnd ? fitAt(effectiveEnd) : null,
  };
}
