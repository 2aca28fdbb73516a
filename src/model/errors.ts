/**
 * Typed load errors. Every problem with a checkpoint becomes a {@link ModelLoadError} that names the file and
 * says what was expected and what was found. Nothing else may escape a loader: unexpected exceptions from
 * decoders are wrapped (code `corrupt`).
 */

import { oneLine, type SerializedModelLoadError } from '../shared/errors';

export type { SerializedModelLoadError };

export type ModelLoadErrorCode =
  /** The path does not exist. */
  | 'not-found'
  /** The path is a directory. */
  | 'directory'
  /** Zero bytes. */
  | 'empty-file'
  /** Neither ONNX nor TF.js; `detail` says what it looks like (tokenizer, package.json, image, …). */
  | 'unknown-format'
  /** The bytes end before a declared field/length does (truncated protobuf, cut JSON). */
  | 'truncated'
  /** Structurally invalid bytes (bad wire type, bad varint, invalid JSON, length past end…). */
  | 'corrupt'
  /** Decoded, but a required part is missing or of the wrong kind (no graph, no modelTopology, …). */
  | 'invalid-structure'
  /** A dtype the IR does not know (ONNX elem_type number, TF.js dtype string). */
  | 'unknown-dtype'
  /** A negative, non-integer or implausibly large dimension / element count. */
  | 'absurd-shape'
  /** Tensor bytes do not match its dtype × shape. */
  | 'tensor-size-mismatch'
  /** An external-data file or weight shard path escapes the model's folder. */
  | 'path-escape'
  /** A weight shard / external data file is missing. */
  | 'missing-shard'
  /** A weight shard / external data file is shorter than the manifest / offsets need. */
  | 'short-shard'
  /** The graph violates an IR invariant (duplicate ids, dangling edges, …). */
  | 'invalid-graph'
  /** The file is larger than the loader accepts. */
  | 'too-large'
  /** The file changed on disk after it was loaded (a lazily read tensor can no longer be located). */
  | 'changed';

export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(
    readonly code: ModelLoadErrorCode,
    /** Absolute or user-given path of the offending file. */
    readonly file: string,
    /** What was expected and what was found, in one or two sentences (made one line). */
    readonly detail: string,
    /** The format the loader was reading, when known. */
    readonly format?: string,
  ) {
    detail = oneLine(detail);
    super(`${file}: ${detail}`);
    this.detail = detail;
  }

  toJSON(): SerializedModelLoadError {
    return { name: 'ModelLoadError', code: this.code, file: this.file, detail: this.detail, format: this.format };
  }
}

export function isModelLoadError(e: unknown): e is ModelLoadError {
  return e instanceof ModelLoadError;
}
