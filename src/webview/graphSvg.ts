/**
 * The operator graph as a standalone SVG document, drawn from the laid-out model (the visible graph and its
 * layout), never from the screen: the same boxes, labels, bends and colours as the view, at any size, with the
 * analysis overlay and its legend when one is shown. Pure (no DOM): graph/export.ts gathers the input from the
 * view's state and rasterises the result for PNG.
 */
import { escapeHtml } from '../shared/html';
import type { LayoutResult } from './layout';
import type { Palette } from './theme';
import type { ViewItem, VisibleGraph } from './viewModel';

export interface Region {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** The overlay's look of one drawn item (overlayView.ts draws the same on the screen). */
export interface ItemPaint {
  /** Ramp colour tint and the ramp colour (a coloured item). */
  fill?: string;
  stroke?: string;
  /** Undefined for this run (dotted border). */
  undefinedValue?: boolean;
  /** A marked element (a classifier head): dashed outline. */
  mark?: boolean;
  /** A collapsed block's count of coloured elements it hides. */
  badge?: number;
}

export interface OverlayLine {
  source: string;
  target: string;
  width: number;
  color: string;
}

export interface SvgLegend {
  title: string;
  /** Ramp colours from low to high (evenly spaced stops). */
  ramp: string[];
  min: string;
  mid: string;
  max: string;
  /** Further lines: the edges' meaning, notes, the run. */
  lines: string[];
}

export interface GraphSvgInput {
  view: VisibleGraph;
  layout: LayoutResult;
  /** Item id → index in the layout arrays (compounds first, as the layout request ordered them). */
  itemIndex: ReadonlyMap<string, number>;
  palette: Palette;
  /** The part of the drawing to export (model coordinates). */
  region: Region;
  /** Output pixels per model unit. */
  scale: number;
  /** Edge labels are drawn (the view drops them above a size). */
  edgeLabels: boolean;
  /** Bent edges follow their bend points (the view draws straight edges above a size). */
  bends: boolean;
  /**
   * Where the view put each edge's label (edgeLabels.ts): distance along the edge from its source's border, per
   * edge of `view.edges`; negative: left out (no free place). Absent: every label at its edge's middle.
   */
  labelOffsets?: ArrayLike<number>;
  /** The overlay, when one is shown: per-item paint and the circuit's edges. */
  paint?: ReadonlyMap<string, ItemPaint>;
  overlayEdges?: readonly OverlayLine[];
  legend?: SvgLegend;
  /** The document's title (the model's file name and what was exported). */
  title: string;
}

export interface GraphSvg {
  svg: string;
  /** The document's size in pixels (at `scale`, legend band included). */
  width: number;
  height: number;
  /** Items drawn (those meeting the region). */
  items: number;
  edges: number;
}

const LEGEND_HEIGHT = 26;
const LEGEND_LINE = 16;

const num = (v: number): string => (Math.round(v * 100) / 100).toString();

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function boxOf(input: GraphSvgInput, id: string): Box | undefined {
  const i = input.itemIndex.get(id);
  if (i === undefined) return undefined;
  const l = input.layout;
  return { x: l.x[i], y: l.y[i], w: l.width[i], h: l.height[i] };
}

function meets(b: Box, r: Region, pad = 0): boolean {
  return b.x + b.w / 2 + pad >= r.x1 && b.x - b.w / 2 - pad <= r.x2 && b.y + b.h / 2 + pad >= r.y1 && b.y - b.h / 2 - pad <= r.y2;
}

/** Where the segment from a box's centre towards (tx, ty) leaves the box. */
export function exitPoint(b: Box, tx: number, ty: number): [number, number] {
  const dx = tx - b.x;
  const dy = ty - b.y;
  if (dx === 0 && dy === 0) return [b.x, b.y];
  const sx = dx === 0 ? Infinity : b.w / 2 / Math.abs(dx);
  const sy = dy === 0 ? Infinity : b.h / 2 / Math.abs(dy);
  const t = Math.min(1, sx, sy);
  return [b.x + dx * t, b.y + dy * t];
}

/** The point `d` units along a polyline from its first point (its last point beyond its length). */
export function pointAlong(pts: readonly [number, number][], d: number): [number, number] {
  let left = d;
  for (let k = 1; k < pts.length; k++) {
    const [x0, y0] = pts[k - 1];
    const [x1, y1] = pts[k];
    const len = Math.hypot(x1 - x0, y1 - y0);
    if (left <= len) return len > 0 ? [x0 + ((x1 - x0) * left) / len, y0 + ((y1 - y0) * left) / len] : [x0, y0];
    left -= len;
  }
  return pts[pts.length - 1];
}

function text(x: number, y: number, lines: string[], attrs: string, lineHeight: number): string {
  if (lines.length === 1) return `<text x="${num(x)}" y="${num(y)}" ${attrs}>${escapeHtml(lines[0])}</text>`;
  const first = y - ((lines.length - 1) * lineHeight) / 2;
  const spans = lines.map((l, k) => `<tspan x="${num(x)}" y="${num(first + k * lineHeight)}">${escapeHtml(l)}</tspan>`).join('');
  return `<text ${attrs}>${spans}</text>`;
}

function itemLabel(it: ViewItem): string[] {
  if (it.kind === 'group') return [it.label, `${it.repeat ? `⟳ ${it.repeat.index}/${it.repeat.count} · ` : ''}${it.detail ?? ''}`];
  return it.detail ? [it.label, it.detail] : [it.label];
}

function drawCompounds(input: GraphSvgInput, out: string[]): void {
  const p = input.palette;
  const hc = p.kind.startsWith('high-contrast');
  for (const c of input.view.compounds) {
    const b = boxOf(input, c.id);
    if (!b || !meets(b, input.region)) continue;
    const dash = c.repeat ? ` stroke-dasharray="6 3"` : '';
    const stroke = c.repeat ? p.repeat : p.compoundBorder;
    const width = c.repeat ? 2 : hc ? 2 : 1;
    out.push(`<rect class="compound" x="${num(b.x - b.w / 2)}" y="${num(b.y - b.h / 2)}" width="${num(b.w)}" height="${num(b.h)}" rx="6" fill="${p.compoundFill}" stroke="${stroke}" stroke-width="${width}"${dash}/>`);
    const label = c.repeat ? `${c.label}   ⟳ ${c.repeat.index}/${c.repeat.count}` : c.label;
    out.push(text(b.x - b.w / 2 + 12, b.y - b.h / 2 + 17, [label], `font-size="11" font-weight="bold" fill="${p.muted}"`, 14));
  }
}

function drawEdges(input: GraphSvgInput, out: string[]): number {
  const p = input.palette;
  const l = input.layout;
  const width = p.kind.startsWith('high-contrast') ? 1.5 : 1.2;
  let drawn = 0;
  const labels: string[] = [];
  input.view.edges.forEach((e, ei) => {
    const s = boxOf(input, e.source);
    const t = boxOf(input, e.target);
    if (!s || !t) return;
    const pts: [number, number][] = [];
    if (input.bends) for (let k = l.bendStart[ei]; k < l.bendStart[ei + 1]; k++) pts.push([l.bends[2 * k], l.bends[2 * k + 1]]);
    const first = pts[0] ?? [t.x, t.y];
    const last = pts.at(-1) ?? [s.x, s.y];
    const all: [number, number][] = [exitPoint(s, first[0], first[1]), ...pts, exitPoint(t, last[0], last[1])];
    let x1 = Infinity;
    let y1 = Infinity;
    let x2 = -Infinity;
    let y2 = -Infinity;
    for (const [x, y] of all) {
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x);
      y2 = Math.max(y2, y);
    }
    if (!meets({ x: (x1 + x2) / 2, y: (y1 + y2) / 2, w: x2 - x1, h: y2 - y1 }, input.region, 20)) return;
    drawn++;
    // The arrow's tip on the target's border, the line ending at its base.
    const [ex, ey] = all[all.length - 1];
    const [px, py] = all[all.length - 2];
    const len = Math.hypot(ex - px, ey - py) || 1;
    const ux = (ex - px) / len;
    const uy = (ey - py) / len;
    const a = 7;
    const bx = ex - ux * a;
    const by = ey - uy * a;
    const line = [...all.slice(0, -1), [bx, by]].map(([x, y]) => `${num(x)},${num(y)}`).join(' ');
    out.push(`<polyline points="${line}" fill="none" stroke="${p.edge}" stroke-width="${width}" stroke-linejoin="round"/>`);
    out.push(`<polygon points="${num(ex)},${num(ey)} ${num(bx - uy * 3.5)},${num(by + ux * 3.5)} ${num(bx + uy * 3.5)},${num(by - ux * 3.5)}" fill="${p.edge}"/>`);
    const offset = input.labelOffsets ? input.labelOffsets[ei] : undefined;
    if (input.edgeLabels && e.label && (offset === undefined || offset >= 0)) {
      const label = e.count > 1 ? `${e.label} (+${e.count - 1})` : e.label;
      // Where the view placed it (clear of operators, titles and other labels), else at the middle.
      const [lx, ly] = offset === undefined ? [(all[0][0] + ex) / 2, (all[0][1] + ey) / 2] : pointAlong(all, offset);
      labels.push(text(lx, ly + 3, [label], `class="edge-label" font-size="9" text-anchor="middle" fill="${p.muted}" stroke="${p.background}" stroke-width="3" paint-order="stroke"`, 11));
    }
  });
  // Labels over every line.
  out.push(...labels);
  return drawn;
}

