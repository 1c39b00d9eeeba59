/**
 * Turning the run's stage outputs into ReportData. Each section reads only what its stage wrote and is
 * left out (the renderer then says why) when the stage did not complete. Per-customer joins (CLV by
 * segment, the CRM export) run in DuckDB over the stages' Parquet files.
 */
import { readFile } from 'node:fs/promises';
import type { Duck } from '../../lib/duck';
import { sqlString } from '../../lib/duck';
import type { StageName } from '../../lib/stageRegistry';
import { collectRunWarnings, finishedRunStatus, type RunRef, type RunSummary } from '../../lib/runTypes';
import type { ClvSummary } from '../clv/contract';
import type { ExperimentMetrics } from '../experiment/contract';
import type { Insights } from '../features/contract';
import type { RecommendSummary } from '../recommend/contract';
import { nextPeriodHeadline, revenueHeadline, type Headlines, type RevenueHeadline } from './headlines';
import type {
  ReportChurn,
  ReportClv,
  ReportCohorts,
  ReportData,
  ReportDataQuality,
  ReportExperiments,
  ReportFeatures,
  ReportPolicyGoal,
  ReportForecast,
  ReportRecommend,
  ReportSegments,
  ReportStage,
} from './model';

/**
 * The headline figures (headlines.ts) from features' daily revenue and the forecast's metrics: revenue of
 * the month against the comparable span of the previous one, and the forecast's first open period.
 */
export async function headlinesSection(
  duck: Duck,
  dailyRevenuePath: string | undefined,
  month: string,
  forecastMetrics: Record<string, unknown> | undefined,
  currency: string | undefined,
): Promise<Headlines | undefined> {
  const closedWeekdays = Array.isArray(forecastMetrics?.closedWeekdays)
    ? (forecastMetrics.closedWeekdays as unknown[]).filter((w): w is number => typeof w === 'number')
    : [];
  let revenue: RevenueHeadline | null = null;
  if (dailyRevenuePath) {
    const days = await duck.all<{ date: string; revenue: number; has_trading: boolean | null }>(
      `SELECT strftime(CAST(date AS DATE), '%Y-%m-%d') AS date, revenue::DOUBLE AS revenue, has_trading
       FROM read_parquet(${sqlString(dailyRevenuePath)}) ORDER BY date`,
    );
    revenue = revenueHeadline(
      days.map((d) => ({ date: d.date, revenue: d.revenue, hasTrading: d.has_trading ?? d.revenue !== 0 })),
      month,
      closedWeekdays,
    );
  }
  const nextMetric = forecastMetrics?.next as
    { date: string; mean: number; lower80: number; upper80: number } | null | undefined;
  const next = nextPeriodHeadline(nextMetric, text(forecastMetrics?.grain, 'day'));
  if (!revenue && !next) return undefined;
  return { ...(currency ? { currency } : {}), revenue, next };
}

/** Local copies of the upstream outputs the report reads (undefined when the stage or output is absent). */
export type LocalOutputs = Partial<Record<StageName, Record<string, string>>>;

const readJson = async <T>(path: string | undefined): Promise<T | undefined> =>
  path ? (JSON.parse(await readFile(path, 'utf8')) as T) : undefined;

/** A metric that should be text, as text (metrics are JSON from another stage). */
const text = (value: unknown, fallback = ''): string =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : fallback;

const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

