/**
 * The first frame of a very big graph (windowed.ts) draws only the elements around the first viewport, yet
 * building the definitions of all of them (226k at 100k operators) and the windowed mount's index came first.
 * Here the first window is chosen from the layout's arrays — the same elements splitByRegion (progressive.ts)
 * picks from the definitions — so only its definitions are built before the first frame; {@link DeferredWindow}
 * builds the rest in short slices after it, then hands the whole list to the windowed mount.
 */
import type { ElementDefinition } from 'cytoscape';
import type { ElementBuilder } from './graphView';
import type { LayoutResult } from './layout';
import { meetsRegion, type Box } from './progressive';
import type { VisibleGraph } from './viewModel';
import type { WindowIndex, WindowedMount } from './windowed';

export interface FirstWindow {
  /** Items (indices in view.items) and edges (indices in view.edges) of the first window, in view order. */
  items: number[];
  edges: number[];
  /** The windowed mount's index (node = item index), when the layout lists the items after the compounds, in order. */
  index?: WindowIndex;
}

/**
 * What splitByRegion(buildElements(…), region) puts first, from the layout alone: every compound, the items
 * whose box overlaps `region`, the other ends of the edges of those (and of compounds), the edges among them.
 */
export function firstWindow(view: VisibleGraph, layout: LayoutResult, itemIndex: Map<string, number>, region: Box): FirstWindow {
  const n = layout.x.length;
  const seed = new Uint8Array(n);
  const inFirst = new Uint8Array(n);
  for (const c of view.compounds) {
    const i = itemIndex.get(c.id);
    if (i !== undefined) seed[i] = inFirst[i] = 1;
  }
  const at = new Int32Array(view.items.length);
  view.items.forEach((it, j) => {
    const i = itemIndex.get(it.id) ?? -1;
    at[j] = i;
    if (i < 0) return;
    if (meetsRegion(region, layout.x[i], layout.y[i], layout.width[i] / 2, layout.height[i] / 2)) seed[i] = inFirst[i] = 1;
  });
  // Edges leaving the region are drawn whole: their far ends come along.
  const m = view.edges.length;
  const src = new Int32Array(m);
  const dst = new Int32Array(m);
  view.edges.forEach((e, k) => {
    const s = (src[k] = itemIndex.get(e.source) ?? -1);
    const t = (dst[k] = itemIndex.get(e.target) ?? -1);
    if (s < 0 || t < 0) return;
    if (seed[s]) inFirst[t] = 1;
    if (seed[t]) inFirst[s] = 1;
  });
  const items: number[] = [];
  for (let j = 0; j < at.length; j++) if (at[j] >= 0 && inFirst[at[j]]) items.push(j);
  const edges: number[] = [];
  for (let k = 0; k < m; k++) if (src[k] >= 0 && dst[k] >= 0 && inFirst[src[k]] && inFirst[dst[k]]) edges.push(k);
  return { items, edges, index: windowIndex(view.compounds.length, at, itemIndex, src, dst) };
}

/**
 * The windowed mount's nodes are the items, in order: with item j at layout index c + j (c compounds first, as
 * layoutRequest.ts lists them), an id's node index and the edges' ends follow from the layout's indices.
 */
function windowIndex(c: number, at: Int32Array, itemIndex: Map<string, number>, src: Int32Array, dst: Int32Array): WindowIndex | undefined {
  for (let j = 0; j < at.length; j++) if (at[j] !== c + j) return undefined;
  for (let k = 0; k < src.length; k++) {
    src[k] = src[k] < c ? -1 : src[k] - c;
    dst[k] = dst[k] < c ? -1 : dst[k] - c;
  }
  return {
    nodeOf: (id) => {
      const i = itemIndex.get(id);
      return i === undefined || i < c ? undefined : i - c;
    },
    src,
    dst,
  };
}

/**
 * The definitions of a view in buildElements' order (compounds, items, edges), those of the first window
 * built now, the others by {@link DeferredWindow}.
 */
