/**
 * Viewport culling for cytoscape's canvas renderer through a spatial grid.
 *
 * The canvas renderer culls per frame by asking every element for its bounding box, and hit-tests every
 * mouse move against every element: both O(n), about 100–400 ms per frame at 10k–20k nodes (measured in
 * test/bench/graphRender.ts). Element boxes are known from our layout (elements never move: nodes are not
 * draggable), so a uniform grid answers "what is in this rectangle" in O(visible). Installed only for big
 * graphs on the canvas renderer; it wraps three renderer internals (`drawCachedElements`,
 * `findNearestElements`, `getCachedZSortedEles`) and falls back to cytoscape's own code whenever they are
 * missing or the graph is small.
 */
import type { Core, SingularElementArgument } from 'cytoscape';

export type Box = [number, number, number, number];

/** Elements bucketed by the grid cells their box covers. */
export class SpatialGrid<T> {
  private readonly cells = new Map<number, Set<T>>();
  private readonly where = new Map<T, number[]>();

  constructor(private readonly cell = 256) {}

  private key(cx: number, cy: number): number {
    // Cantor-free packing: columns up to ±2^20 cells.
    return (cy + 1048576) * 2097152 + (cx + 1048576);
  }

  /** The keys of the cells a box covers, row by row. */
  private keysOf(b: Box): number[] {
    const x1 = Math.floor(b[0] / this.cell);
    const x2 = Math.floor(b[2] / this.cell);
    const y1 = Math.floor(b[1] / this.cell);
    const y2 = Math.floor(b[3] / this.cell);
    const keys: number[] = [];
    for (let cy = y1; cy <= y2; cy++) for (let cx = x1; cx <= x2; cx++) keys.push(this.key(cx, cy));
    return keys;
  }

  insert(item: T, b: Box): void {
    this.remove(item);
    const keys = this.keysOf(b);
    for (const k of keys) {
      let s = this.cells.get(k);
      if (!s) this.cells.set(k, (s = new Set()));
      s.add(item);
    }
    this.where.set(item, keys);
  }

  remove(item: T): void {
    const keys = this.where.get(item);
    if (!keys) return;
    for (const k of keys) this.cells.get(k)?.delete(item);
    this.where.delete(item);
  }

  clear(): void {
    this.cells.clear();
    this.where.clear();
  }

  get size(): number {
    return this.where.size;
  }

  query(b: Box, out = new Set<T>()): Set<T> {
    for (const k of this.keysOf(b)) {
      const s = this.cells.get(k);
      if (s) for (const item of s) out.add(item);
    }
    return out;
  }
}

type Ele = SingularElementArgument;
interface ZArray extends Array<Ele> {
  interactive?: Ele[];
}
interface RendererInternals {
  drawCachedElements(context: unknown, eles: Ele[], pxRatio: number, extent: { x1: number; y1: number; x2: number; y2: number }): void;
  drawCachedElement(context: unknown, ele: Ele, pxRatio: number, extent: unknown): void;
  findNearestElements(x: number, y: number, interactiveOnly: boolean, isTouch: boolean): Ele[];
  getCachedZSortedEles(force?: boolean): ZArray;
}

/** Grid culling and hit-testing for a cytoscape instance whose elements carry their box in data `bx`. */
export function installCulling(cy: Core, minElements = 1500): boolean {
  const r = (cy as unknown as { renderer(): Partial<RendererInternals> & Record<string, unknown> }).renderer();
  if (
    !r ||
    typeof r.drawCachedElements !== 'function' ||
    typeof r.drawCachedElement !== 'function' ||
    typeof r.findNearestElements !== 'function' ||
    typeof r.getCachedZSortedEles !== 'function'
  )
    return false;
  const grid = new SpatialGrid<Ele>(256);
  const unboxed = new Set<Ele>();
  const track = (e: Ele): void => {
    const b = e.data('bx') as Box | undefined;
    if (b) grid.insert(e, b);
    else unboxed.add(e);
  };
  cy.elements().forEach(track);
  cy.on('add', (ev) => track(ev.target as Ele));
  cy.on('remove', (ev) => {
    grid.remove(ev.target as Ele);
    unboxed.delete(ev.target as Ele);
  });

  // Rank of each element in the array being drawn (z-order), rebuilt when cytoscape replaces the array.
  let rankOf: Ele[] | undefined;
  let rank = new Map<Ele, number>();
  const inOrder = (arr: Ele[], found: Set<Ele>): Ele[] => {
    if (arr !== rankOf) {
      rank = new Map();
      for (let i = 0; i < arr.length; i++) rank.set(arr[i], i);
      rankOf = arr;
    }
    for (const e of unboxed) found.add(e);
    const list: Ele[] = [];
    for (const e of found) if (rank.has(e)) list.push(e);
    list.sort((a, b) => rank.get(a)! - rank.get(b)!);
    return list;
  };

  const drawAll = r.drawCachedElements.bind(r);
  r.drawCachedElements = (context, eles, pxRatio, extent): void => {
    if (!extent || eles.length < minElements) return drawAll(context, eles, pxRatio, extent);
    const visible = inOrder(eles, grid.query([extent.x1, extent.y1, extent.x2, extent.y2]));
    for (const e of visible) r.drawCachedElement!(context, e, pxRatio, extent);
  };

  const findAll = r.findNearestElements.bind(r);
  const zSorted = r.getCachedZSortedEles.bind(r);
  r.findNearestElements = (x, y, interactiveOnly, isTouch): Ele[] => {
    const all = zSorted();
    if (all.length < minElements) return findAll(x, y, interactiveOnly, isTouch);
    const pad = 30 / cy.zoom();
    const subset: ZArray = inOrder(all, grid.query([x - pad, y - pad, x + pad, y + pad]));
    subset.interactive = subset.filter((e) => (e as unknown as { interactive(): boolean }).interactive());
    r.getCachedZSortedEles = (): ZArray => subset;
    try {
      return findAll(x, y, interactiveOnly, isTouch);
    } finally {
      delete r.getCachedZSortedEles;
    }
  };
  return true;
}
