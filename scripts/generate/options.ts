/**
 * Options of the synthetic data generator, their defaults, and validation that names the field and the
 * rule it breaks.
 */
import { ConfigError } from '../../lib/errors';
import { addMonths, parseMonth } from '../../lib/month';
import { DEFAULT_POPULATION, type BgNbdParams, type GammaGammaParams } from './profiles';

/** Reasons a planted dirty transaction row is dirty; each dirty row has exactly one. */
export const DIRTY_REASONS = [
  'duplicate',
  'missing_customer_id',
  'non_positive_price',
  'zero_quantity',
  'unparsable_timestamp',
  'future_timestamp',
] as const;
export type DirtyReason = (typeof DIRTY_REASONS)[number];

/**
 * Probability, per clean transaction row, of planting one extra dirty row of each reason next to it
 * (non_positive_price and zero_quantity: per clean purchase row, since returns already have a negative
 * quantity). Rates are independent, so one source row may get several dirty companions.
 */
export type DirtyRates = Record<DirtyReason, number>;
/** Exact number of dirty rows written, per reason. */
export type DirtyCounts = Record<DirtyReason, number>;

export const DEFAULT_DIRTY_RATES: DirtyRates = {
  duplicate: 0.005,
  missing_customer_id: 0.01,
  non_positive_price: 0.003,
  zero_quantity: 0.002,
  unparsable_timestamp: 0.001,
  future_timestamp: 0.001,
};

/** No planted dirty rows: for tests and fixtures that want data clean would pass untouched. */
export const NO_DIRTY_RATES: DirtyRates = {
  duplicate: 0,
  missing_customer_id: 0,
  non_positive_price: 0,
  zero_quantity: 0,
  unparsable_timestamp: 0,
  future_timestamp: 0,
};

/** A planted A/B test: who is assigned, when, and the effect of treatment on conversion. */
export interface ExperimentPlan {
  /** Experiment id; default `exp-<year of month>-winback`. */
  id?: string;
  /** Month ('YYYY-MM') whose first days hold the assignments; default 3 months before the end of the range. */
  month?: string;
  /** Assignments are spread over the first `assignmentDays` days of the month; default 7. */
  assignmentDays?: number;
  /** Conversion window after assignment, in days; default 14. */
  windowDays?: number;
  /** Planted relative uplift of treatment on conversion (>= 0); default 0.2; 0 plants no effect. */
  uplift?: number;
  /** Treatment share of assigned customers; default 0.5; e.g. 0.52 plants a sample ratio mismatch. */
  srm?: number;
  /** Share of eligible customers (first purchase before the experiment month) who are assigned; default 0.8. */
  eligibleShare?: number;
}

export type ResolvedExperimentPlan = Required<ExperimentPlan>;

/** Parameters of the single population (groups = 1). */
export type PopulationParams = BgNbdParams & GammaGammaParams;

/** Options of generateDataset. */
export interface GenerateOptions {
  /** Output directory (created if missing). */
  outDir: string;
  /** Number of customers; default 5000. */
  customers?: number;
  /** Number of months; default 24. */
  months?: number;
  /** Seed; default 42. */
  seed?: number;
  /** First month 'YYYY-MM'; default '2023-01'. */
  startMonth?: string;
  /** Dirty-row rates per reason (missing keys take the defaults). */
  dirty?: Partial<DirtyRates>;
  /** 4 separable behavioural groups (default) or 1 population. */
  groups?: 1 | 4;
  /** Write browsing events; default true. */
  events?: boolean;
  /** Planted experiment; default on with the ExperimentPlan defaults; false for none. */
  experiment?: ExperimentPlan | false;
  /** Weekly, daily and yearly seasonality of purchase timing; default true. false = pure BG/NBD timing. */
  seasonality?: boolean;
  /** Plant returns (negative rows); default true. */
  returns?: boolean;
  /** Population parameters when groups = 1 (missing keys take DEFAULT_POPULATION). */
  population?: Partial<PopulationParams>;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  outDir: string;
  customers: number;
  months: number;
  seed: number;
  startMonth: string;
  dirty: DirtyRates;
  groups: 1 | 4;
  events: boolean;
  experiment: ResolvedExperimentPlan | false;
  seasonality: boolean;
  returns: boolean;
  population: PopulationParams;
}

export const DEFAULT_GENERATE_OPTIONS = {
  customers: 5000,
  months: 24,
  seed: 42,
  startMonth: '2023-01',
  groups: 4 as const,
  events: true,
  seasonality: true,
  returns: true,
};

function fail(field: string, rule: string, value: unknown): never {
  throw new ConfigError(`generateDataset: ${field} ${rule} (got ${JSON.stringify(value)})`);
}

function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    fail(field, `must be an integer in [${min}, ${max}]`, value);
}

