/**
 * The segment stage's JSON documents and warnings, built the same way by the unsharded stage
 * (computeSegments.ts) and the sharded one (sharded.ts) from what each computed: personas.json,
 * segment_rules.json, segment_migration.json and the stage's warnings.
 */
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import type { StageWarning } from '../../lib/runTypes';
import type { MigrationSummary, PreviousSegments } from './contract';
import type { DistinguishingFeature } from './distinguishing';
import { migrationBetween } from './migration';
import { writeJson } from './outputs';
import {
  NO_NET_PURCHASE,
  NO_NET_PURCHASE_ACTIONS,
  NO_NET_PURCHASE_RULE,
  type Persona,
  type PopulationProfile,
  type SegmentProfile,
} from './personas';
import { ruleText, type Rule, type RuleTree } from './rules';

/** Bootstrap stability (mean pairwise ARI) below this is reported as a warning (Lange et al. 2004 use 0.7-0.8). */
export const STABILITY_THRESHOLD = 0.7;
/** Rule fidelity below this is reported as a warning: the rules then misdescribe many customers. */
export const RULE_FIDELITY_THRESHOLD = 0.9;

/** Each persona's description gains the features that set its segment apart. */
export function withDistinguishing(
  personas: Persona[],
  distinguishing: DistinguishingFeature[][],
): Persona[] {
  return personas.map((p) => ({
    ...p,
    description: `${p.description} Set apart by ${distinguishing[p.segment]
      .map(
        (d) =>
          `${d.feature} ${d.standardizedDifference > 0 ? 'higher' : 'lower'} (${d.standardizedDifference > 0 ? '+' : ''}${d.standardizedDifference.toFixed(1)} sd)`,
      )
      .join(', ')}.`,
  }));
}

/** The text of a rule as segments.parquet and segment_rules.json show it. */
export function ruleLabel(rule: Rule, personaName: readonly string[]): string {
  return `${ruleText(rule.conditions)} -> ${personaName[rule.segment]}`;
}

/** segment_rules.json. */
export function rulesDocument(options: {
  tree: RuleTree;
  fidelity: number;
  fitSampleSize: number;
  customers: number;
  personaName: readonly string[];
  /** Customers whose rule is rule `id` (all customers, not the fit sample). */
  customersOfRule: (rule: Rule) => number;
}): Record<string, unknown> {
  const { tree, personaName } = options;
  return {
    depth: tree.depth,
    fidelity: options.fidelity,
    fitSampleSize: options.fitSampleSize,
    customers: options.customers,
    notes: [
      'CART (Gini) of depth <= 4 fitted to the segment labels on readable features in their own units; each leaf is one rule',
      'fidelity: share of all customers whose rule names their own segment',
    ],
    rules: tree.rules.map((r) => ({
      id: r.id,
      text: ruleLabel(r, personaName),
      conditions: r.conditions,
      segment: r.segment,
      persona: personaName[r.segment],
      customers: options.customersOfRule(r),
      purity: r.purity,
    })),
  };
}

