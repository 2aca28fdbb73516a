/**
 * The overlay drawn in the graph view: the "Colour by" select, the legend box, the hover tooltip, and the
 * overlay on cytoscape's elements — node colours (data `ovFill`/`ovStroke`, class `ov`), undefined values
 * (`ov-null`), marks (`ov-mark`), count badges on collapsed blocks (`ov-badge` nodes) and the circuit drawn
 * over the graph (`ov-edge` edges). What to draw comes from overlay.ts.
 */
import type { Core, ElementDefinition, EventObject, NodeSingular, EdgeSingular } from 'cytoscape';
import type { ModelGraph } from '../shared/ir';
import { h } from './inspector';
import { baseName, fmtNumber, fmtRow, type Overlay, type OverlayEntry, type OverlayLegend, type OverlayOption, type OverlayRow, type VisibleOverlayEdge, type VisibleValue } from './overlay';
import { nodePaint, overlayColors, rampColor, type OverlayColors } from './overlayColors';
import { toHex, type Palette } from './theme';

export const NONE = 'none';

/** What is drawn now, for the e2e tests (`window.__circuitscope.overlay`). */
export interface OverlayStats {
  metric: string | null;
  runId: string | null;
  coloured: number;
  circuitEdges: number;
  note?: string;
}

export interface OverlayViewHost {
  graph(): ModelGraph | undefined;
  palette(): Palette;
  /** The user picked an option (`NONE` for none). */
  choose(id: string): void;
}

const rowsTable = (rows: readonly OverlayRow[], id?: string): HTMLTableElement => {
  const t = h('table', { className: 'kv', id });
  for (const r of rows) t.append(h('tr', {}, h('th', {}, r.label), h('td', { className: r.value === null ? 'undefined' : undefined, title: typeof r.value === 'number' ? String(r.value) : undefined }, fmtRow(r.value))));
  return t;
};

export class OverlayView {
  readonly select: HTMLElement;
  readonly legend: HTMLElement;
  readonly tip: HTMLElement;
  private colors: OverlayColors;
  private overlay: Overlay | undefined;
  private items = new Map<string, VisibleValue>();
  private edges: VisibleOverlayEdge[] = [];
  /** Element ids currently carrying overlay data/classes. */
  private painted = new Set<string>();
  /** Extra elements drawn last time (none: no query over the graph to remove them). */
  private extras = 0;
  private stats: OverlayStats = { metric: null, runId: null, coloured: 0, circuitEdges: 0 };

  constructor(private readonly host: OverlayViewHost) {
    this.colors = overlayColors(host.palette());
    this.select = h('vscode-single-select' as 'select', { id: 'overlay-select', title: 'Colour the operators by a metric of an analysis run', 'aria-label': 'Colour by' });
    this.select.hidden = true;
    this.select.addEventListener('change', () => {
      const v = (this.select as unknown as { value: string }).value;
      this.host.choose(v || NONE);
    });
    this.legend = h('div', { id: 'overlay-legend', role: 'region', 'aria-label': 'Overlay legend' });
    this.legend.hidden = true;
    this.tip = h('div', { id: 'overlay-tip', role: 'tooltip' });
    this.tip.hidden = true;
  }

  get current(): OverlayStats {
    return this.stats;
  }

  get active(): Overlay | undefined {
    return this.overlay;
  }

  /** Whether any element carries overlay colours now. */
  get painting(): boolean {
    return this.painted.size > 0 || this.items.size > 0;
  }

  setPalette(p: Palette): void {
    this.colors = overlayColors(p);
    if (this.overlay) this.renderLegend(this.overlay.legend);
  }

  // ------------------------------------------------------------------------------------------ select

  setOptions(options: readonly OverlayOption[], selected: string): void {
    const sel = this.select;
    sel.hidden = options.length === 0;
    if (!options.length) {
      sel.replaceChildren();
      return;
    }
    const opt = (value: string, label: string, description: string, disabled = false): HTMLElement => {
      const o = h('vscode-option' as 'option', { value, description, disabled, selected: value === selected });
      o.textContent = label;
      return o;
    };
    const children = [opt(NONE, 'Colour by: none', 'no overlay')];
    for (const o of options) children.push(opt(o.refused ? `${o.id}` : o.id, o.refused ? `${o.analysis} · (not this model)` : o.label, o.refused ?? o.detail, !!o.refused));
    sel.replaceChildren(...children);
    (sel as unknown as { value: string }).value = selected;
  }

