/**
 * The circuit analysis on onnxruntime: the decomposed forward of a pre-LN transformer and its gradients as
 * ONNX graphs (gradients from src/model/autodiff), run at native speed. Same construction and conventions as
 * the tfjs route (circuitModel.ts, the verified fallback), built so that it costs about what the model's own
 * forward and backward cost:
 *
 * - Every head reads the stream on its own q, k and v port. The path from a block's input x to its head-split
 *   Q, Kᵀ, V is x → N (the block's norm: anything non-affine) → u → affine map → Q, Kᵀ, V. The affine map is
 *   read off the graph by probing it with basis vectors (one onnxruntime run; checked affine and position-wise
 *   on random inputs), giving per-head weights A[port, head] (D × d_head) and biases. A receiver (port p,
 *   head h) input x_{p,h} then costs N on its copy plus x_{p,h}·A[p,h]: the 3H copies go through the norm
 *   together and the projections as one batched product of the model's own size (TransformerLens'
 *   use_split_qkv_input does the same).
 * - Head h's write to the stream is z_h·W_O[h] (the output path z → block output, probed the same way, bias
 *   b_O kept apart as a constant written by the layer).
 * - Gradients (EAP, EAP-IG): in the unpatched run every receiver's input equals the stream, so the gradient
 *   graph is the model itself with Q, Kᵀ, V computed from 3H copies X_l = expand(x_l) and identity copies of
 *   each MLP's and the unembedding's input; ∂metric/∂X_l, ∂metric/∂mlpIn, ∂metric/∂finalIn are the
 *   per-receiver gradients. The edge scores Σ (corrupt_u − clean_u)·∂metric/∂in_v are products inside the
 *   same graph (outputs: one [upstream, receivers] matrix per receiver group).
 * - Patched runs (faithfulness, search, exact patching): receiver inputs
 *   base + Σ_u corrupt_u + Σ_u keep(u→v)(out_u − corrupt_u), one product per sender block.
 * - The metric reads one position: the unembedding runs on that position only when the logits path is
 *   position-wise (checked against the model's own logits); a (batch, classes) output (a classifier on the
 *   cls position, a pooler) is read as it is, the metric then being between two classes.
 * - Post-LN encoders (a norm after every residual Add): sender values are the writes before the norm, and
 *   every receiver rebuilds its own stream through the norms (`chain`: x = m_0, x = post_j(x + m_j)) from its
 *   copies of the block sums m_j; gradients are taken with respect to those copies, so an edge's EAP score is
 *   (corrupt_u − clean_u)·∂metric/∂(u's value in v's rebuild). Same conventions otherwise.
 */
import type { ComponentGraph, ComponentLayout } from '../../analysis/circuits';
import { mulberry32 } from '../../analysis/stats/random';
import { buildComponentGraph, receiverGroups } from '../../analysis/circuits';
import type { ResidualComponent, ResidualStream } from '../../model/attentionFinder';
import { JobInputError } from '../errors';
import { AutodiffError, buildGradientModel } from '../../model/autodiff';
import { encodeModelProto, type OnnxGraphProto, type OnnxModelProto, type OnnxNodeProto } from '../../model/formats/onnx';
import type { LoadedModel } from '../../model/ir';
import { readModelProto } from '../../model/load';
import { ELEM, GraphIndexProto, Names, type Dim, cloneNodes, floatTensor, int64Tensor, node, prune, redirect, submodel, valueInfo, withGraph } from '../../model/onnxBuild';
import { createOrtSession, type OrtInput, type OrtOutput, type OrtSession } from '../../model/runtime/ort';

export type CircuitMetricChoice = 'auto' | 'position' | 'classes';

/** Why the onnxruntime route cannot decompose this model (the caller falls back to the tfjs route). */
export class OrtCircuitUnsupported extends Error {
  override readonly name = 'OrtCircuitUnsupported';
}

type AttnC = Extract<ResidualComponent, { kind: 'attn' }>;
type MlpC = Extract<ResidualComponent, { kind: 'mlp' }>;

interface AttnPart {
  kind: 'attn';
  c: AttnC;
  heads: number;
  dh: number;
  /** The last non-affine value before Q, Kᵀ, V (the norm's output), and the norm's nodes x → u. */
  u: string;
  norm: OnnxNodeProto[];
  /** [3, H, D, dh] and [3, H, 1, dh]: port-major (q, k, v) per-head projections. */
  A?: Float32Array;
  bA?: Float32Array;
  /** [H, dh, D] and [D]. */
  Wo?: Float32Array;
  bo?: Float32Array;
  /** Nodes from Q, Kᵀ, V to z (the attention core). */
  core: OnnxNodeProto[];
  /** The norm is a LayerNorm over the last axis (checked numerically): its backward is written by hand. */
  ln?: LayerNormInfo;
  /** Post-LN: the norm after the residual Add (resid → post). */
  post?: OnnxNodeProto[];
}

/** u = x̂ (decomposed LayerNorm: γ, β belong to the affine map) or u = γ·x̂ + β (the LayerNormalization op). */
interface LayerNormInfo {
  eps: number;
  gamma?: string;
}

interface MlpPart {
  kind: 'mlp';
  c: MlpC;
  nodes: OnnxNodeProto[];
  post?: OnnxNodeProto[];
}

type Part = AttnPart | MlpPart;

const DATA0 = new Set(['Reshape', 'Transpose', 'Split', 'Slice', 'Squeeze', 'Unsqueeze', 'Identity', 'Flatten', 'Neg', 'Expand']);
const LINEAR2 = new Set(['MatMul', 'Gemm', 'Add', 'Sub', 'Mul']);

/** Walks up from `v` through affine steps (one computed operand) to the first non-affine value. */
function affineRoot(ix: GraphIndexProto, v: string, stop: string): string {
  for (let hop = 0; hop < 64; hop++) {
    if (v === stop) return v;
    const p = ix.producer.get(v);
    if (!p) return v;
    const ins = p.input ?? [];
    const op = p.op_type ?? '';
    let next: string | undefined;
    if (DATA0.has(op)) next = ins[0];
    else if (op === 'Div') next = ix.isConst(ins[1]) ? ins[0] : undefined;
    else if (LINEAR2.has(op)) {
      const computed = ins.slice(0, op === 'Gemm' ? 3 : 2).filter((i) => i && !ix.isConst(i));
      next = computed.length === 1 ? computed[0] : undefined;
    }
    if (!next || ix.isConst(next)) return v;
    v = next;
  }
  return v;
}

/** Whether `v` depends on `target` (through any path). */
function dependsOn(ix: GraphIndexProto, v: string, target: string): boolean {
  if (v === target) return true;
  return ix.nodesFor([v], new Set([target])).some((n) => (n.input ?? []).includes(target));
}

function externalInputs(nodes: readonly OnnxNodeProto[], given: readonly string[]): string[] {
  const produced = new Set(nodes.flatMap((n) => n.output ?? []));
  const out = new Set<string>();
  for (const n of nodes) for (const i of n.input ?? []) if (i && !produced.has(i) && !given.includes(i)) out.add(i);
  return [...out];
}

/** The side inputs of a cloned section must not read the stream (only constants and the tokens). */
function checkSideInputs(ix: GraphIndexProto, nodes: readonly OnnxNodeProto[], given: readonly string[], embed: string, what: string): void {
  for (const e of externalInputs(nodes, given)) {
    if (ix.isConst(e) || ix.inputs.has(e)) continue;
    if (dependsOn(ix, e, embed)) throw new OrtCircuitUnsupported(`${what} reads the stream value '${e}' besides its own input`);
  }
}

