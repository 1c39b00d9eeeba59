/**
 * Results the stages compute and the report used to leave in S3: the high-value models of the churn stage
 * (compared on their shared holdout, with coefficient intervals, the tree's rules and the spend regression
 * when present), high-value and churn rates per persona, and the experiments' per-segment breakdown (Holm
 * adjusted), treatment x segment interaction test and power / minimum detectable effect.
 */
import { readFile } from 'node:fs/promises';
import type { Duck } from '../../lib/duck';
import { sqlString } from '../../lib/duck';
import { cochranQ } from '../../lib/numeric/heterogeneity';
import type {
  ReportCategorySeason,
  ReportCoefficient,
  ReportExperimentDetail,
  ReportSegmentTest,
  ReportValueModels,
} from './edaModel';

const readJson = async <T>(path: string | undefined): Promise<T | undefined> =>
  path ? (JSON.parse(await readFile(path, 'utf8')) as T) : undefined;

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

interface Coefficient {
  name: string;
  mean?: number;
  estimate?: number;
  lower: number;
  upper: number;
}

/** The parts of the churn stage's model.json that the value-model card reads. */
interface ChurnModelValueParts {
  highValue?: {
    bayesian?: { scoring?: { coefficients?: Coefficient[] }; training?: { coefficients?: Coefficient[] } };
    tree?: {
      metrics?: { accuracy?: number; auc?: number; brier?: number };
      depth?: number;
      rules?: { text: string; customers: number; highValueShare: number }[];
    };
    spendRegression?: {
      coefficients?: Coefficient[];
      r2?: number;
      holdoutR2?: number;
      n?: number;
    };
  };
}

const coefficients = (list: Coefficient[] | undefined): ReportCoefficient[] =>
  (list ?? [])
    .filter((c) => c.name !== 'intercept')
    .map((c) => ({ name: c.name, estimate: c.estimate ?? c.mean ?? NaN, lower: c.lower, upper: c.upper }));

/** The value-model card: undefined when the churn stage fitted no high-value model. */
export async function valueModelsSection(
  duck: Duck,
  churnFiles: Record<string, string> | undefined,
  churnMetrics: Record<string, unknown> | undefined,
  segmentsPath: string | undefined,
): Promise<ReportValueModels | undefined> {
  const hv = churnMetrics?.highValue as Record<string, unknown> | null | undefined;
  if (!hv || !churnFiles?.model) return undefined;
  const document = (await readJson<ChurnModelValueParts>(churnFiles.model)) ?? {};
  const tree = document.highValue?.tree;
  const regression = document.highValue?.spendRegression;
  const models: ReportValueModels['models'] = [
    { model: 'Majority class', accuracy: finite(hv.majorityAccuracy), auc: 0.5, brier: null },
    { model: 'Logistic (L2)', accuracy: finite(hv.accuracy), auc: finite(hv.auc), brier: finite(hv.brier) },
    {
      model: 'Bayesian logistic',
      accuracy: finite(hv.bayesianAccuracy),
      auc: finite(hv.bayesianAuc),
      brier: finite(hv.bayesianBrier),
    },
  ];
  if (tree?.metrics) {
    models.push({
      model: `Decision tree (depth ${tree.depth ?? '?'})`,
      accuracy: finite(tree.metrics.accuracy),
      auc: finite(tree.metrics.auc),
      brier: finite(tree.metrics.brier),
    });
  }
  const bySegment =
    churnFiles.scores && segmentsPath
      ? await duck.all<{
          segment: string;
          customers: number;
          churnRate: number | null;
          highValueRate: number | null;
        }>(
          `SELECT coalesce(s.persona, 'unsegmented') AS segment, count(*)::INTEGER AS customers,
                  avg(h.churn_probability)::DOUBLE AS "churnRate", avg(h.high_value_probability)::DOUBLE AS "highValueRate"
           FROM read_parquet(${sqlString(churnFiles.scores)}) h LEFT JOIN read_parquet(${sqlString(segmentsPath)}) s USING (customer_id)
           GROUP BY ALL ORDER BY customers DESC, segment`,
        )
      : [];
  return {
    threshold: finite(hv.threshold),
    positiveRate: finite(hv.positiveRate),
    majorityAccuracy: finite(hv.majorityAccuracy),
    models,
    coefficients: coefficients(
      document.highValue?.bayesian?.training?.coefficients ??
        document.highValue?.bayesian?.scoring?.coefficients,
    ),
    ...(tree?.rules ? { treeRules: tree.rules } : {}),
    ...(regression?.coefficients
      ? {
          spendRegression: {
            coefficients: coefficients(regression.coefficients),
            r2: finite(regression.r2),
            holdoutR2: finite(regression.holdoutR2),
            n: regression.n ?? 0,
          },
        }
      : {}),
    bySegment: bySegment.map((r) => ({
      segment: r.segment,
      customers: Number(r.customers),
      churnRate: finite(r.churnRate),
      highValueRate: finite(r.highValueRate),
    })),
  };
}

