/**
 * Graph surgery on ONNX models for onnxruntime-node, which cannot fetch arbitrary intermediates: promote the
 * requested values ("taps") to graph outputs and create the session from the new bytes.
 *
 * Without re-encoding the model: protobuf merges a repeated occurrence of a message field into the first, and
 * concatenates repeated fields, so the bytes of `ModelProto { graph { output: [taps…] } }` appended to a model
 * add outputs to its graph. The model's own outputs are hidden from onnxruntime by turning their field tag into
 * GraphProto's reserved field 3 (one byte each, restored afterwards), so onnxruntime neither computes nor holds
 * what was not asked for (a GPT-2's 50257-wide logits). Measured on the GPT-2-small export (653 MB, 2026-12):
 * the re-encode cost a third copy of the file (653 MB) and ≈ 2 s; the suffix costs ≈ 1 KB and < 1 ms.
 */
import { decodeModelProto, encodeModelProto, type OnnxValueInfoProto } from '../formats/onnx';
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

/** Model bytes whose graph outputs are exactly the taps, and how to put the original bytes back. */
export interface TapModelBytes {
  bytes: Uint8Array;
  /** True when `bytes` is the input's own buffer, edited in place (then call {@link restore} once parsed). */
  inPlace: boolean;
  /** Nodes hidden from onnxruntime because no tap depends on them. */
  prunedNodes: number;
  /** Undoes the in-place edit of the input bytes (a no-op for a copy). */
  restore(): void;
}

/**
 * Model bytes whose graph outputs are exactly `taps` (in order, deduplicated), without decoding or re-encoding
 * the model: the original outputs' tags are renamed to a reserved field, the taps appended as a protobuf suffix,
 * and the nodes no tap depends on hidden the same way (onnxruntime computes every node of a graph, needed or
 * not; it then drops the initializers only they used). Nodes are kept all when the graph has control flow (a
 * subgraph can read outer values without listing them). When `bytes` views a buffer with room after its end
 * (`readFileWithSpare` in model/load.ts) the edit is made in place — no copy of the model — and must be undone
 * with `restore()` once onnxruntime has parsed it; otherwise the result is one copy.
 * `declared(name)`: a value's declared ValueInfoProto (its type helps onnxruntime; without one it infers it).
 * @throws TapError when the bytes are not a ModelProto with a graph
 */
export function tapModelBytes(
  file: string,
  bytes: Uint8Array,
  taps: readonly string[],
  declared: (name: string) => OnnxValueInfoProto | undefined = () => undefined,
): TapModelBytes {
  const wanted = [...new Set(taps)];
  const layout = graphLayout(file, bytes);
  const hide = [...layout.outputTags];
  let prunedNodes = 0;
  if (!layout.controlFlow) {
    const live = liveNodes(layout.nodes, wanted);
    layout.nodes.forEach((n, k) => {
      if (!live[k]) hide.push(n.tagAt);
    });
    prunedNodes = layout.nodes.length - live.filter(Boolean).length;
  }
  const suffix = encodeModelProto({ graph: { output: wanted.map((t) => declared(t) ?? { name: t }) } });
  const spare = bytes.buffer.byteLength - bytes.byteOffset - bytes.byteLength;
  const inPlace = spare >= suffix.byteLength;
  const out = inPlace ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength + suffix.byteLength) : new Uint8Array(bytes.byteLength + suffix.byteLength);
  if (!inPlace) out.set(bytes);
  out.set(suffix, bytes.byteLength);
  const original = hide.map((at) => bytes[at]);
  for (const at of hide) out[at] = bytes[at] === OUTPUT_TAG ? HIDDEN_OUTPUT_TAG : HIDDEN_NODE_TAG;
  return {
    bytes: out,
    inPlace,
    prunedNodes,
    restore: () => {
      if (inPlace) hide.forEach((at, k) => (bytes[at] = original[k]));
    },
  };
}

/** Marks the nodes the wanted values depend on (transitively through their inputs). */
function liveNodes(nodes: readonly RawNode[], wanted: readonly string[]): boolean[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, k) => n.outputs.forEach((o) => o && producer.set(o, k)));
  const live = new Array<boolean>(nodes.length).fill(false);
  const stack = wanted.map((w) => producer.get(w)).filter((k): k is number => k !== undefined);
  while (stack.length) {
    const k = stack.pop()!;
    if (live[k]) continue;
    live[k] = true;
    for (const i of nodes[k].inputs) {
      const p = producer.get(i);
      if (p !== undefined && !live[p]) stack.push(p);
    }
  }
  return live;
}