  // ------------------------------------------------------------------------------------------ legend

  /** The legend for an overlay, or a note in its place (a refused run), or nothing. */
  show(overlay: Overlay | undefined, note?: string): void {
    this.overlay = overlay;
    this.stats = { metric: overlay?.metric ?? null, runId: overlay?.runId ?? null, coloured: 0, circuitEdges: 0, ...(note ? { note } : {}) };
    if (overlay) this.renderLegend(overlay.legend);
    else if (note) {
      this.legend.replaceChildren(h('div', { className: 'legend-note refused', role: 'status' }, note));
      this.legend.hidden = false;
    } else {
      this.legend.replaceChildren();
      this.legend.hidden = true;
    }
  }

  private renderLegend(l: OverlayLegend): void {
    const bar = h('canvas', { className: 'legend-ramp', width: '160', height: '10', 'aria-hidden': 'true' });
    const ctx = bar.getContext('2d');
    if (ctx) {
      for (let x = 0; x < 160; x++) {
        ctx.fillStyle = toHex(rampColor(this.colors, l.scale, x / 159));
        ctx.fillRect(x, 0, 1, 10);
      }
    }
    const range =
      l.min === null || l.max === null
        ? h('div', { className: 'legend-range muted' }, 'no values')
        : h(
            'div',
            { className: 'legend-range' },
            h('span', { id: 'overlay-legend-min' }, l.scale === 'diverging' ? fmtNumber(-Math.max(Math.abs(l.min), Math.abs(l.max))) : fmtNumber(l.min)),
            h('span', { className: 'muted' }, l.scale === 'diverging' ? '0' : l.log ? 'log scale' : ''),
            h('span', { id: 'overlay-legend-max' }, l.scale === 'diverging' ? fmtNumber(Math.max(Math.abs(l.min), Math.abs(l.max))) : fmtNumber(l.max)),
          );
    const when = l.finishedAt ? new Date(l.finishedAt) : undefined;
    const whenText = when && !Number.isNaN(when.getTime()) ? when.toLocaleString() : l.finishedAt;
    const parts: (Node | null)[] = [
      h('div', { className: 'legend-title', id: 'overlay-legend-title' }, l.title),
      l.description ? h('div', { className: 'legend-desc muted' }, l.description) : null,
      bar,
      range,
      l.scale === 'diverging' ? h('div', { className: 'muted small' }, `diverging around 0 (data ${fmtNumber(l.min!)} … ${fmtNumber(l.max!)})`) : null,
      h('div', { className: 'legend-swatches small' }, h('span', { className: 'swatch undefined' }), ' undefined for this run', this.overlay?.marks.size ? h('span', { className: 'swatch mark' }) : null, this.overlay?.marks.size ? ' classifier head' : null),
    ];
    if (l.edges) {
      const line = h('canvas', { className: 'legend-line', width: '40', height: '10', 'aria-hidden': 'true' });
      const c = line.getContext('2d');
      if (c) {
        c.strokeStyle = this.colors.edge;
        c.lineWidth = 3;
        c.setLineDash([6, 3]);
        c.beginPath();
        c.moveTo(0, 5);
        c.lineTo(40, 5);
        c.stroke();
      }
      parts.push(h('div', { className: 'legend-edges small' }, line, ` ${l.edges.label} (max ${fmtNumber(l.edges.maxAbs)})`));
    }
    if (l.rows.length) parts.push(rowsTable(l.rows, 'overlay-legend-rows'));
    for (const n of l.notes) parts.push(h('div', { className: 'legend-note' }, n));
    parts.push(h('div', { className: 'legend-run muted small', title: l.runId }, `${baseName(l.model)}${l.data ? ` · ${baseName(l.data)}` : ''} · ${whenText}`));
    const close = h('button', { className: 'legend-close', title: 'Remove the colours', 'aria-label': 'Remove the colours' }, '×');
    close.addEventListener('click', () => this.host.choose(NONE));
    this.legend.replaceChildren(close, ...parts.filter((p): p is Node => p !== null));
    this.legend.hidden = false;
  }

