/**
 * The results panel: every run the host sends (a run switcher, newest first), the shown run's header,
 * warnings, tables and charts (model.ts / sections.ts decide what; tableDom.ts and chartDom.ts draw), an
 * analysis in progress, a failed or cancelled run, and exports (JSON, CSV, SVG, PNG) posted to the host.
 * The same code runs in the HTML report with a local bridge (`bridge.standalone`): there "Show on model"
 * is hidden (no host, no model), everything else stays and exports still go through `bridge.post`.
 *
 * Stable selectors (the e2e tests use these):
 * - `#results`: the root this view creates inside the element it is mounted on;
 * - `#results-run-select`: the run switcher (a `vscode-single-select`, options valued by run id);
 * - `section.run[data-run-id="<id>"][data-analysis="<analysis>"]`: the shown run;
 * - `figure.chart[data-chart="<slug>"]` containing the chart's `<svg>`; `table[data-table="<slug>"]`, cells
 *   carrying the envelope's value in `data-value` (full precision) or `data-null="true"`;
 * - buttons `[data-action="export-json|export-csv|export-svg|export-png|show-on-model|show-circuit"]`
 *   (export-csv on each table, export-svg/png on each chart, the others once per run);
 * - `#results-progress`, `#results-error` (with `data-cancelled="true|false"`), `#results-note` (the
 *   transient "Saved to …");
 * - `document.body.dataset.state`: 'ready' | 'progress' | 'error' | 'empty'.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { Bridge } from '../bridge';
import { h } from '../inspector';
import { assertNever, type ExportRequest, type HostToResults, type ResultsToHost } from '../../shared/protocol';
import type { RunRecord } from '../../shared/results';
import type { ChartTheme } from './chartTheme';
import { ChartFigure, type FigureState } from './chartDom';
import { tableCsv } from './csv';
import { exportFileName } from './format';
import { runLabel, runView, type RunView, type TableSpec } from './model';
import { TableBlock } from './tableDom';
import { readChartTheme } from './themeDom';

interface PanelState {
  runId?: string;
  /** Per `${runId}/${chart slug}`: legend, axes, metric. */
  charts?: Record<string, FigureState>;
}

type Progress = Extract<HostToResults, { type: 'progress' }>;
type RunError = Extract<HostToResults, { type: 'runError' }>;

