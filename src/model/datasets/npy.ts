/**
 * NumPy `.npy` reading (format versions 1.0, 2.0 and 3.0, per numpy/lib/format.py): header parsing, decoding
 * of whole arrays from bytes, and lazy reads of a row range straight from a file at some byte offset (a
 * `.npy` on disk, or a stored member of an `.npz`) without reading the rest.
 *
 * Byte order is normalised to the host's; Fortran-order arrays are reordered to C order.
 */

import { endianness } from 'node:os';
import { open, stat } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import { DatasetError, errorText, fsError } from './errors';
import { type DataArray, type DataDType, type NdArray, DTYPE_SIZE, allocArray, fortranToC, shapeSize } from './ndarray';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const HOST_LITTLE = endianness() === 'LE';

/** A parsed `.npy` header. */
export interface NpyHeader {
  /** Format version, e.g. `1.0`. */
  version: string;
  /** The `descr` string as written, e.g. `<f4`. */
  descr: string;
  dtype: DataDType;
  /** Byte order of the stored data (true for `<`, and for `|` single-byte types). */
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Bytes from the start of the .npy to the first data byte. */
  dataOffset: number;
  /** Bytes of data that dtype × shape needs. */
  dataBytes: number;
}

/** Minimum bytes needed to know the header length (magic, version, length field). */
export const NPY_PREAMBLE_BYTES = 12;

/**
 * Total header length (= data offset) from the first bytes of a `.npy`.
 * @throws DatasetError `empty-file`, `truncated`, `bad-magic` or `bad-header` (unknown version).
 */
export function npyHeaderLength(prefix: Uint8Array, file: string, what = ''): number {
  if (prefix.length === 0) throw new DatasetError('empty-file', file, `${what}zero bytes, expected a .npy array`);
  const n = Math.min(prefix.length, MAGIC.length);
  for (let i = 0; i < n; i++) {
    if (prefix[i] !== MAGIC[i]) {
      throw new DatasetError('bad-magic', file, `${what}not a .npy array: expected the magic \\x93NUMPY, found ${describeStart(prefix)}`);
    }
  }
  if (prefix.length < 10) throw new DatasetError('truncated', file, `${what}.npy preamble cut short after ${prefix.length} bytes`);
  const major = prefix[6];
  const minor = prefix[7];
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  if (major === 1 && minor === 0) return 10 + dv.getUint16(8, true);
  if ((major === 2 || major === 3) && minor === 0) {
    if (prefix.length < 12) throw new DatasetError('truncated', file, `${what}.npy preamble cut short after ${prefix.length} bytes`);
    return 12 + dv.getUint32(8, true);
  }
  throw new DatasetError('bad-header', file, `${what}unknown .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
}

function describeStart(b: Uint8Array): string {
  const head = Array.from(b.subarray(0, 8), (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`));
  if (b[0] === 0x50 && b[1] === 0x4b) return `"${head.join('')}" (a zip archive: use the .npz reader)`;
  return `"${head.join('')}"`;
}

/**
 * Parses the header of a `.npy` from bytes holding at least the whole header.
 * @throws DatasetError `truncated`, `bad-magic`, `bad-header`, `unsupported-dtype`, `too-large`.
 */
