/**
 * Rendering: the visible graph (viewModel.ts) → a layout request measured with the theme's font → the
 * layout (layoutClient.ts, a Web Worker) → cytoscape elements, mounted at once or progressively for big
 * graphs, with the viewport restored, kept around an anchor, or fitted.
 */
import type { Core, ElementDefinition } from 'cytoscape';
import { BEND_LIMIT, BIG_GRAPH_NODES, EDGE_LABEL_LIMIT, createCy, detectWebgl, elementBuilder, listElements, stylesheet } from '../graphView';
import { DeferredWindow, ViewDefinitions, firstWindow } from '../firstWindow';
import { LayoutClient } from '../layoutClient';
import { buildLayoutRequest } from '../layoutRequest';
import { Minimap } from '../minimap';
import { ProgressiveMount, regionOf, splitByRegion, type Box, type Split, type Viewport } from '../progressive';
import { visibleGraph, type OpCategory } from '../viewModel';
import { fitViewport, zoomFloor } from '../viewportFit';
import { WINDOW_MIN, WindowedMount, type WindowIndex } from '../windowed';
import { FarLayer } from '../farLayer';
import { setStatus, type GraphContext } from './context';
import { drawOverlayExtras, paintOverlay } from './overlayLayer';
import { setDrawn, type ViewState } from './state';
import { elementIdOf, saveState, topCenter } from './viewport';

/** Above this many elements the view mounts progressively (see progressive.ts). */
const PROGRESSIVE_MIN = 1500;

/** An element whose top centre should stay at `rendered` (screen px) across a re-layout. */
export interface Anchor {
  after: string;
  rendered: { x: number; y: number };
}

let measureCtx: CanvasRenderingContext2D | null = null;
/** Widths by font, then text: no key string built per call (100k labels measured for one layout request). */
const widthCache = new Map<string, Map<string, number>>();

function textWidth(text: string, font: string): number {
  let byText = widthCache.get(font);
  if (!byText) widthCache.set(font, (byText = new Map()));
  let w = byText.get(text);
  if (w === undefined) {
    measureCtx ??= document.createElement('canvas').getContext('2d');
    if (measureCtx) {
      measureCtx.font = font;
      w = measureCtx.measureText(text).width;
    } else w = text.length * 7;
    byText.set(text, w);
  }
  return w;
}

/** Creates the cytoscape instance (renderer chosen by size and WebGL2) with its minimap and events. */
function createView(ctx: GraphContext, elements: Parameters<typeof createCy>[0]['elements'], nodeCount: number, edgeCount: number): Core {
  const s = ctx.state;
  const { metrics, params, dom } = ctx;
  // WebGL pays off for big graphs only; `?renderer=` forces one (benchmarks, tests).
  const forced = params.get('renderer');
  const gl = detectWebgl();
  metrics.glRenderer = gl.renderer;
  s.renderer = forced === 'canvas' || forced === 'webgl' ? forced : nodeCount > 300 && gl.ok ? 'webgl' : 'canvas';
  metrics.renderer = s.renderer;
  const cy = createCy({ container: dom.cyBox, palette: s.palette, elements, webgl: s.renderer === 'webgl', nodeCount, edgeCount, overlay: !!ctx.overlayView.active });
  s.cy = cy;
  metrics.cyCreated = performance.now();
  ctx.wireCy(cy);
  ctx.overlayView.wire(cy, dom.cyBox);
  s.minimap = new Minimap(dom.minimapCanvas, cy, s.palette);
  s.minimap.attach(cy);
  return cy;
}

/**
 * The layout client, its worker started now if it was not: called as soon as a graph starts arriving, so that
 * the worker's start-up (a thread, its script compiled) overlaps the graph's decoding instead of following it.
 */
export function startLayoutWorker(ctx: GraphContext): LayoutClient {
  return (ctx.state.layoutClient ??= new LayoutClient(ctx.params.get('layout') === 'main'));
}

/**
 * Recomputes the visible graph and its layout, then redraws. The viewport is restored (`restore`), kept
 * with an element pinned on screen (`anchor`), fitted (`fit`, and the first render), or else left alone.
 */
