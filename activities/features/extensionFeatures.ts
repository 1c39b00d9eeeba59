/**
 * Customer features from what a dataset declares beyond the canonical columns (issue 14, item 1):
 *
 * - extension columns of transactions and events (clean's `ext_<name>`), over the customer's lines up to
 *   the cutoff: a measure as `ext_<name>_sum` and `ext_<name>_mean` (over the lines with a value; 0 when
 *   none); a dimension as `ext_<name>_share_<level>`, the share of the customer's lines with a value that
 *   have that level, for the dataset's most frequent levels (attributes.featureLevels), the rest pooled as
 *   `ext_<name>_share_other`;
 * - customer attributes (clean's customers table): a measure as `attr_<name>` (a missing value takes the
 *   median over buyers with one, and `attr_<name>_missing` says so); a dimension one-hot against a
 *   reference level, its most frequent one (`attr_<name>_<level>` for the other kept levels,
 *   `attr_<name>_other` for the pooled rest, `attr_<name>_missing` when some buyer has none).
 *
 * Which levels (and the reference, the medians) is a decision over the whole data: a sharded run takes the
 * plan once (prepare) and gives it to every shard. Sums and means go through DECIMAL(38,6), shares are
 * ratios of counts: the same bytes whatever the thread split. Every column is defined in the dictionary.
 */
import type { AttributeField, AttributesConfig } from '../../lib/attributesConfig';
import { EXTENSION_PREFIX } from '../../lib/attributesConfig';
import type { FeatureDefinition } from '../../lib/customerFeatures/dictionary';
import { sqlIdent, sqlString, sqlTimestamp, withDuck, type Duck } from '../../lib/duck';
import { categorySlug } from './categoryShares';

export interface LevelPlan {
  /** Kept levels with their column slugs, most frequent first. */
  levels: { level: string; slug: string }[];
  /** More levels exist than were kept: an "other" column. */
  other: boolean;
}

export interface ExtensionFieldPlan {
  table: 'transactions' | 'events';
  field: AttributeField;
  /** Dimensions only. */
  levels?: LevelPlan;
}

export interface AttributeFieldPlan {
  field: AttributeField;
  /** Dimensions: the reference level (no column) and the one-hot levels. */
  reference?: string;
  levels?: LevelPlan;
  /** Measures: the median over buyers with a value (what a missing value takes). */
  median?: number;
  /** Some buyer lacks a value: an `attr_<name>_missing` column. */
  missing: boolean;
}

/** The whole-data decisions every shard applies the same way (JSON: it crosses Temporal in a sharded run). */
export interface ExtensionFeaturePlan {
  extensions: ExtensionFieldPlan[];
  attributes: AttributeFieldPlan[];
}

export const EMPTY_EXTENSION_PLAN: ExtensionFeaturePlan = { extensions: [], attributes: [] };

async function columnsOf(duck: Duck, table: string): Promise<string[]> {
  return (await duck.all<{ column_name: string }>(`DESCRIBE ${table}`)).map((c) => c.column_name);
}

const extColumn = (f: AttributeField): string => `${EXTENSION_PREFIX}${f.name}`;

function levelPlan(rows: readonly { level: string }[], prefix: string, max: number): LevelPlan {
  const kept = rows.slice(0, max);
  const slugs: { level: string; slug: string }[] = [];
  for (const { level } of kept) {
    let slug = `${prefix}${categorySlug(level)}`;
    while (slugs.some((s) => s.slug === slug) || slug === `${prefix}other` || slug === `${prefix}missing`)
      slug += '_';
    slugs.push({ level, slug });
  }
  return { levels: slugs, other: rows.length > kept.length };
}

/**
 * The plan from the whole data: tables `transactions` (and `events`) with clean's ext_ columns, and
 * `customersTable` (clean's customers table) when the dataset has one.
 */
