/**
 * A chart in the panel: a `figure.chart[data-chart]` holding the SVG drawn by chart.ts, its controls (legend
 * toggles inside the drawing, log-axis toggles, the heatmap's metric select), a hover tooltip with the exact
 * values, and SVG/PNG export of the drawing as it is shown.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { h } from '../inspector';
import { canLog, drawHeatmap, drawLineChart, drawMatrices, initialHidden, SVG_NS, toSvgString, type Drawing, type Hit, type SvgNode } from './chart';
import type { ChartTheme } from './chartTheme';
import { slug as slugOf } from './format';
import type { ChartSpec } from './spec';
import type { ScaleKind } from './ticks';

export interface FigureState {
  hidden?: string[];
  xScale?: ScaleKind;
  yScale?: 'linear' | 'log';
  metric?: string;
}

export interface FigureHost {
  theme(): ChartTheme;
  /** `what` names the drawing in the file name (the chart's slug, plus the metric for a heatmap). */
  exportSvg(what: string, svg: string): void;
  exportPng(what: string, png: Uint8Array): void;
  loadState(): FigureState | undefined;
  saveState(s: FigureState): void;
  /** An export failed (shown to the user). */
  reportError(message: string): void;
}

/** DOM nodes for an SvgNode tree (SVG namespace; text as text nodes, so nothing is parsed as markup). */
export function toDom(node: SvgNode): SVGElement {
  const e = document.createElementNS(SVG_NS, node.tag);
  for (const [k, v] of Object.entries(node.attrs)) if (v !== undefined && k !== 'xmlns') e.setAttribute(k, String(v));
  for (const c of node.children ?? []) e.append(typeof c === 'string' ? document.createTextNode(c) : toDom(c));
  return e;
}

