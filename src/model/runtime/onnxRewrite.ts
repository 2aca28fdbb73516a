/**
 * Graph surgery on ONNX models for onnxruntime-node, which cannot fetch arbitrary intermediates: promote the
 * requested values ("taps") to graph outputs, re-encode, and create the session from the new bytes.
 */
import { decodeModelProto, encodeModelProto } from '../formats/onnx';
import type { ModelGraph } from '../ir';

export class TapError extends Error {
  override readonly name = 'TapError';
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/**
 * Resolves taps to value names: a value name is kept; a node id or name stands for that node's first output;
 * a hierarchy group (name scope / layer, e.g. `fc1` or `blocks.0/attn`) stands for the first output of its
 * last node in graph order.
 * @throws TapError listing the unknown names with the closest known ones.
 */
export function resolveTaps(graph: ModelGraph, taps: readonly string[]): string[] {
  const byNode = new Map<string, string>();
  for (const n of graph.nodes) {
    const first = n.outputs.find((o) => o);
    if (!first) continue;
    byNode.set(n.id, first);
    if (n.name) byNode.set(n.name, first);
  }
  const order = new Map(graph.nodes.map((n, i) => [n.id, i]));
  const nodeById = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const g of graph.hierarchy) {
    if (byNode.has(g.id)) continue;
    const under = graph.nodes.filter((n) => n.scope.join('/') === g.id || n.scope.join('/').startsWith(`${g.id}/`));
    const last = under.sort((a, b) => order.get(b.id)! - order.get(a.id)!)[0];
    const first = last && nodeById.get(last.id)!.outputs.find((o) => o);
    if (first) byNode.set(g.id, first);
  }
  const unknown: string[] = [];
  const out: string[] = [];
  for (const t of taps) {
    if (t in graph.values) out.push(t);
    else if (byNode.has(t)) out.push(byNode.get(t)!);
    else unknown.push(t);
  }
  if (unknown.length) {
    const names = [...Object.keys(graph.values), ...byNode.keys()];
    const hints = unknown.map((u) => {
      const close = [...new Set(names)]
        .map((n) => ({ n, d: editDistance(u.toLowerCase(), n.toLowerCase()) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, 3)
        .map((x) => `'${x.n}'`);
      return `'${u}' (closest: ${close.join(', ')})`;
    });
    throw new TapError(graph.file, `expected names of values or nodes in the graph, found unknown ${hints.join('; ')}`);
  }
  return [...new Set(out)];
}

/** Returns model bytes whose graph outputs are the original outputs followed by `taps` (deduplicated). */
export function withTapOutputs(file: string, bytes: Uint8Array, taps: readonly string[]): Uint8Array {
  const m = decodeModelProto(file, bytes);
  const graph = m.graph!;
  const outputs = graph.output ?? (graph.output = []);
  const have = new Set(outputs.map((o) => o.name));
  const declared = new Map((graph.value_info ?? []).map((v) => [v.name, v]));
  for (const t of taps) {
    if (have.has(t)) continue;
    have.add(t);
    // A declared type helps ORT; without one it infers the type itself.
    outputs.push(declared.get(t) ?? { name: t });
  }
  return encodeModelProto(m);
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 40) return Math.abs(a.length - b.length);
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
