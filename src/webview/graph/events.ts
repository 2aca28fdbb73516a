/**
 * Input: cytoscape's pointer events (tap to select or expand, double-tap to collapse, viewport changes) and
 * the page's keyboard shortcuts (arrows move between operators, Enter/Space expand or collapse, `/` and
 * Ctrl/Cmd-F search, F/0 fit, +/− zoom, Escape clears the selection).
 */
import type { Core, EdgeSingular, EventObject, NodeCollection, NodeSingular } from 'cytoscape';
import { edgeTooltip } from '../viewModel';
import { nextInDirection, type NavDirection, type NavPoint } from '../nav';
import type { GraphContext } from './context';
import { copyName, elementName } from './export';
import { collapse, expandGroup, select } from './navigate';
import { fit, saveState, zoomBy } from './viewport';

export function wireCy(ctx: GraphContext, c: Core): void {
  c.on('tap', 'node', (ev: EventObject) => {
    const el = ev.target as NodeSingular;
    const kind = el.data('kind') as string;
    if (!kind) return;
    if (kind === 'group') {
      void expandGroup(ctx, el.data('ref') as string);
      return;
    }
    select(ctx, el);
  });
  c.on('dbltap', 'node:parent', (ev: EventObject) => {
    void collapse(ctx, (ev.target as NodeSingular).data('ref') as string);
  });
  c.on('tap', (ev: EventObject) => {
    if (ev.target === c) select(ctx, undefined);
  });
  c.on('select', 'node', (ev: EventObject) => {
    (ev.target as NodeSingular).connectedEdges().not('.ov-edge').addClass('adjacent');
  });
  c.on('unselect', 'node', (ev: EventObject) => {
    (ev.target as NodeSingular).connectedEdges().removeClass('adjacent');
  });
  // VS Code's webview context menu reads `data-vscode-context` from the element under the pointer when the menu
  // opens; the canvas has no element per node, so the right button's press sets it on the container first.
  c.on('cxttapstart', (ev: EventObject) => {
    const el = ev.target as NodeSingular | Core;
    const node = el !== c && (el as NodeSingular).isNode?.() ? (el as NodeSingular) : undefined;
    const kind = node?.data('kind') as string | undefined;
    const context: Record<string, unknown> = { webviewSection: kind && !node!.hasClass('ov-badge') ? 'graphNode' : 'graph', preventDefaultContextMenuItems: true };
    if (node && kind) context.circuitscopeName = elementName(ctx, kind, node.data('ref') as string);
    const pane = ctx.dom.cyBox.parentElement;
    if (pane) pane.dataset.vscodeContext = JSON.stringify(context);
  });
  // Shape labels write long dim names by their aliases: an edge's tooltip gives the value and its full shape.
  c.on('mouseover', 'edge', (ev: EventObject) => {
    const e = ev.target as EdgeSingular;
    const value = e.data('value') as string | undefined;
    if (value && ctx.state.index && !e.hasClass('ov-edge')) ctx.dom.cyBox.title = edgeTooltip(ctx.state.index, value, (e.data('count') as number | undefined) ?? 1);
  });
  c.on('mouseout', 'edge', () => ctx.dom.cyBox.removeAttribute('title'));
  let t: ReturnType<typeof setTimeout> | undefined;
  c.on('viewport', () => {
    ctx.state.lastViewportChange = performance.now();
    clearTimeout(t);
    t = setTimeout(() => saveState(ctx), 300);
  });
}

/**
 * cytoscape cancels every `contextmenu` event on its container, and VS Code's webview shows its context menu only for
 * events nobody cancelled — so the graph's menu (Copy Name, Run Analysis, Export) never appeared. The page's own
 * `contextmenu` on the graph is caught before cytoscape sees it and sent again from the graph pane, which carries the
 * context set on the right button's press (wireCy's `cxttapstart`). Wired once per page.
 */
