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
 */
import { preventStyleInjection } from '../graphView';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-button-group/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import cytoscape from 'cytoscape';
import type { Core, EdgeSingular, ElementDefinition, EventObject, NodeSingular, SingularElementArgument } from 'cytoscape';
import { assertNever, type CircuitsToHost, type ExportRequest, type HostToCircuits } from '../../shared/protocol';
import type { RunRecord } from '../../shared/results';
import type { Bridge } from '../bridge';
import { readPalette } from '../theme';
import { foldSelection, isFoldable, unfold } from './fold';
import { pct } from './format';
import { foldedBySize, groupsSliderRange } from './groups';
import { libTopnMax } from './lib';
import { drawable, modelBase, type Controls, type DrawableRun, type VGraph, type VNode } from './model';
import { revealTarget } from './reveal';
import { buildScene, defaultsFor } from './scene';
import { circuitsColors, circuitsStylesheet, type CircuitsColors } from './style';
import { sceneToSvg, type SvgEdge, type SvgNode } from './svg';

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

interface SavedState {
  v: 1;
  /** The run drawn (the user's pick or the host's). */
  shown?: string;
  /** The host's last `show`: a `runs` message with the same `show` keeps the user's pick. */
  hostShow?: string;
  runs: Record<string, Controls>;
}

