/**
 * Repeat-buying models as fitted objects (as lifetimes and PyMC-Marketing keep them): fit -> params, standard
 * errors, log-likelihood, P(alive), expected and conditional expected purchases, discounted purchases; and the
 * rule that picks the model the stage scores with.
 *
 * The rule, for the configured BG/NBD: when its maximum-likelihood estimate is interior and identified (no
 * parameter at a boundary, finite standard errors, a and b each larger than their standard error), BG/NBD is
 * used as fitted (CDNOW: r 0.2426, alpha 4.4136, a 0.7929,
 * b 2.4259, FHL 2005). When it is not (a parameter ran off to 0 or infinity, the Hessian is singular, or the
 * Beta's concentration a + b is not pinned down), the likelihood's supremum lies on the edge of the BG/NBD parameter space, and the homogeneous-dropout limit
 * (a, b -> infinity, a/(a+b) = p; bgNbdHomogeneousDropout.ts) is fitted as its own 3-parameter model. The two are
 * nested with the limit on the boundary, so their likelihood-ratio statistic 2 (LL_bgnbd - LL_limit) is
 * referred to the boundary mixture 0.5 chi2(0) + 0.5 chi2(1) (Self and Liang 1987), 5% critical value 2.71:
 * below it the limit is used (it describes the data as well, with identified parameters and closed-form
 * scores); above it BG/NBD is kept (its scores stay finite: bgNbd.ts evaluates concentrated Beta dropout by a
 * delta method) and the choice says why. Pareto/NBD, when configured, is used as fitted.
 *
 * Data that cannot identify any of these models (no customer, no repeat purchase, no observation time) is a
 * typed NotIdentifiable outcome, not an exception to match by message.
 */
import { bgNbdExpectedPurchases, bgNbdProbabilityAliveMany, fitBgNbd } from './bgNbd';
import { bgNbdConditionalExpectedPurchasesMany } from './bgNbd';
import type { BgNbdFit, BgNbdParams } from './bgNbd';
import {
  fitHomogeneousDropout,
  homogeneousDropoutConditionalExpectedPurchasesMany,
  homogeneousDropoutDiscountedPurchases,
  homogeneousDropoutExpectedPurchases,
  homogeneousDropoutProbabilityAliveMany,
} from './bgNbdHomogeneousDropout';
import type { HomogeneousDropoutFit, HomogeneousDropoutParams } from './bgNbdHomogeneousDropout';
import { bgNbdDiscountedPurchases } from './clvDcf';
import type { ClvOptions } from './clvDcf';
import { uniqueTriples } from './common';
import type { RfmSummary } from './common';
import {
  fitParetoNbd,
  paretoNbdConditionalExpectedPurchasesMany,
  paretoNbdExpectedPurchases,
  paretoNbdProbabilityAliveMany,
} from './paretoNbd';
import type { ParetoNbdFit, ParetoNbdParams } from './paretoNbd';
import { paretoNbdDiscountedPurchases } from './paretoNbdDiscounted';

/** The repeat-buying models the stage can score with. */
export type PurchaseModelKind = 'bgnbd' | 'bgnbd-homogeneous-dropout' | 'paretonbd';

export const PURCHASE_MODEL_NAMES: Readonly<Record<PurchaseModelKind, string>> = {
  bgnbd: 'BG/NBD (Fader, Hardie and Lee 2005)',
  'bgnbd-homogeneous-dropout': 'BG/NBD homogeneous-dropout limit (a, b -> infinity, a/(a+b) = p)',
  paretonbd: 'Pareto/NBD (Schmittlein, Morrison and Colombo 1987)',
};

/** Standard error above this multiple of a (or b) means the Beta dropout's concentration is not identified. */
export const BETA_RELATIVE_SE_LIMIT = 1;

/** 5% critical value of 0.5 chi2(0) + 0.5 chi2(1), the LR statistic of a parameter on its boundary. */
export const BOUNDARY_LR_CRITICAL = 2.705543;

/** Parameters of whichever model scored: BG/NBD, its homogeneous-dropout limit, or Pareto/NBD. */
export type PurchaseModelParams = BgNbdParams | HomogeneousDropoutParams | ParetoNbdParams;

