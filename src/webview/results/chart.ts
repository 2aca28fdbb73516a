/**
 * The results charts: line charts (linear, log10, log2 or categorical axes, nice ticks, legend, optional
 * ±std bands and reference lines), heatmaps with a colour legend, and small-multiple matrices.
 *
 * Why a small module of our own instead of a charting library:
 * - exports must be SVG and PNG of the same drawing: the chart is built once as a tree of SVG nodes, which
 *   is serialised for the SVG file, rasterised for the PNG, and turned into DOM nodes for the panel;
 * - colours must come from the `--vscode-*` variables: the drawing takes a ChartTheme of concrete colours
 *   (chartTheme.ts) and is redrawn when the theme changes, so an exported file is self-contained;
 * - the webview's CSP forbids eval and inline styles in markup: everything here is presentation attributes
 *   (fill, stroke, font-size…), never a `style` attribute, and nothing is compiled at run time;
 * - the data are small (tens of points, a few hundred at most for a Λ spectrum), so no canvas, no
 *   virtualisation, no decimation.
 *
 * Pure (no DOM): it returns an SvgNode tree plus hit targets (where each point or cell is, with its exact
 * value) that chartDom.ts uses for hover tooltips and legend toggles. The unit tests draw in plain Node.
 */
import { escapeHtml } from '../../shared/html';
import { scaleColor, type ChartTheme } from './chartTheme';
import { elide, fmtFull, fmtNum, fmtTick } from './format';
import type { HeatmapSpec, LineChartSpec, LineSeries, MatrixPanelsSpec } from './spec';
import { axisFor, categoryAxis, position, type Axis, type ScaleKind } from './ticks';

export interface SvgNode {
  tag: string;
  attrs: Record<string, string | number | undefined>;
  children?: (SvgNode | string)[];
}

export interface Hit {
  /** Point (x, y, radius for picking) or rectangle (x, y, w, h). */
  shape: 'point' | 'rect';
  x: number;
  y: number;
  w?: number;
  h?: number;
  series?: string;
  color?: string;
  text: string;
}

export interface Drawing {
  svg: SvgNode;
  width: number;
  height: number;
  hits: Hit[];
}

export const SVG_NS = 'http://www.w3.org/2000/svg';

function el(tag: string, attrs: SvgNode['attrs'], ...children: (SvgNode | string | null | undefined | false)[]): SvgNode {
  return { tag, attrs, children: children.filter((c): c is SvgNode | string => c !== null && c !== undefined && c !== false) };
}

const esc = escapeHtml;

/** Standalone SVG text (with the XML declaration), e.g. for an exported file. */
export function toSvgString(node: SvgNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serialise(node)}\n`;
}

export function serialise(node: SvgNode): string {
  const attrs = Object.entries(node.attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(String(v))}"`)
    .join('');
  const kids = node.children ?? [];
  if (!kids.length) return `<${node.tag}${attrs}/>`;
  return `<${node.tag}${attrs}>${kids.map((c) => (typeof c === 'string' ? esc(c) : serialise(c))).join('')}</${node.tag}>`;
}

/** Rounds pixel coordinates to 0.01 px (shorter files, no visible change). */
const r2 = (v: number): number => Math.round(v * 100) / 100;

/** An estimate of a text's width (no DOM to measure with; generous for proportional UI fonts). */
export function textWidth(s: string, size: number): number {
  return s.length * size * 0.58;
}

function root(theme: ChartTheme, width: number, height: number, title: string, children: SvgNode[]): SvgNode {
  return el(
    'svg',
    {
      xmlns: SVG_NS,
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      'font-family': theme.fontFamily,
      'font-size': theme.fontSize - 2,
      role: 'img',
      'aria-label': title,
    },
    el('title', {}, title),
    el('rect', { x: 0, y: 0, width, height, fill: theme.background }),
    ...children,
  );
}

function titleNode(theme: ChartTheme, title: string, x: number): SvgNode {
  return el('text', { x, y: 18, 'font-size': theme.fontSize, 'font-weight': 600, fill: theme.foreground }, title);
}

const DASH: Record<NonNullable<LineSeries['dash']>, string | undefined> = { solid: undefined, dash: '7 4', dot: '1.5 3.5' };

// ------------------------------------------------------------------------------------------------ line charts

