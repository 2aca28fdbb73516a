/**
 * Finds the attention inside a transformer graph (ONNX or TF.js IR) and, for pre-LN residual transformers,
 * the residual stream that the circuit analysis decomposes.
 *
 * Matching rules (documented in examples/README.md, "Attention sparsity and circuits"):
 *
 * 1. **Attention block** = a `Softmax` whose axis is the last one, fed (through at most 8 elementwise
 *    steps) by a matrix product of two computed values — `MatMul(Q, Kᵀ)` (TF.js: `BatchMatMul[V2]`). The
 *    steps walked back are scales (`Mul`/`Div`/`RealDiv` with one operand constant or computed from shapes
 *    alone, as Hugging Face's `torch.full([], v.size(-1) ** 0.5)` divisor exports), masks (`Add`/`Sub`
 *    with a constant or computed mask, `Where`/`SelectV2`), `Cast` and `Identity`. The softmax output must
 *    feed a second product `MatMul(P, V)` — directly (dense) or through a `Mul` with a gate (gated sparse
 *    attention: `softmax(S) ⊙ 1[S + b > 0]`, not renormalised). A Softmax not matching this (a classifier
 *    head, a softmax over a weight matrix) is skipped with a note saying why.
 *    Values recorded: `logits` (the Softmax input, scaled and masked), `scores` (the scaled scores before
 *    the first mask step: S = QKᵀ/√d for the gate), `probs` (what multiplies V: the softmax output, or the
 *    gated product), `q`, `kT`, `v` (the operands, head-split, head axis 1) and `z` (= P·V, per head).
 * 2. **Fused attention** (`Attention`, `MultiHeadAttention`, `GroupQueryAttention`, … in com.microsoft or
 *    the default domain) hides the probabilities: such nodes are reported, never silently ignored.
 * 3. **Residual stream** (circuits): from `z`, one linear path — `Transpose`, `Reshape`,
 *    `Identity`, a product with a constant weight (`MatMul`/`Gemm`), an `Add` of a constant bias; `Shape`
 *    reads of these values, as in HF's `_merge_heads`, are skipped — must
 *    reach an `Add` whose other operand is computed: that Add is the residual connection, its other operand
 *    the block's input `x` (from which Q, K and V are computed, through the block's LayerNorm), and the path's
 *    end the block's write to the stream. Between two attention blocks, and after the last, at most one MLP
 *    residual `Add(x, f(x))` may follow (f = anything computed from x alone). **Pre-LN** (x + f(LN(x))): the next
 *    component reads the residual Add's output. **Post-LN** (LN(x + f(x)), BERT): the next component reads a
 *    value computed from the residual Add's output alone (its norm; recorded as the component's `post`); the
 *    last residual Add's norm belongs to the logits path. One graph input (tokens or an image); the logits
 *    must be computed from the last stream value alone (reading the input's shape is allowed). Anything else
 *    (mixed pre-/post-LN, parallel attention+MLP, fused ops, several inputs) is an
 *    {@link AttentionStructureError} naming the value or node that did not match.
 */
import type { FusedAttention } from '../shared/results';
import type { GraphNode, ModelGraph } from './ir';

const MATMUL = new Set(['MatMul', 'BatchMatMul', 'BatchMatMulV2']);
const SCALE = new Set(['Mul', 'Div', 'RealDiv']);
const MASK = new Set(['Add', 'AddV2', 'Sub', 'Where', 'SelectV2', 'Select']);
const PASS = new Set(['Cast', 'Identity']);
const RESHAPE = new Set(['Transpose', 'Reshape', 'Identity', 'Squeeze', 'Unsqueeze', 'Flatten']);
const ADD = new Set(['Add', 'AddV2']);
/** Ops whose output depends only on their input's shape. */
const SHAPE_OF = new Set(['Shape', 'Size']);
const FUSED = new Set([
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderMaskedMultiHeadAttention',
  'DecoderMaskedSelfAttention',
  'DecoderAttention',
  'LongformerAttention',
  'QAttention',
  'SparseAttention',
  'MultiHeadAttentionV2',
  'FlashAttention',
]);

