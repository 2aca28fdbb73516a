/**
 * Typed dataset errors. Every problem with a user's data file or dataset spec becomes a {@link DatasetError}
 * naming the file and saying what was expected and what was found. Nothing else may escape the dataset
 * layer for bad input: exceptions from decoders (fflate, pngjs, jpeg-js, JSON.parse) are wrapped.
 */

import { oneLine } from '../../shared/errors';

export type DatasetErrorCode =
  /** The path does not exist. */
  | 'not-found'
  /** A file was expected and the path is a directory. */
  | 'directory'
  /** A directory was expected (image folder) and the path is a file. */
  | 'not-a-directory'
  /** Zero bytes. */
  | 'empty-file'
  /** The format could not be inferred from the path, or the declared format is not one we read. */
  | 'unknown-format'
  /** The file does not start with the `\x93NUMPY` magic (or a zip member is not an .npy). */
  | 'bad-magic'
  /** The bytes end before the .npy preamble or header does. */
  | 'truncated'
  /** The .npy header is not the Python dict literal the format prescribes, or has an unknown version. */
  | 'bad-header'
  /** A dtype we do not read (float16, strings, objects, structured, complex, datetimes); `detail` says which. */
  | 'unsupported-dtype'
  /** The data bytes do not match dtype × shape. */
  | 'size-mismatch'
  /** The .npz is not a readable zip (no end record, bad offsets, failed inflate). */
  | 'corrupt-zip'
  /** A zip member uses a compression method other than stored (0) or deflate (8), or is encrypted. */
  | 'unsupported-compression'
  /** The array named by the spec (or a default) is not in the archive; `detail` lists what is. */
  | 'missing-array'
  /** Labels length ≠ number of input samples. */
  | 'labels-mismatch'
  /** Labels that are not integers, or do not fit int32. */
  | 'bad-labels'
  /** No samples at all (empty image folder, CSV without data rows, empty JSONL). */
  | 'empty-dataset'
  /** An image file that cannot be decoded, or of a size that cannot be used. */
  | 'bad-image'
  /** A CSV cell that is not a number, or a row with the wrong number of cells (`detail` has the line). */
  | 'bad-cell'
  /** A JSONL line that is not JSON, not token ids, or of the wrong length (`detail` has the line). */
  | 'bad-line'
  /** The dataset spec is malformed (wrong field type, unknown field, inconsistent options). */
  | 'bad-spec'
  /** The spec's `classes` does not match the data's classes (a class it does not name, or a name the data lacks). */
  | 'bad-classes'
  /** `reshape` does not hold the same number of elements as the stored per-sample shape. */
  | 'reshape-mismatch'
  /** The data does not fit the model input's shape. */
  | 'shape-mismatch'
  /** The data's dtype is not the model input's, or a value does not survive the declared dtype conversion. */
  | 'dtype-mismatch'
  /** NaN or ±Inf in float inputs (unless the spec sets `allowNonFinite`). */
  | 'non-finite'
  /** A batch size or sample range outside the data. */
  | 'out-of-range'
  /** Shapes or sizes beyond what we can hold in memory / address. */
  | 'too-large'
  /** The operating system refused a read (permissions, I/O error). */
  | 'io';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  constructor(
    readonly code: DatasetErrorCode,
    /** Absolute or user-given path of the offending file (or `<dataset spec>` for an in-memory spec). */
    readonly file: string,
    /** What was expected and what was found, in one or two sentences (made one line). */
    readonly detail: string,
  ) {
    detail = oneLine(detail);
    super(`${file}: ${detail}`);
    this.detail = detail;
  }

  /** Plain form for crossing a worker/webview boundary. */
  toJSON(): SerializedDatasetError {
    return { name: 'DatasetError', code: this.code, file: this.file, detail: this.detail };
  }
}

export interface SerializedDatasetError {
  name: 'DatasetError';
  code: DatasetErrorCode;
  file: string;
  detail: string;
}

/** True when `e` is a {@link DatasetError}. */
export function isDatasetError(e: unknown): e is DatasetError {
  return e instanceof DatasetError;
}

/**
 * Message of an unknown thrown value, for wrapping decoder exceptions. A JavaScript engine error raised inside
 * a decoder (`Cannot set properties of undefined`, `Invalid typed array length`) says nothing about the file
 * and is replaced by what it means: the decoder met data it did not expect.
 */
export function errorText(e: unknown): string {
  return internalErrorText(e) ?? (e instanceof Error ? e.message : String(e));
}

/** For TypeError / RangeError / ReferenceError: a description without the engine's message; else undefined. */
export function internalErrorText(e: unknown): string | undefined {
  if (e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) {
    return `the decoder stopped on data it cannot interpret (an internal ${e.name}); the file is probably damaged`;
  }
  return undefined;
}

/** Maps a Node fs error on `file` to a DatasetError (ENOENT → not-found, EISDIR → directory, else io). */
export function fsError(e: unknown, file: string): DatasetError {
  if (e instanceof DatasetError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new DatasetError('not-found', file, 'file not found');
  if (code === 'EISDIR') return new DatasetError('directory', file, 'expected a file, found a directory');
  if (code === 'ENOTDIR') return new DatasetError('not-found', file, 'a parent of this path is not a directory');
  return new DatasetError('io', file, `cannot read: ${errorText(e)}`);
}
