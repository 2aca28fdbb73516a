/**
 * Per-position (sequence) classifiers for collapse, hash and redundancy: CTC recognizers and language-model
 * heads apply one linear classifier at every position of features (batch, positions…, d). Such a model is
 * analysed either at one position (option `position` = k, negative from the end: one sample per input) or at
 * every position (`position` = all: one sample per input and position, labelled by per-position labels, y of
 * shape (samples, positions)). `auto` (the default) takes every position when the labels are per position and
 * the last one otherwise. The plan is read from one probe sample's captured shapes before the passes, and then
 * applied to every batch by {@link SplitBatches} (see common.ts): sliced or flattened taps, the matching labels.
 */
import { forEachBatch, type JobContext, type TapBatch } from '../capture';
import { JobInputError } from '../errors';
import type { LinearHeadInfo } from '../../model/patterns';
import type { SequenceInfo } from '../../shared/results';
import type { Split } from './splits';
import type { OrtOutput } from '../../model/runtime/ort';

/** The option, shared by collapse, hash and redundancy. */
export const POSITION_OPTION = {
  name: 'position',
  type: 'string' as const,
  default: 'auto',
  description:
    "per-position models (CTC, language-model heads: the classifier applied at every position of features (batch, positions, d)): 'all' = every position is a sample, with per-position labels (y of shape (samples, positions)); an integer k = the features at position k (negative: from the end), one label per sample or the label at k; 'auto' = all with per-position labels, else the last position. Ignored when the classifier reads the whole sample",
};

/** A shape that does not fit the classifier or the labels; names the option that changes it. */
export class SequenceShapeError extends JobInputError {
  constructor(
    message: string,
    /** The option (or flag) whose value would make the shapes fit. */
    readonly option: 'position' | 'head' | 'layer',
    file?: string,
  ) {
    super(message, file);
  }
}

export type PositionSpec = 'auto' | 'all' | number;

/** @throws JobInputError for anything but auto, all or an integer */
export function parsePosition(v: unknown): PositionSpec {
  if (v === undefined || v === 'auto') return 'auto';
  if (v === 'all') return 'all';
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (String(v).trim() !== '' && Number.isInteger(n)) return n;
  throw new JobInputError(`option 'position' expects auto, all or an integer position (negative from the end), found ${JSON.stringify(v)}`);
}

const shapeText = (dims: readonly number[]): string => `(${dims.slice(1).join(', ')})`;

/** Positions of a (batch, positions…, d) tensor: the product of its middle axes; 0 when it has none. */
const positionsOf = (dims: readonly number[]): number => (dims.length >= 3 ? dims.slice(1, -1).reduce((a, b) => a * b, 1) : 0);

/**
 * The plan for one model and dataset: the identity for per-sample features, or a view over positions.
 * `apply` maps a batch of raw taps to the analysed samples; `split` maps a split's count and labels.
 */
export class SequencePlan {
  private constructor(
    readonly info: SequenceInfo | null,
    private readonly seqTaps: ReadonlySet<string>,
    private readonly dims: ReadonlyMap<string, readonly number[]>,
  ) {}

  /** Whether a tap survives the plan (mode 'all' drops taps that are not per position). */
  keeps(tap: string): boolean {
    return !this.info || this.info.mode === 'position' || this.seqTaps.has(tap);
  }

  /** A split's samples under the plan: counts and labels per analysed sample. */
  split(s: Split): Split {
    const info = this.info;
    if (!info) return s;
    const T = info.positions;
    const perPosition = s.labelsPerSample === T && T > 1;
    if (info.mode === 'all') {
      return { ...s, count: s.count * T, labels: s.labels, labelsPerSample: 1, view: { rawCount: s.count, apply: (b) => this.apply(b, s.labels) } };
    }
    const k = info.position!;
    const labels = perPosition ? Int32Array.from({ length: s.count }, (_, i) => s.labels[i * T + k]) : s.labels;
    return { ...s, labels, labelsPerSample: 1, view: { rawCount: s.count, apply: (b) => this.apply(b, labels) } };
  }

  /** Sliced (one position) or flattened (all positions) taps of one raw batch, with the matching labels. */
  private apply(b: TapBatch, labels: Int32Array): TapBatch {
    const info = this.info!;
    const T = info.positions;
    const tensors: Record<string, OrtOutput> = {};
    for (const [name, t] of Object.entries(b.tensors)) {
      if (!this.seqTaps.has(name)) {
        if (info.mode === 'position') tensors[name] = t;
        continue;
      }
      const d = t.dims[t.dims.length - 1];
      if (info.mode === 'all') {
        tensors[name] = { ...t, dims: [b.count * T, d] };
        continue;
      }
      const src = t.data as Float32Array;
      const out = new (src.constructor as Float32ArrayConstructor)(b.count * d);
      const k = info.position!;
      for (let i = 0; i < b.count; i++) out.set(src.subarray((i * T + k) * d, (i * T + k + 1) * d), i * d);
      tensors[name] = { ...t, dims: [b.count, d], data: out };
    }
    const start = info.mode === 'all' ? b.start * T : b.start;
    const count = info.mode === 'all' ? b.count * T : b.count;
    return { ...b, start, count, labels: labels.subarray(start, start + count), tensors };
  }

