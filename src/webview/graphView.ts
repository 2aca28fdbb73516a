/**
 * The cytoscape side of the graph view: elements from a {@link VisibleGraph} and a {@link LayoutResult},
 * a theme-driven stylesheet, and the choice between the WebGL renderer and the canvas fallback.
 */
import cytoscape from 'cytoscape';
import type { Core, ElementDefinition, StylesheetJson } from 'cytoscape';
import { installCulling } from './culling';
import { edgeLabelOffsets } from './edgeLabels';
import type { LayoutResult } from './layout';
import type { Palette } from './theme';
import type { VisibleGraph } from './viewModel';
import { ZOOM_FLOOR } from './viewportFit';

export type RendererKind = 'webgl' | 'canvas';

/** Graphs above these sizes get the cheaper drawing options. */
export const BIG_GRAPH_NODES = 1200;
export const EDGE_LABEL_LIMIT = 1500;
/** Above this many edges, edges are drawn straight (bend points through dummy nodes cost too much to draw). */
export const BEND_LIMIT = 4000;

/**
 * Whether to use cytoscape's WebGL renderer: it needs WebGL2, and a software implementation (SwiftShader,
 * llvmpipe — what Chromium falls back to without a GPU, e.g. headless with --disable-gpu) draws slower than
 * the canvas renderer, so it counts as no WebGL.
 */
export function detectWebgl(): { ok: boolean; renderer: string } {
  try {
    const c = document.createElement('canvas');
    const gl = c.getContext('webgl2');
    if (!gl) return { ok: false, renderer: 'none' };
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { ok: !/swiftshader|llvmpipe|softpipe|software|basic render/i.test(name), renderer: name };
  } catch {
    return { ok: false, renderer: 'error' };
  }
}

function box(x: number, y: number, w: number, h: number, pad: number): [number, number, number, number] {
  return [x - w / 2 - pad, y - h / 2 - pad, x + w / 2 + pad, y + h / 2 + pad];
}

export interface Sized {
  w: number;
  h: number;
}

export interface ElementOptions {
  edgeLabels: boolean;
  bends: boolean;
  measure?: (text: string) => number;
  titleWidth?: (text: string) => number;
}

/** Element definitions, positions from the layout (items are indexed like the layout request). */
export function buildElements(view: VisibleGraph, layout: LayoutResult, order: { itemIndex: Map<string, number> }, palette: Palette, opts: ElementOptions): ElementDefinition[] {
  return listElements(view, elementBuilder(view, layout, order, palette, opts));
}

/** Every definition of `view` from its builder: compounds, items, edges. */
export function listElements(view: VisibleGraph, b: ElementBuilder): ElementDefinition[] {
  const els: ElementDefinition[] = [];
  for (let k = 0; k < view.compounds.length; k++) els.push(b.compound(k));
  for (let j = 0; j < view.items.length; j++) els.push(b.item(j));
  for (let ei = 0; ei < view.edges.length; ei++) els.push(b.edge(ei));
  return els;
}

/** Builds the definition of one compound, item or edge (by its index in the view); buildElements lists them all. */
export interface ElementBuilder {
  compound(k: number): ElementDefinition;
  item(j: number): ElementDefinition;
  edge(ei: number): ElementDefinition;
}

/**
 * The per-element half of {@link buildElements}: what is computed over the whole graph (edge label positions)
 * is computed here, once, so a definition built alone equals the one buildElements lists.
 */
