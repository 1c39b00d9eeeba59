/**
 * The executive summary: one paragraph of sentences filled with the run's numbers (no free-form text
 * generation). A sentence whose numbers are missing is left out, never filled with a guess.
 */
import { escapeHtml as esc, fmtInt, fmtNum, fmtPct, isNum } from '../format';
import { type Ctx, sum } from './blocks';

/** The sentences of the summary, in order (exported for tests). */
export function summarySentences(ctx: Ctx): string[] {
  const { data } = ctx;
  const out: string[] = [];
  const eda = data.eda;
  if (eda) {
    out.push(
      `Up to the cutoff the data hold ${ctx.money(eda.revenue)} of revenue from ${fmtInt(eda.customers)} customers in ${fmtInt(eda.orders)} orders.`,
    );
    const dim = eda.dimension;
    if (dim && dim.rows.length > 0 && dim.totalRevenue > 0) {
      const top = dim.rows[0];
      out.push(
        `${top.value} brings ${fmtPct(top.revenue / dim.totalRevenue)} of merchandise revenue, across ${fmtInt(dim.distinct)} ${dim.dimension} values.`,
      );
    }
    const cat = eda.categories?.categories[0];
    if (cat) out.push(`The leading category, ${cat.category}, brings ${fmtPct(cat.share)} of it.`);
    const product = eda.products?.products[0];
    if (product) out.push(`The leading product, ${product.name}, brings ${fmtPct(product.share)} of it.`);
    const repeat = eda.newVsReturning?.repeatWithin;
    if (repeat && isNum(repeat.rate)) {
      out.push(`${fmtPct(repeat.rate)} of new customers ordered again within ${repeat.days} days.`);
    }
  }
  const personas = data.segments?.personas ?? [];
  if (personas.length > 0) {
    const largest = [...personas].sort((a, b) => b.customers - a.customers)[0];
    const richest = [...personas].sort((a, b) => b.revenueShare - a.revenueShare)[0];
    out.push(
      `${personas.length} personas: the largest, ${largest.name}, holds ${fmtPct(largest.customerShare)} of customers; ${richest.name} brings the most revenue (${fmtPct(richest.revenueShare)}).`,
    );
  }
  if (data.clv) {
    const total = sum(data.clv.bySegment.map((s) => s.totalClv));
    if (total > 0) out.push(`Expected customer lifetime value totals ${ctx.money(total)}.`);
  }
  if (data.churn) {
    out.push(
      `The churn model ranks churners with AUC ${fmtNum(data.churn.auc, 3)} against ${fmtNum(data.churn.baselineAuc, 3)} for recency alone.`,
    );
  }
  const vm = data.valueModels;
  if (vm && isNum(vm.majorityAccuracy)) {
    const best = vm.models
      .filter((m) => m.model !== 'Majority class' && isNum(m.accuracy))
      .sort((a, b) => (b.accuracy ?? 0) - (a.accuracy ?? 0))[0];
    if (best && isNum(best.accuracy)) {
      out.push(
        `Of the models that predict above-median spend in the next window, ${best.model} is the most accurate on the holdout (${fmtPct(best.accuracy)}, against ${fmtPct(vm.majorityAccuracy)} for always guessing the majority).`,
      );
    }
  }
  return out;
}

export function executiveSummary(ctx: Ctx): string {
  const sentences = summarySentences(ctx);
  if (sentences.length === 0) return '';
  return `<section class="card" id="summary"><h3>Executive summary</h3><p>${esc(sentences.join(' '))}</p></section>`;
}
