/**
 * The per-segment breakdown of an experiment: each segment's treatment against its own control, for
 * conversion (two-proportion z-test) and revenue per customer (Welch), Holm-adjusted across all segments and
 * treatments of a metric. A segment arm below the minimum size is described but not tested (NaN p-value).
 */
import { holmAdjust } from './holm';
import { twoProportionZTest, welchTTest } from './twoSampleTests';
import type { SampleSummary, TwoSampleComparison } from './twoSampleTests';

/** One segment, treatment and metric of the breakdown. */
export interface SegmentResult {
  segment: string;
  treatment: string;
  metric: 'conversion' | 'revenuePerCustomer';
  customersControl: number;
  customersTreatment: number;
  controlValue: number;
  treatmentValue: number;
  lift: number;
  ci: [number, number];
  pValue: number;
  /** Holm-Bonferroni over all segments and treatments of this metric. */
  adjustedPValue: number;
}

/** One segment x variant cell: conversions and revenue per customer. */
export interface SegmentCell {
  conversions: number;
  revenue: SampleSummary;
}

/** Every segment x treatment row of both metrics (cells: segment s, variant j at s * variants + j). */
export function segmentBreakdown(
  data: { variantNames: readonly string[] },
  breakdown: { names: readonly string[]; cells: readonly SegmentCell[] },
  control: number,
  confidence: number,
  minArm: number,
): SegmentResult[] {
  const segmentNames = breakdown.names;
  const variantCount = data.variantNames.length;
  const rows: SegmentResult[] = [];
  for (let s = 0; s < segmentNames.length; s++) {
    for (let j = 0; j < variantCount; j++) {
      if (j === control) continue;
      const c = breakdown.cells[s * variantCount + control];
      const t = breakdown.cells[s * variantCount + j];
      const nc = c.revenue.n;
      const nt = t.revenue.n;
      const testable = nc >= minArm && nt >= minArm;
      const base = {
        segment: segmentNames[s],
        treatment: data.variantNames[j],
        customersControl: nc,
        customersTreatment: nt,
      };
      const conversion = testable
        ? twoProportionZTest(c.conversions, nc, t.conversions, nt, confidence)
        : null;
      const revenue = testable ? welchTTest(c.revenue, t.revenue, confidence) : null;
      rows.push(
        segmentRow(
          base,
          'conversion',
          conversion,
          nc > 0 ? c.conversions / nc : NaN,
          nt > 0 ? t.conversions / nt : NaN,
        ),
      );
      rows.push(segmentRow(base, 'revenuePerCustomer', revenue, c.revenue.mean, t.revenue.mean));
    }
  }
  for (const metric of ['conversion', 'revenuePerCustomer'] as const) {
    const family = rows.filter((row) => row.metric === metric);
    const adjusted = holmAdjust(family.map((row) => row.pValue));
    family.forEach((row, k) => (row.adjustedPValue = adjusted[k]));
  }
  return rows;
}

function segmentRow(
  base: Pick<SegmentResult, 'segment' | 'treatment' | 'customersControl' | 'customersTreatment'>,
  metric: SegmentResult['metric'],
  test: TwoSampleComparison | null,
  controlValue: number,
  treatmentValue: number,
): SegmentResult {
  return {
    ...base,
    metric,
    controlValue,
    treatmentValue,
    lift: test ? test.lift : controlValue !== 0 ? treatmentValue / controlValue - 1 : NaN,
    ci: test ? test.ci : [NaN, NaN],
    pValue: test ? test.pValue : NaN,
    adjustedPValue: NaN,
  };
}
