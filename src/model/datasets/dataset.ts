/**
 * The {@link Dataset} every format is opened into: a count of samples of one per-sample shape and dtype,
 * optional int32 labels, and batches read on demand. `.npy` files and stored C-order `.npz` members larger
 * than `eagerBytes` stay on disk and each batch reads only its rows; everything else is decoded once at open.
 *
 * Per element, batches hold `(v · scale − mean[c]) / std[c]` converted to the output dtype (see
 * {@link DatasetSpec.dtype}); NaN/±Inf in float inputs are an error unless `allowNonFinite` — checked over
 * all data at open for in-memory data, and per batch for data read lazily.
 */

import { basename, dirname, resolve } from 'node:path';
import { DatasetError } from './errors';
import { applyClasses, fitToModelInput } from './fit';
import { loadImageFolder } from './images';
import {
  type DataArray,
  type DataDType,
  type NdArray,
  DTYPE_SIZE,
  castArray,
  formatShape,
  isDataDType,
  isFloatDType,
  shapeSize,
} from './ndarray';
import { openNpy } from './npy';
import { openNpz } from './npz';
import { type DatasetFormat, type DatasetSpec, type Layout, isSpecPath, readDatasetSpec, validateDatasetSpec } from './spec';
import { loadCsv, loadJsonl } from './text';

/** What a dataset's inputs are: `count` samples, each `sampleShape`, given as `dtype`. */
export interface DatasetInputs {
  /** The array / key the inputs came from (`x`, `tokens`, `images`, `features`, …). */
  name: string;
  dtype: DataDType;
  sampleShape: number[];
  count: number;
}

/** One batch: samples [start, start + count). */
export interface Batch {
  start: number;
  count: number;
  /** C-order values of shape `shape` = [count, ...sampleShape], of the dataset's dtype. */
  x: DataArray;
  shape: number[];
  /** Labels of these samples (count × labelShape values), when the dataset has labels. */
  labels?: Int32Array;
}

/** Options of {@link Dataset.batches}. */
export interface BatchOptions {
  signal?: AbortSignal;
  /** First sample (default 0). */
  start?: number;
  /** One past the last sample (default count). */
  end?: number;
}

export interface Dataset {
  /** `fmnist.npz:x`, `digits/` …, for messages. */
  name: string;
  /** The data file or folder (absolute when opened from a spec). */
  file: string;
  format: DatasetFormat;
  inputs: DatasetInputs;
  /** Integer labels, `count × prod(labelShape)` values. */
  labels?: Int32Array;
  /** Per-sample label shape: `[]` for one class id per sample. */
  labelShape?: number[];
  /** Names of label ids (image folders, CSV name labels). */
  classNames?: string[];
  /** Image folders: the axis order of each sample. */
  layout?: Layout;
  /** The held-out split (npz `x_test`/`y_test`), read the same way. */
  test?: Dataset;
  /** Things worth telling the user (skipped files, padded lines, …). */
  notes: string[];
  /**
   * Choices made for the user that change the numbers and belong in the result (an image folder resized,
   * turned grey or laid out to fit the model input because the spec did not say).
   */
  warnings: string[];
  /** Batches of at most `batchSize` samples over [start, end), in order. */
  batches(batchSize: number, opts?: BatchOptions): AsyncIterable<Batch>;
  /** Samples [start, end) as one batch (default all). */
  read(start?: number, end?: number): Promise<Batch>;
}

/** Options of {@link openDataset}. */
export interface OpenDatasetOptions {
  /** The spec file a spec object came from (relative paths resolve against it; errors name it). */
  specFile?: string;
  /** Data up to this many bytes (input dtype) is decoded at open even when it could stay on disk. Default 64 MiB. */
  eagerBytes?: number;
  signal?: AbortSignal;
  /**
   * The model input the data is for. An image folder whose spec leaves out `size`, `layout` or `channels`
   * takes them from this shape when it is image-like ([batch, C, H, W] or [batch, H, W, C] with C ≤ 4),
   * with a warning naming the input and its shape.
   */
  modelInput?: { name: string; shape: readonly (number | string | null)[] };
  /** Memory budget in bytes for data decoded at open (image folders; default 4 GiB). */
  maxBytes?: number;
}

