/**
 * Windowed mounting for very big graphs. cytoscape keeps several kilobytes of bookkeeping per element and
 * spends ~0.2 ms creating each one: at 100k operators, mounting everything took 37–44 s and 1.3 GB of heap
 * (test/bench/graphRender.ts). Above {@link WINDOW_MIN} drawn nodes the view instead keeps mounted only the
 * elements around the viewport (plus a margin, plus pinned ones: selected, revealed, overlay ends), adds
 * what comes into view in time slices as the user pans, and drops what is far away. Whatever is on screen
 * but not mounted yet — or too much to mount, when zoomed far out — is drawn by the far layer (farLayer.ts)
 * from the layout's typed arrays, so the whole graph is always drawn.
 *
 * The choice of what to mount is pure ({@link NodeGrid}, {@link planWindow}); {@link WindowedMount} applies it.
 */
import type { CollectionReturnValue, Core, ElementDefinition } from 'cytoscape';
import { meetsRegion, regionOf, type Box, type Viewport } from './progressive';

/** Above this many drawn nodes the view mounts a window instead of every element. */
export const WINDOW_MIN = 4000;
/** At most this many nodes are mounted for the viewport; beyond that (zoomed far out) the far layer draws. */
export const WINDOW_CAP = 5000;

/** Node centres bucketed in a uniform grid (model coordinates); answers "which nodes lie in this box". */
export class NodeGrid {
  private readonly cells = new Map<number, number[]>();
  /** Half the largest node width and height: a box query grows by these so nodes overlapping it are found. */
  private readonly padX: number;
  private readonly padY: number;

  /** Cell bounds of the nodes; keys are small integers (fast map keys) when the cell span allows. */
  private readonly cx0: number = 0;
  private readonly cx1: number = -1;
  private readonly cy0: number = 0;
  private readonly cy1: number = -1;
  private readonly span: number = 0;

  constructor(
    readonly x: Float64Array,
    readonly y: Float64Array,
    readonly w: Float64Array,
    readonly h: Float64Array,
    private readonly cell = 400,
  ) {
    let pw = 0;
    let ph = 0;
    let cx0 = Infinity;
    let cx1 = -Infinity;
    let cy0 = Infinity;
    let cy1 = -Infinity;
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i])) continue;
      const cx = Math.floor(x[i] / cell);
      const cy = Math.floor(y[i] / cell);
      if (cx < cx0) cx0 = cx;
      if (cx > cx1) cx1 = cx;
      if (cy < cy0) cy0 = cy;
      if (cy > cy1) cy1 = cy;
    }
    if (cx0 <= cx1) {
      this.cx0 = cx0;
      this.cx1 = cx1;
      this.cy0 = cy0;
      this.cy1 = cy1;
      // Row-major cell numbers below 2^30 are small integers: a map keyed by them hashes far faster than by doubles.
      if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) < 2 ** 30) this.span = cx1 - cx0 + 1;
    }
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i])) continue;
      pw = Math.max(pw, w[i] / 2);
      ph = Math.max(ph, h[i] / 2);
      const k = this.key(Math.floor(x[i] / cell), Math.floor(y[i] / cell));
      const list = this.cells.get(k);
      if (list) list.push(i);
      else this.cells.set(k, [i]);
    }
    this.padX = pw;
    this.padY = ph;
  }

  /** A cell's key (cells within the nodes' cell bounds only). */
  private key(cx: number, cy: number): number {
    return this.span ? (cy - this.cy0) * this.span + (cx - this.cx0) : (cy + 1048576) * 2097152 + (cx + 1048576);
  }

  /** Nodes whose box overlaps `b`. */
  query(b: Box, out: number[] = []): number[] {
    const c = this.cell;
    const x1 = Math.floor((b.x1 - this.padX) / c);
    const x2 = Math.floor((b.x2 + this.padX) / c);
    const y1 = Math.floor((b.y1 - this.padY) / c);
    const y2 = Math.floor((b.y2 + this.padY) / c);
    // A region far bigger than the drawing: walk the cells that exist instead of the cells it spans.
    if ((x2 - x1 + 1) * (y2 - y1 + 1) > this.cells.size * 4) {
      for (const list of this.cells.values()) for (const i of list) if (this.overlaps(i, b)) out.push(i);
      return out;
    }
    // Only cells within the nodes' bounds exist (and have keys): the same cells, in the same order.
    const ya = Math.max(y1, this.cy0);
    const yb = Math.min(y2, this.cy1);
    const xa = Math.max(x1, this.cx0);
    const xb = Math.min(x2, this.cx1);
    for (let cy = ya; cy <= yb; cy++) {
      for (let cx = xa; cx <= xb; cx++) {
        const list = this.cells.get(this.key(cx, cy));
        if (list) for (const i of list) if (this.overlaps(i, b)) out.push(i);
      }
    }
    return out;
  }

  private overlaps(i: number, b: Box): boolean {
    return meetsRegion(b, this.x[i], this.y[i], this.w[i] / 2, this.h[i] / 2);
  }
}

