/**
 * Circuit discovery on a {@link CircuitModel}: EAP and EAP-IG edge scores from clean/corrupted prompt pairs,
 * measured faithfulness of selected circuits, the smallest circuit reaching a target, and exact activation
 * patching (one forward per edge) to validate the scores. The `circuit` analysis and the bench call this.
 */
import type { ComponentGraph } from '../../analysis/circuits';
import {
  circuitNodes,
  faithfulness,
  pruneCircuit,
  receiverGroups,
  rankEdges,
  selectGreedy,
  selectTopN,
  smallestCircuit,
  spearman,
} from '../../analysis/circuits';
import { tf } from '../../model/runtime/tfjs';
import { JobInputError, throwIfAborted } from '../errors';
import type { ScoreMethod, SizeSearchPoint } from '../../shared/results';
import type { CircuitModel } from './circuitModel';

/**
 * Clean/corrupted input pairs: token prompts (int32 clean/corrupt [M, T]) or float inputs such as images
 * (float32 clean/corrupt [M, ...sample], e.g. (M, C, H, W)); answer/wrong [M] (a token or a class).
 */
export interface PromptPairs {
  clean: Int32Array | Float32Array;
  corrupt: Int32Array | Float32Array;
  answer: Int32Array;
  wrong: Int32Array;
  count: number;
  /** Token prompts: T. Float inputs: the product of `sample` (elements per pair). */
  seqLen: number;
  /** Dims of one pair's input: [T] for tokens, e.g. [C, H, W] for images. */
  sample: number[];
  /** Float inputs (images, features) rather than token ids. */
  float: boolean;
}

export type { ScoreMethod };

/** What circuit discovery needs from a route (tfjs: {@link CircuitSession}; onnxruntime: OrtCircuitSession). */
export interface CircuitScoring {
  readonly model: { readonly graph: ComponentGraph };
  metricClean: number;
  metricCorrupt: number;
  /** The metric in words (the result's `metric`), known once `prepare` ran. */
  readonly metricDescription: string;
  /** Runs the clean and corrupted prompts once (2 forward passes per batch). */
  prepare(): Promise<void>;
  scores(method: ScoreMethod, steps?: number): Promise<Float64Array>;
  /** The metric with only the edges in `keep` carrying this run's values (others patched to corrupted). */
  metricWith(keep: ArrayLike<number>): Promise<number>;
  exactScores(onProgress?: (done: number, total: number) => void): Promise<Float64Array>;
  dispose(): void;
}

interface Batch {
  clean: tf.Tensor;
  corrupt: tf.Tensor;
  /** one-hot(answer) − one-hot(wrong), [B, V] (built on first use). */
  dir?: tf.Tensor;
  answer: tf.Tensor;
  wrong: tf.Tensor;
  count: number;
  cleanSenders?: tf.Tensor;
  corruptSenders?: tf.Tensor;
}

/**
 * Holds the prompt batches and the clean/corrupted runs, and answers metric, score and patching queries.
 * Metric: logit difference answer − wrong at `position` (default the last), averaged over all pairs.
 */
export class CircuitSession implements CircuitScoring {
  readonly batches: Batch[] = [];
  metricClean = NaN;
  metricCorrupt = NaN;
  private readonly position: number;
  /** The logits' rank, read on the first clean run: 3 → at the position, 2 → between classes. */
  private logitsRank = 0;

  get metricDescription(): string {
    return this.logitsRank === 2
      ? `logit difference between two classes (answer − wrong) of the classification output '${this.model.stream.logits}', mean over pairs`
      : `logit difference (answer − wrong) at position ${this.position} of ${this.pairs.seqLen}, mean over pairs`;
  }

  /** Checks the metric option against the logits' shape (first run). */
  private checkMetric(logits: tf.Tensor): void {
    if (this.logitsRank) return;
    const out = this.model.stream.logits;
    if (logits.rank === 2 && this.metricChoice === 'position') {
      throw new JobInputError(`option metric=position reads the logits at a token position, but the output '${out}' has shape (batch, ${logits.shape[1]}) with no sequence axis; use metric=classes`);
    }
    if (logits.rank === 3 && this.metricChoice === 'classes') {
      throw new JobInputError(`option metric=classes compares two classes of a (batch, classes) output, but '${out}' has a sequence axis (batch, ${logits.shape[1]}, ${logits.shape[2]}); use metric=position with --position`);
    }
    if (logits.rank !== 2 && logits.rank !== 3) throw new JobInputError(`expected the output '${out}' to be (batch, T, vocabulary) or (batch, classes) logits, found shape (${logits.shape.join(', ')})`);
    this.logitsRank = logits.rank;
  }

