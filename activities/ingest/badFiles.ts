/**
 * `ingest.onBadFile: skip`: a month runs without a delivered file that breaks a rule (a truncated gzip, a
 * wrong header, a value that does not parse) instead of failing. The file is not read at all (never half
 * of it); the run's warnings name it and the rule, and its rows are counted as quarantined at file level so
 * that raw rows = rows kept + rows of skipped files still holds.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { withDuck } from '../../lib/duck';
import type { DataValidationError } from '../../lib/errors';
import type { StageWarning } from '../../lib/runTypes';
import type { TableName } from './formats';

export interface SkippedRawFile {
  /** Object key of the file. */
  file: string;
  table: TableName;
  /** The rule it broke, with file, line and column: the message it would have failed the run with. */
  reason: string;
  /** Data rows in the file (header excluded); null when they cannot be counted (see `rowsNote`). */
  rows: number | null;
  /** How `rows` was counted when the file could not be read to its end. */
  rowsNote?: string;
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;

/**
 * Rows of a file that ingest's byte scan rejected, counted as far as the bytes can be read: records end at
 * newlines outside double quotes (when `quoted`), blank records are not counted, the header is not a row.
 * A gzip stream that breaks ends the count there; past `maxBytes` the count stops (a decompression bomb).
 */
export async function countReadableRows(
  path: string,
  options: { quoted: boolean; header: boolean; maxBytes: number },
): Promise<{ rows: number | null; note?: string }> {
  if (path.endsWith('.parquet')) {
    try {
      const rows = await withDuck(
        async (duck) =>
          (
            await duck.one<{ n: number }>('SELECT count(*)::BIGINT AS n FROM read_parquet($path)', {
              path,
            })
          ).n,
        { threads: 1 },
      );
      return { rows: Number(rows) };
    } catch {
      return { rows: null, note: 'not counted: the Parquet file cannot be read' };
    }
  }
  let records = 0;
  let bytes = 0;
  let inQuotes = false;
  let hasContent = false;
  let note: string | undefined;
  const source = createReadStream(path);
  const stream = path.endsWith('.gz') ? source.pipe(createGunzip()) : source;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > options.maxBytes) {
        note = `not counted: the file inflates past ${options.maxBytes} bytes`;
        break;
      }
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i];
        if (byte === NEWLINE) {
          if (!inQuotes && hasContent) records++;
          if (!inQuotes) hasContent = false;
        } else {
          if (options.quoted && byte === QUOTE) inQuotes = !inQuotes;
          if (byte > 0x20) hasContent = true;
        }
      }
    }
  } catch {
    note = 'rows readable before the file broke; rows after the break are unknown';
  } finally {
    source.destroy();
  }
  if (note?.startsWith('not counted')) return { rows: null, note };
  if (hasContent) records++;
  const rows = Math.max(0, records - (options.header ? 1 : 0));
  return note ? { rows, note } : { rows };
}

export function skippedFile(
  file: { key: string; table: TableName },
  error: DataValidationError,
  counted: { rows: number | null; note?: string },
): SkippedRawFile {
  return {
    file: file.key,
    table: file.table,
    reason: error.message,
    rows: counted.rows,
    ...(counted.note ? { rowsNote: counted.note } : {}),
  };
}

/** One warning per skipped file: the file, the rule it broke and the rows left out. */
export function skippedFileWarning(skipped: SkippedRawFile): StageWarning {
  const rows =
    skipped.rows === null
      ? `its rows are not counted (${skipped.rowsNote ?? 'unreadable'})`
      : `its ${skipped.rows} ${skipped.table} rows are counted as quarantined${skipped.rowsNote ? ` (${skipped.rowsNote})` : ''}`;
  return {
    code: 'ingest_file_skipped',
    message: `skipped ${skipped.file} (ingest.onBadFile: skip): ${skipped.reason}; ${rows}`,
  };
}