export interface WindowPlan {
  /** Nodes to mount, nearest to the viewport's centre first. */
  add: number[];
  /** Mounted nodes to drop (outside the keep region and not pinned). */
  remove: number[];
  /** Whether the viewport shows more nodes than the cap (the far layer draws the rest). */
  capped: boolean;
}

/**
 * What to mount for a viewport: the nodes within half a screen of it (at most `cap`, nearest first); what to
 * drop: mounted, unpinned nodes more than two screens away, once more than `cap` are mounted.
 */
export function planWindow(grid: NodeGrid, mounted: Uint8Array, pinned: Uint8Array, v: Viewport, width: number, height: number, cap = WINDOW_CAP): WindowPlan {
  const want = grid.query(regionOf(v, width, height, 0.5));
  const capped = want.length > cap;
  const cx = (width / 2 - v.pan.x) / v.zoom;
  const cy = (height / 2 - v.pan.y) / v.zoom;
  const dist = (i: number): number => Math.abs(grid.y[i] - cy) + Math.abs(grid.x[i] - cx);
  let add = want.filter((i) => !mounted[i]);
  if (capped || add.length > 1) {
    const d = new Map<number, number>();
    for (const i of capped ? want : add) d.set(i, dist(i));
    if (capped) {
      want.sort((a, b) => d.get(a)! - d.get(b)!);
      add = want.slice(0, cap).filter((i) => !mounted[i]);
    } else add.sort((a, b) => d.get(a)! - d.get(b)!);
  }
  let count = 0;
  for (let i = 0; i < mounted.length; i++) count += mounted[i];
  const remove: number[] = [];
  if (count + add.length > cap) {
    const keep = new Uint8Array(mounted.length);
    for (const i of grid.query(regionOf(v, width, height, 2))) keep[i] = 1;
    for (const i of add) keep[i] = 1;
    for (let i = 0; i < mounted.length; i++) if (mounted[i] && !keep[i] && !pinned[i]) remove.push(i);
  }
  return { add, remove, capped };
}

/** What a caller may already know of a view's elements: node id → index among the positioned nodes (in order), edge ends as such indices (-1: a compound or unknown end). */
export interface WindowIndex {
  nodeOf: (id: string) => number | undefined;
  src: Int32Array;
  dst: Int32Array;
}

/**
 * Keeps the elements around the viewport mounted (see the file comment). Same surface as ProgressiveMount:
 * `start`, `ensure` (mount and pin), `flush` (finish the current window now), `cancel`, `done` (the window
 * of the first viewport is mounted), `mounted`, `total`.
 */
