/**
 * A layered (Sugiyama-style) layout for compound graphs, fast enough for 20k-node operator graphs.
 *
 * Pure and DOM-free: it runs in the layout Web Worker (layoutWorker.ts) and, as a fallback, on the main
 * thread. elkjs and dagre were measured too slow at 10k–20k nodes (see test/bench/graphRender.ts), so this
 * is a deliberately simple pipeline, linear or n·log n per step:
 *
 * 1. compounds are laid out bottom-up; every edge is lifted to the children of its endpoints' lowest
 *    common compound, so each compound is an ordinary layered-layout problem whose child compounds are
 *    boxes of their already computed size. Edges that cross a compound's border enter through a port (a
 *    virtual source on the compound's first layer, or a sink on its last), so inside the box they are
 *    layered and routed like internal edges instead of cutting straight through it;
 * 2. cycles (which appear only between lifted groups) are broken by reversing DFS back edges;
 * 3. layers by longest path from the sources; sources then sink to just above their first consumer;
 * 4. edges spanning several layers get dummy nodes (they become the edges' bend points);
 * 5. order within layers by alternating barycenter sweeps, keeping the order with the fewest crossings
 *    (bilayer crossings counted with an accumulator tree, Barth–Jünger–Mutzel 2004);
 * 6. x coordinates: each layer is placed at the least-squares optimum towards its neighbours' positions
 *    subject to order and minimum separation — isotonic regression by pool-adjacent-violators after
 *    subtracting the cumulative separations — alternating down and up passes.
 */

export interface LayoutOptions {
  /** Vertical gap between layers. */
  rankSep: number;
  /** Horizontal gap between neighbours in a layer. */
  nodeSep: number;
  /** Width reserved for an edge passing through a layer. */
  edgeSep: number;
  /** Padding inside a compound box. */
  padding: number;
  /** Extra space at the top of a compound for its label. */
  labelHeight: number;
  /** Upper bound on ordering sweeps (fewer are used for big layers). */
  maxSweeps: number;
}

export const DEFAULT_LAYOUT_OPTIONS: LayoutOptions = {
  rankSep: 30,
  nodeSep: 18,
  edgeSep: 8,
  padding: 12,
  labelHeight: 18,
  maxSweeps: 16,
};

/** Items 0..n-1 are leaves (with a size) or compounds (sized by the layout). Edges join leaves. */
export interface LayoutRequest {
  n: number;
  /** Parent compound index, or -1 at the top level. */
  parent: Int32Array;
  isCompound: Uint8Array;
  width: Float64Array;
  height: Float64Array;
  edgeSource: Int32Array;
  edgeTarget: Int32Array;
  options?: Partial<LayoutOptions>;
}

export interface LayoutResult {
  /** Centres of every item (compounds: centre of their box). */
  x: Float64Array;
  y: Float64Array;
  /** Sizes of every item (leaves: as given; compounds: as computed). */
  width: Float64Array;
  height: Float64Array;
  /**
   * For compounds: where the box extends beyond its children's bounding box plus padding (room for the
   * label, ports and routed edges), as the percentage of the extra width on the left and of the extra height
   * on top — what cytoscape's `min-width-bias-left` / `min-height-bias-top` need to draw this exact box.
   */
  biasLeft: Float64Array;
  biasTop: Float64Array;
  /** Bend points of edge e: bends[2·k], bends[2·k+1] for k in [bendStart[e], bendStart[e+1]). */
  bendStart: Int32Array;
  bends: Float64Array;
  /** Bounding box of the whole drawing (top-left is 0,0). */
  totalWidth: number;
  totalHeight: number;
  stats: { layers: number; dummies: number; crossings: number; ms: number };
}

/** Per-compound local result, before absolute positioning. */
interface LocalLayout {
  /** Children (item indices); local centres of the children followed by the in-port and out-port. */
  children: Int32Array;
  cx: Float64Array;
  cy: Float64Array;
  w: number;
  h: number;
  /** Node count of the local problem (children + ports): the stride of chain keys. */
  kk: number;
  /** Local indices of the in-port and out-port, -1 when the compound has none. */
  inPort: number;
  outPort: number;
  /** Dummy chains per lifted pair key `a·kk + b`: local centres, in source → target order. */
  chains: Map<number, Float64Array>;
}

