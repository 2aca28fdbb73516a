/**
 * The model editor's webview: says `ready`, then renders what the host posts (a model summary or a load
 * error). Colours come only from --vscode-* variables (media/webview.css).
 */
import { assertNever, type HostToWebview, type WebviewToHost } from '../shared/protocol';
import type { ModelSummaryView } from '../shared/views';

declare function acquireVsCodeApi(): { postMessage(msg: WebviewToHost): void; getState(): unknown; setState(s: unknown): void };

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

const shape = (s?: (number | string | null)[]): string => (s ? `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '?');
const num = (n: number): string => n.toLocaleString('en-US');

function renderSummary(s: ModelSummaryView): void {
  const rows: [string, string][] = [
    ['Format', `${s.format}${s.formatVersion ? ` (${s.formatVersion})` : ''}`],
    ['Producer', s.producer ?? '—'],
    ['Opsets', s.opsets.join(', ') || '—'],
    ['Nodes', num(s.nodes)],
    ['Parameters', `${num(s.params)} in ${num(s.tensors)} tensors`],
    ['Hierarchy', `${s.hierarchy.groups} groups, depth ${s.hierarchy.depth}`],
  ];
  const table = el('table', { className: 'kv' });
  for (const [k, v] of rows) table.append(el('tr', {}, el('th', {}, k), el('td', {}, v)));
  const io = el('table', { className: 'io' }, el('tr', {}, el('th', {}, ''), el('th', {}, 'name'), el('th', {}, 'dtype'), el('th', {}, 'shape')));
  for (const v of s.inputs) io.append(el('tr', {}, el('td', {}, 'input'), el('td', {}, v.name), el('td', {}, v.dtype ?? '?'), el('td', {}, shape(v.shape))));
  for (const v of s.outputs) io.append(el('tr', {}, el('td', {}, 'output'), el('td', {}, v.name), el('td', {}, v.dtype ?? '?'), el('td', {}, shape(v.shape))));
  const ops = el('table', { className: 'ops' });
  for (const [op, n] of Object.entries(s.opCounts)) ops.append(el('tr', {}, el('td', {}, op), el('td', {}, String(n))));
  const notes = el('ul', { className: 'notes' });
  for (const w of s.warnings) notes.append(el('li', {}, w));
  app.replaceChildren(
    el('h1', { id: 'model-title' }, s.file.split(/[\\/]/).pop() ?? s.file),
    el('p', { className: 'path' }, s.file),
    table,
    el('h2', {}, 'Inputs and outputs'),
    io,
    el('h2', {}, 'Operators'),
    ops,
    ...(s.warnings.length ? [el('h2', {}, 'Notes'), notes] : []),
  );
}

window.addEventListener('message', (ev: MessageEvent<HostToWebview>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'loading':
      app.replaceChildren(el('p', { className: 'status' }, `Loading ${msg.file}…`));
      break;
    case 'summary':
      renderSummary(msg.summary);
      break;
    case 'error': {
      const e = msg.error;
      const box = el('div', { className: 'error', id: 'load-error' }, el('h1', {}, 'This model could not be loaded'));
      if (e.name === 'ModelLoadError') {
        box.append(el('p', {}, el('strong', {}, `[${e.code}] `), e.detail), el('p', { className: 'path' }, e.file));
      } else {
        box.append(el('p', {}, e.message));
      }
      app.replaceChildren(box);
      break;
    }
    default:
      assertNever(msg);
  }
});

vscode.postMessage({ type: 'ready' });
