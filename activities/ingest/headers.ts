/**
 * Header checks before any parsing: the first line of every delivered CSV, read without loading the
 * file (gzip streams are decompressed only up to the first newline).
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export async function readFirstLine(path: string): Promise<string> {
  const raw = createReadStream(path, { highWaterMark: 16 * 1024 });
  const stream: Readable = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  let text = '';
  try {
    for await (const chunk of stream) {
      text += (chunk as Buffer).toString('utf8');
      const newline = text.indexOf('\n');
      if (newline >= 0) return stripBomAndCr(text.slice(0, newline));
      if (text.length > 1 << 20) break;
    }
    return stripBomAndCr(text);
  } finally {
    raw.destroy();
    stream.destroy();
  }
}

function stripBomAndCr(line: string): string {
  return line.replace(/^\uFEFF/, '').replace(/\r$/, '');
}

/** Split a CSV header line (names may be quoted). */
export function splitCsvHeader(line: string): string[] {
  return line.split(',').map((name) => name.trim().replace(/^"(.*)"$/, '$1'));
}
