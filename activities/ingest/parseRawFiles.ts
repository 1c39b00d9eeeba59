/**
 * Parsing checked local files into ingest's Parquet outputs, in a DuckDB of its own (a retry starts
 * clean). `tables` says which: `all` (the unsharded stage, and the sharded stage's reduce when the scope
 * has no transaction files: transactions are then derived from RetailRocket events), `transactions` (one
 * file group of the sharded stage) or `sideTables` (its reduce otherwise: events, customers, assignments).
 */
import { join } from 'node:path';
import { withDuck } from '../../lib/duck';
import type { StageWarning } from '../../lib/runTypes';
import type { StageContext, StageOutputFile } from '../../lib/stage';
import { parseCustomerFiles, type CustomerTableMetrics } from './customers';
import { deriveTransactionsFromEvents, type DerivedTransactionMetrics } from './eventTransactions';
import type { TableName } from './formats';
import { parseTransactionFiles } from './parse';
import { extensionFields } from './extensionColumns';
import type { LocalEntry } from './readRawFiles';
import { parseAssignmentFiles, parseEventFiles } from './sideTables';

export interface ParsedRawFiles {
  outputs: Record<string, StageOutputFile>;
  /** Absent when `tables` is `sideTables` and the scope has transaction files (the groups parse them). */
  transactions?: { rows: number; rowsByFormat: Record<string, number> };
  events?: { rows: number; rowsByFormat: Record<string, number> };
  assignments?: { rows: number };
  derivedFromEvents?: DerivedTransactionMetrics;
  customerTable?: CustomerTableMetrics;
  warnings: StageWarning[];
}

export type TablesToParse = 'all' | 'transactions' | 'sideTables';

export async function parseRawFiles(
  ctx: StageContext,
  local: readonly LocalEntry[],
  tables: TablesToParse = 'all',
): Promise<ParsedRawFiles> {
  const ofTable = (table: TableName) => local.filter((f) => f.file.table === table);
  return withDuck(
    async (duck) => {
      const outputs: Record<string, StageOutputFile> = {};
      const transactionsPath = join(ctx.scratchDir, 'transactions.parquet');
      const parsed: ParsedRawFiles = { outputs, warnings: [] };
      if (tables !== 'sideTables' && ofTable('transactions').length > 0) {
        parsed.transactions = await parseTransactionFiles(
          duck,
          ofTable('transactions'),
          transactionsPath,
          (detail) => ctx.heartbeat(detail),
          // declared extension columns: typed into each line (with its own ext_issues), so file groups merge as is
          extensionFields(ctx.run.config.attributes, 'transactions'),
        );
      } else if (tables === 'all' && ofTable('transactions').length === 0) {
        const derived = await deriveTransactionsFromEvents(
          duck,
          {
            events: ofTable('events').filter((f) => f.file.format === 'retailrocket'),
            itemProperties: ofTable('item_properties'),
            categoryTree: ofTable('category_tree'),
          },
          transactionsPath,
        );
        parsed.transactions = { rows: derived.rows, rowsByFormat: { retailrocket: derived.rows } };
        parsed.derivedFromEvents = derived.metrics;
        parsed.warnings.push(...derived.warnings);
      }
      if (parsed.transactions)
        outputs.transactions = { path: transactionsPath, rows: parsed.transactions.rows };
      if (tables === 'transactions') return parsed;
      if (ofTable('events').length > 0) {
        const path = join(ctx.scratchDir, 'events.parquet');
        parsed.events = await parseEventFiles(
          duck,
          ofTable('events'),
          path,
          extensionFields(ctx.run.config.attributes, 'events'),
        );
        outputs.events = { path, rows: parsed.events.rows };
      }
      if (ofTable('customers').length > 0) {
        const paths = {
          customers: join(ctx.scratchDir, 'customers.parquet'),
          quarantine: join(ctx.scratchDir, 'customers_quarantine.parquet'),
        };
        parsed.customerTable = await parseCustomerFiles(
          duck,
          ofTable('customers'),
          ctx.run.config.attributes?.customers,
          paths,
        );
        outputs.customers = { path: paths.customers, rows: parsed.customerTable.outputRows };
        outputs.customersQuarantine = {
          path: paths.quarantine,
          rows: Object.values(parsed.customerTable.quarantinedByReason).reduce((a, b) => a + b, 0),
        };
      }
      if (ofTable('assignments').length > 0) {
        const path = join(ctx.scratchDir, 'assignments.parquet');
        parsed.assignments = await parseAssignmentFiles(duck, ofTable('assignments'), path);
        outputs.assignments = { path, rows: parsed.assignments.rows };
      }
      return parsed;
    },
    { tempDirectory: join(ctx.scratchDir, 'duck') },
  );
}
