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
 *
 * This file composes the view; its parts live in graph/: the state (state.ts), the page (shell.ts),
 * rendering (render.ts), the viewport and saved state (viewport.ts), selection and reveal (navigate.ts),
 * search (search.ts), pointer and keyboard input (events.ts), the overlay (overlayLayer.ts) and the host's
 * messages (messages.ts).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-split-layout/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { HostToWebview, WebviewToHost } from '../shared/protocol';
import type { Bridge } from './bridge';
import { setStatus, type GraphContext } from './graph/context';
import { onKey, wireContextMenu, wireCy } from './graph/events';
import { exportGraph } from './graph/export';
import { listen } from './graph/messages';
import { expandAll } from './graph/navigate';
import { drawOverlayExtras, paintOverlay, updateOverlay } from './graph/overlayLayer';
import { wireSearch } from './graph/search';
import { createShell } from './graph/shell';
import { chooseOverlay, createGraphState, type Metrics, type ViewState } from './graph/state';
import { fit, zoomBy } from './graph/viewport';
import { BIG_GRAPH_NODES, recolor, stylesheet } from './graphView';
import { OverlayView, type OverlayStats } from './overlayView';
import { readPalette } from './theme';

/**
 * Mounts the graph view into `root` (replacing its content) and starts it: posts `ready` on the bridge and
 * renders what arrives. One view per page (it owns `window.__circuitscope` and the page's keyboard shortcuts
 * while the view is shown).
 */
export function mountGraph(root: HTMLElement, bridge: Bridge<WebviewToHost, HostToWebview>): void {
  const metrics: Metrics = { renders: 0 };
  root.classList.add('cs-graph');
  const state = createGraphState(readPalette());
  const overlayView = new OverlayView({
    graph: () => state.index?.graph,
    palette: () => state.palette,
    choose: (id) => {
      chooseOverlay(state, id);
      updateOverlay(ctx);
    },
  });
  const ctx: GraphContext = {
    root,
    bridge,
    params: new URLSearchParams(location.search),
    metrics,
    state,
    overlayView,
    saved: bridge.getState<ViewState>(),
    dom: createShell({
      fit: () => fit(ctx),
      zoomBy: (f) => zoomBy(ctx, f),
      setAllExpanded: (open) => void expandAll(ctx, open),
      exportGraph: (format, scope) => void exportGraph(ctx, format, scope),
    }),
    wireCy: (cy) => wireCy(ctx, cy),
  };
  wireSearch(ctx);
  exposeForTests(ctx);
  listen(ctx);
  document.addEventListener('keydown', (ev) => onKey(ctx, ev));
  wireContextMenu(ctx);
  watchTheme(ctx);
  watchSize(ctx);
  setStatus(ctx, 'loading');
  bridge.post({ type: 'ready' });
}

/** `window.__circuitscope`, read by the e2e test and the benchmark (timings, nodes' screen positions). */
function exposeForTests(ctx: GraphContext): void {
  const s = ctx.state;
  (window as unknown as { __circuitscope: unknown }).__circuitscope = {
    metrics: ctx.metrics,
    get cy() {
      return s.cy;
    },
    get expanded() {
      return [...s.expanded];
    },
    get layoutMode() {
      return s.layoutClient?.mode;
    },
    get layoutStats() {
      return s.layout?.stats;
    },
    get overlay(): OverlayStats {
      return ctx.overlayView.current;
    },
  };
}

/** Theme changes: VS Code swaps the body classes; re-read the colours and restyle. */
function watchTheme(ctx: GraphContext): void {
  const s = ctx.state;
  new MutationObserver(() => {
    const next = readPalette();
    if (JSON.stringify(next) === JSON.stringify(s.palette)) return;
    s.palette = next;
    ctx.overlayView.setPalette(s.palette);
    if (s.cy) {
      s.cy.style(stylesheet(s.palette, (s.view?.items.length ?? 0) > BIG_GRAPH_NODES, !!ctx.overlayView.active));
      recolor(s.cy, s.palette);
      s.minimap?.setPalette(s.palette);
      s.far?.invalidate();
      paintOverlay(ctx, true);
      drawOverlayExtras(ctx);
    }
    s.inspector?.refresh();
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/** The container's size changes with the window, the split handle, and (in the report) when its tab shows. */
function watchSize(ctx: GraphContext): void {
  let resizeFrame = 0;
  new ResizeObserver(() => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => {
      ctx.state.cy?.resize();
      ctx.state.minimap?.rebuild();
    });
  }).observe(ctx.dom.cyBox);
}
