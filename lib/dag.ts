/**
 * The DAG of one monthly run: each stage and the stages whose outputs it reads. Pure data, imported by
 * workflow code (no Node built-ins). A stage appears here only once it exists.
 */
export const STAGE_GRAPH = {
  ingest: [],
  clean: ['ingest'],
  features: ['clean'],
  segment: ['features'],
  clv: ['clean'],
  churn: ['clean', 'features'],
  forecast: ['features'],
  experiment: ['clean', 'segment', 'clv', 'churn'],
  recommend: ['clean', 'features', 'segment'],
  report: ['ingest', 'clean', 'features', 'segment', 'clv', 'churn', 'forecast', 'experiment', 'recommend'],
} as const satisfies Record<string, readonly string[]>;

/**
 * Stages that run once their dependencies have finished, whether they succeeded or not, and work with
 * what is there: the report says which parts are missing and why.
 */
export const RUNS_AFTER_FAILURES: ReadonlySet<string> = new Set(['report']);

export type StageName = keyof typeof STAGE_GRAPH;

export const STAGE_NAMES = Object.keys(STAGE_GRAPH) as StageName[];

export function isStageName(value: string): value is StageName {
  return Object.hasOwn(STAGE_GRAPH, value);
}

export function dependenciesOf(stage: StageName): readonly StageName[] {
  return STAGE_GRAPH[stage] as readonly StageName[];
}

/** The stage and every stage that (transitively) reads its outputs, in DAG order. */
export function downstreamOf(stage: StageName): StageName[] {
  const selected = new Set<StageName>([stage]);
  for (const candidate of STAGE_NAMES) {
    if (dependenciesOf(candidate).some((dep) => selected.has(dep))) selected.add(candidate);
  }
  return STAGE_NAMES.filter((s) => selected.has(s));
}
