/**
 * A pre-LN transformer run component by component on the tfjs translator, so that every receiver (a head's
 * q/k/v port, an MLP, the logits) can be given its own input — the construction behind EAP/EAP-IG gradients
 * and edge patching (faithfulness, exact patching).
 *
 * The construction. The graph is cut at the stream values found by {@link findResidualStream}:
 * - `input` = the first stream value (token + position embeddings);
 * - an attention layer's heads: Q, K and V are computed from the layer's stream input by
 *   `runFrom({x}, [q | kT | v])` (the block's own LayerNorm and projections); for per-receiver inputs the
 *   3H inputs are stacked along the batch axis (q-port copies, then k, then v; one run per port with H·B
 *   rows) and head h's slice is taken from copy h (head axis 1 of the head-split operands);
 *   then `runFrom({q, kT, v}, [z])` gives z (B, H, T, d_h), and head h's write to the stream is
 *   f_o(z with every other head zeroed) − f_o(0), f_o being the block's output path (z → projection → bias),
 *   run for all heads at once on H zero-masked copies. f_o(0) (the output bias) is a constant written to the
 *   stream and is checked to make Σ_h head_h + f_o(0) = f_o(z) (the path is affine), else the model is refused.
 * - an MLP: `runFrom({x}, [mlp output])` (its bias stays in its output, as in TransformerLens);
 * - the logits: `runFrom({final stream value}, [logits])`.
 * A receiver's input is base + Σ_{senders u upstream} (keep_u ? out_u : corrupt_u), base = the attention
 * output biases written before it. With everything kept this is the model's own forward (checked against the
 * executor's plain run in the tests); with nothing kept it is the corrupted run. EAP gradients are taken with
 * respect to a zero perturbation δ added to each receiver's input, so ∂metric/∂δ_v is the gradient at
 * receiver v alone (other receivers' inputs held fixed as functions of upstream outputs).
 */
import type { ComponentGraph, ComponentLayout } from '../../analysis/circuits';
import { buildComponentGraph } from '../../analysis/circuits';
import { AttentionStructureError, GraphIndex, findAttention, findResidualStream, type ResidualComponent, type ResidualStream } from '../../model/attentionFinder';
import type { LoadedModel } from '../../model/ir';
import { JobInputError } from '../errors';
import { TfjsGraphExecutor, resolveBackend, tf } from '../../model/runtime/tfjs';

export interface PatchSpec {
  /** Corrupted-run sender outputs, [nSenders, B, T, D]. */
  corrupt: tf.Tensor;
  /** 1 = the edge is in the circuit (its sender's value in this run), 0 = patched to the corrupted value. */
  keep: ArrayLike<number>;
}

export interface ForwardOptions {
  /** Replaces the input node's output (EAP-IG interpolation). */
  input?: tf.Tensor;
  patch?: PatchSpec;
  /** Per receiver group (components of the layout, then the logits), zero tensors [nReceivers, B, T, D]. */
  deltas?: tf.Tensor[];
  /** Start at component `group`, taking the outputs of senders before it from `senders` (a clean run). */
  from?: { group: number; senders: tf.Tensor };
}

export interface ForwardResult {
  logits: tf.Tensor;
  /** Sender outputs [nSenders, B, T, D]. */
  senders: tf.Tensor;
}

interface AttnPlan {
  kind: 'attn';
  c: Extract<ResidualComponent, { kind: 'attn' }>;
  heads: number;
  bias?: tf.Tensor;
  needQ: string[];
  needZ: string[];
  needO: string[];
}

interface MlpPlan {
  kind: 'mlp';
  c: Extract<ResidualComponent, { kind: 'mlp' }>;
  need: string[];
}

export interface PassCounts {
  forward: number;
  backward: number;
}

/** Chooses a tfjs backend for gradients: the fastest that loads and runs this model's backward pass. */
async function gradientBackend(probe: () => void): Promise<string> {
  const first = await resolveBackend({ force: 'auto' });
  try {
    probe();
    return first.name;
  } catch (e) {
    if (first.name === 'cpu') throw e;
    const fallback = await resolveBackend({ force: 'auto', requireGradients: true });
    probe();
    return `${fallback.name} (${first.name} lacked a gradient kernel: ${(e as Error).message.split('\n')[0]})`;
  }
}

export class CircuitModel {
  readonly graph: ComponentGraph;
  readonly passes: PassCounts = { forward: 0, backward: 0 };
  private plans: (AttnPlan | MlpPlan)[] = [];
  private needLogits: string[] = [];
  private needEmbed: string[] = [];