function button(label: string, title: string, action: string, onClick: () => void, primary = false): HTMLElement {
  const b = h('vscode-button' as 'button', { secondary: !primary, title, 'aria-label': title, 'data-action': action });
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

export function mountResults(root: HTMLElement, bridge: Bridge<ResultsToHost, HostToResults>): void {
  const state: PanelState = bridge.getState<PanelState>() ?? {};
  state.charts ??= {};
  let runs: RunRecord[] = [];
  let shown: RunView | undefined;
  let shownRun: RunRecord | undefined;
  let progress: Progress | undefined;
  let failure: RunError | undefined;
  let figures: ChartFigure[] = [];
  let theme: ChartTheme = readChartTheme();
  let noteTimer: ReturnType<typeof setTimeout> | undefined;

  const switcher = h('div', { id: 'results-switcher' });
  const toolbar = h('header', { id: 'results-toolbar' }, switcher);
  const progressBox = h('div', { id: 'results-progress', role: 'status', hidden: true });
  const errorBox = h('div', { id: 'results-error', role: 'alert', hidden: true });
  const note = h('div', { id: 'results-note', role: 'status', 'aria-live': 'polite', hidden: true });
  const runBox = h('div', { id: 'results-run' });
  const container = h('div', { id: 'results', className: bridge.standalone ? 'standalone' : undefined }, toolbar, progressBox, errorBox, note, runBox);
  root.append(container);

  const save = (): void => bridge.setState<PanelState>(state);

  function updateBodyState(): void {
    document.body.dataset.state = progress ? 'progress' : failure ? 'error' : shown ? 'ready' : 'empty';
  }

  function showNote(text: string, kind: 'info' | 'error' = 'info'): void {
    note.textContent = text;
    note.className = kind;
    note.hidden = false;
    if (noteTimer) clearTimeout(noteTimer);
    noteTimer = setTimeout(() => (note.hidden = true), kind === 'error' ? 10_000 : 5_000);
  }

  function post(msg: ResultsToHost): void {
    bridge.post(msg);
  }

  function exportFile(format: ExportRequest['format'], what: string, content: string | Uint8Array): void {
    if (!shownRun) return;
    const e = shownRun.envelope;
    post({ type: 'export', format, fileName: exportFileName(e.analysis, e.model, what, format), content, runId: shownRun.id });
  }

  // ---------------------------------------------------------------------------------------- switcher

  function renderSwitcher(): void {
    switcher.replaceChildren();
    if (!runs.length) return;
    const select = document.createElement('vscode-single-select');
    select.id = 'results-run-select';
    select.setAttribute('aria-label', 'Run');
    select.setAttribute('title', 'Which run to show');
    // Newest first in the list (the host sends them newest last).
    for (const r of [...runs].reverse()) {
      const o = document.createElement('vscode-option');
      o.setAttribute('value', r.id);
      o.setAttribute('description', r.envelope.model);
      o.dataset.runId = r.id;
      if (r.id === shownRun?.id) o.setAttribute('selected', '');
      o.textContent = runLabel(r);
      select.append(o);
    }
    select.addEventListener('change', () => {
      const id = select.value;
      if (id && id !== shownRun?.id) show(id);
    });
    switcher.append(h('label', { className: 'muted', for: 'results-run-select' }, runs.length === 1 ? 'Run' : `Run (${runs.length})`), select);
  }

  // ---------------------------------------------------------------------------------------- one run

  function currentMetric(): string | undefined {
    if (!shown?.metricChart) return undefined;
    return figures.find((f) => f.spec.slug === shown?.metricChart)?.currentMetric();
  }

  function renderRun(run: RunRecord): void {
    const v = runView(run);
    shown = v;
    shownRun = run;
    figures = [];

    const fields = h('dl', { className: 'run-fields' });
    for (const f of v.fields) fields.append(h('dt', {}, f.label), h('dd', { className: `field-${f.key}`, title: f.title ?? f.value }, f.value));

    const actions = h('div', { className: 'run-actions' });
    actions.append(button('Export JSON', 'Export the whole result envelope as JSON', 'export-json', () => exportFile('json', 'results', JSON.stringify(run.envelope, null, 2))));
    if (!bridge.standalone) {
      actions.append(
        button('Show on model', 'Colour the model’s operator graph by this run’s metric', 'show-on-model', () => post({ type: 'showOnModel', runId: run.id, metric: currentMetric() }), true),
      );
    }
    if (v.showCircuit) actions.append(button('Open in side panel', 'Draw this run’s graph in the Circuits side panel', 'show-circuit', () => post({ type: 'showCircuit', runId: run.id })));

    const header = h('header', { className: 'run-header' }, h('h2', {}, v.title), fields, actions);
    const section = h('section', { className: 'run', 'data-run-id': run.id, 'data-analysis': v.analysis, 'aria-label': v.title }, header);
    if (v.warnings.length) {
      const ul = h('ul', {});
      for (const w of v.warnings) ul.append(h('li', {}, w));
      section.append(h('div', { className: 'warnings', role: 'note' }, h('h3', {}, `Warnings (${v.warnings.length})`), ul));
    }

    for (const s of v.sections) {
      const title = h('h3', {}, s.title, s.badge ? h('span', { className: 'badge', title: s.note }, s.badge) : null);
      const box = h('section', { className: 'results-section', 'data-section': s.title }, title, s.note ? h('p', { className: 'section-note' }, s.note) : null);
      let grid: HTMLElement | undefined;
      for (const item of s.items) {
        if (item.kind === 'table') {
          grid = undefined;
          box.append(new TableBlock(item, { exportCsv: (t: TableSpec) => exportFile('csv', t.slug, tableCsv(t)) }).element);
          continue;
        }
        const key = `${run.id}/${item.slug}`;
        const fig = new ChartFigure(item, {
          theme: () => theme,
          exportSvg: (what, svg) => exportFile('svg', what, svg),
          exportPng: (what, png) => exportFile('png', what, png),
          loadState: () => state.charts?.[key],
          saveState: (st) => {
            state.charts![key] = st;
            save();
          },
          reportError: (m) => showNote(m, 'error'),
        });
        figures.push(fig);
        if (!grid) {
          grid = h('div', { className: 'charts' });
          box.append(grid);
        }
        grid.append(fig.element);
      }
      section.append(box);
    }
    runBox.replaceChildren(section);
    // Charts size themselves to their box: draw once they are in the document.
    for (const f of figures) f.render();
  }

  function renderEmpty(): void {
    shown = undefined;
    shownRun = undefined;
    figures = [];
    runBox.replaceChildren(
      progress || failure
        ? ''
        : h(
            'div',
            { className: 'empty' },
            h('p', {}, 'No analysis results yet.'),
            bridge.standalone ? null : h('p', { className: 'muted' }, 'Run one with “Circuitscope: Run Analysis…”, or open a saved run with “Circuitscope: Open Analysis Results…”.'),
          ),
    );
  }

  function show(id: string): void {
    const run = runs.find((r) => r.id === id);
    if (!run) return;
    state.runId = id;
    save();
    renderRun(run);
    updateBodyState();
  }

  // ---------------------------------------------------------------------------------------- progress / errors

  function renderProgress(): void {
    progressBox.replaceChildren();
    progressBox.hidden = !progress;
    if (!progress) return;
    const bar = document.createElement('vscode-progress-bar');
    bar.setAttribute('aria-label', `${progress.analysis} progress`);
    if (progress.fraction !== undefined && Number.isFinite(progress.fraction)) {
      bar.max = 100;
      bar.value = Math.max(0, Math.min(100, progress.fraction * 100));
    } else bar.indeterminate = true;
    const pct = progress.fraction !== undefined && Number.isFinite(progress.fraction) ? ` · ${Math.round(progress.fraction * 100)}%` : '';
    progressBox.append(
      h('div', { className: 'progress-title' }, h('strong', {}, `Running ${progress.analysis}`), ' on ', h('code', {}, progress.model), pct),
      h('div', { className: 'progress-message muted' }, progress.message),
      bar,
    );
  }

  function renderError(): void {
    errorBox.replaceChildren();
    errorBox.hidden = !failure;
    if (!failure) return;
    const f = failure;
    errorBox.dataset.cancelled = String(f.cancelled);
    errorBox.className = f.cancelled ? 'cancelled' : 'failed';
    const dismiss = button('Dismiss', 'Hide this message', 'dismiss-error', () => {
      failure = undefined;
      renderError();
      if (!shown) renderEmpty();
      updateBodyState();
    });
    errorBox.append(
      h('div', { className: 'error-title' }, h('strong', {}, f.cancelled ? 'Cancelled' : 'Analysis failed'), ` — ${f.analysis} on `, h('code', {}, f.model)),
      f.message ? h('pre', { className: 'error-message' }, f.message) : '',
      dismiss,
    );
  }

  // ---------------------------------------------------------------------------------------- messages

  bridge.onMessage((msg) => {
    switch (msg.type) {
      case 'runs': {
        runs = msg.runs;
        // A newly arrived run ends the progress display (the host also sends runError on failure).
        progress = undefined;
        renderProgress();
        const has = (id: string | undefined): id is string => id !== undefined && runs.some((r) => r.id === id);
        const pick = [msg.focus, shownRun?.id, state.runId].find(has) ?? runs[runs.length - 1]?.id;
        if (pick) {
          const next = runs.find((r) => r.id === pick)!;
          // The same run still shown (another run was added): keep its charts, scroll and toggles.
          const same = shown !== undefined && shownRun?.id === pick && shownRun.finishedAt === next.finishedAt && shownRun.savedTo === next.savedTo;
          shownRun = next;
          renderSwitcher();
          if (!same) show(pick);
        } else {
          renderSwitcher();
          renderEmpty();
        }
        break;
      }
      case 'progress':
        progress = msg;
        failure = undefined;
        renderProgress();
        renderError();
        if (!shown) renderEmpty();
        break;
      case 'runError':
        progress = undefined;
        failure = msg;
        renderProgress();
        renderError();
        if (!shown) renderEmpty();
        break;
      case 'exported':
        showNote(`Saved to ${msg.file}`);
        break;
      default:
        assertNever(msg);
    }
    updateBodyState();
  });

  // Theme changes: VS Code swaps the body classes; re-read the colours and redraw every chart.
  new MutationObserver(() => {
    const next = readChartTheme();
    if (JSON.stringify(next) === JSON.stringify(theme)) return;
    theme = next;
    for (const f of figures) f.render();
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });

  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  window.addEventListener('resize', () => {
    if (resizeTimer) clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const f of figures) f.resize();
    }, 150);
  });

  renderEmpty();
  updateBodyState();
  post({ type: 'ready' });
}