const DEFAULT_EAGER_BYTES = 64 * 2 ** 20;
/** The engine's default memory budget (circuitscope.memoryBudgetMB, --budget-mb). */
const DEFAULT_MAX_BYTES = 4 * 2 ** 30;

/**
 * Opens a dataset from a spec object, a spec already validated, or a bare path; a path to a `.json` file
 * (e.g. `digits.dataset.json`) is read as a dataset spec file.
 * @throws DatasetError: every spec, file and content error of the formats (see their loaders), plus
 * `labels-mismatch`, `bad-labels`, `reshape-mismatch`, `non-finite`, `empty-dataset`, `bad-spec` (a
 * per-channel mean/std of the wrong length), `bad-classes` (a `classes` field that does not match the data's
 * classes; it names the spec file).
 */
export async function openDataset(spec: DatasetSpec | string, opts: OpenDatasetOptions = {}): Promise<Dataset> {
  let specFile = opts.specFile;
  if (typeof spec === 'string' && isSpecPath(spec)) {
    specFile = resolve(opts.specFile ? dirname(resolve(opts.specFile)) : process.cwd(), spec);
    spec = await readDatasetSpec(specFile);
  }
  const s = validateDatasetSpec(spec, specFile);
  const eagerBytes = opts.eagerBytes ?? DEFAULT_EAGER_BYTES;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const file = s.path;
  switch (s.format ?? 'npz') {
    case 'npz': {
      const z = await openNpz(file);
      const names = z.arrays.map((a) => `'${a.name}'`).join(', ') || 'none';
      const input = s.input ?? (z.has('x') ? 'x' : z.has('tokens') ? 'tokens' : z.arrays.length === 1 ? z.arrays[0].name : undefined);
      if (input === undefined) {
        throw new DatasetError('missing-array', file, `no input array 'x' or 'tokens' (arrays: ${names}); name the input with "input" in the dataset spec`);
      }
      const labels = s.labels ?? (input !== 'y' && z.has('y') ? 'y' : undefined);
      const testInput = s.testInput ?? (z.has(`${input}_test`) ? `${input}_test` : undefined);
      const testLabels = s.testLabels ?? (labels !== undefined && z.has(`${labels}_test`) ? `${labels}_test` : undefined);
      if (testLabels !== undefined && testInput === undefined) {
        throw new DatasetError('bad-spec', specFile ?? file, `"testLabels" is '${testLabels}' but there is no test input; set "testInput"`);
      }
      const fromNpz = async (x: string, y: string | undefined): Promise<Dataset> => {
        const info = z.info(x);
        if (y !== undefined && z.info(y).bytes > maxBytes / 2) {
          // Labels are read whole (and widened to int32): a member this large is not a label array.
          throw new DatasetError('too-large', file, `labels '${y}' are ${z.info(y).bytes} bytes, above half the memory budget of ${maxBytes} bytes`);
        }
        return buildDataset({
          spec: s,
          file,
          format: 'npz',
          name: `${basename(file)}:${x}`,
          inputName: x,
          source: {
            dtype: info.dtype,
            shape: info.shape,
            canStayOnDisk: !info.compressed && !info.fortranOrder,
            readRows: (a, b) => z.readRows(x, a, b),
          },
          labels: y === undefined ? undefined : await z.read(y),
          labelsName: y,
          eagerBytes,
          maxBytes,
          signal: opts.signal,
        });
      };
      const ds = await fromNpz(input, labels);
      if (testInput !== undefined) ds.test = await fromNpz(testInput, testLabels);
      return ds;
    }
    case 'npy': {
      const f = await openNpy(file);
      const stem = basename(file).replace(/\.npy$/i, '');
      return buildDataset({
        spec: s,
        file,
        format: 'npy',
        name: basename(file),
        inputName: stem,
        source: { dtype: f.header.dtype, shape: f.header.shape, canStayOnDisk: !f.header.fortranOrder, readRows: f.readRows },
        eagerBytes,
        maxBytes,
        signal: opts.signal,
      });
    }
    case 'images': {
      const fit = fitToModelInput(s, opts.modelInput);
      const layout = s.layout ?? fit.layout ?? 'NCHW';
      const folder = await loadImageFolder(file, { channels: s.channels ?? fit.channels, size: s.size ?? fit.size, layout, limit: s.limit, signal: opts.signal, maxBytes: opts.maxBytes });
      const notes: string[] = [];
      if (folder.skipped.count) notes.push(`skipped ${folder.skipped.count} non-image file(s), e.g. ${folder.skipped.examples.join(', ')}`);
      const warnings = fit.warning(folder.images.shape, folder.resized, folder.grey) ?? [];
      const classes = s.classes ? applyClasses(s.classes, folder.classNames, folder.labels, specFile ?? file, `the class folders of ${file}`, true) : undefined;
      return buildDataset({
        spec: s,
        file,
        format: 'images',
        name: `${basename(file)}/`,
        inputName: 'images',
        source: eagerSource(folder.images),
        labels: { dtype: 'int32', shape: [folder.labels.length], data: classes?.labels ?? folder.labels },
        classNames: classes?.classNames ?? folder.classNames,
        layout,
        defaultScale: 1 / 255,
        notes,
        warnings,
        eagerBytes,
        maxBytes,
        signal: opts.signal,
      });
    }
    case 'csv': {
      const csv = await loadCsv(file, { header: s.header, labelColumn: s.labelColumn, delimiter: s.delimiter, limit: s.limit });
      let classes: { labels: Int32Array; classNames: string[] } | undefined;
      if (s.classes) {
        if (!csv.labels || !csv.classNames) {
          throw new DatasetError(
            'bad-classes',
            specFile ?? file,
            `"classes" gives the order of class names, but the label column of ${file} ${csv.labels ? 'holds class ids (numbers) already' : 'is absent (set "labelColumn")'}`,
          );
        }
        // With a limit some classes may not occur in the rows read; those names are still the model's.
        classes = applyClasses(s.classes, csv.classNames, csv.labels, specFile ?? file, `the label values of ${file}`, s.limit === undefined);
      }
      return buildDataset({
        spec: s,
        file,
        format: 'csv',
        name: basename(file),
        inputName: 'features',
        source: eagerSource(csv.features),
        labels: csv.labels && { dtype: 'int32', shape: [csv.labels.length], data: classes?.labels ?? csv.labels },
        classNames: classes?.classNames ?? csv.classNames,
        notes: [`feature columns: ${csv.columns.join(', ')}`],
        eagerBytes,
        maxBytes,
        signal: opts.signal,
      });
    }
    case 'jsonl': {
      const j = await loadJsonl(file, { input: s.input, labels: s.labels, seqLen: s.seqLen, padId: s.padId, limit: s.limit });
      const notes: string[] = [];
      if (j.truncated) notes.push(`truncated ${j.truncated} line(s) to seqLen ${s.seqLen}`);
      if (j.padded) notes.push(`padded ${j.padded} line(s) to seqLen ${s.seqLen} with id ${s.padId}`);
      return buildDataset({
        spec: s,
        file,
        format: 'jsonl',
        name: basename(file),
        inputName: s.input ?? 'tokens',
        source: eagerSource(j.tokens),
        labels: j.labels && { dtype: 'int32', shape: [j.labels.length], data: j.labels },
        notes,
        eagerBytes,
        maxBytes,
        signal: opts.signal,
      });
    }
  }
}

