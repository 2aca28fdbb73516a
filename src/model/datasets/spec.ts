/**
 * The dataset spec: a small JSON object saying where a dataset is and how to turn it into model inputs.
 * A bare path is a spec too (`{ "path": "fmnist.npz" }`). Validated by {@link validateDatasetSpec}, which
 * resolves `path` against the spec file's folder and rejects unknown fields and fields that do not apply to
 * the format (so a typo is an error rather than silently ignored).
 */

import { readFile, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { DatasetError, errorText, fsError } from './errors';
import { JSON_DEPTH_LIMITS, jsonTooDeep } from '../jsonDepth';
import { type DataDType, DATA_DTYPES, isDataDType } from './ndarray';

export const DATASET_FORMATS = ['npz', 'npy', 'images', 'csv', 'jsonl'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Axis order of image-like samples: channels first (PyTorch) or last (TensorFlow). */
export type Layout = 'NCHW' | 'NHWC';

export interface DatasetSpec {
  /**
   * The data: an `.npz`/`.npy`/`.csv`/`.tsv`/`.jsonl` file, or a folder of images with one sub-folder per
   * class. Relative paths resolve against the spec file's folder (against the working directory for a bare
   * path given on the command line). After validation this is absolute.
   */
  path: string;
  /** Format; inferred from the extension when absent (`.npz`, `.npy`, `.csv`/`.tsv`, `.jsonl`/`.ndjson`; a folder is `images`). */
  format?: DatasetFormat;
  /**
   * npz: name of the input array (default `x`, else `tokens`, else the only array).
   * jsonl: key of the token list in object lines (default `tokens`).
   */
  input?: string;
  /**
   * npz: name of the integer label array (default `y` when present).
   * jsonl: key of the integer label in object lines (default `label` when the first object line has one).
   */
  labels?: string;
  /** npz: held-out inputs (default `<input>_test`, e.g. `x_test`, when present). */
  testInput?: string;
  /** npz: held-out labels (default `<labels>_test`, e.g. `y_test`, when present). */
  testLabels?: string;
  /**
   * Element type the batches are given in. Default: float32, except integer data without scale/mean/std
   * (int8/16/32/64, uint16/32/64, and all JSONL tokens), which is int64 (token ids); uint8 and bool become
   * float32. Float → integer requires integral values.
   */
  dtype?: DataDType;
  /** Per-sample shape to view each sample as (e.g. `[1, 28, 28]` for rows of 784); one entry may be -1. */
  reshape?: number[];
  /** Multiply values by this before mean/std (default 1/255 for images, 1 otherwise). */
  scale?: number;
  /** Subtract after scaling: one number, or one per channel (the channel axis is given by `layout`). */
  mean?: number | number[];
  /** Divide by after subtracting the mean: one positive number, or one per channel. */
  std?: number | number[];
  /** images: output channels, 1 (grey, ITU-R 601 luma as PIL's `convert('L')`), 3 (RGB) or 4 (RGBA). Default 1 when every image is grey, else 3. */
  channels?: 1 | 3 | 4;
  /** images: [height, width] to resize every image to (bilinear, see images.ts). Default: the first image's size, all must match. */
  size?: [number, number];
  /**
   * images: axis order of each sample (default `NCHW`: [C, H, W]). For the other formats it only says which
   * axis of the (reshaped) sample per-channel `mean`/`std` apply to: the first (NCHW) or the last (NHWC).
   */
  layout?: Layout;
  /** csv: the label column, by header name or 0-based index (negative counts from the end). Non-numeric labels become class ids in sorted order. */
  labelColumn?: string | number;
  /** csv: whether the first row is a header (default: detected — a header has a non-numeric cell above a numeric one). */
  header?: boolean;
  /** csv: cell separator (default: tab for `.tsv` or when the first line has tabs, `;` when it has `;` but no `,`, else `,`). */
  delimiter?: string;
  /** jsonl: pad or truncate every token list to this length (without it, all lines must have equal length). */
  seqLen?: number;
  /** jsonl: token id used for padding to `seqLen`; required when a line is shorter. */
  padId?: number;
  /** Use at most this many samples of each split (images: spread round-robin across classes). */
  limit?: number;
  /** Accept NaN/±Inf in float inputs instead of reporting them as an error. */
  allowNonFinite?: boolean;
  /**
   * images, csv (name labels): the model's class order. Either the class names in the order of the model's
   * outputs (`["shirt", "trouser", …]`: output 0 is "shirt") or a map from class name to output index
   * (`{"shirt": 6, "trouser": 1}`). Without it classes are numbered in sorted name order. Every class of
   * the data must be named, and every name must be a class of the data (folder or label value).
   */
  classes?: string[] | Record<string, number>;
}

type Field = keyof DatasetSpec;

const ALL_FIELDS: Field[] = [
  'path',
  'format',
  'input',
  'labels',
  'testInput',
  'testLabels',
  'dtype',
  'reshape',
  'scale',
  'mean',
  'std',
  'channels',
  'size',
  'layout',
  'labelColumn',
  'header',
  'delimiter',
  'seqLen',
  'padId',
  'limit',
  'allowNonFinite',
  'classes',
];

const COMMON: Field[] = ['path', 'format', 'dtype', 'reshape', 'limit', 'allowNonFinite', 'scale', 'mean', 'std', 'layout'];
/** Fields that apply to each format, beyond {@link COMMON}. */
const APPLIES: Record<DatasetFormat, Field[]> = {
  npz: ['input', 'labels', 'testInput', 'testLabels'],
  npy: [],
  images: ['channels', 'size', 'classes'],
  csv: ['labelColumn', 'header', 'delimiter', 'classes'],
  jsonl: ['input', 'labels', 'seqLen', 'padId'],
};

const EXTENSIONS: Record<string, DatasetFormat> = {
  '.npz': 'npz',
  '.npy': 'npy',
  '.csv': 'csv',
  '.tsv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

/** Spec-file label used in errors about a spec given as an object rather than read from a file. */
export const INLINE_SPEC = '<dataset spec>';

/**
 * Checks `value` against {@link DatasetSpec} and returns a copy with `path` absolute and `format` set.
 * `specFile` (the JSON the spec came from) is what relative paths resolve against and what errors name;
 * without it paths resolve against the working directory.
 * @throws DatasetError `bad-spec` for a malformed or inconsistent field, `unknown-format` when the format
 * cannot be inferred, `not-found` when inference needs a path that does not exist.
 */
export function validateDatasetSpec(value: unknown, specFile?: string): DatasetSpec {
  const where = specFile ?? INLINE_SPEC;
  const fail = (detail: string): never => {
    throw new DatasetError('bad-spec', where, detail);
  };
  if (typeof value === 'string') value = { path: value };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(`a dataset spec must be a JSON object like {"path": "data.npz"}, found ${describe(value)}`);
  }
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (!(ALL_FIELDS as string[]).includes(k)) fail(`unknown field '${k}' (fields: ${ALL_FIELDS.join(', ')})`);
  }
  const str = (k: Field): string | undefined => {
    if (v[k] === undefined) return undefined;
    if (typeof v[k] !== 'string' || v[k] === '') fail(`field '${k}' must be a non-empty string, found ${describe(v[k])}`);
    return v[k] as string;
  };
  const num = (k: Field, ok: (n: number) => boolean, what: string): number | undefined => {
    if (v[k] === undefined) return undefined;
    if (typeof v[k] !== 'number' || !ok(v[k])) fail(`field '${k}' must be ${what}, found ${describe(v[k])}`);
    return v[k] as number;
  };
  const bool = (k: Field): boolean | undefined => {
    if (v[k] === undefined) return undefined;
    if (typeof v[k] !== 'boolean') fail(`field '${k}' must be true or false, found ${describe(v[k])}`);
    return v[k] as boolean;
  };
  const perChannel = (k: 'mean' | 'std', ok: (n: number) => boolean, what: string): number | number[] | undefined => {
    const x = v[k];
    if (x === undefined) return undefined;
    const good = (n: unknown) => typeof n === 'number' && ok(n);
    if (good(x)) return x as number;
    if (Array.isArray(x) && x.length > 0 && x.every(good)) return (x as number[]).slice();
    return fail(`field '${k}' must be ${what} or a non-empty array of them (one per channel), found ${describe(x)}`);
  };
  const isPosInt = (n: number) => Number.isSafeInteger(n) && n > 0;
  const isFinite = (n: number) => Number.isFinite(n);

  const rawPath = str('path');
  if (rawPath === undefined) return fail('missing field \'path\' (the data file or image folder)');
  const base = specFile ? dirname(resolve(specFile)) : process.cwd();
  const path = isAbsolute(rawPath) ? rawPath : resolve(base, rawPath);
  if (isSpecPath(path)) fail(`'path' names another dataset spec (${rawPath}); it must name the data (a file or an image folder)`);

  const spec: DatasetSpec = { path };
  const format = str('format');
  if (format !== undefined) {
    if (!(DATASET_FORMATS as readonly string[]).includes(format)) {
      throw new DatasetError('unknown-format', where, `format '${format}' is not one of ${DATASET_FORMATS.join(', ')}`);
    }
    spec.format = format as DatasetFormat;
  } else spec.format = inferFormat(path);

  spec.input = str('input');
  spec.labels = str('labels');
  spec.testInput = str('testInput');
  spec.testLabels = str('testLabels');
  const dtype = str('dtype');
  if (dtype !== undefined) {
    if (!isDataDType(dtype)) fail(`field 'dtype' must be one of ${DATA_DTYPES.join(', ')}, found '${dtype}'`);
    spec.dtype = dtype as DataDType;
  }
  if (v.reshape !== undefined) {
    const r = v.reshape;
    if (!Array.isArray(r) || !r.every((d) => Number.isSafeInteger(d) && (d > 0 || d === -1)) || r.filter((d) => d === -1).length > 1) {
      fail(`field 'reshape' must be an array of positive integers (at most one -1), found ${describe(r)}`);
    }
    spec.reshape = (r as number[]).slice();
  }
  spec.scale = num('scale', (n) => isFinite(n) && n !== 0, 'a finite non-zero number');
  spec.mean = perChannel('mean', isFinite, 'a finite number');
  spec.std = perChannel('std', (n) => isFinite(n) && n > 0, 'a positive number');
  if (v.channels !== undefined) {
    if (v.channels !== 1 && v.channels !== 3 && v.channels !== 4) fail(`field 'channels' must be 1, 3 or 4, found ${describe(v.channels)}`);
    spec.channels = v.channels as 1 | 3 | 4;
  }
  if (v.size !== undefined) {
    const s = v.size;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((d) => typeof d === 'number' && isPosInt(d))) {
      fail(`field 'size' must be [height, width] in positive integers, found ${describe(s)}`);
    }
    spec.size = [(s as number[])[0], (s as number[])[1]];
  }
  const layout = str('layout');
  if (layout !== undefined) {
    if (layout !== 'NCHW' && layout !== 'NHWC') fail(`field 'layout' must be "NCHW" or "NHWC", found '${layout}'`);
    spec.layout = layout as Layout;
  }
  if (v.labelColumn !== undefined) {
    const c = v.labelColumn;
    if (!((typeof c === 'string' && c !== '') || (typeof c === 'number' && Number.isSafeInteger(c)))) {
      fail(`field 'labelColumn' must be a column name or an integer index, found ${describe(c)}`);
    }
    spec.labelColumn = c as string | number;
  }
  spec.header = bool('header');
  if (v.delimiter !== undefined) {
    if (typeof v.delimiter !== 'string' || v.delimiter.length !== 1 || v.delimiter === '"' || v.delimiter === '\n') {
      fail(`field 'delimiter' must be a single character other than a quote or newline, found ${describe(v.delimiter)}`);
    }
    spec.delimiter = v.delimiter as string;
  }
  spec.seqLen = num('seqLen', isPosInt, 'a positive integer');
  spec.padId = num('padId', Number.isSafeInteger, 'an integer');
  spec.limit = num('limit', isPosInt, 'a positive integer');
  spec.allowNonFinite = bool('allowNonFinite');
  if (v.classes !== undefined) spec.classes = validateClasses(v.classes, fail);

  const fmt = spec.format;
  const allowed = new Set<Field>([...COMMON, ...APPLIES[fmt]]);
  for (const k of Object.keys(v) as Field[]) {
    if (!allowed.has(k)) {
      const owners = DATASET_FORMATS.filter((f) => APPLIES[f].includes(k));
      fail(`field '${k}' does not apply to format '${fmt}' (it is for ${owners.join(', ')})`);
    }
  }
  const intOut = spec.dtype !== undefined && !['float32', 'float64'].includes(spec.dtype);
  if (intOut && (spec.scale !== undefined || spec.mean !== undefined || spec.std !== undefined)) {
    fail(`scale/mean/std produce fractions; they need dtype float32 or float64, not '${spec.dtype}'`);
  }
  if (fmt === 'images' && intOut) fail(`images are given as float32 or float64, not '${spec.dtype}'`);
  if (fmt === 'jsonl' && spec.dtype !== undefined && !intOut) fail(`JSONL token ids need an integer dtype, not '${spec.dtype}'`);
  if (spec.padId !== undefined && spec.seqLen === undefined) fail(`'padId' needs 'seqLen' (the length to pad to)`);
  for (const k of Object.keys(spec) as Field[]) if (spec[k] === undefined) delete spec[k];
  return spec;
}