/** GraphProto.node (field 1) and GraphProto.output (field 12), length-delimited: one-byte tags. */
const NODE_TAG = (1 << 3) | 2;
const OUTPUT_TAG = (12 << 3) | 2;
/** GraphProto's reserved fields 3 and 4 (length-delimited): skipped by every parser, read by none. */
const HIDDEN_OUTPUT_TAG = (3 << 3) | 2;
const HIDDEN_NODE_TAG = (4 << 3) | 2;

interface RawNode {
  tagAt: number;
  inputs: string[];
  outputs: string[];
}

const utf8 = new TextDecoder('utf-8');

/**
 * Where the graph's nodes and outputs are in a serialized ModelProto (over every `graph` occurrence, which
 * protobuf merges), each node's input and output names, and whether any node carries a subgraph.
 */
export function graphLayout(file: string, b: Uint8Array): { outputTags: number[]; nodes: RawNode[]; controlFlow: boolean } {
  const fail = (what: string): never => {
    throw new TapError(file, `expected an ONNX ModelProto, found ${what}`);
  };
  const outputTags: number[] = [];
  const nodes: RawNode[] = [];
  let controlFlow = false;
  let graphs = 0;
  const oneByteTag = (at: number, tag: number): void => {
    if (b[at] !== tag) fail(`a graph field tag written in more than one byte at byte ${at}`);
  };
  walkFields(b, 0, b.length, fail, (field, wire, start, end) => {
    if (field !== 7 || wire !== 2) return;
    graphs++;
    walkFields(b, start, end, fail, (f, w, s, e, tagAt) => {
      if (w !== 2) return;
      if (f === 12) {
        oneByteTag(tagAt, OUTPUT_TAG);
        outputTags.push(tagAt);
      } else if (f === 1) {
        oneByteTag(tagAt, NODE_TAG);
        const node: RawNode = { tagAt, inputs: [], outputs: [] };
        walkFields(b, s, e, fail, (nf, nw, ns, ne) => {
          if (nw !== 2) return;
          if (nf === 1) node.inputs.push(utf8.decode(b.subarray(ns, ne)));
          else if (nf === 2) node.outputs.push(utf8.decode(b.subarray(ns, ne)));
          else if (nf === 5 && attributeHasGraph(b, ns, ne, fail)) controlFlow = true;
        });
        nodes.push(node);
      }
    });
  });
  if (!graphs) fail('no graph (field 7)');
  return { outputTags, nodes, controlFlow };
}

/** Whether an AttributeProto in b[from, to) holds a graph (field 6, g) or graphs (field 11). */
function attributeHasGraph(b: Uint8Array, from: number, to: number, fail: (what: string) => never): boolean {
  let found = false;
  walkFields(b, from, to, fail, (f, w) => {
    if (w === 2 && (f === 6 || f === 11)) found = true;
  });
  return found;
}

/** Calls `visit(field, wire, payloadStart, payloadEnd, tagAt)` for each field of the message in b[from, to). */
function walkFields(
  b: Uint8Array,
  from: number,
  to: number,
  fail: (what: string) => never,
  visit: (field: number, wire: number, start: number, end: number, tagAt: number) => void,
): void {
  let p = from;
  const varint = (): number => {
    let v = 0;
    let scale = 1;
    for (let k = 0; k < 10; k++) {
      if (p >= to) fail(`a varint that runs past the end of its message at byte ${p}`);
      const x = b[p++];
      v += (x & 0x7f) * scale;
      scale *= 128;
      if (!(x & 0x80)) return v;
    }
    return fail(`a varint longer than 10 bytes at byte ${p}`);
  };
  while (p < to) {
    const tagAt = p;
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    let start = p;
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const n = varint();
      start = p;
      p += n;
    } else fail(`wire type ${wire} (a group, or not protobuf) at byte ${tagAt}`);
    if (p > to) fail(`a field that runs past the end of its message at byte ${tagAt}`);
    visit(field, wire, start, p, tagAt);
  }
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
