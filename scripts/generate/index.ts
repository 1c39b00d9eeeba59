/**
 * `custflow data generate`: a synthetic e-commerce dataset in canonical CSV with planted ground truth.
 *
 * Purchases follow the BG/NBD process (Fader, Hardie and Lee 2005), order values the Gamma-Gamma model
 * (Fader, Hardie and Lee 2005b; Colombo and Jiang 1999), in four strongly separable behavioural groups (or
 * one population), with seasonality, returns, browsing events, a planted A/B test and dirty rows at known
 * rates. Everything planted is written to truth.json and truth_customers.csv. See README.md beside this file.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildCatalogue, HOSTILE_PRODUCT_NAME } from './catalogue';
import {
  DIRTY_REASONS,
  resolveOptions,
  type DirtyCounts,
  type GenerateOptions,
  type ResolvedOptions,
} from './options';
import {
  CATEGORIES,
  FOUR_GROUPS,
  HOURLY_MULTIPLIERS,
  POPULATION_BEHAVIOUR,
  YEARLY_MULTIPLIERS,
  acquisitionWeights,
  type GroupProfile,
} from './profiles';
import {
  COUNTRIES,
  DatasetSimulator,
  RETURN_DELAY_DAYS,
  RETURN_LINE_PROBABILITY,
  type ArmTally,
  type SimulationTally,
} from './simulate';

export {
  DEFAULT_DIRTY_RATES,
  DEFAULT_GENERATE_OPTIONS,
  DIRTY_REASONS,
  NO_DIRTY_RATES,
  type DirtyCounts,
  type DirtyRates,
  type DirtyReason,
  type ExperimentPlan,
  type GenerateOptions,
  type PopulationParams,
} from './options';
export { CATEGORIES, DEFAULT_POPULATION, FOUR_GROUPS } from './profiles';
export { HOSTILE_PRODUCT_NAME } from './catalogue';

/** What generateDataset wrote. */
export interface GenerateResult {
  /** Absolute output directory. */
  outDir: string;
  /** Absolute paths of every file written (data, truth_customers.csv, truth.json). */
  files: string[];
  /** Data rows written per table (headers excluded); transactions include the dirty rows. */
  rows: { transactions: number; events: number; assignments: number; customers: number };
  /** Exact number of planted dirty transaction rows per reason. */
  dirty: DirtyCounts;
  /** Absolute path of truth.json. */
  truthPath: string;
  /** Absolute path of truth_customers.csv. */
  customersPath: string;
}

const MONTH_FILE = /^\d{4}-\d{2}\.csv$/;

/** Remove this generator's own files left by an earlier run in outDir (never anything else). */
function clearPreviousOutput(outDir: string): void {
  for (const table of ['transactions', 'events']) {
    const dir = join(outDir, table);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) if (MONTH_FILE.test(name)) rmSync(join(dir, name));
  }
  rmSync(join(outDir, 'assignments', 'assignments.csv'), { force: true });
}

function groupProfiles(options: ResolvedOptions): GroupProfile[] {
  if (options.groups === 4) return FOUR_GROUPS;
  const { r, alpha, a, b, p, q, v } = options.population;
  return [
    {
      name: 'population',
      share: 1,
      bgnbd: { r, alpha, a, b },
      gammaGamma: { p, q, v },
      behaviour: POPULATION_BEHAVIOUR,
    },
  ];
}

/** E[z] = p v / (q - 1) (Fader, Hardie and Lee 2005b, eq. 4); null when q <= 1 (no finite mean). */
function expectedMeanSpend(params: { p: number; q: number; v: number }): number | null {
  return params.q > 1 ? (params.p * params.v) / (params.q - 1) : null;
}

/**
 * Generate the dataset described by `options` into options.outDir. Same options, same bytes.
 * Throws a ConfigError naming the option and the rule when an option is invalid.
 */
export async function generateDataset(options: GenerateOptions): Promise<GenerateResult> {
  const resolved = resolveOptions(options);
  const outDir = resolve(resolved.outDir);
  const paths = {
    transactions: join(outDir, 'transactions'),
    events: join(outDir, 'events'),
    assignments: join(outDir, 'assignments'),
    customers: join(outDir, 'truth_customers.csv'),
  };
  mkdirSync(outDir, { recursive: true });
  clearPreviousOutput(outDir);
  mkdirSync(paths.transactions, { recursive: true });
  if (resolved.events) mkdirSync(paths.events, { recursive: true });
  if (resolved.experiment) mkdirSync(paths.assignments, { recursive: true });

  const profiles = groupProfiles(resolved);
  const catalogue = buildCatalogue();
  const simulator = new DatasetSimulator(resolved, catalogue, profiles, paths);
  let tally: SimulationTally;
  try {
    for (let i = 0; i < resolved.customers; i++) {
      simulator.simulateCustomer(i);
      // Let timers and heartbeats run during long generations.
      if (i % 5000 === 4999) await new Promise<void>((done) => setImmediate(done));
    }
    tally = simulator.finish();
  } catch (error) {
    simulator.abandon();
    throw error;
  }

  const truthPath = join(outDir, 'truth.json');
  const truth = buildTruth(resolved, profiles, simulator, tally, catalogue.ids.length);
  writeFileSync(truthPath, JSON.stringify(truth, null, 2) + '\n');

  return {
    outDir,
    files: [...simulator.files, truthPath],
    rows: {
      transactions: tally.transactionRows,
      events: tally.eventRows,
      assignments: tally.assignmentRows,
      customers: resolved.customers,
    },
    dirty: tally.dirty,
    truthPath,
    customersPath: paths.customers,
  };
}

