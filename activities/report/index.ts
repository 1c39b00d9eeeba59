/**
 * report: one self-contained HTML file per run (operational and strategic pages, charts inline) and the
 * CRM export (one row per customer: segment, persona, RFM cell, CLV, P(alive), churn probability,
 * suggested action). Runs after every other stage, whether they succeeded or not, and says what is missing and why.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunConfig } from '../../lib/config';
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlString, withDuck } from '../../lib/duck';
import { runYielding } from '../../lib/yieldEvery';
import { STAGE_NAMES, type StageName } from '../../lib/stageRegistry';
import {
  defineStageActivity,
  upstreamFingerprints,
  type StageContext,
  type StageOutputFile,
} from '../../lib/stage';
import { CODE_VERSION } from '../../lib/version';
import { CRM_RECOMMENDATIONS, crmCsvSteps, suggestAction, type CrmRow } from './csv';
import { crmAttributeColumns, crmAttributeValues } from './crmAttributes';
import { pagedRows } from './pagedRows';
import {
  churnSection,
  clvSection,
  cohortsSection,
  dataQualitySection,
  experimentsSection,
  featuresSection,
  forecastSection,
  recommendSection,
  runSection,
  headlinesSection,
  topProducts,
  type LocalOutputs,
} from './gather';
import { edaSection } from './gatherEda';
import { categorySeasonSection, experimentDetailSection, valueModelsSection } from './gatherModels';
import type { Headlines } from './headlines';
import { reportSteps } from './html';
import { attributeTestsSection } from './cards/attributeTests';
import { segmentAttributeProfilesSection } from './cards/segmentAttributeProfiles';
import { forecastSeriesSection } from './cards/forecastSeries';
import type { ReportData, ReportPolicyGoal, ReportSegments } from './model';
import { segmentsSection } from './segments';

export interface ReportMetrics extends Record<string, unknown> {
  /** The headline figures, in the report's words; the CLI summary prints them (headlines.ts). */
  headlines: Headlines | null;
  sections: string[];
  missing: string[];
  crmRows: number;
  htmlBytes: number;
}

/** What the report reads of each stage (the rest of their outputs stays in S3). */
const READS: Partial<Record<StageName, string[]>> = {
  clean: ['transactions', 'customers'],
  features: [
    'kpis',
    'dictionary',
    'insights',
    'cohorts',
    'dailyRevenue',
    'customerFeatures',
    'attributeTests',
  ],
  segment: ['segments', 'personas', 'selection', 'migration', 'rules', 'attributeProfiles'],
  clv: ['clv', 'summary'],
  churn: ['scores', 'model'],
  forecast: ['forecast', 'history', 'bySeries', 'bySeriesHistory'],
  recommend: ['summary', 'recommendations', 'categoryRecommendations'],
  experiment: ['results'],
};

async function fetchOutputs(ctx: StageContext): Promise<LocalOutputs> {
  const local: LocalOutputs = {};
  for (const [stage, names] of Object.entries(READS) as [StageName, string[]][]) {
    const result = ctx.upstream[stage];
    if (!result) continue;
    const files: Record<string, string> = {};
    for (const name of names) if (result.outputs[name]) files[name] = await ctx.fetchUpstream(stage, name);
    local[stage] = files;
  }
  return local;
}