function elemOf(model: OnnxModelProto, input: string): number {
  const v = model.graph?.input?.find((i) => i.name === input);
  return v?.type?.tensor_type?.elem_type ?? ELEM.INT64;
}

/** The model's input: its element type and one pair's dims ([T] for tokens, e.g. [C, H, W] for images). */
interface InputSpec {
  elem: number;
  sample: number[];
}

/** `B` pairs' inputs (row-major) as an onnxruntime feed of the input's element type. */
function tokensInput(spec: InputSpec, data: ArrayLike<number>, B: number): OrtInput {
  const dims = [B, ...spec.sample];
  const elem = spec.elem;
  if (elem === ELEM.FLOAT) return { dtype: 'float32', data: data instanceof Float32Array ? data : Float32Array.from(data), dims };
  if (elem === ELEM.INT32) return { dtype: 'int32', data: Int32Array.from(data), dims };
  const b = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) b[i] = BigInt(data[i]);
  return { dtype: 'int64', data: b, dims };
}

function f32(o: OrtOutput | undefined, what: string): Float32Array {
  if (!o || !(o.data instanceof Float32Array)) throw new OrtCircuitUnsupported(`${what} is not a float32 tensor`);
  return o.data;
}

export interface OrtCircuitOptions {
  /** One pair's input dims: [T] for token prompts, e.g. [C, H, W] for images. */
  sample: number[];
  /** The metric's position (negative: from the end), for logits with a sequence axis. */
  position: number;
  /** Which logit difference: at a position of (batch, T, V) logits, between two classes of (batch, classes) logits, or auto (by the logits' rank). */
  metric: CircuitMetricChoice;
  /** The model file (named in onnxruntime's errors). */
  file?: string;
  threads?: number;
}

/** Graph-building context shared by the three graphs. */
class Builder {
  readonly nodes: OnnxNodeProto[] = [];
  readonly inits: object[] = [];
  readonly names: Names;
  constructor(graph: OnnxGraphProto) {
    this.names = new Names(graph);
  }
  op(op: string, inputs: string[], attrs: Parameters<typeof node>[3] = {}, hint = op): string {
    const out = this.names.next(hint);
    this.nodes.push(node(op, inputs, [out], attrs, this.names.next(`${hint}_node`)));
    return out;
  }
  ints(values: number[], hint = 'shape'): string {
    const n = this.names.next(hint);
    this.inits.push(int64Tensor(n, values));
    return n;
  }
  scalarInt(v: number): string {
    const n = this.names.next('idx');
    this.inits.push(int64Tensor(n, [v], []));
    return n;
  }
  floats(data: Float32Array, dims: number[], hint = 'w'): string {
    const n = this.names.next(hint);
    this.inits.push(floatTensor(n, data, dims));
    return n;
  }
}

export class OrtCircuitModel {
  readonly graph: ComponentGraph;
  readonly passes = { forward: 0, backward: 0 };
  private provider = 'cpu';
  private sessions: { fwd?: OrtSession; grad?: OrtSession; patch?: OrtSession } = {};
  /** Every value's shape (read off runs), for the gradient graph when the autodiff's own inference stops short. */
  private values?: ValueShapes;
  private readonly opset: number;
  private slicedLogits = true;
  private logitsNodes?: OnnxNodeProto[];

  private constructor(
    private readonly proto: OnnxModelProto,
    readonly stream: ResidualStream,
    private readonly parts: Part[],
    readonly layout: ComponentLayout[],
    readonly D: number,
    private readonly opts: OrtCircuitOptions,
    private readonly input: InputSpec,
    /** The stream's sequence length (tokens; patches + cls for a ViT). */
    readonly T: number,
  ) {
    this.graph = buildComponentGraph(layout);
    this.opset = Number(proto.opset_import?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 13);
  }

  /** The route as named in results: onnxruntime and the execution provider its sessions got. */
  get backend(): string {
    return `onnxruntime ${this.provider} (gradients as ONNX graphs)`;
  }

  /** The nodes from the final stream value to the logits (the unembedding path), in graph order. */
  private get logitsPath(): OnnxNodeProto[] {
    this.logitsNodes ??= new GraphIndexProto(this.proto.graph!).nodesFor([this.stream.logits], new Set([this.stream.final]));
    return this.logitsNodes;
  }

  /** The metric as resolved: at `position` (0 … T−1) of (batch, T, V) logits, or between classes of (batch, classes) logits. */
  private metricKind: { kind: 'position'; position: number } | { kind: 'classes' } = { kind: 'position', position: 0 };

  /** The metric in words (the result's `metric`). */
  get metricDescription(): string {
    return this.metricKind.kind === 'classes'
      ? `logit difference between two classes (answer − wrong) of the classification output '${this.stream.logits}', mean over pairs`
      : `logit difference (answer − wrong) at position ${this.metricKind.position} of ${this.T}, mean over pairs`;
  }

  /**
   * Reads the model, finds each block's norm and affine maps, probes them and checks the decomposition.
   * @throws OrtCircuitUnsupported when the model does not decompose this way (use the tfjs route)
   */
  static async create(model: LoadedModel, stream: ResidualStream, probeTokens: ArrayLike<number>, opts: OrtCircuitOptions): Promise<OrtCircuitModel> {
    const opset = model.graph.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version;
    if (typeof opset === 'number' && opset < 13) throw new OrtCircuitUnsupported(`opset ${opset} < 13`);
    const proto = await readModelProto(model);
    const ix = new GraphIndexProto(proto.graph!);
    const parts: Part[] = [];
    const postOf = (c: ResidualComponent): OnnxNodeProto[] | undefined => {
      if (!c.post) return undefined;
      const nodes = ix.nodesFor([c.post], new Set([c.resid]));
      checkSideInputs(ix, nodes, [c.resid], stream.embed, `the norm after ${c.kind === 'attn' ? 'attention layer' : 'MLP'} ${c.layer}`);
      return nodes;
    };
    for (const c of stream.components) {
      if (c.kind === 'mlp') {
        const nodes = ix.nodesFor([c.output], new Set([c.input]));
        checkSideInputs(ix, nodes, [c.input], stream.embed, `MLP ${c.layer}`);
        parts.push({ kind: 'mlp', c, nodes, post: postOf(c) });
        continue;
      }
      const b = c.block;
      const roots = [b.q, b.kT, b.v].map((v) => affineRoot(ix, v, c.input));
      if (new Set(roots).size !== 1) throw new OrtCircuitUnsupported(`attention layer ${c.layer}: Q, Kᵀ and V are not affine maps of one normalised value (roots ${roots.join(', ')})`);
      const u = roots[0];
      const norm = u === c.input ? [] : ix.nodesFor([u], new Set([c.input]));
      if (u !== c.input && !dependsOn(ix, u, c.input)) throw new OrtCircuitUnsupported(`attention layer ${c.layer}: '${u}' does not depend on the block input`);
      checkSideInputs(ix, norm, [c.input], stream.embed, `attention layer ${c.layer}'s norm`);
      const core = ix.nodesFor([b.z], new Set([b.q, b.kT, b.v]));
      checkSideInputs(ix, core, [b.q, b.kT, b.v], stream.embed, `attention layer ${c.layer}'s core`);
      parts.push({ kind: 'attn', c, heads: 0, dh: 0, u, norm, core, post: postOf(c) });
    }
    const input: InputSpec = { elem: elemOf(proto, stream.tokens), sample: opts.sample };
    const size = opts.sample.reduce((u, v) => u * v, 1);
    const { T, D } = await probeEmbed(proto, stream, tokensInput(input, Array.from(probeTokens).slice(0, size), 1), opts.threads);
    const attnParts = parts.filter((p): p is AttnPart => p.kind === 'attn');
    await probeAffine(proto, attnParts, D, T, input, opts.threads);
    await detectLayerNorms(proto, ix, attnParts, D, T, opts.threads);
    const layout: ComponentLayout[] = parts.map((p) => (p.kind === 'attn' ? { kind: 'attn', layer: p.c.layer, heads: p.heads } : { kind: 'mlp', layer: p.c.layer }));
    const m = new OrtCircuitModel(proto, stream, parts, layout, D, opts, input, T);
    await m.checkLogitsSlice();
    return m;
  }

