/**
 * The feature dictionary: every column of `customer_features` with its definition and unit. It ships in the
 * report as written here, so each definition states exactly what the SQL in customerFeatures.ts computes,
 * including the neutral value used where a feature is undefined (features are never NULL).
 *
 * Terms used below: a purchase line has amount > 0, a return line amount < 0; an order is one order_id of a
 * customer, its value the net sum of its lines, its time its first line's; a purchase order has value > 0.
 * "Gross spend" is the sum of purchase-line amounts; "net spend" adds the (negative) return lines. Spend by
 * weekday, season or window goes by order time (an order's lines share one timestamp in practice). Days are
 * UTC calendar days; "the cutoff" is the last instant of the run's month. Weekdays and seasons use the UTC
 * timestamp; seasons are meteorological, northern hemisphere (winter = Dec-Feb, spring = Mar-May, ...).
 */

/** One feature: its column name, what it measures, its unit, and whether it is right-skewed. */
export interface FeatureDefinition {
  /** Column name in customer_features (snake_case). */
  name: string;
  /** Exact definition, including the neutral value where undefined. */
  definition: string;
  /** Unit of the value (days, orders, currency, share, ...). */
  unit: string;
  /** Money- or count-like and right-skewed: downstream models take log1p before distance or scaling. */
  skewed: boolean;
  /** Only present when the dataset has a browsing-events table. */
  requiresEvents?: boolean;
}

const WEEKDAYS = [
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
] as const;

const SEASONS = [
  ['winter', 'December to February'],
  ['spring', 'March to May'],
  ['summer', 'June to August'],
  ['autumn', 'September to November'],
] as const;

/** Weekday suffixes of the spend_share_* features, Monday first (ISO order). */
export const WEEKDAY_KEYS: readonly string[] = WEEKDAYS.map(([key]) => key);
/** Season suffixes of the spend_share_* features. */
export const SEASON_KEYS: readonly string[] = SEASONS.map(([key]) => key);

