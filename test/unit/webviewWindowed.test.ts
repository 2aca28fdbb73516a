/**
 * Windowed mounting for very big graphs (src/webview/windowed.ts): the grid's box queries against brute
 * force, and what planWindow mounts and drops; plus the layered layout of a long flat chain of residual
 * blocks staying a column (the drift that made a 100k-operator chain a diagonal 100k px wide).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layoutGraph, type LayoutRequest } from '../../src/webview/layout';
import { NodeGrid, planWindow } from '../../src/webview/windowed';

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomGrid(n: number, seed: number): NodeGrid {
  const r = rng(seed);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  const h = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = r() * 5000 - 1000;
    y[i] = r() * 20000;
    w[i] = 20 + r() * 300;
    h[i] = 20 + r() * 40;
  }
  return new NodeGrid(x, y, w, h, 400);
}

describe('NodeGrid', () => {
  it('finds exactly the nodes whose box overlaps a query box', () => {
    const g = randomGrid(3000, 7);
    const r = rng(11);
    for (let q = 0; q < 50; q++) {
      const x1 = r() * 6000 - 1500;
      const y1 = r() * 22000 - 1000;
      const b = { x1, y1, x2: x1 + r() * 2000, y2: y1 + r() * 3000 };
      const want: number[] = [];
      for (let i = 0; i < g.x.length; i++) {
        if (g.x[i] + g.w[i] / 2 >= b.x1 && g.x[i] - g.w[i] / 2 <= b.x2 && g.y[i] + g.h[i] / 2 >= b.y1 && g.y[i] - g.h[i] / 2 <= b.y2) want.push(i);
      }
      assert.deepEqual(g.query(b).sort((a, c) => a - c), want);
    }
  });

  it('answers a box far bigger than the drawing with every node', () => {
    const g = randomGrid(500, 3);
    assert.equal(g.query({ x1: -1e9, y1: -1e9, x2: 1e9, y2: 1e9 }).length, 500);
  });
});

/** NodeGrid as it was before its keys were made small integers (aa0d806): the order of its answers is the reference. */
class ReferenceGrid {
  private readonly cells = new Map<number, number[]>();
  private readonly padX: number;
  private readonly padY: number;
  constructor(
    readonly x: Float64Array,
    readonly y: Float64Array,
    readonly w: Float64Array,
    readonly h: Float64Array,
    private readonly cell = 400,
  ) {
    let pw = 0;
    let ph = 0;
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i])) continue;
      pw = Math.max(pw, w[i] / 2);
      ph = Math.max(ph, h[i] / 2);
      const k = (Math.floor(y[i] / cell) + 1048576) * 2097152 + (Math.floor(x[i] / cell) + 1048576);
      const list = this.cells.get(k);
      if (list) list.push(i);
      else this.cells.set(k, [i]);
    }
    this.padX = pw;
    this.padY = ph;
  }
  query(b: { x1: number; y1: number; x2: number; y2: number }): number[] {
    const out: number[] = [];
    const c = this.cell;
    const x1 = Math.floor((b.x1 - this.padX) / c);
    const x2 = Math.floor((b.x2 + this.padX) / c);
    const y1 = Math.floor((b.y1 - this.padY) / c);
    const y2 = Math.floor((b.y2 + this.padY) / c);
    const hit = (i: number): boolean => this.x[i] + this.w[i] / 2 >= b.x1 && this.x[i] - this.w[i] / 2 <= b.x2 && this.y[i] + this.h[i] / 2 >= b.y1 && this.y[i] - this.h[i] / 2 <= b.y2;
    if ((x2 - x1 + 1) * (y2 - y1 + 1) > this.cells.size * 4) {
      for (const list of this.cells.values()) for (const i of list) if (hit(i)) out.push(i);
      return out;
    }
    for (let cy = y1; cy <= y2; cy++) {
      for (let cx = x1; cx <= x2; cx++) {
        const list = this.cells.get((cy + 1048576) * 2097152 + (cx + 1048576));
        if (list) for (const i of list) if (hit(i)) out.push(i);
      }
    }
    return out;
  }
}

