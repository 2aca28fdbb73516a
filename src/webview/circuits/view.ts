/**
 * The circuits side panel: a run picker, compact controls and the graph of one run — the LIB interaction
 * graph, the attention circuit or the redundant-neuron groups — drawn with cytoscape at preset positions
 * (scene.ts; everything it draws is computed by the pure modules beside this file). Inside VS Code it runs
 * on the webview bridge; the standalone HTML report mounts it with a page-local bridge.
 *
 * Messages: it posts `ready` once mounted; `runs` draws `show` (or keeps the user's pick when the host's
 * `show` is unchanged); `clear` shows how to make a graph. Clicks post `reveal`; exports post `export`.
 * Controls, pins and folds per run, and the shown run, are kept with `bridge.setState`.
 *
 * Stable selectors (e2e tests):
 * - `#circuits` — the panel's root; `document.body.dataset.state` is `loading` | `empty` | `ready`.
 * - `#circuits-graph` — the cytoscape container; carries `data-run-id` (the drawn run) and
 *   `data-graph-kind` (`lib` | `circuit` | `groups`).
 * - `#circuits-run` — the run picker (vscode-single-select, option values are run ids).
 * - `#circuits-mode` — lib: `mass` | `topn`; circuit: `circuit` | `topn` (hidden for groups).
 * - `#circuits-threshold` — the slider (`<input type="range">`): lib mass share or top-n per pair; circuit
 *   top-n edges by |score| (moving it leaves "circuit only"); groups: fold groups of at least n units.
 * - `#circuits-threshold-value` — the slider's reading and what it shows.
 * - `#circuits-constant` — lib: also draw the constant directions' edges.
 * - `#circuits-fit`, and buttons `[data-action="fit|pin|fold|unfold|export-png|export-svg|export-json"]`.
 * - `#circuits-summary` — the run's headline numbers; `#circuits-details` — the hovered element's numbers.
 * - `#circuits-empty` — the empty state (shown on `clear`).
 * - `window.__circuitscopeCircuits = { cy, visible }` — `visible` counts what is drawn (see {@link Visible}).
 *
 * This file composes the panel; its parts live in panel/: the state (state.ts), the page (dom.ts), the
 * runs and empty state (runs.ts), the threshold row (controls.ts), drawing (draw.ts), the details line and
 * hover (details.ts), the buttons' state (toolbar.ts), pins and folds (edit.ts), input (events.ts) and
 * exports (exportScene.ts).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-button-group/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { assertNever, type CircuitsToHost, type HostToCircuits } from '../../shared/protocol';
import type { Bridge } from '../bridge';
import { readPalette } from '../theme';
import { setBodyState, type PanelContext } from './panel/context';
import { createDom } from './panel/dom';
import { draw, fit, size } from './panel/draw';
import { foldSelected, togglePin, unfoldSelected } from './panel/edit';
import { wireControls, wireCy, wireKeys } from './panel/events';
import { exportAs } from './panel/exportScene';
import { clearRuns, onRuns, wireRunSelect } from './panel/runs';
import { controlsOf, createPanelState, type SavedState } from './panel/state';
import { circuitsColors, circuitsStylesheet, type CircuitsColors } from './style';

/** What `window.__circuitscopeCircuits.visible` reports. */
export interface Visible {
  runId: string | null;
  kind: string | null;
  /** Drawn nodes (supernodes included, column names and group boxes excluded). */
  nodes: number;
  edges: number;
  /** Supernodes: user folds, overflow supernodes, folded groups. */
  supernodes: number;
  /** Group boxes (redundancy). */
  groups: number;
  pinned: number;
  mode: string | null;
  value: number | null;
}

/**
 * The theme's colours with the real font family: readPalette() passes every variable through the colour
 * normaliser, which turns a font list into '#000000'.
 */
function themeColors(): CircuitsColors {
  const font = getComputedStyle(document.body).getPropertyValue('--vscode-font-family').trim();
  const p = readPalette();
  return circuitsColors(font ? { ...p, fontFamily: font } : p);
}

export function mountCircuits(root: HTMLElement, bridge: Bridge<CircuitsToHost, HostToCircuits>): void {
  const state = createPanelState(bridge.getState<SavedState>(), themeColors());
  const ctx: PanelContext = {
    bridge,
    state,
    dom: createDom({
      fit: () => fit(ctx),
      togglePin: () => togglePin(ctx),
      foldSelected: () => foldSelected(ctx),
      unfoldSelected: () => unfoldSelected(ctx),
      exportAs: (format) => void exportAs(ctx, format),
    }),
    wire: (cy) => wireCy(ctx, cy),
  };
  root.replaceChildren(ctx.dom.panel);
  exposeForTests(ctx);
  wireRunSelect(ctx);
  wireControls(ctx);
  wireKeys(ctx);
  watchTheme(ctx);
  watchSize(ctx);
  bridge.onMessage((msg) => {
    switch (msg.type) {
      case 'runs':
        onRuns(ctx, msg.runs, msg.show);
        break;
      case 'clear':
        clearRuns(ctx);
        break;
      default:
        assertNever(msg);
    }
  });
  setBodyState('loading');
  ctx.dom.bar.hidden = true;
  ctx.dom.details.hidden = true;
  bridge.post({ type: 'ready' });
}

function exposeForTests(ctx: PanelContext): void {
  const s = ctx.state;
  (window as unknown as { __circuitscopeCircuits: unknown }).__circuitscopeCircuits = {
    get cy() {
      return s.cy;
    },
    get visible(): Visible {
      const c = s.current ? controlsOf(s, s.current) : undefined;
      const nodes = s.graph?.nodes ?? [];
      return {
        runId: s.current?.run.id ?? null,
        kind: s.current?.kind ?? null,
        nodes: nodes.filter((n) => n.kind !== 'group').length,
        edges: s.graph?.edges.length ?? 0,
        supernodes: nodes.filter((n) => n.kind === 'fold' || n.kind === 'overflow' || n.kind === 'foldedGroup').length,
        groups: nodes.filter((n) => n.kind === 'group').length,
        pinned: c ? Object.keys(c.pinned).filter((id) => s.cy?.getElementById(id).nonempty()).length : 0,
        mode: c?.mode ?? null,
        value: c?.value ?? null,
      };
    },
  };
}

/** VS Code swaps the body's theme classes: re-read the colours and redraw. */
function watchTheme(ctx: PanelContext): void {
  const s = ctx.state;
  new MutationObserver(() => {
    const next = themeColors();
    if (JSON.stringify({ ...next, groupFill: 0 }) === JSON.stringify({ ...s.colors, groupFill: 0 })) return;
    s.colors = next;
    if (s.cy) {
      s.cy.style(circuitsStylesheet(s.colors));
      draw(ctx, false);
    }
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/**
 * A new panel size may call for the other orientation (or, for groups, another packing): re-lay out when
 * the size changed noticeably since the last drawing.
 */
function watchSize(ctx: PanelContext): void {
  const s = ctx.state;
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  new ResizeObserver(() => {
    s.cy?.resize();
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      const { w, h } = size(ctx);
      if (s.current && s.cy && (Math.abs(w - s.drawnSize.w) > 40 || Math.abs(h - s.drawnSize.h) > 40)) draw(ctx, s.current.kind === 'groups' || s.fitted);
      else if (s.fitted) fit(ctx);
    }, 150);
  }).observe(ctx.dom.graphBox);
}
