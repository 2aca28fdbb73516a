/**
 * The one entry point from a path to a {@link LoadedModel}: checks the path, sniffs the format from the
 * bytes (Netron-style cheap `match` on magic bytes / JSON shape), and hands off to the format's loader.
 * Every failure is a {@link ModelLoadError}; nothing else escapes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelLoadError } from './errors';
import { internalErrorText } from './datasets/errors';
import { JSON_DEPTH_LIMITS, jsonTooDeep } from './jsonDepth';
import { inferModelShapes } from './shapeInference';
import type { LoadedModel } from './ir';
import { decodeModelProto, openOnnx, type OnnxModelProto } from './formats/onnx';
import { describeJson, isTfjsModelJson, openTfjs } from './formats/tfjs';

export interface LoadOptions {
  /** Refuse files larger than this many bytes (default 4 GiB: protobuf's own limit is 2 GiB per message). */
  maxBytes?: number;
  /** Fill the shapes the file does not store by shape inference (default true; see shapeInference.ts). */
  inferShapes?: boolean;
}

const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

/** Loads an ONNX file or a TF.js model.json. @throws ModelLoadError */
export async function loadModel(file: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const abs = path.resolve(file);
  let stat;
  try {
    stat = await fs.stat(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelLoadError('not-found', abs, `expected a model file, found nothing at this path (${code ?? String(e)})`);
  }
  if (stat.isDirectory()) {
    throw new ModelLoadError(
      'directory',
      abs,
      'expected a model file (*.onnx or a TF.js model.json), found a directory — open the .onnx file or the model.json inside it',
    );
  }
  if (!stat.isFile()) throw new ModelLoadError('unknown-format', abs, 'expected a regular file, found a special file');
  if (stat.size === 0) {
    throw new ModelLoadError('empty-file', abs, 'expected an ONNX protobuf or a TF.js model.json, found an empty file (0 bytes)');
  }
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (stat.size > max) {
    throw new ModelLoadError('too-large', abs, `the file is ${stat.size} bytes, above the ${max}-byte limit`);
  }
  // The file once, into a buffer with room after it (a session's tap outputs are appended in place there); the
  // model is given the bytes to hand on (takeBytes) rather than keeping them.
  const bytes = await readFileWithSpare(abs, TAP_SPARE_BYTES);
  try {
    const model = await openBytes(abs, bytes, { size: stat.size, mtimeMs: stat.mtimeMs });
    if (opts.inferShapes !== false) await addInferredShapes(model);
    if (model.graph.format !== 'onnx') return model;
    let held: Uint8Array | undefined = bytes;
    return {
      ...model,
      takeBytes() {
        const b = held;
        held = undefined;
        return b;
      },
    };
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    // A decoder bug or an exotic input we did not anticipate: still a typed error, never a crash.
    const msg = internalErrorText(e) ?? (e instanceof Error ? e.message : String(e));
    throw new ModelLoadError('corrupt', abs, `the file could not be decoded: ${msg}`);
  }
}

/**
 * Fills the shapes the file does not store (see shapeInference.ts). Never fails a load: a model whose shapes
 * cannot be inferred keeps what the file says, with a warning.
 */
async function addInferredShapes(model: LoadedModel): Promise<void> {
  try {
    const r = await inferModelShapes(model, { dims: false });
    if (r?.conflicts.length) {
      const list = r.conflicts.slice(0, 5).map((c) => `'${c}'`).join(', ');
      model.graph.warnings.push(
        `shape inference disagreed with the shapes stored for ${r.conflicts.length} value(s) (${list}${r.conflicts.length > 5 ? ', …' : ''}); the stored shapes are shown`,
      );
    }
  } catch (e) {
    model.graph.warnings.push(`shape inference stopped: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Room left after a model's bytes for the protobuf suffix that adds tap outputs (≈ 20–100 bytes a tap). Costs no
 * memory until written: the pages of a large allocation are not touched before then.
 */
export const TAP_SPARE_BYTES = 1 << 20;

/**
 * Reads a whole file into a buffer `spare` bytes longer than the file and returns a view of the file's bytes
 * (the spare capacity lies after the view's end, in the same ArrayBuffer).
 * @throws the file system's error
 */
export async function readFileWithSpare(file: string, spare: number): Promise<Uint8Array> {
  const fh = await fs.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = new Uint8Array(new ArrayBuffer(size + spare));
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(buf, done, Math.min(size - done, 1 << 30), done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
  } finally {
    await fh.close();
  }
}

async function openBytes(file: string, bytes: Uint8Array, stat?: { size: number; mtimeMs: number }): Promise<LoadedModel> {
  const kind = sniff(bytes, file);
  switch (kind.type) {
    case 'json': {
      const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
      const deep = jsonTooDeep(text, JSON_DEPTH_LIMITS.model);
      if (deep) {
        throw new ModelLoadError(
          'corrupt',
          file,
          `expected a TF.js model.json nested at most ${JSON_DEPTH_LIMITS.model} levels deep, found deeper nesting at character ${deep.offset}`,
          'tfjs',
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const truncated = /Unexpected end|unterminated|end of JSON/i.test(msg);
        throw new ModelLoadError(
          truncated ? 'truncated' : 'corrupt',
          file,
          `expected a TF.js model.json (valid JSON), found ${truncated ? 'JSON that ends early' : 'invalid JSON'}: ${msg}`,
          'tfjs',
        );
      }
      if (!isTfjsModelJson(json)) {
        throw new ModelLoadError(
          'unknown-format',
          file,
          `expected a TF.js model.json (an object with "modelTopology" and "weightsManifest"), found ${describeJson(json, file)}`,
        );
      }
      return openTfjs(file, json);
    }
    case 'onnx':
      return openOnnx(file, bytes, stat ? { fileBacked: stat } : {});
    case 'other':
      throw new ModelLoadError('unknown-format', file, `expected an ONNX protobuf or a TF.js model.json, found ${kind.what}`);
  }
}

type Sniffed = { type: 'json' } | { type: 'onnx' } | { type: 'other'; what: string };

const startsWith = (b: Uint8Array, sig: number[] | string, at = 0): boolean => {
  const s = typeof sig === 'string' ? [...sig].map((c) => c.charCodeAt(0)) : sig;
  if (b.length < at + s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s[i]) return false;
  return true;
};

/** Recognises models and the common non-model files users right-click by mistake. */
export function sniff(b: Uint8Array, file: string): Sniffed {
  const ext = path.extname(file).toLowerCase();
  let i = 0;
  while (i < b.length && i < 64 && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  if (startsWith(b, [0xef, 0xbb, 0xbf])) i = 3;
  if (b[i] === 0x7b /* { */ || b[i] === 0x5b /* [ */ || ext === '.json') return { type: 'json' };
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47])) return { type: 'other', what: 'a PNG image' };
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { type: 'other', what: 'a JPEG image' };
  if (startsWith(b, 'GIF8')) return { type: 'other', what: 'a GIF image' };
  if (startsWith(b, '%PDF')) return { type: 'other', what: 'a PDF document' };
  if (startsWith(b, [0x93]) && startsWith(b, 'NUMPY', 1)) return { type: 'other', what: 'a NumPy .npy array (use it as --data)' };
  if (startsWith(b, [0x89]) && startsWith(b, 'HDF', 1)) {
    return { type: 'other', what: 'an HDF5 file (a Keras .h5 model? convert it with tensorflowjs_converter or tf2onnx)' };
  }
  if (startsWith(b, 'TFL3', 4)) return { type: 'other', what: 'a TensorFlow Lite flatbuffer (.tflite), which is not supported' };
  if (startsWith(b, 'PK\x03\x04') || startsWith(b, 'PK\x05\x06')) {
    if (ext === '.npz') return { type: 'other', what: 'a NumPy .npz archive (use it as --data)' };
    if (ext === '.pt' || ext === '.pth' || ext === '.bin' || ext === '.ckpt') {
      return { type: 'other', what: 'a zip archive, probably a PyTorch checkpoint (export it with torch.onnx.export)' };
    }
    return { type: 'other', what: `a zip archive${ext ? ` (${ext})` : ''}` };
  }
  if (startsWith(b, [0x80]) && (b[1] ?? 0) >= 2 && (b[1] ?? 0) <= 5) {
    return { type: 'other', what: 'a Python pickle (a legacy PyTorch checkpoint?)' };
  }
  if (b.length >= 16 && ext === '.safetensors') return { type: 'other', what: 'a safetensors file (weights without a graph)' };
  if (ext === '.onnx' || ext === '.pb' || ext === '.ort' || looksLikeProtobuf(b)) return { type: 'onnx' };
  if (looksLikeText(b)) return { type: 'other', what: `a text file (starts with ${JSON.stringify(textHead(b))})` };
  return { type: 'other', what: `binary data of an unknown kind (first bytes ${hexHead(b)})` };
}

/** ONNX ModelProto starts with field 1 (ir_version, varint: 0x08) or, from some writers, another small field. */
function looksLikeProtobuf(b: Uint8Array): boolean {
  const tag = b[0];
  const field = tag >> 3;
  const wire = tag & 7;
  return field >= 1 && field <= 20 && (wire === 0 || wire === 2);
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 0xc0) printable++;
  }
  return printable / n > 0.95;
}

function textHead(b: Uint8Array): string {
  return new TextDecoder().decode(b.subarray(0, 40)).split('\n')[0];
}

function hexHead(b: Uint8Array): string {
  return [...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

/**
 * An ONNX model's decoded ModelProto (weights as views into the bytes): from the loader's bytes when it still holds
 * them (one copy of the file in memory, not two), else a fresh read.
 */
export async function readModelProto(model: LoadedModel): Promise<OnnxModelProto> {
  const file = model.graph.file;
  return decodeModelProto(file, model.takeBytes?.() ?? new Uint8Array(await fs.readFile(file)));
}