export function elementBuilder(view: VisibleGraph, layout: LayoutResult, order: { itemIndex: Map<string, number> }, palette: Palette, opts: ElementOptions): ElementBuilder {
  const labelText = (e: VisibleGraph['edges'][number]): string | undefined => (opts.edgeLabels && e.label ? (e.count > 1 ? `${e.label} (+${e.count - 1})` : e.label) : undefined);
  // Label positions along the edges, clear of operators, block titles and each other (edgeLabels.ts).
  const labelAt = opts.edgeLabels
    ? edgeLabelOffsets(
        layout,
        view.compounds.length,
        view.compounds.map((c) => (c.repeat ? `${c.label}   ⟳ ${c.repeat.index}/${c.repeat.count}` : c.label)),
        view.edges.map((e) => [order.itemIndex.get(e.source)!, order.itemIndex.get(e.target)!]),
        view.edges.map(labelText),
        opts.measure ?? ((t) => t.length * 5.2),
        opts.titleWidth,
      )
    : undefined;
  const compound = (k: number): ElementDefinition => {
    const c = view.compounds[k];
    const i = order.itemIndex.get(c.id)!;
    const label = c.repeat ? `${c.label}   ⟳ ${c.repeat.index}/${c.repeat.count}` : c.label;
    return {
      group: 'nodes',
      data: {
        id: c.id,
        parent: c.parent,
        label,
        // The label sits in the top-left corner (edges enter compounds through a port at the top centre),
        // 10 px inside the drawn box, which is the layout box plus 12 px of padding (the layout's box can be
        // narrower than the title: it is sized by the children).
        lmx: -layout.width[i] / 2 - 2 + (opts.titleWidth?.(label) ?? label.length * 6.8) / 2,
        bx: box(layout.x[i], layout.y[i], layout.width[i], layout.height[i], 6),
        kind: 'compound',
        ref: c.ref,
        w: layout.width[i],
        h: layout.height[i],
        bl: `${layout.biasLeft[i].toFixed(2)}%`,
        br: `${(100 - layout.biasLeft[i]).toFixed(2)}%`,
        bt: `${layout.biasTop[i].toFixed(2)}%`,
        bb: `${(100 - layout.biasTop[i]).toFixed(2)}%`,
      },
      classes: c.repeat ? 'compound repeat' : 'compound',
    };
  };
  const item = (j: number): ElementDefinition => {
    const it = view.items[j];
    const i = order.itemIndex.get(it.id)!;
    const label =
      it.kind === 'group'
        ? `${it.label}\n${it.repeat ? `⟳ ${it.repeat.index}/${it.repeat.count} · ` : ''}${it.detail ?? ''}`
        : it.detail
          ? `${it.label}\n${it.detail}`
          : it.label;
    return {
      group: 'nodes',
      // Colours as data, not per-category selectors: matching fewer selectors per element is most of
      // cytoscape's cost at 10k+ nodes (re-applied by recolor() when the theme changes).
      data: {
        id: it.id,
        parent: it.parent,
        label,
        kind: it.kind,
        ref: it.ref,
        cat: it.category,
        fill: palette.fill[it.category],
        stroke: it.kind === 'group' ? palette.groupBorder : palette.stroke[it.category],
        w: layout.width[i],
        h: layout.height[i],
        bx: box(layout.x[i], layout.y[i], layout.width[i], layout.height[i], 8),
      },
      position: { x: layout.x[i], y: layout.y[i] },
      classes: it.repeat ? `${it.kind} repeat` : it.kind,
    };
  };
  const edge = (ei: number): ElementDefinition => {
    const e = view.edges[ei];
    const si = order.itemIndex.get(e.source)!;
    const ti = order.itemIndex.get(e.target)!;
    const data: Record<string, unknown> = { id: e.id, source: e.source, target: e.target, value: e.value };
    const text = labelText(e);
    if (text && labelAt && labelAt[ei] >= 0) {
      data.label = text;
      data.lo = labelAt[ei];
    }
    const b0 = layout.bendStart[ei];
    const b1 = layout.bendStart[ei + 1];
    // The edge's box for viewport culling (culling.ts): its ends, its bends, room for arrow and label.
    let x1 = Math.min(layout.x[si], layout.x[ti]);
    let x2 = Math.max(layout.x[si], layout.x[ti]);
    let y1 = Math.min(layout.y[si], layout.y[ti]);
    let y2 = Math.max(layout.y[si], layout.y[ti]);
    for (let k = b0; k < b1; k++) {
      x1 = Math.min(x1, layout.bends[2 * k]);
      x2 = Math.max(x2, layout.bends[2 * k]);
      y1 = Math.min(y1, layout.bends[2 * k + 1]);
      y2 = Math.max(y2, layout.bends[2 * k + 1]);
    }
    const pad = data.label ? 60 : 16;
    data.bx = [x1 - pad, y1 - pad, x2 + pad, y2 + pad];
    let classes = '';
    if (opts.bends && b1 > b0) {
      const sx = layout.x[si];
      const sy = layout.y[si];
      const dx = layout.x[ti] - sx;
      const dy = layout.y[ti] - sy;
      const l2 = dx * dx + dy * dy;
      if (l2 > 1) {
        const l = Math.sqrt(l2);
        const sw: number[] = [];
        const sd: number[] = [];
        for (let k = b0; k < b1; k++) {
          const px = layout.bends[2 * k] - sx;
          const py = layout.bends[2 * k + 1] - sy;
          // cytoscape: point = s + w·(t − s) + d·n, n = (−dy, dx)/l
          sw.push((px * dx + py * dy) / l2);
          sd.push((-px * dy + py * dx) / l);
        }
        data.sw = sw;
        data.sd = sd;
        classes = 'bent';
      }
    }
    return { group: 'edges', data, classes };
  };
  return { compound, item, edge };
}

/** New theme colours for the drawn nodes (the stylesheet reads them from data). */
export function recolor(cy: Core, p: Palette): void {
  cy.batch(() => {
    cy.nodes(':childless').forEach((n) => {
      const cat = n.data('cat') as keyof Palette['fill'] | undefined;
      if (!cat) return;
      n.data({ fill: p.fill[cat], stroke: n.data('kind') === 'group' ? p.groupBorder : p.stroke[cat] });
    });
  });
}