function armTruth(arm: ArmTally): Record<string, number | null> {
  return {
    assigned: arm.assigned,
    expectedConversionRate: arm.assigned > 0 ? arm.expectedConversionsSum / arm.assigned : null,
    realizedConversions: arm.realizedConversions,
    realizedConversionRate: arm.assigned > 0 ? arm.realizedConversions / arm.assigned : null,
    incentiveOrders: arm.incentiveOrders,
  };
}

function buildTruth(
  options: ResolvedOptions,
  profiles: GroupProfile[],
  simulator: DatasetSimulator,
  tally: SimulationTally,
  products: number,
): Record<string, unknown> {
  const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
  const startMonthOfYear = Number(options.startMonth.slice(5, 7)) - 1;
  const groups = profiles.map((profile, g) => ({
    name: profile.name,
    share: profile.share,
    customers: tally.customersByGroup[g],
    bgnbd: profile.bgnbd,
    gammaGamma: profile.gammaGamma,
    expectedMeanSpend: expectedMeanSpend(profile.gammaGamma),
    behaviour: {
      ...profile.behaviour,
      categoryMix: Object.fromEntries(CATEGORIES.map((c, k) => [c, profile.behaviour.categoryMix[k]])),
      weekdayMultipliers: options.seasonality ? profile.behaviour.weekdayMultipliers : [1, 1, 1, 1, 1, 1, 1],
    },
  }));

  let experiment: Record<string, unknown> | null = null;
  if (options.experiment) {
    const plan = options.experiment;
    const { control, treatment } = tally.arms;
    const controlRate = control.assigned > 0 ? control.expectedConversionsSum / control.assigned : null;
    const treatmentRate =
      treatment.assigned > 0 ? treatment.expectedConversionsSum / treatment.assigned : null;
    const assigned = control.assigned + treatment.assigned;
    const allControl = (control.expectedConversionsSum + treatment.counterfactualSum) / Math.max(1, assigned);
    const allTreatment =
      (treatment.expectedConversionsSum + control.counterfactualSum) / Math.max(1, assigned);
    experiment = {
      id: plan.id,
      month: plan.month,
      start: iso(simulator.experimentStart),
      assignmentDays: plan.assignmentDays,
      windowDays: plan.windowDays,
      metric: 'conversion',
      conversion:
        'at least one purchase order (rows with quantity > 0) with ts in [assigned_at, assigned_at + windowDays days)',
      eligibility: 'first purchase before the start of the experiment month',
      eligible: tally.experimentEligible,
      eligibleShare: plan.eligibleShare,
      plannedTreatmentShare: plan.srm,
      srm: plan.srm !== 0.5,
      upliftRelative: plan.uplift,
      assigned,
      arms: { control: armTruth(control), treatment: armTruth(treatment) },
      expectedLift: controlRate && treatmentRate !== null ? treatmentRate / controlRate - 1 : null,
      allAssigned: {
        expectedControlRate: allControl,
        expectedTreatmentRate: allTreatment,
        expectedLift: allControl > 0 ? allTreatment / allControl - 1 : null,
      },
      mechanism:
        'organic conversion probability pi = 1 - exp(-lambda * integral of s(t) over the window) for customers alive ' +
        'at assignment (0 otherwise); treated customers get an extra incentive order in the window with probability ' +
        'min(1, pi*u/(1-pi)), so P(convert | treatment) = min(1, pi*(1+u)). Expected rates are means of these ' +
        'per-customer probabilities over each arm; allAssigned gives both potential outcomes over all assigned customers. ' +
        'Incentive orders are outside the BG/NBD process (they do not trigger dropout).',
    };
  }

  return {
    generator: 'custflow synthetic data generator',
    version: 1,
    seed: options.seed,
    options: {
      customers: options.customers,
      months: options.months,
      seed: options.seed,
      startMonth: options.startMonth,
      groups: options.groups,
      events: options.events,
      seasonality: options.seasonality,
      returns: options.returns,
      dirty: options.dirty,
      experiment: options.experiment,
      population: options.groups === 1 ? options.population : null,
    },
    timeUnit: 'week',
    range: {
      start: iso(simulator.rangeStart),
      end: iso(simulator.rangeEnd),
      months: simulator.monthLabels,
    },
    model: {
      purchases:
        'BG/NBD (Fader, Hardie and Lee 2005): lambda ~ Gamma(r, alpha) (rate alpha, per week), p ~ Beta(a, b); ' +
        'the first purchase is the trial at time 0; repeat purchases at rate lambda; after each repeat purchase ' +
        'the customer drops out with probability p.',
      spend:
        'Gamma-Gamma (Fader, Hardie and Lee 2005b; Colombo and Jiang 1999): nu ~ Gamma(q, v) (rate v), each ' +
        'order value z ~ Gamma(p, nu); every order, the first included. The order total written is z rounded ' +
        'to the cent (minimum 1 cent): rounding is the only difference from the planted value.',
      population:
        options.groups === 1
          ? {
              bgnbd: profiles[0].bgnbd,
              gammaGamma: profiles[0].gammaGamma,
              expectedMeanSpend: expectedMeanSpend(profiles[0].gammaGamma),
            }
          : null,
    },
    groups,
    groupShares: Object.fromEntries(profiles.map((p) => [p.name, p.share])),
    seasonality: {
      enabled: options.seasonality,
      note: options.seasonality
        ? 'Purchase timing is a Poisson process of rate lambda * s(t) while alive (thinning), with ' +
          's(t) = yearly[month of year] * weekday[group][day of week] * hourly[hour] (UTC): this perturbs the ' +
          'pure BG/NBD timing (counts per window are no longer exactly BG/NBD). Use seasonality: false for ' +
          'model-recovery tests.'
        : 'Disabled: purchase timing is the pure BG/NBD process (s(t) = 1).',
      yearlyMultipliers: options.seasonality ? YEARLY_MULTIPLIERS : null,
      hourlyMultipliers: options.seasonality ? HOURLY_MULTIPLIERS : null,
      weekdayOrder: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
      amplitude: options.seasonality
        ? {
            yearlyPeakToTrough: Math.max(...YEARLY_MULTIPLIERS) / Math.min(...YEARLY_MULTIPLIERS),
            hourlyPeakToTrough: Math.max(...HOURLY_MULTIPLIERS) / Math.min(...HOURLY_MULTIPLIERS),
          }
        : null,
    },
    acquisition: {
      note: 'month of first purchase (the cohort) drawn with these weights; the instant within it follows s(t)',
      monthWeights: Object.fromEntries(
        acquisitionWeights(startMonthOfYear, options.months).map((w, m) => [simulator.monthLabels[m], w]),
      ),
    },
    returns: {
      enabled: options.returns,
      orderReturnRateByGroup: Object.fromEntries(profiles.map((p) => [p.name, p.behaviour.returnRate])),
      lineReturnProbability: RETURN_LINE_PROBABILITY,
      delayDays: RETURN_DELAY_DAYS,
      note:
        'a returned order gets one return order (id R...) with negative quantity and amount for each returned ' +
        'line (whole quantity, same unit price); returns falling after the end of the range are not written',
    },
    catalogue: { products, categories: CATEGORIES, hostileProductName: HOSTILE_PRODUCT_NAME },
    countries: Object.fromEntries(COUNTRIES),
    dirtyRates: options.dirty,
    dirty: tally.dirty,
    dirtyNote:
      'each dirty row is an extra row written right after a clean source row in the same month file: an exact ' +
      'copy (duplicate) or a copy with exactly one defect (empty customer_id; unit_price 0 or negative with ' +
      'amount = quantity x unit_price; quantity 0 and amount 0; an unparsable ts; ts moved to the year 2099). ' +
      'Price and quantity defects are planted on purchase rows only.',
    rows: {
      transactions: tally.transactionRows,
      transactionsClean: tally.cleanTransactionRows,
      purchaseRows: tally.purchaseRows,
      returnRows: tally.returnRows,
      dirtyRows: DIRTY_REASONS.reduce((sum, r) => sum + tally.dirty[r], 0),
      orders: tally.orders,
      returnOrders: tally.returnOrders,
      events: tally.eventRows,
      sessions: tally.sessions,
      assignments: tally.assignmentRows,
      customers: options.customers,
    },
    rowsByMonth: { transactions: tally.transactionRowsByMonth, events: tally.eventRowsByMonth },
    experiment,
    files: {
      transactions: 'transactions/YYYY-MM.csv',
      events: options.events ? 'events/YYYY-MM.csv' : null,
      assignments: options.experiment ? 'assignments/assignments.csv' : null,
    },
    customers: 'truth_customers.csv',
  };
}