export function runSection(
  run: RunRef,
  summary: RunSummary | undefined,
  codeVersion: string,
): ReportData['run'] {
  const stages: ReportStage[] = Object.entries(summary?.stages ?? {}).map(([name, s]) => ({
    name,
    // the report stage is rendering this very file: "this report", not "running" in a finished report
    status: name === 'report' ? 'thisReport' : s.status,
    durationMs: s.durationMs,
    ...(s.error ? { error: s.error.message } : {}),
    ...(s.computedByRunId ? { computedByRunId: s.computedByRunId } : {}),
  }));
  return {
    dataset: run.dataset,
    month: run.month,
    runId: run.runId,
    // Rendered as the last stage, before the workflow records the end: every other stage has settled, and
    // the report exists only if it completes, so the run's final status is already known.
    status:
      summary === undefined
        ? 'RUNNING'
        : summary.status === 'RUNNING'
          ? finishedRunStatus(summary.stages)
          : summary.status,
    cutoff: run.cutoff,
    // the run's start: the same run renders the same bytes
    generatedAt: summary?.startedAt ?? run.cutoff,
    stages,
    // the report's own stage is still running here, so its entry adds nothing
    warnings: summary ? collectRunWarnings(Object.keys(summary.stages), summary.stages) : [],
    configHash: summary?.configHash,
    codeVersion,
  };
}

export function dataQualitySection(
  metrics: Record<string, unknown> | undefined,
): ReportDataQuality | undefined {
  if (!metrics) return undefined;
  const events = metrics.events as
    | { inputRows: number; outputRows: number; sessions: number; quarantinedByReason: Record<string, number> }
    | undefined;
  return {
    inputRows: Number(metrics.inputRows),
    outputRows: Number(metrics.outputRows),
    quarantinedByReason: metrics.quarantinedByReason as Record<string, number>,
    duplicateRows: Number(metrics.duplicateRows),
    afterCutoffRows: Number(metrics.afterCutoffRows),
    customers: Number(metrics.customers),
    firstTs: (metrics.firstTs as string | null) ?? null,
    lastTs: (metrics.lastTs as string | null) ?? null,
    ...(typeof metrics.nonMerchandiseRows === 'number'
      ? {
          nonMerchandiseRows: metrics.nonMerchandiseRows,
          nonMerchandiseByCode: (metrics.nonMerchandiseByCode as Record<string, number> | undefined) ?? {},
        }
      : {}),
    ...(events
      ? {
          events: {
            inputRows: events.inputRows,
            outputRows: events.outputRows,
            sessions: events.sessions,
            quarantinedByReason: events.quarantinedByReason,
          },
        }
      : {}),
  };
}

export async function featuresSection(
  duck: Duck,
  files: Record<string, string> | undefined,
): Promise<ReportFeatures | undefined> {
  if (!files?.kpis || !files.dictionary) return undefined;
  const dictionary =
    (await readJson<{ name: string; definition: string; unit: string }[]>(files.dictionary)) ?? [];
  const kpis = await duck.all<Record<string, number | string | null>>(
    `SELECT * FROM read_parquet(${sqlString(files.kpis)}) ORDER BY month`,
  );
  const insights = await readJson<Partial<Insights>>(files.insights);
  return {
    dictionary: dictionary.map(({ name, definition, unit }) => ({ name, definition, unit })),
    kpisMonthly: kpis.map((k) => ({
      month: String(k.month),
      activeCustomers: Number(k.active_customers),
      newCustomers: Number(k.new_customers),
      returningCustomers: Number(k.returning_customers),
      orders: Number(k.orders),
      revenue: Number(k.revenue),
      averageOrderValue: Number(k.average_order_value),
      repeatRate: Number(k.repeat_rate),
      ...(k.conversion_per_session !== undefined
        ? { conversionPerSession: num(k.conversion_per_session) }
        : {}),
    })),
    insights: insights
      ? {
          strongestPairs: insights.correlation?.strongestPairs ?? [],
          ...(insights.categorySpend
            ? {
                categorySpend: {
                  categories: insights.categorySpend.categories.map((c) => ({
                    category: c.category,
                    n: c.n,
                    mean: c.mean,
                    median: c.median,
                  })),
                  anovaPValue: num(insights.categorySpend.oneWayAnova?.pValue),
                  kruskalWallisPValue: num(insights.categorySpend.kruskalWallis?.pValue),
                  skippedReason: insights.categorySpend.skippedReason ?? null,
                },
              }
            : {}),
        }
      : undefined,
  };
}