/** A fitted repeat-buying model: diagnostics and the scoring verbs (per customer, Float64Arrays). */
export interface FittedPurchaseModel {
  kind: PurchaseModelKind;
  name: string;
  params: PurchaseModelParams;
  standardErrors: Record<string, number>;
  logLikelihood: number;
  converged: boolean;
  gradientNorm: number;
  iterations: number;
  message: string;
  /** Parameters at a boundary of their range, e.g. 'b -> infinity (9.42e+6)'. */
  boundary: string[];
  probabilityAlive(x: Float64Array, tx: Float64Array, T: Float64Array): Float64Array;
  conditionalExpectedPurchases(t: number, x: Float64Array, tx: Float64Array, T: Float64Array): Float64Array;
  /** Unconditional E[X(t)] of a new customer. */
  expectedPurchases(t: number): number;
  discountedPurchases(x: Float64Array, tx: Float64Array, T: Float64Array, options: ClvOptions): Float64Array;
}

/** One model the choice considered. */
export interface CandidateSummary {
  model: PurchaseModelKind;
  params: PurchaseModelParams;
  logLikelihood: number;
  converged: boolean;
  boundary: string[];
  standardErrorsFinite: boolean;
}

/** Which model scores, and why (metrics.modelChoice). */
export interface ModelChoice {
  configured: 'bgnbd' | 'paretonbd';
  used: PurchaseModelKind;
  /** True when a limit was taken instead of the configured model: reaches the run's warnings. */
  fallback: boolean;
  reasons: string[];
  candidates: CandidateSummary[];
  /** 2 (LL_bgnbd - LL_limit), when the limit was fitted. */
  likelihoodRatio: number | null;
}

/** Why the data cannot identify a repeat-buying model. */
export type NotIdentifiableReason = 'no_customers' | 'no_repeat_purchases' | 'no_observation_time';

export type PurchaseModelOutcome =
  | { identifiable: true; model: FittedPurchaseModel; choice: ModelChoice }
  | { identifiable: false; reason: NotIdentifiableReason; message: string };

/** Fit the configured model on the summary and choose the one to score with (see the file header). */
export function fitPurchaseModel(
  configured: 'bgnbd' | 'paretonbd',
  summary: RfmSummary,
  /** Customers per row of the summary (merged shard statistics hold unique triples with their counts). */
  weights?: ArrayLike<number>,
): PurchaseModelOutcome {
  const problem = identifiability(summary);
  if (problem) return { identifiable: false, ...problem };
  if (configured === 'paretonbd') {
    const model = paretoNbdModel(fitParetoNbd(summary, { weights }));
    return {
      identifiable: true,
      model,
      choice: {
        configured,
        used: 'paretonbd',
        fallback: false,
        reasons: ['configured model'],
        candidates: [candidate(model)],
        likelihoodRatio: null,
      },
    };
  }
  const bg = bgNbdModel(fitBgNbd(summary, { weights }));
  const seFinite = standardErrorsFinite(bg);
  const bgParams = bg.params as BgNbdParams;
  // Relative standard error of the Beta's a or b above 1: its concentration is not pinned down by the data.
  const unidentifiedBeta = (['a', 'b'] as const).filter(
    (key) => bg.standardErrors[key] > BETA_RELATIVE_SE_LIMIT * bgParams[key],
  );
  if (bg.boundary.length === 0 && seFinite && unidentifiedBeta.length === 0) {
    return {
      identifiable: true,
      model: bg,
      choice: {
        configured,
        used: 'bgnbd',
        fallback: false,
        reasons: ['BG/NBD maximum is interior (no parameter at a boundary, finite standard errors)'],
        candidates: [candidate(bg)],
        likelihoodRatio: null,
      },
    };
  }
  const limitFit = fitHomogeneousDropout(summary, { weights });
  const limit = homogeneousDropoutModel(limitFit);
  const lr = 2 * (bg.logLikelihood - limit.logLikelihood);
  const why =
    bg.boundary.length > 0
      ? `BG/NBD maximum at the boundary (${bg.boundary.join(', ')})`
      : !seFinite
        ? 'BG/NBD Hessian singular or not positive definite (no finite standard errors)'
        : `BG/NBD dropout concentration not identified (${unidentifiedBeta
            .map((key) => `${key} ${fmt(bgParams[key])} with standard error ${fmt(bg.standardErrors[key])}`)
            .join(', ')})`;
  const limitUsable = Number.isFinite(limit.logLikelihood) && !(lr >= BOUNDARY_LR_CRITICAL);
  const reasons = [
    why,
    `homogeneous-dropout limit fitted: r ${fmt(limitFit.params.r)}, alpha ${fmt(limitFit.params.alpha)}, p ${fmt(limitFit.params.p)}`,
    `likelihood ratio 2 (LL_bgnbd - LL_limit) = ${lr.toFixed(3)} ${limitUsable ? '<' : '>='} ${BOUNDARY_LR_CRITICAL.toFixed(2)} (5% point of 0.5 chi2(0) + 0.5 chi2(1))`,
    limitUsable
      ? 'the limit fits as well with identified parameters: it scores'
      : 'the Beta dropout heterogeneity is supported by the data: BG/NBD scores (concentrated-Beta evaluation)',
  ];
  return {
    identifiable: true,
    model: limitUsable ? limit : bg,
    choice: {
      configured,
      used: limitUsable ? 'bgnbd-homogeneous-dropout' : 'bgnbd',
      fallback: limitUsable,
      reasons,
      candidates: [candidate(bg), candidate(limit)],
      likelihoodRatio: Number.isFinite(lr) ? lr : null,
    },
  };
}

