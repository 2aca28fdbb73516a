/**
 * Progressive mounting for big graphs. cytoscape spends seconds creating and styling 10k+ elements (most of
 * it per-element bookkeeping, not drawing), so the view first mounts what the initial viewport shows (plus a
 * margin, plus the other ends of the edges it shows), draws it — the graph is interactive from here — and
 * then adds the rest in time-sliced chunks, nearest to the viewport first. Operations that need every
 * element (search reveal, keyboard navigation, expand/collapse) call `flush()` first.
 */
import type { Core, ElementDefinition } from 'cytoscape';

export interface Viewport {
  zoom: number;
  pan: { x: number; y: number };
}

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** The model-coordinate box a viewport shows, grown by `margin` screens on every side. */
/** Whether a box centred on (x, y) with half-sizes hw, hh touches `region` (edges included). */
export function meetsRegion(region: Box, x: number, y: number, hw: number, hh: number): boolean {
  return x + hw >= region.x1 && x - hw <= region.x2 && y + hh >= region.y1 && y - hh <= region.y2;
}

export function regionOf(v: Viewport, width: number, height: number, margin = 1): Box {
  const x1 = -v.pan.x / v.zoom;
  const y1 = -v.pan.y / v.zoom;
  const w = width / v.zoom;
  const h = height / v.zoom;
  return { x1: x1 - margin * w, y1: y1 - margin * h, x2: x1 + w + margin * w, y2: y1 + h + margin * h };
}

export interface Split {
  first: ElementDefinition[];
  /** Remaining nodes, nearest to the region first. */
  restNodes: ElementDefinition[];
  restEdges: ElementDefinition[];
}

/**
 * Splits element definitions into what to mount first (compound boxes, the nodes in `region`, the other
 * ends of their edges, the edges among those) and the rest. Node definitions need `position` and data `w`,
 * `h`; compound boxes (no position) always go first. `sortRest` false leaves the rest in definition order
 * (a windowed mount, windowed.ts, picks what to add itself).
 */
export function splitByRegion(elements: readonly ElementDefinition[], region: Box, sortRest = true): Split {
  const nodes: ElementDefinition[] = [];
  const edges: ElementDefinition[] = [];
  for (const e of elements) (e.group === 'edges' ? edges : nodes).push(e);
  const inFirst = new Set<string>();
  const first: ElementDefinition[] = [];
  for (const n of nodes) {
    const p = n.position;
    if (!p) {
      inFirst.add(String(n.data.id));
      continue;
    }
    if (meetsRegion(region, p.x, p.y, Number(n.data.w ?? 0) / 2, Number(n.data.h ?? 0) / 2)) inFirst.add(String(n.data.id));
  }
  // Edges leaving the region are drawn whole: their far ends come along.
  const seeds = new Set(inFirst);
  for (const e of edges) {
    const s = String(e.data.source);
    const t = String(e.data.target);
    if (seeds.has(s)) inFirst.add(t);
    if (seeds.has(t)) inFirst.add(s);
  }
  const restNodes: ElementDefinition[] = [];
  for (const n of nodes) (inFirst.has(String(n.data.id)) ? first : restNodes).push(n);
  const restEdges: ElementDefinition[] = [];
  for (const e of edges) (inFirst.has(String(e.data.source)) && inFirst.has(String(e.data.target)) ? first : restEdges).push(e);
  const cx = (region.x1 + region.x2) / 2;
  const cy = (region.y1 + region.y2) / 2;
  const dist = (n: ElementDefinition): number => Math.abs((n.position?.y ?? cy) - cy) + 0.25 * Math.abs((n.position?.x ?? cx) - cx);
  if (sortRest) restNodes.sort((a, b) => dist(a) - dist(b));
  return { first, restNodes, restEdges };
}

/** Adds the rest of a split in time slices; an edge is added once both its ends are present. */
export class ProgressiveMount {
  private readonly waiting = new Map<string, ElementDefinition[]>();
  private readonly missing = new Map<ElementDefinition, number>();
  private readyAtStart: ElementDefinition[] = [];
  private next = 0;
  private chunk = 300;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private cancelled = false;
  done = false;
  mounted: number;

  constructor(
    private readonly cy: Core,
    private readonly split: Split,
    private readonly onProgress: (mounted: number, total: number) => void,
    private readonly onDone: () => void,
    /** While this says the user is panning or zooming, slices wait: interaction comes first. */
    private readonly busy: () => boolean = () => false,
    /** Milliseconds of main-thread time per slice. */
    private readonly budget = 30,
  ) {
    this.mounted = split.first.length;
    for (const e of split.restEdges) {
      let m = 0;
      for (const end of [String(e.data.source), String(e.data.target)]) {
        if (cy.getElementById(end).nonempty()) continue;
        m++;
        const list = this.waiting.get(end);
        if (list) list.push(e);
        else this.waiting.set(end, [e]);
      }
      this.missing.set(e, m);
      if (m === 0) this.readyAtStart.push(e);
    }
  }

  get total(): number {
    return this.split.first.length + this.split.restNodes.length + this.split.restEdges.length;
  }

  start(): void {
    this.schedule();
  }

  /** Mounts the given nodes (if still waiting) right away, e.g. before revealing one of them. */
  ensure(ids: readonly string[]): void {
    if (this.done || this.cancelled) return;
    const want = new Set(ids);
    const nodes = this.split.restNodes;
    let j = this.next;
    for (let i = this.next; i < nodes.length && want.size; i++) {
      const id = String(nodes[i].data.id);
      if (!want.has(id)) continue;
      want.delete(id);
      [nodes[i], nodes[j]] = [nodes[j], nodes[i]];
      j++;
    }
    if (j > this.next) this.slice(j - this.next);
  }

  /** Mounts everything that is left, now. */
  flush(): void {
    if (this.done || this.cancelled) return;
    clearTimeout(this.timer);
    this.slice(Infinity);
  }

  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    this.timer = setTimeout(
      () => {
        if (this.cancelled) return;
        if (!this.busy()) this.slice(this.chunk);
        if (!this.done) this.schedule();
      },
      this.busy() ? 100 : 0,
    );
  }

  private slice(maxNodes: number): void {
    const batch: ElementDefinition[] = this.readyAtStart;
    this.readyAtStart = [];
    const nodes = this.split.restNodes;
    const end = Math.min(nodes.length, this.next + maxNodes);
    for (; this.next < end; this.next++) {
      const n = nodes[this.next];
      batch.push(n);
      const ready = this.waiting.get(String(n.data.id));
      if (!ready) continue;
      for (const e of ready) {
        const m = this.missing.get(e)! - 1;
        this.missing.set(e, m);
        if (m === 0) batch.push(e);
      }
    }
    const t0 = performance.now();
    if (batch.length) this.cy.add(batch);
    const ms = performance.now() - t0;
    this.mounted += batch.length;
    // Aim each slice at the budget.
    if (Number.isFinite(maxNodes) && ms > 0) this.chunk = Math.max(50, Math.min(5000, Math.round((this.chunk * this.budget) / ms)));
    this.onProgress(this.mounted, this.total);
    if (this.next >= nodes.length) {
      this.done = true;
      this.onDone();
    }
  }
}