export interface LineState {
  /** Keys of series the user switched off. */
  hidden: ReadonlySet<string>;
  /** Axis kinds chosen by the user (else the spec's). */
  xScale?: ScaleKind;
  yScale?: 'linear' | 'log';
}

/** The spec's initial legend state. */
export function initialHidden(spec: LineChartSpec): Set<string> {
  return new Set(spec.series.filter((s) => s.hidden).map((s) => s.key));
}

/** Whether a log axis is possible for x / y (some positive values exist). */
export function canLog(spec: LineChartSpec, axis: 'x' | 'y'): boolean {
  if (axis === 'x' && spec.x.scale === 'category') return false;
  return spec.series.some((s) => s.points.some((p) => (axis === 'x' ? p.x > 0 : p.y !== null && p.y > 0)));
}

function extent(values: number[]): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/** The axes of a line chart for a state: over the visible series' points, bands and reference lines. */
export function lineAxes(spec: LineChartSpec, state: LineState): { x: Axis; y: Axis; omitted: number } {
  const xKind = state.xScale ?? spec.x.scale;
  const yKind = state.yScale ?? spec.y.scale;
  const visible = spec.series.filter((s) => !state.hidden.has(s.key));
  const use = visible.length ? visible : spec.series;
  const okX = (v: number): boolean => xKind === 'category' || xKind === 'linear' || v > 0;
  const okY = (v: number): boolean => yKind === 'linear' || v > 0;
  const xs: number[] = [];
  const ys: number[] = [];
  let omitted = 0;
  for (const s of use) {
    for (const p of s.points) {
      if (p.y === null) continue;
      if (!okX(p.x) || !okY(p.y)) {
        omitted++;
        continue;
      }
      xs.push(p.x);
      ys.push(p.y);
      if (s.band) for (const b of [p.lo, p.hi]) if (typeof b === 'number' && okY(b)) ys.push(b);
    }
  }
  for (const ref of spec.refs ?? []) {
    if (ref.axis === 'x' && okX(ref.value)) xs.push(ref.value);
    if (ref.axis === 'y' && okY(ref.value)) ys.push(ref.value);
  }
  let x: Axis;
  if (xKind === 'category') x = categoryAxis(spec.x.categories?.length ?? Math.max(0, ...xs) + 1);
  else {
    const e = extent(xs) ?? (xKind === 'linear' ? [0, 1] : [1, 10]);
    x = axisFor(xKind, e[0], e[1], 6);
  }
  const ey = extent(ys) ?? (yKind === 'linear' ? [0, 1] : [0.1, 1]);
  const y = axisFor(yKind, ey[0], ey[1], 5);
  return { x, y, omitted };
}

function thin<T>(ticks: T[], labelWidth: number, span: number): T[] {
  if (ticks.length < 2) return ticks;
  const per = span / (ticks.length - 1);
  const k = Math.max(1, Math.ceil((labelWidth + 8) / Math.max(1, per)));
  return ticks.filter((_, i) => i % k === 0 || i === ticks.length - 1);
}

/**
 * Draws a line chart. Layout (px): title, plot, x labels, legend rows; the width is fixed, the height grows
 * with the legend. Points with y = null (undefined metrics) and values ≤ 0 on a log axis leave gaps.
 */
