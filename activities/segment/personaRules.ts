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
import { type PersonaCondition, type PersonaRule } from '../../lib/stageConfig/segmentPersonas';

/** The traits a rule reads: feature levels, the spend trend, and derived facts. */
export type PersonaTraitValues = {
  [K in keyof PersonaCondition]-?: Exclude<PersonaCondition[K], unknown[]> | null;
};

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
