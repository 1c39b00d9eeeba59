/**
 * Insight tests of customer attributes against spend (issue 14, item 1): is a customer's spend associated
 * with their membership tier, income, payment method...? One test per declared attribute, corrected for
 * multiple testing across them.
 *
 * Outcome: y = log(1 + net spend) of each customer with an attributes row and at least one kept purchase line
 * up to the cutoff. Net spend is heavy-tailed; on the log scale the tests' normal-residual assumption holds
 * far better and one big spender does not decide a test.
 * - dimension (string, boolean, date): one-way ANOVA of y across the attribute's levels (Fisher 1925), effect
 *   size eta-squared and omega-squared (anova.ts). More than `maxLevels` levels: the most frequent are
 *   kept and the rest pooled as "(other)".
 * - measure (number): the regression of y on the attribute, F = r^2 (n - 2) / (1 - r^2) on (1, n - 2)
 *   degrees of freedom, effect size r^2 (and r with its sign).
 * Extension columns of transactions and events (`ext_<name>`, tested as `ext_<name>`) are tested the same way
 * over every buyer, through a per-customer value whose distribution does not depend on how many lines the
 * customer has (the number of lines grows with spend, so anything that moves with it would "find" an effect
 * in pure noise): a measure's mean over the customer's lines with a value (not a sum); a dimension's level on
 * the customer's first line with a value (by time, then file and line), not the most frequent level, which
 * drifts towards the common level as lines accumulate (on generated data the modal level of a column drawn
 * at random for each line came out "associated" with spend).
 * Customers with a missing value are left out of that attribute's test and counted (`missing`). A test
 * that cannot be run (one level, too few customers, a constant measure) says why and takes no part in the
 * correction. Both Holm (family-wise) and Benjamini-Hochberg (false discovery rate) adjusted p-values are
 * reported; `significant` uses the configured one.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlString, sqlTimestamp } from '../../lib/duck';
import { fUpperTail } from '../../lib/numeric/distributions';
import { benjaminiHochbergAdjust, holmAdjust } from '../../lib/numeric/multipleTesting';
import type { AttributeField, AttributesConfig } from '../../lib/attributesConfig';
import { oneWayAnova } from './anova';

export const OTHER_LEVEL = '(other)';

export interface AttributeLevel {
  level: string;
  customers: number;
  /** Mean net spend (currency units) of the level's customers. */
  meanSpend: number;
  /** Mean of log(1 + net spend): what the ANOVA compares. */
  meanLogSpend: number;
}

export interface AttributeTest {
  /** The attribute's name, or `ext_<name>` for an extension column. */
  attribute: string;
  /**
   * Where it comes from: the customers table, or an extension column of transactions or events (absent in
   * results written before extension columns: the customers table).
   */
  source?: 'customers' | 'transactions' | 'events';
  type: AttributeField['type'];
  role: AttributeField['role'];
  test: 'one-way ANOVA' | 'linear regression F';
  /** Customers in the test (attribute present, at least one purchase). */
  customers: number;
  /** Customers with a purchase whose value is missing (or was quarantined). */
  missing: number;
  statistic: number | null;
  df1: number | null;
  df2: number | null;
  pValue: number | null;
  pHolm: number | null;
  pBenjaminiHochberg: number | null;
  effectSize: { name: 'eta_squared' | 'r_squared'; value: number } | null;
  /** omega-squared (dimensions) or r (measures). */
  secondaryEffect: { name: 'omega_squared' | 'r'; value: number } | null;
  significant: boolean;
  levels?: AttributeLevel[];
  /** Levels pooled into "(other)" (maxLevels). */
  pooledLevels?: number;
  /** Why no test was run. */
  skipped?: string;
}

export interface AttributeTestsResult {
  outcome: string;
  correction: 'bh' | 'holm';
  alpha: number;
  /** Customers with an attributes row and at least one purchase (0 without a customers table). */
  customers: number;
  /** Buyers without an attributes row (not in any test). */
  buyersWithoutAttributes: number;
  tests: AttributeTest[];
  /** Names of the attributes whose corrected p-value is below alpha, in declaration order. */
  associated: string[];
}

/**
 * Runs every test. `transactions` is clean's kept lines; `customersTable` is clean's customers table (typed
 * attributes, one row per customer).
 */
