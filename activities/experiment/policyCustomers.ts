/**
 * The customers policies can target: CLV customers with a churn score, their baseline purchase probability
 * over the policy horizon (from the CLV model's purchase rate, else a churn proxy), spend per order, CLV,
 * churn probability and persona, as the typed columns simulatePolicies takes.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlString } from '../../lib/duck';
import { ConfigError } from '../../lib/errors';
import { DAYS_PER_UNIT } from '../../lib/timeUnits';
import { UNSEGMENTED } from './contract';
import type { Policy } from './policySimulation';
import type { CustomerScores } from './targeting';
import { upliftSampler } from './upliftDistribution';
import { checkDays } from './windowDays';

/** Purchase-rate parameters of the CLV model (BG/NBD or Pareto/NBD: lambda ~ Gamma(r, alpha)). */
export interface PurchaseRateParams {
  r: number;
  alpha: number;
  /** Days per time unit of T and of alpha (clv.timeUnit). */
  unitDays: number;
}

/**
 * P(at least one purchase in the next t time units | x repeat purchases, age T, P(alive)).
 * Alive at T, purchases are Poisson(lambda) with lambda | alive, x, T ~ Gamma(r + x, alpha + T) (the
 * likelihood of an alive customer is lambda^x e^(-lambda T); Fader, Hardie and Lee 2005, "Counting your
 * customers the easy way", section 3; the same for Pareto/NBD, Schmittlein, Morrison and Colombo 1987), so
 * P(no purchase in t | alive) = ((alpha + T) / (alpha + T + t))^(r + x); a dead customer never buys.
 */
export function modelPurchaseProbability(
  params: Pick<PurchaseRateParams, 'r' | 'alpha'>,
  t: number,
  x: number,
  T: number,
  pAlive: number,
): number {
  const noPurchase = Math.exp((params.r + x) * Math.log1p(-t / (params.alpha + T + t)));
  return pAlive * (1 - noPurchase);
}

/**
 * Proxy P(at least one purchase in h days) from a churn probability c = P(no purchase in W days): with a
 * constant purchase rate, P(none in h) = c^(h / W). Customers are a mixture of rates, so for h < W this
 * overstates the probability a little (Jensen); it is used only when the CLV model's inputs are missing.
 */
export function churnProxyPurchaseProbability(
  churnProbability: number,
  horizonDays: number,
  windowDays: number,
): number {
  if (churnProbability <= 0) return 1;
  if (churnProbability >= 1) return 0;
  return -Math.expm1((horizonDays / windowDays) * Math.log(churnProbability));
}

/** Options of loadPolicyCustomers; table arguments are DuckDB table or view names. */
export interface PolicyCustomerOptions {
  /** clv output: customer_id, expected_spend, clv, and (for the model probability) x, T, p_alive. */
  clv: string;
  /** churn scores: customer_id, churn_probability. */
  churn: string;
  /** segment output: customer_id, persona. */
  segments?: string;
  /** Policy horizon in days. */
  horizonDays: number;
  /** CLV purchase-rate parameters; null to use the churn proxy for everyone. */
  purchaseModel: PurchaseRateParams | null;
  /** Window of churn_probability in days (churn.window). */
  churnWindowDays: number;
}

/** Customers the policies can target, as the columns simulatePolicies takes, and how they were built. */
export interface PolicyCustomers {
  scores: CustomerScores;
  customers: number;
  /** CLV customers without a churn score: left out of the policies. */
  withoutChurnScore: number;
  /** How many baseline purchase probabilities came from the CLV model and how many from the churn proxy. */
  purchaseProbabilitySource: { clvModel: number; churnProxy: number };
  /** Customers whose expected spend per order was missing and got the mean of the others. */
  spendImputed: number;
  horizonDays: number;
  meanPurchaseProbability: number;
  meanSpendPerOrder: number;
}

async function columnNames(duck: Duck, table: string): Promise<string[]> {
  const rows = await duck.all<{ column_name: string }>(
    `SELECT column_name FROM (DESCRIBE SELECT * FROM ${table})`,
  );
  return rows.map((r) => r.column_name);
}

function requireColumns(
  stage: string,
  table: string,
  present: readonly string[],
  needed: readonly string[],
): void {
  const missing = needed.filter((name) => !present.includes(name));
  if (missing.length > 0) {
    throw new Error(
      `experiment: ${stage} output lacks column(s) ${missing.join(', ')} (has ${present.join(', ')}) [${table}]`,
    );
  }
}

