/**
 * Persona naming rules as data (issue 14): each rule names the segments whose typical member's traits
 * (personas.ts: feature levels against the population, and three derived facts: lapsed, new, one-timer)
 * match all of its `when` conditions and, when given, at least one of its `whenAny` conditions. First match
 * wins, so the list is ordered from most to least specific and ends with a rule without conditions. A
 * condition on a trait the features table lacks (null) does not match.
 *
 * The defaults are the eleven rules personas have always used plus three for behaviour they ignored:
 * "Bulk buyers" (many items per order), "Category explorers" (buy across many categories) and "Window
 * shoppers" (most sessions end without a purchase). A dataset replaces the list (`segment.personas.rules`)
 * or renames personas (`segment.personas.names`) in its config; the per-customer "No net purchase" rule
 * (personas.ts) always comes first and cannot be overridden.
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

/** The `segment.personas` config section (validated by the caller's schema, see config.ts). */
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

/** The traits a rule reads: feature levels, the spend trend, and derived facts. */
export type PersonaTraitValues = {
  [K in keyof PersonaCondition]-?: Exclude<PersonaCondition[K], unknown[]> | null;
};

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

function conditionHolds(condition: PersonaCondition, traits: PersonaTraitValues): boolean {
  for (const [key, wanted] of Object.entries(condition) as [keyof PersonaCondition, unknown][]) {
    if (wanted === undefined) continue;
    const value = traits[key];
    if (value === null) return false;
    if (Array.isArray(wanted) ? !wanted.includes(value) : wanted !== value) return false;
  }
  return true;
}

/** The first rule whose conditions hold (undefined when none does). */
export function matchPersonaRule(
  rules: readonly PersonaRule[],
  traits: PersonaTraitValues,
): PersonaRule | undefined {
  return rules.find(
    (rule) =>
      conditionHolds(rule.when, traits) &&
      (!rule.whenAny || rule.whenAny.some((c) => conditionHolds(c, traits))),
  );
}