  private constructor(
    readonly model: LoadedModel,
    readonly stream: ResidualStream,
    readonly executor: TfjsGraphExecutor,
    readonly layout: ComponentLayout[],
    readonly backend: string,
  ) {
    this.graph = buildComponentGraph(layout);
  }

  /**
   * Finds the residual stream, builds the executor, resolves a backend with gradient kernels and measures
   * the head count of every attention layer on `probeTokens` (one prompt is enough).
   * @throws AttentionStructureError for graphs outside the supported structure
   */
  static async create(model: LoadedModel, probeTokens: tf.Tensor): Promise<CircuitModel> {
    const report = findAttention(model.graph);
    const stream = findResidualStream(model.graph, report);
    if (stream.postLN) {
      throw new JobInputError(`this is a post-LN transformer (a norm follows residual Add '${stream.components[0].addNode}'); the tfjs translator route decomposes pre-LN models only: use --route onnxruntime`, model.graph.file);
    }
    const executor = await TfjsGraphExecutor.create(model);
    try {
      const ix = new GraphIndex(model.graph);
      const one = tf.slice(probeTokens, [0, 0], [1, -1]);
      const layout: ComponentLayout[] = [];
      const plans: (AttnPlan | MlpPlan)[] = [];
      for (const c of stream.components) {
        if (c.kind === 'attn') {
          const [q] = executor.run({ [stream.tokens]: one }, [c.block.q]);
          if (q.rank !== 4) {
            const shape = q.shape.join(', ');
            q.dispose();
            throw new AttentionStructureError(`attention layer ${c.layer} (${c.block.name}): expected head-split queries of rank 4 (batch, heads, T, d_head), found [${shape}] at '${c.block.q}'`, model.graph.file);
          }
          const heads = q.shape[1] as number;
          q.dispose();
          layout.push({ kind: 'attn', layer: c.layer, heads });
          plans.push({
            kind: 'attn',
            c,
            heads,
            needQ: ix.inputsNeeded([c.block.q, c.block.kT, c.block.v], new Set([c.input])),
            needZ: ix.inputsNeeded(c.block.z, new Set([c.block.q, c.block.kT, c.block.v])),
            needO: ix.inputsNeeded(c.output, new Set([c.block.z])),
          });
        } else {
          layout.push({ kind: 'mlp', layer: c.layer });
          plans.push({ kind: 'mlp', c, need: ix.inputsNeeded(c.output, new Set([c.input])) });
        }
      }
      one.dispose();
      const backend = await gradientBackend(() => {
        const t = tf.slice(probeTokens, [0, 0], [1, -1]);
        const [e] = executor.run({ [stream.tokens]: t }, [stream.embed]);
        const { value, grads } = tf.engine().gradients(() => tf.sum(executor.runFrom({ [stream.tokens]: t, [stream.embed]: e }, [stream.logits])[0]), [e], undefined, true);
        value.dispose();
        grads.forEach((g) => g?.dispose());
        e.dispose();
        t.dispose();
      });
      const m = new CircuitModel(model, stream, executor, layout, backend);
      m.plans = plans;
      m.needLogits = ix.inputsNeeded(stream.logits, new Set([stream.final]));
      m.needEmbed = ix.inputsNeeded(stream.embed, new Set());
      m.computeBiases(probeTokens);
      return m;
    } catch (e) {
      executor.dispose();
      throw e;
    }
  }

  dispose(): void {
    for (const p of this.plans) if (p.kind === 'attn') p.bias?.dispose();
    this.executor.dispose();
  }

  /** f_o(0) per attention layer, and the affinity check of the output path. */
  private computeBiases(tokens: tf.Tensor): void {
    const t = tf.slice(tokens, [0, 0], [1, -1]);
    try {
      for (const p of this.plans) {
        if (p.kind !== 'attn') continue;
        const [z, out] = this.executor.run({ [this.stream.tokens]: t }, [p.c.block.z, p.c.output]);
        p.bias = tf.keep(tf.tidy(() => this.runO(p, tf.zerosLike(z), t)[0]));
        const heads = this.headOutputs(p, z, t);
        const sum = tf.tidy(() => tf.add(tf.sum(heads, 0), p.bias as tf.Tensor));
        const err = tf.tidy(() => tf.max(tf.abs(tf.sub(sum, out))).dataSync()[0]);
        const scale = tf.tidy(() => tf.max(tf.abs(out)).dataSync()[0]);
        tf.dispose([z, out, heads, sum]);
        if (!(err <= 1e-4 * Math.max(1, scale))) {
          throw new AttentionStructureError(
            `attention layer ${p.c.layer} (${p.c.block.name}): the output path from '${p.c.block.z}' to '${p.c.output}' is not affine in the heads (Σ head outputs + bias differs from the block output by ${err.toExponential(2)}), so head outputs cannot be separated`,
            this.model.graph.file,
          );
        }
      }
    } finally {
      t.dispose();
    }
  }

