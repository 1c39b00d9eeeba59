/**
 * The `segment.personas` config section: persona naming rules as data, and the default rules. The matching
 * (and what each rule means) is segment's, in activities/segment/personaRules.ts; the schema lives here
 * because the run config (lib/config.ts) assembles every stage's section and lib does not import stages.
 */
import { z } from 'zod';

const LEVEL = z.enum(['low', 'typical', 'high']);
const oneOrMany = <T extends z.ZodTypeAny>(schema: T) =>
  z.union([schema, z.array(schema).min(1)]).describe('a value or a list of accepted values');

/** One condition set: every listed trait must have one of the listed values. */
export const personaConditionSchema = z
  .object({
    recency: oneOrMany(LEVEL).optional(),
    frequency: oneOrMany(LEVEL).optional(),
    monetary: oneOrMany(LEVEL).optional(),
    avgOrderValue: oneOrMany(LEVEL).optional(),
    tenure: oneOrMany(LEVEL).optional(),
    returnRate: oneOrMany(LEVEL).optional(),
    discountShare: oneOrMany(LEVEL).optional(),
    basketSize: oneOrMany(LEVEL).optional(),
    categoryBreadth: oneOrMany(LEVEL).optional(),
    browsing: oneOrMany(LEVEL).optional(),
    spendTrend: oneOrMany(z.enum(['declining', 'flat', 'growing'])).optional(),
    oneTimer: z.boolean().optional(),
    lapsed: z.boolean().optional(),
    isNew: z.boolean().optional(),
  })
  .strict();

export const personaRuleSchema = z
  .object({
    name: z.string().min(1).max(60),
    when: personaConditionSchema.default({}),
    whenAny: z.array(personaConditionSchema).min(1).optional(),
    /** Suggested actions; default: the built-in persona's of the same name, else none. */
    actions: z.array(z.string().min(1)).optional(),
  })
  .strict();

export type PersonaCondition = z.infer<typeof personaConditionSchema>;
export type PersonaRule = z.infer<typeof personaRuleSchema>;

/** The `segment.personas` config section (validated by the caller's schema, segment.ts). */
export const personaSettingsSchema = z
  .object({
    /** Replaces the default rules; the last must have no conditions (it names every other segment). */
    rules: z.array(personaRuleSchema).min(1).optional(),
    /** Renames personas: built-in or rule name -> the name shown. */
    names: z.record(z.string().min(1), z.string().min(1).max(60)).optional(),
  })
  .strict()
  .superRefine((settings, ctx) => {
    const rules = settings.rules ?? DEFAULT_PERSONA_RULES;
    const last = rules[rules.length - 1];
    if (settings.rules && (Object.keys(last.when).length > 0 || last.whenAny)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rules', rules.length - 1],
        message: `the last persona rule ("${last.name}") must have no conditions, so every segment gets a name`,
      });
    }
    const known = new Set(rules.map((r) => r.name));
    for (const from of Object.keys(settings.names ?? {})) {
      if (!known.has(from)) {
        ctx.addIssue({
          code: 'custom',
          path: ['names', from],
          message: `no persona rule is named "${from}"; the rules name ${[...known].join(', ')}`,
        });
      }
    }
  });

export type PersonaSettings = z.infer<typeof personaSettingsSchema>;

/** The default rules, first match wins (personas.ts lists them in words). */
export const DEFAULT_PERSONA_RULES: readonly PersonaRule[] = [
  { name: 'High-value loyal', when: { lapsed: false, frequency: 'high', monetary: 'high' } },
  {
    name: 'At-risk big spenders',
    when: { lapsed: true },
    whenAny: [{ monetary: 'high' }, { frequency: 'high' }, { avgOrderValue: 'high' }],
  },
  { name: 'Lapsed one-timers', when: { lapsed: true, oneTimer: true } },
  { name: 'Hibernating', when: { lapsed: true } },
  { name: 'Serial returners', when: { returnRate: 'high' } },
  { name: 'New promising', when: { isNew: true } },
  { name: 'Cooling regulars', when: { frequency: 'high', spendTrend: 'declining' } },
  {
    name: 'Big-ticket occasionals',
    when: { frequency: ['low', 'typical'] },
    whenAny: [{ monetary: 'high' }, { avgOrderValue: 'high' }],
  },
  {
    name: 'Bargain browsers',
    when: { monetary: ['low', 'typical'] },
    whenAny: [{ avgOrderValue: 'low' }, { discountShare: 'high' }],
  },
  { name: 'Bulk buyers', when: { basketSize: 'high', frequency: ['low', 'typical'] } },
  { name: 'Category explorers', when: { categoryBreadth: 'high', monetary: ['low', 'typical'] } },
  { name: 'Window shoppers', when: { browsing: 'high', frequency: ['low', 'typical'] } },
  { name: 'Steady regulars', when: { frequency: ['typical', 'high'], oneTimer: false } },
  { name: 'Occasional shoppers', when: {} },
];