export async function render(ctx: GraphContext, anchor?: Anchor, restore?: ViewState, fitAfter = false): Promise<void> {
  const s = ctx.state;
  const { metrics, params, dom } = ctx;
  const { cyBox, statusText } = dom;
  if (!s.index) return;
  const seq = ++s.renderSeq;
  setStatus(ctx, 'rendering');
  const v = visibleGraph(s.index, s.expanded);
  const { req, itemIndex: order } = buildLayoutRequest(v, s.palette.fontFamily, textWidth);
  const layoutClient = startLayoutWorker(ctx);
  const t0 = performance.now();
  metrics.layoutPosted ??= t0;
  const result = await layoutClient.layout(req);
  if (!result || seq !== s.renderSeq) return;
  metrics.layoutMs = performance.now() - t0;
  metrics.layoutMode = layoutClient.mode;
  metrics.layoutDone ??= performance.now();
  const nodeCount = v.items.length;
  const edgeLabels = v.edges.length <= EDGE_LABEL_LIMIT;
  const builder = elementBuilder(v, result, { itemIndex: order }, s.palette, { edgeLabels, bends: v.edges.length <= BEND_LIMIT, measure: (t) => textWidth(t, `9px ${s.palette.fontFamily}`), titleWidth: (t) => textWidth(t, `bold 11px ${s.palette.fontFamily}`) });
  const selectedBefore = s.inspector?.current;
  s.mount?.cancel();
  s.mount = undefined;
  // Big graphs mount progressively: what the viewport shows first, the rest in time slices.
  const W = cyBox.clientWidth || 800;
  const H = cyBox.clientHeight || 600;
  const bounds = { x1: 0, y1: 0, x2: result.totalWidth, y2: result.totalHeight };
  const first = (): Viewport => fitViewport({ ...result, firstItem: v.compounds.length }, bounds, W, H);
  const target: Viewport | undefined =
    restore?.zoom !== undefined && restore.pan
      ? { zoom: restore.zoom, pan: restore.pan }
      : !anchor && (fitAfter || metrics.renders === 0)
        ? first()
        : undefined;
  const progressive = v.compounds.length + nodeCount + v.edges.length > PROGRESSIVE_MIN && params.get('progressive') !== '0';
  const region = (): Box => regionOf(target ?? (s.cy ? { zoom: s.cy.zoom(), pan: s.cy.pan() } : first()), W, H, 1);
  // A windowed graph (no edge labels: their offsets are read from every definition, export.ts) builds only
  // the first window's definitions before the first frame (firstWindow.ts); the rest after it. `?firstWindow=0`
  // builds them all first (tests compare the two).
  const defer = progressive && nodeCount > WINDOW_MIN && !edgeLabels && !ctx.overlayView.active && params.get('firstWindow') !== '0' ? new ViewDefinitions(builder, v, firstWindow(v, result, order, region())) : undefined;
  let split: Split;
  if (defer && !defer.complete) {
    split = { first: defer.first, restNodes: [], restEdges: [] };
    metrics.firstWindow = defer.first.length;
    setDrawn(s, v, result, order, defer.first);
    paintOverlay(ctx, false);
  } else {
    const elements = defer ? defer.first : listElements(v, builder);
    setDrawn(s, v, result, order, elements);
    // The overlay's colours go on the definitions before anything is mounted.
    paintOverlay(ctx, false);
    split = progressive ? splitByRegion(elements, region(), nodeCount <= WINDOW_MIN) : { first: elements, restNodes: [], restEdges: [] };
  }
  let c: Core;
  if (!s.cy) c = createView(ctx, split.first, nodeCount, v.edges.length);
  else {
    c = s.cy;
    c.batch(() => {
      c.elements().remove();
      c.add(split.first);
    });
    c.style(stylesheet(s.palette, nodeCount > BIG_GRAPH_NODES, !!ctx.overlayView.active));
  }
  // Zooming out reaches the whole drawing, however big (viewportFit.ts).
  c.minZoom(zoomFloor(bounds, W, H));
  if (target) {
    c.viewport(target);
  } else if (anchor) {
    const after = c.getElementById(anchor.after);
    if (after.nonempty()) {
      const tc = topCenter(ctx, anchor.after)!;
      c.panBy({ x: anchor.rendered.x - tc.x, y: anchor.rendered.y - tc.y });
    }
  }
  const baseStatus = `${nodeCount.toLocaleString('en-US')} nodes · ${v.edges.length.toLocaleString('en-US')} edges · ${s.renderer}${layoutClient.mode === 'main' ? ' · layout on main thread' : ''}`;
  s.far?.dispose();
  s.far = undefined;
  const deferred = !!defer && !defer.complete;
  const windowed = deferred || (nodeCount > WINDOW_MIN && (split.restNodes.length > 0 || split.restEdges.length > 0));
  cyBox.dataset.complete = split.restNodes.length || split.restEdges.length || deferred ? 'false' : 'true';
  cyBox.dataset.windowed = String(windowed);
  if (deferred) {
    const m = new DeferredWindow(defer, (elements) => {
      setDrawn(s, v, result, order, elements);
      paintOverlay(ctx, false);
      const w = mountWindow(ctx, c, elements, baseStatus, defer.index);
      w.start();
      return w;
    }, () => performance.now() - s.lastViewportChange < 250);
    s.mount = m;
    requestAnimationFrame(() => requestAnimationFrame(() => m.start()));
  } else if (windowed) {
    const m = mountWindow(ctx, c, s.elementDefs, baseStatus);
    requestAnimationFrame(() => requestAnimationFrame(() => m.start()));
  } else if (split.restNodes.length || split.restEdges.length) {
    const m = new ProgressiveMount(
      c,
      split,
      (done, total) => {
        statusText.textContent = `${baseStatus} · drawing ${Math.round((100 * done) / total)}%`;
      },
      () => {
        metrics.complete = performance.now();
        cyBox.dataset.complete = 'true';
        statusText.textContent = baseStatus;
        if (s.mount === m) s.mount = undefined;
      },
      () => performance.now() - s.lastViewportChange < 250,
    );
    s.mount = m;
    // Start after the first frame is drawn, so the first view appears before any slice runs.
    requestAnimationFrame(() => requestAnimationFrame(() => m.start()));
  }
  drawOverlayExtras(ctx);
  const mounting = !!s.mount;
  metrics.viewportSet = performance.now();
  // Selection: keep what was selected if it is still drawn.
  const selId = restore?.selected ?? (selectedBefore ? elementIdOf(ctx, selectedBefore) : undefined);
  if (selId) {
    const el = c.getElementById(selId);
    if (el.nonempty()) el.select();
  }
  metrics.nodes = nodeCount;
  metrics.edges = v.edges.length;
  metrics.renders++;
  statusText.textContent = baseStatus;
  whenDrawn(ctx, c, seq, () => {
    if (!mounting) metrics.complete = metrics.interactive;
    if (s.layout) {
      const cats = new Array<OpCategory | undefined>(req.n);
      v.items.forEach((it, j) => (cats[v.compounds.length + j] = it.category));
      s.minimap?.setItems({ layout: s.layout, isCompound: req.isCompound, category: cats });
    }
    cyBox.dataset.nodes = String(nodeCount);
    cyBox.dataset.edges = String(v.edges.length);
    cyBox.dataset.renderer = s.renderer;
    cyBox.dataset.expanded = [...s.expanded].join('|');
    setStatus(ctx, 'ready');
    if (metrics.renders === 1 && metrics.graphReceived !== undefined) {
      ctx.bridge.post({
        type: 'rendered',
        nodes: nodeCount,
        edges: v.edges.length,
        renderer: s.renderer,
        layoutMs: Math.round(metrics.layoutMs ?? 0),
        totalMs: Math.round(performance.now() - metrics.graphReceived),
      });
    }
  });
  c.resize();
  saveState(ctx);
}

