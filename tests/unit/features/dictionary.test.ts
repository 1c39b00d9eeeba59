import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  FEATURE_DICTIONARY,
  featureDefinitions,
  featureDictionaryDocument,
  SEASON_KEYS,
  WEEKDAY_KEYS,
} from '../../../activities/features/dictionary';

/** Markdown with table cells trimmed and separator rows reduced, so that Prettier's column padding is ignored. */
function normalizeMarkdown(text: string): string {
  return text
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split('|')
            .map((cell) => cell.trim().replace(/^-{3,}$/, '---'))
            .join('|')
        : line.trimEnd(),
    )
    .join('\n')
    .trim();
}

describe('feature dictionary', () => {
  it('documents at least 25 transaction features, plus event features, with unique snake_case names', () => {
    const transactionFeatures = featureDefinitions(false);
    expect(transactionFeatures.length).toBeGreaterThanOrEqual(25);
    expect(FEATURE_DICTIONARY.length - transactionFeatures.length).toBeGreaterThanOrEqual(5);
    const names = FEATURE_DICTIONARY.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of FEATURE_DICTIONARY) {
      expect(f.name).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      expect(f.definition.length).toBeGreaterThan(20);
      expect(f.unit.length).toBeGreaterThan(0);
    }
    // the list: recency, frequency, monetary (total, mean, max), tenure, inter-purchase (mean, std), ...
    for (const required of [
      'recency_days',
      'frequency_orders',
      'monetary_total',
      'monetary_mean_order',
      'monetary_max_order',
      'tenure_days',
      'ipt_mean_days',
      'ipt_std_days',
      'orders_per_active_month',
      'items_per_order',
      'distinct_products',
      'distinct_categories',
      'return_rate',
      'returned_value',
      'spend_trend',
      'view_to_cart_rate',
      'cart_completion_rate',
      ...WEEKDAY_KEYS.map((k) => `spend_share_${k}`),
      ...SEASON_KEYS.map((k) => `spend_share_${k}`),
    ]) {
      expect(names).toContain(required);
    }
    // event features come last, so the transaction features are a prefix of every table
    expect(FEATURE_DICTIONARY.slice(0, transactionFeatures.length).every((f) => !f.requiresEvents)).toBe(
      true,
    );
  });

  it('ships as activities/features/FEATURES.md, equal to the generated document', async () => {
    const shipped = await readFile(
      new URL('../../../activities/features/FEATURES.md', import.meta.url),
      'utf8',
    );
    expect(normalizeMarkdown(shipped)).toBe(normalizeMarkdown(featureDictionaryDocument()));
  });
});