  /** Attention layers whose norm's backward runs once for all receiver copies (a LayerNorm, see detectLayerNorms). */
  get layerNormLayers(): number {
    return this.parts.filter((p) => p.kind === 'attn' && p.ln).length;
  }

  describe(): string {
    return this.layout.map((c) => (c.kind === 'attn' ? `attn ${c.layer} (${c.heads} heads)` : `mlp ${c.layer}`)).join(', ');
  }

  async dispose(): Promise<void> {
    const all = Object.values(this.sessions).filter((s): s is OrtSession => !!s);
    this.sessions = {};
    await Promise.all(all.map((s) => s.release()));
  }

  /** Releases one graph's session (the three are used in phases; weights are held once per session). */
  async release(which: 'fwd' | 'grad' | 'patch'): Promise<void> {
    const s = this.sessions[which];
    this.sessions[which] = undefined;
    await s?.release();
  }

  private async session(which: 'fwd' | 'grad' | 'patch'): Promise<OrtSession> {
    const have = this.sessions[which];
    if (have) return have;
    let model: OnnxModelProto;
    if (which === 'grad') {
      try {
        model = this.gradientModel();
      } catch (e) {
        if (!(e instanceof AutodiffError) || e.code !== 'unsupported-case' || this.values) throw e;
        this.values = await probeValueShapes(this.proto, this.stream, this.tokens(new Array(this.input.sample.reduce((u, v) => u * v, 1)).fill(0), 1), this.opts.threads);
        model = this.gradientModel();
      }
    } else model = which === 'fwd' ? this.forwardModel() : this.patchModel();
    // the three graphs that do the work run on the provider asked for (a GPU one where installed); probes on CPU
    const p = process.env.CIRCUITSCOPE_ORT_PROVIDER;
    const s = await createOrtSession(encodeModelProto(model), { provider: p === 'cuda' || p === 'cpu' ? p : 'auto', threads: this.opts.threads, file: this.opts.file, optimization: 'extended' });
    this.provider = s.provider;
    this.sessions[which] = s;
    return s;
  }

  // ---- graph pieces ----

  /** The 3H receiver copies X [3H, B, T, D] of an attention layer → its head-split Q, Kᵀ, V. */
  private headInputs(b: Builder, p: AttnPart, X: string): { q: string; kT: string; v: string } {
    const xf = b.op('Reshape', [X, b.ints([-1, this.T, this.D])]);
    let u = xf;
    if (p.norm.length) {
      const cl = cloneNodes(p.norm, b.names, new Map([[p.c.input, xf]]), `l${p.c.layer}_norm`);
      b.nodes.push(...cl.nodes);
      u = cl.renamed.get(p.u)!;
    }
    return this.project(b, p, u);
  }

  /** Normalised copies U [3H·B, T, D] (or [3H, B, T, D]) → the per-head projections, head-split Q, Kᵀ, V. */
  private project(b: Builder, p: AttnPart, u: string): { q: string; kT: string; v: string } {
    const { D, T } = this;
    const H = p.heads;
    const u4 = b.op('Reshape', [u, b.ints([3, H, -1, D])]);
    const proj = b.op('Add', [b.op('MatMul', [u4, b.floats(p.A!, [3, H, D, p.dh], 'A')]), b.floats(p.bA!, [3, H, 1, p.dh], 'bA')]);
    const port = (i: number, perm: number[]): string => {
      const g = b.op('Gather', [proj, b.scalarInt(i)], { axis: { int: 0 } });
      return b.op('Transpose', [b.op('Reshape', [g, b.ints([H, -1, T, p.dh])])], { perm: { ints: perm } });
    };
    return { q: port(0, [1, 0, 2, 3]), kT: port(1, [1, 0, 3, 2]), v: port(2, [1, 0, 2, 3]) };
  }

  private reduceMeanLast(b: Builder, v: string): string {
    return this.opset >= 18 ? b.op('ReduceMean', [v, b.ints([-1], 'axes')], { keepdims: { int: 1 } }) : b.op('ReduceMean', [v], { axes: { ints: [-1] }, keepdims: { int: 1 } });
  }

