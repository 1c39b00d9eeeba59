/**
 * Which delivered files a run reads. Raw objects live at raw/<dataset>/<format>/<table>/<name>; a name
 * that carries a date (YYYY-MM-DD or YYYY-MM) covers that day or month, and a file whose period starts
 * after the cutoff belongs to a later run. Files without a date are always read (their rows are scoped
 * by timestamp in clean).
 */
import { DataValidationError } from '../../lib/errors';
import { rawPrefix } from '../../lib/layout';
import type { StoredObject } from '../../lib/objectStore';
import { FORMAT_TABLES, isInputFormat, TABLES, type InputFormat, type TableName } from './formats';

export interface ScopedRawFile extends StoredObject {
  format: InputFormat;
  table: TableName;
  periodStartMs?: number;
  periodEndMs?: number;
}

export interface RawScope {
  inScope: ScopedRawFile[];
  afterCutoff: ScopedRawFile[];
}

const DATE_IN_NAME = /(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)/;

export function filePeriod(name: string): { startMs: number; endMs: number } | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const match = DATE_IN_NAME.exec(base);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), match[3] ? Number(match[3]) : undefined];
  if (month < 1 || month > 12 || (day !== undefined && (day < 1 || day > 31))) return undefined;
  if (day === undefined)
    return { startMs: Date.UTC(year, month - 1, 1), endMs: Date.UTC(year, month, 1) - 1 };
  return { startMs: Date.UTC(year, month - 1, day), endMs: Date.UTC(year, month - 1, day + 1) - 1 };
}

export function selectRawScope(
  dataset: string,
  objects: readonly StoredObject[],
  cutoffMs: number,
): RawScope {
  const prefix = rawPrefix(dataset);
  const scope: RawScope = { inScope: [], afterCutoff: [] };
  for (const object of objects) {
    if (!object.key.startsWith(prefix) || object.key.endsWith('/')) continue;
    const [format, table, ...rest] = object.key.slice(prefix.length).split('/');
    if (!isInputFormat(format) || !(TABLES as readonly string[]).includes(table) || rest.length === 0) {
      throw new DataValidationError({
        file: object.key,
        rule: `raw files must live at raw/<dataset>/<format>/<table>/<name> with format one of ${Object.keys(FORMAT_TABLES).join(', ')} and table one of ${TABLES.join(', ')}`,
      });
    }
    if (!FORMAT_TABLES[format].includes(table as TableName)) {
      throw new DataValidationError({
        file: object.key,
        rule: `format ${format} holds ${FORMAT_TABLES[format].join(', ')}, not ${table}`,
      });
    }
    const period = filePeriod(rest.join('/'));
    const file: ScopedRawFile = {
      ...object,
      format,
      table: table as TableName,
      periodStartMs: period?.startMs,
      periodEndMs: period?.endMs,
    };
    if (period && period.startMs > cutoffMs) scope.afterCutoff.push(file);
    else scope.inScope.push(file);
  }
  return scope;
}
