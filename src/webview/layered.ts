/**
 * The layered layout of one flat graph (one compound's children, see layout.ts), as its pipeline's steps:
 * dedupe pairs, break cycles, assign layers, add dummy vertices, order within layers, place x coordinates.
 * Pure and DOM-free (it runs in the layout Web Worker).
 */
import type { LayoutOptions } from './layout';
import { PairMap, PairTable } from './pairTable';

export interface LayeredResult {
  cx: Float64Array;
  cy: Float64Array;
  w: number;
  h: number;
  chains: PairMap<Float64Array>;
  dummies: number;
  crossings: number;
  layers: number;
}

/**
 * Layered layout of one flat graph of k boxes (sizes w, h) and edges ea[i] → eb[i] (local indices).
 * Returns centres with the drawing's top-left at (0, 0), and for every edge pair spanning more than one
 * layer the chain of dummy centres keyed by the pair (a, b) (in the edge's own direction).
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
  if (k === 0) return { cx: new Float64Array(0), cy: new Float64Array(0), w: 0, h: 0, chains: new PairMap(), dummies: 0, crossings: 0, layers: 0 };
  const { pa, pb } = dedupePairs(k, ea, eb);
  const p = pa.length;
  // 1. Break cycles.
  const reversed = backEdges(k, pa, pb);
  const src = new Int32Array(p);
  const dst = new Int32Array(p);
  for (let i = 0; i < p; i++) {
    src[i] = reversed[i] ? pb[i] : pa[i];
    dst[i] = reversed[i] ? pa[i] : pb[i];
  }
  // 2. Layers.
  const { layer, nLayers } = assignLayers(k, src, dst, ports);
  // 3. Dummy vertices and the adjacent-layer neighbour lists.
  const g = addDummies(k, w, layer, nLayers, src, dst, opt);
  // 4–5. Order within layers.
  const { layers, crossings } = orderLayers(k, g, opt);
  // 6. Coordinates. y from layer heights; x by least-squares placement (PAV) towards neighbours.
  const layerH = new Float64Array(nLayers);
  for (let v = 0; v < k; v++) layerH[g.vLayer[v]] = Math.max(layerH[g.vLayer[v]], h[v]);
  const layerTop = new Float64Array(nLayers + 1);
  for (let l = 0; l < nLayers; l++) layerTop[l + 1] = layerTop[l] + layerH[l] + (l + 1 < nLayers ? opt.rankSep : 0);
  const x = placeX(k, g, layers, opt);
  removeDrift(x, layers);
  return assemble(k, g, x, layerTop, layerH, { pa, pb, reversed }, crossings);
}

/**
 * Distinct edge pairs (first occurrence order), self loops dropped. In a typed-array table: a Map keyed by
 * `a·k + b` hashed heap numbers once k passed 46k (a 100k-operator graph's top level).
 */
function dedupePairs(k: number, ea: readonly number[], eb: readonly number[]): { pa: number[]; pb: number[] } {
  const pairKeys = new PairTable(ea.length);
  const pa: number[] = [];
  const pb: number[] = [];
  for (let i = 0; i < ea.length; i++) {
    const a = ea[i];
    const b = eb[i];
    if (a === b) continue;
    if (pairKeys.get(a, b) < 0) {
      pairKeys.set(a, b, pa.length);
      pa.push(a);
      pb.push(b);
    }
  }
  return { pa, pb };
}

/** Cycle breaking: iterative DFS in item order; edges into a vertex on the stack are marked reversed. */
function backEdges(k: number, pa: readonly number[], pb: readonly number[]): Uint8Array {
  const p = pa.length;
  // Adjacency (CSR).
  const outDeg = new Int32Array(k);
  for (let i = 0; i < p; i++) outDeg[pa[i]]++;
  const outStart = new Int32Array(k + 1);
  for (let v = 0; v < k; v++) outStart[v + 1] = outStart[v] + outDeg[v];
  const outEdge = new Int32Array(p);
  const ofill = outStart.slice(0, k);
  for (let i = 0; i < p; i++) outEdge[ofill[pa[i]]++] = i;

  const reversed = new Uint8Array(p);
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
  return reversed;
}

/**
 * Longest-path layering (Kahn order) of the acyclic edges src → dst, then sources sink to just above their
 * first consumer; the in-port owns the first layer, the out-port the last.
 */
function assignLayers(k: number, src: Int32Array, dst: Int32Array, ports: { top: number; bottom: number }): { layer: Int32Array; nLayers: number } {
  const p = src.length;
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
  return { layer, nLayers };
}