function drawItems(input: GraphSvgInput, out: string[]): number {
  const p = input.palette;
  const hc = p.kind.startsWith('high-contrast');
  const overlay = !!input.paint;
  let drawn = 0;
  for (const it of input.view.items) {
    const b = boxOf(input, it.id);
    if (!b || !meets(b, input.region)) continue;
    drawn++;
    const paint = input.paint?.get(it.id);
    let fill = p.fill[it.category];
    let stroke = it.kind === 'group' ? p.groupBorder : p.stroke[it.category];
    if (overlay && it.kind === 'op') {
      fill = p.fill.other;
      stroke = p.stroke.shape;
    }
    let width = it.kind === 'group' ? 2 : hc ? 2 : 1;
    let dash = '';
    if (it.repeat) {
      stroke = p.repeat;
      width = 2;
      dash = ' stroke-dasharray="6 3"';
    }
    if (paint?.fill && paint.stroke) {
      fill = paint.fill;
      stroke = paint.stroke;
      width = hc ? 5 : 4;
      dash = '';
    } else if (paint?.undefinedValue) {
      stroke = p.muted;
      width = 2;
      dash = ' stroke-dasharray="2 2"';
    }
    const rx = it.kind === 'input' || it.kind === 'output' ? 10 : 4;
    const x = b.x - b.w / 2;
    const y = b.y - b.h / 2;
    const cls = `node ${it.kind}${paint?.fill ? ' ov' : ''}`;
    out.push(`<rect class="${cls}" data-id="${escapeHtml(it.id)}" x="${num(x)}" y="${num(y)}" width="${num(b.w)}" height="${num(b.h)}" rx="${rx}" fill="${fill}" stroke="${stroke}" stroke-width="${width}"${dash}/>`);
    if (paint?.mark) out.push(`<rect x="${num(x - 4)}" y="${num(y - 4)}" width="${num(b.w + 8)}" height="${num(b.h + 8)}" rx="${rx + 3}" fill="none" stroke="${p.foreground}" stroke-width="2" stroke-dasharray="5 3"/>`);
    const weight = it.kind === 'group' ? ' font-weight="bold"' : '';
    const size = it.kind === 'input' || it.kind === 'output' ? 11 : 12;
    out.push(text(b.x, b.y + size * 0.35, itemLabel(it), `font-size="${size}"${weight} text-anchor="middle" fill="${p.foreground}"`, size * 1.25));
    if (paint?.badge) {
      const cx = b.x + b.w / 2 - 4;
      const cy = b.y - b.h / 2 + 2;
      out.push(`<circle cx="${num(cx)}" cy="${num(cy)}" r="9" fill="${p.foreground}"/>`);
      out.push(text(cx, cy + 3.5, [String(paint.badge)], `font-size="10" font-weight="bold" text-anchor="middle" fill="${p.background}"`, 12));
    }
  }
  return drawn;
}