/** personas.json. */
export function personasDocument(options: {
  personas: Persona[];
  sizes: readonly number[];
  segments: readonly SegmentProfile[];
  population: PopulationProfile;
  distinguishing: DistinguishingFeature[][];
  features: readonly string[];
  loaded: readonly string[];
  /** Per segment: mean of each clustering feature; median of each loaded column (original units). */
  mean: Record<string, number>[];
  median: Record<string, number>[];
  populationMedian: Record<string, number>;
  noNetPurchaseCustomers: number;
}): Record<string, unknown> {
  const { personas, segments, population } = options;
  const pick = (values: Record<string, number>, names: readonly string[]): Record<string, number> =>
    Object.fromEntries(names.map((name) => [name, values[name]]));
  return {
    personas: personas.map((p) => ({
      segment: p.segment,
      name: p.name,
      baseName: p.baseName,
      description: p.description,
      customers: options.sizes[p.segment],
      customerShare: p.customerShare,
      revenue: segments[p.segment].revenue,
      revenueShare: p.revenueShare,
      actions: p.actions,
      traits: p.traits,
      distinguishing: options.distinguishing[p.segment],
      typical: segments[p.segment].typical,
      centroid: pick(options.mean[p.segment], options.features),
      median: pick(options.median[p.segment], options.loaded),
    })),
    population: {
      customers: population.customers,
      revenue: population.revenue,
      median: pick(options.populationMedian, options.loaded),
      personaMedian: population.median,
      personaP25: population.p25,
      personaP75: population.p75,
    },
    // Customers of any segment whose net revenue is <= 0: persona "No net purchase" in segments.parquet.
    noNetPurchase: {
      name: NO_NET_PURCHASE,
      rule: NO_NET_PURCHASE_RULE,
      customers: options.noNetPurchaseCustomers,
      actions: NO_NET_PURCHASE_ACTIONS,
    },
    notes: [
      'centroid: mean of each clustering feature over the segment, original units; median: per-feature median',
      "typical, personaMedian: the persona rules' inputs (medians) that the names and descriptions come from",
    ],
  };
}

/**
 * The persona migration from last month's segments to this month's (segments.parquet at `currentPath`),
 * written as segment_migration.json; null with the reason when there is no previous segmentation.
 */
export async function writeMigration(
  duck: Duck,
  options: {
    previous?: PreviousSegments & { path: string };
    noPreviousReason?: string;
    currentPath: string;
    personaBase: readonly string[];
    outDir: string;
  },
): Promise<{ migration: MigrationSummary | null; migrationReason?: string; path?: string }> {
  const prev = options.previous;
  if (!prev)
    return { migration: null, migrationReason: options.noPreviousReason ?? 'no previous segmentation given' };
  const matrix = await migrationBetween(duck, {
    previousPath: prev.path,
    currentPath: options.currentPath,
    order: [...options.personaBase],
  });
  const path = join(options.outDir, 'segment_migration.json');
  await writeJson(path, {
    previousRunId: prev.runId,
    previousMonth: prev.month,
    previousSha256: prev.sha256,
    ...matrix,
  });
  return {
    migration: {
      previousRunId: prev.runId,
      previousMonth: prev.month,
      matchedOn: matrix.matchedOn,
      from: matrix.from,
      to: matrix.to,
      counts: matrix.counts,
      stayed: matrix.stayed,
      moved: matrix.moved,
      newCustomers: matrix.newCustomers,
      goneCustomers: matrix.goneCustomers,
    },
    path,
  };
}

/** A k at the edge of kRange, an unstable k, rules that misdescribe many customers. */
export function segmentWarnings(options: {
  k: number;
  kMin: number;
  kMax: number;
  stability: number;
  ruleFidelity: number;
}): StageWarning[] {
  const { k, kMin, kMax, stability, ruleFidelity } = options;
  const warnings: StageWarning[] = [];
  // The top of the range may hide finer groups. Its floor is a choice (three personas at least, config.ts),
  // and a continuum's k is reported in the selection notes instead.
  if (k === kMax && kMax > kMin) {
    warnings.push({
      code: 'segment_k_at_edge',
      message: `k = ${k} is at the top of kRange [${kMin}, ${kMax}]: finer segments may lie beyond the range searched`,
    });
  }
  if (stability < STABILITY_THRESHOLD) {
    warnings.push({
      code: 'segment_unstable',
      message: `bootstrap stability ${stability.toFixed(3)} at k = ${k} is below ${STABILITY_THRESHOLD}: the segments change with the sample`,
    });
  }
  if (ruleFidelity < RULE_FIDELITY_THRESHOLD) {
    warnings.push({
      code: 'segment_rules_low_fidelity',
      message: `decision rules reproduce ${(100 * ruleFidelity).toFixed(1)}% of segment assignments (below ${100 * RULE_FIDELITY_THRESHOLD}%)`,
    });
  }
  return warnings;
}