export function parseNpyHeader(bytes: Uint8Array, file: string, what = ''): NpyHeader {
  const dataOffset = npyHeaderLength(bytes, file, what);
  if (bytes.length < dataOffset) {
    throw new DatasetError('truncated', file, `${what}.npy header declares ${dataOffset} bytes, only ${bytes.length} present`);
  }
  const major = bytes[6];
  const start = major === 1 ? 10 : 12;
  const raw = bytes.subarray(start, dataOffset);
  const text = major === 3 ? new TextDecoder('utf-8').decode(raw) : latin1(raw);
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (e) {
    throw new DatasetError('bad-header', file, `${what}.npy header is not a Python literal (${errorText(e)}): ${clip(text)}`);
  }
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
    throw new DatasetError('bad-header', file, `${what}.npy header is not a dict: ${clip(text)}`);
  }
  const keys = Object.keys(dict).sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    throw new DatasetError('bad-header', file, `${what}.npy header must have exactly the keys descr, fortran_order, shape; found ${keys.join(', ') || 'none'}`);
  }
  const { descr, fortran_order: fortran, shape } = dict as Record<string, PyValue>;
  if (typeof fortran !== 'boolean') throw new DatasetError('bad-header', file, `${what}.npy header 'fortran_order' must be True or False`);
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new DatasetError('bad-header', file, `${what}.npy header 'shape' must be a tuple of non-negative integers, found ${clip(JSON.stringify(shape))}`);
  }
  const dims = shape as number[];
  const { dtype, littleEndian } = parseDescr(descr, file, what);
  const count = shapeSize(dims);
  const dataBytes = count * DTYPE_SIZE[dtype];
  if (!Number.isSafeInteger(dataBytes)) {
    throw new DatasetError('too-large', file, `${what}shape (${dims.join(', ')}) is too large to address`);
  }
  return {
    version: `${major}.0`,
    descr: typeof descr === 'string' ? descr : '',
    dtype,
    littleEndian,
    fortranOrder: fortran,
    shape: dims,
    dataOffset,
    dataBytes,
  };
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function clip(s: string): string {
  const t = s.trim();
  return t.length > 120 ? `${t.slice(0, 117)}...` : t;
}

const KIND_NAMES: Record<string, string> = {
  U: 'unicode string',
  S: 'byte string',
  a: 'byte string',
  O: 'Python object (pickled)',
  M: 'datetime64',
  m: 'timedelta64',
  V: 'raw void',
  c: 'complex',
};

/** Maps a numpy `descr` (e.g. `<f4`, `|b1`, `>u8`) to our dtype and byte order. */
function parseDescr(descr: PyValue, file: string, what: string): { dtype: DataDType; littleEndian: boolean } {
  if (typeof descr !== 'string') {
    throw new DatasetError(
      'unsupported-dtype',
      file,
      `${what}structured dtype ${clip(JSON.stringify(descr))} is not supported; save each field as its own array`,
    );
  }
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)(.*)$/.exec(descr);
  if (!m) throw new DatasetError('bad-header', file, `${what}.npy header 'descr' ${JSON.stringify(descr)} is not a numpy type string`);
  const [, order, kind, sizeText, rest] = m;
  const size = sizeText === '' ? 0 : Number(sizeText);
  const littleEndian = order === '<' || order === '|' || ((order === '=' || order === '') && HOST_LITTLE);
  let dtype: DataDType | undefined;
  if (rest === '') {
    if (kind === 'f' && size === 4) dtype = 'float32';
    else if (kind === 'f' && size === 8) dtype = 'float64';
    else if (kind === 'i' && size === 1) dtype = 'int8';
    else if (kind === 'i' && size === 2) dtype = 'int16';
    else if (kind === 'i' && size === 4) dtype = 'int32';
    else if (kind === 'i' && size === 8) dtype = 'int64';
    else if (kind === 'u' && size === 1) dtype = 'uint8';
    else if (kind === 'u' && size === 2) dtype = 'uint16';
    else if (kind === 'u' && size === 4) dtype = 'uint32';
    else if (kind === 'u' && size === 8) dtype = 'uint64';
    else if ((kind === 'b' && size === 1) || kind === '?') dtype = 'bool';
  }
  if (dtype) return { dtype, littleEndian };
  let name: string;
  if (kind === 'f' && size === 2) name = 'float16';
  else if (kind === 'f') name = `float${size * 8} (long double)`;
  else if (KIND_NAMES[kind]) name = KIND_NAMES[kind];
  else name = `'${kind}${sizeText}'`;
  throw new DatasetError(
    'unsupported-dtype',
    file,
    `${what}dtype ${name} ('${descr}') is not supported; save the array as float32, float64, (u)int8/16/32/64 or bool` +
      (name === 'float16' ? ' (e.g. x.astype(np.float32))' : ''),
  );
}

/**
 * Decodes a whole `.npy` held in memory.
 * @throws DatasetError as {@link parseNpyHeader}, and `size-mismatch` when the data bytes ≠ dtype × shape.
 */