function drawOverlayEdges(input: GraphSvgInput, out: string[]): void {
  for (const e of input.overlayEdges ?? []) {
    const s = boxOf(input, e.source);
    const t = boxOf(input, e.target);
    if (!s || !t) continue;
    // Arcing beside the data-flow edges, as the view draws them (control point 44 units off the straight line).
    const dx = t.x - s.x;
    const dy = t.y - s.y;
    const l = Math.hypot(dx, dy) || 1;
    const cx = (s.x + t.x) / 2 + (-dy / l) * 44;
    const cy = (s.y + t.y) / 2 + (dx / l) * 44;
    const [sx, sy] = exitPoint(s, cx, cy);
    const [tx, ty] = exitPoint(t, cx, cy);
    out.push(`<path class="ov-edge" d="M${num(sx)},${num(sy)} Q${num(cx)},${num(cy)} ${num(tx)},${num(ty)}" fill="none" stroke="${e.color}" stroke-width="${num(e.width)}" stroke-dasharray="8 4" opacity="0.9"/>`);
  }
}

/** The legend band above the graph (screen pixels, not scaled with the graph). */
function legendBand(legend: SvgLegend, p: Palette, width: number): { svg: string; height: number } {
  const stops = legend.ramp.map((c, i) => `<stop offset="${num(legend.ramp.length > 1 ? i / (legend.ramp.length - 1) : 0)}" stop-color="${c}"/>`).join('');
  const height = LEGEND_HEIGHT + LEGEND_LINE * (legend.lines.length + 1) + 8;
  const parts = [
    `<g class="legend" font-size="12" fill="${p.foreground}">`,
    `<rect x="0" y="0" width="${num(width)}" height="${height}" fill="${p.background}" stroke="${p.border}"/>`,
    `<linearGradient id="cs-ramp">${stops}</linearGradient>`,
    `<text x="10" y="18" font-weight="bold">${escapeHtml(legend.title)}</text>`,
    `<rect x="10" y="${LEGEND_HEIGHT}" width="160" height="10" fill="url(#cs-ramp)"/>`,
    `<text x="10" y="${LEGEND_HEIGHT + 24}" font-size="11">${escapeHtml(legend.min)}</text>`,
    `<text x="90" y="${LEGEND_HEIGHT + 24}" font-size="11" text-anchor="middle" fill="${p.muted}">${escapeHtml(legend.mid)}</text>`,
    `<text x="170" y="${LEGEND_HEIGHT + 24}" font-size="11" text-anchor="end">${escapeHtml(legend.max)}</text>`,
  ];
  legend.lines.forEach((line, k) => parts.push(`<text x="190" y="${LEGEND_HEIGHT + 8 + k * LEGEND_LINE}" font-size="11" fill="${p.muted}">${escapeHtml(line)}</text>`));
  parts.push('</g>');
  return { svg: parts.join(''), height };
}

