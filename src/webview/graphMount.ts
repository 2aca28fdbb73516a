/**
 * The operator-graph view, mounted into any element through a {@link Bridge}: the model editor's webview
 * (main.ts, over `acquireVsCodeApi`) and the standalone HTML report (report/main.ts, over a page-local
 * bridge) run the same code. It says `ready`, then shows what the host posts — the operator graph, a
 * confirmation prompt for large files, the loader's typed error, analysis results coloured on the graph
 * (`overlay`, drawn by overlay.ts / overlayView.ts) and requests to reveal an element (`reveal`).
 *
 * Layout runs in a Web Worker (layoutClient.ts); drawing uses cytoscape's WebGL renderer where WebGL2
 * exists, else its canvas renderer. View state (expanded groups, selection, zoom, pan, the overlay chosen)
 * survives reloads through the bridge's getState/setState.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-split-layout/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { Core, ElementDefinition, EventObject, NodeCollection, NodeSingular } from 'cytoscape';
import type { TensorPreview } from '../shared/engineProtocol';
import type { ModelGraph } from '../shared/ir';
import { assertNever, type HostToWebview, type WebviewError, type WebviewToHost } from '../shared/protocol';
import type { RevealTarget, RunRecord } from '../shared/results';
import type { Bridge } from './bridge';
import { BEND_LIMIT, BIG_GRAPH_NODES, EDGE_LABEL_LIMIT, buildElements, createCy, detectWebgl, recolor, stylesheet, type RendererKind } from './graphView';
import { formatBytes, h, Inspector, type Selection } from './inspector';
import type { LayoutRequest, LayoutResult } from './layout';
import { joinUtf8 } from './chunks';
import { LayoutClient } from './layoutClient';
import { Minimap } from './minimap';
import { nextInDirection, type NavDirection, type NavPoint } from './nav';
import { computeOverlay, NameResolver, optionId, overlayOptions, visibleOverlay } from './overlay';
import { NONE, OverlayView, type OverlayStats } from './overlayView';
import { initialViewportFor, ProgressiveMount, regionOf, splitByRegion, type Split, type Viewport } from './progressive';
import { readPalette, type Palette } from './theme';
import {
  buildIndex,
  collapseGroup,
  groupElementId,
  groupsToReveal,
  initialExpanded,
  isCollapsible,
  nodeElementId,
  representativeOf,
  search,
  visibleGraph,
  type GraphIndex,
  type OpCategory,
  type SearchHit,
  type VisibleGraph,
} from './viewModel';

/** The overlay the user chose: a run and metric, or none (null). */
type OverlayChoice = { runId: string; metric?: string } | null;

interface ViewState {
  file: string;
  expanded: string[];
  selected?: string;
  zoom?: number;
  pan?: { x: number; y: number };
  /** Absent: never chosen (an `overlay` message without `active` then shows nothing). */
  overlay?: OverlayChoice;
}

interface Metrics {
  graphReceived?: number;
  indexed?: number;
  layoutDone?: number;
  cyCreated?: number;
  viewportSet?: number;
  firstRender?: number;
  interactive?: number;
  complete?: number;
  layoutMs?: number;
  layoutMode?: string;
  renderer?: RendererKind;
  glRenderer?: string;
  nodes?: number;
  edges?: number;
  renders: number;
}

/** Above this many elements the view mounts progressively (see progressive.ts). */
const PROGRESSIVE_MIN = 1500;

/**
 * Mounts the graph view into `root` (replacing its content) and starts it: posts `ready` on the bridge and
 * renders what arrives. One view per page (it owns `window.__circuitscope` and the page's keyboard shortcuts
 * while the view is shown).
 */