export function decodeNpy(bytes: Uint8Array, file: string, what = ''): NdArray {
  const header = parseNpyHeader(bytes, file, what);
  const have = bytes.length - header.dataOffset;
  if (have !== header.dataBytes) throw sizeMismatch(header, have, file, what);
  const data = allocArray(header.dtype, shapeSize(header.shape));
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes.subarray(header.dataOffset));
  return { dtype: header.dtype, shape: header.shape.slice(), data: finishDecode(header, data, header.shape) };
}

/** The size-mismatch error for `have` data bytes against what the header needs. */
export function sizeMismatch(h: NpyHeader, have: number, file: string, what = ''): DatasetError {
  return new DatasetError(
    'size-mismatch',
    file,
    `${what}shape (${h.shape.join(', ')}) of '${h.descr}' needs ${h.dataBytes} data bytes, found ${have}` +
      (have < h.dataBytes ? ' (file cut short?)' : ' (trailing bytes)'),
  );
}

/** Byte-swaps to host order and reorders Fortran to C, in place where possible. */
function finishDecode(h: NpyHeader, data: DataArray, shape: readonly number[]): DataArray {
  if (h.littleEndian !== HOST_LITTLE) swapBytes(data);
  return h.fortranOrder ? fortranToC(data, shape) : data;
}

function swapBytes(a: DataArray): void {
  const size = a.BYTES_PER_ELEMENT;
  if (size === 1) return;
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (let i = 0; i < b.length; i += size) {
    for (let l = i, r = i + size - 1; l < r; l++, r--) {
      const t = b[l];
      b[l] = b[r];
      b[r] = t;
    }
  }
}

/** Where an .npy lies: a file path, the byte offset of the .npy inside it, and its length. */
export interface NpyLocation {
  path: string;
  offset: number;
  length: number;
}

/**
 * Reads and parses the header of the .npy at `loc` (reading only the header bytes).
 * @throws DatasetError as {@link parseNpyHeader}; `size-mismatch` when `loc.length` ≠ header + data.
 */
export async function readNpyHeaderAt(loc: NpyLocation, file = loc.path, what = ''): Promise<NpyHeader> {
  const fh = await open(loc.path, 'r').catch((e: unknown) => {
    throw fsError(e, file);
  });
  try {
    const first = await readExact(fh, loc.offset, Math.min(loc.length, 256), file);
    let hlen = npyHeaderLength(first, file, what);
    let bytes = first;
    if (hlen > first.length) {
      if (hlen > loc.length) hlen = loc.length; // let parseNpyHeader report the truncation
      bytes = await readExact(fh, loc.offset, hlen, file);
    }
    const header = parseNpyHeader(bytes, file, what);
    const have = loc.length - header.dataOffset;
    if (have !== header.dataBytes) throw sizeMismatch(header, have, file, what);
    return header;
  } finally {
    await fh.close();
  }
}

/**
 * Reads rows [start, end) (along axis 0) of the .npy at `loc` whose header is `h`, reading only those bytes
 * for C-order arrays. Fortran-order arrays are read whole and sliced (their rows are not contiguous).
 * @throws DatasetError `out-of-range` for a bad range, `io` on read failure, `too-large`.
 */
export async function readNpyRowsAt(
  loc: NpyLocation,
  h: NpyHeader,
  start: number,
  end: number,
  file = loc.path,
  what = '',
): Promise<NdArray> {
  const rows = h.shape.length === 0 ? 1 : h.shape[0];
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= rows)) {
    throw new DatasetError('out-of-range', file, `${what}row range [${start}, ${end}) is outside [0, ${rows})`);
  }
  const rowShape = h.shape.slice(1);
  const rowElems = shapeSize(rowShape);
  const itemSize = DTYPE_SIZE[h.dtype];
  const fh = await open(loc.path, 'r').catch((e: unknown) => {
    throw fsError(e, file);
  });
  try {
    if (h.fortranOrder && h.shape.length >= 2) {
      const all = allocArray(h.dtype, shapeSize(h.shape));
      checkAllocatable(all.byteLength, file, what);
      await readInto(fh, loc.offset + h.dataOffset, all, file);
      const c = finishDecode(h, all, h.shape);
      const data = start === 0 && end === rows ? c : c.slice(start * rowElems, end * rowElems);
      return { dtype: h.dtype, shape: [end - start, ...rowShape], data };
    }
    const n = (end - start) * rowElems;
    checkAllocatable(n * itemSize, file, what);
    const data = allocArray(h.dtype, n);
    await readInto(fh, loc.offset + h.dataOffset + start * rowElems * itemSize, data, file);
    const shape = h.shape.length === 0 ? [] : [end - start, ...rowShape];
    return { dtype: h.dtype, shape, data: finishDecode(h, data, shape) };
  } finally {
    await fh.close();
  }
}

