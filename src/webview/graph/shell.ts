/**
 * The graph view's page: the toolbar (search, overlay picker, fit/zoom/expand buttons, status), the graph
 * pane (cytoscape container, minimap, overlay legend and tip, notes, search results) beside the inspector,
 * and the cover that shows loading, the large-file prompt and the loader's error.
 */
import type { WebviewError } from '../../shared/protocol';
import { h } from '../inspector';
import type { OverlayView } from '../overlayView';
import { setStatus, type GraphContext } from './context';

export interface Shell {
  searchField: HTMLElement;
  searchCount: HTMLElement;
  searchResults: HTMLElement;
  statusText: HTMLElement;
  fromText: HTMLElement;
  status: HTMLElement;
  cyBox: HTMLElement;
  minimapCanvas: HTMLCanvasElement;
  revealNote: HTMLElement;
  cover: HTMLElement;
  inspectorBox: HTMLElement;
  toolbarButtons: HTMLElement[];
  /** The export menu under the toolbar's Export button (view / whole graph × PNG / SVG). */
  exportMenu: HTMLElement;
  revealNoteTimer?: ReturnType<typeof setTimeout>;
}

/** What the toolbar's buttons do. */
export interface ToolbarActions {
  fit(): void;
  zoomBy(factor: number): void;
  setAllExpanded(open: boolean): void;
  exportGraph(format: 'svg' | 'png', scope: 'view' | 'graph'): void;
}

/** The Export button and its menu: one item per scope and format; Escape or a click elsewhere closes it. */
function exportControls(actions: ToolbarActions): { button: HTMLElement; menu: HTMLElement } {
  const menu = h('div', { id: 'export-menu', role: 'menu', 'aria-label': 'Export the graph' });
  menu.hidden = true;
  const close = (): void => {
    menu.hidden = true;
  };
  const items: [string, 'svg' | 'png', 'view' | 'graph'][] = [
    ['View as PNG', 'png', 'view'],
    ['View as SVG', 'svg', 'view'],
    ['Whole graph as PNG', 'png', 'graph'],
    ['Whole graph as SVG', 'svg', 'graph'],
  ];
  for (const [label, format, scope] of items) {
    const item = h('button', { role: 'menuitem', id: `export-${scope}-${format}`, className: 'menu-item' }, label);
    item.addEventListener('click', () => {
      close();
      actions.exportGraph(format, scope);
    });
    menu.append(item);
  }
  menu.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') close();
  });
  const b = button('Export', 'Export the view or the whole graph as PNG or SVG', () => {
    menu.hidden = !menu.hidden;
    if (!menu.hidden) menu.querySelector<HTMLElement>('button')?.focus();
  }, 'btn-export');
  b.setAttribute('aria-haspopup', 'menu');
  document.addEventListener('pointerdown', (ev) => {
    if (!menu.hidden && !menu.contains(ev.target as Node) && !b.contains(ev.target as Node)) close();
  });
  return { button: b, menu };
}