export function mountGraph(root: HTMLElement, bridge: Bridge<WebviewToHost, HostToWebview>): void {
  const metrics: Metrics = { renders: 0 };
  const params = new URLSearchParams(location.search);
  root.classList.add('cs-graph');

  let palette: Palette = readPalette();
  let index: GraphIndex | undefined;
  /** Resolves the envelopes' names in this graph (built on first use: runs or a reveal). */
  let names: NameResolver | undefined;
  const resolver = (): NameResolver | undefined => (index ? (names ??= new NameResolver(index.graph)) : undefined);
  let expanded = new Set<string>();
  let view: VisibleGraph | undefined;
  let layout: LayoutResult | undefined;
  let itemIndex = new Map<string, number>();
  /** The element definitions of the last render (progressive mounting adds some later), by id on demand. */
  let elementDefs: ElementDefinition[] = [];
  let definitions: Map<string, ElementDefinition> | undefined;
  const definitionsById = (): Map<string, ElementDefinition> => (definitions ??= new Map(elementDefs.map((e) => [String(e.data.id), e])));
  let cy: Core | undefined;
  let renderer: RendererKind = 'canvas';
  let minimap: Minimap | undefined;
  let inspector: Inspector | undefined;
  let layoutClient: LayoutClient | undefined;
  let renderSeq = 0;
  let mount: ProgressiveMount | undefined;
  /** When the user last panned or zoomed (progressive mounting yields to interaction). */
  let lastViewportChange = -Infinity;
  let tensorSeq = 0;
  const tensorWaiters = new Map<number, { resolve: (t: TensorPreview) => void; reject: (e: Error) => void }>();
  const saved = bridge.getState<ViewState>();
  /** Whether the current graph's first render is done; a `reveal` arriving earlier waits here. */
  let firstRenderDone = false;
  let pendingReveal: RevealTarget | undefined;

  // The overlay: runs from the host, the user's choice, what is drawn.
  let runs: RunRecord[] = [];
  /** Whether the host has sent its runs yet (until then a remembered choice waits for them). */
  let runsReceived = false;
  let choice: OverlayChoice | undefined;
  const overlayView = new OverlayView({
    graph: () => index?.graph,
    palette: () => palette,
    choose: (id) => {
      if (id === NONE) choice = null;
      else {
        const [runId, metric] = id.split('::');
        choice = { runId, metric };
      }
      updateOverlay();
    },
  });

  // Exposed for the e2e test and the benchmark (they read timings and find nodes' screen positions).
  (window as unknown as { __circuitscope: unknown }).__circuitscope = {
    metrics,
    get cy() {
      return cy;
    },
    get expanded() {
      return [...expanded];
    },
    get layoutMode() {
      return layoutClient?.mode;
    },
    get layoutStats() {
      return layout?.stats;
    },
    get overlay(): OverlayStats {
      return overlayView.current;
    },
  };

  function setStatus(state: 'loading' | 'confirm' | 'error' | 'rendering' | 'ready'): void {
    document.body.dataset.state = state;
    root.dataset.state = state;
  }

  // -------------------------------------------------------------------------------------------- shell

  const searchField = h('vscode-textfield' as 'input', { id: 'search', placeholder: 'Search operators by name or type  ( / )', 'aria-label': 'Search operators' });
  const searchCount = h('span', { id: 'search-count', className: 'muted' });
  const searchResults = h('div', { id: 'search-results', role: 'listbox', hidden: true });
  const statusText = h('span', { id: 'graph-status-text' });
  const fromText = h('span', { id: 'graph-from' });
  const status = h('span', { id: 'graph-status', className: 'muted' }, statusText, fromText);
  const cyBox = h('div', { id: 'cy', tabindex: '0', role: 'application', 'aria-label': 'Operator graph. Arrow keys move between operators, Enter expands or collapses a block.' });
  const minimapCanvas = h('canvas', { id: 'minimap', 'aria-label': 'Overview: click to move the view' });
  const revealNote = h('div', { id: 'reveal-note', role: 'status', 'aria-live': 'polite' });
  revealNote.hidden = true;
  const cover = h('div', { id: 'overlay' });
  const inspectorBox = h('aside', { id: 'inspector', 'aria-label': 'Inspector' });
  let revealNoteTimer: ReturnType<typeof setTimeout> | undefined;

  function button(label: string, title: string, onClick: () => void, id?: string): HTMLElement {
    const b = h('vscode-button' as 'button', { secondary: true, title, 'aria-label': title, id });
    b.textContent = label;
    b.addEventListener('click', onClick);
    return b;
  }

  function buildShell(): void {
    const toolbar = h(
      'header',
      { id: 'toolbar' },
      searchField,
      searchCount,
      overlayView.select,
      h('span', { className: 'spacer' }),
      button('Fit', 'Fit the graph to the view (F)', () => fit(), 'btn-fit'),
      button('−', 'Zoom out (−)', () => zoomBy(1 / 1.3), 'btn-zoom-out'),
      button('+', 'Zoom in (+)', () => zoomBy(1.3), 'btn-zoom-in'),
      button('Expand all', 'Expand every block', () => void setAllExpanded(true), 'btn-expand-all'),
      button('Collapse all', 'Collapse every block', () => void setAllExpanded(false), 'btn-collapse-all'),
      status,
    );
    const graphPane = h('div', { id: 'graph-pane', slot: 'start' }, cyBox, minimapCanvas, overlayView.legend, overlayView.tip, revealNote, searchResults);
    inspectorBox.setAttribute('slot', 'end');
    const split = document.createElement('vscode-split-layout');
    split.id = 'split';
    split.setAttribute('split', 'vertical');
    split.setAttribute('initial-handle-position', '70%');
    split.setAttribute('min-start', '200px');
    split.setAttribute('min-end', '220px');
    split.append(graphPane, inspectorBox);
    root.replaceChildren(toolbar, split, cover);
    wireSearch();
  }

  function showCover(...content: (Node | string)[]): void {
    cover.replaceChildren(...content);
    cover.hidden = false;
  }

  function hideCover(): void {
    cover.hidden = true;
    cover.replaceChildren();
  }

  function showError(e: WebviewError): void {
    setStatus('error');
    const box = h('div', { className: 'error', id: 'load-error', role: 'alert' }, h('h1', {}, 'This model could not be loaded'));
    if ('code' in e) {
      box.append(h('p', { id: 'load-error-detail' }, h('strong', {}, `[${e.code}] `), e.detail), h('p', { className: 'path' }, e.file));
    } else {
      box.append(h('p', { id: 'load-error-detail' }, e.message));
    }
    // The report has no editor to open the file in.
    if (!bridge.standalone) {
      const reopen = h('vscode-button' as 'button', { secondary: true });
      reopen.textContent = 'Open the file in the default editor';
      reopen.addEventListener('click', () => bridge.post({ type: 'openSource' }));
      box.append(reopen);
    }
    if (!root.querySelector('#toolbar')) buildShell();
    showCover(box);
  }

  /** A non-blocking note over the graph (a reveal target that is not here); it fades after a while. */
  function showNote(text: string): void {
    const close = h('button', { className: 'note-close', title: 'Dismiss', 'aria-label': 'Dismiss' }, '×');
    close.addEventListener('click', () => {
      revealNote.hidden = true;
    });
    revealNote.replaceChildren(h('span', {}, text), close);
    revealNote.hidden = false;
    clearTimeout(revealNoteTimer);
    revealNoteTimer = setTimeout(() => {
      revealNote.hidden = true;
    }, 12_000);
  }

  // ------------------------------------------------------------------------------------------- render

  let measureCtx: CanvasRenderingContext2D | null = null;
  const widthCache = new Map<string, number>();
  function textWidth(text: string, font: string): number {
    const key = `${font}\u0000${text}`;
    let w = widthCache.get(key);
    if (w === undefined) {
      measureCtx ??= document.createElement('canvas').getContext('2d');
      if (measureCtx) {
        measureCtx.font = font;
        w = measureCtx.measureText(text).width;
      } else w = text.length * 7;
      widthCache.set(key, w);
    }
    return w;
  }

  function buildLayoutRequest(v: VisibleGraph): { req: LayoutRequest; itemIndex: Map<string, number> } {
    const n = v.compounds.length + v.items.length;
    const itemIndex = new Map<string, number>();
    v.compounds.forEach((c, i) => itemIndex.set(c.id, i));
    v.items.forEach((it, i) => itemIndex.set(it.id, v.compounds.length + i));
    const parent = new Int32Array(n).fill(-1);
    const isCompound = new Uint8Array(n);
    const width = new Float64Array(n);
    const height = new Float64Array(n);
    const family = palette.fontFamily;
    v.compounds.forEach((c, i) => {
      isCompound[i] = 1;
      parent[i] = c.parent ? itemIndex.get(c.parent)! : -1;
      const label = c.repeat ? `${c.label}   ⟳ ${c.repeat.index}/${c.repeat.count}` : c.label;
      width[i] = textWidth(label, `bold 11px ${family}`) + 24;
    });
    v.items.forEach((it, j) => {
      const i = v.compounds.length + j;
      parent[i] = it.parent ? itemIndex.get(it.parent)! : -1;
      const font = it.kind === 'group' ? `bold 12px ${family}` : `12px ${family}`;
      const lines = [it.label];
      if (it.kind === 'group') lines.push(`${it.repeat ? `⟳ ${it.repeat.index}/${it.repeat.count} · ` : ''}${it.detail ?? ''}`);
      else if (it.detail) lines.push(it.detail);
      let w = 0;
      for (const l of lines) w = Math.max(w, textWidth(l, font));
      width[i] = Math.max(it.kind === 'op' ? 56 : 72, Math.ceil(w) + (it.kind === 'group' ? 28 : 20));
      height[i] = lines.length > 1 ? 42 : 28;
    });
    const m = v.edges.length;
    const edgeSource = new Int32Array(m);
    const edgeTarget = new Int32Array(m);
    v.edges.forEach((e, k) => {
      edgeSource[k] = itemIndex.get(e.source)!;
      edgeTarget[k] = itemIndex.get(e.target)!;
    });
    return { req: { n, parent, isCompound, width, height, edgeSource, edgeTarget }, itemIndex };
  }

  /** An element whose top centre should stay at `rendered` (screen px) across a re-layout. */
  interface Anchor {
    after: string;
    rendered: { x: number; y: number };
  }

  function topCenter(id: string): { x: number; y: number } | undefined {
    const e = cy?.getElementById(id);
    if (!e || e.empty()) return undefined;
    const bb = e.renderedBoundingBox({ includeLabels: false });
    return { x: (bb.x1 + bb.x2) / 2, y: bb.y1 };
  }

  /**
   * Recomputes the visible graph and its layout, then redraws. The viewport is restored (`restore`), kept
   * with an element pinned on screen (`anchor`), fitted (`fit`, and the first render), or else left alone.
   */
  async function render(anchor?: Anchor, restore?: ViewState, fitAfter = false): Promise<void> {
    if (!index) return;
    const seq = ++renderSeq;
    setStatus('rendering');
    const v = visibleGraph(index, expanded);
    const { req, itemIndex: order } = buildLayoutRequest(v);
    layoutClient ??= new LayoutClient(params.get('layout') === 'main');
    const t0 = performance.now();
    const result = await layoutClient.layout(req);
    if (!result || seq !== renderSeq) return;
    metrics.layoutMs = performance.now() - t0;
    metrics.layoutMode = layoutClient.mode;
    metrics.layoutDone ??= performance.now();
    view = v;
    layout = result;
    itemIndex = order;
    const nodeCount = v.items.length;
    const edgeLabels = v.edges.length <= EDGE_LABEL_LIMIT;
    const elements = buildElements(v, result, { itemIndex: order }, palette, { edgeLabels, bends: v.edges.length <= BEND_LIMIT });
    elementDefs = elements;
    definitions = undefined;
    // The overlay's colours go on the definitions before anything is mounted.
    paintOverlay(false);
    const selectedBefore = inspector?.current;
    mount?.cancel();
    mount = undefined;
    // Big graphs mount progressively: what the viewport shows first, the rest in time slices.
    const W = cyBox.clientWidth || 800;
    const H = cyBox.clientHeight || 600;
    const bounds = { x1: 0, y1: 0, x2: result.totalWidth, y2: result.totalHeight };
    const target: Viewport | undefined =
      restore?.zoom !== undefined && restore.pan
        ? { zoom: restore.zoom, pan: restore.pan }
        : !anchor && (fitAfter || metrics.renders === 0)
          ? initialViewportFor(bounds, W, H)
          : undefined;
    const split: Split =
      elements.length > PROGRESSIVE_MIN && params.get('progressive') !== '0'
        ? splitByRegion(elements, regionOf(target ?? (cy ? { zoom: cy.zoom(), pan: cy.pan() } : initialViewportFor(bounds, W, H)), W, H, 1))
        : { first: elements, restNodes: [], restEdges: [] };
    if (!cy) {
      // WebGL pays off for big graphs only; `?renderer=` forces one (benchmarks, tests).
      const forced = params.get('renderer');
      const gl = detectWebgl();
      metrics.glRenderer = gl.renderer;
      renderer = forced === 'canvas' || forced === 'webgl' ? forced : nodeCount > 300 && gl.ok ? 'webgl' : 'canvas';
      metrics.renderer = renderer;
      cy = createCy({ container: cyBox, palette, elements: split.first, webgl: renderer === 'webgl', nodeCount, edgeCount: v.edges.length, overlay: !!overlayView.active });
      metrics.cyCreated = performance.now();
      wireCy(cy);
      overlayView.wire(cy, cyBox);
      minimap = new Minimap(minimapCanvas, cy, palette);
      minimap.attach(cy);
    } else {
      const c = cy;
      c.batch(() => {
        c.elements().remove();
        c.add(split.first);
      });
      c.style(stylesheet(palette, nodeCount > BIG_GRAPH_NODES, !!overlayView.active));
    }
    const c = cy;
    if (target) {
      c.viewport(target);
    } else if (anchor) {
      const after = c.getElementById(anchor.after);
      if (after.nonempty()) {
        const tc = topCenter(anchor.after)!;
        c.panBy({ x: anchor.rendered.x - tc.x, y: anchor.rendered.y - tc.y });
      }
    }
    cyBox.dataset.complete = split.restNodes.length || split.restEdges.length ? 'false' : 'true';
    if (split.restNodes.length || split.restEdges.length) {
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
          if (mount === m) mount = undefined;
        },
        () => performance.now() - lastViewportChange < 250,
      );
      mount = m;
      // Start after the first frame is drawn, so the first view appears before any slice runs.
      requestAnimationFrame(() => requestAnimationFrame(() => m.start()));
    }
    drawOverlayExtras();
    const progressive = !!mount;
    metrics.viewportSet = performance.now();
    const baseStatus: string = `${nodeCount.toLocaleString('en-US')} nodes · ${v.edges.length.toLocaleString('en-US')} edges · ${renderer}${layoutClient.mode === 'main' ? ' · layout on main thread' : ''}`;
    // Selection: keep what was selected if it is still drawn.
    const selId = restore?.selected ?? (selectedBefore ? elementIdOf(selectedBefore) : undefined);
    if (selId) {
      const el = c.getElementById(selId);
      if (el.nonempty()) el.select();
    }
    metrics.nodes = nodeCount;
    metrics.edges = v.edges.length;
    metrics.renders++;
    statusText.textContent = baseStatus;
    // The first frame drawn after this update: cytoscape's canvas renderer emits `render`, its WebGL renderer
    // does not, so whichever comes first of `render` and three animation frames marks the view interactive.
    let done = false;
    const onDrawn = (): void => {
      if (done || seq !== renderSeq) return;
      done = true;
      metrics.firstRender ??= performance.now();
      metrics.interactive = performance.now();
      if (!progressive) metrics.complete = metrics.interactive;
      if (layout) {
        const cats = new Array<OpCategory | undefined>(req.n);
        v.items.forEach((it, j) => (cats[v.compounds.length + j] = it.category));
        minimap?.setItems({ layout, isCompound: req.isCompound, category: cats });
      }
      cyBox.dataset.nodes = String(nodeCount);
      cyBox.dataset.edges = String(v.edges.length);
      cyBox.dataset.renderer = renderer;
      cyBox.dataset.expanded = [...expanded].join('|');
      setStatus('ready');
      if (metrics.renders === 1 && metrics.graphReceived !== undefined) {
        bridge.post({
          type: 'rendered',
          nodes: nodeCount,
          edges: v.edges.length,
          renderer,
          layoutMs: Math.round(metrics.layoutMs ?? 0),
          totalMs: Math.round(performance.now() - metrics.graphReceived),
        });
      }
    };
    c.one('render', () => requestAnimationFrame(onDrawn));
    requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(onDrawn)));
    c.resize();
    saveState();
  }

  /** The drawing's bounds from the layout (cytoscape's own bounding box would measure every element). */
  function layoutBounds(): { x1: number; y1: number; x2: number; y2: number } {
    return { x1: 0, y1: 0, x2: layout?.totalWidth ?? 0, y2: layout?.totalHeight ?? 0 };
  }

  function fitBounds(padding = 24, maxZoom = 1.25): void {
    if (!cy) return;
    const b = layoutBounds();
    const w = Math.max(1, b.x2 - b.x1);
    const hh = Math.max(1, b.y2 - b.y1);
    const zoom = Math.min(maxZoom, (cy.width() - 2 * padding) / w, (cy.height() - 2 * padding) / hh);
    cy.viewport({ zoom, pan: { x: cy.width() / 2 - ((b.x1 + b.x2) / 2) * zoom, y: cy.height() / 2 - ((b.y1 + b.y2) / 2) * zoom } });
  }

  function elementIdOf(sel: Selection): string | undefined {
    if (!sel) return undefined;
    if (sel.kind === 'node') return nodeElementId(sel.id);
    if (sel.kind === 'group') return groupElementId(sel.id);
    return cy?.getElementById(`i:${sel.id}`).nonempty() ? `i:${sel.id}` : `o:${sel.id}`;
  }

  function selectionOf(el: NodeSingular): Selection {
    const kind = el.data('kind') as string;
    const ref = el.data('ref') as string;
    if (kind === 'op') return { kind: 'node', id: ref };
    if (kind === 'group' || kind === 'compound') return { kind: 'group', id: ref };
    return { kind: 'value', id: ref };
  }

  function wireCy(c: Core): void {
    c.on('tap', 'node', (ev: EventObject) => {
      const el = ev.target as NodeSingular;
      const kind = el.data('kind') as string;
      if (!kind) return;
      if (kind === 'group') {
        void expandGroup(el.data('ref') as string);
        return;
      }
      select(el);
    });
    c.on('dbltap', 'node:parent', (ev: EventObject) => {
      void collapse((ev.target as NodeSingular).data('ref') as string);
    });
    c.on('tap', (ev: EventObject) => {
      if (ev.target === c) select(undefined);
    });
    c.on('select', 'node', (ev: EventObject) => {
      (ev.target as NodeSingular).connectedEdges().not('.ov-edge').addClass('adjacent');
    });
    c.on('unselect', 'node', (ev: EventObject) => {
      (ev.target as NodeSingular).connectedEdges().removeClass('adjacent');
    });
    let t: ReturnType<typeof setTimeout> | undefined;
    c.on('viewport', () => {
      lastViewportChange = performance.now();
      clearTimeout(t);
      t = setTimeout(saveState, 300);
    });
  }

  function select(el: NodeSingular | undefined, center: boolean | 'always' = false): void {
    if (!cy) return;
    cy.$(':selected').unselect();
    if (el) {
      el.select();
      if (center) {
        const bb = cy.extent();
        const p = el.position();
        if (center === 'always' || p.x < bb.x1 || p.x > bb.x2 || p.y < bb.y1 || p.y > bb.y2 || cy.zoom() < 0.75) {
          cy.zoom(Math.max(cy.zoom(), 1));
          cy.center(el);
        }
      }
    }
    inspector?.show(el ? selectionOf(el) : undefined);
    saveState();
  }

  async function expandGroup(gid: string): Promise<void> {
    if (!cy || expanded.has(gid)) return;
    const before = groupElementId(gid);
    const rendered = topCenter(before);
    expanded.add(gid);
    inspector?.show({ kind: 'group', id: gid });
    await render(rendered ? { after: before, rendered } : undefined);
    const el = cy.getElementById(before);
    if (el.nonempty()) {
      cy.$(':selected').unselect();
      el.select();
    }
  }

  async function collapse(gid: string): Promise<void> {
    if (!cy || !expanded.has(gid) || !index) return;
    const id = groupElementId(gid);
    const rendered = topCenter(id);
    collapseGroup(index, expanded, gid);
    inspector?.show({ kind: 'group', id: gid });
    await render(rendered ? { after: id, rendered } : undefined);
    cy.getElementById(id).select();
  }

  async function setAllExpanded(open: boolean): Promise<void> {
    if (!index) return;
    if (open) {
      for (const g of index.graph.hierarchy) if (isCollapsible(g)) expanded.add(g.id);
    } else {
      expanded = initialExpanded(index, 0);
    }
    await render(undefined, undefined, true);
  }

  /** Opens the blocks hiding a node, then selects it; returns the element (undefined if not drawn). */
  async function revealNode(nodeId: string, center: boolean | 'always' = true): Promise<NodeSingular | undefined> {
    if (!index || !cy) return undefined;
    let changed = false;
    for (const g of groupsToReveal(index, nodeId)) {
      if (!expanded.has(g)) {
        expanded.add(g);
        changed = true;
      }
    }
    if (changed) await render();
    mount?.ensure([nodeElementId(nodeId)]);
    const el = cy.getElementById(nodeElementId(nodeId));
    if (el.empty()) return undefined;
    select(el as NodeSingular, center);
    return el as NodeSingular;
  }

  async function revealGroup(gid: string): Promise<void> {
    if (!index || !cy) return;
    let changed = false;
    const g = index.groups.get(gid);
    let p = g?.parent;
    while (p) {
      const pg = index.groups.get(p);
      if (pg && isCollapsible(pg) && !expanded.has(p)) {
        expanded.add(p);
        changed = true;
      }
      p = pg?.parent;
    }
    if (changed) await render();
    mount?.ensure([groupElementId(gid)]);
    const el = cy.getElementById(groupElementId(gid));
    if (el.nonempty()) select(el, true);
  }

  /** Reveals an overlay key (`n:<node>` or `i:<value>`). */
  async function revealKey(key: string, center: boolean | 'always' = true): Promise<NodeSingular | undefined> {
    if (!cy) return undefined;
    if (key.startsWith('n:')) return revealNode(key.slice(2), center);
    mount?.ensure([key]);
    const el = cy.getElementById(key);
    if (el.empty()) return undefined;
    select(el as NodeSingular, center);
    return el as NodeSingular;
  }

  function flash(el: NodeSingular): void {
    let n = 0;
    const tick = (): void => {
      if (el.removed()) return;
      el.toggleClass('flash', n % 2 === 0);
      if (++n < 6) setTimeout(tick, 220);
      else el.removeClass('flash');
    };
    tick();
  }

  /** `reveal` from the host: resolve, open its blocks, select, centre and flash; a note when not found. */
  async function reveal(target: RevealTarget): Promise<void> {
    if (!firstRenderDone) {
      pendingReveal = target;
      return;
    }
    const names = resolver();
    if (!names || !cy) return;
    const key = names.key(target);
    const from = target.label ? `from ${target.label}` : '';
    if (key === undefined) {
      const what = [target.node !== undefined ? `operator "${target.node}"` : '', target.value !== undefined ? `value "${target.value}"` : ''].filter(Boolean).join(' or ');
      showNote(`Not found in this graph: ${what || 'no element named'}${from ? ` (${from})` : ''}.`);
      return;
    }
    revealNote.hidden = true;
    const el = await revealKey(key, 'always');
    if (!el) {
      showNote(`Could not show ${target.node ?? target.value} in this graph.`);
      return;
    }
    fromText.textContent = from ? `· ${from}` : '';
    status.title = from;
    flash(el);
  }

  function fit(): void {
    fitBounds(24, 2);
  }

  function zoomBy(f: number): void {
    if (!cy) return;
    cy.zoom({ level: cy.zoom() * f, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  }

  function saveState(): void {
    if (!index || !cy) return;
    const sel = inspector?.current;
    const s: ViewState = { file: index.graph.file, expanded: [...expanded], selected: elementIdOf(sel), zoom: cy.zoom(), pan: cy.pan(), ...(choice !== undefined ? { overlay: choice } : {}) };
    bridge.setState(s);
  }

  // ------------------------------------------------------------------------------------------ overlay

  /** Recomputes the overlay from the runs and the choice, and redraws it. */
  function updateOverlay(): void {
    if (!index) return;
    const graph = index.graph;
    if (!runs.length && !overlayView.active && !choice && overlayView.legend.hidden) {
      // Nothing to show and nothing shown: leave the (hidden) controls alone.
      overlayView.setOptions([], NONE);
      return;
    }
    const names = resolver()!;
    const options = overlayOptions(graph, runs, names);
    let note: string | undefined;
    let active: ReturnType<typeof computeOverlay> | undefined;
    if (choice) {
      const run = runs.find((r) => r.id === choice!.runId);
      if (!run) {
        // The chosen run is gone (the host's list changed): nothing to colour.
        if (runsReceived) choice = null;
      } else {
        active = computeOverlay(graph, run, choice.metric, names);
        if (!active.ok) note = `Not shown: ${active.reason}.`;
        else choice = { runId: run.id, metric: active.overlay.metric };
      }
    }
    const ov = active?.ok ? active.overlay : undefined;
    const wasActive = !!overlayView.active;
    const selected = ov ? optionId(ov.runId, ov.metric) : choice ? (options.find((o) => o.runId === choice!.runId)?.id ?? NONE) : NONE;
    overlayView.setOptions(options, selected);
    overlayView.show(ov, note);
    if (cy && wasActive !== !!ov) cy.style(stylesheet(palette, (view?.items.length ?? 0) > BIG_GRAPH_NODES, !!ov));
    paintOverlay(true);
    drawOverlayExtras();
    if (inspector) inspector.refresh();
    saveState();
  }

  /** Colours the visible items (definitions, and the mounted elements when `mounted`). */
  function paintOverlay(mounted: boolean): void {
    if (!index || !view) return;
    const ov = overlayView.active;
    if (!ov && !overlayView.painting) return;
    const vis = ov ? visibleOverlay(index, expanded, view, ov) : { items: new Map(), edges: [] };
    overlayView.paint(mounted ? cy : undefined, definitionsById(), vis.items, vis.edges, palette);
  }

  function drawOverlayExtras(): void {
    if (!cy || !layout) return;
    const l = layout;
    const ov = overlayView.active;
    if (ov && mount) {
      // Overlay edges need both ends mounted.
      const ids = new Set<string>();
      for (const e of ov.edges) for (const k of [e.source, e.target]) {
        const id = index ? (k.startsWith('n:') ? representativeOf(index, expanded, k.slice(2)) : k) : undefined;
        if (id) ids.add(id);
      }
      mount.ensure([...ids]);
    }
    overlayView.drawExtras(cy, (id) => {
      const i = itemIndex.get(id);
      return i === undefined ? undefined : { x: l.x[i], y: l.y[i], w: l.width[i], h: l.height[i] };
    });
  }

  function onOverlayMessage(msg: Extract<HostToWebview, { type: 'overlay' }>): void {
    runs = msg.runs;
    runsReceived = true;
    if (msg.active) choice = msg.active.runId ? { runId: msg.active.runId, metric: msg.active.metric } : null;
    if (!runs.length) choice = null;
    updateOverlay();
  }

  // ------------------------------------------------------------------------------------------- search

  let hits: SearchHit[] = [];
  let hitCursor = 0;

  function wireSearch(): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const field = searchField as unknown as HTMLInputElement;
    field.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => runSearch(field.value), 120);
    });
    field.addEventListener('keydown', (ev: KeyboardEvent) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        runSearch(field.value);
        if (hits.length) void goToHit(hits[hitCursor]);
      } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        ev.preventDefault();
        if (!hits.length) return;
        hitCursor = (hitCursor + (ev.key === 'ArrowDown' ? 1 : hits.length - 1)) % hits.length;
        paintHits();
      } else if (ev.key === 'Escape') {
        field.value = '';
        runSearch('');
        cyBox.focus();
      }
    });
  }

  function runSearch(q: string): void {
    if (!index || !cy) return;
    const r = search(index, q, 200);
    hits = r.hits;
    hitCursor = 0;
    searchCount.textContent = q.trim() ? `${r.total} match${r.total === 1 ? '' : 'es'}` : '';
    // Highlight what is drawn: a hit inside a collapsed block lights the block.
    cy.nodes('.match').removeClass('match');
    if (q.trim()) {
      const ids = new Set<string>();
      for (const hit of r.hits) {
        if (hit.kind === 'group') ids.add(groupElementId(hit.id));
        else {
          const id = representativeOf(index, expanded, hit.id);
          if (id) ids.add(id);
        }
      }
      const c = cy;
      c.batch(() => {
        for (const id of ids) c.getElementById(id).addClass('match');
      });
    }
    paintHits();
  }

  function paintHits(): void {
    searchResults.replaceChildren();
    searchResults.hidden = hits.length === 0;
    hits.slice(0, 50).forEach((hit, i) => {
      const row = h('div', { className: `hit${i === hitCursor ? ' active' : ''}`, role: 'option', 'aria-selected': i === hitCursor ? 'true' : 'false' }, h('span', { className: 'hit-label' }, hit.label), h('span', { className: 'muted' }, ` ${hit.detail}`));
      row.addEventListener('click', () => {
        hitCursor = i;
        void goToHit(hit);
      });
      searchResults.append(row);
    });
  }

  async function goToHit(hit: SearchHit): Promise<void> {
    searchResults.hidden = true;
    if (hit.kind === 'node') await revealNode(hit.id);
    else await revealGroup(hit.id);
  }

  // ----------------------------------------------------------------------------------------- keyboard

  function navPoints(): NavPoint[] {
    if (!cy) return [];
    return (cy.nodes(':childless').not('.ov-badge') as NodeCollection).map((n) => ({ id: n.id(), x: n.position('x'), y: n.position('y') }));
  }

  function onKey(ev: KeyboardEvent): void {
    if (!cy || !index) return;
    // Shared pages (the report): only while this view is shown, and not for keys typed elsewhere.
    if (!root.isConnected || root.offsetParent === null) return;
    const target = ev.target as HTMLElement | null;
    if (target && target !== document.body && !root.contains(target)) return;
    const inField = target?.closest('vscode-textfield, vscode-single-select, input, textarea');
    if (ev.key === '/' && !inField) {
      ev.preventDefault();
      (searchField as unknown as HTMLElement).focus();
      return;
    }
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 'f') {
      ev.preventDefault();
      (searchField as unknown as HTMLElement).focus();
      return;
    }
    if (inField) return;
    const sel = cy.$('node:selected').first() as NodeSingular;
    const dirs: Record<string, NavDirection> = { ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right' };
    if (dirs[ev.key]) {
      ev.preventDefault();
      if (sel.empty()) {
        const first = (cy.nodes(':childless').not('.ov-badge') as NodeCollection).first();
        if (first.nonempty()) select(first, true);
        return;
      }
      const p = sel.position();
      const from = { id: sel.id(), x: p.x, y: p.y };
      const toPts = (ns: NodeCollection): NavPoint[] => {
        const out: NavPoint[] = [];
        ns.forEach((n) => {
          if (!n.isParent() && !n.hasClass('ov-badge')) out.push({ id: n.id(), x: n.position('x'), y: n.position('y') });
        });
        return out;
      };
      const next = nextInDirection(from, dirs[ev.key], { up: toPts(sel.incomers('node')), down: toPts(sel.outgoers('node')) }, navPoints());
      if (next) select(cy.getElementById(next) as NodeSingular, true);
      return;
    }
    switch (ev.key) {
      case 'Enter':
      case ' ':
        if (sel.nonempty()) {
          ev.preventDefault();
          const kind = sel.data('kind') as string;
          if (kind === 'group') void expandGroup(sel.data('ref') as string);
          else if (kind === 'compound') void collapse(sel.data('ref') as string);
        }
        break;
      case 'Escape':
        select(undefined);
        break;
      case 'f':
      case 'F':
      case '0':
        fit();
        break;
      case '+':
      case '=':
        zoomBy(1.3);
        break;
      case '-':
      case '_':
        zoomBy(1 / 1.3);
        break;
      default:
        return;
    }
  }

  // ----------------------------------------------------------------------------------------- messages

  /** Whether an overlay key lies inside a group (for the inspector's block view). */
  function keyUnder(gid: string): (key: string) => boolean {
    return (key) => {
      if (!index || !key.startsWith('n:')) return false;
      const i = index.nodeIndex.get(key.slice(2));
      return i !== undefined && index.chains[i].includes(gid);
    };
  }

  function onGraph(graph: ModelGraph): void {
    metrics.graphReceived = performance.now();
    index = buildIndex(graph);
    names = undefined;
    // Nothing drawn belongs to this graph yet.
    view = undefined;
    layout = undefined;
    elementDefs = [];
    definitions = undefined;
    metrics.indexed = performance.now();
    const restore = saved && saved.file === graph.file ? saved : undefined;
    expanded = restore ? new Set(restore.expanded.filter((g) => index!.groups.has(g))) : initialExpanded(index);
    if (choice === undefined && restore?.overlay !== undefined) choice = restore.overlay;
    buildShell();
    hideCover();
    // Runs may have arrived before the graph: compute the overlay now (the first render paints it).
    inspector = undefined;
    updateOverlay();
    inspector = new Inspector(inspectorBox, {
      index,
      shapes: index.shapes,
      palette: () => palette,
      readTensor,
      isExpanded: (g) => expanded.has(g),
      toggleGroup: (g) => void (expanded.has(g) ? collapse(g) : expandGroup(g)),
      revealNode: (id) => void revealNode(id),
      revealGroup: (id) => void revealGroup(id),
      standalone: bridge.standalone,
      overlaySection: (sel) => {
        if (!sel) return null;
        if (sel.kind === 'node') return overlayView.section(nodeElementId(sel.id));
        if (sel.kind === 'group') return overlayView.section(groupElementId(sel.id), keyUnder(sel.id));
        return overlayView.section(`i:${sel.id}`);
      },
      overlaySummary: () => overlayView.summary((key) => void revealKey(key).then((el) => el && flash(el))),
    });
    inspector.show(undefined);
    firstRenderDone = false;
    void render(undefined, restore).then(() => {
      if (restore?.selected && cy) {
        const el = cy.getElementById(restore.selected);
        if (el.nonempty()) inspector?.show(selectionOf(el as NodeSingular));
      }
      firstRenderDone = true;
      const t = pendingReveal;
      pendingReveal = undefined;
      if (t) void reveal(t);
    });
  }

  function readTensor(name: string): Promise<TensorPreview> {
    const id = ++tensorSeq;
    return new Promise((resolve, reject) => {
      tensorWaiters.set(id, { resolve, reject });
      bridge.post({ type: 'readTensor', id, tensor: name, maxElements: 16384 });
    });
  }

  /** The pieces of the graph's JSON received so far (`graphChunk` messages). */
  let graphChunks: Uint8Array[] = [];
  bridge.onMessage((msg) => {
    switch (msg.type) {
      case 'loading':
        setStatus('loading');
        if (!root.querySelector('#toolbar')) buildShell();
        showCover(
          h(
            'div',
            { className: 'loading', id: 'loading' },
            document.createElement('vscode-progress-ring'),
            h('p', {}, `Loading ${msg.file.split(/[\\/]/).pop()}${msg.bytes !== undefined ? ` (${formatBytes(msg.bytes)})` : ''}…`),
          ),
        );
        break;
      case 'confirmLarge': {
        setStatus('confirm');
        if (!root.querySelector('#toolbar')) buildShell();
        const go = h('vscode-button' as 'button', { id: 'confirm-load' });
        go.textContent = 'Load anyway';
        go.addEventListener('click', () => bridge.post({ type: 'confirmLoad' }));
        showCover(
          h(
            'div',
            { className: 'confirm', id: 'confirm-large', role: 'alertdialog' },
            h('h1', {}, 'This is a large model'),
            h(
              'p',
              {},
              `${msg.file.split(/[\\/]/).pop()} is ${formatBytes(msg.bytes)}, above the ${formatBytes(msg.limit)} set in circuitscope.largeModelBytes. Loading parses the whole graph; weights stay on disk until you inspect them.`,
            ),
            go,
          ),
        );
        break;
      }
      case 'graph':
        onGraph(msg.graph);
        break;
      case 'graphChunk': {
        // The IR as UTF-8 JSON in pieces: the host forwards bytes without serializing; parsed here after the last.
        if (msg.index === 0) graphChunks = [];
        graphChunks.push(msg.bytes);
        if (msg.index + 1 < msg.count) break;
        const pieces = graphChunks;
        graphChunks = [];
        onGraph(JSON.parse(joinUtf8(pieces)) as ModelGraph);
        break;
      }
      case 'summary':
        // The graph view shows the model overview in its inspector; the summary message is for older hosts.
        break;
      case 'tensor': {
        const w = tensorWaiters.get(msg.id);
        if (!w) break;
        tensorWaiters.delete(msg.id);
        if (msg.ok) w.resolve(msg.value);
        else w.reject(new Error('code' in msg.error ? `[${msg.error.code}] ${msg.error.detail}` : msg.error.message));
        break;
      }
      case 'error':
        showError(msg.error);
        break;
      case 'overlay':
        onOverlayMessage(msg);
        break;
      case 'reveal':
        void reveal(msg.target);
        break;
      default:
        assertNever(msg);
    }
  });

  document.addEventListener('keydown', onKey);

  // Theme changes: VS Code swaps the body classes; re-read the colours and restyle.
  new MutationObserver(() => {
    const next = readPalette();
    if (JSON.stringify(next) === JSON.stringify(palette)) return;
    palette = next;
    overlayView.setPalette(palette);
    if (cy) {
      cy.style(stylesheet(palette, (view?.items.length ?? 0) > BIG_GRAPH_NODES, !!overlayView.active));
      recolor(cy, palette);
      minimap?.setPalette(palette);
      paintOverlay(true);
      drawOverlayExtras();
    }
    inspector?.refresh();
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });

  // The container's size changes with the window, the split handle, and (in the report) when its tab shows.
  let resizeFrame = 0;
  new ResizeObserver(() => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => {
      cy?.resize();
      minimap?.rebuild();
    });
  }).observe(cyBox);

  setStatus('loading');
  bridge.post({ type: 'ready' });
}