describe('NodeGrid keyed by small integers', () => {
  it('answers every query with the same nodes in the same order as the double-keyed grid (negative, NaN, huge and empty regions)', () => {
    const r = rng(23);
    let nonEmpty = 0;
    for (const [n, spread] of [[4000, 1], [4000, 30], [300, 0.01], [0, 1]] as const) {
      const x = new Float64Array(n);
      const y = new Float64Array(n);
      const w = new Float64Array(n);
      const h = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        x[i] = i % 97 === 0 ? NaN : (r() * 8000 - 3000) * spread;
        y[i] = (r() * 30000 - 2000) * spread;
        w[i] = 20 + r() * 300;
        h[i] = 20 + r() * 40;
      }
      const g = new NodeGrid(x, y, w, h, 400);
      const ref = new ReferenceGrid(x, y, w, h, 400);
      for (let q = 0; q < 300; q++) {
        const size = q % 3 === 0 ? 1e9 : q % 3 === 1 ? 30000 * spread : 2000;
        const x1 = (r() * 12000 - 6000) * spread - size / 2;
        const y1 = (r() * 40000 - 5000) * spread - size / 2;
        const b = { x1, y1, x2: x1 + r() * size, y2: y1 + r() * size };
        const want = ref.query(b);
        nonEmpty += want.length > 0 ? 1 : 0;
        assert.deepStrictEqual(g.query(b), want);
      }
    }
    assert.ok(nonEmpty > 300, `${nonEmpty} queries found nodes`);
  });
});

/** A column of n nodes 100 px apart (x = 0), 80×40 each. */
function column(n: number): NodeGrid {
  const y = Float64Array.from({ length: n }, (_, i) => i * 100);
  return new NodeGrid(new Float64Array(n), y, new Float64Array(n).fill(80), new Float64Array(n).fill(40), 400);
}

describe('planWindow', () => {
  const view = (top: number, zoom = 1) => ({ zoom, pan: { x: 400, y: -top * zoom } });

  it('mounts the nodes within half a screen of the viewport, nearest to its centre first', () => {
    const g = column(1000);
    const mounted = new Uint8Array(1000);
    // 800×600 screen at zoom 1 showing y ∈ [10000, 10600]; half a screen more each side: [9700, 10900].
    const p = planWindow(g, mounted, new Uint8Array(1000), view(10000), 800, 600, 50);
    assert.deepEqual([...p.add].sort((a, b) => a - b), Array.from({ length: 13 }, (_, i) => 97 + i));
    assert.ok(p.add[0] === 103 || p.add[0] === 102, `nearest first, got ${p.add[0]}`);
    assert.equal(p.remove.length, 0);
    assert.equal(p.capped, false);
  });

  it('caps what it mounts when zoomed far out, and drops far unpinned nodes', () => {
    const g = column(1000);
    const mounted = new Uint8Array(1000);
    const pinned = new Uint8Array(1000);
    for (let i = 0; i < 40; i++) mounted[i] = 1;
    pinned[5] = 1;
    // Zoom 0.01: the screen shows y ∈ [50000, 110000], every node from 350 on within the window.
    const p = planWindow(g, mounted, pinned, view(50000, 0.01), 800, 600, 30);
    assert.equal(p.capped, true);
    assert.equal(p.add.length, 30);
    // The 30 nearest the centre (y = 80000: node 800).
    assert.ok(p.add.every((i) => Math.abs(i - 800) <= 15), `nearest to the centre: ${p.add.join(',')}`);
    // The keep region (two screens around the view) is y ∈ [−70000, 230000] and holds nodes 0..39: none dropped.
    assert.equal(p.remove.length, 0);
    const q = planWindow(g, mounted, pinned, view(90000), 800, 600, 30);
    // At zoom 1 near the bottom, nodes 0..39 are far away: all but the pinned one go.
    assert.deepEqual(q.remove, Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 5));
  });
});

describe('layered layout of a long flat chain', () => {
  it('stays a column: 600 transformer-style blocks are not laid out as a diagonal', () => {
    // test/bench/graphModels.ts's block: ln1 → q, k, v; k → kᵀ; q, kᵀ → scores → softmax; softmax, v → ctx →
    // out; x, out → r1 → ln2 → fc1 → relu → fc2; r1, fc2 → x′.
    const blocks = 600;
    const src: number[] = [];
    const dst: number[] = [];
    let n = 1;
    const node = (...inputs: number[]): number => {
      for (const i of inputs) {
        src.push(i);
        dst.push(n);
      }
      return n++;
    };
    let x = 0;
    for (let b = 0; b < blocks; b++) {
      const ln1 = node(x);
      const q = node(ln1);
      const k = node(ln1);
      const v = node(ln1);
      const kt = node(k);
      const sm = node(node(q, kt));
      const o = node(node(sm, v));
      const r1 = node(x, o);
      const h2 = node(node(node(node(r1))));
      x = node(r1, h2);
    }
    const req: LayoutRequest = {
      n,
      parent: new Int32Array(n).fill(-1),
      isCompound: new Uint8Array(n),
      width: new Float64Array(n).fill(80),
      height: new Float64Array(n).fill(24),
      edgeSource: Int32Array.from(src),
      edgeTarget: Int32Array.from(dst),
    };
    const r = layoutGraph(req);
    assert.ok(r.totalHeight > 100000, `a tall drawing: ${r.totalHeight}`);
    assert.ok(r.totalWidth < 1500, `a narrow column expected, got ${Math.round(r.totalWidth)} px wide`);
  });
});
