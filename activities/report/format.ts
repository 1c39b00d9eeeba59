/**
 * Escaping and number formatting for the report. Every string that comes from data passes through
 * `escapeHtml` before it enters the HTML or an SVG; formatting uses a fixed locale (en-US) so the same data
 * renders the same bytes on any machine.
 */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape & < > " ' for HTML text and double- or single-quoted attribute values (also inside inline SVG). */
export function escapeHtml(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? '' : String(value);
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/** Placeholder for a missing or non-finite number. */
export const MISSING = '—';

/** True for a finite number (not null, undefined, NaN or Infinity). */
export function isNum(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

const LOCALE = 'en-US';
const formatterCache = new Map<string, Intl.NumberFormat>();

function formatter(key: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  let cached = formatterCache.get(key);
  if (!cached) {
    cached = new Intl.NumberFormat(LOCALE, options);
    formatterCache.set(key, cached);
  }
  return cached;
}

/** Typographic minus sign for display (the hyphen-minus reads as a dash in tables). */
function minus(text: string): string {
  return text.replace('-', '−');
}

/** Integer with thousands separators: 1,234,567. */
export function fmtInt(value: number | null | undefined): string {
  if (!isNum(value)) return MISSING;
  return minus(formatter('int', { maximumFractionDigits: 0 }).format(Math.round(value)));
}

/** Number with a fixed number of decimals and thousands separators. */
export function fmtNum(value: number | null | undefined, digits = 2): string {
  if (!isNum(value)) return MISSING;
  const format = formatter(`num${digits}`, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  // -0.0004 at 2 digits would print as '-0.00'.
  const text = format.format(value);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : minus(text);
}

/** Share 0..1 as a percentage: 0.1234 -> '12.3%'. */
export function fmtPct(share: number | null | undefined, digits = 1): string {
  if (!isNum(share)) return MISSING;
  return `${fmtNum(share * 100, digits)}%`;
}

/** Relative change as a signed percentage: 0.042 -> '+4.2%'. */
export function fmtSignedPct(share: number | null | undefined, digits = 1): string {
  if (!isNum(share)) return MISSING;
  const text = fmtPct(share, digits);
  return share > 0 ? `+${text}` : text;
}

/** An ISO 4217 code as given, or undefined when there is none (no currency is assumed). */
function currencyCode(currency: string | null | undefined): string | undefined {
  return currency && /^[A-Z]{3}$/.test(currency) ? currency : undefined;
}

/**
 * Money in the dataset's currency; whole units from 1,000 up, cents below. Without a currency (a canonical
 * dataset that configured none) the amount is a plain number: a guessed "$" would be wrong more often than not.
 */
export function fmtMoney(value: number | null | undefined, currency?: string | null): string {
  if (!isNum(value)) return MISSING;
  const digits = Math.abs(value) >= 1000 ? 0 : 2;
  const code = currencyCode(currency);
  if (!code) return fmtNum(value, digits);
  const format = formatter(`money${code}${digits}`, {
    style: 'currency',
    currency: code,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return minus(format.format(value));
}

/** Short form for chart axes: 950, 1.2k, 3.4M, 5.6B. */
export function fmtCompact(value: number | null | undefined): string {
  if (!isNum(value)) return MISSING;
  const abs = Math.abs(value);
  const sign = value < 0 ? '−' : '';
  const trim = (x: number): string => (Math.round(x * 10) / 10).toString();
  if (abs >= 1e9) return `${sign}${trim(abs / 1e9)}B`;
  if (abs >= 1e6) return `${sign}${trim(abs / 1e6)}M`;
  if (abs >= 1e3) return `${sign}${trim(abs / 1e3)}k`;
  if (abs >= 10 || abs === 0) return `${sign}${Math.round(abs * 10) / 10}`;
  return `${sign}${Number(abs.toPrecision(2))}`;
}

/** Compact money for chart labels: '$1.2k' ('1.2k' without a currency). */
export function fmtMoneyCompact(value: number | null | undefined, currency?: string | null): string {
  if (!isNum(value)) return MISSING;
  const symbol = currencySymbol(currency);
  return value < 0 ? `−${symbol}${fmtCompact(-value)}` : `${symbol}${fmtCompact(value)}`;
}

/** The narrow symbol of a currency code ('$', '£', '€'), the code and a space, or '' without a currency. */
export function currencySymbol(currency?: string | null): string {
  const code = currencyCode(currency);
  if (!code) return '';
  const parts = formatter(`sym${code}`, {
    style: 'currency',
    currency: code,
    currencyDisplay: 'narrowSymbol',
  })
    .formatToParts(0)
    .find((part) => part.type === 'currency');
  const symbol = parts?.value ?? code;
  return symbol.length > 1 && /^[A-Z]+$/.test(symbol) ? `${symbol} ` : symbol;
}

/** p-value as a phrase: 'p < 0.001' or 'p = 0.042'. */
export function fmtPPhrase(value: number | null | undefined): string {
  if (!isNum(value)) return `p = ${MISSING}`;
  return value < 0.001 ? 'p < 0.001' : `p = ${fmtNum(value, 3)}`;
}

/** p-value: '<0.001' or three decimals. */
export function fmtP(value: number | null | undefined): string {
  if (!isNum(value)) return MISSING;
  return value < 0.001 ? '<0.001' : fmtNum(value, 3);
}

/** Duration: '850 ms', '12.3 s', '4 min 05 s', '1 h 02 min'. */
export function fmtDuration(ms: number | null | undefined): string {
  if (!isNum(ms)) return MISSING;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${fmtNum(seconds, 1)} s`;
  const totalSeconds = Math.round(seconds);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** ISO timestamp shown as 'YYYY-MM-DD HH:MM UTC' (the input string itself when it does not parse). */
export function fmtTimestamp(iso: string | null | undefined): string {
  if (!iso) return MISSING;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const text = new Date(ms).toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, 16)} UTC`;
}

/** ISO timestamp shown as 'YYYY-MM-DD'. */
export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return MISSING;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  return new Date(ms).toISOString().slice(0, 10);
}