export async function cohortsSection(
  duck: Duck,
  path: string | undefined,
  maxAge = 12,
): Promise<ReportCohorts | undefined> {
  if (!path) return undefined;
  const rows = await duck.all<{
    cohort_month: string;
    months_since: number;
    retained_share: number;
    revenue: number;
    cohort_size: number;
  }>(
    `SELECT cohort_month, months_since, retained_share, revenue, cohort_size FROM read_parquet(${sqlString(path)})
     WHERE months_since <= ${maxAge} ORDER BY cohort_month, months_since`,
  );
  const cohortMonths = [...new Set(rows.map((r) => r.cohort_month))];
  const blank = (): (number | null)[] => Array.from({ length: maxAge + 1 }, () => null);
  const retention = cohortMonths.map(blank);
  const revenue = cohortMonths.map(blank);
  const sizes = cohortMonths.map(() => 0);
  for (const r of rows) {
    const i = cohortMonths.indexOf(r.cohort_month);
    retention[i][r.months_since] = r.retained_share;
    revenue[i][r.months_since] = r.revenue;
    sizes[i] = Number(r.cohort_size);
  }
  return { cohortMonths, maxAge, sizes, retention, revenue };
}

export async function clvSection(
  duck: Duck,
  files: Record<string, string> | undefined,
  segmentsPath: string | undefined,
): Promise<ReportClv | undefined> {
  if (!files?.summary || !files.clv) return undefined;
  const summary = (await readJson<ClvSummary>(files.summary))!;
  const p = summary.fit.params;
  const bySegment = segmentsPath
    ? await duck.all<{ segment: string; customers: number; meanClv: number; totalClv: number }>(
        `SELECT COALESCE(s.persona, 'unsegmented') AS segment, count(*)::INTEGER AS customers, avg(c.clv) AS "meanClv", sum(c.clv) AS "totalClv"
         FROM read_parquet(${sqlString(files.clv)}) c LEFT JOIN read_parquet(${sqlString(segmentsPath)}) s USING (customer_id)
         GROUP BY ALL ORDER BY "totalClv" DESC`,
      )
    : [];
  return {
    timeUnit: summary.timeUnit,
    horizon: summary.clv.horizon,
    // Pareto/NBD has (r, alpha, s, beta): shown under the BG/NBD names' slots only when they exist
    params: { r: p.r, alpha: p.alpha, a: p.a ?? p.s, b: p.b ?? p.beta },
    ...(summary.modelName ? { purchaseModel: { name: summary.modelName, params: { ...p } } } : {}),
    spend: summary.spend.params
      ? { p: summary.spend.params.p, q: summary.spend.params.q, v: summary.spend.params.v }
      : { p: NaN, q: NaN, v: NaN },
    histogram: { edges: summary.clv.histogram.edges, counts: summary.clv.histogram.counts },
    bySegment,
    ...(summary.holdout
      ? {
          holdout: summary.holdout.buckets.map((b) => ({
            frequency: b.frequency,
            predicted: b.predicted ?? 0,
            actual: b.actual ?? 0,
            customers: b.customers,
          })),
        }
      : {}),
    top: summary.top.map((t) => ({ customerId: t.customerId, clv: t.clv, pAlive: t.pAlive })),
  };
}

export function forecastSectionFrom(
  metrics: Record<string, unknown> | undefined,
  history: { date: string; value: number }[],
  forecast: ReportForecast['forecast'],
): ReportForecast | undefined {
  if (!metrics || metrics.model === null || metrics.model === undefined) return undefined;
  const scores =
    (metrics.scores as
      | {
          name: string;
          mase: number | null;
          mape: number | null;
          coverage80: number | null;
          coverage95: number | null;
        }[]
      | undefined) ?? [];
  return {
    model: text(metrics.model),
    grain: text(metrics.grain, 'day'),
    mase: Number(metrics.mase),
    baselineMase: Number(metrics.baselineMase),
    mape: Number(metrics.mape),
    coverage80: Number(metrics.coverage80),
    coverage95: Number(metrics.coverage95),
    history,
    forecast,
    scores: scores.map((s) => ({
      model: s.name,
      mase: s.mase,
      mape: s.mape,
      coverage80: s.coverage80,
      coverage95: s.coverage95,
    })),
    notes: (metrics.notes as string[] | undefined) ?? [],
    ...(metrics.controls ? { controls: metrics.controls as NonNullable<ReportForecast['controls']> } : {}),
  };
}