/** Whether `path` names a dataset spec file (`*.json`, e.g. `digits.dataset.json`) rather than data. */
export function isSpecPath(path: string): boolean {
  return extname(path).toLowerCase() === '.json';
}

/** Output indices in a `classes` map stay below this (a class list of that length is already absurd). */
const MAX_CLASS_INDEX = 1_000_000;

/** Checks the `classes` field: unique non-empty names, or a name → index map with unique non-negative indices. */
function validateClasses(x: unknown, fail: (detail: string) => never): string[] | Record<string, number> {
  if (Array.isArray(x)) {
    if (x.length === 0) fail(`field 'classes' must list at least one class name, found []`);
    const seen = new Set<string>();
    x.forEach((n, i) => {
      if (typeof n !== 'string' || n === '') fail(`field 'classes' must hold class names (non-empty strings); entry ${i} is ${describe(n)}`);
      if (seen.has(n)) fail(`field 'classes' names '${n}' twice (entries ${x.indexOf(n)} and ${i}); each class has one output`);
      seen.add(n);
    });
    return (x as string[]).slice();
  }
  if (x === null || typeof x !== 'object') {
    return fail(`field 'classes' must be an array of class names in the model's order or an object {"name": index}, found ${describe(x)}`);
  }
  const entries = Object.entries(x as Record<string, unknown>);
  if (entries.length === 0) fail(`field 'classes' must map at least one class name to an index, found {}`);
  const byIndex = new Map<number, string>();
  const out: Record<string, number> = {};
  for (const [name, i] of entries) {
    if (name === '') fail(`field 'classes' has an empty class name`);
    if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 0 || i >= MAX_CLASS_INDEX) {
      fail(`field 'classes' maps '${name}' to ${describe(i)}; indices must be integers in [0, ${MAX_CLASS_INDEX}) (the model's output for that class)`);
    }
    const other = byIndex.get(i as number);
    if (other !== undefined) fail(`field 'classes' maps both '${other}' and '${name}' to ${i as number}; each output belongs to one class`);
    byIndex.set(i as number, name);
    out[name] = i as number;
  }
  return out;
}