/** One attention block found in the graph. */
export interface AttentionBlock {
  /** 0-based, in execution order. */
  layer: number;
  /** The name scope of the Softmax (e.g. `blocks.0/attn`), or its node id when it has none. */
  name: string;
  softmax: string;
  /** The QKᵀ product node. */
  scoreMatMul: string;
  /** The P·V product node. */
  valueMatMul: string;
  /** Softmax input (scaled and masked logits). */
  logits: string;
  /** Scaled scores before any mask step (equals `logits` when there is no mask step). */
  scores: string;
  /** What multiplies V: the softmax output, or the gated product for gated models. */
  probs: string;
  softmaxOutput: string;
  q: string;
  kT: string;
  v: string;
  z: string;
  /** Nodes between QKᵀ and the Softmax, in forward order, with their role. */
  steps: { node: string; op: string; role: 'scale' | 'mask' | 'pass' }[];
  /** Gated sparse attention: the Mul node and the gate value multiplying the softmax output. */
  gate?: { node: string; value: string };
}

export interface AttentionReport {
  blocks: AttentionBlock[];
  fused: FusedAttention[];
  /** Softmax nodes that were not attention, and why. */
  notes: string[];
}

/** A graph the circuit analysis cannot decompose; names what was expected and what was found. */
export class AttentionStructureError extends Error {
  override readonly name = 'AttentionStructureError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/** Producer/consumer indexes and ancestry queries over one graph. */
export class GraphIndex {
  readonly producer = new Map<string, GraphNode>();
  readonly consumers = new Map<string, GraphNode[]>();
  readonly order = new Map<string, number>();
  constructor(readonly graph: ModelGraph) {
    graph.nodes.forEach((n, i) => {
      this.order.set(n.id, i);
      for (const o of n.outputs) if (o) this.producer.set(o, n);
      for (const v of new Set(n.inputs)) {
        if (!v) continue;
        const list = this.consumers.get(v) ?? [];
        list.push(n);
        this.consumers.set(v, list);
      }
    });
  }

  /** True for initializers, Constant outputs and values computed from constants only. */
  isConst(v: string, seen = new Set<string>()): boolean {
    const info = this.graph.values[v];
    if (info?.kind === 'initializer') return true;
    if (info?.kind === 'input') return false;
    const p = this.producer.get(v);
    if (!p) return !!this.graph.tensors[v];
    if (p.opType === 'Constant') return true;
    if (seen.has(v)) return true;
    seen.add(v);
    const ins = p.inputs.filter(Boolean);
    return ins.length > 0 && ins.every((i) => this.isConst(i, seen));
  }

  /**
   * True for values that do not depend on any tensor's *contents*: constants, and values computed from
   * constants and `Shape`/`Size` outputs only (e.g. the `torch.full([], v.size(-1) ** 0.5)` divisor an HF
   * export computes from v's shape). Such a value is fixed once the shapes are.
   */
  isStatic(v: string, seen = new Set<string>()): boolean {
    if (this.isConst(v)) return true;
    const info = this.graph.values[v];
    if (info?.kind === 'input') return false;
    const p = this.producer.get(v);
    if (!p) return false;
    if (SHAPE_OF.has(p.opType)) return true;
    if (seen.has(v)) return true;
    seen.add(v);
    const ins = p.inputs.filter(Boolean);
    return ins.length > 0 && ins.every((i) => this.isStatic(i, seen));
  }

  /**
   * Values (graph inputs and node outputs) that `v` depends on, walking back no further than the values in
   * `stop` (which are included when reached).
   */
  ancestors(v: string | string[], stop: ReadonlySet<string> = new Set()): Set<string> {
    return this.walkBack(v, stop, () => true);
  }

