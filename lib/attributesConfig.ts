/**
 * The `attributes` config section: what a dataset knows about its customers beyond their purchases. A
 * customers table (raw/<dataset>/canonical/customers/, one row per customer) holds typed attributes; the
 * client's own column names are mapped here, so a delivered file needs no renaming. Absent, a dataset has
 * no attributes and nothing changes.
 *
 *   attributes:
 *     customers:
 *       idColumn: ClientNo            # the client's column holding the customer id (default customer_id)
 *       fields:
 *         - { name: age_band, column: AgeGroup, type: string, role: dimension }
 *         - { name: income, type: number, role: measure }
 *     tests: { correction: bh, alpha: 0.05, maxLevels: 20 }
 */
import { z } from 'zod';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

export const attributeFieldSchema = z
  .object({
    /** The attribute's name in custflow's outputs (lower snake case). */
    name: z.string().regex(NAME, 'must be lower snake case (a-z, 0-9, _), starting with a letter'),
    /** The client's column header holding it; default `name`. */
    column: z.string().min(1).optional(),
    /** How its text is read: a value that does not read as this type is quarantined, not guessed. */
    type: z.enum(['string', 'number', 'boolean', 'date']),
    /** dimension: a set of levels (compared by ANOVA of spend); measure: a quantity (regressed against spend). */
    role: z.enum(['dimension', 'measure']),
  })
  .strict();

export type AttributeField = z.infer<typeof attributeFieldSchema>;

export const attributesSection = z
  .object({
    customers: z
      .object({
        idColumn: z.string().min(1).default('customer_id'),
        fields: z.array(attributeFieldSchema).min(1),
      })
      .strict()
      .superRefine((value, ctx) => {
        const names = value.fields.map((f) => f.name);
        const repeated = names.filter((n, i) => names.indexOf(n) !== i);
        if (repeated.length > 0)
          ctx.addIssue({
            code: 'custom',
            message: `field name(s) ${[...new Set(repeated)].join(', ')} repeated`,
          });
        if (names.includes('customer_id'))
          ctx.addIssue({ code: 'custom', message: 'customer_id is the id, not an attribute field' });
        for (const f of value.fields)
          if (f.role === 'measure' && f.type !== 'number')
            ctx.addIssue({ code: 'custom', message: `field ${f.name}: a measure must have type number` });
      })
      .optional(),
    /** The attribute tests against customer spend (features/attributeTests.ts). */
    tests: z
      .object({
        /** Multiple-testing correction across the attributes: Benjamini-Hochberg (default) or Holm. */
        correction: z.enum(['bh', 'holm']).default('bh'),
        /** An attribute is reported as associated with spend when its corrected p-value is below this. */
        alpha: z.number().gt(0).lt(1).default(0.05),
        /** A dimension with more levels than this keeps its most frequent ones and pools the rest as "(other)". */
        maxLevels: z.number().int().min(2).max(200).default(20),
      })
      .strict()
      .default(() => ({ correction: 'bh' as const, alpha: 0.05, maxLevels: 20 })),
  })
  .strict();

export type AttributesConfig = z.infer<typeof attributesSection>;