interface Source {
  dtype: DataDType;
  /** Full stored shape, rows first. */
  shape: number[];
  /** Whether rows can be read from disk one range at a time (else the data is decoded whole anyway). */
  canStayOnDisk: boolean;
  readRows(start: number, end: number): Promise<NdArray>;
}

function eagerSource(a: NdArray): Source {
  const rowElems = shapeSize(a.shape.slice(1));
  return {
    dtype: a.dtype,
    shape: a.shape,
    canStayOnDisk: false,
    readRows: async (s, e) => ({ dtype: a.dtype, shape: [e - s, ...a.shape.slice(1)], data: s === 0 && e === a.shape[0] ? a.data : a.data.slice(s * rowElems, e * rowElems) }),
  };
}

interface BuildArgs {
  spec: DatasetSpec;
  file: string;
  format: DatasetFormat;
  name: string;
  inputName: string;
  source: Source;
  labels?: NdArray;
  labelsName?: string;
  classNames?: string[];
  layout?: Layout;
  defaultScale?: number;
  notes?: string[];
  warnings?: string[];
  eagerBytes: number;
  /** Memory budget for what is decoded at open (see {@link OpenDatasetOptions.maxBytes}). */
  maxBytes: number;
  signal?: AbortSignal;
}

/** Per-element affine map within one sample: out = (v · scale − mean[c]) / std[c]. */
interface Norm {
  scale: number;
  mean: Float64Array;
  std: Float64Array;
  /** Channel of each element of a sample. */
  channel: Uint32Array;
}