/** The SVG document of `input.region` of the drawing at `input.scale`, with the legend band when given. */
export function graphSvg(input: GraphSvgInput): GraphSvg {
  const p = input.palette;
  const r = input.region;
  const gw = Math.max(1, r.x2 - r.x1);
  const gh = Math.max(1, r.y2 - r.y1);
  const width = Math.ceil(gw * input.scale);
  const band = input.legend ? legendBand(input.legend, p, width) : undefined;
  const top = band?.height ?? 0;
  const height = Math.ceil(gh * input.scale) + top;
  const body: string[] = [];
  drawCompounds(input, body);
  const edges = drawEdges(input, body);
  const items = drawItems(input, body);
  drawOverlayEdges(input, body);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeHtml(p.fontFamily)}">`,
    `<title>${escapeHtml(input.title)}</title>`,
    `<rect width="100%" height="100%" fill="${p.background}"/>`,
    band?.svg ?? '',
    `<clipPath id="cs-graph-clip"><rect x="${num(r.x1)}" y="${num(r.y1)}" width="${num(gw)}" height="${num(gh)}"/></clipPath>`,
    `<g class="graph" transform="translate(0 ${top}) scale(${input.scale}) translate(${num(-r.x1)} ${num(-r.y1)})" clip-path="url(#cs-graph-clip)">`,
    ...body,
    '</g>',
    '</svg>',
  ].join('\n');
  return { svg, width, height, items, edges };
}

/** The largest canvas side and area this view rasterises (Chromium refuses canvases beyond about 16k × 16k / 268 M pixels). */
export const MAX_PNG_SIDE = 16_384;
export const MAX_PNG_PIXELS = 120_000_000;

/**
 * The PNG's pixel ratio: `wanted`, lowered so that the image stays within {@link MAX_PNG_SIDE} per side and
 * {@link MAX_PNG_PIXELS} in all; `capped` says when it was lowered (the user is told, and pointed at the SVG).
 */
export function pngScale(width: number, height: number, wanted: number): { scale: number; capped: boolean; pixelWidth: number; pixelHeight: number } {
  const bySide = MAX_PNG_SIDE / Math.max(width, height);
  const byArea = Math.sqrt(MAX_PNG_PIXELS / Math.max(1, width * height));
  const scale = Math.min(wanted, bySide, byArea);
  return { scale, capped: scale < wanted, pixelWidth: Math.max(1, Math.floor(width * scale)), pixelHeight: Math.max(1, Math.floor(height * scale)) };
}
