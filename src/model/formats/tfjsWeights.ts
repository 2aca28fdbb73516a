/**
 * TF.js `weightsManifest` → lazy tensor descriptors and a reader.
 *
 * A manifest is a list of groups `{ paths, weights }`. Each group's weights are laid out back to back across
 * the group's shard files taken as one concatenated byte stream; a tensor may straddle two shards. Sizes are
 * fixed by dtype × shape except for quantized weights (stored as uint8/uint16/float16) and string weights
 * (each element a little-endian uint32 byte length followed by its UTF-8 bytes, so the lengths are read from
 * the shards at load time). Every shard is resolved inside the model's folder and stat-ed when the model is
 * opened; bytes are read only by {@link WeightStore.read}.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelLoadError } from '../errors';
import { checkedElements } from '../graphBuild';
import type { DType, LoadedTensor, TensorData, TensorInfo } from '../ir';
import { decodeFloat16 } from './halfFloat';

type Obj = Record<string, unknown>;
export const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A short, safe rendering of an untrusted JSON value for error messages. */
export function found(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === 'object') return 'an object';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)}`;
  return `${typeof x} ${String(x)}`;
}

/** TF.js manifest dtypes and their stored bytes per element (string: variable). */
const MANIFEST_DTYPES: Record<string, { dtype: DType; bytes: number }> = {
  float32: { dtype: 'float32', bytes: 4 },
  int32: { dtype: 'int32', bytes: 4 },
  bool: { dtype: 'bool', bytes: 1 },
  complex64: { dtype: 'complex64', bytes: 8 },
  string: { dtype: 'string', bytes: 0 },
};

/** Storage types of TF.js weight quantization. */
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

interface Group {
  /** Paths as written in the manifest (relative to the model's folder). */
  rel: string[];
  abs: string[];
  sizes: number[];
}

interface Source {
  info: TensorInfo;
  group: Group;
}

export interface WeightStore {
  /** Descriptors by weight name, in manifest order. */
  tensors: Record<string, TensorInfo>;
  order: string[];
  warnings: string[];
  read(name: string): Promise<LoadedTensor>;
}

/** True when a `path.relative` result points outside its base. */
const outside = (back: string): boolean => back === '..' || back.startsWith(`..${path.sep}`) || path.isAbsolute(back);

/**
 * Resolves a shard path inside `dir`.
 * @throws ModelLoadError `path-escape` for absolute paths and paths that leave the folder.
 */
export function resolveShard(dir: string, rel: string, file: string, what: string, format: string): string {
  if (path.isAbsolute(rel) || path.win32.isAbsolute(rel) || /^[a-zA-Z]:/.test(rel)) {
    throw new ModelLoadError(
      'path-escape',
      file,
      `${what}: expected a shard path relative to the model's folder, found the absolute path '${rel}' (refused)`,
      format,
    );
  }
  // Walk the segments ourselves so that a Windows-written '..\\x.bin' is refused on every platform too.
  let depth = 0;
  let climbs = false;
  for (const seg of rel.split(/[\\/]/)) {
    if (seg === '..') depth--;
    else if (seg !== '' && seg !== '.') depth++;
    if (depth < 0) climbs = true;
  }
  const abs = path.resolve(dir, rel);
  const back = path.relative(dir, abs);
  if (climbs || back === '' || outside(back)) {
    throw new ModelLoadError(
      'path-escape',
      file,
      `${what}: the shard path '${rel}' leaves the model's folder ${dir} (refused)`,
      format,
    );
  }
  return abs;
}

/**
 * Parses the manifest, resolves and stats every shard, computes offsets, and checks the shards hold enough
 * bytes. `manifest` undefined means a model without weights.
 * @throws ModelLoadError invalid-structure, unknown-dtype, absurd-shape, path-escape, missing-shard, short-shard
 */
