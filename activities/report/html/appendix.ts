/** The report's appendix: reference material after both pages. */
import { escapeHtml as esc } from '../format';
import { type Ctx, table, code, notAvailable, unavailableReason } from './blocks';

/**
 * Reference material after both pages: the feature dictionary (30-odd rows) would otherwise fill the
 * operational page that answers "did the run work?". Collapsed (<details>), so it costs one line until opened.
 */
export function appendix(ctx: Ctx): string {
  const features = ctx.data.features;
  const body = !features
    ? notAvailable(unavailableReason(ctx.data, 'features'))
    : features.dictionary.length === 0
      ? notAvailable('no features were defined')
      : '<p class="lede">Per-customer features computed at the cutoff, used by segmentation and churn.</p>' +
        table(
          [{ label: 'Feature' }, { label: 'Definition' }, { label: 'Unit' }],
          features.dictionary.map((f) => [code(f.name), f.definition, f.unit]),
        );
  const count = features ? ` (${features.dictionary.length} features)` : '';
  return (
    '<section class="page" id="appendix"><div class="page-head"><h2>Appendix</h2>' +
    '<span>Reference: what each customer feature means.</span></div>' +
    `<section class="card" id="feature-dictionary"><details class="appendix"><summary>${esc(`Feature dictionary${count}`)}</summary>` +
    body +
    '</details></section></section>'
  );
}
