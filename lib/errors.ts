/**
 * Errors that name what is wrong with the input. A `DataValidationError` is never retried: the same
 * bytes would fail the same way. Its message always carries the file, the line or column, and the rule.
 */
export interface DataLocation {
  /** Object key or file name the bad value came from. */
  file?: string;
  /** 1-based line number in the file, header included. */
  line?: number;
  /** Column (field) name. */
  column?: string;
  /** The rule that was broken, as a short sentence. */
  rule: string;
}

export class DataValidationError extends Error {
  override readonly name = 'DataValidationError';
  readonly location: DataLocation;

  constructor(location: DataLocation, detail?: string) {
    // The detail often quotes the row: bounded, so a 10 MB field never reaches Temporal history or run.json.
    super(formatLocation(location) + (detail ? ` (${quoteForMessage(detail)})` : ''));
    this.location = location;
  }
}

/** A configuration file or value that does not fit the schema. Also never retried. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The most characters of delivered data an error message quotes. */
export const MAX_QUOTED_CHARACTERS = 200;

/** `text` cut to MAX_QUOTED_CHARACTERS, saying how much was left out. */
export function quoteForMessage(text: string, max = MAX_QUOTED_CHARACTERS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

export function formatLocation(location: DataLocation): string {
  const where = [
    location.file,
    location.line !== undefined ? `line ${location.line}` : undefined,
    location.column !== undefined ? `column ${location.column}` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
  return where ? `${where}: ${location.rule}` : location.rule;
}

/**
 * A stage's own output failed its check (a non-finite score, a probability outside [0, 1], a customer left
 * unscored): the model produced something nobody should read. Never retried: the same inputs and code give
 * the same degenerate result. The message names the output, the column, the rule and how many rows broke it.
 */
export class OutputCheckError extends Error {
  override readonly name = 'OutputCheckError';
}

/** Error types that activities report as non-retryable Temporal failures. */
export const NON_RETRYABLE_ERROR_TYPES = ['DataValidationError', 'ConfigError', 'OutputCheckError'] as const;