  private tiled(names: string[], tokens: tf.Tensor, copies: number): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const n of names) out[n] = copies === 1 ? tokens : tf.tile(tokens, [copies, ...Array(tokens.rank - 1).fill(1)]);
    return out;
  }

  private runO(p: AttnPlan, z: tf.Tensor, tokens: tf.Tensor): tf.Tensor[] {
    const copies = z.shape[0] / tokens.shape[0];
    return this.executor.runFrom({ ...this.tiled(p.needO, tokens, Math.max(1, copies)), [p.c.block.z]: z }, [p.c.output]);
  }

  /** Per-head writes to the stream (bias removed), [H, B, T, D]. */
  private headOutputs(p: AttnPlan, z: tf.Tensor, tokens: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const H = p.heads;
      const [B, , ...rest] = z.shape;
      const eye = tf.reshape(tf.eye(H), [H, 1, H, ...rest.map(() => 1)]);
      const masked = tf.reshape(tf.mul(tf.expandDims(z, 0), eye), [H * B, H, ...rest]);
      const [o] = this.runO(p, masked, tokens);
      const out = tf.sub(o, p.bias as tf.Tensor);
      return tf.reshape(out, [H, B, ...out.shape.slice(1)]);
    });
  }

  /** The input node's output for these tokens. */
  embed(tokens: tf.Tensor): tf.Tensor {
    return this.executor.run({ [this.stream.tokens]: tokens }, [this.stream.embed])[0];
  }

  /**
   * The decomposed forward pass (see the header). Returns new tensors (the caller disposes them); call inside
   * `tf.engine().gradients` to differentiate with respect to `deltas`.
   */
  forward(tokens: tf.Tensor, opts: ForwardOptions = {}): ForwardResult {
    this.passes.forward++;
    const g = this.graph;
    return tf.tidy(() => {
      const B = tokens.shape[0];
      const r0 = opts.input ?? this.embed(tokens);
      const [, T, D] = r0.shape;
      const flat = (t: tf.Tensor): tf.Tensor => tf.reshape(t, [t.shape[0], B * T * D]);
      let outs: tf.Tensor[] = [tf.reshape(r0, [1, B * T * D])];
      let base: tf.Tensor = tf.zeros([1, T, D]);
      const startGroup = opts.from?.group ?? 0;
      if (opts.from && startGroup > 0) {
        const s1 = g.groups[startGroup].senders[0];
        outs = [flat(tf.slice(opts.from.senders, [0], [s1]))];
        for (let k = 0; k < startGroup; k++) {
          const p = this.plans[k];
          if (p.kind === 'attn') base = tf.add(base, p.bias as tf.Tensor);
        }
      }
      const corrupt = opts.patch ? flat(opts.patch.corrupt) : undefined;
      /** Inputs of receivers [r0, r1) (each reading the first `up` senders), [n, B, T, D]; or one shared [1, B, T, D]. */
      const inputs = (r0_: number, r1: number, delta?: tf.Tensor): { x: tf.Tensor; shared: boolean } => {
        const up = g.upstream[r0_];
        const S = outs.length === 1 ? outs[0] : tf.concat(outs, 0);
        const n = r1 - r0_;
        const bias = tf.reshape(base, [1, 1, T, D]);
        let W: Float32Array | undefined;
        if (opts.patch) {
          W = new Float32Array(n * up);
          let all = true;
          for (let r = 0; r < n; r++) {
            for (let s = 0; s < up; s++) {
              const k = opts.patch.keep[g.offset[r0_ + r] + s] ? 1 : 0;
              W[r * up + s] = k;
              if (k !== 1) all = false;
            }
          }
          if (all) W = undefined;
        }
        if (!W) {
          const sum = tf.add(tf.reshape(tf.sum(S, 0), [1, B, T, D]), bias);
          if (!delta) return { x: sum, shared: true };
          return { x: tf.add(sum, delta), shared: false };
        }
        const w = tf.tensor2d(W, [n, up]);
        const C = tf.slice(corrupt as tf.Tensor, [0, 0], [up, -1]);
        const mixed = tf.add(tf.matMul(w, S), tf.matMul(tf.sub(1, w), C));
        let x = tf.add(tf.reshape(mixed, [n, B, T, D]), bias);
        if (delta) x = tf.add(x, delta);
        return { x, shared: false };
      };
      for (let k = startGroup; k < this.plans.length; k++) {
        const p = this.plans[k];
        const [rs, re] = g.groups[k].receivers;
        const { x, shared } = inputs(rs, re, opts.deltas?.[k]);
        if (p.kind === 'mlp') {
          const xin = tf.reshape(x, [B, T, D]);
          const [o] = this.executor.runFrom({ ...this.tiled(p.need, tokens, 1), [p.c.input]: xin }, [p.c.output]);
          outs.push(flat(tf.expandDims(o, 0)));
          continue;
        }
        const H = p.heads;
        const blk = p.c.block;
        let Q: tf.Tensor;
        let K: tf.Tensor;
        let V: tf.Tensor;
        if (shared) {
          [Q, K, V] = this.executor.runFrom({ ...this.tiled(p.needQ, tokens, 1), [p.c.input]: tf.reshape(x, [B, T, D]) }, [blk.q, blk.kT, blk.v]);
        } else {
          const per = tf.reshape(x, [3, H * B, T, D]);
          const pick = (port: number, value: string): tf.Tensor => {
            const xp = tf.reshape(tf.slice(per, [port], [1]), [H * B, T, D]);
            const [y] = this.executor.runFrom({ ...this.tiled(p.needQ, tokens, H), [p.c.input]: xp }, [value]);
            // y: [H·B, H, a, b]; head h from copy h (slices, not a masked sum: reductions over a leading
            // axis are slow on wasm)
            const rest = y.shape.slice(2);
            const ab = rest.reduce((u, w) => u * w, 1);
            const y4 = tf.reshape(y, [H, B, H, ab]);
            const parts = Array.from({ length: H }, (_, h) => tf.reshape(tf.slice(y4, [h, 0, h, 0], [1, B, 1, ab]), [B, 1, ab]));
            return tf.reshape(tf.concat(parts, 1), [B, H, ...rest]);
          };
          Q = pick(0, blk.q);
          K = pick(1, blk.kT);
          V = pick(2, blk.v);
        }
        const [z] = this.executor.runFrom({ ...this.tiled(p.needZ, tokens, 1), [blk.q]: Q, [blk.kT]: K, [blk.v]: V }, [blk.z]);
        const heads = this.headOutputs(p, z, tokens);
        outs.push(flat(heads));
        base = tf.add(base, p.bias as tf.Tensor);
      }
      const last = this.plans.length;
      const [lr0, lr1] = [g.receivers.length - 1, g.receivers.length];
      const { x } = inputs(lr0, lr1, opts.deltas?.[last]);
      const [logits] = this.executor.runFrom({ ...this.tiled(this.needLogits, tokens, 1), [this.stream.final]: tf.reshape(x, [B, T, D]) }, [this.stream.logits]);
      const senders = tf.reshape(tf.concat(outs, 0), [g.senders.length, B, T, D]);
      return { logits, senders };
    });
  }

  /** Zero perturbations for every receiver group (components, then the logits). */
  zeroDeltas(B: number, T: number, D: number): tf.Tensor[] {
    return [...this.graph.groups.map((gr) => tf.zeros([gr.receivers[1] - gr.receivers[0], B, T, D])), tf.zeros([1, B, T, D])];
  }

  /**
   * Gradient of `metric(forward(...))` at every receiver: one forward and one backward pass. Returns the
   * metric value, the sender outputs of this run and one [nReceivers, B·T·D] gradient per receiver group.
   */
  gradients(tokens: tf.Tensor, metric: (logits: tf.Tensor) => tf.Tensor, opts: Omit<ForwardOptions, 'deltas'> = {}): { value: number; senders: tf.Tensor; grads: tf.Tensor[] } {
    const r0 = opts.input ?? this.embed(tokens);
    const [B, T, D] = r0.shape;
    const deltas = this.zeroDeltas(B, T, D);
    let senders: tf.Tensor | undefined;
    const { value, grads } = tf.engine().gradients(
      () => {
        const r = this.forward(tokens, { ...opts, input: r0, deltas });
        senders = tf.keep(r.senders);
        return metric(r.logits);
      },
      deltas,
      undefined,
      true,
    );
    this.passes.backward++;
    const v = value.dataSync()[0];
    value.dispose();
    if (!opts.input) r0.dispose();
    const flat = grads.map((gr, i) => {
      const out = gr ? tf.reshape(gr, [deltas[i].shape[0], B * T * D]) : tf.zeros([deltas[i].shape[0], B * T * D]);
      if (gr && out !== gr) gr.dispose();
      return out;
    });
    tf.dispose(deltas);
    return { value: v, senders: senders as tf.Tensor, grads: flat };
  }

  /** The component layout as found (for messages and results). */
  describe(): string {
    return this.layout.map((c) => (c.kind === 'attn' ? `attn ${c.layer} (${c.heads} heads)` : `mlp ${c.layer}`)).join(', ');
  }
}