async function buildDataset(a: BuildArgs): Promise<Dataset> {
  const { spec, file, source } = a;
  const what = `input '${a.inputName}'`;
  if (source.shape.length === 0) {
    throw new DatasetError('shape-mismatch', file, `${what} is a scalar; a dataset needs an array whose first axis counts samples`);
  }
  const stored = source.shape[0];
  const storedSample = source.shape.slice(1);
  const sampleSize = shapeSize(storedSample);

  let labels: Int32Array | undefined;
  let labelShape: number[] | undefined;
  if (a.labels) {
    const lname = a.labelsName ?? 'labels';
    const lrows = a.labels.shape.length === 0 ? 1 : a.labels.shape[0];
    if (a.labels.shape.length === 0 || lrows !== stored) {
      throw new DatasetError(
        'labels-mismatch',
        file,
        `labels '${lname}' have ${a.labels.shape.length === 0 ? 'no sample axis (a scalar)' : `${lrows} entries`}, but ${what} has ${stored} samples`,
      );
    }
    labels = toLabels(a.labels, file, `labels '${lname}'`);
    labelShape = a.labels.shape.slice(1);
  }
  const count = spec.limit === undefined ? stored : Math.min(stored, spec.limit);
  if (count === 0) throw new DatasetError('empty-dataset', file, `${what} has no samples (shape ${formatShape(source.shape)})`);
  if (labels && count < stored) labels = labels.slice(0, count * shapeSize(labelShape ?? []));

  const sampleShape = spec.reshape ? applyReshape(spec.reshape, storedSample, file, what) : storedSample;
  const hasNorm = spec.scale !== undefined || spec.mean !== undefined || spec.std !== undefined || a.defaultScale !== undefined;
  const dtype: DataDType =
    spec.dtype ??
    (isFloatDType(source.dtype) || source.dtype === 'uint8' || source.dtype === 'bool' || hasNorm ? 'float32' : 'int64');
  if (hasNorm && !isFloatDType(dtype)) {
    throw new DatasetError('bad-spec', file, `scale/mean/std need a float dtype, not '${dtype}'`);
  }
  const norm = hasNorm ? makeNorm(spec, a.defaultScale ?? 1, sampleShape, file) : undefined;
  const checkFinite = isFloatDType(dtype) && isFloatDType(source.dtype) && !spec.allowNonFinite;
  // Integer data is finite, but scale/mean/std can still push it past the output dtype's range (mean 1e308).
  const checkOverflow = norm !== undefined && !isFloatDType(source.dtype);

  const convert = (raw: NdArray, first: number, rows: number): DataArray => {
    let x: DataArray;
    if (norm) x = normalise(raw.data, dtype as 'float32' | 'float64', norm, sampleSize);
    else x = castArray(raw.data, raw.dtype, dtype, file, what);
    if (checkFinite) reportNonFinite(x as Float32Array | Float64Array, sampleSize, first, rows, count, file, what);
    if (checkOverflow) {
      const i = (x as Float32Array).findIndex((v) => !Number.isFinite(v));
      if (i >= 0) {
        throw new DatasetError(
          'bad-spec',
          file,
          `scale/mean/std turn ${what} sample ${first + Math.floor(i / Math.max(sampleSize, 1))}, element ${i % Math.max(sampleSize, 1)} into ${x[i]}; expected values within ${dtype}'s range`,
        );
      }
    }
    return x;
  };

  let readRange: (start: number, end: number) => Promise<DataArray>;
  const eager = !source.canStayOnDisk || count * sampleSize * DTYPE_SIZE[source.dtype] <= a.eagerBytes;
  if (eager) {
    // Decoded whole at open (a compressed member inflates whole): the stored rows and their conversion must fit.
    const storedBytes = stored * sampleSize * DTYPE_SIZE[source.dtype];
    const outBytes = count * sampleSize * DTYPE_SIZE[dtype];
    if (storedBytes + outBytes > a.maxBytes) {
      throw new DatasetError(
        'too-large',
        file,
        `${what} must be decoded whole at open (${formatShape(source.shape)} ${source.dtype}${source.canStayOnDisk ? '' : ', compressed or Fortran-ordered'}): ${storedBytes} bytes plus ${outBytes} as ${dtype}, above the memory budget of ${a.maxBytes} bytes${source.canStayOnDisk ? '' : '; store it uncompressed in C order (np.savez) so batches are read from disk'}`,
      );
    }
    a.signal?.throwIfAborted();
    const all = convert(await source.readRows(0, count), 0, count);
    readRange = async (s, e) => (s === 0 && e === count ? all : all.slice(s * sampleSize, e * sampleSize));
  } else {
    readRange = async (s, e) => convert(await source.readRows(s, e), s, e - s);
  }

  const labelSize = shapeSize(labelShape ?? []);
  const read = async (start = 0, end = count): Promise<Batch> => {
    checkRange(start, end, count, file);
    const x = await readRange(start, end);
    const b: Batch = { start, count: end - start, x, shape: [end - start, ...sampleShape] };
    if (labels) b.labels = labels.subarray(start * labelSize, end * labelSize);
    return b;
  };
  return {
    name: a.name,
    file,
    format: a.format,
    inputs: { name: a.inputName, dtype, sampleShape, count },
    labels,
    labelShape,
    classNames: a.classNames,
    layout: a.layout,
    notes: a.notes ?? [],
    warnings: a.warnings ?? [],
    read,
    async *batches(batchSize: number, o: BatchOptions = {}) {
      if (!Number.isSafeInteger(batchSize) || batchSize <= 0) {
        throw new DatasetError('out-of-range', file, `batch size must be a positive integer, got ${batchSize}`);
      }
      const start = o.start ?? 0;
      const end = o.end ?? count;
      checkRange(start, end, count, file);
      for (let s = start; s < end; s += batchSize) {
        o.signal?.throwIfAborted();
        yield await read(s, Math.min(end, s + batchSize));
      }
    },
  };
}