  /**
   * LayerNorm's backward for the 3H copies at once: with x̂ = (x − μ)/σ over the last axis and g the cotangent
   * of x̂ (γ·g_u for the op form), ∂/∂x = (g − mean(g) − x̂·mean(g·x̂))/σ. x̂ and 1/σ are computed once from x.
   */
  private layerNormBack(b: Builder, p: AttnPart, x: string, gU: string): string {
    const ln = p.ln!;
    const mu = this.reduceMeanLast(b, x);
    const d = b.op('Sub', [x, mu]);
    const v = this.reduceMeanLast(b, b.op('Mul', [d, d]));
    const inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [v, b.floats(Float32Array.of(ln.eps), [], 'eps')])])]);
    const xh = b.op('Mul', [d, inv]);
    const g = ln.gamma ? b.op('Mul', [gU, ln.gamma]) : gU;
    const m1 = this.reduceMeanLast(b, g);
    const m2 = this.reduceMeanLast(b, b.op('Mul', [g, xh]));
    return b.op('Mul', [b.op('Sub', [b.op('Sub', [g, m1]), b.op('Mul', [xh, m2])]), inv]);
  }

  /** z [B, H, T, dh] → each head's write without the bias, [H, B, T, D]. */
  private headWrites(b: Builder, p: AttnPart, z: string): string {
    const zt = b.op('Reshape', [b.op('Transpose', [z], { perm: { ints: [1, 0, 2, 3] } }), b.ints([p.heads, -1, p.dh])]);
    const w = b.op('MatMul', [zt, b.floats(p.Wo!, [p.heads, p.dh, this.D], 'Wo')]);
    return b.op('Reshape', [w, b.ints([p.heads, -1, this.T, this.D])]);
  }

  /** The final stream value [B, T, D] → the logits at the metric's position, [B, V]. */
  private lastLogits(b: Builder, final: string): string {
    const { stream } = this;
    const path = this.logitsPath;
    if (this.metricKind.kind === 'classes') {
      // (batch, classes): the classification head reads the stream (e.g. its cls position) itself
      const cl = cloneNodes(path, b.names, new Map([[stream.final, final]]), 'logits');
      b.nodes.push(...cl.nodes);
      return b.op('Flatten', [cl.renamed.get(stream.logits)!], { axis: { int: 1 } });
    }
    const pos = b.ints([this.metricKind.position], 'pos');
    if (this.slicedLogits) {
      const sel = b.op('Gather', [final, pos], { axis: { int: 1 } });
      const cl = cloneNodes(path, b.names, new Map([[stream.final, sel]]), 'logits');
      b.nodes.push(...cl.nodes);
      return b.op('Flatten', [cl.renamed.get(stream.logits)!], { axis: { int: 1 } });
    }
    const cl = cloneNodes(path, b.names, new Map([[stream.final, final]]), 'logits');
    b.nodes.push(...cl.nodes);
    return b.op('Flatten', [b.op('Gather', [cl.renamed.get(stream.logits)!, pos], { axis: { int: 1 } })], { axis: { int: 1 } });
  }

  private finish(b: Builder, inputs: object[], outputs: string[], base?: OnnxNodeProto[]): OnnxModelProto {
    const g = this.proto.graph!;
    const graph = prune({
      name: 'circuit',
      node: [...(base ?? []), ...b.nodes],
      initializer: [...(g.initializer ?? []), ...(b.inits as NonNullable<OnnxGraphProto['initializer']>)],
      input: inputs as OnnxGraphProto['input'],
      output: outputs.map((o) => ({ name: o })),
    });
    return withGraph(this.proto, graph);
  }

  private tokensInfo(): object {
    return valueInfo(this.stream.tokens, this.input.elem, ['batch', ...this.input.sample]);
  }

  /** Unpatched run: every sender block ([n, B, T, D]) and the logits at the position. */
  private forwardModel(): OnnxModelProto {
    const g = this.proto.graph!;
    const b = new Builder(g);
    const outs: string[] = [b.op('Unsqueeze', [this.stream.embed, b.ints([0], 'axes')])];
    for (const p of this.parts) {
      if (p.kind === 'attn') outs.push(this.headWrites(b, p, p.c.block.z));
      else outs.push(b.op('Unsqueeze', [p.c.output, b.ints([0], 'axes')]));
    }
    const logits = this.lastLogits(b, this.stream.final);
    return this.finish(b, [this.tokensInfo()], [...outs, logits], (g.node ?? []).map((n) => ({ ...n })));
  }

  /** Sender blocks in stream order: (count, first sender index). */
  private blocks(): { n: number; s0: number }[] {
    const out = [{ n: 1, s0: 0 }];
    let s = 1;
    for (const p of this.parts) {
      const n = p.kind === 'attn' ? p.heads : 1;
      out.push({ n, s0: s });
      s += n;
    }
    return out;
  }

  /**
   * Post-LN: a receiver group's inputs [n, B, T, D] from its private copies of the block sums m_0 … m_k (each
   * [n, B, T, D]; m_0 the input node's output, m_j the j-th component's write with its bias): x = m_0, then
   * x = post_j(x + m_j) for each component j with its own norm (the last component's norm belongs to the
   * logits path). With every copy equal to the clean block sums this is the model's own stream.
   */
  private chain(b: Builder, m: string[], n: number): string {
    const { T, D } = this;
    let x = m[0];
    for (let j = 1; j < m.length; j++) {
      const s = b.op('Add', [x, m[j]]);
      const part = this.parts[j - 1];
      if (!part.post) {
        x = s;
        continue;
      }
      const flat = b.op('Reshape', [s, b.ints([-1, T, D])]);
      const cl = cloneNodes(part.post, b.names, new Map([[part.c.resid, flat]]), `post${j}`);
      b.nodes.push(...cl.nodes);
      x = b.op('Reshape', [cl.renamed.get(part.c.post!)!, b.ints([n, -1, T, D])]);
    }
    return x;
  }

  /** The graph value holding sender block j's sum with its bias (j = 0: the input node; else component j − 1's write). */
  private blockSum(j: number): string {
    return j === 0 ? this.stream.embed : this.parts[j - 1].c.output;
  }

  /**
   * Gradient graph: inputs embedIn [B, T, D], tokens, dir [B, V] (one-hot answer − wrong, divided by the
   * pair count) and diff_j [n_j, B, T, D] (corrupt − clean per sender block); outputs the metric and, per
   * receiver group, scores [upstream, receivers] = Σ diff_u · ∂metric/∂in_v.
   */
  private gradientModel(): OnnxModelProto {
    const g = this.proto.graph!;
    const orig = new Map<OnnxNodeProto, OnnxNodeProto>();
    const nodes = (g.node ?? []).map((n) => {
      const c = { ...n, input: [...(n.input ?? [])] };
      orig.set(c, n);
      return c;
    });
    const b = new Builder(g);
    const within = (set: ReadonlySet<OnnxNodeProto>) => (n: OnnxNodeProto): boolean => set.has(orig.get(n)!);
    const sources: string[] = [];
    const receiverCounts: number[] = [];
    /** Post-LN: per receiver group, its copies of the block sums (the gradient sources), else undefined. */
    const copies: string[][] = [];
    const post = this.stream.postLN;
    const chainInput = (k: number, n: number): string => {
      const zeros = b.floats(new Float32Array(n), [n, 1, 1, 1], 'zeros');
      const m = Array.from({ length: k + 1 }, (_, j) => b.op('Add', [b.op('Unsqueeze', [this.blockSum(j), b.ints([0], 'axes')]), zeros], {}, `g${k}_m${j}`));
      copies.push(m);
      return this.chain(b, m, n);
    };
    this.parts.forEach((p, k) => {
      if (!post) return;
      if (p.kind === 'attn') {
        const h = this.headInputs(b, p, chainInput(k, 3 * p.heads));
        const blk = p.c.block;
        const coreSet = new Set(p.core);
        for (const [from, to] of [[blk.q, h.q], [blk.kT, h.kT], [blk.v, h.v]]) redirect(nodes, from, to, within(coreSet));
        receiverCounts.push(3 * p.heads);
      } else {
        const mi = b.op('Reshape', [chainInput(k, 1), b.ints([-1, this.T, this.D])], {}, `m${p.c.layer}_in`);
        redirect(nodes, p.c.input, mi, within(new Set(p.nodes)));
        receiverCounts.push(1);
      }
    });
    for (const p of post ? [] : this.parts) {
      if (p.kind === 'attn') {
        // x (or, for a LayerNorm, its output u) broadcast to the 3H receiver copies (an Add of zeros rather than
        // Expand: shape inference knows Add); for a LayerNorm the norm's backward is applied to the copies' gradients below
        const zeros = b.floats(new Float32Array(3 * p.heads), [3 * p.heads, 1, 1, 1], 'zeros');
        const X = b.op('Add', [b.op('Unsqueeze', [p.ln ? p.u : p.c.input, b.ints([0], 'axes')]), zeros], {}, `l${p.c.layer}_X`);
        const h = p.ln ? this.project(b, p, X) : this.headInputs(b, p, X);
        const blk = p.c.block;
        const coreSet = new Set(p.core);
        for (const [from, to] of [[blk.q, h.q], [blk.kT, h.kT], [blk.v, h.v]]) redirect(nodes, from, to, within(coreSet));
        sources.push(X);
        receiverCounts.push(3 * p.heads);
      } else {
        const mi = b.op('Identity', [p.c.input], {}, `m${p.c.layer}_in`);
        const branch = new Set(p.nodes);
        redirect(nodes, p.c.input, mi, within(branch));
        sources.push(mi);
        receiverCounts.push(1);
      }
    }
    const fi = post ? b.op('Reshape', [chainInput(this.parts.length, 1), b.ints([-1, this.T, this.D])], {}, 'final_in') : b.op('Identity', [this.stream.final], {}, 'final_in');
    redirect(nodes, this.stream.final, fi, within(new Set(this.logitsPath)));
    if (post) sources.push(...copies.flat());
    else sources.push(fi);
    receiverCounts.push(1);
    const logits = this.lastLogits(b, fi);
    const metric = b.op('ReduceSum', [b.op('Mul', [logits, 'dir'])], { keepdims: { int: 0 } }, 'metric');
    // the embedding is given (EAP-IG interpolates it): cut its producers off
    for (const n of nodes) if (n.output?.includes(this.stream.embed)) n.output = n.output.map((o) => (o === this.stream.embed ? `${o}__unused` : o));
    const inputs = [valueInfo(this.stream.embed, ELEM.FLOAT, ['batch', this.T, this.D]), this.tokensInfo(), valueInfo('dir', ELEM.FLOAT, ['batch', 'vocab'])];
    const fwd = this.finish(b, inputs, [metric, ...sources], nodes);
    const declared = new Set((fwd.graph!.input ?? []).map((v) => v.name));
    const present = new Set((fwd.graph!.node ?? []).flatMap((n) => n.output ?? []));
    fwd.graph!.value_info = [...(this.values ?? [])]
      .filter(([n]) => present.has(n) && !declared.has(n))
      .map(([n, v]) => valueInfo(n, v.elem, v.dims) as NonNullable<OnnxGraphProto['value_info']>[number]);
    const gm = buildGradientModel(fwd, { objective: { scalar: metric }, sources, outputs: [metric] });
    // scores per receiver group: Σ_j Gemm(diff_j, grad) over the sender blocks upstream
    const gg = gm.model.graph!;
    const s = new Builder(gg);
    const blocks = this.blocks();
    const diffs = blocks.map((_, j) => `diff_${j}`);
    const scoreOuts: string[] = [];
    let upBlocks = 1;
    const attnParts = this.parts;
    if (post) {
      // scores [upstream, receivers] = per sender block j, diff_j · ∂metric/∂(the group's copies of m_j)
      copies.forEach((m, k) => {
        const parts = m.map((mj, j) => s.op('Gemm', [s.op('Reshape', [diffs[j], s.ints([blocks[j].n, -1])]), s.op('Reshape', [gm.grads[mj], s.ints([receiverCounts[k], -1])])], { transB: { int: 1 } }));
        scoreOuts.push(parts.length === 1 ? s.op('Identity', parts) : s.op('Concat', parts, { axis: { int: 0 } }, `scores_${k}`));
      });
    }
    (post ? [] : sources).forEach((src, k) => {
      const part = attnParts[k];
      const gX = part?.kind === 'attn' && part.ln ? this.layerNormBack(s, part, part.c.input, gm.grads[src]) : gm.grads[src];
      const gradFlat = s.op('Reshape', [gX, s.ints([receiverCounts[k], -1])]);
      const parts = diffs.slice(0, upBlocks).map((d, j) => s.op('Gemm', [s.op('Reshape', [d, s.ints([blocks[j].n, -1])]), gradFlat], { transB: { int: 1 } }));
      scoreOuts.push(parts.length === 1 ? s.op('Identity', parts) : s.op('Concat', parts, { axis: { int: 0 } }, `scores_${k}`));
      upBlocks++;
    });
    gg.node = [...(gg.node ?? []), ...s.nodes];
    gg.initializer = [...(gg.initializer ?? []), ...(s.inits as NonNullable<OnnxGraphProto['initializer']>)];
    gg.input = [...(gg.input ?? []), ...diffs.map((d) => valueInfo(d, ELEM.FLOAT) as NonNullable<OnnxGraphProto['input']>[number])];
    gg.output = [metric, ...scoreOuts].map((o) => ({ name: o }));
    return gm.model;
  }

  /**
   * Patched run: inputs tokens, corrupt_j [n_j, B, T, D] per sender block and keep_k [receivers, upstream]
   * per receiver group; output the logits at the position.
   */
  private patchModel(): OnnxModelProto {
    const g = this.proto.graph!;
    const b = new Builder(g);
    const { T, D } = this;
    const blocks = this.blocks();
    const cur: string[] = [b.op('Unsqueeze', [this.stream.embed, b.ints([0], 'axes')])];
    const flat = (v: string, n: number): string => b.op('Reshape', [v, b.ints([n, -1])]);
    const corrupt = blocks.map((_, j) => `corrupt_${j}`);
    const diffFlat: string[] = [];
    let ctot = flat(b.op('ReduceSum', [corrupt[0], b.ints([0], 'axes')], { keepdims: { int: 1 } }), 1);
    let base: Float32Array = new Float32Array(D);
    const keeps: string[] = [];
    const mixed = (k: number, n: number): string => {
      const keep = `keep_${k}`;
      keeps.push(keep);
      let acc = ctot;
      let col = 0;
      for (let j = 0; j < cur.length; j++) {
        if (!diffFlat[j]) diffFlat[j] = b.op('Sub', [flat(cur[j], blocks[j].n), flat(corrupt[j], blocks[j].n)]);
        const w = b.op('Slice', [keep, b.ints([col]), b.ints([col + blocks[j].n]), b.ints([1])]);
        acc = b.op('Add', [acc, b.op('MatMul', [w, diffFlat[j]])]);
        col += blocks[j].n;
      }
      return b.op('Add', [b.op('Reshape', [acc, b.ints([n, -1, T, D])]), b.floats(base.slice(), [D], 'base')]);
    };
    /** Post-LN: each receiver's block sums (its kept senders' values, the others' corrupted ones, + biases), then the chain. */
    const mixedPost = (k: number, n: number): string => {
      const keep = `keep_${k}`;
      keeps.push(keep);
      let col = 0;
      const m = cur.map((c, j) => {
        if (!diffFlat[j]) diffFlat[j] = b.op('Sub', [flat(c, blocks[j].n), flat(corrupt[j], blocks[j].n)]);
        csum[j] ??= flat(b.op('ReduceSum', [corrupt[j], b.ints([0], 'axes')], { keepdims: { int: 1 } }), 1);
        const w = b.op('Slice', [keep, b.ints([col]), b.ints([col + blocks[j].n]), b.ints([1])]);
        col += blocks[j].n;
        const mj = b.op('Reshape', [b.op('Add', [csum[j], b.op('MatMul', [w, diffFlat[j]])]), b.ints([n, -1, T, D])]);
        const part = j > 0 ? this.parts[j - 1] : undefined;
        return part?.kind === 'attn' ? b.op('Add', [mj, b.floats(part.bo!, [D], 'bo')]) : mj;
      });
      return this.chain(b, m, n);
    };
    const csum: string[] = [];
    const mix = (k: number, n: number): string => (this.stream.postLN ? mixedPost(k, n) : mixed(k, n));
    const addBlock = (v: string, j: number): void => {
      cur.push(v);
      ctot = b.op('Add', [ctot, flat(b.op('ReduceSum', [corrupt[j], b.ints([0], 'axes')], { keepdims: { int: 1 } }), 1)]);
    };
    this.parts.forEach((p, k) => {
      if (p.kind === 'attn') {
        const X = mix(k, 3 * p.heads);
        const h = this.headInputs(b, p, X);
        const blk = p.c.block;
        const cl = cloneNodes(p.core, b.names, new Map([[blk.q, h.q], [blk.kT, h.kT], [blk.v, h.v]]), `l${p.c.layer}_core`);
        b.nodes.push(...cl.nodes);
        addBlock(this.headWrites(b, p, cl.renamed.get(blk.z)!), k + 1);
        const nb = new Float32Array(base);
        for (let i = 0; i < D; i++) nb[i] += p.bo![i];
        base = nb;
      } else {
        const X = b.op('Reshape', [mix(k, 1), b.ints([-1, T, D])]);
        const cl = cloneNodes(p.nodes, b.names, new Map([[p.c.input, X]]), `m${p.c.layer}`);
        b.nodes.push(...cl.nodes);
        addBlock(b.op('Unsqueeze', [cl.renamed.get(p.c.output)!, b.ints([0], 'axes')]), k + 1);
      }
    });
    const X = b.op('Reshape', [mix(this.parts.length, 1), b.ints([-1, T, D])]);
    const logits = this.lastLogits(b, X);
    const inputs = [this.tokensInfo(), ...corrupt.map((c) => valueInfo(c, ELEM.FLOAT, [blocks[corrupt.indexOf(c)].n, 'batch', T, D])), ...keeps.map((k) => valueInfo(k, ELEM.FLOAT))];
    return this.finish(b, inputs, [logits], (g.node ?? []).map((n) => ({ ...n })));
  }

  // ---- runs ----

  tokens(data: ArrayLike<number>, B: number): OrtInput {
    return tokensInput(this.input, data, B);
  }

  /** Unpatched forward: sender blocks and logits at the position [B, V]. */
  async forward(tokens: OrtInput): Promise<{ blocks: Float32Array[]; logits: Float32Array; vocab: number }> {
    this.passes.forward++;
    const s = await this.session('fwd');
    const out = await s.run({ [this.stream.tokens]: tokens });
    const names = s.outputNames;
    const blocks = names.slice(0, -1).map((n) => f32(out[n], n));
    const last = out[names[names.length - 1]];
    return { blocks, logits: f32(last, 'logits'), vocab: last.dims[1] };
  }

  /** Gradient pass: the metric and per-group score matrices [upstream × receivers] (row-major). */
  async gradientScores(embedIn: Float32Array, tokens: OrtInput, dir: Float32Array, vocab: number, diffs: Float32Array[]): Promise<{ metric: number; scores: Float32Array[] }> {
    this.passes.forward++;
    this.passes.backward++;
    const s = await this.session('grad');
    const B = tokens.dims[0];
    const feeds: Record<string, OrtInput> = {
      [this.stream.embed]: { dtype: 'float32', data: embedIn, dims: [B, this.T, this.D] },
      [this.stream.tokens]: tokens,
      dir: { dtype: 'float32', data: dir, dims: [B, vocab] },
    };
    this.blocks().forEach((bl, j) => (feeds[`diff_${j}`] = { dtype: 'float32', data: diffs[j], dims: [bl.n, B, this.T, this.D] }));
    const want = s.inputNames;
    for (const k of Object.keys(feeds)) if (!want.includes(k)) delete feeds[k];
    const out = await s.run(feeds);
    const names = s.outputNames;
    return { metric: f32(out[names[0]], 'metric')[0], scores: names.slice(1).map((n) => f32(out[n], n)) };
  }

  /** Patched forward: logits at the position [B, V]. `keep` is per receiver group [receivers × upstream]. */
  async patched(tokens: OrtInput, corrupt: Float32Array[], keep: Float32Array[]): Promise<Float32Array> {
    this.passes.forward++;
    const s = await this.session('patch');
    const B = tokens.dims[0];
    const feeds: Record<string, OrtInput> = { [this.stream.tokens]: tokens };
    this.blocks().forEach((bl, j) => (feeds[`corrupt_${j}`] = { dtype: 'float32', data: corrupt[j], dims: [bl.n, B, this.T, this.D] }));
    const groups = receiverGroups(this.graph);
    groups.forEach(([r0, r1], k) => (feeds[`keep_${k}`] = { dtype: 'float32', data: keep[k], dims: [r1 - r0, this.graph.upstream[r0]] }));
    const want = s.inputNames;
    for (const k of Object.keys(feeds)) if (!want.includes(k)) delete feeds[k];
    const out = await s.run(feeds);
    return f32(out[s.outputNames[0]], 'logits');
  }

  /**
   * Uses the unembedding on the metric's position alone when that gives the model's own logits (one run of
   * the logits path, sliced and whole, on a random final stream value).
   */
  /**
   * Resolves the metric from the logits' rank (one run of the logits path on a random final stream value):
   * (batch, T, V) → at `position`; (batch, classes) → between two classes.
   * @throws JobInputError when the option asks for the other kind, or the position is outside the T positions
   */
  private async resolveMetric(): Promise<void> {
    const b = new Builder(this.proto.graph!);
    const x = b.names.next('final');
    const cl = cloneNodes(this.logitsPath, b.names, new Map([[this.stream.final, x]]), 'logits');
    b.nodes.push(...cl.nodes);
    const out = cl.renamed.get(this.stream.logits) ?? x;
    const model = this.finish(b, [valueInfo(x, ELEM.FLOAT, [1, this.T, this.D]), this.tokensInfo()], [out]);
    const rng = mulberry32(3);
    let dims: number[];
    let s: OrtSession | undefined;
    try {
      s = await createOrtSession(encodeModelProto(model), { provider: 'cpu', threads: this.opts.threads });
      const r = await s.run(this.withTokens(s, { [x]: { dtype: 'float32', data: Float32Array.from({ length: this.T * this.D }, () => rng() * 2 - 1), dims: [1, this.T, this.D] } }));
      dims = r[out].dims;
    } catch (e) {
      throw new OrtCircuitUnsupported(`the logits path does not run on its own: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    } finally {
      await s?.release();
    }
    const file = this.opts.file;
    const { metric, position } = this.opts;
    if (dims.length === 2) {
      if (metric === 'position') {
        throw new JobInputError(`option metric=position reads the logits at a token position, but the output '${this.stream.logits}' has shape (batch, ${dims[1]}) with no sequence axis; use metric=classes (the logit difference between the classes answer and wrong)`, file);
      }
      this.metricKind = { kind: 'classes' };
      return;
    }
    if (dims.length !== 3 || dims[1] !== this.T) {
      throw new JobInputError(`expected the output '${this.stream.logits}' to be (batch, T = ${this.T}, vocabulary) logits or (batch, classes) class logits, found shape (${dims.join(', ')}) for one input`, file);
    }
    if (metric === 'classes') {
      throw new JobInputError(`option metric=classes compares two classes of a (batch, classes) output, but '${this.stream.logits}' has a sequence axis (batch, ${dims[1]}, ${dims[2]}); use metric=position with --position`, file);
    }
    const p = position < 0 ? this.T + position : position;
    if (!Number.isInteger(p) || p < 0 || p >= this.T) throw new JobInputError(`option 'position' is ${position}, outside the ${this.T} positions of the stream`, file);
    this.metricKind = { kind: 'position', position: p };
  }

  /** Adds zero inputs of one pair where a probe graph reads the model's input (e.g. for its shape). */
  private withTokens(s: OrtSession, feeds: Record<string, OrtInput>): Record<string, OrtInput> {
    if (!s.inputNames.includes(this.stream.tokens)) return feeds;
    return { ...feeds, [this.stream.tokens]: tokensInput(this.input, new Float32Array(this.input.sample.reduce((u, v) => u * v, 1)), 1) };
  }

  private async checkLogitsSlice(): Promise<void> {
    await this.resolveMetric();
    if (this.metricKind.kind === 'classes') {
      this.slicedLogits = false;
      return;
    }
    const b = new Builder(this.proto.graph!);
    const x = b.names.next('final');
    this.slicedLogits = true;
    let sliced: string | undefined;
    try {
      sliced = this.lastLogits(b, x);
    } catch {
      sliced = undefined;
    }
    this.slicedLogits = false;
    const whole = this.lastLogits(b, x);
    const model = this.finish(b, [valueInfo(x, ELEM.FLOAT, [1, this.T, this.D]), this.tokensInfo()], sliced ? [whole, sliced] : [whole]);
    const rng = mulberry32(5);
    const feed: OrtInput = { dtype: 'float32', data: Float32Array.from({ length: this.T * this.D }, () => rng() * 2 - 1), dims: [1, this.T, this.D] };
    let s: OrtSession | undefined;
    try {
      s = await createOrtSession(encodeModelProto(model), { provider: 'cpu', threads: this.opts.threads });
      const out = await s.run(this.withTokens(s, { [x]: feed }));
      if (!sliced) return;
      const [w, v] = [f32(out[whole], 'logits'), f32(out[sliced], 'sliced logits')];
      let err = 0;
      let scale = 1;
      for (let i = 0; i < w.length; i++) {
        err = Math.max(err, Math.abs(w[i] - v[i]));
        scale = Math.max(scale, Math.abs(w[i]));
      }
      this.slicedLogits = w.length === v.length && err <= 1e-4 * scale;
    } catch (e) {
      if (!sliced) throw new OrtCircuitUnsupported(`the logits path does not run on its own: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      // a position-specific logits path (e.g. a Reshape with T fixed): the whole path it is
      this.slicedLogits = false;
    } finally {
      await s?.release();
    }
  }

}

