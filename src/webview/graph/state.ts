/**
 * The graph view's state, in one place: what the host sent (the graph's index, the runs), what is drawn
 * (the visible graph, its layout, its element definitions, the cytoscape instance and its helpers), and
 * what the user chose (expanded blocks, the overlay, search hits). The modules beside this one read it
 * freely and change it through the update functions here where a change touches several fields together.
 */
import type { Core, ElementDefinition } from 'cytoscape';
import type { ModelGraph } from '../../shared/ir';
import type { RevealTarget, RunRecord } from '../../shared/results';
import type { RendererKind } from '../graphView';
import type { Inspector } from '../inspector';
import type { LayoutResult } from '../layout';
import type { LayoutClient } from '../layoutClient';
import type { Minimap } from '../minimap';
import { NameResolver } from '../overlay';
import { NONE } from '../overlayView';
import type { FarLayer } from '../farLayer';
import type { DeferredWindow } from '../firstWindow';
import type { ProgressiveMount } from '../progressive';
import type { Palette } from '../theme';
import { buildIndex, collapseGroup, initialExpanded, isCollapsible, type GraphIndex, type SearchHit, type VisibleGraph } from '../viewModel';
import type { WindowedMount } from '../windowed';

/** The overlay the user chose: a run and metric, or none (null). */
export type OverlayChoice = { runId: string; metric?: string } | null;

/** What survives a reload of the webview (through the bridge's getState/setState). */
export interface ViewState {
  file: string;
  expanded: string[];
  selected?: string;
  zoom?: number;
  pan?: { x: number; y: number };
  /** Absent: never chosen (an `overlay` message without `active` then shows nothing). */
  overlay?: OverlayChoice;
}

