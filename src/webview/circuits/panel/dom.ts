/**
 * The circuits panel's page: the bar (run picker, summary, threshold row, action buttons), the graph's
 * container, the details line and the empty state. Element ids are the stable selectors listed in view.ts.
 */
import type { ExportRequest } from '../../../shared/protocol';

type Attrs = Record<string, string | boolean | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'className') e.className = String(v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children);
  return e;
}

/** A custom element created through {@link el} (typed as a div for attribute handling). */
export function custom(tag: string, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElement {
  return el(tag as 'div', attrs, ...children);
}

export interface PanelDom {
  runSelect: HTMLElement;
  modeSelect: HTMLElement;
  slider: HTMLInputElement;
  sliderValue: HTMLOutputElement;
  constantBox: HTMLElement;
  summary: HTMLDivElement;
  details: HTMLDivElement;
  graphBox: HTMLDivElement;
  empty: HTMLDivElement;
  pinButton: HTMLElement;
  foldButton: HTMLElement;
  unfoldButton: HTMLElement;
  bar: HTMLElement;
  panel: HTMLElement;
}

/** What the action buttons do. */
export interface PanelActions {
  fit(): void;
  togglePin(): void;
  foldSelected(): void;
  unfoldSelected(): void;
  exportAs(format: ExportRequest['format']): void;
}

function button(label: string, action: string, title: string, onClick: () => void, id?: string): HTMLElement {
  const b = custom('vscode-button', { secondary: true, 'data-action': action, title, 'aria-label': title, id });
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

export function createDom(actions: PanelActions): PanelDom {
  const runSelect = custom('vscode-single-select', { id: 'circuits-run', 'aria-label': 'Run to draw', title: 'The run whose graph is drawn' });
  const modeSelect = custom('vscode-single-select', { id: 'circuits-mode', 'aria-label': 'What the slider sets' });
  const slider = el('input', { id: 'circuits-threshold', type: 'range', 'aria-label': 'Threshold' });
  const sliderValue = el('output', { id: 'circuits-threshold-value', for: 'circuits-threshold' });
  const constantBox = custom('vscode-checkbox', { id: 'circuits-constant', label: 'const', title: "Also draw the constant (bias) directions' strongest edges, dashed — outside every edge-mass statistic" });
  const summary = el('div', { id: 'circuits-summary' });
  const details = el('div', { id: 'circuits-details', role: 'status' });
  const graphBox = el('div', { id: 'circuits-graph', tabindex: '0', role: 'application', 'aria-label': 'Circuit graph' });
  const empty = el('div', { id: 'circuits-empty', hidden: true });

  const fitButton = button('Fit', 'fit', 'Fit: the whole graph while its labels stay readable, else its top-left part at a readable zoom — drag to see the rest (F)', () => actions.fit(), 'circuits-fit');
  const pinButton = button('Pin', 'pin', 'Pin the selected nodes where they are (P); with pinned nodes selected: unpin them', () => actions.togglePin());
  const foldButton = button('Fold', 'fold', 'Fold the selected nodes of one layer into a supernode (Shift-click or Shift-drag to select several)', () => actions.foldSelected());
  const unfoldButton = button('Unfold', 'unfold', 'Unfold the selected supernodes (none selected: all)', () => actions.unfoldSelected());
  const exportGroup = custom(
    'vscode-button-group',
    { className: 'export', title: 'Export' },
    button('PNG', 'export-png', 'Export the graph as PNG', () => actions.exportAs('png')),
    button('SVG', 'export-svg', 'Export the graph as SVG', () => actions.exportAs('svg')),
    button('JSON', 'export-json', 'Export the visible graph as JSON', () => actions.exportAs('json')),
  );

  const thresholdRow = el('div', { className: 'row threshold' }, modeSelect, slider, sliderValue, constantBox);
  const actionRow = el('div', { className: 'row actions' }, fitButton, pinButton, foldButton, unfoldButton, el('span', { className: 'sep' }), exportGroup);
  const bar = el('header', { id: 'circuits-bar' }, el('div', { className: 'row run' }, runSelect), summary, thresholdRow, actionRow);
  const panel = el('section', { id: 'circuits', 'aria-label': 'Circuits' }, bar, graphBox, details, empty);
  return { runSelect, modeSelect, slider, sliderValue, constantBox, summary, details, graphBox, empty, pinButton, foldButton, unfoldButton, bar, panel };
}