export const report = defineStageActivity<ReportMetrics>({
  stage: 'report',
  // 2: the CRM export gained rfm_cell. 3: amounts in the dataset currency; status shown whole; top
  // products leave out non-merchandise lines. 4: the recommend card; the CRM export gained 3 recommendations.
  // 5: warnings banner; the CRM export gains persona_rule and neutralises hidden formula lead-ins; the
  //    personas card lists the decision rules and stability; the CLV card names the purchase model.
  // 6: headlines compare like with like (month to date vs the same days) and name the next open period;
  //    the report stage shows as "this report"; the feature dictionary moves to a collapsed appendix;
  //    names wrap only at underscores; each quarantine reason is explained. Metrics gain headlines.
  // 7: customers with no net purchase: no P(alive) and no retention flag in the CRM export; personas note.
  // 8: the CRM export's location is under the attempt's prefix (report/attempt-<n>/crm_export.csv).
  // 9: the exploratory page (distributions, country and category breakdowns, null rates, elbow, persona
  //    profiles), executive summary, value models, experiments by segment, cohort revenue curves; the CRM
  //    export gains high-value probability (with its interval) and expected purchases.
  // 10: the CRM export gains the first recommended category and its reason (recommend v2's category lists);
  //     the recommend card lists customers by first category.
  // 11: the customer attributes card (features' attribute tests, when the dataset has a customers table).
  // 12: the experiment-controls card (configured metrics, guardrails, policy goals in words, boost sweeps);
  //     the exploratory page ranks products when the data have no categories; the outlier treatment used;
  //     the forecasts-by-category-and-segment card and the forecast controls in use.
  version: 12,
  configSection: (config) => ({
    srmThreshold: config.experiment.srmThreshold,
    currency: config.currency,
    policyGoals: policyGoals(config.experiment.policies),
    outlierMethod: config.outliers?.method ?? 'none',
    // the CRM export's attribute columns (only when declared, so other datasets keep their cache keys)
    ...(config.attributes?.customers ? { crmAttributes: config.attributes.customers.fields } : {}),
  }),
  // The report shows which stages failed and why: their statuses are part of what it reads.
  fingerprintInputs(ctx) {
    const inputs = upstreamFingerprints(ctx);
    for (const stage of STAGE_NAMES) {
      if (stage === 'report') continue;
      const entry = ctx.upstream[stage] ? undefined : ctx.runSummary?.stages[stage];
      if (entry) inputs[`status/${stage}`] = `${entry.status}:${entry.error?.message ?? ''}`;
    }
    return Promise.resolve(inputs);
  },
  async compute(ctx) {
    const files = await fetchOutputs(ctx);
    return withDuck(
      async (duck) => {
        const metricsOf = (stage: StageName) => ctx.upstream[stage]?.metrics;
        const segments: ReportSegments | undefined = await segmentsSection(files.segment);
        const data: ReportData = {
          run: { ...runSection(ctx.run, ctx.runSummary, CODE_VERSION), currency: ctx.run.config.currency },
          headlines: await headlinesSection(
            duck,
            files.features?.dailyRevenue,
            ctx.run.month,
            metricsOf('forecast'),
            ctx.run.config.currency,
          ),
          dataQuality: dataQualitySection(metricsOf('clean')),
          features: await featuresSection(duck, files.features),
          segments,
          cohorts: await cohortsSection(duck, files.features?.cohorts),
          clv: await clvSection(duck, files.clv, files.segment?.segments),
          churn: await churnSection(duck, files.churn, metricsOf('churn'), {
            clvPath: files.clv?.clv,
            segmentsPath: files.segment?.segments,
          }),
          forecast: await forecastSection(duck, files.forecast, metricsOf('forecast')),
          forecastSeries: await forecastSeriesSection(duck, files.forecast, metricsOf('forecast')),
          experiments: experimentsSection(
            metricsOf('experiment'),
            ctx.run.config.experiment.srmThreshold,
            policyGoals(ctx.run.config.experiment.policies),
          ),
          recommend: await recommendSection(files.recommend?.summary, metricsOf('recommend')),
          topProducts: await topProducts(duck, files.clean?.transactions),
          eda: await edaSection(duck, {
            transactionsPath: files.clean?.transactions,
            customerFeaturesPath: files.features?.customerFeatures,
            segmentsPath: files.segment?.segments,
            cutoff: ctx.run.cutoff,
            cleanMetrics: metricsOf('clean'),
            outlierMethod: ctx.run.config.outliers?.method,
          }),
          valueModels: await valueModelsSection(
            duck,
            files.churn,
            metricsOf('churn'),
            files.segment?.segments,
          ),
          experimentDetail: await experimentDetailSection(files.experiment?.results),
          categorySeason: await categorySeasonSection(files.features?.insights),
          attributeTests: await attributeTestsSection(files.features?.attributeTests),
          segmentAttributeProfiles: await segmentAttributeProfilesSection(files.segment?.attributeProfiles),
          unavailable: unavailableReasons(ctx),
        };
        ctx.heartbeat({ step: 'gathered' });

        const crm = await crmRows(duck, files, segments);
        const attributeFields = files.clean?.customers
          ? (ctx.run.config.attributes?.customers?.fields ?? [])
          : [];
        if (attributeFields.length > 0) {
          const values = await crmAttributeValues(duck, files.clean!.customers, attributeFields);
          for (const row of crm) row.attributes = values.get(row.customerId);
        }
        const csvPath = join(ctx.scratchDir, 'crm_export.csv');
        await writeFile(csvPath, await runYielding(crmCsvSteps(crm, crmAttributeColumns(attributeFields))));
        data.exports = [
          {
            name: 'CRM export',
            uri: ctx.store.uri(
              `${ctx.outputPrefix ?? `runs/${ctx.run.dataset}/${ctx.run.month}/${ctx.run.runId}/report/`}crm_export.csv`,
            ),
            rows: crm.length,
            description:
              'one row per customer: segment, persona, RFM cell, CLV, P(alive), churn probability, suggested action, top 3 recommended products, high-value probability (95% interval), expected purchases, first recommended category and why',
          },
        ];
        const html = await runYielding(reportSteps(data));
        const htmlPath = join(ctx.scratchDir, 'report.html');
        await writeFile(htmlPath, html);
        const sections = (
          [
            'dataQuality',
            'features',
            'segments',
            'cohorts',
            'clv',
            'churn',
            'forecast',
            'experiments',
            'recommend',
            'topProducts',
            'eda',
            'valueModels',
            'experimentDetail',
            'categorySeason',
            'forecastSeries',
          ] as const
        ).filter((s) => data[s] !== undefined);
        const outputs: Record<string, StageOutputFile> = {
          html: { path: htmlPath },
          crm: { path: csvPath, rows: crm.length },
        };
        return {
          outputs,
          metrics: {
            headlines: data.headlines ?? null,
            sections: [...sections],
            missing: Object.keys(data.unavailable ?? {}),
            crmRows: crm.length,
            htmlBytes: Buffer.byteLength(html),
          },
        };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
});

/** The configured policies' goals, in the report's shape (the report says them in words). */
function policyGoals(policies: RunConfig['experiment']['policies']): ReportPolicyGoal[] {
  return policies.flatMap((p) => (p.goal ? [{ policy: p.name, ...p.goal }] : []));
}

/** Sections that cannot be shown for a reason the stages' statuses do not tell. */
function unavailableReasons(ctx: StageContext): ReportData['unavailable'] {
  const reasons: NonNullable<ReportData['unavailable']> = {};
  if (ctx.upstream.forecast && ctx.upstream.forecast.metrics.model === null) {
    reasons.forecast = `no forecast: ${reasonOf(ctx.upstream.forecast.metrics)}`;
  }
  if (ctx.upstream.churn && ctx.upstream.churn.metrics.model === null) {
    reasons.churn = `no churn model: ${reasonOf(ctx.upstream.churn.metrics)}`;
  }
  if (ctx.upstream.experiment) {
    const experiments = ctx.upstream.experiment.metrics.experiments as unknown[] | undefined;
    const policies = ctx.upstream.experiment.metrics.policies as unknown[] | undefined;
    if (!experiments?.length && !policies?.length) {
      reasons.experiments = (
        (ctx.upstream.experiment.metrics.notes as string[] | undefined) ?? ['no experiments or policies']
      ).join('; ');
    }
  }
  return reasons;
}

/** One row per customer of the CLV output, with persona, churn probability and the suggested action. */
async function crmRows(
  duck: Duck,
  files: LocalOutputs,
  segments: ReportSegments | undefined,
): Promise<CrmRow[]> {
  const base = files.clv?.clv ?? files.churn?.scores ?? files.segment?.segments;
  if (!base) return [];
  // clv names its horizon in the column (expected_purchases_12m for 12 months).
  const expectedPurchases = files.clv?.clv
    ? (await columnNames(duck, files.clv.clv)).find((c) => /^expected_purchases_\d+m$/.test(c))
    : undefined;
  const actions = new Map((segments?.personas ?? []).map((p) => [p.name, p.actions]));
  if (segments?.noNetPurchase) actions.set(segments.noNetPurchase.name, segments.noNetPurchase.actions);
  // Paged (pagedRows.ts): one customer per row, 50,000 rows at ten times the demo would otherwise be
  // converted to objects in one synchronous call.
  return pagedRows<
    {
      customer_id: string;
      segment: number | null;
      persona: string | null;
      rfm_cell: string | null;
      rule: string | null;
      clv: number | null;
      p_alive: number | null;
      churn_probability: number | null;
      recommendations: { id: string; name: string }[] | null;
      top_category: string | null;
      top_category_reason: string | null;
      no_net_purchase: boolean | null;
      high_value_probability: number | null;
      high_value_lower95: number | null;
      high_value_upper95: number | null;
      expected_purchases: number | null;
    },
    CrmRow
  >(
    duck,
    {
      orderBy: 'customer_id',
      table: 'report_crm_rows',
      select: `SELECT b.customer_id,
            ${files.segment?.segments ? `s.segment, s.persona, s.rfm_cell, ${(await hasColumn(duck, files.segment.segments, 'rule')) ? 's.rule' : 'NULL::VARCHAR AS rule'}` : 'NULL::INTEGER AS segment, NULL::VARCHAR AS persona, NULL::VARCHAR AS rfm_cell, NULL::VARCHAR AS rule'},
            ${files.segment?.segments && (await hasColumn(duck, files.segment.segments, 'no_net_purchase')) ? 's.no_net_purchase' : 'NULL::BOOLEAN AS no_net_purchase'},
            ${files.clv?.clv ? 'c.clv, c.p_alive' : 'NULL::DOUBLE AS clv, NULL::DOUBLE AS p_alive'},
            ${files.churn?.scores ? 'h.churn_probability' : 'NULL::DOUBLE AS churn_probability'},
            ${files.churn?.scores && (await hasColumn(duck, files.churn.scores, 'high_value_probability')) ? 'h.high_value_probability, h.high_value_lower95, h.high_value_upper95' : 'NULL::DOUBLE AS high_value_probability, NULL::DOUBLE AS high_value_lower95, NULL::DOUBLE AS high_value_upper95'},
            ${expectedPurchases ? `c.${sqlIdent(expectedPurchases)}::DOUBLE AS expected_purchases` : 'NULL::DOUBLE AS expected_purchases'},
            ${files.recommend?.recommendations ? 'r.recommendations' : 'NULL AS recommendations'},
            ${files.recommend?.categoryRecommendations ? 'rc.category AS top_category, rc.reason AS top_category_reason' : 'NULL::VARCHAR AS top_category, NULL::VARCHAR AS top_category_reason'}
     FROM read_parquet(${sqlString(base)}) b
     ${files.segment?.segments ? `LEFT JOIN read_parquet(${sqlString(files.segment.segments)}) s USING (customer_id)` : ''}
     ${files.clv?.clv ? `LEFT JOIN read_parquet(${sqlString(files.clv.clv)}) c USING (customer_id)` : ''}
     ${files.churn?.scores ? `LEFT JOIN read_parquet(${sqlString(files.churn.scores)}) h USING (customer_id)` : ''}
     ${
       files.recommend?.recommendations
         ? `LEFT JOIN (SELECT customer_id, list({'id': product_id, 'name': coalesce(product_name, product_id)} ORDER BY rank)
                         FILTER (WHERE rank <= ${CRM_RECOMMENDATIONS}) AS recommendations
                       FROM read_parquet(${sqlString(files.recommend.recommendations)}) GROUP BY customer_id) r USING (customer_id)`
         : ''
     }
     ${
       files.recommend?.categoryRecommendations
         ? `LEFT JOIN (SELECT customer_id, category, reason
                       FROM read_parquet(${sqlString(files.recommend.categoryRecommendations)}) WHERE rank = 1) rc USING (customer_id)`
         : ''
     }`,
    },
    (r) => ({
      customerId: r.customer_id,
      segment: r.segment === null ? '' : String(r.segment),
      persona: r.persona ?? '',
      rfmCell: r.rfm_cell ?? '',
      personaRule: r.rule ?? '',
      clv: r.clv,
      // BG/NBD gives P(alive) = 1 to anyone without a repeat purchase; for a customer who returned everything
      // that reads as "certainly active". Left empty: the persona says what is known (no net purchase).
      pAlive: r.no_net_purchase ? null : r.p_alive,
      churnProbability: r.churn_probability,
      suggestedAction: suggestAction({
        personaActions: actions.get(r.persona ?? '') ?? [],
        // someone who kept nothing is no retention case, whatever the churn model says
        churnProbability: r.no_net_purchase ? null : r.churn_probability,
      }),
      recommendations: (r.recommendations ?? []).map((x) => ({ productId: x.id, name: x.name })),
      highValueProbability: r.high_value_probability,
      highValueLower95: r.high_value_lower95,
      highValueUpper95: r.high_value_upper95,
      expectedPurchases: r.expected_purchases,
      topCategory:
        r.top_category === null ? null : { category: r.top_category, reason: r.top_category_reason ?? '' },
    }),
  );
}

/** The column names of a Parquet file. */
async function columnNames(duck: Duck, path: string): Promise<string[]> {
  const rows = await duck.all<{ column_name: string }>(
    `SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(path)}))`,
  );
  return rows.map((r) => r.column_name);
}

/** Whether a Parquet file has a column (segments written before decision rules have no `rule`). */
async function hasColumn(duck: Duck, path: string, column: string): Promise<boolean> {
  return (await columnNames(duck, path)).includes(column);
}

function reasonOf(metrics: Record<string, unknown>): string {
  return typeof metrics.reason === 'string' ? metrics.reason : 'history too short';
}
