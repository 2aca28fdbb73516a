/**
 * Weight previews drawn on canvases: a heatmap of a tensor's first values (diverging scale around zero,
 * theme colours) and a histogram of all its values.
 */
import type { TensorPreview } from '../shared/engineProtocol';
import { heatmapGrid } from './grid';
import { mix, toHex, type Palette } from './theme';

export function drawHeatmap(canvas: HTMLCanvasElement, t: TensorPreview, p: Palette, cssWidth: number): { rows: number; cols: number; totalRows: number } {
  const grid = heatmapGrid(t.shape, t.values.length);
  const { rows, cols } = grid;
  const ctx = canvas.getContext('2d');
  if (!ctx || rows === 0) return { rows: 0, cols, totalRows: grid.totalRows };
  let lim = 0;
  for (const v of t.values) if (Number.isFinite(v)) lim = Math.max(lim, Math.abs(v));
  if (lim === 0) lim = 1;
  const cell = Math.max(1, Math.min(12, Math.floor(cssWidth / cols)));
  const dpr = window.devicePixelRatio || 1;
  const w = cols * cell;
  const h = Math.min(rows * cell, 320);
  const rowsShown = Math.min(rows, Math.floor(h / cell));
  canvas.style.width = `${w}px`;
  canvas.style.height = `${rowsShown * cell}px`;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(rowsShown * cell * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  for (let r = 0; r < rowsShown; r++) {
    for (let c = 0; c < cols; c++) {
      const idx = r * grid.rowStride + c;
      if (idx >= t.values.length) break;
      const v = t.values[idx];
      ctx.fillStyle = Number.isFinite(v) ? divergingColor(v / lim, p) : p.muted;
      ctx.fillRect(c * cell, r * cell, cell, cell);
    }
  }
  return { rows: rowsShown, cols, totalRows: grid.totalRows };
}

export function divergingColor(x: number, p: Palette): string {
  const t = Math.max(-1, Math.min(1, x));
  return toHex(t < 0 ? mix(p.zero, p.negative, -t) : mix(p.zero, p.positive, t));
}

export function drawHistogram(canvas: HTMLCanvasElement, hist: { edges: number[]; counts: number[] }, p: Palette, cssWidth: number, cssHeight = 90): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  canvas.width = Math.round(cssWidth * dpr);
  canvas.height = Math.round(cssHeight * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssWidth, cssHeight);
  const n = hist.counts.length;
  if (!n) return;
  const max = Math.max(...hist.counts, 1);
  const axis = 14;
  const bw = cssWidth / n;
  const lo = hist.edges[0];
  const hi = hist.edges[hist.edges.length - 1];
  for (let i = 0; i < n; i++) {
    const mid = (hist.edges[i] + hist.edges[i + 1]) / 2;
    const lim = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    ctx.fillStyle = divergingColor(mid / lim, { ...p, zero: mix(p.zero, p.positive, 0.35) });
    const bh = (hist.counts[i] / max) * (cssHeight - axis - 2);
    ctx.fillRect(i * bw + 0.5, cssHeight - axis - bh, Math.max(1, bw - 1), bh);
  }
  ctx.fillStyle = p.muted;
  ctx.fillRect(0, cssHeight - axis, cssWidth, 1);
  ctx.font = `10px ${p.fontFamily}`;
  ctx.textBaseline = 'bottom';
  ctx.textAlign = 'left';
  ctx.fillText(fmt(lo), 0, cssHeight);
  ctx.textAlign = 'right';
  ctx.fillText(fmt(hi), cssWidth, cssHeight);
  if (lo < 0 && hi > 0) {
    const zx = ((0 - lo) / (hi - lo)) * cssWidth;
    ctx.fillRect(zx, cssHeight - axis, 1, 4);
    ctx.textAlign = 'center';
    ctx.fillText('0', zx, cssHeight);
  }
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return v.toPrecision(4).replace(/\.?0+$/, '');
}
