/**
 * The viewport and what is saved across reloads: fitting, zooming, screen positions of elements, the
 * mapping between cytoscape elements and the inspector's selections, and the bridge's saved view state.
 */
import type { NodeSingular } from 'cytoscape';
import type { Selection } from '../inspector';
import { groupElementId, nodeElementId } from '../viewModel';
import { fitViewport } from '../viewportFit';
import type { GraphContext } from './context';
import type { ViewState } from './state';

/** The top centre of an element on screen (px), undefined when it is not drawn. */
export function topCenter(ctx: GraphContext, id: string): { x: number; y: number } | undefined {
  const e = ctx.state.cy?.getElementById(id);
  if (!e || e.empty()) return undefined;
  const bb = e.renderedBoundingBox({ includeLabels: false });
  return { x: (bb.x1 + bb.x2) / 2, y: bb.y1 };
}

/** Fit: the whole drawing while it stays readable, else its entry region at a readable zoom (viewportFit.ts). */
export function fit(ctx: GraphContext): void {
  const { cy, layout, view } = ctx.state;
  if (!cy || !layout) return;
  const bounds = { x1: 0, y1: 0, x2: layout.totalWidth, y2: layout.totalHeight };
  cy.viewport(fitViewport({ ...layout, firstItem: view?.compounds.length ?? 0 }, bounds, cy.width(), cy.height(), { maxZoom: 2 }));
}

export function zoomBy(ctx: GraphContext, f: number): void {
  const cy = ctx.state.cy;
  if (!cy) return;
  cy.zoom({ level: cy.zoom() * f, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
}

/** The element drawing an inspector selection (a value: its input or output element). */
export function elementIdOf(ctx: GraphContext, sel: Selection): string | undefined {
  if (!sel) return undefined;
  if (sel.kind === 'node') return nodeElementId(sel.id);
  if (sel.kind === 'group') return groupElementId(sel.id);
  return ctx.state.cy?.getElementById(`i:${sel.id}`).nonempty() ? `i:${sel.id}` : `o:${sel.id}`;
}

export function selectionOf(el: NodeSingular): Selection {
  const kind = el.data('kind') as string;
  const ref = el.data('ref') as string;
  if (kind === 'op') return { kind: 'node', id: ref };
  if (kind === 'group' || kind === 'compound') return { kind: 'group', id: ref };
  return { kind: 'value', id: ref };
}

export function saveState(ctx: GraphContext): void {
  const s = ctx.state;
  if (!s.index || !s.cy) return;
  const sel = s.inspector?.current;
  const v: ViewState = { file: s.index.graph.file, expanded: [...s.expanded], selected: elementIdOf(ctx, sel), zoom: s.cy.zoom(), pan: s.cy.pan(), ...(s.choice !== undefined ? { overlay: s.choice } : {}) };
  ctx.bridge.setState(v);
}
