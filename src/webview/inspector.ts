/**
 * The inspector pane: what is selected (an operator, a group, a graph input/output, or nothing: the model
 * overview). Weight tensors are fetched from the host on demand and shown as heatmap + histogram + first
 * values; in the HTML report (no host, no weights) a failed read is a plain note. With analysis results on
 * the graph, the selected element's numbers come first (overlayView.ts renders them).
 */
import type { TensorPreview } from '../shared/engineProtocol';
import type { AttributeValue, Dim, GraphNode, ModelGraph } from '../shared/ir';
import { formatBytes } from '../shared/summary';
import { drawHeatmap, drawHistogram, fmt } from './charts';
import type { InferredShapes } from './shapes';
import type { Palette } from './theme';
import { formatCount, isCollapsible, opCategory, type GraphIndex } from './viewModel';

export interface InspectorHost {
  index: GraphIndex;
  shapes: InferredShapes;
  palette(): Palette;
  readTensor(name: string): Promise<TensorPreview>;
  isExpanded(groupId: string): boolean;
  toggleGroup(groupId: string): void;
  /** Select and reveal a node (e.g. the producer of an input). */
  revealNode(nodeId: string): void;
  revealGroup(groupId: string): void;
  /** True in the HTML report: weights are not there, so a failed read is expected, not an error. */
  standalone?: boolean;
  /** The overlay's numbers for a selection (null: none), shown under the title. */
  overlaySection?(sel: Selection): HTMLElement | null;
  /** The overlay's coloured elements, for the model overview. */
  overlaySummary?(): HTMLElement | null;
  /** Copy the selected element's name (the "Copy name" button). */
  copyName?(sel: Exclude<Selection, undefined>): void;
}