function checkRange(start: number, end: number, count: number, file: string): void {
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end && end <= count)) {
    throw new DatasetError('out-of-range', file, `sample range [${start}, ${end}) is outside [0, ${count})`);
  }
}

function applyReshape(reshape: number[], stored: number[], file: string, what: string): number[] {
  const n = shapeSize(stored);
  const known = reshape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const shape = reshape.map((d) => (d === -1 ? n / known : d));
  if (shapeSize(shape) !== n || !shape.every((d) => Number.isInteger(d))) {
    throw new DatasetError(
      'reshape-mismatch',
      file,
      `"reshape": ${formatShape(reshape)} does not fit: each sample of ${what} has shape ${formatShape(stored)} (${n} elements)`,
    );
  }
  return shape;
}

function makeNorm(spec: DatasetSpec, defaultScale: number, sampleShape: number[], file: string): Norm {
  const layout: Layout = spec.layout ?? 'NCHW';
  const size = shapeSize(sampleShape);
  const axis = layout === 'NCHW' ? 0 : sampleShape.length - 1;
  const channels = sampleShape.length === 0 ? 1 : sampleShape[axis];
  const perChannel = (v: number | number[] | undefined, dflt: number, field: string): Float64Array => {
    if (v === undefined || typeof v === 'number') return new Float64Array(channels).fill(v ?? dflt);
    if (v.length === 1) return new Float64Array(channels).fill(v[0]);
    if (v.length !== channels) {
      throw new DatasetError(
        'bad-spec',
        file,
        `"${field}" has ${v.length} values but samples of shape ${formatShape(sampleShape)} have ${channels} channels on the ${layout === 'NCHW' ? 'first' : 'last'} axis (layout ${layout})`,
      );
    }
    return Float64Array.from(v);
  };
  const channel = new Uint32Array(size);
  if (channels > 1) {
    const inner = layout === 'NCHW' ? size / channels : 1;
    for (let j = 0; j < size; j++) channel[j] = Math.floor(j / inner) % channels;
  }
  return { scale: spec.scale ?? defaultScale, mean: perChannel(spec.mean, 0, 'mean'), std: perChannel(spec.std, 1, 'std'), channel };
}