/** One plain run with taps: D, heads, d_head per layer and the logits at the position. */
/** A float scalar held by an initializer or a Constant node, if `name` is one. */
function constScalar(ix: GraphIndexProto, name: string): number | undefined {
  const t = ix.graph.initializer?.find((i) => i.name === name) ?? ix.producer.get(name)?.attribute?.find((a) => a.name === 'value')?.t;
  if (!t || (t.dims ?? []).some((d) => Number(d) !== 1)) return undefined;
  if (t.float_data?.length) return t.float_data[0];
  if (t.double_data?.length) return t.double_data[0];
  const raw = t.raw_data;
  if (raw && t.data_type === ELEM.FLOAT && raw.byteLength === 4) return new DataView(raw.buffer, raw.byteOffset, 4).getFloat32(0, true);
  if (raw && t.data_type === ELEM.DOUBLE && raw.byteLength === 8) return new DataView(raw.buffer, raw.byteOffset, 8).getFloat64(0, true);
  return undefined;
}

/**
 * Marks the attention layers whose norm is a LayerNorm over the last axis: the LayerNormalization op reading
 * x (epsilon from its attribute), or a decomposed one whose output u equals (x − μ)/√(σ² + ε) for the scalar
 * ε added inside it — checked numerically on random inputs.
 */