export async function planExtensionFeatures(
  duck: Duck,
  options: {
    cutoff: string;
    attributes: AttributesConfig | undefined;
    hasEvents: boolean;
    customersTable?: string;
  },
): Promise<ExtensionFeaturePlan> {
  const attributes = options.attributes;
  if (!attributes) return EMPTY_EXTENSION_PLAN;
  const cutoff = sqlTimestamp(options.cutoff, 'extension features');
  const max = attributes.featureLevels;
  const extensions: ExtensionFieldPlan[] = [];
  for (const table of ['transactions', 'events'] as const) {
    if (table === 'events' && !options.hasEvents) continue;
    const present = await columnsOf(duck, table);
    for (const field of attributes[table]?.fields ?? []) {
      const column = extColumn(field);
      if (!present.includes(column)) continue; // declared, but no file of this dataset delivered it
      if (field.role === 'measure') {
        extensions.push({ table, field });
        continue;
      }
      const rows = await duck.all<{ level: string }>(
        `SELECT CAST(${sqlIdent(column)} AS VARCHAR) AS level FROM ${table}
         WHERE ${sqlIdent(column)} IS NOT NULL AND ts <= ${cutoff} AND customer_id IS NOT NULL
         GROUP BY ALL ORDER BY count(*) DESC, level`,
      );
      extensions.push({ table, field, levels: levelPlan(rows, `${column}_share_`, max) });
    }
  }
  const plannedAttributes: AttributeFieldPlan[] = [];
  if (options.customersTable && attributes.customers) {
    // Buyers only: the feature table has one row per customer with a purchase.
    const buyers = `(SELECT a.* FROM ${options.customersTable} a
                     WHERE EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = a.customer_id AND t.ts <= ${cutoff}))`;
    const { buyerCount } = await duck.one<{ buyerCount: number }>(
      `SELECT count(DISTINCT customer_id)::INTEGER AS "buyerCount" FROM transactions WHERE ts <= ${cutoff}`,
    );
    for (const field of attributes.customers.fields) {
      const column = sqlIdent(field.name);
      const { valued } = await duck.one<{ valued: number }>(
        `SELECT count(${column})::INTEGER AS valued FROM ${buyers}`,
      );
      const missing = valued < buyerCount;
      if (field.role === 'measure') {
        const { median } = await duck.one<{ median: number | null }>(
          `SELECT quantile_disc(${column}, 0.5)::DOUBLE AS median FROM ${buyers}`,
        );
        plannedAttributes.push({ field, median: median ?? 0, missing });
        continue;
      }
      const rows = await duck.all<{ level: string }>(
        `SELECT CAST(${column} AS VARCHAR) AS level FROM ${buyers} WHERE ${column} IS NOT NULL
         GROUP BY ALL ORDER BY count(*) DESC, level`,
      );
      if (rows.length === 0) {
        plannedAttributes.push({ field, missing });
        continue;
      }
      plannedAttributes.push({
        field,
        reference: rows[0].level,
        levels: levelPlan(rows.slice(1), `attr_${field.name}_`, max - 1),
        missing,
      });
    }
  }
  return { extensions, attributes: plannedAttributes };
}

export interface ExtensionFeatureResult {
  featureNames: string[];
  definitions: FeatureDefinition[];
}

const money = (sql: string): string => `(${sql})::DECIMAL(38, 6)`;