export function layoutGraph(req: LayoutRequest): LayoutResult {
  const t0 = now();
  const opt = { ...DEFAULT_LAYOUT_OPTIONS, ...req.options };
  const n = req.n;
  const root = n; // virtual top-level compound
  const parentOf = (i: number): number => (req.parent[i] < 0 ? root : req.parent[i]);

  // Children lists per compound (root included), preserving item order.
  const childCount = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) childCount[parentOf(i)]++;
  const childStart = new Int32Array(n + 2);
  for (let c = 0; c <= n; c++) childStart[c + 1] = childStart[c] + childCount[c];
  const childList = new Int32Array(n);
  const fill = childStart.slice(0, n + 1);
  for (let i = 0; i < n; i++) childList[fill[parentOf(i)]++] = i;

  // Depths for lowest-common-ancestor lifting.
  const depth = new Int32Array(n + 1).fill(-1);
  depth[root] = 0;
  const depthOf = (i: number): number => {
    if (depth[i] >= 0) return depth[i];
    const stack: number[] = [];
    let j = i;
    while (depth[j] < 0) {
      stack.push(j);
      j = parentOf(j);
    }
    let d = depth[j];
    while (stack.length) depth[stack.pop()!] = ++d;
    return depth[i];
  };
  for (let i = 0; i < n; i++) depthOf(i);

  // Lift every edge to the pair of siblings under the endpoints' lowest common compound; every compound
  // the edge leaves (source side) or enters (target side) below that gets a port edge.
  const m = req.edgeSource.length;
  const liftA = new Int32Array(m).fill(-1);
  const liftB = new Int32Array(m).fill(-1);
  const liftC = new Int32Array(m).fill(-1);
  const edgesPerCompound = new Int32Array(n + 1);
  const portOut: number[][] = []; // per compound: children that feed its out-port
  const portIn: number[][] = []; // per compound: children fed by its in-port
  for (let e = 0; e < m; e++) {
    let a = req.edgeSource[e];
    let b = req.edgeTarget[e];
    if (a === b || a < 0 || b < 0) continue;
    while (depth[a] > depth[b]) {
      (portOut[parentOf(a)] ??= []).push(a);
      a = parentOf(a);
    }
    while (depth[b] > depth[a]) {
      (portIn[parentOf(b)] ??= []).push(b);
      b = parentOf(b);
    }
    if (a === b) continue; // one endpoint contains the other: nothing to lay out
    while (parentOf(a) !== parentOf(b)) {
      (portOut[parentOf(a)] ??= []).push(a);
      (portIn[parentOf(b)] ??= []).push(b);
      a = parentOf(a);
      b = parentOf(b);
    }
    liftA[e] = a;
    liftB[e] = b;
    liftC[e] = parentOf(a);
    edgesPerCompound[parentOf(a)]++;
  }
  const edgeStart = new Int32Array(n + 2);
  for (let c = 0; c <= n; c++) edgeStart[c + 1] = edgeStart[c] + edgesPerCompound[c];
  const edgeList = new Int32Array(edgeStart[n + 1]);
  const efill = edgeStart.slice(0, n + 1);
  for (let e = 0; e < m; e++) if (liftC[e] >= 0) edgeList[efill[liftC[e]]++] = e;

  const width = Float64Array.from(req.width);
  const height = Float64Array.from(req.height);
  const biasLeft = new Float64Array(n).fill(50);
  const biasTop = new Float64Array(n).fill(50);
  const locals: (LocalLayout | undefined)[] = new Array(n + 1);
  // Local index of each item inside its parent's layout.
  const localIndex = new Int32Array(n);
  for (let c = 0; c <= n; c++) for (let k = childStart[c]; k < childStart[c + 1]; k++) localIndex[childList[k]] = k - childStart[c];

  // Post-order over compounds: deeper first.
  const compounds: number[] = [];
  for (let i = 0; i < n; i++) if (req.isCompound[i]) compounds.push(i);
  compounds.sort((a, b) => depth[b] - depth[a]);
  compounds.push(root);

  let totalDummies = 0;
  let totalCrossings = 0;
  let maxLayers = 0;
  for (const c of compounds) {
    const kids = childList.subarray(childStart[c], childStart[c + 1]);
    const k = kids.length;
    const w = new Float64Array(k);
    const h = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      w[i] = width[kids[i]];
      h[i] = height[kids[i]];
    }
    const ea: number[] = [];
    const eb: number[] = [];
    for (let q = edgeStart[c]; q < edgeStart[c + 1]; q++) {
      const e = edgeList[q];
      ea.push(localIndex[liftA[e]]);
      eb.push(localIndex[liftB[e]]);
    }
    // Ports: the in-port and out-port follow the children (the root has none).
    const inPort = c !== root && (portIn[c]?.length ?? 0) > 0 ? k : -1;
    const outPort = c !== root && (portOut[c]?.length ?? 0) > 0 ? k + (inPort >= 0 ? 1 : 0) : -1;
    if (inPort >= 0) for (const child of portIn[c]) {
      ea.push(inPort);
      eb.push(localIndex[child]);
    }
    if (outPort >= 0) for (const child of portOut[c]) {
      ea.push(localIndex[child]);
      eb.push(outPort);
    }
    const kk = k + (inPort >= 0 ? 1 : 0) + (outPort >= 0 ? 1 : 0);
    const wk = new Float64Array(kk);
    const hk = new Float64Array(kk);
    wk.set(w);
    hk.set(h);
    for (let i = k; i < kk; i++) wk[i] = opt.edgeSep;
    const local = layoutLayered(kk, wk, hk, ea, eb, opt, { top: inPort, bottom: outPort });
    totalDummies += local.dummies;
    totalCrossings += local.crossings;
    maxLayers = Math.max(maxLayers, local.layers);
    const isRoot = c === root;
    const padX = isRoot ? 0 : opt.padding;
    const padTop = isRoot ? 0 : opt.padding + opt.labelHeight;
    const padBottom = isRoot ? 0 : opt.padding;
    for (let i = 0; i < kk; i++) {
      local.cx[i] += padX;
      local.cy[i] += padTop;
    }
    for (const chain of local.chains.values()) {
      for (let j = 0; j < chain.length; j += 2) {
        chain[j] += padX;
        chain[j + 1] += padTop;
      }
    }
    const cw = Math.max(local.w + 2 * padX, isRoot ? 0 : 60);
    const ch = local.h + padTop + padBottom;
    // Ports sit on the box's border.
    if (inPort >= 0) local.cy[inPort] = 0;
    if (outPort >= 0) local.cy[outPort] = ch;
    locals[c] = { children: kids, cx: local.cx, cy: local.cy, w: cw, h: ch, kk, inPort, outPort, chains: local.chains };
    if (!isRoot) {
      width[c] = cw;
      height[c] = ch;
      let minL = Infinity;
      let maxR = -Infinity;
      let minT = Infinity;
      let maxB = -Infinity;
      for (let i = 0; i < k; i++) {
        minL = Math.min(minL, local.cx[i] - w[i] / 2);
        maxR = Math.max(maxR, local.cx[i] + w[i] / 2);
        minT = Math.min(minT, local.cy[i] - h[i] / 2);
        maxB = Math.max(maxB, local.cy[i] + h[i] / 2);
      }
      const pct = (a: number, b: number): number => (a + b > 0.5 ? (100 * Math.max(0, a)) / (Math.max(0, a) + Math.max(0, b)) : 50);
      biasLeft[c] = pct(minL - opt.padding, cw - maxR - opt.padding);
      biasTop[c] = pct(minT - opt.padding, ch - maxB - opt.padding);
    }
  }

  // Absolute positions, top-down from the root: top-left corner of each compound.
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const left = new Float64Array(n + 1);
  const top = new Float64Array(n + 1);
  for (let ci = compounds.length - 1; ci >= 0; ci--) {
    const c = compounds[ci];
    const L = locals[c]!;
    for (let i = 0; i < L.children.length; i++) {
      const item = L.children[i];
      x[item] = left[c] + L.cx[i];
      y[item] = top[c] + L.cy[i];
      if (req.isCompound[item]) {
        left[item] = x[item] - width[item] / 2;
        top[item] = y[item] - height[item] / 2;
      }
    }
  }

  // Bend points of every edge: out of each compound around the source (chain to the out-port, the port),
  // the chain of its lifted pair, then into each compound around the target (the in-port, its chain).
  const bendStart = new Int32Array(m + 1);
  const pts: number[] = [];
  const pushChain = (c: number, key: number): void => {
    const chain = locals[c]!.chains.get(key);
    if (!chain) return;
    for (let j = 0; j < chain.length; j += 2) pts.push(chain[j] + left[c], chain[j + 1] + top[c]);
  };
  const pushPort = (c: number, port: number): void => {
    const L = locals[c]!;
    pts.push(L.cx[port] + left[c], L.cy[port] + top[c]);
  };
  for (let e = 0; e < m; e++) {
    bendStart[e] = pts.length / 2;
    const c = liftC[e];
    if (c < 0) continue;
    let child = req.edgeSource[e];
    let x = parentOf(child);
    while (x !== c) {
      const L = locals[x]!;
      pushChain(x, localIndex[child] * L.kk + L.outPort);
      pushPort(x, L.outPort);
      child = x;
      x = parentOf(x);
    }
    const L = locals[c]!;
    pushChain(c, localIndex[liftA[e]] * L.kk + localIndex[liftB[e]]);
    const inward: number[] = [];
    child = req.edgeTarget[e];
    let y = parentOf(child);
    while (y !== c) {
      inward.push(y, child);
      child = y;
      y = parentOf(y);
    }
    for (let q = inward.length - 2; q >= 0; q -= 2) {
      const yy = inward[q];
      const Ly = locals[yy]!;
      pushPort(yy, Ly.inPort);
      pushChain(yy, Ly.inPort * Ly.kk + localIndex[inward[q + 1]]);
    }
  }
  bendStart[m] = pts.length / 2;
  const bends = Float64Array.from(pts);

  const rootL = locals[root]!;
  return {
    x,
    y,
    width,
    height,
    biasLeft,
    biasTop,
    bendStart,
    bends,
    totalWidth: rootL.w,
    totalHeight: rootL.h,
    stats: { layers: maxLayers, dummies: totalDummies, crossings: totalCrossings, ms: now() - t0 },
  };
}