async function detectLayerNorms(proto: OnnxModelProto, ix: GraphIndexProto, attn: AttnPart[], D: number, T: number, threads?: number): Promise<void> {
  const decomposed: { p: AttnPart; eps: number }[] = [];
  for (const p of attn) {
    const n = p.norm;
    if (n.length === 1 && n[0].op_type === 'LayerNormalization' && n[0].input?.[0] === p.c.input) {
      const axis = Number(n[0].attribute?.find((a) => a.name === 'axis')?.i ?? -1);
      const eps = n[0].attribute?.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
      if (axis === -1 || axis === 2) p.ln = { eps, gamma: n[0].input?.[1] };
      continue;
    }
    if (ix.producer.get(p.u)?.op_type !== 'Div') continue;
    const eps = n.filter((x) => x.op_type === 'Add').map((x) => (x.input ?? []).map((i) => constScalar(ix, i)).find((v) => v !== undefined)).find((v) => v !== undefined);
    if (eps !== undefined && eps > 0) decomposed.push({ p, eps });
  }
  if (!decomposed.length) return;
  const cuts = decomposed.map((d) => d.p.c.input);
  const sub = submodel(proto, [...new Set(cuts)], decomposed.map((d) => d.p.u));
  const s = await createOrtSession(encodeModelProto(sub), { provider: 'cpu', threads });
  try {
    const rng = mulberry32(99);
    const x = Float32Array.from({ length: T * D }, (_, i) => (rng() * 2 - 1) * (1 + (i % 7)) + (Math.floor(i / D) % 3));
    const feeds: Record<string, OrtInput> = {};
    for (const c of cuts) feeds[c] = { dtype: 'float32', data: x, dims: [1, T, D] };
    const out = await s.run(feeds);
    for (const { p, eps } of decomposed) {
      const u = f32(out[p.u], 'norm output');
      let err = 0;
      for (let t = 0; t < T; t++) {
        const row = x.subarray(t * D, (t + 1) * D);
        let mu = 0;
        for (const v of row) mu += v / D;
        let va = 0;
        for (const v of row) va += (v - mu) ** 2 / D;
        const inv = 1 / Math.sqrt(va + eps);
        for (let i = 0; i < D; i++) err = Math.max(err, Math.abs((row[i] - mu) * inv - u[t * D + i]));
      }
      if (err < 1e-4) p.ln = { eps };
    }
  } finally {
    await s.release();
  }
}

