/**
 * The plain n-d array the dataset layer passes around: a dtype name (the IR's names), a C-order shape and a
 * typed array. `bool` is held as a Uint8Array of 0/1.
 */

import { DatasetError } from './errors';

/** Element types a data file may hold (a subset of the IR's {@link import('../ir').DType}). */
export const DATA_DTYPES = [
  'float32',
  'float64',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
] as const;
export type DataDType = (typeof DATA_DTYPES)[number];

export type DataArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** An n-d array in C (row-major) order. */
export interface NdArray {
  dtype: DataDType;
  shape: number[];
  data: DataArray;
}

/** Bytes per element. */
export const DTYPE_SIZE: Record<DataDType, number> = {
  float32: 4,
  float64: 8,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1,
};

/** True for a dtype name in {@link DATA_DTYPES}. */
export function isDataDType(s: unknown): s is DataDType {
  return typeof s === 'string' && (DATA_DTYPES as readonly string[]).includes(s);
}

/** True for float32/float64. */
export function isFloatDType(d: DataDType): boolean {
  return d === 'float32' || d === 'float64';
}

/** True for the 64-bit integer dtypes, whose elements are bigints. */
export function isBigDType(d: DataDType): boolean {
  return d === 'int64' || d === 'uint64';
}

/** A zero-filled typed array of `n` elements of `dtype`. */
export function allocArray(dtype: DataDType, n: number): DataArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'uint64':
      return new BigUint64Array(n);
  }
}

/** Product of the dimensions (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** `[batch, 1, 28, 28]`: numbers as is, symbolic names bare, unknown (null) as `?`. */
export function formatShape(shape: readonly (number | string | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** Indexed access over any DataArray, for the few generic loops that copy elements without arithmetic. */
type Slots = { [i: number]: number | bigint; length: number };

/**
 * Reorders a Fortran-order (column-major) array of `shape` into C order. Returns `src` itself when the
 * orders coincide (rank < 2).
 */
export function fortranToC<T extends DataArray>(src: T, shape: readonly number[]): T {
  const r = shape.length;
  if (r < 2 || src.length === 0) return src;
  const out = allocLike(src, src.length) as T;
  const s = src as unknown as Slots;
  const o = out as unknown as Slots;
  const fStride = new Array<number>(r);
  let acc = 1;
  for (let k = 0; k < r; k++) {
    fStride[k] = acc;
    acc *= shape[k];
  }
  const idx = new Array<number>(r).fill(0);
  let off = 0;
  for (let i = 0; i < src.length; i++) {
    o[i] = s[off];
    // Odometer over C order: bump the last axis, carrying into earlier axes.
    for (let k = r - 1; k >= 0; k--) {
      idx[k]++;
      off += fStride[k];
      if (idx[k] < shape[k]) break;
      off -= fStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

function allocLike(a: DataArray, n: number): DataArray {
  const C = a.constructor as new (n: number) => DataArray;
  return new C(n);
}

/**
 * Converts `src` (of `from`) to `to`. Float → int requires integral values in range; int64 → smaller ints
 * requires the value to fit; any → float is plain conversion (int64 beyond 2^53 rounds). `file`/`what` name
 * the data in the error.
 * @throws DatasetError `dtype-mismatch` naming the first value that does not convert.
 */
export function castArray(src: DataArray, from: DataDType, to: DataDType, file: string, what: string): DataArray {
  if (from === to || (sameStorage(from, to) && !(to === 'bool'))) return src;
  const n = src.length;
  const out = allocArray(to, n);
  const s = src as unknown as Slots;
  if (isFloatDType(to)) {
    const o = out as Float32Array | Float64Array;
    if (src instanceof BigInt64Array || src instanceof BigUint64Array) for (let i = 0; i < n; i++) o[i] = Number(src[i]);
    else o.set(src); // native element-wise conversion
    return out;
  }
  const [lo, hi] = intRange(to);
  const big = isBigDType(to);
  const o = out as unknown as Slots;
  for (let i = 0; i < n; i++) {
    const v = s[i];
    let b: bigint;
    if (typeof v === 'bigint') b = v;
    else if (Number.isInteger(v)) b = BigInt(v);
    else
      throw new DatasetError(
        'dtype-mismatch',
        file,
        `${what}: element ${i} is ${v}, which is not an integer and cannot become ${to}`,
      );
    if (b < lo || b > hi)
      throw new DatasetError('dtype-mismatch', file, `${what}: element ${i} is ${b}, outside the range of ${to}`);
    o[i] = big ? b : Number(b);
  }
  return out;
}

/** uint8 and bool share storage; converting between them only needs a range check going to bool. */
function sameStorage(a: DataDType, b: DataDType): boolean {
  return (a === 'uint8' || a === 'bool') && (b === 'uint8' || b === 'bool');
}

function intRange(d: DataDType): [bigint, bigint] {
  switch (d) {
    case 'int8':
      return [-128n, 127n];
    case 'int16':
      return [-32768n, 32767n];
    case 'int32':
      return [-2147483648n, 2147483647n];
    case 'int64':
      return [-(2n ** 63n), 2n ** 63n - 1n];
    case 'uint8':
      return [0n, 255n];
    case 'uint16':
      return [0n, 65535n];
    case 'uint32':
      return [0n, 4294967295n];
    case 'uint64':
      return [0n, 2n ** 64n - 1n];
    case 'bool':
      return [0n, 1n];
    default:
      return [0n, 0n];
  }
}
