/**
 * How the circuits panel writes numbers. Pure. Every number shown is the result's own number rounded for
 * reading (4 significant digits); exports carry the full values.
 */

/**
 * 4 significant digits — a rounded value keeps its trailing zeros (10.9996 → 11.00) while an exact one does
 * not (0.8 stays 0.8) — exponent notation below 1e-3 and from 1e6, a real minus sign; `null` → an em dash.
 */
export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return '—';
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  let s: string;
  if (Number.isInteger(v) && a < 1e6) s = String(a);
  else if (a >= 1e6 || a < 1e-3) {
    const x = Number(a.toExponential(digits - 1)) === a ? a.toExponential() : a.toExponential(digits - 1);
    const [m, e] = x.split('e');
    s = `${m}e${e.startsWith('+') ? e.slice(1) : e}`;
  } else {
    const p = a.toPrecision(digits);
    s = Number(p) === a ? String(a) : p;
  }
  return v < 0 ? `−${s}` : s;
}

/** A share as a percentage: 0.9 → "90%", 0.9012 → "90.1%". */
export function pct(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const p = v * 100;
  return `${trim(p >= 99.95 || p < 0.05 ? p.toFixed(p === 100 || p === 0 ? 0 : 2) : p.toFixed(1))}%`;
}

function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}