/**
 * Very big graphs: cytoscape holds only the elements around the viewport (windowed.ts), the far layer draws
 * the rest (farLayer.ts). Complete once the first viewport's window is mounted: everything is drawn from then on.
 */
function mountWindow(ctx: GraphContext, c: Core, elements: ElementDefinition[], baseStatus: string, index?: WindowIndex): WindowedMount {
  const s = ctx.state;
  const { metrics, dom } = ctx;
  const { cyBox, statusText } = dom;
  const m = new WindowedMount(
    c,
    elements,
    () => ({ width: cyBox.clientWidth || 800, height: cyBox.clientHeight || 600 }),
    () => {},
    () => {
      metrics.complete = performance.now();
      cyBox.dataset.complete = 'true';
      statusText.textContent = `${baseStatus} · windowed`;
    },
    () => s.far?.invalidate(),
    () => performance.now() - s.lastViewportChange < 250,
    (added) => {
      if (s.matches.size) added.nodes().filter((n) => s.matches.has(n.id())).addClass('match');
    },
    30,
    index,
  );
  s.far = new FarLayer(cyBox, c, m, () => s.palette, () => !!ctx.overlayView.active);
  s.mount = m;
  return m;
}

/**
 * Runs `then` once, on the first frame drawn after this update (unless a newer render started): cytoscape's
 * canvas renderer emits `render`, its WebGL renderer does not, so whichever comes first of `render` and
 * three animation frames marks the view interactive.
 */
function whenDrawn(ctx: GraphContext, c: Core, seq: number, then: () => void): void {
  const { metrics } = ctx;
  let done = false;
  const onDrawn = (): void => {
    if (done || seq !== ctx.state.renderSeq) return;
    done = true;
    metrics.firstRender ??= performance.now();
    metrics.interactive = performance.now();
    then();
  };
  c.one('render', () => requestAnimationFrame(onDrawn));
  requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(onDrawn)));
}