  // ------------------------------------------------------------------------------------------ painting

  /** Sets the overlay data on element definitions (before they are mounted) and on mounted elements. */
  paint(cy: Core | undefined, defs: Map<string, ElementDefinition>, items: Map<string, VisibleValue>, edges: VisibleOverlayEdge[], palette: Palette): void {
    this.items = items;
    this.edges = edges;
    const l = this.overlay?.legend;
    const next = new Map<string, { fill?: string; stroke?: string; classes: string[] }>();
    for (const [id, v] of items) {
      const classes: string[] = [];
      let fill: string | undefined;
      let stroke: string | undefined;
      if (v.t !== null && l) {
        ({ fill, stroke } = nodePaint(palette, this.colors, l.scale, v.t));
        classes.push('ov');
      } else if (v.members.length) classes.push('ov-null');
      if (v.marks.length) classes.push('ov-mark');
      if (classes.length) next.set(id, { fill, stroke, classes });
    }
    const OV = ['ov', 'ov-null', 'ov-mark'];
    const setDef = (id: string, p: { fill?: string; stroke?: string; classes: string[] } | undefined): void => {
      const d = defs.get(id);
      if (!d) return;
      const base = (typeof d.classes === 'string' ? d.classes.split(' ') : (d.classes ?? [])).filter((c) => c && !OV.includes(c));
      d.classes = [...base, ...(p?.classes ?? [])].join(' ');
      if (p?.fill) {
        d.data.ovFill = p.fill;
        d.data.ovStroke = p.stroke;
      } else {
        delete d.data.ovFill;
        delete d.data.ovStroke;
      }
    };
    for (const id of this.painted) if (!next.has(id)) setDef(id, undefined);
    for (const [id, p] of next) setDef(id, p);
    if (cy) {
      cy.batch(() => {
        for (const id of this.painted) {
          if (next.has(id)) continue;
          const e = cy.getElementById(id);
          if (e.empty()) continue;
          e.removeClass(OV.join(' '));
          e.removeData('ovFill ovStroke');
        }
        for (const [id, p] of next) {
          const e = cy.getElementById(id);
          if (e.empty()) continue;
          e.removeClass(OV.join(' '));
          if (p.fill) e.data({ ovFill: p.fill, ovStroke: p.stroke });
          else e.removeData('ovFill ovStroke');
          e.addClass(p.classes.join(' '));
        }
      });
    }
    this.painted = new Set(next.keys());
    let coloured = 0;
    for (const v of items.values()) if (v.t !== null) coloured++;
    this.stats = { ...this.stats, coloured, circuitEdges: edges.length };
  }

  /** Badges on collapsed blocks and the overlay edges: extra elements, re-added after every render. */
  drawExtras(cy: Core, box: (id: string) => { x: number; y: number; w: number; h: number } | undefined): void {
    const l = this.overlay?.legend;
    if (!this.extras && !this.edges.length && ![...this.items.values()].some((v) => v.aggregate && v.coloured)) return;
    cy.batch(() => {
      if (this.extras) cy.elements('.ov-badge, .ov-edge').remove();
      const add: ElementDefinition[] = [];
      for (const [id, v] of this.items) {
        if (!v.aggregate || v.coloured === 0) continue;
        const b = box(id);
        if (!b) continue;
        const x = b.x + b.w / 2 - 4;
        const y = b.y - b.h / 2 + 2;
        add.push({
          group: 'nodes',
          // Every field the base node style maps (w, h, fill, stroke), or cytoscape warns per element.
          data: { id: `ovb:${id}`, label: String(v.coloured), of: id, w: 18, h: 18, fill: this.colors.badge, stroke: this.colors.badge, bx: [x - 12, y - 12, x + 12, y + 12] },
          position: { x, y },
          classes: 'ov-badge',
          selectable: false,
          grabbable: false,
        });
      }
      const maxAbs = l?.edges?.maxAbs ?? 0;
      for (const e of this.edges) {
        if (cy.getElementById(e.source).empty() || cy.getElementById(e.target).empty()) continue;
        const w = 2 + (maxAbs > 0 ? (7 * e.absScore) / maxAbs : 0);
        const s = box(e.source);
        const t = box(e.target);
        const bx = s && t ? [Math.min(s.x, t.x) - 80, Math.min(s.y, t.y) - 80, Math.max(s.x, t.x) + 80, Math.max(s.y, t.y) + 80] : undefined;
        add.push({
          group: 'edges',
          data: { id: e.id, source: e.source, target: e.target, ovW: w, ovColor: this.colors.edge, label: edgeLabel(e), bx },
          classes: 'ov-edge',
          selectable: false,
        });
      }
      if (add.length) cy.add(add);
      this.extras = add.length;
    });
  }