function checkPositive(field: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) fail(field, 'must be a finite number > 0', value);
}

/** Fill in defaults and validate; throws a ConfigError naming the field and the rule. */
export function resolveOptions(options: GenerateOptions): ResolvedOptions {
  if (typeof options.outDir !== 'string' || options.outDir.length === 0)
    fail('outDir', 'must be a non-empty path', options.outDir);
  const customers = options.customers ?? DEFAULT_GENERATE_OPTIONS.customers;
  const months = options.months ?? DEFAULT_GENERATE_OPTIONS.months;
  const seed = options.seed ?? DEFAULT_GENERATE_OPTIONS.seed;
  const startMonth = options.startMonth ?? DEFAULT_GENERATE_OPTIONS.startMonth;
  checkInteger('customers', customers, 1, 50_000_000);
  checkInteger('months', months, 1, 240);
  checkInteger('seed', seed, 0, 0xffffffff);
  try {
    parseMonth(startMonth);
  } catch {
    fail('startMonth', 'must look like YYYY-MM with month 01..12', startMonth);
  }
  const groups = options.groups ?? DEFAULT_GENERATE_OPTIONS.groups;
  if (groups !== 1 && groups !== 4) fail('groups', 'must be 1 or 4', groups);

  const dirty: DirtyRates = { ...DEFAULT_DIRTY_RATES };
  for (const [key, value] of Object.entries(options.dirty ?? {})) {
    if (!(DIRTY_REASONS as readonly string[]).includes(key))
      fail(`dirty.${key}`, `is not a dirty reason (known: ${DIRTY_REASONS.join(', ')})`, value);
    if (typeof value !== 'number' || !(value >= 0 && value <= 0.5))
      fail(`dirty.${key}`, 'must be a rate in [0, 0.5]', value);
    dirty[key as DirtyReason] = value;
  }

  const population: PopulationParams = { ...DEFAULT_POPULATION };
  for (const [key, value] of Object.entries(options.population ?? {})) {
    if (!(key in DEFAULT_POPULATION))
      fail(`population.${key}`, 'is not a parameter (known: r, alpha, a, b, p, q, v)', value);
    checkPositive(`population.${key}`, value);
    population[key as keyof PopulationParams] = value;
  }

  const endMonth = addMonths(startMonth, months - 1);
  let experiment: ResolvedExperimentPlan | false = false;
  if (options.experiment !== false && months >= 2) {
    const plan = options.experiment ?? {};
    const month = plan.month ?? addMonths(startMonth, Math.max(1, months - 3));
    try {
      parseMonth(month);
    } catch {
      fail('experiment.month', 'must look like YYYY-MM', month);
    }
    if (month <= startMonth || month > endMonth)
      fail(
        'experiment.month',
        `must be after the first month ${startMonth} and at most the last month ${endMonth}`,
        month,
      );
    experiment = {
      id: plan.id ?? `exp-${month.slice(0, 4)}-winback`,
      month,
      assignmentDays: plan.assignmentDays ?? 7,
      windowDays: plan.windowDays ?? 14,
      uplift: plan.uplift ?? 0.2,
      srm: plan.srm ?? 0.5,
      eligibleShare: plan.eligibleShare ?? 0.8,
    };
    if (!/^[A-Za-z0-9._-]+$/.test(experiment.id))
      fail('experiment.id', 'must use letters, digits, dot, dash or underscore only', experiment.id);
    checkInteger('experiment.assignmentDays', experiment.assignmentDays, 1, 28);
    checkInteger('experiment.windowDays', experiment.windowDays, 1, 366);
    if (!(experiment.uplift >= 0 && Number.isFinite(experiment.uplift)))
      fail('experiment.uplift', 'must be a finite relative uplift >= 0', experiment.uplift);
    if (!(experiment.srm > 0 && experiment.srm < 1))
      fail('experiment.srm', 'must be a treatment share in (0, 1)', experiment.srm);
    if (!(experiment.eligibleShare > 0 && experiment.eligibleShare <= 1))
      fail('experiment.eligibleShare', 'must be in (0, 1]', experiment.eligibleShare);
  } else if (options.experiment !== undefined && options.experiment !== false && months < 2) {
    fail('experiment', 'needs months >= 2 (customers must be active before the experiment month)', months);
  }

  return {
    outDir: options.outDir,
    customers,
    months,
    seed,
    startMonth,
    dirty,
    groups,
    events: options.events ?? DEFAULT_GENERATE_OPTIONS.events,
    experiment,
    seasonality: options.seasonality ?? DEFAULT_GENERATE_OPTIONS.seasonality,
    returns: options.returns ?? DEFAULT_GENERATE_OPTIONS.returns,
    population,
  };
}