export class WindowedMount {
  readonly grid: NodeGrid;
  /** Per node (index in `nodes`): mounted in cytoscape, pinned (never dropped). */
  readonly isMounted: Uint8Array;
  private readonly pinned: Uint8Array;
  private readonly nodes: ElementDefinition[];
  private readonly edges: ElementDefinition[];
  /** Node id → index in `nodes` (undefined: a compound or unknown). */
  private readonly nodeOf: (id: string) => number | undefined;
  /** Edge ends as node indices (-1: a compound or unknown end, always present) and incident edges per node (CSR). */
  private readonly src: Int32Array;
  private readonly dst: Int32Array;
  private readonly incStart: Int32Array;
  private readonly incEdges: Int32Array;
  private readonly edgeMounted: Uint8Array;
  private queue: number[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private cancelled = false;
  private chunk = 300;
  private onViewport = (): void => this.request();
  done = false;
  mounted = 0;
  capped = false;

  constructor(
    private readonly cy: Core,
    elements: readonly ElementDefinition[],
    private readonly size: () => { width: number; height: number },
    private readonly onProgress: (mounted: number, total: number) => void,
    private readonly onDone: () => void,
    /** Called after every change of what is mounted (the far layer redraws). */
    private readonly onChange: () => void,
    private readonly busy: () => boolean = () => false,
    /** Called with what each slice added (classes that live on mounted elements only, e.g. search matches). */
    private readonly decorate: (added: CollectionReturnValue) => void = () => {},
    private readonly budget = 30,
    /** The node indices and edge ends, when the caller has them (firstWindow.ts): no map of 100k ids is built. */
    known?: WindowIndex,
  ) {
    const compounds: ElementDefinition[] = [];
    this.nodes = [];
    this.edges = [];
    for (const e of elements) {
      if (e.group === 'edges') this.edges.push(e);
      else if (e.position) this.nodes.push(e);
      else compounds.push(e);
    }
    const n = this.nodes.length;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const w = new Float64Array(n);
    const h = new Float64Array(n);
    const nodeOf = known ? undefined : new Map<string, number>();
    this.nodes.forEach((d, i) => {
      nodeOf?.set(String(d.data.id), i);
      x[i] = d.position!.x;
      y[i] = d.position!.y;
      w[i] = Number(d.data.w ?? 0);
      h[i] = Number(d.data.h ?? 0);
    });
    this.nodeOf = known ? known.nodeOf : (id) => nodeOf!.get(id);
    this.grid = new NodeGrid(x, y, w, h);
    const m = this.edges.length;
    if (known && (known.src.length !== m || known.dst.length !== m)) throw new Error(`windowed mount: expected the ends of ${m} edges, found ${known.src.length}`);
    this.src = known ? known.src : new Int32Array(m);
    this.dst = known ? known.dst : new Int32Array(m);
    const deg = new Int32Array(n + 1);
    for (let k = 0; k < m; k++) {
      if (!known) {
        this.src[k] = nodeOf!.get(String(this.edges[k].data.source)) ?? -1;
        this.dst[k] = nodeOf!.get(String(this.edges[k].data.target)) ?? -1;
      }
      const s = this.src[k];
      const t = this.dst[k];
      if (s >= 0) deg[s + 1]++;
      if (t >= 0 && t !== s) deg[t + 1]++;
    }
    for (let i = 0; i < n; i++) deg[i + 1] += deg[i];
    this.incStart = deg;
    this.incEdges = new Int32Array(deg[n]);
    const fill = deg.slice(0, n);
    for (let k = 0; k < m; k++) {
      if (this.src[k] >= 0) this.incEdges[fill[this.src[k]]++] = k;
      if (this.dst[k] >= 0 && this.dst[k] !== this.src[k]) this.incEdges[fill[this.dst[k]]++] = k;
    }
    this.isMounted = new Uint8Array(n);
    this.pinned = new Uint8Array(n);
    this.edgeMounted = new Uint8Array(m);
    // What the caller mounted already (the first view) counts as mounted; compounds are few and always mounted.
    cy.nodes().forEach((el) => {
      const i = this.nodeOf(el.id());
      if (i !== undefined) this.isMounted[i] = 1;
    });
    // The first view mounted every edge whose ends it mounted (splitByRegion).
    for (let k = 0; k < m; k++) {
      const s = this.src[k];
      const t = this.dst[k];
      if ((s < 0 || this.isMounted[s]) && (t < 0 || this.isMounted[t])) this.edgeMounted[k] = 1;
    }
    for (const i of this.isMounted) this.mounted += i;
    const missing = compounds.filter((c) => cy.getElementById(String(c.data.id)).empty());
    if (missing.length) cy.add(missing);
  }

  get total(): number {
    return this.nodes.length + this.edges.length;
  }

  /** Node definitions and their layout boxes, for the far layer. */
  get nodeDefs(): readonly ElementDefinition[] {
    return this.nodes;
  }

  /** Edge ends (node indices, -1 for a compound end), for the far layer. */
  edgeEnds(): { src: Int32Array; dst: Int32Array; incStart: Int32Array; incEdges: Int32Array } {
    return { src: this.src, dst: this.dst, incStart: this.incStart, incEdges: this.incEdges };
  }

  start(): void {
    this.cy.on('viewport resize', this.onViewport);
    this.request();
  }

  /** Mounts the given elements' nodes now and keeps them mounted (a revealed, selected or overlay end). */
  ensure(ids: readonly string[]): void {
    if (this.cancelled) return;
    const add: number[] = [];
    for (const id of ids) {
      const i = this.nodeOf(id);
      if (i === undefined) continue;
      this.pinned[i] = 1;
      if (!this.isMounted[i]) add.push(i);
    }
    if (add.length) this.mount(add);
  }

  /** Mounts the rest of the current window now. */
  flush(): void {
    if (this.cancelled) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.plan();
    this.mount(this.queue.splice(0));
    this.settle();
  }

  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timer);
    this.cy.off('viewport resize', this.onViewport);
  }

  /** Re-plans on the next slice (viewport changes are coalesced into one plan). */
  private request(): void {
    if (this.cancelled || this.timer !== undefined) return;
    this.timer = setTimeout(() => this.step(), this.busy() ? 100 : 0);
  }

  private plan(): void {
    const { width, height } = this.size();
    const p = planWindow(this.grid, this.isMounted, this.pinned, { zoom: this.cy.zoom(), pan: this.cy.pan() }, width, height);
    this.capped = p.capped;
    if (p.remove.length) this.unmount(p.remove);
    this.queue = p.add;
  }

  private step(): void {
    this.timer = undefined;
    if (this.cancelled) return;
    if (this.busy()) {
      this.request();
      return;
    }
    this.plan();
    if (this.queue.length) {
      const t0 = performance.now();
      const n = this.mount(this.queue.splice(0, this.chunk));
      const ms = performance.now() - t0;
      if (ms > 0 && n > 0) this.chunk = Math.max(50, Math.min(5000, Math.round((this.chunk * this.budget) / ms)));
    }
    if (this.queue.length) this.request();
    else this.settle();
  }

  private settle(): void {
    if (this.done) return;
    this.done = true;
    this.onDone();
  }

  /** Adds nodes and every edge whose both ends are then mounted; returns how many nodes were added. */
  private mount(list: number[]): number {
    const batch: ElementDefinition[] = [];
    let added = 0;
    for (const i of list) {
      if (this.isMounted[i]) continue;
      this.isMounted[i] = 1;
      batch.push(this.nodes[i]);
      added++;
    }
    for (const i of list) {
      for (let j = this.incStart[i]; j < this.incStart[i + 1]; j++) {
        const k = this.incEdges[j];
        if (this.edgeMounted[k]) continue;
        const s = this.src[k];
        const t = this.dst[k];
        if ((s < 0 || this.isMounted[s]) && (t < 0 || this.isMounted[t])) {
          this.edgeMounted[k] = 1;
          batch.push(this.edges[k]);
        }
      }
    }
    if (batch.length) this.decorate(this.cy.add(batch));
    this.mounted += added;
    if (added) {
      this.onProgress(this.mounted, this.nodes.length);
      this.onChange();
    }
    return added;
  }

  private unmount(list: number[]): void {
    const sel = this.cy.collection();
    for (const i of list) {
      const el = this.cy.getElementById(String(this.nodes[i].data.id));
      if (el.selected()) {
        this.pinned[i] = 1;
        continue;
      }
      this.isMounted[i] = 0;
      this.mounted--;
      for (let j = this.incStart[i]; j < this.incStart[i + 1]; j++) this.edgeMounted[this.incEdges[j]] = 0;
      sel.merge(el);
    }
    // Removing a node removes its edges too.
    if (sel.nonempty()) this.cy.remove(sel);
    this.onChange();
  }
}