export async function forecastSection(
  duck: Duck,
  files: Record<string, string> | undefined,
  metrics: Record<string, unknown> | undefined,
): Promise<ReportForecast | undefined> {
  if (!files?.forecast || !files.history) return undefined;
  const history = await duck.all<{ date: string; value: number }>(
    `SELECT strftime(date, '%Y-%m-%d') AS date, value FROM read_parquet(${sqlString(files.history)}) ORDER BY date`,
  );
  const forecast = await duck.all<ReportForecast['forecast'][number]>(
    `SELECT strftime(date, '%Y-%m-%d') AS date, mean, lower80, upper80, lower95, upper95 FROM read_parquet(${sqlString(files.forecast)}) ORDER BY date`,
  );
  return forecastSectionFrom(metrics, history, forecast);
}

export function experimentsSection(
  metrics: Record<string, unknown> | undefined,
  srmThreshold: number,
  goals: ReportPolicyGoal[] = [],
): ReportExperiments | undefined {
  if (!metrics) return undefined;
  const m = metrics as Partial<ExperimentMetrics>;
  const simulated = new Set((m.policies ?? []).map((p) => p.name));
  const policyGoals = goals.filter((g) => simulated.has(g.policy));
  return {
    experiments: (metrics.experiments as ReportExperiments['experiments'] | undefined) ?? [],
    policies: (metrics.policies as ReportExperiments['policies'] | undefined) ?? [],
    srmThreshold,
    ...(typeof m.confidence === 'number' ? { confidence: m.confidence } : {}),
    ...(m.customMetrics?.length ? { customMetrics: m.customMetrics } : {}),
    ...(m.guardrails?.length ? { guardrails: m.guardrails } : {}),
    ...(m.boostSweeps?.length ? { boostSweeps: m.boostSweeps } : {}),
    ...(policyGoals.length ? { goals: policyGoals } : {}),
    ...(typeof m.policyHorizonDays === 'number' ? { policyHorizonDays: m.policyHorizonDays } : {}),
  };
}