export function wireContextMenu(ctx: GraphContext): void {
  const resent = new WeakSet<Event>();
  ctx.root.addEventListener(
    'contextmenu',
    (ev) => {
      const cyBox = ctx.dom.cyBox;
      const pane = cyBox.parentElement;
      if (resent.has(ev) || !pane || !(ev.target instanceof Node) || !cyBox.contains(ev.target)) return;
      ev.stopPropagation();
      ev.preventDefault();
      const again = new MouseEvent('contextmenu', { bubbles: true, cancelable: true, clientX: ev.clientX, clientY: ev.clientY, screenX: ev.screenX, screenY: ev.screenY, button: 2, buttons: ev.buttons });
      resent.add(again);
      pane.dispatchEvent(again);
    },
    true,
  );
}

/** Drawn operators and values (not compounds or overlay badges) as navigation points. */
function toPoints(ns: NodeCollection): NavPoint[] {
  const out: NavPoint[] = [];
  ns.forEach((n) => {
    if (!n.isParent() && !n.hasClass('ov-badge')) out.push({ id: n.id(), x: n.position('x'), y: n.position('y') });
  });
  return out;
}

const DIRECTIONS: Record<string, NavDirection> = { ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right' };

/** Arrow keys: to the nearest operator that way, preferring the selection's inputs (up) and consumers (down). */
function moveSelection(ctx: GraphContext, cy: Core, sel: NodeSingular, dir: NavDirection): void {
  if (sel.empty()) {
    const first = (cy.nodes(':childless').not('.ov-badge') as NodeCollection).first();
    if (first.nonempty()) select(ctx, first, true);
    return;
  }
  const p = sel.position();
  const from = { id: sel.id(), x: p.x, y: p.y };
  const all = (cy.nodes(':childless').not('.ov-badge') as NodeCollection).map((n) => ({ id: n.id(), x: n.position('x'), y: n.position('y') }));
  const next = nextInDirection(from, dir, { up: toPoints(sel.incomers('node')), down: toPoints(sel.outgoers('node')) }, all);
  if (next) select(ctx, cy.getElementById(next) as NodeSingular, true);
}

export function onKey(ctx: GraphContext, ev: KeyboardEvent): void {
  const { cy, index } = ctx.state;
  const root = ctx.root;
  if (!cy || !index) return;
  // Shared pages (the report): only while this view is shown, and not for keys typed elsewhere.
  if (!root.isConnected || root.offsetParent === null) return;
  const target = ev.target as HTMLElement | null;
  if (target && target !== document.body && !root.contains(target)) return;
  const inField = target?.closest('vscode-textfield, vscode-single-select, input, textarea');
  if ((ev.key === '/' && !inField) || ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 'f')) {
    ev.preventDefault();
    ctx.dom.searchField.focus();
    return;
  }
  if (inField) return;
  const sel = cy.$('node:selected').first() as NodeSingular;
  if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 'c' && sel.nonempty() && !window.getSelection()?.toString()) {
    ev.preventDefault();
    copyName(ctx, sel.data('kind') as string, sel.data('ref') as string);
    return;
  }
  const dir = DIRECTIONS[ev.key];
  if (dir) {
    ev.preventDefault();
    moveSelection(ctx, cy, sel, dir);
    return;
  }
  switch (ev.key) {
    case 'Enter':
    case ' ':
      if (sel.nonempty()) {
        ev.preventDefault();
        const kind = sel.data('kind') as string;
        if (kind === 'group') void expandGroup(ctx, sel.data('ref') as string);
        else if (kind === 'compound') void collapse(ctx, sel.data('ref') as string);
      }
      break;
    case 'Escape':
      select(ctx, undefined);
      break;
    case 'f':
    case 'F':
    case '0':
      fit(ctx);
      break;
    case '+':
    case '=':
      zoomBy(ctx, 1.3);
      break;
    case '-':
    case '_':
      zoomBy(ctx, 1 / 1.3);
      break;
    default:
      return;
  }
}