/** Every feature column, transaction-based first, then the event-based ones. */
export const FEATURE_DICTIONARY: readonly FeatureDefinition[] = [
  {
    name: 'recency_days',
    definition:
      'Calendar days from the date of the last purchase order to the cutoff date (0 = bought on the cutoff day).',
    unit: 'days',
    skewed: true,
  },
  {
    name: 'tenure_days',
    definition: 'Calendar days from the date of the first purchase order to the cutoff date.',
    unit: 'days',
    skewed: false,
  },
  {
    name: 'frequency_orders',
    definition: 'Number of purchase orders (distinct order ids with positive net value) up to the cutoff.',
    unit: 'orders',
    skewed: true,
  },
  {
    name: 'active_months',
    definition: 'Number of distinct calendar months with at least one purchase order.',
    unit: 'months',
    skewed: true,
  },
  {
    name: 'monetary_total',
    definition:
      'Net spend: sum of all line amounts, purchases minus returns, floored at 0 (returns of goods bought before the data starts can exceed purchases).',
    unit: 'currency',
    skewed: true,
  },
  {
    name: 'monetary_mean_order',
    definition: 'Mean value of the purchase orders (average order value).',
    unit: 'currency per order',
    skewed: true,
  },
  {
    name: 'monetary_max_order',
    definition: 'Largest purchase-order value.',
    unit: 'currency',
    skewed: true,
  },
  {
    name: 'ipt_mean_days',
    definition:
      'Mean inter-purchase time: mean gap in days (fractional, from timestamps) between consecutive purchase orders. With a single order: tenure_days (the time already waited without a repeat, a lower bound).',
    unit: 'days',
    skewed: true,
  },
  {
    name: 'ipt_std_days',
    definition:
      'Sample standard deviation (n - 1) of the gaps between consecutive purchase orders; 0 with fewer than 3 orders (fewer than 2 gaps).',
    unit: 'days',
    skewed: true,
  },
  {
    name: 'orders_per_active_month',
    definition: 'frequency_orders / active_months (at least 1).',
    unit: 'orders per month',
    skewed: true,
  },
  {
    name: 'orders_per_month',
    definition:
      'frequency_orders divided by tenure in months, where tenure in months = max(tenure_days, 30.4375) / 30.4375.',
    unit: 'orders per month',
    skewed: true,
  },
  {
    name: 'items_per_order',
    definition:
      'Mean number of units per purchase order: sum of merchandise line quantities of the purchase orders / frequency_orders.',
    unit: 'units per order',
    skewed: true,
  },
  {
    name: 'lines_per_order',
    definition: 'Mean number of merchandise lines (basket breadth) per purchase order.',
    unit: 'lines per order',
    skewed: true,
  },
  {
    name: 'avg_unit_price',
    definition:
      'Gross merchandise spend / units bought over merchandise purchase lines (unit-weighted mean price paid).',
    unit: 'currency per unit',
    skewed: true,
  },
  {
    name: 'distinct_products',
    definition: 'Number of distinct product ids on merchandise purchase lines.',
    unit: 'products',
    skewed: true,
  },
  {
    name: 'distinct_categories',
    definition:
      'Number of distinct non-null categories on merchandise purchase lines (0 when the data has no categories).',
    unit: 'categories',
    skewed: true,
  },
  {
    name: 'return_rate',
    definition: 'Returned value / gross spend, capped at 1 (0 = never returned anything).',
    unit: 'share (0-1)',
    skewed: false,
  },
  {
    name: 'returned_value',
    definition: 'Value of returned goods: minus the sum of return-line amounts (0 when none).',
    unit: 'currency',
    skewed: true,
  },
  {
    name: 'returned_orders',
    definition: 'Number of orders that contain at least one return line.',
    unit: 'orders',
    skewed: true,
  },
  ...WEEKDAYS.map(([key, day]): FeatureDefinition => ({
    name: `spend_share_${key}`,
    definition: `Share of gross spend in orders placed on a ${day} (UTC, order time). The seven weekday shares sum to 1.`,
    unit: 'share (0-1)',
    skewed: false,
  })),
  ...SEASONS.map(([key, months]): FeatureDefinition => ({
    name: `spend_share_${key}`,
    definition: `Share of gross spend in orders placed ${months} (any year). The four season shares sum to 1.`,
    unit: 'share (0-1)',
    skewed: false,
  })),
  {
    name: 'spend_last_90d',
    definition:
      'Gross spend in orders placed in the 90 days up to the cutoff: order time in (cutoff - 90 days, cutoff].',
    unit: 'currency',
    skewed: true,
  },
  {
    name: 'spend_prev_90d',
    definition:
      'Gross spend in orders placed in the 90 days before those: order time in (cutoff - 180 days, cutoff - 90 days].',
    unit: 'currency',
    skewed: true,
  },
  {
    name: 'spend_trend',
    definition:
      'Spend trend (last - prev) / (last + prev) of spend_last_90d and spend_prev_90d: +1 all recent, -1 stopped, 0 flat or no spend in either window.',
    unit: 'ratio (-1 to 1)',
    skewed: false,
  },
  {
    name: 'sessions',
    definition:
      'Number of browsing sessions (distinct session ids) up to the cutoff; 0 when the customer has no events.',
    unit: 'sessions',
    skewed: true,
    requiresEvents: true,
  },
  {
    name: 'views_per_session',
    definition: "Number of 'view' events / sessions (0 without sessions).",
    unit: 'views per session',
    skewed: true,
    requiresEvents: true,
  },
  {
    name: 'view_to_cart_rate',
    definition: "Browsing ratio: 'add_to_cart' events / 'view' events, capped at 1 (0 without views).",
    unit: 'share (0-1)',
    skewed: false,
    requiresEvents: true,
  },
  {
    name: 'session_conversion_rate',
    definition: "Share of sessions with at least one 'purchase' event (0 without sessions).",
    unit: 'share (0-1)',
    skewed: false,
    requiresEvents: true,
  },
  {
    name: 'cart_completion_rate',
    definition:
      "Cart completion: share of sessions with an 'add_to_cart' event that also have a 'purchase' event (0 when the customer never added to cart).",
    unit: 'share (0-1)',
    skewed: false,
    requiresEvents: true,
  },
  {
    name: 'browse_only_share',
    definition:
      "Share of sessions with neither an 'add_to_cart' nor a 'purchase' event (0 without sessions).",
    unit: 'share (0-1)',
    skewed: false,
    requiresEvents: true,
  },
];