/** The drawing rasterised at `scale`× as PNG bytes (through an <img> of the standalone SVG and a canvas). */
export async function svgToPng(svgText: string, width: number, height: number, scale = 2): Promise<Uint8Array> {
  const img = new Image();
  img.width = width;
  img.height = height;
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('PNG export: no 2D canvas context in this webview');
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.drawImage(img, 0, 0, width, height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('PNG export: the canvas produced no image');
  return new Uint8Array(await blob.arrayBuffer());
}

function button(label: string, title: string, action: string | undefined, onClick: () => void): HTMLElement {
  const b = h('vscode-button' as 'button', { secondary: true, title, 'aria-label': title, 'data-action': action });
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

export class ChartFigure {
  readonly element: HTMLElement;
  private readonly canvas: HTMLElement;
  private readonly tooltip: HTMLElement;
  private readonly toolbar: HTMLElement;
  private svgEl: SVGElement | undefined;
  private marker: SVGElement | undefined;
  private current: Drawing | undefined;
  private hidden: Set<string>;
  private xScale?: ScaleKind;
  private yScale?: 'linear' | 'log';
  private metric?: string;
  private lastWidth = 0;
  private scaleButtons: { axis: 'x' | 'y'; el: HTMLElement }[] = [];

  constructor(
    readonly spec: ChartSpec,
    private readonly host: FigureHost,
  ) {
    const saved = host.loadState();
    this.hidden = spec.kind === 'line' ? (saved?.hidden ? new Set(saved.hidden) : initialHidden(spec)) : new Set();
    this.xScale = saved?.xScale;
    this.yScale = saved?.yScale;
    if (spec.kind === 'heatmap') this.metric = saved?.metric && spec.metrics.some((m) => m.key === saved.metric) ? saved.metric : spec.initial;

    this.toolbar = h('div', { className: 'chart-toolbar' });
    this.canvas = h('div', { className: 'chart-canvas' });
    this.tooltip = h('div', { className: 'chart-tooltip', role: 'tooltip', hidden: true });
    this.canvas.append(this.tooltip);
    this.element = h('figure', { className: `chart chart-${spec.kind}`, 'data-chart': spec.slug }, this.toolbar, this.canvas, spec.note ? h('figcaption', { className: 'chart-note' }, spec.note) : null);
    this.buildToolbar();
    this.canvas.addEventListener('pointermove', (ev) => this.hover(ev));
    this.canvas.addEventListener('pointerleave', () => this.hideTip());
    this.canvas.addEventListener('click', (ev) => this.legendClick(ev));
    this.canvas.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        if (this.legendClick(ev)) ev.preventDefault();
      }
    });
  }

  private buildToolbar(): void {
    const spec = this.spec;
    if (spec.kind === 'heatmap') {
      const select = document.createElement('vscode-single-select');
      select.setAttribute('aria-label', 'Metric');
      select.setAttribute('title', 'Metric shown in the heatmap');
      select.dataset.control = 'metric';
      for (const m of spec.metrics) {
        const o = document.createElement('vscode-option');
        o.setAttribute('value', m.key);
        if (m.title) o.setAttribute('description', m.title);
        if (m.key === this.metric) o.setAttribute('selected', '');
        o.textContent = m.label;
        select.append(o);
      }
      select.addEventListener('change', () => {
        this.metric = select.value;
        this.persist();
        this.render();
      });
      this.toolbar.append(h('label', { className: 'muted' }, 'Metric'), select);
    }
    if (spec.kind === 'line') {
      for (const axis of ['x', 'y'] as const) {
        if (!canLog(spec, axis)) continue;
        const el = button(`log ${axis}`, `Switch the ${axis} axis between linear and logarithmic`, undefined, () => this.toggleScale(axis));
        el.dataset.control = `log-${axis}`;
        this.scaleButtons.push({ axis, el });
        this.toolbar.append(el);
      }
    }
    this.toolbar.append(
      h('span', { className: 'spacer' }),
      button('SVG', 'Export this chart as SVG', 'export-svg', () => this.exportSvg()),
      button('PNG', 'Export this chart as PNG (2×)', 'export-png', () => void this.exportPng()),
    );
  }

  private scaleOf(axis: 'x' | 'y'): ScaleKind {
    const spec = this.spec;
    if (spec.kind !== 'line') return 'linear';
    return axis === 'x' ? (this.xScale ?? spec.x.scale) : (this.yScale ?? spec.y.scale);
  }

  private toggleScale(axis: 'x' | 'y'): void {
    const spec = this.spec;
    if (spec.kind !== 'line') return;
    const cur = this.scaleOf(axis);
    if (axis === 'x') this.xScale = cur === 'linear' ? (spec.x.scale === 'log2' ? 'log2' : 'log') : 'linear';
    else this.yScale = cur === 'linear' ? 'log' : 'linear';
    this.persist();
    this.render();
  }

  private persist(): void {
    this.host.saveState({ hidden: [...this.hidden], xScale: this.xScale, yScale: this.yScale, metric: this.metric });
  }

  /** The metric "Show on model" sends: the heatmap's metric, or the first visible line of a metric legend. */
  currentMetric(): string | undefined {
    const spec = this.spec;
    if (spec.kind === 'heatmap') return this.metric;
    if (spec.kind === 'line' && spec.metricLegend) return spec.series.find((s) => !this.hidden.has(s.key))?.key;
    return undefined;
  }

  /** The file-name part of this drawing. */
  what(): string {
    return this.spec.kind === 'heatmap' && this.metric ? `${this.spec.slug}-${slugOf(this.metric)}` : this.spec.slug;
  }

  draw(): Drawing {
    const spec = this.spec;
    const theme = this.host.theme();
    const avail = Math.floor(this.canvas.clientWidth || this.element.clientWidth || 640);
    const width = Math.max(420, Math.min(960, avail));
    this.lastWidth = width;
    switch (spec.kind) {
      case 'line':
        return drawLineChart(spec, theme, { hidden: this.hidden, xScale: this.xScale, yScale: this.yScale }, width);
      case 'heatmap':
        return drawHeatmap(spec, this.metric ?? spec.initial, theme, width);
      case 'matrices':
        return drawMatrices(spec, theme, width);
    }
  }

  render(): void {
    this.current = this.draw();
    const svg = toDom(this.current.svg);
    svg.setAttribute('class', 'chart-svg');
    if (this.svgEl) this.svgEl.replaceWith(svg);
    else this.canvas.prepend(svg);
    this.svgEl = svg;
    this.marker = undefined;
    for (const b of this.scaleButtons) {
      const on = this.scaleOf(b.axis) !== 'linear';
      b.el.textContent = `${on ? '✓ ' : ''}log ${b.axis}`;
      b.el.setAttribute('aria-pressed', String(on));
    }
    this.hideTip();
  }

  /** Redraws when the available width changed noticeably (window resize). */
  resize(): void {
    const avail = Math.floor(this.canvas.clientWidth || 640);
    if (Math.abs(Math.max(420, Math.min(960, avail)) - this.lastWidth) > 16) this.render();
  }

  private legendClick(ev: Event): boolean {
    if (this.spec.kind !== 'line') return false;
    const item = (ev.target as Element | null)?.closest?.('.legend-item');
    const key = item?.getAttribute('data-series');
    if (!key) return false;
    if (this.hidden.has(key)) this.hidden.delete(key);
    else this.hidden.add(key);
    this.persist();
    this.render();
    this.svgEl?.querySelector<SVGElement>(`.legend-item[data-series="${CSS.escape(key)}"]`)?.focus();
    return true;
  }

  private pick(x: number, y: number): Hit | undefined {
    const hits = this.current?.hits ?? [];
    let best: Hit | undefined;
    let bestD = 14 * 14;
    for (const hit of hits) {
      if (hit.shape === 'rect') {
        if (x >= hit.x && x <= hit.x + (hit.w ?? 0) && y >= hit.y && y <= hit.y + (hit.h ?? 0)) return hit;
        continue;
      }
      const d = (hit.x - x) ** 2 + (hit.y - y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = hit;
      }
    }
    return best;
  }

  private hover(ev: PointerEvent): void {
    if (!this.svgEl || !this.current) return;
    const rect = this.svgEl.getBoundingClientRect();
    if (!rect.width) return;
    const k = this.current.width / rect.width;
    const x = (ev.clientX - rect.left) * k;
    const y = (ev.clientY - rect.top) * k;
    const hit = this.pick(x, y);
    if (!hit) return this.hideTip();
    this.tooltip.textContent = hit.text;
    this.tooltip.hidden = false;
    const box = this.canvas.getBoundingClientRect();
    const left = ev.clientX - box.left + 14;
    const top = ev.clientY - box.top + 14;
    const tw = this.tooltip.offsetWidth;
    this.tooltip.style.left = `${Math.max(0, left + tw > box.width ? left - tw - 28 : left)}px`;
    this.tooltip.style.top = `${top}px`;
    this.mark(hit);
  }

  private mark(hit: Hit): void {
    if (!this.svgEl) return;
    this.marker?.remove();
    const theme = this.host.theme();
    const m =
      hit.shape === 'point'
        ? toDom({ tag: 'circle', attrs: { cx: hit.x, cy: hit.y, r: 5.5, fill: 'none', stroke: hit.color ?? theme.foreground, 'stroke-width': 2, 'pointer-events': 'none' } })
        : toDom({ tag: 'rect', attrs: { x: hit.x + 0.5, y: hit.y + 0.5, width: (hit.w ?? 0) - 1, height: (hit.h ?? 0) - 1, fill: 'none', stroke: theme.foreground, 'stroke-width': 1.5, 'pointer-events': 'none' } });
    this.svgEl.append(m);
    this.marker = m;
  }

  private hideTip(): void {
    this.tooltip.hidden = true;
    this.marker?.remove();
    this.marker = undefined;
  }

  /** The standalone SVG text of the drawing as shown (same theme, same toggles). */
  svgText(): { text: string; width: number; height: number } {
    const d = this.current ?? this.draw();
    return { text: toSvgString(d.svg), width: d.width, height: d.height };
  }

  private exportSvg(): void {
    this.host.exportSvg(this.what(), this.svgText().text);
  }

  private async exportPng(): Promise<void> {
    const s = this.svgText();
    try {
      this.host.exportPng(this.what(), await svgToPng(s.text, s.width, s.height, 2));
    } catch (e) {
      this.host.reportError(`PNG export of “${this.spec.title}” failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
