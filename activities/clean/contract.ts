/** What the report reads of clean: its metrics. Other activities import clean through this file only. */
import type { QualityGateOutcome } from './qualityGates';
import type { QuarantineReason } from './rules';
import type { ExtensionColumnMetrics } from './extensionColumns';

export interface CleanMetrics extends Record<string, unknown> {
  inputRows: number;
  outputRows: number;
  quarantinedRows: number;
  quarantinedByReason: Record<QuarantineReason, number>;
  duplicateRows: number;
  afterCutoffRows: number;
  customers: number;
  returnRows: number;
  outlierRows: number;
  outlierBounds: { low: number; high: number };
  /** Kept lines flagged line_kind = 'non_merchandise' (part of outputRows: kept, never dropped). */
  nonMerchandiseRows: number;
  /** Kept lines that are merchandise: outputRows = merchandiseRows + nonMerchandiseRows. */
  merchandiseRows: number;
  /** Kept non-merchandise lines per product code (codes with none are omitted). */
  nonMerchandiseByCode: Record<string, number>;
  /** Net amount of the kept non-merchandise lines (postage charged minus discounts and credits). */
  nonMerchandiseAmount: number;
  firstTs: string | null;
  lastTs: string | null;
  /** Outcome of each data-quality gate (clean.quality); a failed gate fails the stage instead. */
  qualityGates?: QualityGateOutcome[];
  /** Present when the dataset has events: the same accounting for them. */
  events?: EventCleanMetrics;
  assignments?: { inputRows: number; outputRows: number; afterCutoffRows: number; experiments: number };
  /** S: the customer shards each kept table is also written in (lib/shards.ts; absent before version 4). */
  shards?: number;
  /** Declared extension columns (ext_<name>), when the dataset has any: bad values and kept rows valued. */
  extensionColumns?: ExtensionColumnMetrics;
}

export interface EventCleanMetrics {
  inputRows: number;
  outputRows: number;
  quarantinedRows: number;
  quarantinedByReason: Record<string, number>;
  duplicateRows: number;
  afterCutoffRows: number;
  customers: number;
  sessions: number;
  extensionColumns?: ExtensionColumnMetrics;
}
