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
 *     transactions:                   # extension columns on transaction lines (issue 14)
 *       fields:
 *         - { name: discount, type: number, role: measure }
 *         - { name: payment, column: PaymentMethod, type: string, role: dimension }
 *     events:
 *       fields:
 *         - { name: duration_s, type: number, role: measure }
 *     featureLevels: 8                 # dimension levels kept as feature columns; the rest are "other"
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

/** Field names repeated, and measures that are not numbers: the same rules for every table's fields. */
function checkFields(fields: readonly AttributeField[], ctx: z.RefinementCtx): void {
  const names = fields.map((f) => f.name);
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length > 0)
    ctx.addIssue({ code: 'custom', message: `field name(s) ${[...new Set(repeated)].join(', ')} repeated` });
  const columns = fields.map((f) => f.column ?? f.name);
  const repeatedColumns = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (repeatedColumns.length > 0)
    ctx.addIssue({
      code: 'custom',
      message: `column(s) ${[...new Set(repeatedColumns)].join(', ')} mapped to more than one field`,
    });
  for (const f of fields)
    if (f.role === 'measure' && f.type !== 'number')
      ctx.addIssue({ code: 'custom', message: `field ${f.name}: a measure must have type number` });
}

/**
 * Extension columns of a line table (transactions or events): columns beyond the canonical ones that ingest
 * accepts because they are declared here, types and reads them (a bad value becomes NULL and a row of
 * ingest's extension_issues.parquet), and carries through clean as `ext_<name>`.
 */
export const extensionColumnsSchema = z
  .object({ fields: z.array(attributeFieldSchema).min(1) })
  .strict()
  .superRefine((value, ctx) => checkFields(value.fields, ctx));

export type ExtensionColumns = z.infer<typeof extensionColumnsSchema>;

/** The prefix of an extension column in ingest's and clean's tables (`ext_discount`): never a canonical name. */
export const EXTENSION_PREFIX = 'ext_';

/** The column of ingest's line tables listing a line's extension values that did not read as their type. */
export const EXTENSION_ISSUES_COLUMN = 'ext_issues';

export const attributesSection = z
  .object({
    customers: z
      .object({
        idColumn: z.string().min(1).default('customer_id'),
        fields: z.array(attributeFieldSchema).min(1),
      })
      .strict()
      .superRefine((value, ctx) => {
        checkFields(value.fields, ctx);
        if (value.fields.some((f) => f.name === 'customer_id'))
          ctx.addIssue({ code: 'custom', message: 'customer_id is the id, not an attribute field' });
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
    /** Extension columns on transaction lines (name, type, role), beyond the canonical columns. */
    transactions: extensionColumnsSchema.optional(),
    /** Extension columns on browsing events. */
    events: extensionColumnsSchema.optional(),
    /**
     * Feature columns per dimension (extension columns' shares of lines, customer attributes' one-hot): its
     * most frequent levels, at most this many; the rest are pooled as "other".
     */
    featureLevels: z.number().int().min(1).max(50).default(8),
  })
  .strict();

export type AttributesConfig = z.infer<typeof attributesSection>;