const ORT_ELEM: Record<string, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };

/** Declared shapes of the graph's values, read off two runs (batch 1 and 2): dims that differ are symbolic. */
export type ValueShapes = Map<string, { elem: number; dims: Dim[] }>;

/** The stream's length T and width D, from the embedding alone run on the probe input. */
async function probeEmbed(proto: OnnxModelProto, stream: ResidualStream, tokens: OrtInput, threads?: number): Promise<{ T: number; D: number }> {
  const s = await createOrtSession(encodeModelProto(submodel(proto, [], [stream.embed])), { provider: 'cpu', threads });
  try {
    const e = (await s.run({ [stream.tokens]: tokens }))[stream.embed];
    if (e?.dims.length !== 3) throw new OrtCircuitUnsupported(`the embedding '${stream.embed}' has shape [${e?.dims.join(', ')}], expected (batch, T, D)`);
    return { T: e.dims[1], D: e.dims[2] };
  } finally {
    await s.release();
  }
}

/**
 * Plain runs with every value as an output, on a prompt (batch 1) and twice it (batch 2): every value's
 * shape, dims that differ being symbolic. Given to the gradient graph as value_info when the autodiff's own
 * shape inference stops short of a rank it needs.
 */
async function probeValueShapes(proto: OnnxModelProto, stream: ResidualStream, tokens: OrtInput, threads?: number): Promise<ValueShapes> {
  const g = proto.graph!;
  const all = [...new Set((g.node ?? []).flatMap((n) => n.output ?? []).filter((o) => o))];
  const s = await createOrtSession(encodeModelProto(withGraph(proto, { ...g, output: all.map((t) => ({ name: t })) })), { provider: 'cpu', threads });
  try {
    const out = await s.run({ [stream.tokens]: tokens });
    const d = tokens.data as BigInt64Array | Int32Array | Float32Array;
    const twice = new (d.constructor as new (n: number) => typeof d)(2 * d.length);
    twice.set(d as never, 0);
    twice.set(d as never, d.length);
    const out2 = await s.run({ [stream.tokens]: { dtype: tokens.dtype, data: twice, dims: [2, ...tokens.dims.slice(1)] } as OrtInput });
    const values: ValueShapes = new Map();
    for (const name of all) {
      const a = out[name];
      const b = out2[name];
      const elem = a && ORT_ELEM[a.dtype];
      if (!a || !b || !elem || a.dims.length !== b.dims.length) continue;
      values.set(name, { elem, dims: a.dims.map((d, i) => (d === b.dims[i] ? d : `d_${i}`)) });
    }
    return values;
  } finally {
    await s.release();
  }
}