/** Timings and counts read by the e2e test and the benchmark through `window.__circuitscope.metrics`. */
export interface Metrics {
  /** The graph's first and last pieces arrived; its gzip was decompressed; its JSON parsed (then decoded: graphReceived). */
  firstPiece?: number;
  lastPiece?: number;
  unzipped?: number;
  parsed?: number;
  graphReceived?: number;
  indexed?: number;
  /** The first layout request was posted to the worker; the first overview shown in the inspector. */
  layoutPosted?: number;
  overviewShown?: number;
  layoutDone?: number;
  /** Elements of the first window when only those were built for the first frame (firstWindow.ts). */
  firstWindow?: number;
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

export interface GraphState {
  palette: Palette;
  index?: GraphIndex;
  /** Resolves the envelopes' names in this graph (built on first use: runs or a reveal). */
  names?: NameResolver;
  expanded: Set<string>;
  /** What the last render drew: the visible graph, its layout, and item id → layout index. */
  view?: VisibleGraph;
  layout?: LayoutResult;
  itemIndex: Map<string, number>;
  /** The element definitions of the last render (progressive mounting adds some later), by id on demand. */
  elementDefs: ElementDefinition[];
  definitions?: Map<string, ElementDefinition>;
  cy?: Core;
  renderer: RendererKind;
  minimap?: Minimap;
  inspector?: Inspector;
  layoutClient?: LayoutClient;
  /** Bumped by every render; a render whose layout arrives after a newer one started is dropped. */
  renderSeq: number;
  mount?: ProgressiveMount | WindowedMount | DeferredWindow;
  /** Big graphs (windowed mount): draws what cytoscape does not hold. */
  far?: FarLayer;
  /** When the user last panned or zoomed (progressive mounting yields to interaction). */
  lastViewportChange: number;
  /** Whether the current graph's first render is done; a `reveal` arriving earlier waits in pendingReveal. */
  firstRenderDone: boolean;
  pendingReveal?: RevealTarget;
  /** The overlay: runs from the host, whether they came yet (a remembered choice waits for them), the choice. */
  runs: RunRecord[];
  runsReceived: boolean;
  choice?: OverlayChoice;
  /** Search: the hits of the last query and the highlighted one. */
  hits: SearchHit[];
  hitCursor: number;
  /** Element ids highlighted as search matches (a windowed mount highlights them as they are mounted). */
  matches: Set<string>;
}

export function createGraphState(palette: Palette): GraphState {
  return {
    palette,
    expanded: new Set(),
    itemIndex: new Map(),
    elementDefs: [],
    renderer: 'canvas',
    renderSeq: 0,
    lastViewportChange: -Infinity,
    firstRenderDone: false,
    runs: [],
    runsReceived: false,
    hits: [],
    hitCursor: 0,
    matches: new Set(),
  };
}

/** The name resolver of the current graph (undefined before a graph arrived). */
export function resolver(s: GraphState): NameResolver | undefined {
  return s.index ? (s.names ??= new NameResolver(s.index.graph)) : undefined;
}

export function definitionsById(s: GraphState): Map<string, ElementDefinition> {
  return (s.definitions ??= new Map(s.elementDefs.map((e) => [String(e.data.id), e])));
}

/**
 * A new graph: indexes it and forgets what was drawn for the last one. Expanded blocks and the overlay
 * choice come from `saved` when it belongs to the same file. Returns the saved state that applies, if any.
 */
export function setGraph(s: GraphState, graph: ModelGraph, saved: ViewState | undefined, onIndexed?: () => void): ViewState | undefined {
  const index = buildIndex(graph);
  s.index = index;
  s.names = undefined;
  // Nothing drawn belongs to this graph yet.
  s.view = undefined;
  s.layout = undefined;
  s.elementDefs = [];
  s.definitions = undefined;
  onIndexed?.();
  const restore = saved && saved.file === graph.file ? saved : undefined;
  s.expanded = restore ? new Set(restore.expanded.filter((g) => index.groups.has(g))) : initialExpanded(index);
  if (s.choice === undefined && restore?.overlay !== undefined) s.choice = restore.overlay;
  return restore;
}

/** What a render drew (the definitions by id are rebuilt on demand). */
export function setDrawn(s: GraphState, view: VisibleGraph, layout: LayoutResult, itemIndex: Map<string, number>, elements: ElementDefinition[]): void {
  s.view = view;
  s.layout = layout;
  s.itemIndex = itemIndex;
  s.elementDefs = elements;
  s.definitions = undefined;
}

/** Opens every collapsible block (`open`) or returns to the initial depth. */
export function setAllExpanded(s: GraphState, open: boolean): void {
  if (!s.index) return;
  if (open) {
    for (const g of s.index.graph.hierarchy) if (isCollapsible(g)) s.expanded.add(g.id);
  } else {
    s.expanded = initialExpanded(s.index, 0);
  }
}

/** Opens the given blocks; returns whether any was closed. */
export function openGroups(s: GraphState, ids: Iterable<string>): boolean {
  let changed = false;
  for (const g of ids) {
    if (!s.expanded.has(g)) {
      s.expanded.add(g);
      changed = true;
    }
  }
  return changed;
}

/** Closes a block (and the blocks inside it). */
export function closeGroup(s: GraphState, gid: string): void {
  if (s.index) collapseGroup(s.index, s.expanded, gid);
}

/** The overlay picker's option id (`runId::metric`, or NONE) as a choice. */
export function chooseOverlay(s: GraphState, id: string): void {
  if (id === NONE) s.choice = null;
  else {
    const [runId, metric] = id.split('::');
    s.choice = { runId, metric };
  }
}

/** The host's runs; `active` (when sent) replaces the choice, and no runs means nothing chosen. */
export function setRuns(s: GraphState, runs: RunRecord[], active: { runId?: string; metric?: string } | undefined): void {
  s.runs = runs;
  s.runsReceived = true;
  if (active) s.choice = active.runId ? { runId: active.runId, metric: active.metric } : null;
  if (!runs.length) s.choice = null;
}

export function setHits(s: GraphState, hits: SearchHit[]): void {
  s.hits = hits;
  s.hitCursor = 0;
}

/** Moves the highlighted hit by `step` (wrapping). */
export function moveHitCursor(s: GraphState, step: 1 | -1): void {
  if (!s.hits.length) return;
  s.hitCursor = (s.hitCursor + (step === 1 ? 1 : s.hits.length - 1)) % s.hits.length;
}