export async function openWeights(file: string, manifest: unknown, format: string): Promise<WeightStore> {
  const warnings: string[] = [];
  const sources = new Map<string, Source>();
  const order: string[] = [];
  const tensors: Record<string, TensorInfo> = {};
  const bad = (detail: string): ModelLoadError => new ModelLoadError('invalid-structure', file, detail, format);
  if (manifest === undefined || manifest === null) {
    warnings.push('the model.json has no weightsManifest: the model has no weights');
    return { tensors, order, warnings, read: (name) => Promise.reject(bad(`no weight named '${name}' in this model`)) };
  }
  if (!Array.isArray(manifest)) throw bad(`weightsManifest: expected an array of weight groups, found ${found(manifest)}`);
  const dir = path.dirname(file);
  let realDir: string | undefined;
  try {
    realDir = await fs.realpath(dir);
  } catch {
    realDir = undefined;
  }
  // Pass 1, static: every group's paths and weight entries (structure, dtypes, shapes, path escapes).
  interface Parsed {
    name: string;
    what: string;
    dtype: DType;
    shape: number[];
    elements: number;
    /** Stored bytes; undefined for string weights (read from the shards). */
    bytes?: number;
    quantization?: TensorInfo['quantization'];
  }
  const groups: { where: string; group: Group; weights: Parsed[] }[] = [];
  const names = new Set<string>();
  /** Shard file → where it was first listed: a shard listed twice would be read as two different byte ranges. */
  const shardSeen = new Map<string, string>();
  for (let g = 0; g < manifest.length; g++) {
    const grp = manifest[g];
    const where = `weightsManifest[${g}]`;
    if (!isObj(grp)) throw bad(`${where}: expected a group {paths, weights}, found ${found(grp)}`);
    if (!Array.isArray(grp.paths)) throw bad(`${where}.paths: expected an array of shard file names, found ${found(grp.paths)}`);
    if (!Array.isArray(grp.weights)) throw bad(`${where}.weights: expected an array of weight entries, found ${found(grp.weights)}`);
    const group: Group = { rel: [], abs: [], sizes: [] };
    for (let i = 0; i < grp.paths.length; i++) {
      const rel = grp.paths[i];
      const pwhere = `${where}.paths[${i}]`;
      if (typeof rel !== 'string' || rel === '') throw bad(`${pwhere}: expected a shard file name, found ${found(rel)}`);
      group.rel.push(rel);
      const abs = resolveShard(dir, rel, file, `shard '${rel}' (${pwhere})`, format);
      const first = shardSeen.get(abs);
      if (first !== undefined) throw bad(`${pwhere}: the shard '${rel}' is already listed at ${first}; expected each shard file once in weightsManifest`);
      shardSeen.set(abs, pwhere);
      group.abs.push(abs);
    }
    const weights: Parsed[] = [];
    for (let w = 0; w < grp.weights.length; w++) {
      weights.push(parseWeight(grp.weights[w], `${where}.weights[${w}]`));
    }
    if (weights.length > 0 && group.abs.length === 0) {
      throw bad(`${where} lists ${weights.length} weights but no shard files in 'paths'`);
    }
    groups.push({ where, group, weights });
  }

  function parseWeight(entry: unknown, wwhere: string): Parsed {
    if (!isObj(entry)) throw bad(`${wwhere}: expected a weight entry {name, shape, dtype}, found ${found(entry)}`);
    const name = entry.name;
    if (typeof name !== 'string' || name === '') throw bad(`${wwhere} has no 'name' (found ${found(name)})`);
    if (names.has(name)) throw bad(`${wwhere}: the weight name '${name}' appears twice in weightsManifest`);
    names.add(name);
    const what = `weight '${name}' (${wwhere})`;
    if (!Array.isArray(entry.shape)) throw bad(`${what}: expected 'shape' to be an array of dimensions, found ${found(entry.shape)}`);
    const shape = entry.shape as unknown[];
    if (!shape.every((d) => typeof d === 'number')) {
      throw new ModelLoadError(
        'absurd-shape',
        file,
        `${what}: expected integer dimensions, found [${shape.slice(0, 8).map((d) => JSON.stringify(d)).join(', ')}]`,
        format,
      );
    }
    const elements = checkedElements(shape as number[], file, what, format);
    const dt = typeof entry.dtype === 'string' ? MANIFEST_DTYPES[entry.dtype] : undefined;
    if (!dt) {
      throw new ModelLoadError(
        'unknown-dtype',
        file,
        `${what}: expected dtype float32, int32, bool, complex64 or string, found ${found(entry.dtype)}`,
        format,
      );
    }
    const parsed: Parsed = { name, what, dtype: dt.dtype, shape: shape as number[], elements };
    const q = entry.quantization;
    if (q !== undefined && q !== null) {
      if (!isObj(q)) throw bad(`${what}: expected 'quantization' to be an object, found ${found(q)}`);
      const qBytes = typeof q.dtype === 'string' ? QUANT_BYTES[q.dtype] : undefined;
      if (!qBytes) {
        throw new ModelLoadError(
          'unknown-dtype',
          file,
          `${what}: expected quantization dtype uint8, uint16 or float16, found ${found(q.dtype)}`,
          format,
        );
      }
      if (dt.dtype !== 'float32' && dt.dtype !== 'int32') {
        throw bad(`${what}: quantization applies to float32 or int32 weights, found dtype ${dt.dtype}`);
      }
      parsed.quantization = { dtype: q.dtype as string };
      if (q.dtype !== 'float16') {
        if (typeof q.scale !== 'number' || typeof q.min !== 'number' || !Number.isFinite(q.scale) || !Number.isFinite(q.min)) {
          throw bad(`${what}: ${String(q.dtype)} quantization needs numeric 'scale' and 'min', found scale ${found(q.scale)} and min ${found(q.min)}`);
        }
        parsed.quantization.scale = q.scale;
        parsed.quantization.min = q.min;
      }
      parsed.bytes = elements * qBytes;
    } else if (dt.dtype !== 'string') {
      parsed.bytes = elements * dt.bytes;
    }
    return parsed;
  }

  // Pass 2, on disk: stat every shard, lay the weights out, check the shards are long enough.
  const statCache = new Map<string, number>();
  for (const { where, group, weights } of groups) {
    for (let i = 0; i < group.abs.length; i++) {
      const abs = group.abs[i];
      let size = statCache.get(abs);
      if (size === undefined) {
        size = await statShard(abs, group.rel[i], `${where}.paths[${i}]`, file, format, realDir);
        statCache.set(abs, size);
      }
      group.sizes.push(size);
    }
    const total = group.sizes.reduce((a, b) => a + b, 0);
    let offset = 0;
    let scanner: ShardReader | undefined;
    for (const p of weights) {
      let byteLength = p.bytes;
      if (byteLength === undefined) {
        scanner ??= new ShardReader(group, file, format);
        byteLength = await stringBytes(scanner, offset, p.elements, total, p.what, group, file, format);
      }
      const info: TensorInfo = {
        name: p.name,
        dtype: p.dtype,
        shape: p.shape,
        elements: p.elements,
        byteLength,
        location: { kind: 'shard', files: group.rel, offset, length: byteLength },
      };
      if (p.quantization) info.quantization = p.quantization;
      sources.set(p.name, { info, group });
      tensors[p.name] = info;
      order.push(p.name);
      offset += byteLength;
    }
    if (total < offset) {
      const listing = group.rel.map((r, i) => `${r}: ${group.sizes[i]}`).join(', ');
      throw new ModelLoadError(
        'short-shard',
        file,
        `${where}: the weights need ${offset} bytes across its shard files, found ${total} (${listing}); ` +
          `'${group.rel[group.rel.length - 1]}' ends ${offset - total} bytes early`,
        format,
      );
    }
    if (total > offset) {
      warnings.push(`${where}: the shard files hold ${total} bytes, ${total - offset} more than the ${offset} its weights need`);
    }
  }

  return {
    tensors,
    order,
    warnings,
    async read(name: string): Promise<LoadedTensor> {
      const src = sources.get(name);
      if (!src) throw new ModelLoadError('invalid-structure', file, `no weight named '${name}' in this model`, format);
      const { info } = src;
      if (info.location.kind !== 'shard') throw new ModelLoadError('invalid-structure', file, `weight '${name}' has no shard location`, format);
      try {
        const bytes = await new ShardReader(src.group, file, format).read(info.location.offset, info.byteLength);
        return { info, data: decode(bytes, info) };
      } catch (e) {
        if (e instanceof ModelLoadError) throw e;
        throw new ModelLoadError('corrupt', file, `weight '${name}' could not be read: ${e instanceof Error ? e.message : String(e)}`, format);
      }
    },
  };
}