/** Adds the plan's columns to `featuresTable` (one row per customer, customer_id). */
export async function addExtensionFeatures(
  duck: Duck,
  options: {
    cutoff: string;
    plan: ExtensionFeaturePlan;
    featuresTable: string;
    customersTable?: string;
  },
): Promise<ExtensionFeatureResult> {
  const { plan, featuresTable } = options;
  if (plan.extensions.length === 0 && plan.attributes.length === 0)
    return { featureNames: [], definitions: [] };
  const cutoff = sqlTimestamp(options.cutoff, 'extension features');
  const definitions: FeatureDefinition[] = [];
  const joins: string[] = [];
  const selects: string[] = [];
  for (const table of ['transactions', 'events'] as const) {
    const fields = plan.extensions.filter((e) => e.table === table);
    if (fields.length === 0) continue;
    const aggregates: string[] = [];
    const lines = table === 'transactions' ? 'purchase and return lines' : 'browsing events';
    for (const { field, levels } of fields) {
      const column = sqlIdent(extColumn(field));
      const name = extColumn(field);
      if (!levels) {
        aggregates.push(
          `sum(${money(column)})::DOUBLE AS ${sqlIdent(`${name}_sum`)}`,
          `(sum(${money(column)}) / NULLIF(count(${column}), 0))::DOUBLE AS ${sqlIdent(`${name}_mean`)}`,
        );
        selects.push(
          `COALESCE(${table}_ext.${sqlIdent(`${name}_sum`)}, 0) AS ${sqlIdent(`${name}_sum`)}`,
          `COALESCE(${table}_ext.${sqlIdent(`${name}_mean`)}, 0) AS ${sqlIdent(`${name}_mean`)}`,
        );
        definitions.push(
          {
            name: `${name}_sum`,
            definition: `sum of ${table} extension column "${field.name}" (a measure) over the customer's ${lines} up to the cutoff; 0 when none has a value`,
            unit: field.name,
            skewed: true,
          },
          {
            name: `${name}_mean`,
            definition: `mean of ${table} extension column "${field.name}" over the customer's ${lines} with a value up to the cutoff; 0 when none has one`,
            unit: field.name,
            skewed: false,
          },
        );
        continue;
      }
      const shareOf = (condition: string, slug: string): void => {
        aggregates.push(
          `(count(*) FILTER (WHERE ${condition}) / NULLIF(count(${column}), 0))::DOUBLE AS ${sqlIdent(slug)}`,
        );
        selects.push(`COALESCE(${table}_ext.${sqlIdent(slug)}, 0) AS ${sqlIdent(slug)}`);
      };
      const keptLevels = levels.levels.map((l) => l.level);
      for (const { level, slug } of levels.levels) {
        shareOf(`CAST(${column} AS VARCHAR) = ${sqlString(level)}`, slug);
        definitions.push({
          name: slug,
          definition: `share of the customer's ${lines} with a value of ${table} extension column "${field.name}" that have level "${level}" (up to the cutoff; 0 when none has a value)`,
          unit: 'share',
          skewed: false,
        });
      }
      if (levels.other) {
        const slug = `${name}_share_other`;
        shareOf(
          `${column} IS NOT NULL AND CAST(${column} AS VARCHAR) NOT IN (${keptLevels.map(sqlString).join(', ')})`,
          slug,
        );
        definitions.push({
          name: slug,
          definition: `share of the customer's ${lines} with a value of ${table} extension column "${field.name}" at a level beyond the dataset's ${keptLevels.length} most frequent`,
          unit: 'share',
          skewed: false,
        });
      }
    }
    await duck.run(`CREATE OR REPLACE TEMP TABLE ${table}_ext AS
      SELECT customer_id, ${aggregates.join(', ')} FROM ${table}
      WHERE ts <= ${cutoff} AND customer_id IS NOT NULL GROUP BY customer_id`);
    joins.push(`LEFT JOIN ${table}_ext USING (customer_id)`);
  }
  if (plan.attributes.length > 0) {
    if (!options.customersTable) throw new Error('attribute features planned without a customers table');
    joins.push(`LEFT JOIN ${options.customersTable} attr USING (customer_id)`);
    for (const p of plan.attributes) {
      const column = `attr.${sqlIdent(p.field.name)}`;
      const base = `attr_${p.field.name}`;
      if (p.field.role === 'measure') {
        selects.push(`COALESCE(${column}, ${p.median ?? 0})::DOUBLE AS ${sqlIdent(base)}`);
        definitions.push({
          name: base,
          definition: `customer attribute "${p.field.name}" (a measure) as delivered; a customer without a value takes the median over buyers with one (${p.median ?? 0})`,
          unit: p.field.name,
          skewed: false,
        });
      } else if (p.levels) {
        const text = `CAST(${column} AS VARCHAR)`;
        for (const { level, slug } of p.levels.levels) {
          selects.push(
            `(${text} IS NOT DISTINCT FROM ${sqlString(level)})::INTEGER::DOUBLE AS ${sqlIdent(slug)}`,
          );
          definitions.push({
            name: slug,
            definition: `1 when customer attribute "${p.field.name}" is "${level}", else 0 (reference level: "${p.reference}")`,
            unit: 'indicator',
            skewed: false,
          });
        }
        if (p.levels.other) {
          const kept = [p.reference ?? '', ...p.levels.levels.map((l) => l.level)];
          selects.push(
            `(${column} IS NOT NULL AND ${text} NOT IN (${kept.map(sqlString).join(', ')}))::INTEGER::DOUBLE AS ${sqlIdent(`${base}_other`)}`,
          );
          definitions.push({
            name: `${base}_other`,
            definition: `1 when customer attribute "${p.field.name}" is a level beyond the ${kept.length} most frequent, else 0 (reference level: "${p.reference}")`,
            unit: 'indicator',
            skewed: false,
          });
        }
      }
      if (p.missing) {
        selects.push(`(${column} IS NULL)::INTEGER::DOUBLE AS ${sqlIdent(`${base}_missing`)}`);
        definitions.push({
          name: `${base}_missing`,
          definition: `1 when the customer has no value of attribute "${p.field.name}" (no customers row, an empty cell, or a value quarantined by ingest), else 0`,
          unit: 'indicator',
          skewed: false,
        });
      }
    }
  }
  await duck.run(`CREATE OR REPLACE TABLE ${featuresTable}_extended AS
    SELECT f.*, ${selects.join(', ')} FROM ${featuresTable} f ${joins.join(' ')} ORDER BY f.customer_id`);
  await duck.run(`DROP TABLE ${featuresTable}`);
  await duck.run(`ALTER TABLE ${featuresTable}_extended RENAME TO ${featuresTable}`);
  return { featureNames: definitions.map((d) => d.name), definitions };
}

/**
 * The plan from clean's whole files (a sharded run's prepare step), in a DuckDB of its own: undefined when
 * the dataset declares nothing beyond the canonical columns.
 */
export async function planExtensionFeaturesFromFiles(options: {
  cutoff: string;
  attributes: AttributesConfig | undefined;
  transactionsPath: string;
  eventsPath?: string;
  customersPath?: string;
  tempDirectory: string;
}): Promise<ExtensionFeaturePlan | undefined> {
  if (!options.attributes) return undefined;
  return withDuck(
    async (duck) => {
      await duck.run(
        `CREATE VIEW transactions AS SELECT * FROM read_parquet(${sqlString(options.transactionsPath)})`,
      );
      if (options.eventsPath)
        await duck.run(`CREATE VIEW events AS SELECT * FROM read_parquet(${sqlString(options.eventsPath)})`);
      if (options.customersPath)
        await duck.run(
          `CREATE VIEW customer_attributes AS SELECT * FROM read_parquet(${sqlString(options.customersPath)})`,
        );
      return planExtensionFeatures(duck, {
        cutoff: options.cutoff,
        attributes: options.attributes,
        hasEvents: options.eventsPath !== undefined,
        ...(options.customersPath ? { customersTable: 'customer_attributes' } : {}),
      });
    },
    { tempDirectory: options.tempDirectory },
  );
}