  // ------------------------------------------------------------------------------------------ tooltip

  /** Hover tooltips for coloured nodes and overlay edges. */
  wire(cy: Core, container: HTMLElement): void {
    const place = (x: number, y: number): void => {
      const W = container.clientWidth;
      const H = container.clientHeight;
      this.tip.hidden = false;
      const tw = this.tip.offsetWidth;
      const th = this.tip.offsetHeight;
      this.tip.style.left = `${Math.max(4, Math.min(W - tw - 4, x + 14))}px`;
      this.tip.style.top = `${Math.max(4, Math.min(H - th - 4, y + 14))}px`;
    };
    cy.on('mouseover', 'node', (ev: EventObject) => {
      if (!this.overlay) return;
      const n = ev.target as NodeSingular;
      const content = this.tooltipFor(n.id(), n.data('label') as string | undefined);
      if (!content) return;
      this.tip.replaceChildren(...content);
      const p = ev.renderedPosition ?? n.renderedPosition();
      place(p.x, p.y);
    });
    cy.on('mouseover', 'edge.ov-edge', (ev: EventObject) => {
      const e = ev.target as EdgeSingular;
      e.addClass('ov-hover');
      const v = this.edges.find((x) => x.id === e.id());
      if (!v) return;
      this.tip.replaceChildren(...this.edgeTooltip(v));
      const p = ev.renderedPosition ?? e.renderedMidpoint();
      place(p.x, p.y);
    });
    cy.on('mouseout', 'node, edge', (ev: EventObject) => {
      (ev.target as EdgeSingular).removeClass('ov-hover');
      this.tip.hidden = true;
    });
    cy.on('viewport', () => {
      this.tip.hidden = true;
    });
  }

  private nameOf(id: string): string {
    const g = this.host.graph();
    if (id.startsWith('n:')) {
      const n = g?.nodes.find((x) => x.id === id.slice(2));
      return n ? n.name || n.id : id.slice(2);
    }
    if (id.startsWith('g:')) return id.slice(2);
    return g?.values[id.slice(2)]?.name ?? id.slice(2);
  }

  private tooltipFor(id: string, label: string | undefined): Node[] | undefined {
    const v = this.items.get(id);
    const o = this.overlay;
    if (!o || !v) return undefined;
    const out: Node[] = [h('div', { className: 'tip-title' }, this.nameOf(id), label ? h('span', { className: 'muted' }, ` ${label.split('\n')[0]}`) : null)];
    const metric = o.legend.title;
    if (v.members.length) {
      if (v.aggregate) {
        out.push(h('div', {}, h('strong', {}, `${metric}: ${v.value === null ? 'undefined' : fmtNumber(v.value)}`), h('span', { className: 'muted' }, ` max |value| of ${v.members.length} hidden (${v.coloured} defined)`)));
        out.push(rowsTable(v.members.slice(0, 8).map((m) => ({ label: this.nameOf(m.key), value: m.value }))));
        if (v.members.length > 8) out.push(h('div', { className: 'muted' }, `… ${v.members.length - 8} more`));
      } else {
        const m = v.members[0];
        out.push(h('div', {}, h('strong', {}, `${metric}: ${m.value === null ? 'undefined' : fmtNumber(m.value)}`)), h('div', { className: 'muted' }, m.what));
        if (m.rows.length) out.push(rowsTable(m.rows.slice(0, 10)));
      }
    }
    for (const mk of v.marks) out.push(h('div', { className: 'tip-mark' }, mk.what));
    return out;
  }

