/**
 * Reading delivered files for ingest: download each to scratch, check text files to their end
 * (rawFileCheck.ts), then parse. Under `ingest.onBadFile: skip` a file that breaks a rule is left out,
 * recorded with its rows (badFiles.ts), and the rest parsed again until every file left parses. The
 * unsharded stage reads every file in scope this way; the sharded one (sharded.ts) one file group per
 * activity and the side tables in its reduce, so a file is skipped, or not, the same way in both.
 */
import { join } from 'node:path';
import type { RunConfig } from '../../lib/config';
import { DataValidationError } from '../../lib/errors';
import { mapConcurrent } from '../../lib/objectStore';
import type { StageContext } from '../../lib/stage';
import { countReadableRows, skippedFile, type SkippedRawFile } from './badFiles';
import type { LocalRawFile } from './formats';
import { checkRawFile, type RawFileLimits } from './rawFileCheck';
import type { ScopedRawFile } from './scope';

/** A file of the scope and its local copy. */
export interface LocalEntry {
  file: ScopedRawFile;
  local: LocalRawFile;
}

/** A file to read and its position in the run's sorted scope (with the line, the output row order). */
export interface FileInScope {
  file: ScopedRawFile;
  index: number;
}

export interface RawFilesRead<T> {
  parsed: T;
  /** Files left out under onBadFile: skip, in the order they were found. */
  skipped: SkippedRawFile[];
  downloadMs: number;
  parseMs: number;
}

/**
 * Download, check and parse `files`. `parse` gets the files still in (a DataValidationError from it names
 * the bad file, or the first that fails alone is found); `beforeParse` may refuse what is left (e.g. no
 * transaction source at all) before each attempt.
 */
export async function readRawFiles<T>(
  ctx: StageContext,
  files: readonly FileInScope[],
  parse: (local: readonly LocalEntry[]) => Promise<T>,
  beforeParse: (local: readonly LocalEntry[], skipped: readonly SkippedRawFile[]) => void = () => {},
): Promise<RawFilesRead<T>> {
  const startedAt = performance.now();
  const limits = rawFileLimits(ctx.run.config.ingest);
  const skipBadFiles = ctx.run.config.ingest.onBadFile === 'skip';
  const skipped: SkippedRawFile[] = [];
  const checked = await mapConcurrent(
    files,
    ctx.run.config.ingest.downloadConcurrency,
    async ({ file, index }, i) => {
      const downloaded = join(ctx.scratchDir, 'raw', file.key);
      await ctx.store.getToFile(file.key, downloaded);
      if (i % 50 === 0) ctx.heartbeat({ downloaded: i });
      try {
        // Parquet carries its own footer and row counts; every text file is read to its end here first.
        const scan = downloaded.endsWith('.parquet')
          ? undefined
          : await checkRawFile(file.key, downloaded, limits, file.format !== 'cdnow');
        return { file, local: toLocal(file, scan?.path ?? downloaded, index, scan?.records) };
      } catch (error) {
        if (!skipBadFiles || !(error instanceof DataValidationError)) throw error;
        const rows = await countReadableRows(downloaded, {
          quoted: file.format !== 'cdnow',
          header: file.format !== 'cdnow',
          maxBytes: limits.maxDecompressedBytes,
        });
        skipped.push(skippedFile(file, error, rows));
        return undefined;
      }
    },
  );
  let local = checked.filter((f): f is NonNullable<typeof f> => f !== undefined);
  const downloadedAt = performance.now();

  // A file that fails the parse is taken out and the rest parsed again, until every file left parses.
  for (;;) {
    beforeParse(local, skipped);
    try {
      const parsed = await parse(local);
      return {
        parsed,
        skipped,
        downloadMs: Math.round(downloadedAt - startedAt),
        parseMs: Math.round(performance.now() - downloadedAt),
      };
    } catch (error) {
      if (!skipBadFiles || !(error instanceof DataValidationError)) throw error;
      const bad = await findBadFile(local, error, parse);
      if (!bad) throw error;
      const rows = bad.entry.local.checkedRecords;
      skipped.push(
        skippedFile(bad.entry.file, bad.error, {
          rows:
            rows !== undefined
              ? Math.max(0, rows - (bad.entry.file.format === 'cdnow' ? 0 : 1))
              : (
                  await countReadableRows(bad.entry.local.path, {
                    quoted: bad.entry.file.format !== 'cdnow',
                    header: bad.entry.file.format !== 'cdnow',
                    maxBytes: limits.maxDecompressedBytes,
                  })
                ).rows,
        }),
      );
      local = local.filter((f) => f !== bad.entry);
    }
  }
}

/**
 * The file a parse error is about: the one its location names, or, when DuckDB could not say which of a
 * group it was, the first file (in run order) that fails when parsed alone.
 */
async function findBadFile<T>(
  local: readonly LocalEntry[],
  error: DataValidationError,
  parse: (local: readonly LocalEntry[]) => Promise<T>,
): Promise<{ entry: LocalEntry; error: DataValidationError } | undefined> {
  const named = local.find((f) => f.file.key === error.location.file);
  if (named) return { entry: named, error };
  for (const entry of local) {
    try {
      await parse([entry]);
    } catch (alone) {
      if (alone instanceof DataValidationError) return { entry, error: alone };
      throw alone;
    }
  }
  return undefined;
}

function toLocal(file: ScopedRawFile, path: string, index: number, records?: number): LocalRawFile {
  return {
    key: file.key,
    path,
    index,
    periodEndIso: file.periodEndMs !== undefined ? new Date(file.periodEndMs).toISOString() : undefined,
    ...(records !== undefined ? { checkedRecords: records } : {}),
  };
}

export function rawFileLimits(config: RunConfig['ingest']): RawFileLimits {
  return {
    maxLineBytes: config.maxLineBytes,
    maxDecompressedBytes: config.maxDecompressedBytesPerFile,
    maxRecords: config.maxRowsPerFile,
    maxCompressionRatio: config.maxCompressionRatio,
  };
}