export async function computeAttributeTests(
  duck: Duck,
  options: {
    cutoff: string;
    /** Customer attribute fields (tested when `customersTable` is given). */
    fields: readonly AttributeField[];
    tests: AttributesConfig['tests'];
    customersTable?: string;
    transactionsTable?: string;
    /** Extension columns to test (clean's ext_<name> of table `transactions` or `events`). */
    extensions?: readonly { table: 'transactions' | 'events'; field: AttributeField }[];
  },
): Promise<AttributeTestsResult> {
  const cutoff = sqlTimestamp(options.cutoff, 'attribute tests');
  const transactions = options.transactionsTable ?? 'transactions';
  await duck.run(`CREATE OR REPLACE TEMP TABLE attribute_spend AS
    SELECT customer_id, sum(amount::DECIMAL(18,4))::DOUBLE AS spend FROM ${transactions}
    WHERE ts <= ${cutoff} GROUP BY customer_id`);
  const tests: AttributeTest[] = [];
  let customers = 0;
  let without = 0;
  if (options.customersTable) {
    await duck.run(`CREATE OR REPLACE TEMP TABLE attribute_outcome AS
      SELECT a.*, s.spend, ln(1 + greatest(s.spend, 0)) AS y
      FROM ${options.customersTable} a JOIN attribute_spend s USING (customer_id)`);
    ({ customers, without } = await duck.one<{ customers: number; without: number }>(
      `SELECT (SELECT count(*) FROM attribute_outcome)::INTEGER AS customers,
              (SELECT count(*) FROM attribute_spend s WHERE NOT EXISTS
                 (SELECT 1 FROM ${options.customersTable} a WHERE a.customer_id = s.customer_id))::INTEGER AS without`,
    ));
    const subject = (f: AttributeField): Subject => ({
      source: 'customers',
      name: f.name,
      table: 'attribute_outcome',
      column: f.name,
    });
    for (const field of options.fields) {
      tests.push(
        field.role === 'dimension'
          ? await dimensionTest(duck, field, options.tests.maxLevels, customers, subject(field))
          : await measureTest(duck, field, customers, subject(field)),
      );
    }
  }
  const extensions = options.extensions ?? [];
  if (extensions.length > 0) {
    const { buyers } = await duck.one<{ buyers: number }>(
      'SELECT count(*)::INTEGER AS buyers FROM attribute_spend',
    );
    for (const [i, { table, field }] of extensions.entries()) {
      const column = sqlIdent(`ext_${field.name}`);
      const value =
        field.role === 'measure'
          ? `(sum(${column}::DECIMAL(38, 6)) / NULLIF(count(${column}), 0))::DOUBLE`
          : `first(CAST(${column} AS VARCHAR) ORDER BY ts, source_file, source_line)`;
      const perCustomer = `SELECT customer_id, ${value} AS v FROM ${table}
        WHERE ts <= ${cutoff} AND ${column} IS NOT NULL GROUP BY customer_id`;
      const outcome = `extension_outcome_${i}`;
      await duck.run(`CREATE OR REPLACE TEMP TABLE ${outcome} AS
        SELECT s.customer_id, s.spend, ln(1 + greatest(s.spend, 0)) AS y, e.v
        FROM attribute_spend s LEFT JOIN (${perCustomer}) e USING (customer_id)`);
      const subject: Subject = { source: table, name: `ext_${field.name}`, table: outcome, column: 'v' };
      tests.push(
        field.role === 'dimension'
          ? await dimensionTest(duck, field, options.tests.maxLevels, buyers, subject)
          : await measureTest(duck, field, buyers, subject),
      );
    }
  }
  const raw = Float64Array.from(tests.map((t) => t.pValue ?? NaN));
  const holm = holmAdjust(raw);
  const bh = benjaminiHochbergAdjust(raw);
  for (const [i, t] of tests.entries()) {
    t.pHolm = Number.isNaN(holm[i]) ? null : holm[i];
    t.pBenjaminiHochberg = Number.isNaN(bh[i]) ? null : bh[i];
    const corrected = options.tests.correction === 'holm' ? t.pHolm : t.pBenjaminiHochberg;
    t.significant = corrected !== null && corrected < options.tests.alpha;
  }
  return {
    outcome: 'log(1 + net spend up to the cutoff) per customer with at least one kept purchase line',
    correction: options.tests.correction,
    alpha: options.tests.alpha,
    customers,
    buyersWithoutAttributes: without,
    tests,
    associated: tests.filter((t) => t.significant).map((t) => t.attribute),
  };
}

/** What a test reads: a column of an outcome table (customer_id, spend, y and the subject's value). */
interface Subject {
  source: AttributeTest['source'];
  /** The name the test reports. */
  name: string;
  table: string;
  column: string;
}

