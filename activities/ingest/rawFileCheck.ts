/**
 * Every delivered text file is read once, as a stream, before DuckDB sees it, so that nothing is lost
 * without a word:
 * - a gzip stream must reach its end-of-stream marker (a .csv.gz cut at a row boundary is an error, not
 *   rows silently missing) and its checksum must match;
 * - no physical line may be longer than `maxLineBytes` (DuckDB gives 0 rows and no error for a 64 MB line);
 * - decompressed bytes and records per file are capped (a gzip bomb stops at the cap, in constant memory);
 * - the records counted here are what DuckDB must parse: `reconcileRecordCounts` compares the two.
 *
 * A gzip file is inflated to a plain file beside it, which DuckDB then reads: one decompression, checked.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DataValidationError } from '../../lib/errors';

export interface RawFileLimits {
  /** Longest physical line, in bytes (line terminator excluded). */
  maxLineBytes: number;
  /** Most bytes one file may hold once decompressed. */
  maxDecompressedBytes: number;
  /** Most records (non-blank rows, header included) one file may hold. */
  maxRecords: number;
  /**
   * Most decompressed bytes per compressed byte, checked once a file has inflated past
   * RATIO_CHECK_AFTER_BYTES: delimited text compresses 5-30x, a bomb hundreds or thousands of times.
   */
  maxCompressionRatio: number;
}

/** Below this many decompressed bytes the ratio is not checked (small repetitive files are harmless). */
export const RATIO_CHECK_AFTER_BYTES = 64 * 1024 * 1024;

export interface CheckedRawFile {
  /** The plain-text file to parse: the input itself, or its inflated copy. */
  path: string;
  /** Decompressed bytes read. */
  bytes: number;
  /** Physical lines (a last line without a newline counts). */
  lines: number;
  /**
   * Non-blank records, header included: newlines outside double quotes end a record (when `quoted`), and a
   * record of only whitespace is not counted (parsers skip it).
   */
  records: number;
}

const NEWLINE = 0x0a;
const NUL = 0x00;
const QUOTE = 0x22;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * Counts lines and records and enforces the limits while the bytes stream through, one chunk at a time.
 */
class RecordCounter extends Transform {
  bytes = 0;
  lines = 0;
  records = 0;
  private lineBytes = 0;
  private inQuotes = false;
  private recordHasContent = false;
  private lineHasBytes = false;

  constructor(
    private readonly key: string,
    private readonly limits: RawFileLimits,
    private readonly quoted: boolean,
    /** Compressed bytes read so far, for gzip input. */
    private readonly compressedBytes?: () => number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limits.maxDecompressedBytes) {
      callback(
        new DataValidationError({
          file: this.key,
          rule: `a file may hold at most ${this.limits.maxDecompressedBytes} bytes once decompressed (ingest.maxDecompressedBytesPerFile)`,
        }),
      );
      return;
    }
    const compressed = this.compressedBytes?.();
    if (
      compressed !== undefined &&
      this.bytes > RATIO_CHECK_AFTER_BYTES &&
      this.bytes > this.limits.maxCompressionRatio * compressed
    ) {
      callback(
        new DataValidationError(
          {
            file: this.key,
            rule: `a gzip file may inflate at most ${this.limits.maxCompressionRatio} times its compressed size (ingest.maxCompressionRatio): this looks like a decompression bomb`,
          },
          `${compressed} compressed bytes had inflated to ${this.bytes}`,
        ),
      );
      return;
    }
    // DuckDB keeps a NUL inside a value ("p\0x" becomes a product id nobody can match or print); text
    // never holds one, so it means binary data or UTF-16 text: refuse the file at the NUL's line.
    const nul = chunk.indexOf(NUL);
    if (nul >= 0) {
      let line = this.lines + 1;
      for (let at = chunk.indexOf(NEWLINE); at >= 0 && at < nul; at = chunk.indexOf(NEWLINE, at + 1)) line++;
      callback(
        new DataValidationError({
          file: this.key,
          line,
          rule: 'a text file must not hold NUL bytes (0x00): is it binary, or UTF-16 text? Re-save it as UTF-8',
        }),
      );
      return;
    }
    const { maxLineBytes } = this.limits;
    let lineBytes = this.lineBytes;
    let inQuotes = this.inQuotes;
    let hasContent = this.recordHasContent;
    let lineHasBytes = this.lineHasBytes;
    let lines = this.lines;
    let records = this.records;
    // Line by line with indexOf (native speed): quotes and newlines are found, not stepped over byte by byte.
    let nextQuote = this.quoted ? chunk.indexOf(QUOTE) : -1;
    let pos = 0;
    while (pos < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, pos);
      const end = newline < 0 ? chunk.length : newline;
      lineBytes += end - pos;
      if (lineBytes > maxLineBytes) {
        callback(
          new DataValidationError({
            file: this.key,
            line: lines + 1,
            rule: `a line may be at most ${maxLineBytes} bytes long (ingest.maxLineBytes)`,
          }),
        );
        return;
      }
      if (end > pos) lineHasBytes = true;
      while (nextQuote >= 0 && nextQuote < end) {
        inQuotes = !inQuotes;
        nextQuote = chunk.indexOf(QUOTE, nextQuote + 1);
      }
      for (let i = pos; !hasContent && i < end; i++) {
        const byte = chunk[i];
        if (byte !== CR && byte !== SPACE && byte !== TAB) hasContent = true;
      }
      if (newline < 0) break;
      lines++;
      lineBytes = 0;
      lineHasBytes = false;
      if (!inQuotes) {
        if (hasContent) records++;
        hasContent = false;
      }
      pos = newline + 1;
    }
    Object.assign(this, { lineBytes, inQuotes, recordHasContent: hasContent, lineHasBytes, lines, records });
    if (records > this.limits.maxRecords) {
      callback(
        new DataValidationError({
          file: this.key,
          line: lines,
          rule: `a file may hold at most ${this.limits.maxRecords} rows (ingest.maxRowsPerFile)`,
        }),
      );
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.lineHasBytes) this.lines++;
    if (this.recordHasContent) this.records++;
    callback();
  }
}