/**
 * The graph's stylesheet. With `overlay` (analysis results shown), operators drop their category colours
 * for a neutral look, so the results' colours are the only colours on the graph.
 */
export function stylesheet(p: Palette, big: boolean, overlay = false): StylesheetJson {
  const font = p.fontFamily;
  const hc = p.kind.startsWith('high-contrast');
  // Only while results are shown: every selector costs a match per element when styles are applied.
  const overlayNodes: StylesheetJson = overlay
    ? [
        { selector: 'node.op', style: { 'background-color': p.fill.other, 'border-color': p.stroke.shape } },
        // Results overlay (overlayView.ts): a coloured node keeps its label readable (the fill is a tint chosen
        // for contrast) and carries the ramp colour as a thick border; undefined values are dotted, marks outlined.
        {
          selector: 'node.ov',
          style: { 'background-color': 'data(ovFill)', 'border-color': 'data(ovStroke)', 'border-width': hc ? 5 : 4, 'border-style': 'solid' },
        },
        {
          selector: 'node.ov-null',
          style: { 'border-style': 'dotted', 'border-width': 2, 'border-color': p.muted },
        },
        {
          selector: 'node.ov-mark',
          style: { 'outline-width': 2, 'outline-color': p.foreground, 'outline-style': 'dashed', 'outline-offset': 3 } as cytoscape.Css.Node,
        },
      ]
    : [];
  const overlayExtras: StylesheetJson = overlay
    ? [
        {
          // Count of coloured elements a collapsed block hides.
          selector: 'node.ov-badge',
          style: {
            shape: 'ellipse',
            width: 18,
            height: 18,
            'background-color': p.foreground,
            'border-width': 0,
            color: p.background,
            'font-size': 10,
            'font-weight': 'bold',
            label: 'data(label)',
            events: 'no',
            'z-index': 30,
            'z-compound-depth': 'top',
            'min-zoomed-font-size': 0,
          },
        },
        {
          // The circuit over the graph: dashed, arcing beside the data-flow edges, width ∝ |score|.
          selector: 'edge.ov-edge',
          style: {
            'curve-style': 'unbundled-bezier',
            'control-point-distances': 44,
            'control-point-weights': 0.5,
            'line-style': 'dashed',
            'line-dash-pattern': [8, 4],
            width: 'data(ovW)',
            'line-color': 'data(ovColor)',
            'target-arrow-color': 'data(ovColor)',
            'target-arrow-shape': 'triangle',
            'arrow-scale': 0.9,
            opacity: 0.9,
            'z-index': 20,
            'z-compound-depth': 'top',
            label: '',
          },
        },
        {
          selector: 'edge.ov-edge.ov-hover',
          style: { label: 'data(label)', 'font-size': 11, color: p.foreground, 'text-background-opacity': 0.95, opacity: 1 },
        },
      ]
    : [];
  return [
    {
      selector: 'node',
      style: {
        shape: 'round-rectangle',
        'corner-radius': 4,
        width: 'data(w)',
        height: 'data(h)',
        label: 'data(label)',
        'font-family': font,
        'font-size': 12,
        color: p.foreground,
        'text-valign': 'center',
        'text-halign': 'center',
        'text-wrap': 'wrap',
        'line-height': 1.25,
        'border-width': hc ? 2 : 1,
        'border-color': 'data(stroke)',
        'background-color': 'data(fill)',
        'min-zoomed-font-size': big ? 7 : 4,
      },
    },
    {
      selector: 'node.group',
      style: { 'border-width': 2, 'font-weight': 'bold', 'font-size': 12, 'border-style': 'double' },
    },
    {
      selector: 'node.input, node.output',
      style: { shape: 'round-rectangle', 'corner-radius': 10, 'font-size': 11, 'border-style': 'solid' },
    },
    {
      selector: 'node.repeat',
      style: { 'border-color': p.repeat, 'border-style': 'dashed', 'border-width': 2 },
    },
    {
      selector: ':parent',
      style: {
        shape: 'round-rectangle',
        'corner-radius': 6,
        'background-color': p.compoundFill,
        'background-opacity': 1,
        'border-color': p.compoundBorder,
        'border-width': hc ? 2 : 1,
        padding: '12px',
        'min-width': 'data(w)',
        'min-height': 'data(h)',
        'min-width-bias-left': 'data(bl)',
        'min-width-bias-right': 'data(br)',
        'min-height-bias-top': 'data(bt)',
        'min-height-bias-bottom': 'data(bb)',
        'compound-sizing-wrt-labels': 'exclude',
        'text-valign': 'top',
        'text-halign': 'center',
        'text-margin-y': 17,
        'text-margin-x': 'data(lmx)',
        'font-size': 11,
        'font-weight': 'bold',
        color: p.muted,
      },
    },
    {
      selector: ':parent.repeat',
      style: { 'border-color': p.repeat, 'border-style': 'dashed', 'border-width': 2 },
    },
    {
      selector: 'edge',
      style: {
        width: hc ? 1.5 : 1.2,
        'line-color': p.edge,
        'target-arrow-color': p.edge,
        'target-arrow-shape': 'triangle',
        'arrow-scale': 0.8,
        'curve-style': 'straight',
        'font-family': font,
        'font-size': 9,
        color: p.muted,
        'min-zoomed-font-size': 8,
        'text-background-color': p.background,
        'text-background-opacity': 0.85,
        'text-background-padding': '1px',
      },
    },
    {
      // Placed along the edge from its source (edgeLabels.ts), straight or bent alike.
      selector: 'edge[lo]',
      style: { 'source-label': 'data(label)', 'source-text-offset': 'data(lo)' } as unknown as cytoscape.Css.Edge,
    },
    {
      selector: 'edge.bent',
      style: {
        'curve-style': 'round-segments',
        'segment-radii': 5,
        'edge-distances': 'node-position',
        'segment-weights': (ele: cytoscape.EdgeSingular) => ele.data('sw') as number[],
        'segment-distances': (ele: cytoscape.EdgeSingular) => ele.data('sd') as number[],
      } as unknown as cytoscape.Css.Edge,
    },
    ...overlayNodes,
    {
      selector: 'node:selected',
      style: { 'border-color': p.focus, 'border-width': 3, 'border-style': 'solid' },
    },
    {
      selector: 'edge.adjacent',
      style: { 'line-color': p.selectionEdge, 'target-arrow-color': p.selectionEdge, width: 2.2 },
    },
    {
      selector: 'node.match',
      style: { 'underlay-color': p.match, 'underlay-opacity': 0.55, 'underlay-padding': 5, 'underlay-shape': 'round-rectangle' },
    },
    ...overlayExtras,
    {
      selector: 'node.flash',
      style: { 'underlay-color': p.focus, 'underlay-opacity': 0.7, 'underlay-padding': 10, 'underlay-shape': 'round-rectangle' },
    },
  ] as StylesheetJson;
}