/**
 * The format of `path` from its extension, or `images` for an existing folder.
 * @throws DatasetError `unknown-format` (naming the supported extensions), `not-found`.
 */
export function inferFormat(path: string): DatasetFormat {
  const f = EXTENSIONS[extname(path).toLowerCase()];
  if (f) return f;
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw fsError(e, path);
  }
  if (isDir) return 'images';
  throw new DatasetError(
    'unknown-format',
    path,
    `cannot tell the data format from the name; expected .npz, .npy, .csv, .tsv, .jsonl, .ndjson, a dataset spec .json or a folder of class sub-folders (or set "format")`,
  );
}

/**
 * Reads and validates a dataset spec JSON file.
 * @throws DatasetError `not-found`/`directory`/`io` for the file, `bad-spec` for invalid JSON, and as
 * {@link validateDatasetSpec}.
 */
export async function readDatasetSpec(specFile: string): Promise<DatasetSpec> {
  const st = await stat(specFile).catch((e: unknown) => {
    throw fsError(e, specFile);
  });
  if (st.isDirectory()) throw new DatasetError('directory', specFile, 'expected a dataset spec JSON file, found a directory');
  const text = await readFile(specFile, 'utf8').catch((e: unknown) => {
    throw fsError(e, specFile);
  });
  const deep = jsonTooDeep(text, JSON_DEPTH_LIMITS.spec);
  if (deep) {
    throw new DatasetError('bad-spec', specFile, `expected a dataset spec object, found JSON nested more than ${JSON_DEPTH_LIMITS.spec} levels deep (at character ${deep.offset})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DatasetError('bad-spec', specFile, `not valid JSON: ${errorText(e)}`);
  }
  return validateDatasetSpec(json, specFile);
}

function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