export type Selection = { kind: 'node'; id: string } | { kind: 'group'; id: string } | { kind: 'value'; id: string } | undefined;

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'className') e.className = String(v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

function custom(tag: string, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/**
 * A shape for a narrow table cell: each dimension unbreakable except after `.`/`_` inside long symbolic
 * names (`p2o.DynamicDimension.0` wraps as `p2o.`/`DynamicDimension.`/`0`), lines breaking after commas.
 */
export function shapeNodes(shape: readonly Dim[] | undefined): (string | Node)[] {
  if (!shape) return ['?'];
  const out: (string | Node)[] = ['['];
  shape.forEach((d, i) => {
    const dim = document.createElement('span');
    dim.className = 'dim';
    const parts = (d === null ? '?' : String(d)).split(/(?<=[._])/);
    parts.forEach((p, k) => {
      if (k) dim.append(document.createElement('wbr'));
      dim.append(p);
    });
    out.push(dim, i < shape.length - 1 ? ', ' : '');
  });
  out.push(']');
  return out;
}

export function shapeText(shape: readonly Dim[] | undefined): string {
  if (!shape) return '?';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

export function attributeText(v: AttributeValue, max = 24): string {
  const list = (xs: readonly (number | string)[]): string => (xs.length > max ? `[${xs.slice(0, max).join(', ')}, … ${xs.length - max} more]` : `[${xs.join(', ')}]`);
  switch (v.type) {
    case 'float':
      return fmt(v.value);
    case 'int':
      return String(v.value);
    case 'string':
      return JSON.stringify(v.value);
    case 'floats':
      return list(v.value.map(fmt));
    case 'ints':
      return list(v.value);
    case 'strings':
      return list(v.value.map((s) => JSON.stringify(s)));
    case 'tensor':
      return `tensor ${v.value.dtype}${shapeText(v.value.shape)}`;
    case 'tensors':
      return `${v.value.length} tensors`;
    case 'graph':
      return `graph ${v.value.name} (${v.value.nodeCount} nodes)`;
    case 'graphs':
      return `${v.value.length} graphs`;
    case 'type':
      return v.value;
    case 'json': {
      const s = JSON.stringify(v.value);
      return s.length > 200 ? `${s.slice(0, 200)}…` : s;
    }
    case 'unknown':
      return v.value;
  }
}

function kv(rows: [string, Child][], id?: string): HTMLTableElement {
  const t = h('table', { className: 'kv', id });
  for (const [k, v] of rows) t.append(h('tr', {}, h('th', {}, k), h('td', {}, v)));
  return t;
}

export class Inspector {
  private selection: Selection;
  private readonly tensorCache = new Map<string, Promise<TensorPreview>>();

  constructor(
    private readonly root: HTMLElement,
    private readonly host: InspectorHost,
  ) {}

  get current(): Selection {
    return this.selection;
  }

  show(sel: Selection): void {
    this.selection = sel;
    this.root.replaceChildren();
    this.root.scrollTop = 0;
    if (!sel) this.renderModel();
    else if (sel.kind === 'node') this.renderNode(sel.id);
    else if (sel.kind === 'group') this.renderGroup(sel.id);
    else this.renderValue(sel.id);
  }

  /** Re-render (e.g. after a theme change, so canvases pick up the new colours). */
  refresh(): void {
    this.show(this.selection);
  }

  private append(...children: Child[]): void {
    for (const c of children) if (c !== null && c !== undefined && c !== false) this.root.append(c);
  }

  private get graph(): ModelGraph {
    return this.host.index.graph;
  }

  private section(title: string, open: boolean, ...content: Child[]): HTMLElement {
    const c = custom('vscode-collapsible', { title, heading: title, open }, h('div', { className: 'section-body' }, ...content));
    return c;
  }

  private valueLink(vid: string): HTMLElement {
    const v = this.graph.values[vid];
    const name = v?.name ?? vid;
    if (v?.producer) {
      const a = h('a', { href: '#', className: 'value-link', title: `Go to ${v.producer}` }, name);
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        this.host.revealNode(v.producer!);
      });
      return a;
    }
    return h('span', {}, name);
  }

  /** A shape cell's tooltip: whether it was inferred, and the graph labels' aliases of its long dim names. */
  private shapeTitle(shape: readonly Dim[] | undefined, inferred: boolean): string | undefined {
    // The graph-wide dim table only for a shape naming a dim (a numeric shape has no alias to show).
    const aliases = [...new Set(shape ?? [])].flatMap((d) => (typeof d === 'string' && this.host.index.dims.format(d) !== d ? [`${this.host.index.dims.format(d)} = ${d}`] : []));
    const lines = [inferred ? 'inferred (not stored in the file)' : '', aliases.length ? `in the graph: ${aliases.join(', ')}` : ''].filter(Boolean);
    return lines.length ? lines.join('\n') : undefined;
  }

  private valueRows(ids: readonly string[], role: 'inputs' | 'outputs'): HTMLTableElement {
    const t = h('table', { className: 'values', id: `inspector-${role}` }, h('tr', {}, h('th', {}, 'name'), h('th', {}, 'dtype'), h('th', {}, 'shape')));
    ids.forEach((vid, i) => {
      if (!vid) {
        t.append(h('tr', {}, h('td', { className: 'muted' }, `(omitted #${i})`), h('td', {}), h('td', {})));
        return;
      }
      const v = this.graph.values[vid];
      // The page's inference only where the value lacks a stored shape or dtype (the overview needs none at 100k).
      const inf = v?.shape !== undefined && v.dtype !== undefined ? undefined : this.host.shapes.get(vid);
      const dtype = v?.dtype ?? inf?.dtype;
      const shape = v?.shape ?? inf?.shape;
      const inferred = !!v?.shapeInferred || (!v?.shape && !!inf?.shape);
      const kind = v?.kind === 'initializer' ? h('span', { className: 'tag' }, 'weight') : v?.kind === 'input' ? h('span', { className: 'tag' }, 'graph input') : null;
      t.append(
        h(
          'tr',
          { 'data-value': vid },
          h('td', { className: 'name' }, this.valueLink(vid), kind ? ' ' : null, kind),
          h('td', {}, dtype ?? '?'),
          h('td', { className: 'shape', title: this.shapeTitle(shape, inferred) }, ...shapeNodes(shape), inferred ? h('span', { className: 'muted' }, ' ≈') : null),
        ),
      );
    });
    return t;
  }

  /** The model summary's legend of the dim aliases used in the graph's labels ("D0 = p2o.DynamicDimension.0"). */
  private dimLegend(): [string, Child][] {
    const legend = this.host.index.dims.legend();
    if (!legend.length) return [];
    const lines = legend.map(([a, full]) => h('div', { className: 'dim-alias' }, h('code', {}, a), ' = ', full));
    return [['Dim names', h('div', { id: 'inspector-dim-names', title: 'How the graph\'s shape labels write these symbolic dimensions' }, ...lines)]];
  }

  private renderModel(): void {
    const g = this.graph;
    const file = g.file.split(/[\\/]/).pop() ?? g.file;
    const ops = new Map<string, number>();
    for (const n of g.nodes) ops.set(n.opType, (ops.get(n.opType) ?? 0) + 1);
    const opList = [...ops].sort((a, b) => b[1] - a[1]);
    const repeats = new Map<string, number>();
    for (const grp of g.hierarchy) if (grp.repeatKey) repeats.set(grp.repeatKey, (repeats.get(grp.repeatKey) ?? 0) + 1);
    const repeatedBlocks = [...repeats.values()].filter((c) => c > 1);
    this.append(
      h('h2', { id: 'inspector-title' }, file),
      h('p', { className: 'muted path' }, g.file),
      this.host.overlaySummary?.() ?? null,
      kv([
        ['Format', `${g.format}${g.formatVersion ? ` (${g.formatVersion})` : ''}`],
        ['Producer', g.producer ? `${g.producer.name}${g.producer.version ? ` ${g.producer.version}` : ''}` : '—'],
        ['Opsets', g.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ') || '—'],
        ['Operators', `${formatCount(g.nodes.length)} (${ops.size} types)`],
        ['Parameters', `${formatCount(g.params)} (${formatBytes(g.paramBytes)})`],
        ['Groups', `${g.hierarchy.filter(isCollapsible).length}${repeatedBlocks.length ? `, ${repeatedBlocks.length} repeated block types` : ''}`],
        ...this.dimLegend(),
      ]),
      this.section('Inputs', true, this.valueRows(g.inputs, 'inputs')),
      this.section('Outputs', true, this.valueRows(g.outputs, 'outputs')),
      this.section('Operator types', false, kv(opList.slice(0, 40).map(([op, n]) => [op, String(n)]))),
      g.warnings.length ? this.section('Loader notes', false, h('ul', {}, ...g.warnings.map((w) => h('li', {}, w)))) : null,
      Object.keys(g.metadata).length ? this.section('Metadata', false, kv(Object.entries(g.metadata).map(([k, v]) => [k, v.length > 300 ? `${v.slice(0, 300)}…` : v]))) : null,
      h(
        'p',
        { className: 'muted help' },
        'Click a block to expand it, an operator to inspect it. Keys: arrows move, Enter expands/collapses, Esc clears, / searches, F fits, + and − zoom.',
      ),
    );
  }

  /** The "Copy name" button beside a selection's name (absent without a host that copies). */
  private copyButton(sel: Exclude<Selection, undefined>): HTMLElement | null {
    const copy = this.host.copyName;
    if (!copy) return null;
    const b = h('button', { className: 'copy-name', id: 'inspector-copy-name', title: 'Copy the name (Ctrl+C / ⌘C on the graph)', 'aria-label': 'Copy the name' }, 'Copy name');
    b.addEventListener('click', () => copy(sel));
    return b;
  }

  private renderGroup(gid: string): void {
    const grp = this.host.index.groups.get(gid);
    if (!grp) return this.renderModel();
    const rep = this.host.index.repeats.get(gid);
    const ops = new Map<string, number>();
    const stack = [gid];
    while (stack.length) {
      const g = this.host.index.groups.get(stack.pop()!);
      if (!g) continue;
      for (const id of g.nodes) {
        const n = this.host.index.nodeById.get(id);
        if (n) ops.set(n.opType, (ops.get(n.opType) ?? 0) + 1);
      }
      stack.push(...g.children);
    }
    const expanded = this.host.isExpanded(gid);
    const btn = custom('vscode-button', { id: 'inspector-toggle' }, expanded ? 'Collapse' : 'Expand');
    btn.addEventListener('click', () => this.host.toggleGroup(gid));
    const path = gid.split('/');
    this.append(
      h('div', { className: 'kind' }, rep ? 'Repeated block' : 'Block'),
      h('h2', { id: 'inspector-title' }, grp.label),
      h('p', { className: 'muted path' }, path.join(' / '), ' ', this.copyButton({ kind: 'group', id: gid })),
      kv([
        ['Operators', String(grp.nodeCount)],
        ['Parameters', formatCount(grp.params)],
        ['Sub-blocks', String(grp.children.length)],
        ...(rep ? ([['Repeat', `${rep.index} of ${rep.count} with the same structure`]] as [string, Child][]) : []),
        ...(grp.motif ? ([['Found by', 'its repeated structure (the file names no scope here)']] as [string, Child][]) : []),
      ]),
      h('div', { className: 'actions' }, btn),
      this.host.overlaySection?.({ kind: 'group', id: gid }) ?? null,
      this.section('Operator types', true, kv([...ops].sort((a, b) => b[1] - a[1]).map(([op, n]) => [op, String(n)]))),
    );
  }

  private renderValue(vid: string): void {
    const v = this.graph.values[vid];
    const consumers = this.host.index.consumers.get(vid) ?? [];
    this.append(
      h('div', { className: 'kind' }, v?.kind === 'output' || this.graph.outputs.includes(vid) ? 'Graph output' : 'Graph input'),
      h('h2', { id: 'inspector-title' }, v?.name ?? vid),
      this.copyButton({ kind: 'value', id: vid }),
      kv([
        ['dtype', v?.dtype ?? '?'],
        ['shape', shapeText(v?.shape)],
        ['Producer', v?.producer ? this.valueLink(vid) : '—'],
        ['Consumers', String(consumers.length)],
      ]),
      this.host.overlaySection?.({ kind: 'value', id: vid }) ?? null,
    );
  }

  private renderNode(id: string): void {
    const n = this.host.index.nodeById.get(id);
    if (!n) return this.renderModel();
    const weights = n.inputs.filter((v) => v && this.graph.tensors[v]);
    const cat = opCategory(n.opType);
    const scopeLinks = h('p', { className: 'muted path' });
    let acc = '';
    n.scope.forEach((s, i) => {
      acc = acc ? `${acc}/${s}` : s;
      const gid = acc;
      if (i) scopeLinks.append(' / ');
      if (this.host.index.groups.has(gid) && isCollapsible(this.host.index.groups.get(gid)!)) {
        const a = h('a', { href: '#', className: 'value-link' }, s);
        a.addEventListener('click', (ev) => {
          ev.preventDefault();
          this.host.revealGroup(gid);
        });
        scopeLinks.append(a);
      } else scopeLinks.append(s);
    });
    this.append(
      h('div', { className: `kind cat-${cat}` }, `Operator · ${cat}`),
      h('h2', { id: 'inspector-title', 'data-op': n.opType }, n.opType),
      h('p', { className: 'name' }, h('span', { id: 'inspector-node-name' }, n.name || n.id), ' ', this.copyButton({ kind: 'node', id })),
      n.scope.length ? scopeLinks : null,
      this.host.overlaySection?.({ kind: 'node', id }) ?? null,
      kv([
        ['Domain', n.domain || 'ai.onnx'],
        ['Parameters', n.params ? `${formatCount(n.params)} (${formatBytes(n.paramBytes)})` : '0'],
      ]),
      this.section(`Inputs (${n.inputs.length})`, true, this.valueRows(n.inputs, 'inputs')),
      this.section(`Outputs (${n.outputs.length})`, true, this.valueRows(n.outputs, 'outputs')),
      n.attributes.length ? this.section(`Attributes (${n.attributes.length})`, true, this.attributes(n)) : null,
      ...weights.map((w, i) => this.weightSection(w, i < 2)),
      n.subgraphs?.length
        ? this.section(
            'Subgraphs',
            false,
            kv(n.subgraphs.map((s) => [s.name, `${s.nodeCount} nodes: ${Object.entries(s.opCounts).map(([o, c]) => `${o}×${c}`).join(', ')}`])),
          )
        : null,
    );
  }

  private attributes(n: GraphNode): HTMLTableElement {
    return kv(n.attributes.map((a) => [a.name, h('code', {}, attributeText(a.value))]), 'inspector-attributes');
  }

  private weightSection(name: string, autoload: boolean): HTMLElement {
    const t = this.graph.tensors[name];
    const body = h('div', { className: 'weight', 'data-tensor': name });
    const short = t.name.length > 36 ? `…${t.name.slice(-34)}` : t.name;
    const sec = this.section(`${short}  ${t.dtype}${shapeText(t.shape)}`, autoload, body);
    body.append(kv([
      ['name', t.name],
      ['elements', formatCount(t.elements)],
      ['bytes', formatBytes(t.byteLength)],
      ...(t.quantization ? ([['quantized', t.quantization.dtype]] as [string, Child][]) : []),
    ]));
    let loaded = false;
    const load = (): void => {
      if (loaded) return;
      loaded = true;
      const status = h('p', { className: 'muted' }, 'Reading values…');
      body.append(status);
      let p = this.tensorCache.get(name);
      if (!p) {
        p = this.host.readTensor(name);
        this.tensorCache.set(name, p);
      }
      p.then(
        (preview) => {
          status.remove();
          this.renderPreview(body, preview);
        },
        (e: unknown) => {
          this.tensorCache.delete(name);
          const why = e instanceof Error ? e.message : String(e);
          if (this.host.standalone) {
            // The report has no weights: say so quietly, it is not a failure.
            status.textContent = `Weight values are not part of this report (${why}).`;
            status.className = 'muted note';
          } else {
            status.textContent = `Could not read this tensor: ${why}`;
            status.className = 'error-text';
          }
        },
      );
    };
    if (autoload) load();
    sec.addEventListener('vsc-collapsible-toggle', () => load());
    return sec;
  }

  private renderPreview(body: HTMLElement, t: TensorPreview): void {
    const p = this.host.palette();
    const width = Math.max(160, Math.min(this.root.clientWidth - 40, 480));
    if (t.stats) {
      const s = t.stats;
      body.append(kv([['min / max', `${fmt(s.min)} / ${fmt(s.max)}`], ['mean ± std', `${fmt(s.mean)} ± ${fmt(s.std)}`]]));
      const hist = h('canvas', { className: 'histogram', role: 'img', 'aria-label': `histogram of ${t.name}` });
      body.append(h('div', { className: 'chart-title' }, 'Histogram (all values)'), hist);
      drawHistogram(hist, s.histogram, p, width);
    }
    if (t.values.length) {
      const heat = h('canvas', { className: 'heatmap', role: 'img', 'aria-label': `heatmap of ${t.name}` });
      const caption = h('div', { className: 'chart-title' });
      body.append(caption, heat);
      const r = drawHeatmap(heat, t, p, width);
      caption.textContent =
        r.rows > 0 ? `Heatmap: ${r.rows < r.totalRows ? `first ${r.rows} of ${r.totalRows}` : r.rows} rows × ${r.cols} (blue < 0 < red)` : 'Heatmap: too few values read';
      const first = t.values.slice(0, 24).map(fmt).join(', ');
      body.append(h('div', { className: 'chart-title' }, 'First values'), h('code', { className: 'first-values' }, `${first}${t.elements > 24 ? ', …' : ''}`));
    }
  }
}