function normalise(src: DataArray, dtype: 'float32' | 'float64', norm: Norm, sampleSize: number): DataArray {
  const out = dtype === 'float32' ? new Float32Array(src.length) : new Float64Array(src.length);
  const { scale, mean, std, channel } = norm;
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    const s = src;
    for (let i = 0; i < s.length; i++) {
      const c = channel[i % sampleSize];
      out[i] = (Number(s[i]) * scale - mean[c]) / std[c];
    }
    return out;
  }
  const s = src as Float64Array;
  for (let i = 0, j = 0; i < s.length; i++, j = j + 1 === sampleSize ? 0 : j + 1) {
    const c = channel[j];
    out[i] = (s[i] * scale - mean[c]) / std[c];
  }
  return out;
}

/** Throws `non-finite` when `x` (samples first..first+rows) holds NaN/±Inf: count and first position. */
function reportNonFinite(x: Float32Array | Float64Array, sampleSize: number, first: number, rows: number, total: number, file: string, what: string): void {
  let n = 0;
  let at = -1;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      if (at < 0) at = i;
      n++;
    }
  }
  if (n === 0) return;
  const sample = first + Math.floor(at / Math.max(sampleSize, 1));
  const where = first === 0 && rows === total ? '' : ` among samples ${first}–${first + rows - 1}`;
  throw new DatasetError(
    'non-finite',
    file,
    `${what} has ${n} non-finite value(s) (NaN or ±Inf)${where}; the first is sample ${sample}, element ${at % Math.max(sampleSize, 1)} — clean the data or set "allowNonFinite": true in the dataset spec`,
  );
}

/** Integer labels as int32; float labels must be integral. */
function toLabels(a: NdArray, file: string, what: string): Int32Array {
  if (isFloatDType(a.dtype)) {
    const d = a.data as Float32Array | Float64Array;
    const bad = d.findIndex((v) => !Number.isInteger(v));
    if (bad >= 0) throw new DatasetError('bad-labels', file, `${what}: entry ${bad} is ${d[bad]}; labels must be integer class ids`);
  }
  try {
    return castArray(a.data, a.dtype, 'int32', file, what) as Int32Array;
  } catch (e) {
    if (e instanceof DatasetError) throw new DatasetError('bad-labels', file, e.detail);
    throw e;
  }
}

/**
 * Checks that `dataset` fits a model input of `expectedShape` (batch axis first; strings and null match any
 * size) and `expectedDtype`. Returns the batch size the model fixes, if it does (null when the batch axis is
 * symbolic).
 * @throws DatasetError `shape-mismatch` showing the model's expected shape next to the data's, with the
 * spec field that would fix it when we can tell; `dtype-mismatch` with the `dtype` to declare.
 */