export function drawLineChart(spec: LineChartSpec, theme: ChartTheme, state: LineState, width = 640): Drawing {
  const fs = theme.fontSize - 2;
  const { x: xAxis, y: yAxis, omitted } = lineAxes(spec, state);
  const yLabels = yAxis.ticks.map(fmtTick);
  const left = Math.max(48, Math.ceil(Math.max(...yLabels.map((l) => textWidth(l, fs)), 0)) + 26);
  const right = 18;
  const top = 34;
  const plotH = Math.round(Math.max(200, Math.min(340, width * 0.36)));
  const plotW = width - left - right;
  const px = (v: number): number => left + position(xAxis, v) * plotW;
  const py = (v: number): number => top + (1 - position(yAxis, v)) * plotH;
  const okX = (v: number): boolean => Number.isFinite(px(v));
  const okY = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(py(v));

  const grid: SvgNode[] = [];
  const labels: SvgNode[] = [];
  yAxis.ticks.forEach((t, i) => {
    const y = r2(py(t));
    grid.push(el('line', { x1: left, x2: left + plotW, y1: y, y2: y, stroke: theme.grid, 'stroke-width': 1 }));
    labels.push(el('text', { x: left - 6, y: y + fs * 0.35, 'text-anchor': 'end', fill: theme.muted }, yLabels[i]));
  });
  const cats = spec.x.categories;
  const xTickText = (t: number): string => (xAxis.kind === 'category' ? (cats?.[t] ?? String(t)) : fmtTick(t));
  const slot = xAxis.kind === 'category' ? plotW / Math.max(1, xAxis.ticks.length) : 0;
  const maxChars = xAxis.kind === 'category' ? Math.max(6, Math.floor((slot - 6) / (fs * 0.58))) : 99;
  const xTexts = xAxis.ticks.map((t) => elide(xTickText(t), maxChars));
  const widest = Math.max(...xTexts.map((s) => textWidth(s, fs)), 0);
  const shownX = new Set(xAxis.kind === 'category' ? xAxis.ticks : thin(xAxis.ticks, widest, plotW));
  xAxis.ticks.forEach((t, i) => {
    const x = r2(px(t));
    grid.push(el('line', { x1: x, x2: x, y1: top, y2: top + plotH, stroke: theme.grid, 'stroke-width': 1 }));
    if (shownX.has(t)) labels.push(el('text', { x, y: top + plotH + fs + 6, 'text-anchor': 'middle', fill: theme.muted }, el('title', {}, xTickText(t)), xTexts[i]));
  });
  const axes = [
    el('line', { x1: left, x2: left, y1: top, y2: top + plotH, stroke: theme.axis, 'stroke-width': 1 }),
    el('line', { x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH, stroke: theme.axis, 'stroke-width': 1 }),
  ];
  const axisTitles = [
    el('text', { x: left + plotW / 2, y: top + plotH + 2 * fs + 14, 'text-anchor': 'middle', fill: theme.foreground }, `${spec.x.label}${scaleSuffix(xAxis.kind)}`),
    el('text', { x: 12, y: top + plotH / 2, 'text-anchor': 'middle', fill: theme.foreground, transform: `rotate(-90 12 ${top + plotH / 2})` }, `${spec.y.label}${scaleSuffix(yAxis.kind)}`),
  ];

  // Reference lines (R² = 0.95, critical width, faithfulness target…).
  const refs: SvgNode[] = [];
  const refLabels: SvgNode[] = [];
  for (const ref of spec.refs ?? []) {
    if (ref.axis === 'y' && okY(ref.value)) {
      const y = r2(py(ref.value));
      refs.push(el('line', { x1: left, x2: left + plotW, y1: y, y2: y, stroke: theme.foreground, 'stroke-width': 1, 'stroke-dasharray': '4 3', opacity: 0.7 }));
      refLabels.push(el('text', { x: left + plotW - 4, y: y - 4, 'text-anchor': 'end', ...halo(theme) }, ref.label));
    } else if (ref.axis === 'x' && okX(ref.value)) {
      const x = r2(px(ref.value));
      refs.push(el('line', { x1: x, x2: x, y1: top, y2: top + plotH, stroke: theme.foreground, 'stroke-width': 1, 'stroke-dasharray': '4 3', opacity: 0.7 }));
      // Labelled at the foot of the line, clear of the y reference labels at the right end of theirs.
      const anchorEnd = x > left + plotW * 0.7;
      refLabels.push(el('text', { x: anchorEnd ? x - 4 : x + 4, y: top + plotH - 6, 'text-anchor': anchorEnd ? 'end' : 'start', ...halo(theme) }, ref.label));
    }
  }

  const hits: Hit[] = [];
  const bands: SvgNode[] = [];
  const lines: SvgNode[] = [];
  spec.series.forEach((s) => {
    if (state.hidden.has(s.key)) return;
    const color = theme.series[s.color % theme.series.length];
    const pts = s.points.filter((p) => okX(p.x) && okY(p.y));
    // Segments split at gaps (null or not drawable on this axis).
    const segments: (typeof s.points)[] = [];
    let cur: typeof s.points = [];
    for (const p of s.points) {
      if (okX(p.x) && okY(p.y)) cur.push(p);
      else if (cur.length) {
        segments.push(cur);
        cur = [];
      }
    }
    if (cur.length) segments.push(cur);
    if (s.band) {
      for (const seg of segments) {
        const withBand = seg.filter((p) => okY(p.lo) && okY(p.hi));
        if (withBand.length < 2) continue;
        const up = withBand.map((p) => `${r2(px(p.x))},${r2(py(p.hi as number))}`);
        const down = withBand
          .slice()
          .reverse()
          .map((p) => `${r2(px(p.x))},${r2(py(p.lo as number))}`);
        bands.push(el('polygon', { points: [...up, ...down].join(' '), fill: color, 'fill-opacity': theme.kind.startsWith('high-contrast') ? 0.3 : 0.16, stroke: 'none' }));
      }
    }
    const d = segments.map((seg) => seg.map((p, i) => `${i ? 'L' : 'M'}${r2(px(p.x))} ${r2(py(p.y as number))}`).join('')).join('');
    if (d) lines.push(el('path', { d, fill: 'none', stroke: color, 'stroke-width': theme.lineWidth, 'stroke-dasharray': DASH[s.dash ?? 'solid'], 'stroke-linejoin': 'round', 'stroke-linecap': 'round', 'data-series': s.key }));
    const markers = pts.length <= 60;
    for (const p of pts) {
      const x = r2(px(p.x));
      const y = r2(py(p.y as number));
      if (markers || pts.length === 1) lines.push(el('circle', { cx: x, cy: y, r: 2.6, fill: color, stroke: theme.background, 'stroke-width': 0.8 }));
      hits.push({ shape: 'point', x, y, series: s.key, color, text: pointText(spec, s, p, xAxis) });
    }
  });

  // Legend: wrapped rows of [line sample + label]; each entry toggles its series in the panel.
  const legend: SvgNode[] = [];
  const legendTop = top + plotH + 2 * fs + 30;
  let lx = left;
  let ly = legendTop;
  const rowH = fs + 9;
  for (const s of spec.series) {
    const w = 26 + textWidth(s.label, fs) + 16;
    if (lx + w > width - right && lx > left) {
      lx = left;
      ly += rowH;
    }
    const off = state.hidden.has(s.key);
    const color = theme.series[s.color % theme.series.length];
    legend.push(
      el(
        'g',
        { class: 'legend-item', 'data-series': s.key, opacity: off ? 0.38 : 1, role: 'button', 'aria-pressed': off ? 'false' : 'true', tabindex: 0 },
        el('title', {}, `${s.label}${s.title ? ` — ${s.title}` : ''}\n(click to ${off ? 'show' : 'hide'})`),
        el('rect', { x: lx - 3, y: ly - fs, width: w - 6, height: fs + 7, fill: 'none', 'pointer-events': 'all' }),
        el('line', { x1: lx, x2: lx + 20, y1: ly - fs * 0.35, y2: ly - fs * 0.35, stroke: color, 'stroke-width': theme.lineWidth + 0.5, 'stroke-dasharray': DASH[s.dash ?? 'solid'], 'stroke-linecap': 'round' }),
        el('text', { x: lx + 26, y: ly, fill: off ? theme.muted : theme.foreground, 'text-decoration': off ? 'line-through' : undefined }, s.label),
      ),
    );
    lx += w;
  }
  let height = ly + 12;
  const notes: SvgNode[] = [];
  if (omitted) {
    height += fs + 4;
    notes.push(el('text', { x: left, y: height - 8, fill: theme.muted }, `${omitted} point(s) ≤ 0 not drawn on the log axis`));
  }
  if (!hits.length) notes.push(el('text', { x: left + plotW / 2, y: top + plotH / 2, 'text-anchor': 'middle', fill: theme.muted }, spec.series.length ? 'all lines are hidden or undefined' : 'no data'));

  const svg = root(theme, width, height, spec.title, [
    titleNode(theme, spec.title, left),
    el('g', { class: 'grid' }, ...grid),
    el('g', { class: 'bands' }, ...bands),
    el('g', { class: 'refs' }, ...refs),
    el('g', { class: 'lines' }, ...lines),
    el('g', { class: 'ref-labels' }, ...refLabels),
    ...axes,
    el('g', { class: 'labels' }, ...labels, ...axisTitles),
    el('g', { class: 'legend' }, ...legend),
    ...notes,
  ]);
  return { svg, width, height, hits };
}