function checkAllocatable(bytes: number, file: string, what: string): void {
  if (bytes > bufferConstants.MAX_LENGTH) {
    throw new DatasetError('too-large', file, `${what}${bytes} bytes exceed what one buffer can hold (${bufferConstants.MAX_LENGTH}); read fewer rows at a time`);
  }
}

type Handle = Awaited<ReturnType<typeof open>>;

async function readExact(fh: Handle, position: number, length: number, file: string): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  const got = await readFully(fh, buf, position, file);
  return got === length ? buf : buf.subarray(0, got);
}

async function readInto(fh: Handle, position: number, a: DataArray, file: string): Promise<void> {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const got = await readFully(fh, view, position, file);
  if (got !== view.length) {
    throw new DatasetError('size-mismatch', file, `expected ${view.length} bytes at offset ${position}, the file ends after ${got}`);
  }
}

/** Reads into `buf` from `position` until full or end of file; returns bytes read. */
export async function readFully(fh: Handle, buf: Uint8Array, position: number, file: string): Promise<number> {
  let done = 0;
  // fs reads are capped (2 GiB per call); loop.
  while (done < buf.length) {
    const chunk = Math.min(buf.length - done, 1 << 30);
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, done, chunk, position + done));
    } catch (e) {
      throw fsError(e, file);
    }
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** A lazily read `.npy` file: its header now, rows on demand. */
export interface NpyFile {
  path: string;
  header: NpyHeader;
  /** Rows [start, end) along axis 0, read from disk without reading the rest of the file. */
  readRows(start: number, end: number): Promise<NdArray>;
  /** The whole array. */
  read(): Promise<NdArray>;
}

/**
 * Opens a `.npy` file lazily: reads and validates the header (and the file size against it) only.
 * @throws DatasetError `not-found`, `directory`, `empty-file`, and as {@link parseNpyHeader}.
 */
export async function openNpy(path: string): Promise<NpyFile> {
  const st = await stat(path).catch((e: unknown) => {
    throw fsError(e, path);
  });
  if (st.isDirectory()) throw new DatasetError('directory', path, 'expected a .npy file, found a directory');
  if (st.size === 0) throw new DatasetError('empty-file', path, 'zero bytes, expected a .npy array');
  const loc: NpyLocation = { path, offset: 0, length: st.size };
  const header = await readNpyHeaderAt(loc);
  const rows = header.shape.length === 0 ? 1 : header.shape[0];
  return {
    path,
    header,
    readRows: (start, end) => readNpyRowsAt(loc, header, start, end),
    read: () => readNpyRowsAt(loc, header, 0, rows),
  };
}

/** Reads a whole `.npy` file. @throws DatasetError as {@link openNpy}. */
export async function readNpy(path: string): Promise<NdArray> {
  return (await openNpy(path)).read();
}

// ---- Python literal parser for the header dict ----

type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

/** Parses the subset of Python literals .npy headers use: dicts, tuples, lists, str, int, True/False/None. */
function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (msg: string): never => {
    throw new Error(`${msg} at character ${i}`);
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: { [k: string]: PyValue } = {};
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return out;
        }
        const k = value();
        if (typeof k !== 'string') fail('dict key is not a string');
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        out[k as string] = value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const out: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          return out;
        }
        out.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      i++;
      let s = '';
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') i++;
        s += text[i++];
      }
      if (i >= text.length) fail('unterminated string');
      i++;
      return s;
    }
    const m = /^(-?\d+)L?|^(True|False|None)\b/.exec(text.slice(i));
    if (!m) return fail('unexpected token');
    i += m[0].length;
    if (m[2] === 'True') return true;
    if (m[2] === 'False') return false;
    if (m[2] === 'None') return null;
    return Number(m[1]);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}