  private edgeTooltip(e: VisibleOverlayEdge): Node[] {
    const out: Node[] = [
      h('div', { className: 'tip-title' }, `${e.kind === 'circuit' ? 'Circuit' : 'LIB section'}: ${this.nameOf(e.source)} → ${this.nameOf(e.target)}`),
      h('div', {}, h('strong', {}, e.kind === 'circuit' ? `Σ|score| ${fmtNumber(e.absScore)}` : `mass ${fmtNumber(e.absScore)}`), e.kind === 'circuit' ? h('span', { className: 'muted' }, ` (Σ score ${fmtNumber(e.score)}, ${e.parts.length} edge${e.parts.length > 1 ? 's' : ''})`) : null),
      rowsTable(e.parts.slice(0, 10).map((p) => ({ label: p.id, value: p.score }))),
    ];
    if (e.parts.length > 10) out.push(h('div', { className: 'muted' }, `… ${e.parts.length - 10} more`));
    return out;
  }

  // ------------------------------------------------------------------------------------------ inspector

  /**
   * The overlay's numbers for a selected element (for the inspector): its entry, or for a block every entry
   * under it. `under(key)` says whether an entry's element lies in the block.
   */
  section(elementId: string | undefined, under?: (key: string) => boolean): HTMLElement | null {
    const o = this.overlay;
    if (!o) return null;
    const members: OverlayEntry[] = [];
    const marks: string[] = [];
    if (under) {
      for (const e of o.entries.values()) if (under(e.key)) members.push(e);
      for (const m of o.marks.values()) if (under(m.key)) marks.push(m.what);
    } else if (elementId) {
      const e = o.entries.get(elementId);
      if (e) members.push(e);
      const m = o.marks.get(elementId);
      if (m) marks.push(m.what);
    }
    const edges = elementId ? this.edges.filter((e) => e.source === elementId || e.target === elementId) : [];
    if (!members.length && !marks.length && !edges.length) return null;
    const body = h('div', { id: 'inspector-overlay', className: 'overlay-section' }, h('div', { className: 'chart-title' }, o.legend.title));
    if (members.length === 1 && !under) {
      const m = members[0];
      body.append(
        h('div', { className: 'overlay-value' }, h('strong', { title: m.value === null ? undefined : String(m.value) }, m.value === null ? 'undefined' : fmtNumber(m.value))),
        h('div', { className: 'muted' }, m.what),
        rowsTable(m.rows),
      );
    } else if (members.length) {
      body.append(rowsTable(members.map((m) => ({ label: this.nameOf(m.key), value: m.value }))));
    }
    for (const w of marks) body.append(h('div', { className: 'tip-mark' }, w));
    for (const e of edges) {
      body.append(h('div', { className: 'chart-title' }, `${e.kind === 'circuit' ? 'circuit edge' : 'section'} ${this.nameOf(e.source)} → ${this.nameOf(e.target)}: ${fmtNumber(e.absScore)}`));
      body.append(rowsTable(e.parts.map((p) => ({ label: p.id, value: p.score }))));
    }
    return body;
  }

  /** Every coloured element, for the model overview (click reveals). */
  summary(reveal: (key: string) => void): HTMLElement | null {
    const o = this.overlay;
    if (!o || !o.entries.size) return null;
    const t = h('table', { className: 'kv', id: 'inspector-overlay-list' });
    const list = [...o.entries.values()].sort((a, b) => Math.abs(b.value ?? -Infinity) - Math.abs(a.value ?? -Infinity));
    for (const e of list.slice(0, 60)) {
      const a = h('a', { href: '#', className: 'value-link' }, this.nameOf(e.key));
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        reveal(e.key);
      });
      t.append(h('tr', {}, h('th', {}, a), h('td', { className: e.value === null ? 'undefined' : undefined }, fmtRow(e.value))));
    }
    return h('div', { id: 'inspector-overlay', className: 'overlay-section' }, h('div', { className: 'chart-title' }, o.legend.title), t);
  }
}

function edgeLabel(e: VisibleOverlayEdge): string {
  if (e.kind === 'section') return `mass ${fmtNumber(e.absScore)}`;
  return e.parts.length > 1 ? `Σ|s| ${fmtNumber(e.absScore)} (${e.parts.length})` : `${fmtNumber(e.score)}`;
}