/** The proper layered graph: the k boxes plus dummy vertices, every segment joining adjacent layers. */
interface ProperGraph {
  /** Vertices: the k boxes, then dummies. */
  total: number;
  nLayers: number;
  vLayer: Int32Array;
  vW: Float64Array;
  /** Per edge pair: its dummy chain (source → target of the acyclic edge), if it spans several layers. */
  chainOf: Int32Array[];
  /** Neighbours one layer up / down (CSR). */
  upStart: Int32Array;
  upList: Int32Array;
  downStart: Int32Array;
  downList: Int32Array;
}

/** Dummy vertices for edges spanning several layers (capped: beyond the cap long edges stay straight). */
function addDummies(k: number, w: Float64Array, layer: Int32Array, nLayers: number, src: Int32Array, dst: Int32Array, opt: LayoutOptions): ProperGraph {
  const p = src.length;
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
  return { total, nLayers, vLayer, vW, chainOf, upStart, upList, downStart, downList };
}

/**
 * The order within layers: DFS preorder from the sources in item order (keeps chains together), then
 * alternating barycenter sweeps; returns the order with the fewest crossings and that count.
 */
function orderLayers(k: number, g: ProperGraph, opt: LayoutOptions): { layers: Int32Array[]; crossings: number } {
  const { total, nLayers, vLayer, upStart, upList, downStart, downList } = g;
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

  // Barycenter sweeps; keep the best order.
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
  return { layers, crossings: best };
}

/** x centres: packed and centred per layer, then alternating least-squares passes (placeLayer). */
function placeX(k: number, g: ProperGraph, layers: Int32Array[], opt: LayoutOptions): Float64Array {
  const { total, nLayers, vW, upStart, upList, downStart, downList } = g;
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
  return x;
}

/** Layers averaged on each side when removing drift (see removeDrift). */
const DRIFT_WINDOW = 64;

/**
 * Long chains of repeated blocks drift sideways: each block's side branch (a residual edge's dummies) nudges
 * the main column by a few pixels, and the least-squares passes never pull it back, so a 100k-operator chain
 * became a diagonal 100k px wide (the first view at the top showed nothing). Shifting every layer by the
 * moving average of layer centres over ±DRIFT_WINDOW layers removes that trend and keeps everything within a
 * layer (order, separations) and the shape of each block; graphs of up to 2·DRIFT_WINDOW layers get one
 * constant shift, i.e. no change.
 */
function removeDrift(x: Float64Array, layers: Int32Array[]): void {
  const n = layers.length;
  if (n <= 2 * DRIFT_WINDOW) return;
  const centre = new Float64Array(n);
  for (let l = 0; l < n; l++) {
    const L = layers[l];
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < L.length; i++) {
      lo = Math.min(lo, x[L[i]]);
      hi = Math.max(hi, x[L[i]]);
    }
    centre[l] = L.length ? (lo + hi) / 2 : l > 0 ? centre[l - 1] : 0;
  }
  // Prefix sums for the moving average.
  const pre = new Float64Array(n + 1);
  for (let l = 0; l < n; l++) pre[l + 1] = pre[l] + centre[l];
  for (let l = 0; l < n; l++) {
    const a = Math.max(0, l - DRIFT_WINDOW);
    const b = Math.min(n, l + DRIFT_WINDOW + 1);
    const shift = (pre[b] - pre[a]) / (b - a);
    const L = layers[l];
    for (let i = 0; i < L.length; i++) x[L[i]] -= shift;
  }
}

/** Normalises (leftmost box edge at 0) and collects the boxes' centres and the chains' points. */
function assemble(
  k: number,
  g: ProperGraph,
  x: Float64Array,
  layerTop: Float64Array,
  layerH: Float64Array,
  pairs: { pa: readonly number[]; pb: readonly number[]; reversed: Uint8Array },
  crossings: number,
): LayeredResult {
  const { total, nLayers, vLayer, vW, chainOf } = g;
  const { pa, pb, reversed } = pairs;
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
  const chains = new PairMap<Float64Array>();
  for (let i = 0; i < pa.length; i++) {
    const chain = chainOf[i];
    if (!chain) continue;
    const pts = new Float64Array(chain.length * 2);
    for (let j = 0; j < chain.length; j++) {
      const d = reversed[i] ? chain[chain.length - 1 - j] : chain[j];
      pts[2 * j] = x[d] - minX;
      pts[2 * j + 1] = layerTop[vLayer[d]] + layerH[vLayer[d]] / 2;
    }
    chains.set(pa[i], pb[i], pts);
  }
  return { cx, cy, w: maxX - minX, h: layerTop[nLayers], chains, dummies: total - k, crossings, layers: nLayers };
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
