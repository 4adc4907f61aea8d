/** Escapes text for HTML/SVG element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** A number for display: 4 significant decimals, `n/a` for NaN. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(4);
}

/**
 * A value with its confidence interval, all three with the same number of decimals (up to 4, as few
 * as the numbers need): `0.9945 [0.9890, 1.0000]`, `0.86 [0.81, 0.90]`, never `0.9945 - 1`.
 */
export function formatEstimate(value: number, low?: number, high?: number, maxDecimals = 4, decimals = commonDecimals([value, low, high], maxDecimals)): { value: string; low?: string; high?: string } {
  const fmt = (v: number | undefined) => (v === undefined ? undefined : Number.isNaN(v) ? 'n/a' : v.toFixed(decimals));
  return low === undefined || high === undefined ? { value: fmt(value)! } : { value: fmt(value)!, low: fmt(low), high: fmt(high) };
}

/** The decimals that show every one of `values` to `maxDecimals` places without trailing zeros: one format for a row or column. */
export function commonDecimals(values: ReadonlyArray<number | undefined>, maxDecimals = 4): number {
  return Math.max(0, ...values.filter((v): v is number => v !== undefined && Number.isFinite(v)).map((v) => decimalsNeeded(v, maxDecimals)));
}

function decimalsNeeded(v: number, max: number): number {
  const text = String(Number(v.toFixed(max)));
  if (/e/i.test(text)) return max;
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}