  constructor(
    readonly model: CircuitModel,
    readonly pairs: PromptPairs,
    batchSize: number,
    position = -1,
    readonly signal?: AbortSignal,
    private readonly metricChoice: 'auto' | 'position' | 'classes' = 'auto',
  ) {
    if (pairs.float) throw new JobInputError(`the tfjs translator route takes token prompts; float input pairs (shape (${pairs.sample.join(', ')}) per pair) run on --route onnxruntime`);
    const T = pairs.seqLen;
    this.position = position < 0 ? T + position : position;
    if (this.position < 0 || this.position >= T) throw new RangeError(`position ${position} is outside the ${T} positions`);
    for (let s = 0; s < pairs.count; s += batchSize) {
      const n = Math.min(batchSize, pairs.count - s);
      this.batches.push({
        clean: tf.tensor2d(pairs.clean.subarray(s * T, (s + n) * T), [n, T], 'int32'),
        corrupt: tf.tensor2d(pairs.corrupt.subarray(s * T, (s + n) * T), [n, T], 'int32'),
        answer: tf.tensor1d(pairs.answer.subarray(s, s + n), 'int32'),
        wrong: tf.tensor1d(pairs.wrong.subarray(s, s + n), 'int32'),
        count: n,
      });
    }
  }

  dispose(): void {
    for (const b of this.batches) tf.dispose([b.clean, b.corrupt, b.answer, b.wrong, b.dir, b.cleanSenders, b.corruptSenders].filter((t): t is tf.Tensor => !!t));
  }

  /** Σ over the batch of the logit difference, divided by the total pair count (so batches add up). */
  private metricOf(b: Batch): (logits: tf.Tensor) => tf.Tensor {
    return (logits) =>
      tf.tidy(() => {
        // (batch, T, V): the logits at the position; (batch, classes): a classification output as it is
        const [B, V] = [logits.shape[0], logits.shape[logits.rank - 1]];
        if (!b.dir) b.dir = tf.keep(tf.sub(tf.oneHot(b.answer, V), tf.oneHot(b.wrong, V)));
        const last = logits.rank === 2 ? logits : tf.reshape(tf.slice(logits, [0, this.position, 0], [B, 1, V]), [B, V]);
        return tf.div(tf.sum(tf.mul(last, b.dir)), this.pairs.count);
      });
  }

  private metricValue(b: Batch, logits: tf.Tensor): number {
    this.checkMetric(logits);
    const m = this.metricOf(b)(logits);
    const v = m.dataSync()[0];
    m.dispose();
    return v;
  }

  async prepare(): Promise<void> {
    this.prepareSync();
  }

  /** Runs the clean and corrupted prompts once (2 forward passes per batch); caches sender outputs. */
  private prepareSync(): void {
    let clean = 0;
    let corrupt = 0;
    for (const b of this.batches) {
      throwIfAborted(this.signal);
      if (!b.cleanSenders) {
        const r = this.model.forward(b.clean);
        b.cleanSenders = r.senders;
        clean += this.metricValue(b, r.logits);
        r.logits.dispose();
      }
      const c = this.model.forward(b.corrupt);
      b.corruptSenders?.dispose();
      b.corruptSenders = c.senders;
      corrupt += this.metricValue(b, c.logits);
      c.logits.dispose();
    }
    this.metricClean = clean;
    this.metricCorrupt = corrupt;
  }

  /**
   * Edge scores (per edge of the component graph, in metric units: the first-order estimate of the metric's
   * change when that edge alone is patched to its corrupted value):
   * - `eap`: Σ_{pairs, positions} (z_u^corrupt − z_u^clean) · ∂metric/∂(input of v) on the clean run.
   * - `eap-ig`: the same with the gradient averaged over `steps` points on the straight line from the
   *   corrupted to the clean input embeddings, α = k/steps for k = 0 … steps − 1 (hannamw/EAP-IG's
   *   `EAP-IG-inputs`; the rest of the model runs unpatched from the interpolated embeddings).
   * Passes: EAP 2 forward + 1 backward per batch; EAP-IG 2 + steps forward and steps backward.
   */
  async scores(method: ScoreMethod, steps = 5): Promise<Float64Array> {
    return this.scoresSync(method, steps);
  }

