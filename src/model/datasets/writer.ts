/**
 * `.npy` / `.npz` writing, for `circuitscope run capture --out file.npz`. Files are what numpy writes:
 * format 1.0 headers (2.0 when the header would not fit), little-endian, C order, members named `<name>.npy`,
 * stored (`np.savez`) or deflated (`np.savez_compressed`). Written to a temporary file, then renamed.
 */

import { rename, rm, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { type Zippable, zipSync } from 'fflate';
import { DatasetError, fsError } from './errors';
import { type NdArray, DTYPE_SIZE, isDataDType, shapeSize } from './ndarray';

const DESCR: Record<NdArray['dtype'], string> = {
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  uint16: '<u2',
  uint32: '<u4',
  uint64: '<u8',
  bool: '|b1',
};

/**
 * The `.npy` header (magic, version, padded dict) for a C-order array of `dtype` and `shape`; the data
 * that follows it starts on a 64-byte boundary (numpy's ARRAY_ALIGN). Used by streaming writers that know
 * the final shape before the data.
 */
export function npyHeader(dtype: NdArray['dtype'], shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let pre = 10;
  let total = pre + dict.length + 1;
  if (Math.ceil(total / 64) * 64 - pre > 0xffff) pre = 12;
  total = pre + dict.length + 1;
  dict = dict.padEnd(Math.ceil(total / 64) * 64 - pre - 1, ' ') + '\n';
  const hlen = dict.length;
  const out = new Uint8Array(pre + hlen);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, pre === 10 ? 1 : 2, 0]);
  const dv = new DataView(out.buffer);
  if (pre === 10) dv.setUint16(8, hlen, true);
  else dv.setUint32(8, hlen, true);
  for (let i = 0; i < hlen; i++) out[pre + i] = dict.charCodeAt(i);
  return out;
}

/**
 * Encodes `a` as `.npy` bytes. Every dtype of {@link NdArray} is accepted (float32/float64/int8…int64/
 * uint8…uint64/bool); `a.data` must hold exactly shape-product elements of a matching typed array.
 * @throws DatasetError `size-mismatch` / `bad-spec` naming `file` for an inconsistent array.
 */
export function encodeNpy(a: NdArray, file = '<array>'): Uint8Array {
  validate(a, file);
  const header = npyHeader(a.dtype, a.shape);
  const out = new Uint8Array(header.length + a.data.byteLength);
  out.set(header);
  out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), header.length);
  if (endianness() === 'BE' && a.data.BYTES_PER_ELEMENT > 1) {
    const s = a.data.BYTES_PER_ELEMENT;
    const d = out.subarray(header.length);
    for (let i = 0; i < d.length; i += s) d.subarray(i, i + s).reverse();
  }
  return out;
}

function validate(a: NdArray, file: string): void {
  if (!isDataDType(a.dtype)) throw new DatasetError('bad-spec', file, `cannot write dtype ${String(a.dtype)}`);
  if (!a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new DatasetError('bad-spec', file, `shape [${a.shape.join(', ')}] is not a list of non-negative integers`);
  }
  const n = shapeSize(a.shape);
  if (a.data.length !== n || a.data.BYTES_PER_ELEMENT !== DTYPE_SIZE[a.dtype]) {
    throw new DatasetError(
      'size-mismatch',
      file,
      `${a.dtype} array of shape [${a.shape.join(', ')}] needs ${n} elements, got a ${a.data.constructor.name} of ${a.data.length}`,
    );
  }
}

/** Options of {@link encodeNpz} / {@link writeNpz}. */
export interface NpzWriteOptions {
  /** Deflate members like `np.savez_compressed` (default true); false stores them like `np.savez`. */
  compress?: boolean;
}

/**
 * Encodes named arrays as `.npz` bytes (member `<name>.npy` per array, in the given order).
 * @throws DatasetError `bad-spec` for an empty or path-like name, `too-large` beyond 4 GiB (no zip64 writing),
 * and as {@link encodeNpy}.
 */
export function encodeNpz(arrays: Record<string, NdArray>, opts: NpzWriteOptions = {}, file = '<npz>'): Uint8Array {
  const level = opts.compress === false ? 0 : 6;
  const files: Zippable = {};
  let total = 0;
  for (const [name, a] of Object.entries(arrays)) {
    if (name === '' || /[\\/]/.test(name)) throw new DatasetError('bad-spec', file, `array name ${JSON.stringify(name)} is empty or contains a path separator`);
    const bytes = encodeNpy(a, `${file} (array '${name}')`);
    total += bytes.length;
    files[`${name}.npy`] = [bytes, { level }];
  }
  if (total >= 2 ** 32 - 1) throw new DatasetError('too-large', file, `${total} bytes of arrays: the .npz writer does not write zip64 (limit 4 GiB)`);
  // A fixed timestamp makes output reproducible (numpy writes 1980-01-01 too).
  return zipSync(files, { mtime: new Date(1980, 0, 1) });
}

/** Writes `a` to `path` as `.npy`. @throws DatasetError as {@link encodeNpy}, `io` when the write fails. */
export async function writeNpy(path: string, a: NdArray): Promise<void> {
  await writeAtomically(path, encodeNpy(a, path));
}

/** Writes named arrays to `path` as `.npz`. @throws DatasetError as {@link encodeNpz}, `io` on write failure. */
export async function writeNpz(path: string, arrays: Record<string, NdArray>, opts: NpzWriteOptions = {}): Promise<void> {
  await writeAtomically(path, encodeNpz(arrays, opts, path));
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw fsError(e, path);
  }
}