async function assertUniqueCustomers(duck: Duck, stage: string, table: string): Promise<void> {
  const dup = await duck.all<{ customer_id: string }>(
    `SELECT customer_id FROM ${table} GROUP BY customer_id HAVING count(*) > 1 ORDER BY customer_id LIMIT 1`,
  );
  if (dup.length > 0)
    throw new Error(`experiment: ${stage} output has customer_id '${dup[0].customer_id}' more than once`);
}

/**
 * Build the policy simulation's customer columns: CLV customers with a churn score, ordered by
 * customer_id; persona from the segments ('unsegmented' when absent). The baseline purchase probability
 * over the horizon is modelPurchaseProbability when the CLV model's parameters and the customer's x, T and
 * P(alive) are available, else churnProxyPurchaseProbability.
 */
export async function loadPolicyCustomers(
  duck: Duck,
  options: PolicyCustomerOptions,
): Promise<PolicyCustomers> {
  checkDays('policy horizonDays', options.horizonDays);
  const clvColumns = await columnNames(duck, options.clv);
  requireColumns('clv', options.clv, clvColumns, ['customer_id', 'expected_spend', 'clv']);
  requireColumns('churn', options.churn, await columnNames(duck, options.churn), [
    'customer_id',
    'churn_probability',
  ]);
  if (options.segments) {
    requireColumns('segment', options.segments, await columnNames(duck, options.segments), [
      'customer_id',
      'persona',
    ]);
  }
  await assertUniqueCustomers(duck, 'clv', options.clv);
  await assertUniqueCustomers(duck, 'churn', options.churn);
  // The clv stage names its time columns with their unit (T_week, T_day, ...).
  const ageColumn = clvColumns.find((name) => name === 'T' || /^T_(day|week|month)$/.test(name));
  const hasModelInputs =
    ageColumn !== undefined && ['x', 'p_alive'].every((name) => clvColumns.includes(name));
  const numeric = (name: string) =>
    clvColumns.includes(name) ? `CAST(c.${sqlIdent(name)} AS DOUBLE)` : 'CAST(NULL AS DOUBLE)';
  const segmentJoin = options.segments
    ? `LEFT JOIN ${options.segments} g ON g.customer_id = c.customer_id`
    : '';
  const persona = options.segments
    ? `coalesce(CAST(g.persona AS VARCHAR), ${sqlString(UNSEGMENTED)})`
    : sqlString(UNSEGMENTED);
  await duck.run(`CREATE OR REPLACE TEMP TABLE exp_policy_customers AS
    SELECT c.customer_id, ${numeric('x')} AS x, ${hasModelInputs ? numeric(ageColumn) : 'CAST(NULL AS DOUBLE)'} AS age,
           ${numeric('p_alive')} AS p_alive, ${numeric('expected_spend')} AS expected_spend, ${numeric('clv')} AS clv,
           CAST(s.churn_probability AS DOUBLE) AS churn_probability, ${persona} AS persona
    FROM ${options.clv} c
    JOIN ${options.churn} s ON s.customer_id = c.customer_id AND isfinite(CAST(s.churn_probability AS DOUBLE))
    ${segmentJoin}
    ORDER BY c.customer_id`);
  const { n: clvCustomers } = await duck.one<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM ${options.clv}`,
  );
  const segmentNames = (
    await duck.all<{ persona: string }>(`SELECT DISTINCT persona FROM exp_policy_customers ORDER BY persona`)
  ).map((r) => r.persona);
  const names = [
    'x',
    'age',
    'p_alive',
    'expected_spend',
    'clv',
    'churn_probability',
    'segment_index',
  ] as const;
  const { rowCount: n, columns } = await duck.columns(
    `SELECT x, age, p_alive, expected_spend, clv, churn_probability,
            CAST(list_position([${segmentNames.map(sqlString).join(', ')}]::VARCHAR[], persona) - 1 AS DOUBLE) AS segment_index
     FROM exp_policy_customers ORDER BY customer_id`,
    names,
  );
  return policyCustomersFromColumns(columns, segmentNames, {
    horizonDays: options.horizonDays,
    purchaseModel: hasModelInputs ? options.purchaseModel : null,
    churnWindowDays: options.churnWindowDays,
    withoutChurnScore: clvCustomers - n,
  });
}

/** The pure part of loadPolicyCustomers: probabilities, imputation and clamping over the columns. */
export function policyCustomersFromColumns(
  columns: Record<
    'x' | 'age' | 'p_alive' | 'expected_spend' | 'clv' | 'churn_probability' | 'segment_index',
    Float64Array
  >,
  segmentNames: readonly string[],
  options: {
    horizonDays: number;
    purchaseModel: PurchaseRateParams | null;
    churnWindowDays: number;
    withoutChurnScore: number;
  },
): PolicyCustomers {
  const n = columns.x.length;
  const model = options.purchaseModel;
  const t = model ? options.horizonDays / model.unitDays : NaN;
  const purchaseProbability = new Float64Array(n);
  const spendPerOrder = new Float64Array(n);
  const clv = new Float64Array(n);
  const churnProbability = new Float64Array(n);
  const segment = new Int32Array(n);
  let fromModel = 0;
  let spendSum = 0;
  let spendCount = 0;
  for (let i = 0; i < n; i++) {
    const s = columns.expected_spend[i];
    if (Number.isFinite(s) && s >= 0) {
      spendSum += s;
      spendCount++;
    }
  }
  const meanSpend = spendCount > 0 ? spendSum / spendCount : 0;
  let spendImputed = 0;
  let probabilitySum = 0;
  for (let i = 0; i < n; i++) {
    const churn = Math.min(1, Math.max(0, columns.churn_probability[i]));
    churnProbability[i] = churn;
    const x = columns.x[i];
    const age = columns.age[i];
    const alive = columns.p_alive[i];
    let p: number;
    if (model && x >= 0 && age >= 0 && alive >= 0 && alive <= 1) {
      p = modelPurchaseProbability(model, t, x, age, alive);
      fromModel++;
    } else {
      p = churnProxyPurchaseProbability(churn, options.horizonDays, options.churnWindowDays);
    }
    purchaseProbability[i] = Math.min(1, Math.max(0, p));
    probabilitySum += purchaseProbability[i];
    const s = columns.expected_spend[i];
    if (Number.isFinite(s) && s >= 0) spendPerOrder[i] = s;
    else {
      spendPerOrder[i] = meanSpend;
      spendImputed++;
    }
    clv[i] = Number.isFinite(columns.clv[i]) ? columns.clv[i] : 0;
    segment[i] = columns.segment_index[i];
  }
  return {
    scores: { purchaseProbability, spendPerOrder, clv, churnProbability, segment, segmentNames },
    customers: n,
    withoutChurnScore: options.withoutChurnScore,
    purchaseProbabilitySource: { clvModel: fromModel, churnProxy: n - fromModel },
    spendImputed,
    horizonDays: options.horizonDays,
    meanPurchaseProbability: n > 0 ? probabilitySum / n : NaN,
    meanSpendPerOrder: n > 0 ? spendPerOrder.reduce((a, b) => a + b, 0) / n : NaN,
  };
}

/**
 * Check every policy's uplift distributions (a ConfigError naming experiment.policies[i] when one is
 * invalid) and drop target segments this month's segmentation does not have (personas change from month
 * to month): a warning per dropped name; a policy left with no known segment targets nobody.
 */
export function preparePolicies(
  policies: readonly Policy[],
  segmentNames: readonly string[],
): { policies: Policy[]; warnings: Record<string, string[]> } {
  const warnings: Record<string, string[]> = {};
  const prepared = policies.map((policy, index) => {
    const where = `experiment.policies[${index}] ('${policy.name}')`;
    try {
      upliftSampler(policy.upliftConversion, `${where}.upliftConversion`);
      if (policy.upliftSpend) upliftSampler(policy.upliftSpend, `${where}.upliftSpend`);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
    const segments = policy.target?.segments;
    if (!segments) return policy;
    const unknown = segments.filter((name) => !segmentNames.includes(name));
    if (unknown.length === 0) return policy;
    warnings[policy.name] = unknown.map(
      (name) => `target segment '${name}' does not exist this month (segments: ${segmentNames.join(', ')})`,
    );
    return {
      ...policy,
      target: { ...policy.target, segments: segments.filter((name) => segmentNames.includes(name)) },
    };
  });
  return { policies: prepared, warnings };
}

/** The CLV model's purchase-rate parameters from the clv stage metrics ({ params: { r, alpha, ... } }). */
export function purchaseRateParamsFromMetrics(
  metrics: Record<string, unknown> | undefined,
  timeUnit: keyof typeof DAYS_PER_UNIT,
): PurchaseRateParams | null {
  const params = metrics?.params;
  if (params === null || typeof params !== 'object') return null;
  const { r, alpha } = params as Record<string, unknown>;
  if (typeof r !== 'number' || typeof alpha !== 'number' || !(r > 0) || !(alpha > 0)) return null;
  return { r, alpha, unitDays: DAYS_PER_UNIT[timeUnit] };
}
