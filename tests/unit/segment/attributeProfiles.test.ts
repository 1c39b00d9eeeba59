/**
 * Segment profiles of the extension-column and attribute features (issue 14): per-segment means equal the
 * means computed by hand, only ext_* and attr_* columns are profiled, nothing is written without them, and
 * the report card shows shares and indicators in percent beside the population.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDuck } from '../../../lib/duck';
import { writeSegmentAttributeProfiles } from '../../../activities/segment/attributeProfiles';
import { segmentAttributeProfilesCard } from '../../../activities/report/cards/segmentAttributeProfiles';
import type { Ctx } from '../../../activities/report/html/blocks';
import type { ReportData } from '../../../activities/report/model';

describe('segment attribute profiles', () => {
  it('writes each segment mean of the ext_ and attr_ features, and the card shows them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custflow-profiles-'));
    try {
      const segments = join(dir, 'segments.parquet');
      const path = join(dir, 'profiles.json');
      const written = await withDuck(async (duck) => {
        await duck.run(`CREATE TABLE f AS SELECT * FROM (VALUES
            ('a', 10.0, 1.0, 0.0, 3.0), ('b', 20.0, 0.5, 1.0, 5.0), ('c', 30.0, 0.0, 1.0, 7.0))
          AS t(customer_id, monetary_total, ext_channel_share_app, attr_tier_gold, ext_discount_mean)`);
        await duck.run(`COPY (SELECT * FROM (VALUES ('a', 0), ('b', 0), ('c', 1)) AS t(customer_id, segment))
          TO '${segments}' (FORMAT parquet)`);
        const none = await withDuck(async (other) => {
          await other.run(`CREATE TABLE g AS SELECT 'a' AS customer_id, 1.0 AS monetary_total`);
          return writeSegmentAttributeProfiles(other, {
            featuresSource: 'g',
            segmentsPath: segments,
            path: join(dir, 'none.json'),
          });
        });
        expect(none).toBeUndefined();
        return writeSegmentAttributeProfiles(duck, { featuresSource: 'f', segmentsPath: segments, path });
      });
      expect(written).toEqual({
        columns: ['ext_channel_share_app', 'attr_tier_gold', 'ext_discount_mean'],
        segments: [
          {
            segment: 0,
            customers: 2,
            means: { ext_channel_share_app: 0.75, attr_tier_gold: 0.5, ext_discount_mean: 4 },
          },
          {
            segment: 1,
            customers: 1,
            means: { ext_channel_share_app: 0, attr_tier_gold: 1, ext_discount_mean: 7 },
          },
        ],
        population: {
          customers: 3,
          means: { ext_channel_share_app: 0.5, attr_tier_gold: 2 / 3, ext_discount_mean: 5 },
        },
      });
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(written);
      const ctx = {
        data: {
          features: { dictionary: [{ name: 'attr_tier_gold', definition: '', unit: 'indicator' }] },
        } as unknown as ReportData,
        currency: undefined,
        money: (v: number | null | undefined) => String(v),
        moneyShort: (v: number) => String(v),
      } as Ctx;
      const html = segmentAttributeProfilesCard(ctx, written!);
      expect(html).toContain('Segment profiles: attributes and extension columns');
      expect(html).toContain('75.0%'); // share of app lines in segment 0
      expect(html).toContain('66.7%'); // gold customers overall (an indicator)
      expect(html).toContain('>4.00<'); // a measure's mean as a number
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