function identifiability(summary: RfmSummary): { reason: NotIdentifiableReason; message: string } | null {
  const { x, T } = summary;
  if (x.length === 0) return { reason: 'no_customers', message: 'the summary has no customers' };
  let sumX = 0;
  let sumT = 0;
  for (let i = 0; i < x.length; i++) {
    sumX += x[i];
    sumT += T[i];
  }
  if (sumX === 0) {
    return {
      reason: 'no_repeat_purchases',
      message:
        'no customer has a repeat purchase (all x = 0): the purchase rate and dropout are not identifiable',
    };
  }
  if (sumT === 0) {
    return {
      reason: 'no_observation_time',
      message: 'every customer has T = 0: there is no observation time',
    };
  }
  return null;
}

function fmt(value: number): string {
  return Number.isFinite(value) ? value.toPrecision(4) : String(value);
}

function standardErrorsFinite(model: FittedPurchaseModel): boolean {
  return Object.values(model.standardErrors).every((se) => Number.isFinite(se) && se > 0);
}

function candidate(model: FittedPurchaseModel): CandidateSummary {
  return {
    model: model.kind,
    params: { ...model.params },
    logLikelihood: model.logLikelihood,
    converged: model.converged,
    boundary: model.boundary,
    standardErrorsFinite: standardErrorsFinite(model),
  };
}

function boundaryText(fit: { boundary: { name: string; direction: string; value: number }[] }): string[] {
  return fit.boundary.map(
    (b) => `${b.name} -> ${b.direction === 'infinity' ? 'infinity' : '0'} (${b.value.toPrecision(3)})`,
  );
}

/** Evaluate a per-customer function once per distinct (x, t_x, T) and spread the values back to customers. */
export function onUniqueTriples(
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  evaluate: (x: Float64Array, tx: Float64Array, T: Float64Array) => Float64Array,
): Float64Array {
  const unique = uniqueTriples(x, tx, T);
  const values = evaluate(unique.x, unique.tx, unique.T);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = values[unique.inverse[i]];
  return out;
}

function common(
  kind: PurchaseModelKind,
  fit: BgNbdFit | ParetoNbdFit | HomogeneousDropoutFit,
): Omit<
  FittedPurchaseModel,
  'probabilityAlive' | 'conditionalExpectedPurchases' | 'expectedPurchases' | 'discountedPurchases'
> {
  return {
    kind,
    name: PURCHASE_MODEL_NAMES[kind],
    params: { ...fit.params },
    standardErrors: { ...fit.standardErrors },
    logLikelihood: fit.logLikelihood,
    converged: fit.converged,
    gradientNorm: fit.gradientNorm,
    iterations: fit.iterations,
    message: fit.message,
    boundary: boundaryText(fit),
  };
}