async function statShard(abs: string, rel: string, where: string, file: string, format: string, realDir: string | undefined): Promise<number> {
  let st;
  try {
    st = await fs.stat(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ModelLoadError(
      'missing-shard',
      file,
      `${where}: expected the weight shard '${rel}' beside the model.json, found nothing at ${abs} (${code})`,
      format,
    );
  }
  if (!st.isFile()) {
    throw new ModelLoadError('missing-shard', file, `${where}: expected the weight shard '${rel}' to be a file, found a directory or special file`, format);
  }
  if (realDir !== undefined) {
    // A shard that is a symlink pointing outside the folder escapes as surely as '../'.
    const real = await fs.realpath(abs).catch(() => abs);
    const back = path.relative(realDir, real);
    if (outside(back)) {
      throw new ModelLoadError('path-escape', file, `${where}: the shard '${rel}' is a link to ${real}, outside the model's folder (refused)`, format);
    }
  }
  return st.size;
}

/** Walks the length prefixes of a string weight to find how many bytes it occupies. */
async function stringBytes(
  reader: ShardReader,
  start: number,
  elements: number,
  total: number,
  what: string,
  group: Group,
  file: string,
  format: string,
): Promise<number> {
  let pos = start;
  for (let i = 0; i < elements; i++) {
    if (pos + 4 > total) {
      throw new ModelLoadError(
        'short-shard',
        file,
        `${what}: string element ${i} of ${elements} starts at byte ${pos}, but the shards (${group.rel.join(', ')}) hold only ${total} bytes`,
        format,
      );
    }
    const len = await reader.u32(pos);
    pos += 4 + len;
  }
  if (pos > total) {
    throw new ModelLoadError(
      'short-shard',
      file,
      `${what}: its strings need bytes up to ${pos}, but the shards (${group.rel.join(', ')}) hold only ${total} bytes`,
      format,
    );
  }
  return pos - start;
}

/** Reads byte ranges of a group's concatenated shards (a small window cache serves the string scans). */
class ShardReader {
  private window?: { start: number; bytes: Uint8Array };
  constructor(
    private readonly group: Group,
    private readonly file: string,
    private readonly format: string,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let filled = 0;
    let base = 0;
    for (let i = 0; i < this.group.abs.length && filled < length; i++) {
      const size = this.group.sizes[i];
      const end = base + size;
      const want = offset + filled;
      if (want < end) {
        const from = want - base;
        const n = Math.min(size - from, length - filled);
        const fh = await fs.open(this.group.abs[i], 'r');
        try {
          let got = 0;
          while (got < n) {
            const { bytesRead } = await fh.read(out, filled + got, n - got, from + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
          if (got < n) {
            throw new ModelLoadError(
              'short-shard',
              this.file,
              `shard '${this.group.rel[i]}' ended after ${from + got} bytes while reading; it was ${size} bytes when the model was opened`,
              this.format,
            );
          }
        } finally {
          await fh.close();
        }
        filled += n;
      }
      base = end;
    }
    if (filled < length) {
      throw new ModelLoadError(
        'short-shard',
        this.file,
        `expected ${length} bytes at offset ${offset} of the shards ${this.group.rel.join(', ')}, found only ${filled}`,
        this.format,
      );
    }
    return out;
  }

  async u32(pos: number): Promise<number> {
    const w = this.window;
    if (!w || pos < w.start || pos + 4 > w.start + w.bytes.length) {
      const total = this.group.sizes.reduce((a, b) => a + b, 0);
      const len = Math.min(1 << 16, total - pos);
      this.window = { start: pos, bytes: await this.read(pos, len) };
    }
    const { start, bytes } = this.window!;
    const k = pos - start;
    return (bytes[k] | (bytes[k + 1] << 8) | (bytes[k + 2] << 16)) + bytes[k + 3] * 2 ** 24;
  }
}

/** Bytes as stored → values: dequantizes (`v·scale + min`, float16 → float32) and views by dtype. */
function decode(bytes: Uint8Array, info: TensorInfo): TensorData {
  const q = info.quantization;
  if (q) {
    let stored: Float32Array | Uint8Array | Uint16Array;
    if (q.dtype === 'uint8') stored = bytes;
    else {
      const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
      stored = q.dtype === 'float16' ? decodeFloat16(u16) : u16;
    }
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    const affine = q.dtype !== 'float16';
    if (info.dtype === 'int32') {
      // As tfjs does for int32 weights: dequantize, then round to the nearest integer.
      const out = new Int32Array(stored.length);
      for (let i = 0; i < stored.length; i++) out[i] = Math.round(affine ? stored[i] * scale + min : stored[i]);
      return out;
    }
    if (!affine) return stored as Float32Array;
    const out = new Float32Array(stored.length);
    for (let i = 0; i < stored.length; i++) out[i] = stored[i] * scale + min;
    return out;
  }
  switch (info.dtype) {
    case 'float32':
    case 'complex64':
      return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    case 'int32':
      return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    case 'bool':
      return bytes;
    case 'string': {
      const out: string[] = [];
      const dec = new TextDecoder('utf-8');
      let pos = 0;
      for (let i = 0; i < info.elements; i++) {
        const len = (bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16)) + bytes[pos + 3] * 2 ** 24;
        pos += 4;
        out.push(dec.decode(bytes.subarray(pos, pos + len)));
        pos += len;
      }
      return out;
    }
    default:
      return bytes;
  }
}
