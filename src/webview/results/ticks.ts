/**
 * Axis domains and "nice" ticks for the results charts: linear (1-2-5 steps), log10 (decades, with 2 and 5
 * between them when the range is short) and log2 (powers of two, for chunk sizes). Pure (no DOM).
 */

export type ScaleKind = 'linear' | 'log' | 'log2' | 'category';

export interface Axis {
  kind: ScaleKind;
  /** The drawn range (for 'category': [-0.5, n − 0.5]). */
  domain: [number, number];
  ticks: number[];
}

/** The 1-2-5 step that splits `span` into about `count` intervals. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return step * mag;
}

/** Rounds away the floating-point noise of `i · step` (0.1 · 3 = 0.30000000000000004). */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

/**
 * A linear axis over [min, max]: the domain extended outwards to whole steps, ticks at every step. A
 * degenerate range (one value) is widened by 10% of the value (or ±1 around 0).
 */
export function linearAxis(min: number, max: number, count = 5): Axis {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { kind: 'linear', domain: [0, 1], ticks: [0, 0.5, 1] };
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= d;
    max += d;
  }
  const step = niceStep(max - min, count);
  const lo = clean(Math.floor(min / step + 1e-9) * step);
  const hi = clean(Math.ceil(max / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const t = clean(lo + i * step);
    if (t > hi + step * 1e-9) break;
    ticks.push(t);
  }
  return { kind: 'linear', domain: [lo, hi], ticks };
}

/**
 * A log10 axis over [min, max] (both > 0). Tick candidates depend on the range: within a factor of 10 every
 * mantissa 1…9, up to 3 decades 1-2-5, up to 6 decades the powers of ten, beyond that every k-th power so
 * that about 6 remain. The domain ends at the nearest candidates outside the data (1…200 → [1, 200], ticks
 * 1 2 5 10 20 50 100 200).
 * @throws RangeError when min ≤ 0 (a log axis needs positive values; the caller drops or refuses those).
 */
export function logAxis(min: number, max: number): Axis {
  if (!(min > 0) || !(max > 0)) throw new RangeError(`log axis needs positive values, got [${min}, ${max}]`);
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    min /= 2;
    max *= 2;
  }
  const ratio = max / min;
  const decades = Math.log10(ratio);
  const mantissas = ratio < 10 ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : decades <= 3 ? [1, 2, 5] : [1];
  const every = decades <= 6 ? 1 : Math.ceil(decades / 6);
  const e0 = Math.floor(Math.log10(min)) - 1;
  const e1 = Math.ceil(Math.log10(max)) + 1;
  const candidates: number[] = [];
  for (let e = e0; e <= e1; e++) {
    if (mantissas.length === 1 && ((e % every) + every) % every !== 0) continue;
    for (const m of mantissas) candidates.push(clean(m * 10 ** e));
  }
  const eps = 1e-9;
  let lo = candidates[0];
  for (const c of candidates) if (c <= min * (1 + eps)) lo = c;
  let hi = candidates[candidates.length - 1];
  for (let i = candidates.length - 1; i >= 0; i--) if (candidates[i] >= max * (1 - eps)) hi = candidates[i];
  const ticks = candidates.filter((c) => c >= lo && c <= hi);
  return { kind: 'log', domain: [lo, hi], ticks };
}

/** A log2 axis over [min, max] (both > 0): powers of two, every second one when there are more than 10. */
export function log2Axis(min: number, max: number): Axis {
  if (!(min > 0) || !(max > 0)) throw new RangeError(`log2 axis needs positive values, got [${min}, ${max}]`);
  if (min > max) [min, max] = [max, min];
  let e0 = Math.floor(Math.log2(min) + 1e-9);
  let e1 = Math.ceil(Math.log2(max) - 1e-9);
  if (e0 === e1) {
    e0 -= 1;
    e1 += 1;
  }
  const stride = e1 - e0 > 10 ? 2 : 1;
  const ticks: number[] = [];
  for (let e = e0; e <= e1; e += stride) ticks.push(2 ** e);
  return { kind: 'log2', domain: [2 ** e0, 2 ** e1], ticks };
}

/** A categorical axis: one slot per category at 0 … n − 1. */
export function categoryAxis(n: number): Axis {
  return { kind: 'category', domain: [-0.5, Math.max(0, n) - 0.5], ticks: Array.from({ length: n }, (_, i) => i) };
}

/** The axis of a kind over the data's range (values must be positive for log kinds). */
export function axisFor(kind: ScaleKind, min: number, max: number, count = 5): Axis {
  switch (kind) {
    case 'linear':
      return linearAxis(min, max, count);
    case 'log':
      return logAxis(min, max);
    case 'log2':
      return log2Axis(min, max);
    case 'category':
      return categoryAxis(Math.round(max) + 1);
  }
}

/** Where `v` falls on the axis, 0 at domain[0] and 1 at domain[1]; NaN for v ≤ 0 on a log axis. */
export function position(axis: Axis, v: number): number {
  const [a, b] = axis.domain;
  if (axis.kind === 'log' || axis.kind === 'log2') {
    if (!(v > 0)) return NaN;
    return (Math.log(v) - Math.log(a)) / (Math.log(b) - Math.log(a));
  }
  return b === a ? 0.5 : (v - a) / (b - a);
}

/**
 * Whether the positive values span decades, so that a linear axis would flatten the small ones: all finite
 * values positive and max/min ≥ 50 (a bit under two decades: NC1 falling from 3 to 0.05 qualifies, accuracies
 * between 0.5 and 1 do not).
 */
export function spansDecades(values: Iterable<number | null | undefined>, ratio = 50): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (v <= 0) return false;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return max > 0 && max / min >= ratio;
}