type Attrs = Record<string, string | boolean | undefined>;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
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
function custom(tag: string, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElement {
  return el(tag as 'div', attrs, ...children);
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

function hasModifier(ev: EventObject): boolean {
  const o = ev.originalEvent as MouseEvent | undefined;
  return !!o && (o.shiftKey || o.ctrlKey || o.metaKey);
}

export function mountCircuits(root: HTMLElement, bridge: Bridge<CircuitsToHost, HostToCircuits>): void {
  const saved = bridge.getState<SavedState>();
  const state: SavedState = saved && saved.v === 1 && typeof saved.runs === 'object' ? saved : { v: 1, runs: {} };
  let runs: DrawableRun[] = [];
  let current: DrawableRun | undefined;
  let cy: Core | undefined;
  let colors: CircuitsColors = themeColors();
  let graph: VGraph | undefined;
  let base: VGraph | undefined;
  let orientation: string | undefined;
  let hovered: SingularElementArgument | undefined;
  let note: string | undefined;
  let frame = 0;
  let drawnSize = { w: 0, h: 0 };
  /** The view is as Fit left it (no zoom or pan since): a resize fits again. */
  let fitted = false;

  // ------------------------------------------------------------------------------------------ shell

  const runSelect = custom('vscode-single-select', { id: 'circuits-run', 'aria-label': 'Run to draw', title: 'The run whose graph is drawn' });
  const modeSelect = custom('vscode-single-select', { id: 'circuits-mode', 'aria-label': 'What the slider sets' });
  const slider = el('input', { id: 'circuits-threshold', type: 'range', 'aria-label': 'Threshold' });
  const sliderValue = el('output', { id: 'circuits-threshold-value', for: 'circuits-threshold' });
  const constantBox = custom('vscode-checkbox', { id: 'circuits-constant', label: 'const', title: "Also draw the constant (bias) directions' strongest edges, dashed — outside every edge-mass statistic" });
  const summary = el('div', { id: 'circuits-summary' });
  const details = el('div', { id: 'circuits-details', role: 'status' });
  const graphBox = el('div', { id: 'circuits-graph', tabindex: '0', role: 'application', 'aria-label': 'Circuit graph' });
  const empty = el('div', { id: 'circuits-empty', hidden: true });

  const button = (label: string, action: string, title: string, onClick: () => void, id?: string): HTMLElement => {
    const b = custom('vscode-button', { secondary: true, 'data-action': action, title, 'aria-label': title, id });
    b.textContent = label;
    b.addEventListener('click', onClick);
    return b;
  };
  const fitButton = button('Fit', 'fit', 'Fit the graph to the panel (F)', () => fit(), 'circuits-fit');
  const pinButton = button('Pin', 'pin', 'Pin the selected nodes where they are (P); with pinned nodes selected: unpin them', () => togglePin());
  const foldButton = button('Fold', 'fold', 'Fold the selected nodes of one layer into a supernode (Shift-click or Shift-drag to select several)', () => foldSelected());
  const unfoldButton = button('Unfold', 'unfold', 'Unfold the selected supernodes (none selected: all)', () => unfoldSelected());
  const exportGroup = custom(
    'vscode-button-group',
    { className: 'export', title: 'Export' },
    button('PNG', 'export-png', 'Export the graph as PNG', () => void exportAs('png')),
    button('SVG', 'export-svg', 'Export the graph as SVG', () => void exportAs('svg')),
    button('JSON', 'export-json', 'Export the visible graph as JSON', () => void exportAs('json')),
  );

  const thresholdRow = el('div', { className: 'row threshold' }, modeSelect, slider, sliderValue, constantBox);
  const actions = el('div', { className: 'row actions' }, fitButton, pinButton, foldButton, unfoldButton, el('span', { className: 'sep' }), exportGroup);
  const bar = el('header', { id: 'circuits-bar' }, el('div', { className: 'row run' }, runSelect), summary, thresholdRow, actions);
  const panel = el('section', { id: 'circuits', 'aria-label': 'Circuits' }, bar, graphBox, details, empty);
  root.replaceChildren(panel);

  (window as unknown as { __circuitscopeCircuits: unknown }).__circuitscopeCircuits = {
    get cy() {
      return cy;
    },
    get visible(): Visible {
      const c = current ? controlsOf(current) : undefined;
      const nodes = graph?.nodes ?? [];
      return {
        runId: current?.run.id ?? null,
        kind: current?.kind ?? null,
        nodes: nodes.filter((n) => n.kind !== 'group').length,
        edges: graph?.edges.length ?? 0,
        supernodes: nodes.filter((n) => n.kind === 'fold' || n.kind === 'overflow' || n.kind === 'foldedGroup').length,
        groups: nodes.filter((n) => n.kind === 'group').length,
        pinned: c ? Object.keys(c.pinned).filter((id) => cy?.getElementById(id).nonempty()).length : 0,
        mode: c?.mode ?? null,
        value: c?.value ?? null,
      };
    },
  };

  const setBodyState = (s: 'loading' | 'empty' | 'ready'): void => {
    document.body.dataset.state = s;
  };

  // ------------------------------------------------------------------------------------------ state

  function controlsOf(d: DrawableRun): Controls {
    let c = state.runs[d.run.id];
    if (!c) {
      c = defaultsFor(d);
      state.runs[d.run.id] = c;
    }
    return c;
  }

  function persist(): void {
    bridge.setState(state);
  }

  // ------------------------------------------------------------------------------------------ empty

  function showEmpty(): void {
    current = undefined;
    graph = base = undefined;
    cy?.destroy();
    cy = undefined;
    bar.hidden = true;
    graphBox.hidden = true;
    details.hidden = true;
    graphBox.removeAttribute('data-run-id');
    graphBox.removeAttribute('data-graph-kind');
    empty.replaceChildren(
      el('h2', {}, 'No graph to show'),
      bridge.standalone
        ? el('p', {}, 'This report has no LIB, attention-circuit or grouped redundancy run.')
        : el(
            'p',
            {},
            'Run ',
            el('strong', {}, 'Circuitscope: Run Analysis…'),
            ' → ',
            el('strong', {}, 'lib'),
            ' (an interaction graph) or ',
            el('strong', {}, 'circuit'),
            ' (an attention circuit). Redundancy with neuron groups draws here too. The newest such run appears in this panel.',
          ),
    );
    empty.hidden = false;
    setBodyState('empty');
  }

  // ------------------------------------------------------------------------------------------ runs

  function runLabel(d: DrawableRun): string {
    const e = d.run.envelope;
    const t = new Date(d.run.finishedAt);
    const time = Number.isNaN(t.getTime()) ? d.run.finishedAt : t.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    const what = d.kind === 'lib' ? 'LIB graph' : d.kind === 'circuit' ? 'circuit' : 'neuron groups';
    return `${what} · ${modelBase(e.model)} · ${time}`;
  }

  function fillRunSelect(): void {
    runSelect.replaceChildren(
      ...runs.map((d) => {
        const o = custom('vscode-option', { value: d.run.id, description: d.run.id, selected: d === current });
        o.textContent = runLabel(d);
        return o;
      }),
    );
    if (current) (runSelect as unknown as { value: string }).value = current.run.id;
  }

  function onRuns(list: RunRecord[], show: string | undefined): void {
    runs = list.map(drawable).filter((d): d is DrawableRun => !!d);
    if (!runs.length) {
      state.hostShow = show;
      persist();
      showEmpty();
      return;
    }
    const ids = new Set(runs.map((d) => d.run.id));
    for (const id of Object.keys(state.runs)) if (!ids.has(id)) delete state.runs[id];
    const hostChanged = show !== undefined && show !== state.hostShow;
    state.hostShow = show;
    let target: string;
    if (hostChanged && ids.has(show)) target = show;
    else if (current && ids.has(current.run.id)) target = current.run.id;
    else if (state.shown && ids.has(state.shown)) target = state.shown;
    else if (show && ids.has(show)) target = show;
    else target = runs.at(-1)!.run.id;
    const changed = target !== current?.run.id;
    current = runs.find((d) => d.run.id === target)!;
    state.shown = target;
    persist();
    fillRunSelect();
    draw(changed);
  }

  runSelect.addEventListener('change', () => {
    const id = (runSelect as unknown as { value: string }).value;
    const d = runs.find((r) => r.run.id === id);
    if (!d || d === current) return;
    current = d;
    state.shown = id;
    persist();
    draw(true);
  });

  // ------------------------------------------------------------------------------------------ controls

  function configureControls(d: DrawableRun, c: Controls): void {
    const modes: [string, string][] =
      d.kind === 'lib'
        ? [
            ['mass', 'mass %'],
            ['topn', 'top-n'],
          ]
        : d.kind === 'circuit'
          ? [
              ['circuit', 'circuit'],
              ['topn', 'top-n'],
            ]
          : [];
    modeSelect.hidden = !modes.length;
    const have = [...modeSelect.children].map((o) => o.getAttribute('value')).join();
    if (have !== modes.map((m) => m[0]).join()) {
      modeSelect.replaceChildren(
        ...modes.map(([v, label]) => {
          const o = custom('vscode-option', { value: v, selected: v === c.mode });
          o.textContent = label;
          return o;
        }),
      );
    }
    if (modes.length) (modeSelect as unknown as { value: string }).value = c.mode;
    let min: number;
    let max: number;
    let step: number;
    if (d.kind === 'lib') {
      if (c.mode === 'topn') [min, max, step] = [1, libTopnMax(d.result), 1];
      else [min, max, step] = [0.05, 1, 0.01];
    } else if (d.kind === 'circuit') [min, max, step] = [1, Math.max(1, d.result.listedEdges), 1];
    else {
      const r = groupsSliderRange(d.result);
      [min, max, step] = [r.min, r.max, 1];
    }
    slider.min = String(min);
    slider.max = String(max);
    slider.step = String(step);
    slider.value = String(Math.min(max, Math.max(min, c.value)));
    slider.setAttribute(
      'aria-label',
      d.kind === 'lib' ? (c.mode === 'topn' ? 'Strongest edges per layer pair' : 'Share of edge mass per layer pair') : d.kind === 'circuit' ? 'Strongest edges by |score|' : 'Fold groups of at least this many units',
    );
    sliderValue.textContent = sliderText(d, c);
    constantBox.hidden = d.kind !== 'lib';
    (constantBox as unknown as { checked: boolean }).checked = c.constantEdges;
  }

  function sliderText(d: DrawableRun, c: Controls): string {
    if (d.kind === 'lib') return c.mode === 'topn' ? `top ${Math.floor(c.value)}` : pct(c.value);
    if (d.kind === 'circuit') return c.mode === 'topn' ? `top ${Math.floor(c.value)}` : `circuit (${d.result.circuit.edgeCount})`;
    return c.value >= groupsSliderRange(d.result).max ? 'none folded' : `≥ ${c.value} units`;
  }

  slider.addEventListener('input', () => {
    if (!current) return;
    const c = controlsOf(current);
    const v = Number(slider.value);
    c.value = v;
    if (current.kind === 'circuit' && c.mode === 'circuit') c.mode = 'topn';
    if (current.kind === 'groups') c.folded = foldedBySize(current.result, v);
    schedule();
  });

  modeSelect.addEventListener('change', () => {
    if (!current) return;
    const c = controlsOf(current);
    const m = (modeSelect as unknown as { value: string }).value as Controls['mode'];
    if (m === c.mode) return;
    c.mode = m;
    if (current.kind === 'lib') {
      // Switching keeps about the same number of edges: the engine's default share, or its per-pair cap.
      c.value = m === 'topn' ? Math.min(libTopnMax(current.result), current.result.graph.threshold.maxEdgesPerPair) : current.result.graph.threshold.massFraction;
    }
    schedule();
  });

  constantBox.addEventListener('change', () => {
    if (!current || current.kind !== 'lib') return;
    controlsOf(current).constantEdges = (constantBox as unknown as { checked: boolean }).checked;
    schedule();
  });

  function schedule(): void {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      persist();
      draw(false);
    });
  }

  // ------------------------------------------------------------------------------------------ draw

  function size(): { w: number; h: number } {
    return { w: graphBox.clientWidth || 360, h: graphBox.clientHeight || 600 };
  }

  function ensureCy(): Core {
    if (cy) return cy;
    preventStyleInjection();
    const c = cytoscape({
      container: graphBox,
      style: circuitsStylesheet(colors),
      layout: { name: 'preset', fit: false },
      minZoom: 0.05,
      maxZoom: 4,
      boxSelectionEnabled: true,
      selectionType: 'single',
    } as cytoscape.CytoscapeOptions);
    wire(c);
    cy = c;
    return c;
  }

  /** Replaces what is drawn with `els`, keeping elements whose id (and parent, ends) stay. */
  function sync(c: Core, els: ElementDefinition[]): void {
    const want = new Map(els.map((e) => [e.data.id as string, e]));
    c.batch(() => {
      const gone = c.collection();
      c.elements().forEach((ele) => {
        const w = want.get(ele.id());
        if (!w) gone.merge(ele);
        else if (ele.isNode() && ((ele.data('parent') as string | undefined) ?? null) !== ((w.data.parent as string | undefined) ?? null)) gone.merge(ele);
        else if (ele.isEdge() && (ele.data('source') !== w.data.source || ele.data('target') !== w.data.target)) gone.merge(ele);
      });
      c.remove(gone);
      const add: ElementDefinition[] = [];
      for (const e of els) {
        const have = c.getElementById(e.data.id as string);
        if (have.empty()) {
          add.push(e);
          continue;
        }
        have.data(e.data);
        have.classes(e.classes ?? '');
        if (e.position && have.isNode() && !have.isParent()) have.position(e.position);
      }
      if (add.length) c.add(add);
    });
  }

  function draw(fitAfter: boolean): void {
    const d = current;
    if (!d) return;
    const c = controlsOf(d);
    empty.hidden = true;
    bar.hidden = false;
    graphBox.hidden = false;
    details.hidden = false;
    configureControls(d, c);
    const { w, h } = size();
    drawnSize = { w, h };
    const scene = buildScene(d, c, colors, w, h);
    graph = scene.graph;
    base = scene.base;
    const changedOrientation = scene.orientation !== orientation;
    orientation = scene.orientation;
    const cyc = ensureCy();
    sync(cyc, scene.elements);
    graphBox.dataset.runId = d.run.id;
    graphBox.dataset.graphKind = d.kind;
    panel.dataset.graphKind = d.kind;
    summary.replaceChildren(...scene.graph.summary.map((line, i) => el('div', { className: i === scene.graph.summary.length - 1 && i > 1 ? 'line muted' : 'line', title: line }, line)));
    sliderValue.textContent = sliderText(d, c);
    sliderValue.title = scene.graph.status;
    hovered = undefined;
    updateButtons();
    showDetails();
    if (fitAfter || changedOrientation) fit();
    setBodyState('ready');
  }

  function fit(): void {
    if (!cy) return;
    cy.resize();
    cy.fit(undefined, 16);
    fitted = true;
  }

  // ------------------------------------------------------------------------------------------ selection, pins, folds

  const vnode = (id: string): VNode | undefined => graph?.nodes.find((n) => n.id === id);

  function selectedIds(): string[] {
    return cy ? cy.$('node:selected').map((n) => n.id()) : [];
  }

  function updateButtons(): void {
    const d = current;
    const c = d ? controlsOf(d) : undefined;
    const sel = selectedIds().map(vnode).filter((n): n is VNode => !!n);
    const pinnable = sel.filter((n) => n.kind !== 'group');
    const allPinned = c && pinnable.length > 0 && pinnable.every((n) => c.pinned[n.id]);
    const anyPinned = c && Object.keys(c.pinned).length > 0;
    pinButton.textContent = allPinned || (!pinnable.length && anyPinned) ? 'Unpin' : 'Pin';
    const setDisabled = (b: HTMLElement, off: boolean): void => {
      if (off) b.setAttribute('disabled', '');
      else b.removeAttribute('disabled');
    };
    setDisabled(pinButton, !pinnable.length && !anyPinned);
    if (d?.kind === 'groups') {
      setDisabled(foldButton, !d.result.groups.sizes.some((s, g) => s > 1 && !c!.folded.includes(g)));
      setDisabled(unfoldButton, !c!.folded.length);
    } else {
      const perColumn = new Map<number, number>();
      for (const n of sel) if (isFoldable(n) || n.kind === 'fold') perColumn.set(n.column, (perColumn.get(n.column) ?? 0) + 1);
      setDisabled(foldButton, ![...perColumn.values()].some((k) => k >= 2));
      setDisabled(unfoldButton, !(c && (c.folds.length || sel.some((n) => n.kind === 'overflow'))));
    }
  }

  function togglePin(): void {
    const d = current;
    if (!d || !cy) return;
    const c = controlsOf(d);
    const sel = selectedIds().filter((id) => vnode(id)?.kind !== 'group');
    if (!sel.length) {
      if (!Object.keys(c.pinned).length) {
        say('Select nodes to pin them, or drag a node: it stays where you drop it.');
        return;
      }
      c.pinned = {};
    } else if (sel.every((id) => c.pinned[id])) {
      for (const id of sel) delete c.pinned[id];
    } else {
      for (const id of sel) {
        const n = cy.getElementById(id);
        if (n.nonempty()) c.pinned[id] = { ...n.position() };
      }
    }
    persist();
    draw(false);
  }

  function foldSelected(): void {
    const d = current;
    if (!d || !base) return;
    const c = controlsOf(d);
    const sel = selectedIds();
    if (d.kind === 'groups') {
      const groupsOf = new Set<number>();
      for (const id of sel) {
        const n = vnode(id);
        if (n?.group !== undefined && n.group >= 0 && d.result.groups.sizes[n.group] > 1) groupsOf.add(n.group);
      }
      const add = groupsOf.size ? [...groupsOf] : d.result.groups.sizes.flatMap((s, g) => (s > 1 ? [g] : []));
      c.folded = [...new Set([...c.folded, ...add])].sort((a, b) => a - b);
      // Everything folded is what the slider's left end means.
      if (!groupsOf.size) c.value = groupsSliderRange(d.result).min;
    } else {
      const r = foldSelection(base, c.folds, sel);
      if (!r.made) {
        say('Select two or more nodes of one layer (Shift-click, or Shift-drag a box), then Fold.');
        return;
      }
      c.folds = r.folds;
    }
    persist();
    draw(false);
  }

  function unfoldSelected(): void {
    const d = current;
    if (!d) return;
    const c = controlsOf(d);
    const sel = selectedIds().map(vnode).filter((n): n is VNode => !!n);
    if (d.kind === 'groups') {
      const named = sel.filter((n) => n.kind === 'foldedGroup').map((n) => n.group!);
      c.folded = named.length ? c.folded.filter((g) => !named.includes(g)) : [];
      if (!named.length) c.value = groupsSliderRange(d.result).max;
    } else {
      const layers = sel.filter((n) => n.kind === 'overflow').map((n) => n.layer!);
      if (layers.length) c.expanded = [...new Set([...c.expanded, ...layers])];
      const folds = sel.filter((n) => n.kind === 'fold').map((n) => n.id);
      if (folds.length || !layers.length) c.folds = unfold(c.folds, folds);
    }
    persist();
    draw(false);
  }

  function expandLayer(layer: number, on: boolean): void {
    const d = current;
    if (!d) return;
    const c = controlsOf(d);
    c.expanded = on ? [...new Set([...c.expanded, layer])] : c.expanded.filter((l) => l !== layer);
    persist();
    draw(false);
  }

  // ------------------------------------------------------------------------------------------ hover, details

  function say(text: string): void {
    note = text;
    showDetails();
  }

  function hint(d: DrawableRun): string {
    if (d.kind === 'groups') return 'Click a unit: show its layer in the model · Shift-click: select groups to fold · Drag: pin';
    return 'Click: show in the model · Shift-click/-drag: select, then Fold · Drag: pin';
  }

  function showDetails(): void {
    const d = current;
    if (!d) return;
    let lines: string[] | undefined;
    const h = hovered;
    if (h && h.nonempty() && h.inside()) lines = linesOf(h);
    if (!lines) {
      const sel = cy?.$(':selected');
      if (sel && sel.length === 1) lines = linesOf(sel[0]);
      else if (sel && sel.length > 1) lines = [`${sel.length} selected`, 'Fold merges the selected nodes of each layer; Pin keeps them in place.'];
    }
    if (!lines && note) lines = [note];
    if (!lines) lines = [graph?.status ?? '', hint(d)];
    details.replaceChildren(...lines.map((l, i) => el('div', { className: i ? 'line muted' : 'line' }, l)));
  }

  function linesOf(e: SingularElementArgument): string[] | undefined {
    if (!graph) return undefined;
    if (e.isEdge()) return graph.edges.find((x) => x.id === e.id())?.info;
    const kind = e.data('kind') as string;
    if (kind === 'header') return graph.columns[e.data('column') as number]?.info;
    const n = vnode(e.id());
    if (!n) return undefined;
    const extra: string[] = [];
    if (controlsOf(current!).pinned[n.id]) extra.push('pinned');
    if (n.kind === 'fold' || n.kind === 'foldedGroup') extra.push('double-click to unfold');
    if (n.kind === 'group' && (n.size ?? 0) > 1 && n.group !== -1) extra.push('double-click to fold');
    return extra.length ? [...n.info.slice(0, -1), `${n.info.at(-1)} · ${extra.join(' · ')}`] : n.info;
  }

  function highlight(e: SingularElementArgument | undefined): void {
    if (!cy) return;
    cy.batch(() => {
      cy!.elements('.dim, .hover').removeClass('dim hover');
      if (!e || !graph || graph.kind === 'groups' || !graph.edges.length) return;
      let keep;
      if (e.isEdge()) keep = (e as EdgeSingular).union((e as EdgeSingular).connectedNodes());
      else if (e.data('kind') === 'header' || (e as NodeSingular).connectedEdges().empty()) return;
      else keep = (e as NodeSingular).closedNeighborhood();
      cy!.elements().not(keep).not('.header').addClass('dim');
      keep.edges().addClass('hover');
    });
  }

  // ------------------------------------------------------------------------------------------ cytoscape events

  function wire(c: Core): void {
    c.on('scrollzoom pinchzoom dragpan', () => {
      fitted = false;
    });
    c.on('mouseover', (ev) => {
      const t = ev.target as SingularElementArgument | Core;
      if (t === c) return;
      hovered = t as SingularElementArgument;
      note = undefined;
      highlight(hovered);
      showDetails();
    });
    c.on('mouseout', (ev) => {
      if (ev.target === hovered) {
        hovered = undefined;
        highlight(undefined);
        showDetails();
      }
    });
    c.on('select unselect', () => {
      note = undefined;
      updateButtons();
      showDetails();
    });
    c.on('tap', (ev) => {
      const t = ev.target as NodeSingular | Core;
      if (t === c || !(t as NodeSingular).isNode?.()) return;
      const node = t as NodeSingular;
      const kind = node.data('kind') as string;
      if (kind === 'header') {
        const col = graph?.columns[node.data('column') as number];
        if (col?.expanded && col.layer !== undefined) expandLayer(col.layer, false);
        return;
      }
      if (hasModifier(ev)) return;
      const n = vnode(node.id());
      if (!n || !current) return;
      if (n.kind === 'overflow') {
        expandLayer(n.layer!, true);
        return;
      }
      const target = revealTarget(current, n);
      if (target) bridge.post({ type: 'reveal', model: current.run.envelope.model, target });
    });
    c.on('dbltap', 'node', (ev) => {
      const n = vnode((ev.target as NodeSingular).id());
      const d = current;
      if (!n || !d) return;
      const ctl = controlsOf(d);
      if (n.kind === 'fold') ctl.folds = unfold(ctl.folds, [n.id]);
      else if (n.kind === 'foldedGroup') ctl.folded = ctl.folded.filter((g) => g !== n.group);
      else if (n.kind === 'group' && n.group !== undefined && n.group >= 0 && (n.size ?? 0) > 1) ctl.folded = [...new Set([...ctl.folded, n.group])];
      else return;
      persist();
      draw(false);
    });
    c.on('dragfree', 'node', (ev) => {
      const d = current;
      if (!d) return;
      const ctl = controlsOf(d);
      const node = ev.target as NodeSingular;
      // A dragged node stays where it is dropped (a dragged group box: all its units).
      const moved = node.isParent() ? node.descendants() : node;
      moved.forEach((m) => {
        if (m.isParent()) return;
        ctl.pinned[m.id()] = { ...m.position() };
        m.addClass('pinned');
      });
      persist();
      updateButtons();
      showDetails();
    });
  }

  // ------------------------------------------------------------------------------------------ export

  function fileStem(): string {
    const d = current!;
    return `${d.run.id}-${d.kind === 'lib' ? 'interaction-graph' : d.kind === 'circuit' ? 'circuit' : 'neuron-groups'}`;
  }

  function svgScene(): string {
    const c = cy!;
    const nodes: SvgNode[] = [];
    const ctl = controlsOf(current!);
    c.nodes().forEach((n) => {
      const kind = n.data('kind') as string;
      const faded = n.hasClass('faded');
      if (kind === 'header') {
        nodes.push({ ...n.position(), w: 0, h: 0, shape: 'rectangle', fill: 'none', stroke: 'none', strokeWidth: 0, label: n.data('label') as string, fontSize: 11, labelAt: 'text-center', bold: true, color: colors.header });
        return;
      }
      const bb = n.isParent() ? n.boundingBox({ includeLabels: false, includeOverlays: false, includeUnderlays: false }) : undefined;
      const pos = bb ? { x: (bb.x1 + bb.x2) / 2, y: (bb.y1 + bb.y2) / 2 } : n.position();
      nodes.push({
        ...pos,
        w: bb ? bb.w : (n.data('w') as number),
        h: bb ? bb.h : (n.data('h') as number),
        shape: n.data('shape') as SvgNode['shape'],
        fill: n.data('fill') as string,
        stroke: n.data('stroke') as string,
        strokeWidth: n.isParent() ? 1 : (n.data('bw') as number),
        dashed: n.data('bs') === 'dashed',
        ...(faded ? { opacity: 0.4 } : {}),
        label: n.data('label') as string,
        fontSize: n.isParent() ? 10 : (n.data('fs') as number),
        labelAt: n.isParent() ? 'top' : 'center',
        bold: n.isParent(),
        color: n.isParent() ? colors.header : colors.foreground,
        ...(ctl.pinned[n.id()] ? { ring: colors.pinned } : {}),
        title: vnode(n.id())?.info.join('\n') ?? '',
      });
    });
    const edges: SvgEdge[] = [];
    c.edges().forEach((e) => {
      const s = e.sourceEndpoint();
      const t = e.targetEndpoint();
      const cp = e.hasClass('bent') ? e.controlPoints() : undefined;
      edges.push({
        sx: s.x,
        sy: s.y,
        tx: t.x,
        ty: t.y,
        ...(cp && cp.length ? { cx: cp[0].x, cy: cp[0].y } : {}),
        color: e.data('color') as string,
        width: e.data('width') as number,
        opacity: e.data('op') as number,
        dashed: e.hasClass('constant') || e.hasClass('faded'),
        arrow: e.data('arrow') === 'triangle',
        ...(e.data('port') ? { label: e.data('port') as string } : {}),
        title: graph?.edges.find((x) => x.id === e.id())?.info.join('\n') ?? '',
      });
    });
    return sceneToSvg({ background: colors.background, foreground: colors.foreground, fontFamily: colors.fontFamily, nodes, edges, title: `${runLabel(current!)} — ${graph?.status ?? ''}` });
  }

  function jsonExport(): string {
    const d = current!;
    const c = controlsOf(d);
    const g = graph!;
    const pos = (id: string): { x: number; y: number } | undefined => {
      const n = cy?.getElementById(id);
      return n && n.nonempty() && !n.isParent() ? { x: Math.round(n.position('x') * 10) / 10, y: Math.round(n.position('y') * 10) / 10 } : undefined;
    };
    return JSON.stringify(
      {
        run: d.run.id,
        analysis: d.run.envelope.analysis,
        model: d.run.envelope.model,
        kind: d.kind,
        controls: { mode: c.mode, value: c.value, constantEdges: c.constantEdges, expanded: c.expanded, folds: c.folds, folded: c.folded, pinned: Object.keys(c.pinned) },
        shows: g.status,
        columns: g.columns.map((col) => ({ label: col.label, name: col.info[0] })),
        nodes: g.nodes.map((n) => {
          const { w: _w, h: _h, info, order: _o, ...rest } = n;
          return { ...rest, position: pos(n.id), pinned: !!c.pinned[n.id], info };
        }),
        edges: g.edges.map((e) => ({ ...e })),
      },
      null,
      2,
    );
  }

  async function exportAs(format: ExportRequest['format']): Promise<void> {
    if (!current || !cy) return;
    const fileName = `${fileStem()}.${format}`;
    let content: string | Uint8Array;
    if (format === 'png') {
      const blob = cy.png({ full: true, scale: 2, output: 'blob', bg: colors.background });
      content = new Uint8Array(await blob.arrayBuffer());
    } else if (format === 'svg') content = svgScene();
    else content = jsonExport();
    bridge.post({ type: 'export', format, fileName, content, runId: current.run.id });
  }

  // ------------------------------------------------------------------------------------------ page events

  panel.addEventListener('keydown', (ev) => {
    const t = ev.target as HTMLElement | null;
    if (t?.closest('input, vscode-single-select, vscode-checkbox, vscode-button')) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    switch (ev.key) {
      case 'f':
      case 'F':
        fit();
        break;
      case 'p':
      case 'P':
        togglePin();
        break;
      case 'Escape':
        cy?.$(':selected').unselect();
        break;
      default:
        return;
    }
    ev.preventDefault();
  });

  // VS Code swaps the body's theme classes: re-read the colours and redraw.
  new MutationObserver(() => {
    const next = themeColors();
    if (JSON.stringify({ ...next, groupFill: 0 }) === JSON.stringify({ ...colors, groupFill: 0 })) return;
    colors = next;
    if (cy) {
      cy.style(circuitsStylesheet(colors));
      draw(false);
    }
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });

  // A new panel size may call for the other orientation (or, for groups, another packing): re-lay out when
  // the size changed noticeably since the last drawing.
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  new ResizeObserver(() => {
    cy?.resize();
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      const { w, h } = size();
      if (current && cy && (Math.abs(w - drawnSize.w) > 40 || Math.abs(h - drawnSize.h) > 40)) draw(current.kind === 'groups' || fitted);
      else if (fitted) fit();
    }, 150);
  }).observe(graphBox);

  bridge.onMessage((msg) => {
    switch (msg.type) {
      case 'runs':
        onRuns(msg.runs, msg.show);
        break;
      case 'clear':
        runs = [];
        showEmpty();
        break;
      default:
        assertNever(msg);
    }
  });

  setBodyState('loading');
  bar.hidden = true;
  details.hidden = true;
  bridge.post({ type: 'ready' });
}

