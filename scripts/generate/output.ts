/**
 * Streaming CSV output for the generator: one buffered writer per month file, flushed in chunks so memory
 * stays flat whatever the number of customers; fast UTC timestamp and money formatting.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const BUFFER_BYTES = 1 << 16;

/**
 * Appends ASCII lines to a set of files (one per partition), each created with its header up front. Each
 * line is encoded at once into a fixed byte buffer per partition (so no long-lived strings pile up for the
 * garbage collector), and the buffer goes to disk when full.
 */
export class PartitionedCsvWriter {
  private readonly fds: number[];
  private readonly buffers: Buffer[];
  private readonly offsets: number[];
  /** Data rows written per partition (header excluded). */
  readonly rowCounts: number[];

  constructor(
    readonly paths: readonly string[],
    header: string,
  ) {
    this.fds = [];
    try {
      for (const path of paths) this.fds.push(openSync(path, 'w'));
    } catch (error) {
      this.close();
      throw error;
    }
    this.buffers = paths.map(() => Buffer.allocUnsafe(BUFFER_BYTES));
    this.offsets = paths.map(() => 0);
    this.rowCounts = paths.map(() => 0);
    for (let i = 0; i < paths.length; i++) this.append(i, header);
  }

  /** Append one line (without its newline) to partition `index`. */
  write(index: number, line: string): void {
    this.append(index, line);
    this.rowCounts[index]++;
  }

  private append(index: number, line: string): void {
    // Lines are ASCII (the catalogue checks its names), so one byte per character and the latin1 encoder.
    if (this.offsets[index] + line.length + 1 > BUFFER_BYTES) this.flushBytes(index);
    if (line.length + 1 > BUFFER_BYTES) {
      writeSync(this.fds[index], line + '\n', null, 'latin1');
      return;
    }
    const buffer = this.buffers[index];
    let offset = this.offsets[index];
    offset += buffer.write(line, offset, 'latin1');
    buffer[offset++] = 10;
    this.offsets[index] = offset;
  }

  private flushBytes(index: number): void {
    let written = 0;
    const length = this.offsets[index];
    while (written < length)
      written += writeSync(this.fds[index], this.buffers[index], written, length - written);
    this.offsets[index] = 0;
  }

  /** Write out whatever is buffered. */
  flush(): void {
    for (let i = 0; i < this.fds.length; i++) this.flushBytes(i);
  }

  /** Close the files (after flush(), or to abandon them on error). Safe to call twice. */
  close(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }

  get totalRows(): number {
    return this.rowCounts.reduce((sum, n) => sum + n, 0);
  }
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/** ISO 8601 UTC timestamps with second resolution ('2023-01-05T14:03:00Z'), with the date part cached per day. */
export class TimestampFormatter {
  private readonly dayPrefixes = new Map<number, string>();

  /** Format an epoch-ms instant, truncated to the second. */
  format(ms: number): string {
    const day = Math.floor(ms / DAY_MS);
    let prefix = this.dayPrefixes.get(day);
    if (prefix === undefined) {
      prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
      this.dayPrefixes.set(day, prefix);
    }
    const secondOfDay = Math.floor((ms - day * DAY_MS) / 1000);
    const hour = Math.floor(secondOfDay / 3600);
    const minute = Math.floor((secondOfDay % 3600) / 60);
    return `${prefix}${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[secondOfDay % 60]}Z`;
  }
}

/** Truncate an instant to its minute (order timestamps have minute resolution). */
export function floorToMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/** Integer cents as a decimal dollar string: 1234 -> '12.34', -5 -> '-0.05', 0 -> '0.00'. */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100);
  const rest = abs - whole * 100;
  return `${sign}${whole}.${rest < 10 ? '0' : ''}${rest}`;
}

/** Index of the partition [starts[i], starts[i+1]) holding ms; starts is ascending, length partitions + 1. */
export function partitionIndex(starts: Float64Array, ms: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= ms) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