  /** The values reached walking back from `v` through the producers `through` accepts, stopping at `stop`. */
  private walkBack(v: string | string[], stop: ReadonlySet<string>, through: (p: GraphNode) => boolean): Set<string> {
    const out = new Set<string>();
    const stack = Array.isArray(v) ? [...v] : [v];
    while (stack.length) {
      const x = stack.pop() as string;
      if (out.has(x)) continue;
      out.add(x);
      if (stop.has(x)) continue;
      const p = this.producer.get(x);
      if (p && through(p)) for (const i of p.inputs) if (i) stack.push(i);
    }
    return out;
  }

  /** Graph inputs whose *values* `v` depends on when everything in `stop` is given (reads of their shape alone, through `Shape`/`Size`, do not count). */
  valueInputsNeeded(v: string | string[], stop: ReadonlySet<string>): string[] {
    const out = this.walkBack(v, stop, (p) => !SHAPE_OF.has(p.opType));
    return this.graph.inputs.filter((i) => out.has(i) && !stop.has(i));
  }


  /** Graph inputs that `v` depends on when everything in `stop` is given. */
  inputsNeeded(v: string | string[], stop: ReadonlySet<string>): string[] {
    const anc = this.ancestors(v, stop);
    return this.graph.inputs.filter((i) => anc.has(i) && !stop.has(i));
  }
}

function attrInt(n: GraphNode, name: string, dflt: number): number {
  const a = n.attributes.find((x) => x.name === name);
  if (!a) return dflt;
  if (a.value.type === 'int') return Number(a.value.value);
  return dflt;
}

/** Whether a computed value is (within a few steps) a product of two computed values. */
function reachesQK(ix: GraphIndex, v: string, depth: number): boolean {
  if (depth < 0 || ix.isConst(v)) return false;
  const p = ix.producer.get(v);
  if (!p) return false;
  if (MATMUL.has(p.opType)) return p.inputs.slice(0, 2).every((i) => i && !ix.isConst(i));
  if (SCALE.has(p.opType) || MASK.has(p.opType) || PASS.has(p.opType)) return p.inputs.some((i) => i && !ix.isStatic(i) && reachesQK(ix, i, depth - 1));
  return false;
}

function lastAxisSoftmax(ix: GraphIndex, n: GraphNode): boolean {
  if (n.domain === 'tfjs') return true; // TF.js Softmax is always over the last axis
  const axis = attrInt(n, 'axis', ix.graph.opsets.some((o) => (o.domain === '' || o.domain === 'ai.onnx') && o.version < 13) ? 1 : -1);
  if (axis === -1) return true;
  const shape = ix.graph.values[n.inputs[0]]?.shape;
  if (shape) return axis === shape.length - 1;
  // Unknown rank: attention scores are rank 4 (B, H, Tq, Tk) in the exports we match.
  return axis === 3;
}

function matchBlock(ix: GraphIndex, sm: GraphNode): { block?: Omit<AttentionBlock, 'layer' | 'name'>; why?: string } {
  const logits = sm.inputs[0];
  const back: { node: GraphNode; role: 'scale' | 'mask' | 'pass'; through: string }[] = [];
  let v = logits;
  let qk: GraphNode | undefined;
  for (let hop = 0; hop <= 8; hop++) {
    const p = ix.producer.get(v);
    if (!p) break;
    if (MATMUL.has(p.opType)) {
      if (p.inputs.slice(0, 2).every((i) => i && !ix.isConst(i))) qk = p;
      break;
    }
    const computed = p.inputs.filter((i) => i && !ix.isConst(i));
    const dynamic = p.inputs.filter((i) => i && !ix.isStatic(i));
    if (SCALE.has(p.opType) && dynamic.length === 1) {
      // a scale by a constant or by a value computed from shapes only (HF's torch.full divisor)
      back.push({ node: p, role: 'scale', through: dynamic[0] });
      v = dynamic[0];
    } else if (SCALE.has(p.opType) && computed.length === 1) {
      back.push({ node: p, role: 'scale', through: computed[0] });
      v = computed[0];
    } else if (PASS.has(p.opType) && computed.length === 1) {
      back.push({ node: p, role: 'pass', through: computed[0] });
      v = computed[0];
    } else if (MASK.has(p.opType)) {
      const next = computed.filter((i) => reachesQK(ix, i, 8 - hop));
      if (next.length !== 1) break;
      back.push({ node: p, role: 'mask', through: next[0] });
      v = next[0];
    } else break;
  }
  if (!qk) return { why: `Softmax ${sm.id} is not fed by a product of two computed values (MatMul(Q, Kᵀ)); not attention` };
  if (!lastAxisSoftmax(ix, sm)) return { why: `Softmax ${sm.id} follows MatMul(Q, Kᵀ) but is not over the last (key) axis of rank-4 scores` };
  const softmaxOutput = sm.outputs[0];
  let probs = softmaxOutput;
  let gate: AttentionBlock['gate'];
  let pv = (ix.consumers.get(softmaxOutput) ?? []).find((c) => MATMUL.has(c.opType) && c.inputs[0] === softmaxOutput);
  if (!pv) {
    const mul = (ix.consumers.get(softmaxOutput) ?? []).find((c) => c.opType === 'Mul');
    if (mul) {
      const other = mul.inputs.find((i) => i !== softmaxOutput) ?? '';
      const out = mul.outputs[0];
      const pv2 = (ix.consumers.get(out) ?? []).find((c) => MATMUL.has(c.opType) && c.inputs[0] === out);
      if (pv2 && other && ix.ancestors(other).has(qk.outputs[0])) {
        pv = pv2;
        probs = out;
        gate = { node: mul.id, value: other };
      }
    }
  }
  if (!pv) return { why: `the output of Softmax ${sm.id} does not multiply a value tensor (MatMul(P, V)); not attention` };
  // Forward order: the first mask step's computed input is the scaled score S.
  const fwd = [...back].reverse();
  const firstMask = fwd.find((s) => s.role === 'mask');
  const scores = firstMask ? firstMask.through : logits;
  return {
    block: {
      softmax: sm.id,
      scoreMatMul: qk.id,
      valueMatMul: pv.id,
      logits,
      scores,
      probs,
      softmaxOutput,
      q: qk.inputs[0],
      kT: qk.inputs[1],
      v: pv.inputs[1],
      z: pv.outputs[0],
      steps: fwd.map((s) => ({ node: s.node.id, op: s.node.opType, role: s.role })),
      gate,
    },
  };
}

/** Finds every attention block (and every fused attention op) of a graph. Pure over the IR. */
export function findAttention(graph: ModelGraph): AttentionReport {
  const ix = new GraphIndex(graph);
  const blocks: AttentionBlock[] = [];
  const fused: FusedAttention[] = [];
  const notes: string[] = [];
  for (const n of graph.nodes) {
    if (FUSED.has(n.opType)) fused.push({ node: n.id, opType: n.opType, domain: n.domain || 'ai.onnx' });
    if (n.opType !== 'Softmax') continue;
    const m = matchBlock(ix, n);
    if (m.block) blocks.push({ ...m.block, layer: blocks.length, name: n.scope.length ? n.scope.join('/') : n.id });
    else if (m.why) notes.push(m.why);
  }
  blocks.sort((a, b) => (ix.order.get(a.softmax) ?? 0) - (ix.order.get(b.softmax) ?? 0));
  blocks.forEach((b, i) => (b.layer = i));
  return { blocks, fused, notes };
}

/** One write to the residual stream. */
export type ResidualComponent =
  | {
      kind: 'attn';
      /** 0-based attention layer. */
      layer: number;
      block: AttentionBlock;
      /** The stream value the block reads (LayerNorm input). */
      input: string;
      /** The block's write to the stream (output projection + bias). */
      output: string;
      /** The residual Add's output. */
      resid: string;
      addNode: string;
      /** Post-LN: the stream value after the norm that follows the residual Add (the next component's input). */
      post?: string;
    }
  | {
      kind: 'mlp';
      /** The attention layer this MLP follows (`m{layer}`). */
      layer: number;
      input: string;
      output: string;
      resid: string;
      addNode: string;
      /** Post-LN: the stream value after the norm that follows the residual Add (the next component's input). */
      post?: string;
    };

/** A residual transformer (pre-LN or post-LN), as the circuit analysis sees it. */
export interface ResidualStream {
  /**
   * Post-LN (BERT-style): each residual Add is followed by a norm (the components' `post`), except the last
   * one's, which belongs to the logits path (`final` is then the last residual Add's output).
   */
  postLN: boolean;
  /** The graph input holding the tokens. */
  tokens: string;
  /** The first stream value (token + position embeddings): the `input` node's output. */
  embed: string;
  components: ResidualComponent[];
  /** The last stream value, read by the final norm and unembedding. */
  final: string;
  logits: string;
}

function walkToResidual(ix: GraphIndex, block: AttentionBlock, file: string): { output: string; input: string; addNode: GraphNode } {
  let v = block.z;
  for (let hop = 0; hop < 16; hop++) {
    // Shape/Size reads (HF's `_merge_heads` reshapes by `z.size()[:-2] + (D,)`) do not carry values
    const cons = (ix.consumers.get(v) ?? []).filter((c) => !SHAPE_OF.has(c.opType));
    if (cons.length !== 1) {
      throw new AttentionStructureError(
        `attention layer ${block.layer} (${block.name}): expected its per-head output '${v}' to take one linear path to the residual stream, found ${cons.length} consumers (${cons.map((c) => `${c.opType} ${c.id}`).join(', ') || 'none'})`,
        file,
      );
    }
    const n = cons[0];
    const others = n.inputs.filter((i) => i && i !== v);
    if (RESHAPE.has(n.opType)) {
      v = n.outputs[0];
      continue;
    }
    if ((MATMUL.has(n.opType) || n.opType === 'Gemm') && n.inputs[0] === v && others.every((o) => ix.isConst(o))) {
      v = n.outputs[0];
      continue;
    }
    if (ADD.has(n.opType) && others.length === 1) {
      if (ix.isConst(others[0])) {
        v = n.outputs[0];
        continue;
      }
      return { output: v, input: others[0], addNode: n };
    }
    throw new AttentionStructureError(
      `attention layer ${block.layer} (${block.name}): the path from the heads' output '${block.z}' to the residual stream meets ${n.opType} ${n.id}, which is not linear (expected Transpose/Reshape, a MatMul/Gemm by a constant weight, a bias Add, then the residual Add)`,
      file,
    );
  }
  throw new AttentionStructureError(`attention layer ${block.layer} (${block.name}): no residual Add within 16 steps of '${block.z}'`, file);
}

/** Whether `v` is computed from `x` (and constants or shapes) alone, with no Softmax on the way. */
function functionOf(ix: GraphIndex, v: string, x: string, softmaxes: ReadonlySet<string>): boolean {
  const stack = [v];
  const seen = new Set<string>();
  while (stack.length) {
    const a = stack.pop() as string;
    if (a === x || seen.has(a)) continue;
    seen.add(a);
    if (ix.isStatic(a)) continue;
    const p = ix.producer.get(a);
    if (!p || softmaxes.has(p.id)) return false;
    for (const i of p.inputs) if (i) stack.push(i);
  }
  return true;
}

/**
 * Post-LN: the stream value a norm computes from the residual Add's output `resid` (a function of `resid`
 * alone, downstream of it) that the next component reads: `next` (the next attention block's input) or the
 * input of an MLP residual Add. The first such value in graph order.
 */
function postNorm(ix: GraphIndex, resid: string, next: string | undefined, softmaxes: ReadonlySet<string>): string | undefined {
  const start = ix.order.get(ix.producer.get(resid)?.id ?? '') ?? -1;
  const down = new Set([resid]);
  for (const n of ix.graph.nodes.slice(start + 1)) {
    if (!n.inputs.some((i) => down.has(i)) || softmaxes.has(n.id)) continue;
    for (const o of n.outputs) {
      if (!o) continue;
      down.add(o);
      if (!functionOf(ix, o, resid, softmaxes)) continue;
      if (o === next || mlpAfter(ix, o, softmaxes)) return o;
    }
    if (down.size > 64) break;
  }
  return undefined;
}

/** The MLP residual Add reading stream value `x`, if any: Add(x, f(x)) with no attention inside f. */
function mlpAfter(ix: GraphIndex, x: string, softmaxes: ReadonlySet<string>): { output: string; addNode: GraphNode } | undefined {
  for (const c of ix.consumers.get(x) ?? []) {
    if (!ADD.has(c.opType) || c.inputs.length !== 2) continue;
    const other = c.inputs[0] === x ? c.inputs[1] : c.inputs[0];
    if (!other || other === x || ix.isConst(other)) continue;
    const anc = ix.ancestors(other, new Set([x]));
    if (!anc.has(x)) continue;
    const nodes = [...anc].map((a) => ix.producer.get(a)).filter((p): p is GraphNode => !!p);
    if (nodes.some((p) => softmaxes.has(p.id))) continue;
    return { output: other, addNode: c };
  }
  return undefined;
}

/**
 * Decomposes a pre-LN residual transformer into its stream writes (see the header for the rules).
 * @throws AttentionStructureError naming what was expected and the value or node found instead
 */
export function findResidualStream(graph: ModelGraph, report: AttentionReport = findAttention(graph)): ResidualStream {
  const file = graph.file;
  if (!report.blocks.length) {
    const fused = report.fused.length
      ? `; it has fused attention op(s) ${[...new Set(report.fused.map((f) => `${f.domain}.${f.opType}`))].join(', ')} (e.g. node ${report.fused[0].node}), which hide the heads — export the model without attention fusion`
      : '';
    throw new AttentionStructureError(`no attention block (Softmax after MatMul(Q, Kᵀ), then MatMul(P, V)) was found${fused}`, file);
  }
  if (report.fused.length) {
    throw new AttentionStructureError(
      `the graph mixes plain attention with fused attention op(s) (${report.fused.map((f) => f.node).join(', ')}); circuits need every head visible`,
      file,
    );
  }
  if (graph.inputs.length !== 1) {
    throw new AttentionStructureError(
      `expected one graph input (the tokens or the image), found ${graph.inputs.length} (${graph.inputs.join(', ')}); circuit pairs give one input per side — export the model with that input alone (e.g. an attention mask or token types built inside the model)`,
      file,
    );
  }
  if (graph.outputs.length < 1) throw new AttentionStructureError('the graph has no output', file);
  const ix = new GraphIndex(graph);
  const tokens = graph.inputs[0];
  const logits = graph.outputs[0];
  const softmaxes = new Set(report.blocks.map((b) => b.softmax));
  const components: ResidualComponent[] = [];
  let stream: string | undefined;
  let embed = '';
  let postLN: boolean | undefined;
  /** The stream value after the last component: its residual Add's output, or (post-LN) its norm's output. */
  const after = (c: ResidualComponent, next: string | undefined): string => {
    if (c.resid === next) return c.resid;
    if (postLN !== true && mlpAfter(ix, c.resid, softmaxes)) return c.resid; // pre-LN: an MLP reads it
    const post = postNorm(ix, c.resid, next, softmaxes);
    if (!post) return c.resid;
    if (postLN === false) {
      throw new AttentionStructureError(`${describe(c)}: its residual Add '${c.addNode}' is followed by a norm (to '${post}') while earlier blocks are pre-LN; expected one block structure throughout`, file);
    }
    postLN = true;
    c.post = post;
    return post;
  };
  const describe = (c: ResidualComponent): string => (c.kind === 'attn' ? `attention layer ${c.layer} (${c.block.name})` : `MLP ${c.layer}`);
  for (const block of report.blocks) {
    const r = walkToResidual(ix, block, file);
    const opsIn = ix.ancestors([block.q, block.kT, block.v], new Set([r.input]));
    if (!opsIn.has(r.input)) {
      throw new AttentionStructureError(`attention layer ${block.layer} (${block.name}): Q, K and V are not computed from the residual stream value '${r.input}' its output is added to (parallel attention and MLP blocks are not supported)`, file);
    }
    if (stream === undefined) embed = r.input;
    else {
      const prev = components[components.length - 1];
      stream = after(prev, r.input);
      if (postLN === undefined) postLN = false;
      if (stream !== r.input) {
        const m = mlpAfter(ix, stream, softmaxes);
        const mlp: ResidualComponent | undefined = m && { kind: 'mlp', layer: block.layer - 1, input: stream, output: m.output, resid: m.addNode.outputs[0], addNode: m.addNode.id };
        const reached = mlp ? after(mlp, r.input) : undefined;
        if (!mlp || reached !== r.input) {
          throw new AttentionStructureError(
            `attention layer ${block.layer} (${block.name}) reads the stream value '${r.input}', but the previous layer's stream value '${stream}' reaches it ${mlp ? `through more than one residual Add (an MLP Add writes '${mlp.resid}'${mlp.post ? `, normalised to '${mlp.post}'` : ''})` : 'through no MLP residual Add(x, mlp(x))'}; expected pre-LN blocks x + f(LN(x)) or post-LN blocks LN(x + f(x))`,
            file,
          );
        }
        components.push(mlp);
      }
    }
    components.push({ kind: 'attn', layer: block.layer, block, input: r.input, output: r.output, resid: r.addNode.outputs[0], addNode: r.addNode.id });
    stream = r.addNode.outputs[0];
  }
  const last = report.blocks.length - 1;
  // after the last attention block: its MLP, if any (post-LN: reading the attention's normalised output)
  const lastAttn = components[components.length - 1];
  let input = stream as string;
  let m = mlpAfter(ix, input, softmaxes);
  if (!m && postLN !== false) {
    const normed = postNorm(ix, lastAttn.resid, undefined, softmaxes);
    m = normed ? mlpAfter(ix, normed, softmaxes) : undefined;
    if (normed && m) {
      lastAttn.post = input = normed;
      postLN = true;
    }
  }
  if (m) {
    components.push({ kind: 'mlp', layer: last, input, output: m.output, resid: m.addNode.outputs[0], addNode: m.addNode.id });
    stream = m.addNode.outputs[0];
  }
  // the last residual Add's output is the final stream value; a norm after it belongs to the logits path
  const final = stream as string;
  const anc = ix.ancestors(logits, new Set([final]));
  if (!anc.has(final)) throw new AttentionStructureError(`the output '${logits}' does not depend on the last residual stream value '${final}'`, file);
  const bypass = ix.valueInputsNeeded(logits, new Set([final])); // HF's final view(input_shape + (D,)) reads the input's shape
  if (bypass.length) {
    // name the node where a value computed without the stream joins the path to the logits (e.g. a neck that
    // concatenates conv features with the transformer's output)
    const onPath = new Set(ix.ancestors(logits, new Set([final])));
    const fromStream = (v: string): boolean => ix.ancestors(v, new Set([final])).has(final);
    const join = ix.graph.nodes.find((n) => n.outputs.some((o) => onPath.has(o)) && n.inputs.some((i) => i && fromStream(i)) && n.inputs.some((i) => i && !fromStream(i) && !ix.isStatic(i)));
    const where = join ? `: ${join.opType} ${join.id} combines it with '${join.inputs.find((i) => i && !fromStream(i) && !ix.isStatic(i))}', computed without it` : '';
    throw new AttentionStructureError(`the output '${logits}' reads the graph input(s) ${bypass.join(', ')} other than through the last residual stream value '${final}'${where}`, file);
  }
  if (!ix.ancestors(embed).has(tokens)) throw new AttentionStructureError(`the first stream value '${embed}' does not depend on the input '${tokens}'`, file);
  return { tokens, embed, components, final, logits, postLN: postLN === true };
}
