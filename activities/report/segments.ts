/** The segments section of the report, from the segment stage's JSON outputs. */
import { readFile } from 'node:fs/promises';
import type { ReportKMetrics, ReportMigration, ReportPersona, ReportSegments } from './model';

interface PersonaEntry {
  name: string;
  description: string;
  customers: number;
  customerShare: number;
  revenueShare: number;
  actions: string[];
}

interface SelectionDocument {
  k: number;
  method: string;
  criterion?: string;
  kRange?: [number, number];
  silhouette?: number;
  silhouetteSampleSize?: number;
  /** Bootstrap stability at the chosen k (segment v4 and later). */
  stability?: { k: number; stability: number | null };
  metricsByK?: {
    k: number;
    silhouette: number | null;
    inertia: number | null;
    calinskiHarabasz: number | null;
    daviesBouldin: number | null;
  }[];
  candidates?: {
    k: number;
    silhouette: number | null;
    inertia: number | null;
    calinskiHarabasz: number | null;
    daviesBouldin: number | null;
  }[];
}

interface MigrationDocument {
  previousMonth?: string;
  from?: string[];
  to?: string[];
  labelsFrom?: string[];
  labelsTo?: string[];
  counts: number[][];
}

/** personas.json's `noNetPurchase` (segment v6). */
interface NoNetPurchaseEntry {
  name: string;
  rule: string;
  customers: number;
  actions: string[];
}

const read = async <T>(path: string | undefined): Promise<T | undefined> =>
  path ? (JSON.parse(await readFile(path, 'utf8')) as T) : undefined;

export async function segmentsSection(
  files: Record<string, string> | undefined,
): Promise<ReportSegments | undefined> {
  if (!files?.personas || !files.selection) return undefined;
  const personasDoc = await read<
    PersonaEntry[] | { personas: PersonaEntry[]; noNetPurchase?: NoNetPurchaseEntry }
  >(files.personas);
  const personas = Array.isArray(personasDoc) ? personasDoc : (personasDoc?.personas ?? []);
  // segment v6: customers with no net purchase carry their own persona, whatever their segment
  const noNetPurchase = Array.isArray(personasDoc) ? undefined : personasDoc?.noNetPurchase;
  const selection = (await read<SelectionDocument>(files.selection))!;
  const migration = await read<MigrationDocument>(files.migration);
  const rules = await read<RulesDocument>(files.rules);
  const byK = selection.metricsByK ?? selection.candidates ?? [];
  const metricsByK: ReportKMetrics[] = byK.map(
    ({ k, silhouette, inertia, calinskiHarabasz, daviesBouldin }) => ({
      k,
      silhouette,
      inertia,
      calinskiHarabasz,
      daviesBouldin,
    }),
  );
  const chosen = metricsByK.find((m) => m.k === selection.k);
  const range = selection.kRange ? `, k in ${selection.kRange[0]}..${selection.kRange[1]}` : '';
  return {
    k: selection.k,
    silhouette: selection.silhouette ?? chosen?.silhouette ?? null,
    chosenBy: `${selection.criterion ?? 'silhouette'} (${selection.method}${range}${selection.silhouetteSampleSize ? `, silhouette on ${selection.silhouetteSampleSize} customers` : ''})`,
    metricsByK,
    personas: personas.map((p): ReportPersona => ({
      name: p.name,
      description: p.description,
      customers: p.customers,
      customerShare: p.customerShare,
      revenueShare: p.revenueShare,
      actions: p.actions,
    })),
    ...(migration ? { migration: toMigration(migration) } : {}),
    ...(noNetPurchase ? { noNetPurchase } : {}),
    ...(selection.stability ? { stability: selection.stability.stability } : {}),
    ...(rules
      ? {
          rules: rules.rules.map((r) => ({ text: r.text, persona: r.persona, customers: r.customers })),
          ruleFidelity: rules.fidelity,
        }
      : {}),
  };
}

/** segment_rules.json (activities/segment): the decision rules and their fidelity. */
interface RulesDocument {
  fidelity: number | null;
  rules: { text: string; persona: string; customers: number }[];
}

function toMigration(doc: MigrationDocument): ReportMigration {
  return {
    labelsFrom: doc.labelsFrom ?? doc.from ?? [],
    labelsTo: doc.labelsTo ?? doc.to ?? [],
    counts: doc.counts,
    ...(doc.previousMonth ? { previousMonth: doc.previousMonth } : {}),
  };
}
