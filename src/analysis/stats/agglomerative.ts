/**
 * Average-linkage agglomerative clustering (UPGMA) by the nearest-neighbour-chain algorithm: O(n²) time and
 * one n×n working copy of the distances. Average linkage is reducible, so the chain's merges, sorted by height,
 * are exactly the greedy dendrogram's; cutting at a height keeps the merges at or below it.
 */

export interface Merge {
  /** Representative units of the two merged clusters. */
  a: number;
  b: number;
  /** Average distance between the two clusters when merged. */
  height: number;
}

/**
 * The dendrogram of n items from a symmetric n×n distance matrix (row-major; the diagonal is ignored), as n−1
 * merges sorted by height.
 */
export function averageLinkage(dist: Float64Array, n: number): Merge[] {
  if (dist.length !== n * n) throw new RangeError(`averageLinkage: expected ${n}×${n} distances, found ${dist.length}`);
  const d = Float64Array.from(dist);
  const size = new Float64Array(n).fill(1);
  const active = new Uint8Array(n).fill(1);
  let left = n;
  const chain: number[] = [];
  const merges: Merge[] = [];
  while (left > 1) {
    if (!chain.length) {
      let s = 0;
      while (!active[s]) s++;
      chain.push(s);
    }
    const a = chain[chain.length - 1];
    const prev = chain.length >= 2 ? chain[chain.length - 2] : -1;
    // Nearest active neighbour of a; the previous chain element wins ties (this is what makes the chain end).
    let b = prev, best = prev >= 0 ? d[a * n + prev] : Infinity;
    for (let k = 0; k < n; k++) {
      if (k === a || !active[k]) continue;
      const v = d[a * n + k];
      if (v < best) {
        best = v;
        b = k;
      }
    }
    if (b === prev) {
      chain.pop();
      chain.pop();
      merges.push({ a: Math.min(a, b), b: Math.max(a, b), height: best });
      const keep = Math.min(a, b), drop = Math.max(a, b);
      const sk = size[keep], sd = size[drop];
      for (let k = 0; k < n; k++) {
        if (!active[k] || k === keep || k === drop) continue;
        const v = (sk * d[keep * n + k] + sd * d[drop * n + k]) / (sk + sd);
        d[keep * n + k] = d[k * n + keep] = v;
      }
      size[keep] = sk + sd;
      active[drop] = 0;
      left--;
    } else chain.push(b);
  }
  return merges.sort((x, y) => x.height - y.height);
}

/**
 * Flat clusters from sorted merges: items joined by every merge of height ≤ `maxHeight`. Cluster ids are
 * 0..count−1 in order of each cluster's smallest item.
 */
export function cutDendrogram(merges: readonly Merge[], n: number, maxHeight: number): { assignment: Int32Array; count: number } {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  for (const m of merges) {
    if (m.height > maxHeight) break;
    const ra = find(m.a), rb = find(m.b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const assignment = new Int32Array(n);
  const id = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    if (!id.has(r)) id.set(r, id.size);
    assignment[i] = id.get(r)!;
  }
  return { assignment, count: id.size };
}
