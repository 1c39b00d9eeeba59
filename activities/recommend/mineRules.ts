/**
 * The "what goes together" half of the stage: association rules at product and category level, each
 * persona's bundles and the add-on attachment rates, over every order up to the cutoff (rules.ts does the
 * mining; this module runs it in the stage's order and says what was left out).
 */
import type { Duck } from '../../lib/duck';
import { orderGroups } from './audience';
import type { BasketCounts } from './baskets';
import type { RecommendConfig } from '../../lib/stageConfig/recommend';
import {
  attachmentRates,
  createRulesTable,
  mineLevel,
  personaBundles,
  type LevelMiningSummary,
  type PersonaAttachment,
} from './rules';

/** What {@link mineRulesAndBundles} found; the rules are in rec_rules and the bundles in rec_bundles. */
export interface RulesAndBundles {
  mining: LevelMiningSummary[];
  attachment: PersonaAttachment[];
}

/**
 * Mine rec_rules (product level, then category level when there are two categories or more), rec_bundles
 * per persona (segmentsTable's, or one group of every customer) and the attachment rates. `notes` gets a
 * sentence for each part left out.
 */
export async function mineRulesAndBundles(
  duck: Duck,
  options: {
    counts: BasketCounts;
    config: RecommendConfig;
    segmentsTable?: string;
    notes: string[];
    heartbeat: (detail: unknown) => void;
  },
): Promise<RulesAndBundles> {
  const { counts, config, notes } = options;
  await orderGroups(duck, options.segmentsTable);
  await createRulesTable(duck);
  const thresholds = {
    minSupport: config.minSupport,
    minOrders: config.minOrders,
    minConfidence: config.minConfidence,
    minLift: config.minLift,
    maxItemsetSize: config.maxItemsetSize,
  };
  const mining: LevelMiningSummary[] = [];
  if (counts.orders === 0) {
    notes.push('no merchandise purchase orders up to the cutoff: no rules, bundles or recommendations');
    await duck.run(`CREATE OR REPLACE TABLE rec_bundles (persona VARCHAR, rank INTEGER, a INTEGER, b INTEGER,
      orders BIGINT, persona_orders BIGINT, support DOUBLE, confidence_ab DOUBLE, confidence_ba DOUBLE, lift DOUBLE)`);
    return { mining, attachment: [] };
  }
  mining.push(
    await mineLevel(duck, {
      basketTable: 'rec_basket',
      level: 'product',
      thresholds,
      orderGroups: 'rec_order_groups',
      orders: counts.orders,
    }),
  );
  options.heartbeat({ step: 'productRules' });
  if (counts.categories > 1) {
    mining.push(await mineLevel(duck, { basketTable: 'rec_category_basket', level: 'category', thresholds }));
  } else {
    notes.push('no category rules: the products have fewer than two categories');
  }
  await personaBundles(duck, {
    orderGroups: 'rec_order_groups',
    thresholds,
    perPersona: config.bundlesPerPersona,
  });
  return { mining, attachment: await attachmentRates(duck, 'rec_order_groups') };
}
