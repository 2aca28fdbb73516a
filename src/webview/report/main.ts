/**
 * The standalone HTML report (`circuitscope report`): the extension's own views — results panel, circuits
 * panel, operator graph with the results overlay — mounted in tabs on one page, each with a page-local bridge
 * that answers from the data embedded in `#circuitscope-report` instead of an extension host. Exports become
 * downloads; "show on model" and click-through switch to the graph tab. No network: everything is inline.
 *
 * Selectors for tests: `#report-tabs button[data-tab="results|circuits|graph|summary"]`, `#pane-<tab>`,
 * `#report-notes`, `body[data-report-state="ready"]` once the first pane has rendered.
 */
import type { CircuitsToHost, ExportRequest, HostToCircuits, HostToResults, HostToWebview, ResultsToHost, WebviewToHost } from '../../shared/protocol';
import type { ReportData, RunRecord } from '../../shared/results';
import { hasCircuitGraph } from '../../shared/runs';
import { formatBytes, formatShape, type ModelSummary } from '../../shared/summary';
import { localBridge } from '../bridge';
import { mountCircuits } from '../circuits/view';
import { mountGraph } from '../graphMount';
import { mountResults } from '../results/view';


type Tab = 'results' | 'circuits' | 'graph' | 'summary';

const data = JSON.parse(document.getElementById('circuitscope-report')!.textContent!) as ReportData;
const app = document.getElementById('app')!;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'className') e.className = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

// ------------------------------------------------------------------------------------------------- theme

const dark = window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
function setTheme(kind: 'light' | 'dark'): void {
  document.body.classList.toggle('vscode-dark', kind === 'dark');
  document.body.classList.toggle('vscode-light', kind === 'light');
  document.body.dataset.vscodeThemeKind = kind === 'dark' ? 'vscode-dark' : 'vscode-light';
}
setTheme(new URLSearchParams(location.search).get('theme') === 'light' ? 'light' : new URLSearchParams(location.search).get('theme') === 'dark' ? 'dark' : dark ? 'dark' : 'light');

// ------------------------------------------------------------------------------------------------- shell

const themeButton = el('button', { id: 'report-theme', title: 'Switch between a light and a dark page' }, 'Light / dark');
themeButton.addEventListener('click', () => setTheme(document.body.classList.contains('vscode-dark') ? 'light' : 'dark'));
const header = el(
  'header',
  { id: 'report-header' },
  el('h1', {}, data.title),
  el('span', { className: 'meta' }, `${data.model ?? ''}`),
  el('span', { className: 'meta' }, `generated ${new Date(data.generatedAt).toLocaleString()} by ${data.tool}`),
  el('span', { className: 'spacer' }),
  themeButton,
);
const tabs: { id: Tab; label: string; enabled: boolean }[] = [
  { id: 'results', label: `Results (${data.runs.length})`, enabled: true },
  { id: 'circuits', label: 'Circuits', enabled: data.runs.some(hasCircuitGraph) },
  { id: 'graph', label: 'Model graph', enabled: data.graph !== undefined },
  { id: 'summary', label: 'Model', enabled: data.summary !== undefined },
];
const tabBar = el('nav', { id: 'report-tabs', role: 'tablist' });
const panes = new Map<Tab, HTMLElement>();
const mounted = new Set<Tab>();
const notes = el('div', { id: 'report-notes', role: 'note' });
for (const n of data.notes) notes.append(el('div', {}, n));
app.append(header, tabBar, notes);
for (const t of tabs) {
  if (!t.enabled) continue;
  const b = el('button', { role: 'tab', 'data-tab': t.id, 'aria-selected': 'false', 'aria-controls': `pane-${t.id}` }, t.label);
  b.addEventListener('click', () => show(t.id));
  tabBar.append(b);
  const pane = el('section', { id: `pane-${t.id}`, className: 'report-pane', role: 'tabpanel' });
  pane.hidden = true;
  panes.set(t.id, pane);
  app.append(pane);
}