/** Basis probes: position k = b·T + t holds e_k (k < n), position n is zero (the bias), then one random row. */
function basisProbe(n: number, T: number, width: number, rng: () => number): { data: Float32Array; B: number; Bb: number } {
  const Bb = Math.ceil((n + 1) / T);
  const B = Bb + 1;
  const data = new Float32Array(B * T * width);
  for (let k = 0; k < n; k++) data[k * width + (k % width)] = 1;
  const r = data.subarray(Bb * T * width);
  for (let i = 0; i < r.length; i++) r[i] = rng() * 2 - 1;
  return { data, B, Bb };
}

/** Runs the sub-model between `cuts` and `outputs` once on `feeds` (tokens of the probe's batch added). */
async function runSub(proto: OnnxModelProto, cuts: string[], outputs: string[], feeds: Record<string, OrtInput>, B: number, input: InputSpec, threads?: number): Promise<Record<string, OrtOutput>> {
  const sub = submodel(proto, cuts, outputs);
  const s = await createOrtSession(encodeModelProto(sub), { provider: 'cpu', threads });
  try {
    const tok = sub.graph!.input!.find((i) => !cuts.includes(i.name ?? ''));
    if (tok?.name) feeds[tok.name] = tokensInput(input, new Float32Array(B * input.sample.reduce((u, v) => u * v, 1)), B);
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/**
 * Reads each attention layer's affine maps off the graph: u → (Q, Kᵀ, V) (which also gives the head count
 * and d_head) and z → block output, each by one run of the sub-model between the cuts on basis inputs, with
 * a random row checking that the maps are affine and position-wise.
 */
async function probeAffine(proto: OnnxModelProto, attn: AttnPart[], D: number, T: number, input: InputSpec, threads?: number): Promise<void> {
  if (!attn.length) return;
  const rng = mulberry32(12345);
  const u = basisProbe(D, T, D, rng);
  // Each block input x is cut too and given zeros of its shape: exports that read (batch, T) for their reshapes
  // off x (Shape(x)) would otherwise run the whole model up to every block just for a shape.
  const blockInputs = (B: number): { cuts: string[]; feeds: Record<string, OrtInput> } => {
    const cuts = [...new Set(attn.map((p) => p.c.input))];
    const zeros = new Float32Array(B * T * D);
    return { cuts, feeds: Object.fromEntries(cuts.map((c) => [c, { dtype: 'float32', data: zeros, dims: [B, T, D] } as OrtInput])) };
  };
  const xs = blockInputs(u.B);
  const cutsU = [...new Set(attn.map((p) => p.u))];
  const feedsU: Record<string, OrtInput> = { ...xs.feeds };
  for (const c of cutsU) feedsU[c] = { dtype: 'float32', data: u.data, dims: [u.B, T, D] };
  const outU = await runSub(proto, [...new Set([...cutsU, ...xs.cuts])], attn.flatMap((p) => [p.c.block.q, p.c.block.kT, p.c.block.v]), feedsU, u.B, input, threads);
  for (const p of attn) {
    const q = outU[p.c.block.q];
    if (q?.dims.length !== 4) throw new OrtCircuitUnsupported(`attention layer ${p.c.layer}: queries of shape [${q?.dims.join(', ')}], expected (batch, heads, T, d_head)`);
    p.heads = q.dims[1];
    p.dh = q.dims[3];
    readProjections(p, outU, D, T, u.Bb, u.data);
  }
  const HD = Math.max(...attn.map((p) => p.heads * p.dh));
  const zp = basisProbe(HD, T, HD, rng);
  const feedsZ: Record<string, OrtInput> = {};
  for (const p of attn) {
    // the (B, T, H·dh) probe as z (B, H, T, dh)
    const H = p.heads, dh = p.dh;
    const z = new Float32Array(zp.B * H * T * dh);
    for (let b = 0; b < zp.B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) for (let j = 0; j < dh; j++) z[((b * H + h) * T + t) * dh + j] = zp.data[(b * T + t) * HD + h * dh + j];
    feedsZ[p.c.block.z] = { dtype: 'float32', data: z, dims: [zp.B, H, T, dh] };
  }
  const xz = blockInputs(zp.B);
  const outZ = await runSub(proto, [...attn.map((p) => p.c.block.z), ...xz.cuts], attn.map((p) => p.c.output), { ...feedsZ, ...xz.feeds }, zp.B, input, threads);
  for (const p of attn) readOutputMap(p, outZ, D, T, zp.Bb, zp.data, HD);
}

function checkAffine(p: AttnPart, err: number, scale: number): void {
  if (!(err <= 1e-3 * scale)) throw new OrtCircuitUnsupported(`attention layer ${p.c.layer}: the projections are not affine and position-wise (error ${err.toExponential(2)})`);
}

/** A, bA of one layer from the u-probe outputs, checked on the random row. */
function readProjections(p: AttnPart, out: Record<string, OrtOutput>, D: number, T: number, Bb: number, u: Float32Array): void {
  const H = p.heads, dh = p.dh;
  const blk = p.c.block;
  const A = new Float32Array(3 * H * D * dh);
  const bA = new Float32Array(3 * H * dh);
  const vals = [f32(out[blk.q], 'q'), f32(out[blk.kT], 'kT'), f32(out[blk.v], 'v')];
  // port's value at flat position k = b·T + t, head h, channel j
  const get = (port: number, k: number, h: number, j: number): number => {
    const b = Math.floor(k / T), t = k % T;
    return port === 1 ? vals[1][((b * H + h) * dh + j) * T + t] : vals[port][((b * H + h) * T + t) * dh + j];
  };
  for (let port = 0; port < 3; port++) {
    for (let h = 0; h < H; h++) {
      for (let j = 0; j < dh; j++) {
        const bias = get(port, D, h, j);
        bA[(port * H + h) * dh + j] = bias;
        for (let i = 0; i < D; i++) A[((port * H + h) * D + i) * dh + j] = get(port, i, h, j) - bias;
      }
    }
  }
  let err = 0;
  let scale = 1;
  for (let t = 0; t < Math.min(T, 4); t++) {
    const k = Bb * T + t;
    for (let port = 0; port < 3; port++) {
      for (let h = 0; h < H; h++) {
        for (let j = 0; j < dh; j++) {
          let s = bA[(port * H + h) * dh + j];
          for (let i = 0; i < D; i++) s += u[k * D + i] * A[((port * H + h) * D + i) * dh + j];
          const y = get(port, k, h, j);
          err = Math.max(err, Math.abs(s - y));
          scale = Math.max(scale, Math.abs(y));
        }
      }
    }
  }
  checkAffine(p, err, scale);
  Object.assign(p, { A, bA });
}

/** Wo, bo of one layer from the z-probe outputs (probe rows over the H·dh entries), checked on the random row. */
function readOutputMap(p: AttnPart, out: Record<string, OrtOutput>, D: number, T: number, Bb: number, zRows: Float32Array, HD: number): void {
  const n = p.heads * p.dh;
  const o = f32(out[p.c.output], 'block output');
  const Wo = new Float32Array(n * D);
  const bo = o.slice(HD * D, HD * D + D);
  for (let i = 0; i < n; i++) for (let e = 0; e < D; e++) Wo[i * D + e] = o[i * D + e] - bo[e];
  let err = 0;
  let scale = 1;
  for (let t = 0; t < Math.min(T, 4); t++) {
    const k = Bb * T + t;
    for (let e = 0; e < D; e++) {
      let s = bo[e];
      for (let i = 0; i < n; i++) s += zRows[k * HD + i] * Wo[i * D + e];
      const y = o[k * D + e];
      err = Math.max(err, Math.abs(s - y));
      scale = Math.max(scale, Math.abs(y));
    }
  }
  checkAffine(p, err, scale);
  Object.assign(p, { Wo, bo });
}

export type { OnnxNodeProto };
