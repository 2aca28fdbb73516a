/**
 * The analysis overlay on the graph: recomputes it from the host's runs and the user's choice (overlay.ts),
 * updates the picker and legend (overlayView.ts), and paints the drawn elements and the overlay's extras.
 */
import type { HostToWebview } from '../../shared/protocol';
import { BIG_GRAPH_NODES, stylesheet } from '../graphView';
import { computeOverlay, optionId, overlayOptions, visibleOverlay } from '../overlay';
import { NONE } from '../overlayView';
import { representativeOf } from '../viewModel';
import type { GraphContext } from './context';
import { definitionsById, resolver, setRuns } from './state';
import { saveState } from './viewport';

/** Recomputes the overlay from the runs and the choice, and redraws it. */
export function updateOverlay(ctx: GraphContext): void {
  const s = ctx.state;
  const overlayView = ctx.overlayView;
  if (!s.index) return;
  const graph = s.index.graph;
  if (!s.runs.length && !overlayView.active && !s.choice && overlayView.legend.hidden) {
    // Nothing to show and nothing shown: leave the (hidden) controls alone.
    overlayView.setOptions([], NONE);
    return;
  }
  const names = resolver(s)!;
  const options = overlayOptions(graph, s.runs, names);
  let note: string | undefined;
  let active: ReturnType<typeof computeOverlay> | undefined;
  const choice = s.choice;
  if (choice) {
    const run = s.runs.find((r) => r.id === choice.runId);
    if (!run) {
      // The chosen run is gone (the host's list changed): nothing to colour.
      if (s.runsReceived) s.choice = null;
    } else {
      active = computeOverlay(graph, run, choice.metric, names);
      if (!active.ok) note = `Not shown: ${active.reason}.`;
      else s.choice = { runId: run.id, metric: active.overlay.metric };
    }
  }
  const ov = active?.ok ? active.overlay : undefined;
  const wasActive = !!overlayView.active;
  const now = s.choice;
  const selected = ov ? optionId(ov.runId, ov.metric) : now ? (options.find((o) => o.runId === now.runId)?.id ?? NONE) : NONE;
  overlayView.setOptions(options, selected);
  overlayView.show(ov, note);
  if (s.cy && wasActive !== !!ov) s.cy.style(stylesheet(s.palette, (s.view?.items.length ?? 0) > BIG_GRAPH_NODES, !!ov));
  paintOverlay(ctx, true);
  drawOverlayExtras(ctx);
  if (s.inspector) s.inspector.refresh();
  saveState(ctx);
}

/** Colours the visible items (definitions, and the mounted elements when `mounted`). */
export function paintOverlay(ctx: GraphContext, mounted: boolean): void {
  const s = ctx.state;
  if (!s.index || !s.view) return;
  const ov = ctx.overlayView.active;
  if (!ov && !ctx.overlayView.painting) return;
  const vis = ov ? visibleOverlay(s.index, s.expanded, s.view, ov) : { items: new Map(), edges: [] };
  ctx.overlayView.paint(mounted ? s.cy : undefined, definitionsById(s), vis.items, vis.edges, s.palette);
}

export function drawOverlayExtras(ctx: GraphContext): void {
  const s = ctx.state;
  if (!s.cy || !s.layout) return;
  const l = s.layout;
  const ov = ctx.overlayView.active;
  if (ov && s.mount) {
    // Overlay edges need both ends mounted.
    const ids = new Set<string>();
    for (const e of ov.edges) for (const k of [e.source, e.target]) {
      const id = s.index ? (k.startsWith('n:') ? representativeOf(s.index, s.expanded, k.slice(2)) : k) : undefined;
      if (id) ids.add(id);
    }
    s.mount.ensure([...ids]);
  }
  const itemIndex = s.itemIndex;
  ctx.overlayView.drawExtras(s.cy, (id) => {
    const i = itemIndex.get(id);
    return i === undefined ? undefined : { x: l.x[i], y: l.y[i], w: l.width[i], h: l.height[i] };
  });
}

export function onOverlayMessage(ctx: GraphContext, msg: Extract<HostToWebview, { type: 'overlay' }>): void {
  setRuns(ctx.state, msg.runs, msg.active);
  updateOverlay(ctx);
}