/** Shows a tab, mounting its view on first show (cytoscape needs a sized container). */
function show(tab: Tab): void {
  for (const [id, pane] of panes) pane.hidden = id !== tab;
  for (const b of tabBar.querySelectorAll('button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  if (!mounted.has(tab)) {
    mounted.add(tab);
    mount(tab, panes.get(tab)!);
  }
  document.body.dataset.reportTab = tab;
}

// ---------------------------------------------------------------------------------------------- exports

function download(req: ExportRequest): void {
  const type = { json: 'application/json', csv: 'text/csv', svg: 'image/svg+xml', png: 'image/png' }[req.format];
  const blob = new Blob([req.content as BlobPart], { type });
  const a = el('a', { href: URL.createObjectURL(blob), download: req.fileName });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

// ------------------------------------------------------------------------------------------------ views

let deliverToGraph: ((m: HostToWebview) => void) | undefined;
const pendingGraph: HostToWebview[] = [];

function toGraph(m: HostToWebview): void {
  if (deliverToGraph) deliverToGraph(m);
  else pendingGraph.push(m);
  show('graph');
}

const sameModel = (r: RunRecord): boolean => data.model === undefined || r.envelope.model === data.model;

function mount(tab: Tab, root: HTMLElement): void {
  switch (tab) {
    case 'results':
      mountResults(
        root,
        localBridge<ResultsToHost, HostToResults>((msg, deliver) => {
          switch (msg.type) {
            case 'ready':
              deliver({ type: 'runs', runs: data.runs, focus: data.runs.at(-1)?.id });
              document.body.dataset.reportState = 'ready';
              break;
            case 'export':
              download(msg);
              deliver({ type: 'exported', file: msg.fileName });
              break;
            case 'showOnModel':
              if (data.graph) toGraph({ type: 'overlay', runs: data.runs.filter(sameModel), active: { runId: msg.runId, metric: msg.metric } });
              break;
            case 'showCircuit':
              circuitsShow = msg.runId;
              show('circuits');
              deliverToCircuits?.({ type: 'runs', runs: data.runs.filter(hasCircuitGraph), show: msg.runId });
              break;
            case 'reveal':
              if (data.graph) toGraph({ type: 'reveal', target: msg.target });
              break;
          }
        }),
      );
      break;
    case 'circuits':
      mountCircuits(
        root,
        localBridge<CircuitsToHost, HostToCircuits>((msg, deliver) => {
          switch (msg.type) {
            case 'ready': {
              deliverToCircuits = deliver;
              const runs = data.runs.filter(hasCircuitGraph);
              deliver(runs.length ? { type: 'runs', runs, show: circuitsShow ?? runs.at(-1)!.id } : { type: 'clear' });
              break;
            }
            case 'export':
              download(msg);
              break;
            case 'reveal':
              if (data.graph) toGraph({ type: 'reveal', target: msg.target });
              break;
          }
        }),
      );
      break;
    case 'graph':
      mountGraph(
        root,
        localBridge<WebviewToHost, HostToWebview>((msg, deliver) => {
          switch (msg.type) {
            case 'ready': {
              deliverToGraph = deliver;
              deliver({ type: 'graph', graph: data.graph! });
              const runs = data.runs.filter(sameModel);
              // The report opens the graph coloured by its most structural result.
              const first = ['circuit', 'lib', 'attention', 'collapse', 'redundancy', 'hash'].map((a) => runs.find((r) => r.envelope.analysis === a)).find(Boolean);
              if (first && !pendingGraph.some((m) => m.type === 'overlay')) deliver({ type: 'overlay', runs, active: { runId: first.id } });
              for (const m of pendingGraph.splice(0)) deliver(m);
              break;
            }
            case 'readTensor':
              deliver({ type: 'tensor', id: msg.id, ok: false, error: { name: 'NotInReport', message: 'weights are not embedded in the report; open the model in VS Code to inspect them' } });
              break;
            case 'saveExport':
              // No host: the graph's export is a download (graph/export.ts expects no reply here).
              download({ type: 'export', format: msg.format, fileName: msg.fileName, content: msg.content });
              break;
            case 'confirmLoad':
            case 'openSource':
            case 'rendered':
            case 'copyText':
              break;
          }
        }),
      );
      break;
    case 'summary':
      root.append(summaryTable(data.summary!));
      break;
  }
}

let deliverToCircuits: ((m: HostToCircuits) => void) | undefined;
let circuitsShow: string | undefined;

function summaryTable(s: ModelSummary): HTMLElement {
  const rows: [string, string][] = [
    ['file', s.file],
    ['format', `${s.format}${s.formatVersion ? ` ${s.formatVersion}` : ''}`],
    ['producer', s.producer ?? '—'],
    ['opsets', s.opsets.join(', ') || '—'],
    ['operators', `${s.nodes} (${Object.entries(s.opCounts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')})`],
    ['parameters', `${s.params.toLocaleString()} (${formatBytes(s.paramBytes)})`],
    ['inputs', s.inputs.map((i) => `${i.name} ${i.dtype ?? '?'} ${formatShape(i.shape)}`).join('; ')],
    ['outputs', s.outputs.map((i) => `${i.name} ${i.dtype ?? '?'} ${formatShape(i.shape)}`).join('; ')],
  ];
  const t = el('table', { 'data-table': 'model-summary' });
  for (const [k, v] of rows) t.append(el('tr', {}, el('th', {}, k), el('td', {}, v)));
  return t;
}

show('results');