interface LayeredResult {
  cx: Float64Array;
  cy: Float64Array;
  w: number;
  h: number;
  chains: Map<number, Float64Array>;
  dummies: number;
  crossings: number;
  layers: number;
}

/**
 * Layered layout of one flat graph of k boxes (sizes w, h) and edges ea[i] → eb[i] (local indices).
 * Returns centres with the drawing's top-left at (0, 0), and for every edge pair spanning more than one
 * layer the chain of dummy centres keyed by `a·k + b` (in the edge's own direction).
 */
export function layoutLayered(
  k: number,
  w: Float64Array,
  h: Float64Array,
  ea: readonly number[],
  eb: readonly number[],
  opt: LayoutOptions,
  ports: { top: number; bottom: number } = { top: -1, bottom: -1 },
): LayeredResult {
  if (k === 0) return { cx: new Float64Array(0), cy: new Float64Array(0), w: 0, h: 0, chains: new Map(), dummies: 0, crossings: 0, layers: 0 };

  // Deduplicate edge pairs; drop self loops.
  const pairKeys = new Map<number, number>();
  const pa: number[] = [];
  const pb: number[] = [];
  for (let i = 0; i < ea.length; i++) {
    const a = ea[i];
    const b = eb[i];
    if (a === b) continue;
    const key = a * k + b;
    if (!pairKeys.has(key)) {
      pairKeys.set(key, pa.length);
      pa.push(a);
      pb.push(b);
    }
  }
  const p = pa.length;

  // Adjacency (CSR) for cycle breaking and layering.
  const outDeg = new Int32Array(k);
  for (let i = 0; i < p; i++) outDeg[pa[i]]++;
  const outStart = new Int32Array(k + 1);
  for (let v = 0; v < k; v++) outStart[v + 1] = outStart[v] + outDeg[v];
  const outEdge = new Int32Array(p);
  const ofill = outStart.slice(0, k);
  for (let i = 0; i < p; i++) outEdge[ofill[pa[i]]++] = i;

  // 1. Break cycles: iterative DFS in item order; edges into a vertex on the stack are reversed.
  const reversed = new Uint8Array(p);
  {
    const state = new Uint8Array(k); // 0 new, 1 on stack, 2 done
    const stackV = new Int32Array(k);
    const stackI = new Int32Array(k);
    for (let s = 0; s < k; s++) {
      if (state[s]) continue;
      let sp = 0;
      stackV[0] = s;
      stackI[0] = outStart[s];
      state[s] = 1;
      while (sp >= 0) {
        const v = stackV[sp];
        if (stackI[sp] < outStart[v + 1]) {
          const e = outEdge[stackI[sp]++];
          const t = pb[e];
          if (state[t] === 1) reversed[e] = 1;
          else if (state[t] === 0) {
            state[t] = 1;
            sp++;
            stackV[sp] = t;
            stackI[sp] = outStart[t];
          }
        } else {
          state[v] = 2;
          sp--;
        }
      }
    }
  }
  const src = new Int32Array(p);
  const dst = new Int32Array(p);
  for (let i = 0; i < p; i++) {
    src[i] = reversed[i] ? pb[i] : pa[i];
    dst[i] = reversed[i] ? pa[i] : pb[i];
  }

  // 2. Longest-path layering (Kahn order), then sources sink to just above their first consumer.
  const inDeg = new Int32Array(k);
  const dOut = new Int32Array(k);
  for (let i = 0; i < p; i++) {
    inDeg[dst[i]]++;
    dOut[src[i]]++;
  }
  const dStart = new Int32Array(k + 1);
  for (let v = 0; v < k; v++) dStart[v + 1] = dStart[v] + dOut[v];
  const dEdge = new Int32Array(p);
  const dfill = dStart.slice(0, k);
  for (let i = 0; i < p; i++) dEdge[dfill[src[i]]++] = i;
  const layer = new Int32Array(k);
  const topo = new Int32Array(k);
  {
    const indeg = inDeg.slice();
    let head = 0;
    let tail = 0;
    for (let v = 0; v < k; v++) if (indeg[v] === 0) topo[tail++] = v;
    while (head < tail) {
      const v = topo[head++];
      for (let q = dStart[v]; q < dStart[v + 1]; q++) {
        const t = dst[dEdge[q]];
        if (layer[v] + 1 > layer[t]) layer[t] = layer[v] + 1;
        if (--indeg[t] === 0) topo[tail++] = t;
      }
    }
  }
  for (let v = 0; v < k; v++) {
    if (v === ports.top || inDeg[v] !== 0 || dStart[v] === dStart[v + 1]) continue;
    let minSucc = Infinity;
    for (let q = dStart[v]; q < dStart[v + 1]; q++) minSucc = Math.min(minSucc, layer[dst[dEdge[q]]]);
    layer[v] = minSucc - 1;
  }
  // The in-port owns the first layer, the out-port the last.
  if (ports.top >= 0) {
    let minOther = Infinity;
    for (let v = 0; v < k; v++) if (v !== ports.top && v !== ports.bottom) minOther = Math.min(minOther, layer[v]);
    const shift = 1 - (Number.isFinite(minOther) ? minOther : 1);
    for (let v = 0; v < k; v++) layer[v] += shift;
    layer[ports.top] = 0;
  }
  let nLayers = 0;
  for (let v = 0; v < k; v++) if (v !== ports.bottom) nLayers = Math.max(nLayers, layer[v] + 1);
  if (ports.bottom >= 0) layer[ports.bottom] = nLayers++;

  // 3. Dummy vertices for edges spanning several layers (capped: beyond the cap long edges stay straight).
  const maxDummies = Math.max(20000, 4 * k);
  let total = k;
  for (let i = 0; i < p; i++) {
    const span = layer[dst[i]] - layer[src[i]];
    if (span > 1 && total - k + span - 1 <= maxDummies) total += span - 1;
  }
  const vLayer = new Int32Array(total);
  vLayer.set(layer);
  const vW = new Float64Array(total);
  vW.set(w);
  for (let v = k; v < total; v++) vW[v] = opt.edgeSep;
  // Layer-to-layer segments (all edges between adjacent layers after this step).
  const segA: number[] = [];
  const segB: number[] = [];
  const chainOf: Int32Array[] = new Array(p);
  {
    let next = k;
    for (let i = 0; i < p; i++) {
      const a = src[i];
      const b = dst[i];
      const span = layer[b] - layer[a];
      if (span > 1 && next + span - 1 <= total) {
        const chain = new Int32Array(span - 1);
        let prev = a;
        for (let j = 0; j < span - 1; j++) {
          const d = next++;
          vLayer[d] = layer[a] + 1 + j;
          chain[j] = d;
          segA.push(prev);
          segB.push(d);
          prev = d;
        }
        segA.push(prev);
        segB.push(b);
        chainOf[i] = chain;
      } else {
        segA.push(a);
        segB.push(b);
      }
    }
  }
  const s = segA.length;
  // Up/down neighbour lists (CSR) over segments that join adjacent layers.
  const upDeg = new Int32Array(total);
  const downDeg = new Int32Array(total);
  for (let i = 0; i < s; i++) {
    if (vLayer[segB[i]] - vLayer[segA[i]] !== 1) continue;
    downDeg[segA[i]]++;
    upDeg[segB[i]]++;
  }
  const upStart = new Int32Array(total + 1);
  const downStart = new Int32Array(total + 1);
  for (let v = 0; v < total; v++) {
    upStart[v + 1] = upStart[v] + upDeg[v];
    downStart[v + 1] = downStart[v] + downDeg[v];
  }
  const upList = new Int32Array(upStart[total]);
  const downList = new Int32Array(downStart[total]);
  {
    const uf = upStart.slice(0, total);
    const df = downStart.slice(0, total);
    for (let i = 0; i < s; i++) {
      if (vLayer[segB[i]] - vLayer[segA[i]] !== 1) continue;
      downList[df[segA[i]]++] = segB[i];
      upList[uf[segB[i]]++] = segA[i];
    }
  }

  // 4. Initial order: DFS preorder from the sources in item order (keeps chains together).
  const layers: Int32Array[] = [];
  {
    const counts = new Int32Array(nLayers);
    for (let v = 0; v < total; v++) counts[vLayer[v]]++;
    for (let l = 0; l < nLayers; l++) layers.push(new Int32Array(counts[l]));
    const filled = new Int32Array(nLayers);
    const seen = new Uint8Array(total);
    const stack: number[] = [];
    const visit = (s0: number): void => {
      stack.push(s0);
      while (stack.length) {
        const v = stack.pop()!;
        if (seen[v]) continue;
        seen[v] = 1;
        layers[vLayer[v]][filled[vLayer[v]]++] = v;
        for (let q = downStart[v + 1] - 1; q >= downStart[v]; q--) if (!seen[downList[q]]) stack.push(downList[q]);
      }
    };
    for (let v = 0; v < k; v++) if (upStart[v] === upStart[v + 1]) visit(v);
    for (let v = 0; v < total; v++) if (!seen[v]) visit(v);
  }
  const pos = new Float64Array(total);
  const setPositions = (): void => {
    for (const L of layers) for (let i = 0; i < L.length; i++) pos[L[i]] = i;
  };
  setPositions();

  // 5. Barycenter sweeps; keep the best order.
  const countAll = (): number => {
    let c = 0;
    for (let l = 0; l + 1 < nLayers; l++) c += bilayerCrossings(layers[l], layers[l + 1], downStart, downList, pos);
    return c;
  };
  let best = countAll();
  let bestLayers = layers.map((L) => L.slice());
  const sweeps = total > 50000 ? 4 : total > 10000 ? 6 : opt.maxSweeps;
  const bary = new Float64Array(total);
  const sortLayer = (L: Int32Array, nStart: Int32Array, nList: Int32Array): void => {
    for (let i = 0; i < L.length; i++) {
      const v = L[i];
      const a = nStart[v];
      const b = nStart[v + 1];
      if (a === b) {
        bary[v] = pos[v];
        continue;
      }
      let sum = 0;
      for (let q = a; q < b; q++) sum += pos[nList[q]];
      bary[v] = sum / (b - a);
    }
    const arr = Array.from(L);
    arr.sort((u, v) => bary[u] - bary[v] || pos[u] - pos[v]);
    for (let i = 0; i < arr.length; i++) {
      L[i] = arr[i];
      pos[arr[i]] = i;
    }
  };
  if (best > 0) {
    for (let it = 0; it < sweeps; it++) {
      if (it % 2 === 0) for (let l = 1; l < nLayers; l++) sortLayer(layers[l], upStart, upList);
      else for (let l = nLayers - 2; l >= 0; l--) sortLayer(layers[l], downStart, downList);
      const c = countAll();
      if (c < best) {
        best = c;
        bestLayers = layers.map((L) => L.slice());
        if (c === 0) break;
      }
    }
  }
  for (let l = 0; l < nLayers; l++) layers[l] = bestLayers[l];
  setPositions();

  // 6. Coordinates. y from layer heights; x by least-squares placement (PAV) towards neighbours.
  const layerH = new Float64Array(nLayers);
  for (let v = 0; v < k; v++) layerH[vLayer[v]] = Math.max(layerH[vLayer[v]], h[v]);
  const layerTop = new Float64Array(nLayers + 1);
  for (let l = 0; l < nLayers; l++) layerTop[l + 1] = layerTop[l] + layerH[l] + (l + 1 < nLayers ? opt.rankSep : 0);
  const x = new Float64Array(total);
  for (const L of layers) {
    let cur = 0;
    for (let i = 0; i < L.length; i++) {
      const v = L[i];
      if (i > 0) cur += vW[L[i - 1]] / 2 + vW[v] / 2 + sepBetween(L[i - 1], v, k, opt);
      x[v] = cur;
    }
    const mid = cur / 2;
    for (let i = 0; i < L.length; i++) x[L[i]] -= mid;
  }
  const desired = new Float64Array(total);
  const weight = new Float64Array(total);
  const place = (L: Int32Array, useUp: boolean, useDown: boolean): void => {
    for (let i = 0; i < L.length; i++) {
      const v = L[i];
      let sum = 0;
      let wsum = 0;
      const dv = v >= k;
      if (useUp) {
        for (let q = upStart[v]; q < upStart[v + 1]; q++) {
          const u = upList[q];
          const ww = dv && u >= k ? 8 : dv || u >= k ? 2 : 1;
          sum += ww * x[u];
          wsum += ww;
        }
      }
      if (useDown) {
        for (let q = downStart[v]; q < downStart[v + 1]; q++) {
          const u = downList[q];
          const ww = dv && u >= k ? 8 : dv || u >= k ? 2 : 1;
          sum += ww * x[u];
          wsum += ww;
        }
      }
      if (wsum === 0) {
        desired[v] = x[v];
        weight[v] = 0.05;
      } else {
        desired[v] = sum / wsum;
        weight[v] = wsum;
      }
    }
    placeLayer(L, desired, weight, vW, x, (a, b) => sepBetween(a, b, k, opt));
  };
  const passes = total > 50000 ? 2 : 4;
  for (let it = 0; it < passes; it++) {
    for (let l = 1; l < nLayers; l++) place(layers[l], true, it > 0);
    for (let l = nLayers - 2; l >= 0; l--) place(layers[l], it > 0, true);
  }
  for (let l = 0; l < nLayers; l++) place(layers[l], true, true);

  // Normalise: leftmost box edge at 0.
  let minX = Infinity;
  let maxX = -Infinity;
  for (let v = 0; v < total; v++) {
    minX = Math.min(minX, x[v] - vW[v] / 2);
    maxX = Math.max(maxX, x[v] + vW[v] / 2);
  }
  const cx = new Float64Array(k);
  const cy = new Float64Array(k);
  for (let v = 0; v < k; v++) {
    cx[v] = x[v] - minX;
    cy[v] = layerTop[vLayer[v]] + layerH[vLayer[v]] / 2;
  }
  const chains = new Map<number, Float64Array>();
  for (let i = 0; i < p; i++) {
    const chain = chainOf[i];
    if (!chain) continue;
    const pts = new Float64Array(chain.length * 2);
    for (let j = 0; j < chain.length; j++) {
      const d = reversed[i] ? chain[chain.length - 1 - j] : chain[j];
      pts[2 * j] = x[d] - minX;
      pts[2 * j + 1] = layerTop[vLayer[d]] + layerH[vLayer[d]] / 2;
    }
    chains.set(pa[i] * k + pb[i], pts);
  }
  return { cx, cy, w: maxX - minX, h: layerTop[nLayers], chains, dummies: total - k, crossings: best, layers: nLayers };
}

