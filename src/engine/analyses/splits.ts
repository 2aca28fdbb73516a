/**
 * The labelled train and test splits of the forward-only analyses (collapse, hash, redundancy): one tapped
 * session bound to both splits, their class labels checked, and batches that can be walked several times
 * (small captures are held in memory so a second pass does not rerun the model).
 */
import type { Dataset } from '../../model/datasets';
import type { OrtOutput } from '../../model/runtime/ort';
import type { DatasetRef } from '../../shared/engineProtocol';
import { forEachBatch, prepareTaps, type JobContext, type TapBatch, type TapRunner } from '../capture';
import { JobInputError, throwIfAborted } from '../errors';

export const DEFAULT_BATCH_SIZE = 256;

/** A split (train or test) bound to the tapped session, with its labels. */
export interface Split {
  name: 'train' | 'test';
  runner: TapRunner;
  /** Samples analysed (positions × inputs under a per-position plan). */
  count: number;
  /** `labelsPerSample` labels per sample, flattened. */
  labels: Int32Array;
  /** 1, or the positions of per-position labels (y of shape (samples, positions)). */
  labelsPerSample: number;
  /** A per-position plan (sequence.ts): the inputs run, and how each raw batch becomes analysed samples. */
  view?: { rawCount: number; apply: (b: TapBatch) => TapBatch };
}

/**
 * The integer class labels of a dataset split, checked: one per sample, or (with `perPosition`, for the
 * per-position classifiers of sequence.ts) one per position, y of shape (samples, positions).
 * @throws JobInputError naming what is wrong.
 */
export function requireLabels(ds: Dataset, split: string, count: number, perPosition = false): { labels: Int32Array; perSample: number } {
  if (!ds.labels) {
    throw new JobInputError(`the ${split} split of ${ds.name} has no labels; these analyses need integer class labels ('y' in an .npz, or "labels" in a dataset spec)`, ds.file);
  }
  const shape = ds.labelShape ?? [];
  if (shape.length && !(perPosition && shape.length === 1)) {
    const also = perPosition ? ' or one per position (samples, positions)' : '';
    throw new JobInputError(`expected one class id per sample${also}, found labels of shape [${shape.join(', ')}] per sample in ${ds.name}`, ds.file);
  }
  const per = shape.length ? shape[0] : 1;
  if (ds.labels.length < count * per) throw new JobInputError(`the ${split} split has ${ds.inputs.count} samples but ${ds.labels.length / per} labels`, ds.file);
  const labels = ds.labels.subarray(0, count * per);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0) throw new JobInputError(`${split} label ${i} is ${labels[i]}; class ids must be ≥ 0`, ds.file);
  }
  return { labels, perSample: per };
}

/** Prepares one tapped session and binds it to the train split and (when present) the test split. */
export async function prepareSplits(
  model: string,
  data: DatasetRef | undefined,
  taps: string[],
  ctx: JobContext,
  limit?: number,
  perPosition = false,
): Promise<{ train: Split; test: Split | null; backend: string }> {
  if (data === undefined) throw new JobInputError('this analysis needs data with labels (--data <file.npz>)');
  const runner = await prepareTaps(model, data, taps, ctx);
  const ds = runner.dataset;
  const n = Math.min(ds.inputs.count, limit ?? Infinity);
  const tl = requireLabels(ds, 'train', n, perPosition);
  const train: Split = { name: 'train', runner, count: n, labels: tl.labels, labelsPerSample: tl.perSample };
  let test: Split | null = null;
  if (ds.test) {
    const m = Math.min(ds.test.inputs.count, limit ?? Infinity);
    const sl = requireLabels(ds.test, 'test', m, perPosition);
    if (sl.perSample !== tl.perSample) throw new JobInputError(`the train split has ${tl.perSample} labels per sample but the test split ${sl.perSample}`, ds.file);
    test = { name: 'test', runner: { ...runner, dataset: ds.test }, count: m, labels: sl.labels, labelsPerSample: sl.perSample };
  }
  return { train, test, backend: runner.backend };
}

/** A JobContext whose progress stage is prefixed. */
export function staged(ctx: JobContext, prefix: string): JobContext {
  return { ...ctx, progress: ctx.progress && ((d, t, s) => ctx.progress!(d, t, `${prefix}: ${s}`)) };
}

/**
 * Batches of one split that can be walked several times: the first walk runs the model; when the captured
 * taps fit in `holdBytes` they are kept and later walks replay them, otherwise the model runs again.
 */
export class SplitBatches {
  private held: TapBatch[] | null = [];
  private heldBytes = 0;
  private walked = false;
  runMs = 0;
  constructor(
    readonly split: Split,
    readonly taps: string[],
    readonly batchSize: number,
    readonly holdBytes = 256 * 2 ** 20,
  ) {}

  async forEach(fn: (b: TapBatch) => void | Promise<void>, ctx: JobContext): Promise<void> {
    if (this.walked && this.held) {
      let done = 0;
      for (const b of this.held) {
        throwIfAborted(ctx.signal);
        await fn(b);
        done += b.count;
        ctx.progress?.(done, this.split.count, 'replaying');
      }
      return;
    }
    const keep = !this.walked;
    const r = await forEachBatch(
      this.split.runner,
      this.batchSize,
      async (b) => {
        const tensors: Record<string, OrtOutput> = {};
        for (const t of this.taps) {
          const x = b.tensors[t];
          if (!x) throw new JobInputError(`onnxruntime returned no value for '${t}'`);
          if (x.dims[0] !== b.count) throw new JobInputError(`'${t}' has shape [${x.dims.join(', ')}]; expected a per-sample value with the batch (${b.count}) as first axis`);
          tensors[t] = x;
        }
        const view = this.split.view;
        const batch = view ? view.apply({ ...b, tensors }) : { ...b, labels: this.split.labels.subarray(b.start, b.start + b.count), tensors };
        if (keep && this.held) {
          for (const t of Object.values(batch.tensors)) this.heldBytes += Array.isArray(t.data) ? 0 : (t.data as Float32Array).byteLength;
          if (this.heldBytes > this.holdBytes) this.held = null;
          else this.held.push(batch);
        }
        await fn(batch);
      },
      ctx,
      { end: this.split.view?.rawCount ?? this.split.count },
    );
    this.runMs += r.runMs;
    this.walked = true;
  }
}