export interface CreateOptions {
  container: HTMLElement;
  palette: Palette;
  elements: ElementDefinition[];
  webgl: boolean;
  nodeCount: number;
  edgeCount: number;
  /** Analysis results are shown (see {@link stylesheet}). */
  overlay?: boolean;
}

/**
 * cytoscape injects a `<style>` element (`.__________cytoscape_container { position: relative }`) unless one
 * with its id exists; the webview's CSP (no 'unsafe-inline' styles) blocks it and logs a violation. A
 * placeholder with that id stops the injection; the rule itself lives in media/webview.css.
 */
export function preventStyleInjection(): void {
  const id = '__________cytoscape_stylesheet';
  if (document.getElementById(id)) return;
  const marker = document.createElement('meta');
  marker.id = id;
  document.head.append(marker);
}

/**
 * cytoscape's canvas renderer draws through a "layered texture cache" that, every frame, takes the bounding
 * box of every element to decide whether one texture can hold the whole graph; for big graphs it never can,
 * so each frame pays O(n) bounding boxes (measured: ~70% of a 10k-node pan frame) for nothing. Without it
 * the renderer falls back to its per-element caches with viewport culling. Internal API: guarded.
 */
function skipLayeredTextureCache(cy: Core): void {
  const r = (cy as unknown as { renderer(): { data?: { lyrTxrCache?: { getLayers?: unknown } } } }).renderer();
  const cache = r?.data?.lyrTxrCache;
  if (cache && typeof cache.getLayers === 'function') cache.getLayers = () => null;
}

export function createCy(o: CreateOptions): Core {
  preventStyleInjection();
  const big = o.nodeCount > BIG_GRAPH_NODES;
  const bg = o.palette.backgroundRgb.map((v) => Math.round(v));
  const cy = cytoscape({
    container: o.container,
    elements: o.elements,
    style: stylesheet(o.palette, big, o.overlay),
    layout: { name: 'preset', fit: false },
    minZoom: ZOOM_FLOOR,
    maxZoom: 4,
    boxSelectionEnabled: false,
    autoungrabify: true,
    selectionType: 'single',
    textureOnViewport: big && !o.webgl,
    hideEdgesOnViewport: o.edgeCount > 8000 && !o.webgl,
    pixelRatio: big ? 1 : 'auto',
    webgl: o.webgl,
    webglBgColor: bg,
    webglTexSize: 4096,
    webglBatchSize: 4096,
  } as cytoscape.CytoscapeOptions);
  if (big && !o.webgl) {
    skipLayeredTextureCache(cy);
    installCulling(cy);
  }
  return cy;
}