/** Text readable over lines: foreground with a background-coloured outline painted under it. */
function halo(theme: ChartTheme): SvgNode['attrs'] {
  return { fill: theme.foreground, stroke: theme.background, 'stroke-width': 3, 'stroke-linejoin': 'round', 'paint-order': 'stroke' };
}

function scaleSuffix(kind: ScaleKind): string {
  return kind === 'log' ? ' (log)' : kind === 'log2' ? ' (log₂)' : '';
}

function pointText(spec: LineChartSpec, s: LineSeries, p: LineSeries['points'][number], xAxis: Axis): string {
  const xText = xAxis.kind === 'category' ? (spec.x.categories?.[p.x] ?? String(p.x)) : fmtFull(p.x);
  const lines = [s.label, `${spec.x.label} = ${xText}${p.label && p.label !== xText ? ` (${p.label})` : ''}`, `${spec.y.label === 'value' ? 'value' : spec.y.label} = ${fmtFull(p.y)}`];
  if (s.band && typeof p.lo === 'number' && typeof p.hi === 'number') lines.push(`band ${fmtFull(p.lo)} … ${fmtFull(p.hi)}`);
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------------------ heatmap

/**
 * A colour bar from lo to hi. With `sqrt`, colour position is √((v − lo)/(hi − lo)) (weak weights stay
 * visible) and a middle label shows the value at the bar's centre.
 */
function colourLegend(theme: ChartTheme, x: number, y: number, w: number, lo: number, hi: number, label: string, sqrt = false): SvgNode {
  const steps = 24;
  const cells: SvgNode[] = [];
  for (let i = 0; i < steps; i++) cells.push(el('rect', { x: r2(x + (i * w) / steps), y, width: r2(w / steps + 0.5), height: 10, fill: scaleColor(theme, i / (steps - 1)).fill }));
  const fs = theme.fontSize - 2;
  const ly = y + 10 + fs + 3;
  return el(
    'g',
    { class: 'colour-legend' },
    el('text', { x, y: y - 5, fill: theme.muted }, sqrt ? `${label} (√ scale)` : label),
    ...cells,
    el('rect', { x, y, width: w, height: 10, fill: 'none', stroke: theme.axis, 'stroke-width': 0.6 }),
    el('text', { x, y: ly, fill: theme.muted }, fmtNum(lo)),
    sqrt ? el('text', { x: x + w / 2, y: ly, 'text-anchor': 'middle', fill: theme.muted }, fmtNum(lo + (hi - lo) / 4)) : null,
    el('text', { x: x + w, y: ly, 'text-anchor': 'end', fill: theme.muted }, fmtNum(hi)),
  );
}

/** A heatmap of one metric (rows × cols), values printed in the cells, with a colour legend. */
export function drawHeatmap(spec: HeatmapSpec, metricKey: string, theme: ChartTheme, width = 640): Drawing {
  const metric = spec.metrics.find((m) => m.key === metricKey) ?? spec.metrics[0];
  const fs = theme.fontSize - 2;
  const values = metric ? metric.values : [];
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of values) {
    for (const v of row) {
      if (v === null || !Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const rowLabelW = Math.max(40, ...spec.rows.map((r) => textWidth(r, fs) + 14));
  const left = rowLabelW + 12;
  const top = 62;
  const cols = Math.max(1, spec.cols.length);
  const cellW = Math.max(22, Math.min(80, Math.floor((width - left - 20) / cols)));
  const cellH = 30;
  const printValues = cellW >= 44;
  const gridW = cols * cellW;
  const gridH = spec.rows.length * cellH;
  const w = Math.max(width, left + gridW + 20);
  const title = `${spec.title} — ${metric?.label ?? ''}`;
  const nodes: SvgNode[] = [titleNode(theme, title, 12)];
  nodes.push(el('text', { x: left + gridW / 2, y: top - 26, 'text-anchor': 'middle', fill: theme.foreground }, spec.colLabel));
  nodes.push(el('text', { x: 12, y: top - 8, fill: theme.foreground }, spec.rowLabel));
  spec.cols.forEach((c, j) => nodes.push(el('text', { x: left + j * cellW + cellW / 2, y: top - 6, 'text-anchor': 'middle', fill: theme.muted }, c)));
  const hits: Hit[] = [];
  spec.rows.forEach((rname, i) => {
    const y = top + i * cellH;
    nodes.push(el('text', { x: left - 8, y: y + cellH / 2 + fs * 0.35, 'text-anchor': 'end', fill: theme.muted }, rname));
    spec.cols.forEach((cname, j) => {
      const x = left + j * cellW;
      const v = values[i]?.[j] ?? null;
      if (v === null) {
        nodes.push(el('rect', { x: x + 0.5, y: y + 0.5, width: cellW - 1, height: cellH - 1, fill: theme.background, stroke: theme.grid, 'stroke-dasharray': '3 2' }));
        nodes.push(el('text', { x: x + cellW / 2, y: y + cellH / 2 + fs * 0.35, 'text-anchor': 'middle', fill: theme.muted }, '—'));
        hits.push({ shape: 'rect', x, y, w: cellW, h: cellH, text: `${rname} ${cname}\n${metric?.label}: undefined for this run (see the run’s warnings)` });
        return;
      }
      const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
      const c = scaleColor(theme, t);
      nodes.push(el('rect', { x, y, width: cellW, height: cellH, fill: c.fill, stroke: theme.background, 'stroke-width': 1 }));
      if (printValues) nodes.push(el('text', { x: x + cellW / 2, y: y + cellH / 2 + fs * 0.35, 'text-anchor': 'middle', fill: c.text, 'font-size': fs }, fmtNum(v)));
      hits.push({ shape: 'rect', x, y, w: cellW, h: cellH, text: `${rname} ${cname}\n${metric?.label} = ${fmtFull(v)}` });
    });
  });
  if (theme.kind.startsWith('high-contrast')) nodes.push(el('rect', { x: left, y: top, width: gridW, height: gridH, fill: 'none', stroke: theme.grid }));
  const legendY = top + gridH + 30;
  if (lo <= hi) nodes.push(colourLegend(theme, left, legendY, Math.min(260, Math.max(140, gridW)), lo, hi, metric?.label ?? ''));
  const height = legendY + 10 + fs + 12;
  return { svg: root(theme, w, height, title, nodes), width: w, height, hits };
}

// ------------------------------------------------------------------------------------------------ matrices

/** Small multiples: one size×size matrix per panel (e.g. query × key attention of each head). */
export function drawMatrices(spec: MatrixPanelsSpec, theme: ChartTheme, width = 640): Drawing {
  const fs = theme.fontSize - 2;
  const n = Math.max(1, spec.size);
  const cell = Math.max(2, Math.min(8, Math.floor(150 / n)));
  const panel = cell * n;
  const gap = 22;
  const left = 14;
  const perRow = Math.max(1, Math.floor((width - left + gap) / (panel + gap)));
  const top = 30;
  const panelH = panel + fs + 10;
  const rows = Math.ceil(spec.panels.length / perRow);
  const nodes: SvgNode[] = [titleNode(theme, spec.title, left)];
  const hits: Hit[] = [];
  spec.panels.forEach((p, k) => {
    const ox = left + (k % perRow) * (panel + gap);
    const oy = top + Math.floor(k / perRow) * (panelH + gap) + fs + 6;
    nodes.push(el('text', { x: ox, y: oy - 5, fill: theme.foreground }, p.title));
    nodes.push(el('rect', { x: ox - 0.5, y: oy - 0.5, width: panel + 1, height: panel + 1, fill: theme.background, stroke: theme.grid }));
    for (const c of p.cells) {
      if (c.row < 0 || c.row >= n || c.col < 0 || c.col >= n) continue;
      const x = ox + c.col * cell;
      const y = oy + c.row * cell;
      nodes.push(el('rect', { x, y, width: cell, height: cell, fill: scaleColor(theme, Math.sqrt(Math.max(0, c.value) / spec.max)).fill }));
      hits.push({
        shape: 'rect',
        x,
        y,
        w: cell,
        h: cell,
        text: `${p.title}\n${spec.rowLabel} ${c.row} (token ${spec.labels[c.row] ?? '?'}) ← ${spec.colLabel} ${c.col} (token ${spec.labels[c.col] ?? '?'})\n${spec.valueLabel} = ${fmtFull(c.value)}`,
      });
    }
  });
  const belowY = top + rows * (panelH + gap) + 4;
  nodes.push(el('text', { x: left, y: belowY, fill: theme.muted }, `rows: ${spec.rowLabel} position 0…${n - 1} (top to bottom) · columns: ${spec.colLabel} position 0…${n - 1} (left to right)`));
  nodes.push(colourLegend(theme, left, belowY + 26, 220, 0, spec.max, spec.valueLabel, true));
  const height = belowY + 26 + 10 + fs + 12;
  return { svg: root(theme, width, height, spec.title, nodes), width, height, hits };
}
