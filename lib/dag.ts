/**
 * The DAG of one monthly run: each stage and the stages whose outputs it reads. Pure data, imported by
 * workflow code (no Node built-ins). A stage appears here only once it exists.
 */
export const STAGE_GRAPH = {
  ingest: [],
  clean: ['ingest'],
} as const satisfies Record<string, readonly string[]>;

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