function sepBetween(a: number, b: number, k: number, opt: LayoutOptions): number {
  return a >= k || b >= k ? opt.edgeSep : opt.nodeSep;
}

/**
 * Places one layer at the weighted least-squares optimum towards `desired`, keeping the order and the
 * minimum separations: with offsets o_i (cumulative half-widths + gaps), y_i = x_i − o_i must be
 * non-decreasing, which is weighted isotonic regression, solved exactly by pool-adjacent-violators.
 */
export function placeLayer(
  L: Int32Array,
  desired: Float64Array,
  weight: Float64Array,
  width: Float64Array,
  out: Float64Array,
  sep: (a: number, b: number) => number,
): void {
  const n = L.length;
  if (n === 0) return;
  const off = new Float64Array(n);
  for (let i = 1; i < n; i++) off[i] = off[i - 1] + width[L[i - 1]] / 2 + width[L[i]] / 2 + sep(L[i - 1], L[i]);
  // Blocks: value, weight, count.
  const bVal = new Float64Array(n);
  const bW = new Float64Array(n);
  const bCnt = new Int32Array(n);
  let nb = 0;
  for (let i = 0; i < n; i++) {
    const v = L[i];
    let val = desired[v] - off[i];
    let wt = weight[v];
    let cnt = 1;
    while (nb > 0 && bVal[nb - 1] >= val) {
      nb--;
      val = (bVal[nb] * bW[nb] + val * wt) / (bW[nb] + wt);
      wt += bW[nb];
      cnt += bCnt[nb];
    }
    bVal[nb] = val;
    bW[nb] = wt;
    bCnt[nb] = cnt;
    nb++;
  }
  let i = 0;
  for (let b = 0; b < nb; b++) {
    for (let c = 0; c < bCnt[b]; c++, i++) out[L[i]] = bVal[b] + off[i];
  }
}

/** Crossings between two adjacent layers (accumulator tree over the lower layer's positions). */
export function bilayerCrossings(upper: Int32Array, lower: Int32Array, downStart: Int32Array, downList: Int32Array, pos: Float64Array): number {
  if (upper.length < 2 || lower.length < 2) return 0;
  // Edge targets' positions, ordered by (source position, target position).
  const targets: number[] = [];
  for (let i = 0; i < upper.length; i++) {
    const v = upper[i];
    const a = downStart[v];
    const b = downStart[v + 1];
    if (b - a === 1) targets.push(pos[downList[a]]);
    else if (b > a) {
      const t: number[] = [];
      for (let q = a; q < b; q++) t.push(pos[downList[q]]);
      t.sort((x, y) => x - y);
      for (const z of t) targets.push(z);
    }
  }
  let first = 1;
  while (first < lower.length) first *= 2;
  const tree = new Int32Array(2 * first - 1);
  first -= 1;
  let crossings = 0;
  for (const t of targets) {
    let index = t + first;
    tree[index]++;
    while (index > 0) {
      if (index % 2) crossings += tree[index + 1];
      index = (index - 1) >> 1;
      tree[index]++;
    }
  }
  return crossings;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