  private scoresSync(method: ScoreMethod, steps: number): Float64Array {
    if (!this.batches[0]?.corruptSenders) this.prepareSync();
    const g = this.model.graph;
    const out = new Float64Array(g.edges.length);
    for (const b of this.batches) {
      throwIfAborted(this.signal);
      const metric = this.metricOf(b);
      let grads: tf.Tensor[];
      if (method === 'eap') {
        const r = this.model.gradients(b.clean, metric);
        r.senders.dispose();
        grads = r.grads;
      } else {
        if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`EAP-IG steps must be a positive integer, got ${steps}`);
        const [e1, e0] = [this.model.embed(b.clean), this.model.embed(b.corrupt)];
        let acc: tf.Tensor[] | undefined;
        for (let k = 0; k < steps; k++) {
          throwIfAborted(this.signal);
          const x = tf.tidy(() => tf.add(e0, tf.mul(tf.sub(e1, e0), k / steps)));
          const r = this.model.gradients(b.clean, metric, { input: x });
          x.dispose();
          r.senders.dispose();
          if (!acc) acc = r.grads;
          else {
            const next = acc.map((a, i) => tf.add(a, r.grads[i]));
            tf.dispose([...acc, ...r.grads]);
            acc = next;
          }
        }
        grads = (acc as tf.Tensor[]).map((a) => {
          const m = tf.div(a, steps);
          a.dispose();
          return m;
        });
        tf.dispose([e1, e0]);
      }
      const diff = tf.tidy(() => {
        const d = tf.sub(b.corruptSenders as tf.Tensor, b.cleanSenders as tf.Tensor);
        return tf.reshape(d, [d.shape[0], -1]);
      });
      // group k of the receivers: scores[s, r] = diff[s] · grad[r], for the senders upstream of the group
      const groups = receiverGroups(g);
      groups.forEach(([r0, r1], k) => {
        const up = g.upstream[r0];
        const S = tf.tidy(() => tf.matMul(tf.slice(diff, [0, 0], [up, -1]), grads[k], false, true));
        const vals = S.dataSync();
        S.dispose();
        for (let r = r0; r < r1; r++) for (let s = 0; s < up; s++) out[g.offset[r] + s] += vals[s * (r1 - r0) + (r - r0)];
      });
      tf.dispose([diff, ...grads]);
    }
    return out;
  }

  async metricWith(keep: ArrayLike<number>): Promise<number> {
    return this.metricWithSync(keep);
  }

  /** The metric with only the edges in `keep` carrying this run's values (others patched to corrupted). */
  private metricWithSync(keep: ArrayLike<number>, fromGroup = 0): number {
    if (!this.batches[0]?.corruptSenders) this.prepareSync();
    let total = 0;
    for (const b of this.batches) {
      throwIfAborted(this.signal);
      const r = this.model.forward(b.clean, {
        patch: { corrupt: b.corruptSenders as tf.Tensor, keep },
        from: fromGroup > 0 ? { group: fromGroup, senders: b.cleanSenders as tf.Tensor } : undefined,
      });
      total += this.metricValue(b, r.logits);
      tf.dispose([r.logits, r.senders]);
    }
    return total;
  }

  /**
   * Exact activation patching: for every edge, the metric with that edge alone patched to its corrupted
   * value, minus the clean metric (one forward per edge and batch; upstream of the edge's receiver the
   * clean run's outputs are reused).
   */
  async exactScores(onProgress?: (done: number, total: number) => void): Promise<Float64Array> {
    if (!this.batches[0]?.corruptSenders) this.prepareSync();
    const g = this.model.graph;
    const out = new Float64Array(g.edges.length);
    const keep = new Float32Array(g.edges.length).fill(1);
    const groupOf = (r: number): number => {
      const k = g.groups.findIndex((gr) => r >= gr.receivers[0] && r < gr.receivers[1]);
      return k < 0 ? g.groups.length : k;
    };
    for (let e = 0; e < g.edges.length; e++) {
      keep[e] = 0;
      const fromGroup = groupOf(g.edges[e].receiver);
      // the logits group starts after every component: its senders are all clean
      out[e] = this.metricWithSync(keep, Math.min(fromGroup, g.groups.length - 1)) - this.metricClean;
      keep[e] = 1;
      onProgress?.(e + 1, g.edges.length);
    }
    return out;
  }
}

export interface CircuitSelection {
  /** Edges after pruning, as a 0/1 mask over the component graph's edges. */
  mask: Uint8Array;
  n: number;
  metricCircuit: number;
  faithfulness: number | null;
}

/** Selects (top-n or greedy) and prunes n edges, then measures the patched metric. */
export async function measureCircuit(session: CircuitScoring, scores: Float64Array, n: number, selection: 'topn' | 'greedy'): Promise<CircuitSelection> {
  const g = session.model.graph;
  const raw = selection === 'greedy' ? selectGreedy(g, scores, n) : selectTopN(g, scores, n);
  const mask = pruneCircuit(g, raw);
  const metricCircuit = await session.metricWith(mask);
  return { mask, n, metricCircuit, faithfulness: faithfulness(session.metricClean, session.metricCorrupt, metricCircuit) };
}

/** The smallest n (by selection rule) whose measured faithfulness reaches `target`. */
export async function searchCircuit(
  session: CircuitScoring,
  scores: Float64Array,
  target: number,
  selection: 'topn' | 'greedy',
): Promise<{ best?: CircuitSelection; curve: SizeSearchPoint[] }> {
  const cache = new Map<number, CircuitSelection>();
  const res = await smallestCircuit(session.model.graph.edges.length, target, async (n) => {
    const c = await measureCircuit(session, scores, n, selection);
    cache.set(n, c);
    let edges = 0;
    for (const v of c.mask) edges += v;
    return { n, edges, faithfulness: c.faithfulness };
  });
  return { best: res.n !== undefined ? cache.get(res.n) : undefined, curve: res.curve };
}

/** Spearman correlation of two score vectors on the `top` edges by |reference| (and on all edges). */
export function compareScores(estimate: Float64Array, reference: Float64Array, top = 50): { spearmanTop: number; spearmanAll: number; top: number } {
  const idx = rankEdges(reference).slice(0, Math.min(top, reference.length));
  return {
    spearmanTop: spearman(idx.map((i) => estimate[i]), idx.map((i) => reference[i])),
    spearmanAll: spearman(estimate, reference),
    top: idx.length,
  };
}

export { circuitNodes };
