/**
 * Circuit discovery on {@link OrtCircuitModel} (onnxruntime): the same queries as the tfjs route's
 * CircuitSession — clean/corrupted runs, EAP / EAP-IG scores, patched metrics, exact patching — with the
 * same conventions (metric: logit difference answer − wrong at `position`, summed over a batch and divided by
 * the total pair count so batches add up).
 */
import { receiverGroups } from '../../analysis/circuits';
import type { OrtInput } from '../../model/runtime/ort';
import { throwIfAborted } from '../errors';
import type { CircuitScoring, PromptPairs, ScoreMethod } from './circuitDiscovery';
import type { OrtCircuitModel } from './circuitOrt';

interface OrtBatch {
  clean: OrtInput;
  corrupt: OrtInput;
  answer: Int32Array;
  wrong: Int32Array;
  count: number;
  cleanBlocks?: Float32Array[];
  corruptBlocks?: Float32Array[];
  vocab?: number;
}

export class OrtCircuitSession implements CircuitScoring {
  readonly batches: OrtBatch[] = [];
  metricClean = NaN;
  metricCorrupt = NaN;

  constructor(
    readonly model: OrtCircuitModel,
    readonly pairs: PromptPairs,
    batchSize: number,
    readonly signal?: AbortSignal,
  ) {
    const T = pairs.seqLen;
    for (let s = 0; s < pairs.count; s += batchSize) {
      const n = Math.min(batchSize, pairs.count - s);
      this.batches.push({
        clean: model.tokens(pairs.clean.subarray(s * T, (s + n) * T), n),
        corrupt: model.tokens(pairs.corrupt.subarray(s * T, (s + n) * T), n),
        answer: pairs.answer.subarray(s, s + n),
        wrong: pairs.wrong.subarray(s, s + n),
        count: n,
      });
    }
  }

  /** The metric in words, as resolved from the logits' shape and the options. */
  get metricDescription(): string {
    return this.model.metricDescription;
  }

  dispose(): void {
    this.batches.length = 0;
  }

  /** Σ over the batch of logit(answer) − logit(wrong), divided by the total pair count. */
  private metricOf(b: OrtBatch, logits: Float32Array, V: number): number {
    let s = 0;
    for (let i = 0; i < b.count; i++) s += logits[i * V + b.answer[i]] - logits[i * V + b.wrong[i]];
    return s / this.pairs.count;
  }

  async prepare(): Promise<void> {
    let clean = 0;
    let corrupt = 0;
    for (const b of this.batches) {
      throwIfAborted(this.signal);
      const c = await this.model.forward(b.clean);
      b.cleanBlocks = c.blocks;
      b.vocab = c.vocab;
      clean += this.metricOf(b, c.logits, c.vocab);
      throwIfAborted(this.signal);
      const k = await this.model.forward(b.corrupt);
      b.corruptBlocks = k.blocks;
      corrupt += this.metricOf(b, k.logits, k.vocab);
    }
    this.metricClean = clean;
    this.metricCorrupt = corrupt;
    await this.model.release('fwd');
  }

  private async ready(): Promise<void> {
    if (!this.batches[0]?.corruptBlocks) await this.prepare();
  }

  async scores(method: ScoreMethod, steps = 5): Promise<Float64Array> {
    if (method === 'eap-ig' && (!Number.isInteger(steps) || steps < 1)) throw new RangeError(`EAP-IG steps must be a positive integer, got ${steps}`);
    await this.ready();
    const g = this.model.graph;
    const out = new Float64Array(g.edges.length);
    const groups = receiverGroups(g);
    for (const b of this.batches) {
      throwIfAborted(this.signal);
      const V = b.vocab!;
      const dir = new Float32Array(b.count * V);
      for (let i = 0; i < b.count; i++) {
        dir[i * V + b.answer[i]] += 1 / this.pairs.count;
        dir[i * V + b.wrong[i]] -= 1 / this.pairs.count;
      }
      const diffs = b.corruptBlocks!.map((c, j) => {
        const d = new Float32Array(c.length);
        const cl = b.cleanBlocks![j];
        for (let i = 0; i < d.length; i++) d[i] = c[i] - cl[i];
        return d;
      });
      const e1 = b.cleanBlocks![0];
      const e0 = b.corruptBlocks![0];
      const m = method === 'eap' ? 1 : steps;
      const acc = groups.map(([r0, r1]) => new Float64Array(g.upstream[r0] * (r1 - r0)));
      for (let k = 0; k < m; k++) {
        throwIfAborted(this.signal);
        let x = e1;
        if (method === 'eap-ig') {
          x = new Float32Array(e1.length);
          const a = k / steps;
          for (let i = 0; i < x.length; i++) x[i] = e0[i] + (e1[i] - e0[i]) * a;
        }
        const r = await this.model.gradientScores(x, b.clean, dir, V, diffs);
        r.scores.forEach((s, gi) => {
          const t = acc[gi];
          for (let i = 0; i < t.length; i++) t[i] += s[i] / m;
        });
      }
      groups.forEach(([r0, r1], gi) => {
        const up = g.upstream[r0];
        const n = r1 - r0;
        const t = acc[gi];
        for (let r = r0; r < r1; r++) for (let s = 0; s < up; s++) out[g.offset[r] + s] += t[s * n + (r - r0)];
      });
    }
    await this.model.release('grad');
    return out;
  }

  /** Keep matrices per receiver group [receivers × upstream] from a 0/1 edge mask. */
  private keepMatrices(keep: ArrayLike<number>): Float32Array[] {
    const g = this.model.graph;
    const groups = receiverGroups(g);
    return groups.map(([r0, r1]) => {
      const up = g.upstream[r0];
      const W = new Float32Array((r1 - r0) * up);
      for (let r = r0; r < r1; r++) for (let s = 0; s < up; s++) W[(r - r0) * up + s] = keep[g.offset[r] + s] ? 1 : 0;
      return W;
    });
  }

  async metricWith(keep: ArrayLike<number>): Promise<number> {
    await this.ready();
    const W = this.keepMatrices(keep);
    let total = 0;
    for (const b of this.batches) {
      throwIfAborted(this.signal);
      const logits = await this.model.patched(b.clean, b.corruptBlocks!, W);
      total += this.metricOf(b, logits, b.vocab!);
    }
    return total;
  }

  async exactScores(onProgress?: (done: number, total: number) => void): Promise<Float64Array> {
    await this.ready();
    const g = this.model.graph;
    const out = new Float64Array(g.edges.length);
    const keep = new Float32Array(g.edges.length).fill(1);
    for (let e = 0; e < g.edges.length; e++) {
      keep[e] = 0;
      out[e] = (await this.metricWith(keep)) - this.metricClean;
      keep[e] = 1;
      onProgress?.(e + 1, g.edges.length);
    }
    return out;
  }
}
