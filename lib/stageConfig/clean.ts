/**
 * The `clean.quality` config section: a warn and a fail threshold per data-quality gate (null: off). What
 * each gate measures is clean's (activities/clean/qualityGates.ts); the schema lives here because the run
 * config (lib/config.ts) assembles every stage's section and lib does not import stages.
 */
import { z } from 'zod';

const gate = (warn: number | null, fail: number | null) =>
  z
    .object({
      warn: z.number().nonnegative().nullable().default(warn),
      fail: z.number().nonnegative().nullable().default(fail),
    })
    .strict()
    .default(() => ({ warn, fail }));

export const qualityGatesSection = z
  .object({
    /** Share of delivered rows quarantined (0..1). Online Retail quarantines 24.9% (guest checkouts). */
    quarantineShare: gate(0.3, 0.9),
    /** Days from the last kept transaction to the cutoff. */
    staleDays: gate(7, null),
    /** |kept rows / last month's kept rows - 1|: history up to the cutoff should not shrink or jump. */
    rowCountChange: gate(0.5, null),
  })
  .strict();

export type QualityGatesConfig = z.infer<typeof qualityGatesSection>;
export type QualityGateName = keyof QualityGatesConfig;