/** The features computed for a dataset: transaction-based always, event-based when events exist. */
export function featureDefinitions(hasEvents: boolean): FeatureDefinition[] {
  return FEATURE_DICTIONARY.filter((f) => hasEvents || !f.requiresEvents);
}

/** The dictionary as a Markdown table (feature, definition, unit, skewed, needs) for the report. */
export function featureDictionaryMarkdown(hasEvents = true): string {
  const rows = featureDefinitions(hasEvents).map(
    (f) =>
      `| \`${f.name}\` | ${f.definition.replaceAll('|', '\\|')} | ${f.unit} | ${f.skewed ? 'yes' : 'no'} | ${f.requiresEvents ? 'events' : ''} |`,
  );
  return [
    '| feature | definition | unit | skewed | needs |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** The whole of activities/features/FEATURES.md (a unit test keeps the file equal to it). */
export function featureDictionaryDocument(): string {
  return `# Customer features

<!-- Generated from activities/features/dictionary.ts (featureDictionaryDocument); a unit test keeps them equal. -->

One row per customer with at least one purchase order as of the run's cutoff (table \`customer_features\`, ordered
by \`customer_id\`). Every feature is a non-NULL DOUBLE. Skewed features (money, counts) are the ones models
log1p-transform before distances or scaling. Event features exist only for datasets with browsing events.

Terms: a purchase line has amount > 0, a return line amount < 0. An order is one order id of a customer (a
missing order id makes one order per timestamp); its value is the net sum of its lines, its time its first
line's. A purchase order has value > 0. Gross spend is the sum of purchase-line amounts; net spend adds the
return lines. Days are UTC calendar days; seasons are meteorological, northern hemisphere.

Non-merchandise lines (clean's \`line_kind = 'non_merchandise'\`: postage, carriage, fees, discounts, manual
adjustments, vouchers; the codes come from the format and \`clean.nonMerchandiseCodes\`) are money the customer
paid but not goods. They count in every money feature (order values and counts, \`monetary_*\`, spend shares,
\`spend_*_90d\`, returns, recency and frequency) and in the daily revenue, KPIs and cohorts. They are left out of
what describes the goods: \`items_per_order\`, \`lines_per_order\`, \`avg_unit_price\`, \`distinct_products\`,
\`distinct_categories\`, the \`category_share_*\` columns, the category insight tests, and the report's product
rankings.

Datasets that declare more than the canonical columns (the \`attributes\` config) get further columns, each
defined in the run's \`feature_dictionary.json\` (activities/features/extensionFeatures.ts):

- extension columns of transactions and events (\`attributes.transactions\` / \`attributes.events\`): a
  measure as \`ext_<name>_sum\` and \`ext_<name>_mean\` over the customer's lines (the mean over lines with a
  value; 0 when none); a dimension as \`ext_<name>_share_<level>\`, the share of the customer's lines with a
  value at that level, for the \`attributes.featureLevels\` most frequent levels (default 8), the rest in
  \`ext_<name>_share_other\`;
- customer attributes (\`attributes.customers\`): a measure as \`attr_<name>\` (missing: the median over
  buyers with a value); a dimension one-hot against its most frequent level, the reference, which has no
  column (\`attr_<name>_<level>\`, \`attr_<name>_other\`); \`attr_<name>_missing\` is 1 for a buyer without
  a value. They enter segmentation only when listed in \`segment.features\`.

${featureDictionaryMarkdown(true)}
`;
}