function emptyTest(
  field: AttributeField,
  subject: Subject,
  test: AttributeTest['test'],
  n: number,
  missing: number,
): AttributeTest {
  return {
    attribute: subject.name,
    source: subject.source,
    type: field.type,
    role: field.role,
    test,
    customers: n,
    missing,
    statistic: null,
    df1: null,
    df2: null,
    pValue: null,
    pHolm: null,
    pBenjaminiHochberg: null,
    effectSize: null,
    secondaryEffect: null,
    significant: false,
  };
}

async function dimensionTest(
  duck: Duck,
  field: AttributeField,
  maxLevels: number,
  customers: number,
  subject: Subject,
): Promise<AttributeTest> {
  const column = sqlIdent(subject.column);
  const from = subject.table;
  // Levels by frequency (ties by name), the first maxLevels kept; with more, the kept ones leave room for
  // "(other)" so the test has at most maxLevels groups.
  const rows = await duck.all<{ level: string; n: number; mean_spend: number; mean_y: number; ss: number }>(
    `WITH present AS (SELECT CAST(${column} AS VARCHAR) AS raw_level, spend, y FROM ${from} WHERE ${column} IS NOT NULL),
     ranked AS (SELECT raw_level, row_number() OVER (ORDER BY count(*) DESC, raw_level) AS rank, count(*) OVER () AS levels
                FROM present GROUP BY raw_level),
     labelled AS (SELECT CASE WHEN r.levels <= ${maxLevels} OR r.rank < ${maxLevels} THEN p.raw_level ELSE ${sqlString(OTHER_LEVEL)} END AS level, p.spend, p.y
                  FROM present p JOIN ranked r USING (raw_level))
     SELECT level, count(*)::INTEGER AS n, avg(spend) AS mean_spend, avg(y) AS mean_y,
            coalesce(var_pop(y) * count(*), 0) AS ss
     FROM labelled GROUP BY level ORDER BY level = ${sqlString(OTHER_LEVEL)}, n DESC, level`,
  );
  const { distinct } = await duck.one<{ distinct: number }>(
    `SELECT count(DISTINCT ${column})::INTEGER AS distinct FROM ${from}`,
  );
  const n = rows.reduce((a, r) => a + r.n, 0);
  const test = emptyTest(field, subject, 'one-way ANOVA', n, customers - n);
  test.levels = rows.map((r) => ({
    level: r.level,
    customers: r.n,
    meanSpend: r.mean_spend,
    meanLogSpend: r.mean_y,
  }));
  if (distinct > rows.length) test.pooledLevels = distinct - rows.length + 1;
  if (rows.length < 2) return { ...test, skipped: `fewer than two levels among ${n} customers` };
  if (n - rows.length < 1) return { ...test, skipped: `too few customers (${n}) for ${rows.length} levels` };
  const anova = oneWayAnova(rows.map((r) => ({ n: r.n, mean: r.mean_y, ssWithin: r.ss })));
  if (anova.f === null || anova.pValue === null)
    return { ...test, skipped: 'no spread within the levels (every customer of a level spends the same)' };
  return {
    ...test,
    statistic: anova.f,
    df1: anova.dfBetween,
    df2: anova.dfWithin,
    pValue: anova.pValue,
    effectSize: { name: 'eta_squared', value: anova.etaSquared },
    secondaryEffect: { name: 'omega_squared', value: anova.omegaSquared },
  };
}

async function measureTest(
  duck: Duck,
  field: AttributeField,
  customers: number,
  subject: Subject,
): Promise<AttributeTest> {
  const column = sqlIdent(subject.column);
  const { n, r } = await duck.one<{ n: number; r: number | null }>(
    `SELECT count(*)::INTEGER AS n, corr(${column}, y) AS r FROM ${subject.table} WHERE ${column} IS NOT NULL`,
  );
  const test = emptyTest(field, subject, 'linear regression F', n, customers - n);
  if (n < 3) return { ...test, skipped: `too few customers (${n}) with a value` };
  if (r === null || !Number.isFinite(r)) return { ...test, skipped: 'the measure (or spend) is constant' };
  const r2 = Math.min(1, r * r);
  const df2 = n - 2;
  const f = r2 >= 1 ? Infinity : (r2 * df2) / (1 - r2); // a perfect fit: p = 0, no finite F
  return {
    ...test,
    statistic: Number.isFinite(f) ? f : null,
    df1: 1,
    df2,
    pValue: Number.isFinite(f) ? fUpperTail(f, 1, df2) : 0,
    effectSize: { name: 'r_squared', value: r2 },
    secondaryEffect: { name: 'r', value: r },
  };
}