/** The parts of experiment_results.json this module reads (the stage's contract holds the full type). */
interface ExperimentResultsParts {
  experiments?: {
    id: string;
    analysis: {
      treatments: {
        treatment: string;
        metrics: {
          metric: string;
          minimumDetectableEffect?: { absolute: number; relative: number };
          powerAtPlannedLift?: number;
        }[];
      }[];
      segments: Omit<ReportSegmentTest, 'experiment'>[];
    } | null;
  }[];
}

/** Per-segment A/B, interaction test and power of the analysed experiments; undefined when none. */
export async function experimentDetailSection(
  resultsPath: string | undefined,
): Promise<ReportExperimentDetail | undefined> {
  const results = await readJson<ExperimentResultsParts>(resultsPath);
  const analysed = (results?.experiments ?? []).filter((e) => e.analysis);
  if (analysed.length === 0) return undefined;
  const detail: ReportExperimentDetail = { segments: [], interactions: [], power: [] };
  for (const e of analysed) {
    const analysis = e.analysis!;
    for (const s of analysis.segments) {
      detail.segments.push({
        experiment: e.id,
        segment: s.segment,
        treatment: s.treatment,
        metric: s.metric,
        customersControl: s.customersControl,
        customersTreatment: s.customersTreatment,
        controlValue: finite(s.controlValue),
        treatmentValue: finite(s.treatmentValue),
        lift: finite(s.lift),
        pValue: finite(s.pValue),
        adjustedPValue: finite(s.adjustedPValue),
      });
    }
    for (const t of analysis.treatments) {
      // Conversion effect per segment as an absolute difference with its binomial variance.
      const rows = analysis.segments.filter((s) => s.treatment === t.treatment && s.metric === 'conversion');
      const d: number[] = [];
      const v: number[] = [];
      for (const s of rows) {
        const pc = s.controlValue ?? NaN;
        const pt = s.treatmentValue ?? NaN;
        if (!(s.customersControl > 0 && s.customersTreatment > 0)) continue;
        d.push(pt - pc);
        v.push((pt * (1 - pt)) / s.customersTreatment + (pc * (1 - pc)) / s.customersControl);
      }
      const test = cochranQ(d, v);
      if (test) {
        detail.interactions.push({
          experiment: e.id,
          treatment: t.treatment,
          q: test.q,
          df: test.df,
          pValue: test.pValue,
          segments: test.k,
        });
      }
      for (const m of t.metrics) {
        detail.power.push({
          experiment: e.id,
          treatment: t.treatment,
          metric: m.metric,
          mde: finite(m.minimumDetectableEffect?.absolute),
          mdeRelative: finite(m.minimumDetectableEffect?.relative),
          powerAtPlannedLift: finite(m.powerAtPlannedLift),
        });
      }
    }
  }
  return detail;
}

/** The parts of the features stage's insights.json the category x season table reads. */
interface CategorySeasonParts {
  categorySeason?: {
    seasons: string[];
    cells: { category: string; season: string; n: number; mean: number }[];
    anova: {
      a: { pValue: number | null; partialEtaSquared: number };
      b: { pValue: number | null; partialEtaSquared: number };
      interaction: { pValue: number | null; partialEtaSquared: number; df: number };
    } | null;
    skippedReason: string | null;
  };
}

/** Category x season cell means and the two-way ANOVA's p-values; undefined when features wrote none. */
export async function categorySeasonSection(
  insightsPath: string | undefined,
): Promise<ReportCategorySeason | undefined> {
  const cs = (await readJson<CategorySeasonParts>(insightsPath))?.categorySeason;
  if (!cs) return undefined;
  return {
    seasons: cs.seasons,
    cells: cs.cells.map(({ category, season, n, mean }) => ({ category, season, n, mean })),
    categoryPValue: finite(cs.anova?.a.pValue),
    seasonPValue: finite(cs.anova?.b.pValue),
    interactionPValue: finite(cs.anova?.interaction.pValue),
    interactionEtaSquared: finite(cs.anova?.interaction.partialEtaSquared),
    skippedReason: cs.skippedReason,
  };
}