/**
 * Read `path` (the delivered object `key`) to its end under `limits`. Gzip (by name: .gz) is inflated to a
 * plain file beside it and the compressed copy removed. `quoted`: the format quotes fields with `"`
 * (CSV), so a newline inside quotes does not end a record.
 */
export async function checkRawFile(
  key: string,
  path: string,
  limits: RawFileLimits,
  quoted: boolean,
): Promise<CheckedRawFile> {
  const gzipped = path.endsWith('.gz');
  const source = createReadStream(path);
  const counter = new RecordCounter(key, limits, quoted, gzipped ? () => source.bytesRead : undefined);
  const plainPath = gzipped ? path.slice(0, -'.gz'.length) : path;
  try {
    if (gzipped) {
      await pipeline(source, createGunzip(), counter, createWriteStream(plainPath));
      await rm(path, { force: true });
    } else {
      await pipeline(source, counter, async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) void chunk; // counted in the transform; nothing to keep
      });
    }
  } catch (error) {
    if (gzipped) await rm(plainPath, { force: true });
    if (error instanceof DataValidationError) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw gzipError(key, error as Error);
    throw error;
  }
  return { path: plainPath, bytes: counter.bytes, lines: counter.lines, records: counter.records };
}

function gzipError(key: string, error: Error): DataValidationError {
  const truncated = /unexpected end of file/i.test(error.message);
  return new DataValidationError(
    {
      file: key,
      rule: truncated
        ? 'a gzip file must end with its end-of-stream marker: this one is truncated, and rows after the cut would be lost'
        : 'a gzip file must be a valid gzip stream',
    },
    error.message,
  );
}

/**
 * DuckDB must have parsed exactly the records the byte scan counted, file by file: a record it dropped
 * (or invented) is an error naming the file, never a silent difference.
 */
export function reconcileRecordCounts(
  files: readonly { key: string; path: string; expectedRows: number }[],
  parsedRowsByPath: ReadonlyMap<string, number>,
): void {
  for (const file of files) {
    const parsed = parsedRowsByPath.get(file.path) ?? 0;
    if (parsed !== file.expectedRows) {
      throw new DataValidationError(
        {
          file: file.key,
          rule: 'every record of a file must be parsed: the rows parsed do not match the records in the file',
        },
        `${file.expectedRows} records in the file, ${parsed} parsed`,
      );
    }
  }
}