export async function topProducts(
  duck: Duck,
  transactionsPath: string | undefined,
): Promise<ReportData['topProducts']> {
  if (!transactionsPath) return undefined;
  // Postage, fees and adjustments (clean's line_kind) are not products: POSTAGE would rank fifth on Online Retail.
  const source = `read_parquet(${sqlString(transactionsPath)})`;
  const hasLineKind = (await duck.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${source}`)).some(
    (c) => c.column_name === 'line_kind',
  );
  return duck.all<{ productName: string; revenue: number; orders: number }>(
    `SELECT COALESCE(product_name, product_id) AS "productName", sum(amount::DECIMAL(18,4))::DOUBLE AS revenue, count(DISTINCT order_id)::INTEGER AS orders
     FROM ${source} ${hasLineKind ? `WHERE line_kind IS DISTINCT FROM 'non_merchandise'` : ''}
     GROUP BY ALL ORDER BY revenue DESC, "productName" LIMIT 10`,
  );
}

/** The recommend section from the stage's summary JSON (top rules, bundles, attachment, evaluation). */
export async function recommendSection(
  summaryPath: string | undefined,
  metrics: Record<string, unknown> | undefined,
): Promise<ReportRecommend | undefined> {
  const summary = await readJson<RecommendSummary>(summaryPath);
  if (!summary || !metrics) return undefined;
  return {
    rules: Number(metrics.rules),
    topRules: summary.topRules.map((r) => ({
      level: r.level,
      antecedent: r.antecedentNames,
      consequent: r.consequentName,
      orders: r.orders,
      support: r.support,
      confidence: r.confidence,
      lift: r.lift,
    })),
    bundles: summary.bundles.map((b) => ({
      persona: b.persona,
      productA: b.nameA,
      productB: b.nameB,
      orders: b.orders,
      confidence: Math.max(b.confidenceAB, b.confidenceBA),
      lift: b.lift,
    })),
    attachment: summary.attachment.map((a) => ({
      persona: a.persona,
      ordersWithAntecedent: a.ordersWithAntecedent,
      ordersWithAddOn: a.ordersWithAddOn,
      attachmentRate: a.attachmentRate,
    })),
    evaluation: summary.evaluation
      ? { ...summary.evaluation, ...(summary.itemToItem ? { itemToItem: summary.itemToItem } : {}) }
      : null,
    evaluationWindow: summary.evaluationWindow,
    blend: summary.blend,
    blendChosenBy: summary.blendChosenBy,
    // Summaries written before the category lists (recommend v1) have no categoryLists.
    categoryFirstChoices:
      summary.categoryLists?.firstChoices.map((c) => ({
        category: c.category,
        customers: c.customers,
        reason: c.reason,
      })) ?? null,
    notes: summary.notes,
  };
}

export type { ReportChurn, ReportSegments };

interface ChurnModelDocument {
  churn?: {
    calibration?: { meanPredicted: number; observedRate: number; count: number }[];
    importance?: { feature: string; importance: number }[];
  };
  atRisk?: { customerId: string; churnProbability: number }[];
}

export async function churnSection(
  duck: Duck,
  files: Record<string, string> | undefined,
  metrics: Record<string, unknown> | undefined,
  joins: { clvPath?: string; segmentsPath?: string },
): Promise<ReportChurn | undefined> {
  if (!files?.model || !metrics || metrics.model === null) return undefined;
  const document = (await readJson<ChurnModelDocument>(files.model)) ?? {};
  const atRiskIds = (document.atRisk ?? []).map((r) => r.customerId);
  const lookups =
    atRiskIds.length > 0
      ? await duck.all<{ customer_id: string; clv: number | null; persona: string | null }>(
          `SELECT ids.customer_id, ${joins.clvPath ? 'c.clv' : 'NULL::DOUBLE AS clv'}, ${joins.segmentsPath ? 's.persona' : 'NULL::VARCHAR AS persona'}
           FROM (SELECT unnest([${atRiskIds.map(sqlString).join(', ')}]::VARCHAR[]) AS customer_id) ids
           ${joins.clvPath ? `LEFT JOIN read_parquet(${sqlString(joins.clvPath)}) c USING (customer_id)` : ''}
           ${joins.segmentsPath ? `LEFT JOIN read_parquet(${sqlString(joins.segmentsPath)}) s USING (customer_id)` : ''}`,
        )
      : [];
  const byId = new Map(lookups.map((l) => [l.customer_id, l]));
  return {
    auc: Number(metrics.auc),
    prAuc: Number(metrics.prAuc),
    brier: Number(metrics.brier),
    baselineAuc: Number(metrics.baselineAuc),
    positiveRate: Number(metrics.positiveRate),
    model: text(metrics.model),
    window: `${text(metrics.window)} days`,
    calibration: (document.churn?.calibration ?? []).map(({ meanPredicted, observedRate, count }) => ({
      meanPredicted,
      observedRate,
      count,
    })),
    importance: (document.churn?.importance ?? [])
      .slice(0, 15)
      .map(({ feature, importance }) => ({ feature, importance })),
    atRisk: (document.atRisk ?? []).map((r) => ({
      customerId: r.customerId,
      churnProbability: r.churnProbability,
      clv: byId.get(r.customerId)?.clv ?? null,
      persona: byId.get(r.customerId)?.persona ?? null,
    })),
  };
}