/**
 * The scoring verbs of a model from its parameters alone: what a shard activity rebuilds from the fitted
 * parameters the reduce hands it. Every verb is a pure function of (parameters, customer), so a customer
 * scores the same in any shard.
 */
export type PurchaseModelScorer = Pick<
  FittedPurchaseModel,
  'kind' | 'probabilityAlive' | 'conditionalExpectedPurchases' | 'expectedPurchases' | 'discountedPurchases'
>;

/** The scorer of a model kind with the given parameters. */
export function purchaseModelScorer(
  kind: PurchaseModelKind,
  params: PurchaseModelParams,
): PurchaseModelScorer {
  const numeric = (keys: readonly string[]): Record<string, number> => {
    const record = params as unknown as Record<string, unknown>;
    for (const key of keys) {
      if (typeof record[key] !== 'number' || !Number.isFinite(record[key]))
        throw new Error(`clv.purchaseModelScorer: ${kind} needs a finite parameter ${key}`);
    }
    return record as Record<string, number>;
  };
  if (kind === 'bgnbd') {
    const p = numeric(['r', 'alpha', 'a', 'b']) as unknown as BgNbdParams;
    return {
      kind,
      probabilityAlive: (x, tx, T) =>
        onUniqueTriples(x, tx, T, (ux, utx, uT) => bgNbdProbabilityAliveMany(p, ux, utx, uT)),
      conditionalExpectedPurchases: (t, x, tx, T) =>
        onUniqueTriples(x, tx, T, (ux, utx, uT) => bgNbdConditionalExpectedPurchasesMany(p, t, ux, utx, uT)),
      expectedPurchases: (t) => bgNbdExpectedPurchases(p, t),
      discountedPurchases: (x, tx, T, options) => bgNbdDiscountedPurchases(p, x, tx, T, options),
    };
  }
  if (kind === 'bgnbd-homogeneous-dropout') {
    const p = numeric(['r', 'alpha', 'p']) as unknown as HomogeneousDropoutParams;
    return {
      kind,
      probabilityAlive: (x, tx, T) =>
        onUniqueTriples(x, tx, T, (ux, utx, uT) => homogeneousDropoutProbabilityAliveMany(p, ux, utx, uT)),
      conditionalExpectedPurchases: (t, x, tx, T) =>
        onUniqueTriples(x, tx, T, (ux, utx, uT) =>
          homogeneousDropoutConditionalExpectedPurchasesMany(p, t, ux, utx, uT),
        ),
      expectedPurchases: (t) => homogeneousDropoutExpectedPurchases(p, t),
      discountedPurchases: (x, tx, T, options) => homogeneousDropoutDiscountedPurchases(p, x, tx, T, options),
    };
  }
  const p = numeric(['r', 'alpha', 's', 'beta']) as unknown as ParetoNbdParams;
  return {
    kind,
    probabilityAlive: (x, tx, T) =>
      onUniqueTriples(x, tx, T, (ux, utx, uT) => paretoNbdProbabilityAliveMany(p, ux, utx, uT)),
    conditionalExpectedPurchases: (t, x, tx, T) =>
      onUniqueTriples(x, tx, T, (ux, utx, uT) =>
        paretoNbdConditionalExpectedPurchasesMany(p, t, ux, utx, uT),
      ),
    expectedPurchases: (t) => paretoNbdExpectedPurchases(p, t),
    discountedPurchases: (x, tx, T, options) => paretoNbdDiscountedPurchases(p, x, tx, T, options),
  };
}

/** BG/NBD as a fitted object. */
export function bgNbdModel(fit: BgNbdFit): FittedPurchaseModel {
  return { ...common('bgnbd', fit), ...purchaseModelScorer('bgnbd', fit.params) };
}

/** The homogeneous-dropout limit as a fitted object. */
export function homogeneousDropoutModel(fit: HomogeneousDropoutFit): FittedPurchaseModel {
  return {
    ...common('bgnbd-homogeneous-dropout', fit),
    ...purchaseModelScorer('bgnbd-homogeneous-dropout', fit.params),
  };
}

/** Pareto/NBD as a fitted object. */
export function paretoNbdModel(fit: ParetoNbdFit): FittedPurchaseModel {
  return { ...common('paretonbd', fit), ...purchaseModelScorer('paretonbd', fit.params) };
}