export class ViewDefinitions {
  readonly defs: (ElementDefinition | undefined)[];
  readonly first: ElementDefinition[] = [];
  /** For the windowed mount (FirstWindow.index). */
  readonly index?: WindowIndex;
  private readonly itemBase: number;
  private readonly edgeBase: number;

  constructor(
    private readonly builder: ElementBuilder,
    view: VisibleGraph,
    fw: FirstWindow,
  ) {
    const c = view.compounds.length;
    this.index = fw.index;
    this.itemBase = c;
    this.edgeBase = c + view.items.length;
    this.defs = new Array<ElementDefinition | undefined>(this.edgeBase + view.edges.length);
    for (let k = 0; k < c; k++) this.first.push((this.defs[k] = builder.compound(k)));
    for (const j of fw.items) this.first.push((this.defs[this.itemBase + j] = builder.item(j)));
    for (const ei of fw.edges) this.first.push((this.defs[this.edgeBase + ei] = builder.edge(ei)));
  }

  /** Whether every definition is in the first window (nothing to defer). */
  get complete(): boolean {
    return this.first.length === this.defs.length;
  }

  /** Builds definition `k` (in buildElements' order) if it is not built yet. */
  build(k: number): void {
    if (this.defs[k]) return;
    this.defs[k] = k < this.edgeBase ? this.builder.item(k - this.itemBase) : this.builder.edge(k - this.edgeBase);
  }
}

/**
 * Builds the definitions the first window left out, in slices of at most `budget` ms of main-thread time
 * after the first frame, then calls `ready` with all of them (which mounts the window and returns it). Has the
 * mounts' surface until then: `ensure` and `flush` finish the build at once, then go to the windowed mount.
 */
export class DeferredWindow {
  private next = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private cancelled = false;
  private mount: WindowedMount | undefined;

  constructor(
    private readonly views: ViewDefinitions,
    private readonly ready: (elements: ElementDefinition[]) => WindowedMount,
    /**
     * While this says the user is panning or zooming, slices wait (interaction comes first) — for at most
     * `maxWait` ms after start: until the windowed mount exists nothing beyond the first window is drawn.
     */
    private readonly busy: () => boolean = () => false,
    private readonly budget = 8,
    private readonly maxWait = 1000,
  ) {}

  private started = 0;

  private waiting(): boolean {
    return this.busy() && performance.now() - this.started < this.maxWait;
  }

  /** Whether the windowed mount exists and has mounted the window of the viewport it started with. */
  get done(): boolean {
    return this.mount?.done ?? false;
  }

  get mounted(): number {
    return this.mount?.mounted ?? this.views.first.length;
  }

  get total(): number {
    return this.views.defs.length;
  }

  start(): void {
    this.started = performance.now();
    this.schedule();
  }

  ensure(ids: readonly string[]): void {
    if (this.cancelled) return;
    this.finish();
    this.mount?.ensure(ids);
  }

  flush(): void {
    if (this.cancelled) return;
    this.finish();
    this.mount?.flush();
  }

  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timer);
    this.mount?.cancel();
  }

  private schedule(): void {
    if (this.cancelled || this.mount) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (this.cancelled || this.mount) return;
        if (this.waiting()) this.schedule();
        else if (this.next < this.views.defs.length) this.slice();
        else this.finish();
      },
      this.waiting() ? 100 : 0,
    );
  }

  /** Builds definitions for `budget` ms; the windowed mount follows in a task of its own. */
  private slice(): void {
    const t0 = performance.now();
    const defs = this.views.defs;
    while (this.next < defs.length) {
      // Check the clock every 256 definitions.
      const end = Math.min(defs.length, this.next + 256);
      for (; this.next < end; this.next++) this.views.build(this.next);
      if (performance.now() - t0 > this.budget) break;
    }
    this.schedule();
  }

  /** Builds what is left now and mounts the window (once). */
  private finish(): void {
    if (this.mount || this.cancelled) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const defs = this.views.defs;
    for (; this.next < defs.length; this.next++) this.views.build(this.next);
    this.mount = this.ready(defs as ElementDefinition[]);
  }
}