export function checkAgainstModelInput(
  dataset: Dataset,
  expectedShape: readonly (number | string | null)[],
  expectedDtype: string,
  inputName = 'input',
): { batchSize: number | null } {
  const { sampleShape, dtype, count, name } = dataset.inputs;
  const model = `model input '${inputName}' expects ${formatShape(expectedShape)} ${expectedDtype}`;
  const data = `data '${name}' in ${basename(dataset.file)} has per-sample shape ${formatShape(sampleShape)} (${count} samples)`;
  if (expectedShape.length === 0) {
    throw new DatasetError('shape-mismatch', dataset.file, `${model} (a scalar, no batch axis); ${data}`);
  }
  const want = expectedShape.slice(1);
  // Strings, null and negative sizes (TF.js -1) are free dimensions.
  const fits = want.length === sampleShape.length && want.every((d, i) => typeof d !== 'number' || d < 0 || d === sampleShape[i]);
  if (!fits) {
    throw new DatasetError('shape-mismatch', dataset.file, `${model}; ${data} — ${shapeHint(dataset, want)}`);
  }
  if (dtype !== expectedDtype) {
    const fix = isDataDType(expectedDtype)
      ? `add "dtype": "${expectedDtype}" to the dataset spec`
      : `the data layer cannot produce ${expectedDtype}; the runtime adapter must convert`;
    throw new DatasetError('dtype-mismatch', dataset.file, `${model}; data '${name}' in ${basename(dataset.file)} is ${dtype} — ${fix}`);
  }
  const b = expectedShape[0];
  return { batchSize: typeof b === 'number' && b > 0 ? b : null };
}

function shapeHint(ds: Dataset, want: (number | string | null)[]): string {
  const have = ds.inputs.sampleShape;
  const fixed = want.every((d): d is number => typeof d === 'number' && d >= 0);
  const field = (k: string, v: unknown) => `add "${k}": ${JSON.stringify(v)} to the dataset spec`;
  if (ds.format === 'images' && want.length === 3 && have.length === 3) {
    const nchw = ds.layout !== 'NHWC';
    const [hc, hh, hw] = nchw ? have : [have[2], have[0], have[1]];
    // The model's layout: channels first when its first axis is a small fixed number or its last is not.
    const wantNchw = typeof want[0] === 'number' ? want[0] <= 4 : !(typeof want[2] === 'number' && want[2] <= 4);
    const wc = wantNchw ? want[0] : want[2];
    const [wh, ww] = wantNchw ? [want[1], want[2]] : [want[0], want[1]];
    const hints: string[] = [];
    if (nchw !== wantNchw) hints.push(field('layout', wantNchw ? 'NCHW' : 'NHWC'));
    if (typeof wc === 'number' && wc !== hc) hints.push(field('channels', wc));
    if (typeof wh === 'number' && typeof ww === 'number' && (wh !== hh || ww !== hw)) hints.push(field('size', [wh, ww]));
    if (hints.length) return hints.join('; ');
  }
  if (ds.format === 'jsonl' && want.length === 1 && typeof want[0] === 'number') {
    return `${field('seqLen', want[0])} (and "padId" to pad shorter lines)`;
  }
  if (fixed && shapeSize(want) === shapeSize(have)) return field('reshape', want);
  if (!fixed && want.length !== have.length) {
    const n = shapeSize(have);
    const isFixed = (d: number | string | null): d is number => typeof d === 'number' && d >= 0;
    const known = want.reduce<number>((p, d) => (isFixed(d) ? p * d : p), 1);
    const free = want.filter((d) => !isFixed(d)).length;
    if (free === 1 && n % known === 0) return field('reshape', want.map((d) => (isFixed(d) ? d : n / known)));
  }
  return `each sample holds ${shapeSize(have)} values, the model takes ${fixed ? shapeSize(want) : 'a different shape'}; this data does not fit this input`;
}