  /**
   * Runs one probe sample with every tap captured and decides the plan.
   * @param features the classifier's input
   * @param optional taps dropped (not an error) when they are not per position in mode 'all'
   * @throws SequenceShapeError naming `position`, `head` or `layer` when shapes and labels do not fit
   */
  static async probe(
    train: Split,
    taps: string[],
    features: string,
    head: LinearHeadInfo | null,
    spec: PositionSpec,
    ctx: JobContext,
    opts: { optional?: ReadonlySet<string>; headOption: 'head' | 'layer'; file: string },
  ): Promise<SequencePlan> {
    const dims = new Map<string, readonly number[]>();
    if (train.count < 1) return new SequencePlan(null, new Set(), dims);
    await forEachBatch(train.runner, 1, (b) => {
      for (const t of taps) if (b.tensors[t]) dims.set(t, b.tensors[t].dims);
    }, { signal: ctx.signal }, { end: 1 });
    const f = dims.get(features);
    if (!f) throw new JobInputError(`onnxruntime returned no value for '${features}'`, opts.file);
    const perSampleSize = f.slice(1).reduce((a, b) => a * b, 1);
    const T = positionsOf(f);
    const d = f[f.length - 1];
    const hint = `name the classifier with --${opts.headOption === 'head' ? 'head <node>' : 'head <node> or its input with --layer <value>'}`;
    const L = train.labelsPerSample;
    if (head && head.dim === perSampleSize) {
      if (spec !== 'auto') {
        throw new SequenceShapeError(`option 'position' is ${String(spec)}, but the classifier '${head.node}' reads whole samples: '${features}' has ${perSampleSize} features per sample ${shapeText(f)}; leave position at auto`, 'position', opts.file);
      }
      if (L !== 1) throw new SequenceShapeError(`expected one label per sample for the classifier '${head.node}' on whole samples, found ${L} labels per sample`, 'position', opts.file);
      return new SequencePlan(null, new Set(), dims);
    }
    if (head && (T === 0 || d !== head.dim)) {
      throw new SequenceShapeError(
        `the classifier '${head.node}' takes ${head.dim} features but '${features}' has ${perSampleSize} per sample ${shapeText(f)}, ${T ? `whose last axis is ${d}, not ${head.dim}` : 'not a multiple over positions'}; ${hint}`,
        opts.headOption,
        opts.file,
      );
    }
    if (!head && spec === 'auto' && L === 1) return new SequencePlan(null, new Set(), dims);
    if (T === 0) {
      throw new SequenceShapeError(`option 'position' applies to features of shape (batch, positions, d), but '${features}' is ${shapeText(f)} per sample; leave position at auto`, 'position', opts.file);
    }
    const all = spec === 'all' || (spec === 'auto' && L > 1);
    if (L > 1 && L !== T) {
      throw new SequenceShapeError(`expected one label per sample or one per position (${T} for '${features}' ${shapeText(f)}), found ${L} labels per sample; set option position to an integer to use one label per sample`, 'position', opts.file);
    }
    if (all && L !== T) {
      throw new SequenceShapeError(
        `option position=all needs per-position labels (y of shape (samples, ${T})), found one label per sample; use position=-1 (the last position) or another integer`,
        'position',
        opts.file,
      );
    }
    const seqTaps = new Set([...dims].filter(([, td]) => positionsOf(td) === T).map(([n]) => n));
    let info: SequenceInfo;
    if (all) {
      const bad = [...dims.keys()].filter((n) => !seqTaps.has(n));
      const required = bad.filter((n) => !opts.optional?.has(n));
      if (required.length) {
        const named = required.slice(0, 6).map((n) => `'${n}' ${shapeText(dims.get(n)!)}`).join(', ');
        const list = required.length > 6 ? `${named}, … (${required.length} values)` : named;
        throw new SequenceShapeError(
          `with position=all every analysed value must be per position (${T} positions, like '${features}'), but ${list} ${required.length > 1 ? 'are' : 'is'} not; use an integer position or other --layer values`,
          'position',
          opts.file,
        );
      }
      info = { mode: 'all', positions: T, dropped: bad };
    } else {
      const k = typeof spec !== 'number' ? T - 1 : spec < 0 ? T + spec : spec;
      if (!(k >= 0 && k < T)) throw new SequenceShapeError(`option 'position' is ${String(spec)}, but '${features}' has ${T} positions ${shapeText(f)}`, 'position', opts.file);
      info = { mode: 'position', positions: T, position: k, dropped: [] };
    }
    return new SequencePlan(info, seqTaps, dims);
  }

  /** The warning that says what was analysed, or null for per-sample features. */
  describe(features: string): string | null {
    const info = this.info;
    if (!info) return null;
    const f = this.dims.get(features)!;
    const d = info.dropped;
    const dropped = d.length ? `; left out (not per position): ${d.length > 8 ? `${d.slice(0, 8).join(', ')}, … (${d.length} in all)` : d.join(', ')}` : '';
    if (info.mode === 'all') return `per-position classifier: every one of the ${info.positions} positions of '${features}' ${shapeText(f)} is a sample with its own label (position=all)${dropped}`;
    return `per-position classifier: the features at position ${info.position} of ${info.positions} of '${features}' ${shapeText(f)} (option position; 'all' with per-position labels y of shape (samples, ${info.positions}))`;
  }
}
