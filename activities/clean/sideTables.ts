/** clean's side tables: browsing events and experiment assignments, with the same accounting as transactions. */
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import { sqlString, sqlTimestamp } from '../../lib/duck';
import { extensionColumnsOf, extensionSelectList, writeExtensionIssuesIfAny } from './extensionColumns';
import type { CleanMetrics, EventCleanMetrics } from './contract';

const EVENT_REASONS = ['unparsable_timestamp', 'missing_customer_id', 'future_timestamp'] as const;

/** Events: exact duplicates out, rows without a customer or a time quarantined, later rows set aside. */
export async function cleanEvents(
  duck: Duck,
  options: { inputPath: string; cutoffIso: string; outDir: string },
): Promise<{
  metrics: EventCleanMetrics;
  paths: { events: string; quarantine: string; extensionIssues?: string };
}> {
  const cutoff = sqlTimestamp(options.cutoffIso, 'clean');
  await duck.run(`CREATE TABLE events_in AS SELECT * EXCLUDE (file_row_number), file_row_number AS ordinal
    FROM read_parquet(${sqlString(options.inputPath)}, file_row_number = true)`);
  const extension = await extensionColumnsOf(duck, 'events_in');
  const key = `customer_id, session_id, ts, ts_raw, event_type, product_id, category${extensionSelectList(extension)}`;
  await duck.run(
    `CREATE TABLE events_first AS SELECT min(ordinal) AS ordinal FROM events_in GROUP BY ${key}`,
  );
  await duck.run(`CREATE TABLE events_classified AS SELECT e.*,
      CASE
        WHEN f.ordinal IS NULL THEN 'duplicate'
        WHEN ts IS NOT NULL AND source_period_end IS NULL AND ts > ${cutoff} THEN 'after_cutoff'
        WHEN ts IS NULL THEN 'unparsable_timestamp'
        WHEN customer_id IS NULL THEN 'missing_customer_id'
        WHEN source_period_end IS NOT NULL AND ts > source_period_end THEN 'future_timestamp'
      END AS disposition
    FROM events_in e LEFT JOIN events_first f ON e.ordinal = f.ordinal`);
  const paths = {
    events: join(options.outDir, 'events.parquet'),
    quarantine: join(options.outDir, 'events_quarantine.parquet'),
  };
  await duck.toParquet(
    `SELECT customer_id, session_id, ts, event_type, product_id, category${extensionSelectList(extension)}, source_file, source_line
     FROM events_classified WHERE disposition IS NULL ORDER BY ts, ordinal`,
    paths.events,
  );
  await duck.toParquet(
    `SELECT * EXCLUDE (disposition, ordinal), disposition AS reason FROM events_classified
     WHERE disposition IS NOT NULL AND disposition <> 'after_cutoff' ORDER BY ordinal`,
    paths.quarantine,
  );
  const counts = new Map(
    (
      await duck.all<{ d: string | null; n: number }>(
        `SELECT disposition AS d, count(*)::INTEGER AS n FROM events_classified GROUP BY ALL`,
      )
    ).map((r) => [r.d ?? 'kept', r.n]),
  );
  const kept = await duck.one<{ customers: number; sessions: number }>(
    `SELECT count(DISTINCT customer_id)::INTEGER AS customers, count(DISTINCT session_id)::INTEGER AS sessions FROM events_classified WHERE disposition IS NULL`,
  );
  const quarantinedByReason = Object.fromEntries(EVENT_REASONS.map((r) => [r, counts.get(r) ?? 0]));
  const metrics: EventCleanMetrics = {
    inputRows: [...counts.values()].reduce((a, b) => a + b, 0),
    outputRows: counts.get('kept') ?? 0,
    quarantinedRows: EVENT_REASONS.reduce((a, r) => a + (counts.get(r) ?? 0), 0),
    quarantinedByReason,
    duplicateRows: counts.get('duplicate') ?? 0,
    afterCutoffRows: counts.get('after_cutoff') ?? 0,
    ...kept,
  };
  const issuesPath = join(options.outDir, 'events_extension_issues.parquet');
  const extensionColumns = await writeExtensionIssuesIfAny(duck, {
    table: 'events_classified',
    columns: extension,
    path: issuesPath,
    label: 'events',
  });
  if (extensionColumns === undefined) return { metrics, paths };
  metrics.extensionColumns = extensionColumns;
  return { metrics, paths: { ...paths, extensionIssues: issuesPath } };
}

/** Assignments made after the cutoff belong to later runs. */
export async function cleanAssignments(
  duck: Duck,
  options: { inputPath: string; cutoffIso: string; outDir: string },
): Promise<{ metrics: NonNullable<CleanMetrics['assignments']>; path: string }> {
  const cutoff = sqlTimestamp(options.cutoffIso, 'clean');
  const path = join(options.outDir, 'assignments.parquet');
  await duck.run(
    `CREATE TABLE assignments_in AS SELECT * FROM read_parquet(${sqlString(options.inputPath)})`,
  );
  await duck.toParquet(
    `SELECT * FROM assignments_in WHERE assigned_at <= ${cutoff} ORDER BY experiment_id, customer_id`,
    path,
  );
  const metrics = await duck.one<{
    inputRows: number;
    outputRows: number;
    afterCutoffRows: number;
    experiments: number;
  }>(
    `SELECT count(*)::INTEGER AS "inputRows", count(*) FILTER (WHERE assigned_at <= ${cutoff})::INTEGER AS "outputRows",
            count(*) FILTER (WHERE assigned_at > ${cutoff})::INTEGER AS "afterCutoffRows",
            count(DISTINCT experiment_id) FILTER (WHERE assigned_at <= ${cutoff})::INTEGER AS experiments
     FROM assignments_in`,
  );
  return { metrics, path };
}