function button(label: string, title: string, onClick: () => void, id?: string): HTMLElement {
  const b = h('vscode-button' as 'button', { secondary: true, title, 'aria-label': title, id });
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

/** Creates the page's elements (attached by {@link buildShell}). */
export function createShell(actions: ToolbarActions): Shell {
  const statusText = h('span', { id: 'graph-status-text' });
  const fromText = h('span', { id: 'graph-from' });
  const revealNote = h('div', { id: 'reveal-note', role: 'status', 'aria-live': 'polite' });
  revealNote.hidden = true;
  const exporting = exportControls(actions);
  return {
    exportMenu: exporting.menu,
    searchField: h('vscode-textfield' as 'input', { id: 'search', placeholder: 'Search operators by name or type  ( / )', 'aria-label': 'Search operators' }),
    searchCount: h('span', { id: 'search-count', className: 'muted' }),
    searchResults: h('div', { id: 'search-results', role: 'listbox', hidden: true }),
    statusText,
    fromText,
    status: h('span', { id: 'graph-status', className: 'muted' }, statusText, fromText),
    cyBox: h('div', { id: 'cy', tabindex: '0', role: 'application', 'aria-label': 'Operator graph. Arrow keys move between operators, Enter expands or collapses a block.' }),
    minimapCanvas: h('canvas', { id: 'minimap', 'aria-label': 'Overview: click to move the view' }),
    revealNote,
    cover: h('div', { id: 'overlay' }),
    inspectorBox: h('aside', { id: 'inspector', 'aria-label': 'Inspector' }),
    toolbarButtons: [
      button('Fit', 'Fit the graph to the view (F)', () => actions.fit(), 'btn-fit'),
      button('−', 'Zoom out (−)', () => actions.zoomBy(1 / 1.3), 'btn-zoom-out'),
      button('+', 'Zoom in (+)', () => actions.zoomBy(1.3), 'btn-zoom-in'),
      button('Expand all', 'Expand every block', () => actions.setAllExpanded(true), 'btn-expand-all'),
      button('Collapse all', 'Collapse every block', () => actions.setAllExpanded(false), 'btn-collapse-all'),
      exporting.button,
    ],
  };
}

/** (Re)builds the page: toolbar, the split of graph pane and inspector, and the cover. */
export function buildShell(ctx: GraphContext): void {
  const d = ctx.dom;
  const ov: OverlayView = ctx.overlayView;
  const toolbar = h('header', { id: 'toolbar' }, d.searchField, d.searchCount, ov.select, h('span', { className: 'spacer' }), ...d.toolbarButtons, d.status);
  const graphPane = h('div', { id: 'graph-pane', slot: 'start' }, d.cyBox, d.minimapCanvas, ov.legend, ov.tip, d.revealNote, d.searchResults, d.exportMenu);
  d.inspectorBox.setAttribute('slot', 'end');
  const split = document.createElement('vscode-split-layout');
  split.id = 'split';
  split.setAttribute('split', 'vertical');
  split.setAttribute('initial-handle-position', '70%');
  split.setAttribute('min-start', '200px');
  split.setAttribute('min-end', '220px');
  split.append(graphPane, d.inspectorBox);
  ctx.root.replaceChildren(toolbar, split, d.cover);
}

/** Builds the page unless it is there already. */
export function ensureShell(ctx: GraphContext): void {
  if (!ctx.root.querySelector('#toolbar')) buildShell(ctx);
}

export function showCover(ctx: GraphContext, ...content: (Node | string)[]): void {
  ctx.dom.cover.replaceChildren(...content);
  ctx.dom.cover.hidden = false;
}

export function hideCover(ctx: GraphContext): void {
  ctx.dom.cover.hidden = true;
  ctx.dom.cover.replaceChildren();
}

export function showError(ctx: GraphContext, e: WebviewError): void {
  setStatus(ctx, 'error');
  const box = h('div', { className: 'error', id: 'load-error', role: 'alert' }, h('h1', {}, 'This model could not be loaded'));
  if ('code' in e) {
    box.append(h('p', { id: 'load-error-detail' }, h('strong', {}, `[${e.code}] `), e.detail), h('p', { className: 'path' }, e.file));
  } else {
    box.append(h('p', { id: 'load-error-detail' }, e.message));
  }
  // The report has no editor to open the file in.
  if (!ctx.bridge.standalone) {
    const reopen = h('vscode-button' as 'button', { secondary: true });
    reopen.textContent = 'Open the file in the default editor';
    reopen.addEventListener('click', () => ctx.bridge.post({ type: 'openSource' }));
    box.append(reopen);
  }
  ensureShell(ctx);
  showCover(ctx, box);
}

/** A non-blocking note over the graph (a reveal target that is not here); it fades after a while. */
export function showNote(ctx: GraphContext, text: string): void {
  const d = ctx.dom;
  const close = h('button', { className: 'note-close', title: 'Dismiss', 'aria-label': 'Dismiss' }, '×');
  close.addEventListener('click', () => {
    d.revealNote.hidden = true;
  });
  d.revealNote.replaceChildren(h('span', {}, text), close);
  d.revealNote.hidden = false;
  clearTimeout(d.revealNoteTimer);
  d.revealNoteTimer = setTimeout(() => {
    d.revealNote.hidden = true;
  }, 12_000);
}
