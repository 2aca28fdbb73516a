/**
 * IR tensors ↔ tfjs tensors. tfjs knows float32, int32, bool (and string/complex64, unused here), so:
 * float64/float16/bfloat16 compute in float32; every integer type computes in int32; bool stays bool.
 * int64 values that do not fit int32 are an error, with one exception: |v| ≥ 2^62 is read as ±∞ and
 * saturated to ±(2^31−1), because exporters write INT64_MAX/INT64_MIN as "to the end" (Slice ends, Clip
 * bounds, Shape/Range sentinels), and every op that reads such values clamps them anyway.
 */
import type { DType, LoadedTensor, TensorData } from '../../ir';
import { TranslatorError } from './errors';
import { tf } from './tf';

export const INT32_MAX = 2147483647;
export const INT32_MIN = -2147483648;
const SENTINEL = 2n ** 62n;

export type TfDType = 'float32' | 'int32' | 'bool';

/** The tfjs dtype an IR dtype computes in, or undefined when tfjs cannot hold it. */
export function tfDTypeOf(d: DType): TfDType | undefined {
  switch (d) {
    case 'float32':
    case 'float64':
    case 'float16':
    case 'bfloat16':
      return 'float32';
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'uint64':
      return 'int32';
    case 'bool':
      return 'bool';
    default:
      return undefined;
  }
}

/** ONNX TensorProto.DataType number → tfjs dtype (Cast `to`, EyeLike/RandomX `dtype`). */
export function tfDTypeOfOnnx(code: number): TfDType | undefined {
  switch (code) {
    case 1: // FLOAT
    case 10: // FLOAT16
    case 11: // DOUBLE
    case 16: // BFLOAT16
      return 'float32';
    case 2: // UINT8
    case 3: // INT8
    case 4: // UINT16
    case 5: // INT16
    case 6: // INT32
    case 7: // INT64
    case 12: // UINT32
    case 13: // UINT64
      return 'int32';
    case 9:
      return 'bool';
    default:
      return undefined;
  }
}

/** One int64/uint64 value → int32, saturating ±∞ sentinels. @throws TranslatorError int64-overflow */
export function int64ToInt32(v: bigint | number | string, what: string): number {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  if (b >= -2147483648n && b <= 2147483647n) return Number(b);
  if (b >= SENTINEL) return INT32_MAX;
  if (b <= -SENTINEL) return INT32_MIN;
  throw new TranslatorError(
    'int64-overflow',
    `${what}: the int64 value ${b} does not fit int32, which tfjs uses for all integers (only |v| ≥ 2^62 is read as ±infinity)`,
  );
}

function toInt32Array(data: TensorData, what: string): Int32Array {
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array || data instanceof Uint32Array) {
    for (let i = 0; i < data.length; i++) out[i] = int64ToInt32(data[i] as bigint | number, what);
    return out;
  }
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

/** A decoded IR tensor as a tfjs tensor. @throws TranslatorError for string/complex/8-bit-float data or int64 overflow */
export function tensorFromData(dtype: DType, shape: readonly number[], data: TensorData, what: string): tf.Tensor {
  const t = tfDTypeOf(dtype);
  if (!t || Array.isArray(data)) {
    throw new TranslatorError('unsupported-feature', `${what}: tensors of dtype ${dtype} cannot be held by tfjs`);
  }
  const s = [...shape];
  switch (t) {
    case 'float32':
      return tf.tensor(data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>), s, 'float32');
    case 'int32':
      return tf.tensor(toInt32Array(data, what), s, 'int32');
    case 'bool':
      return tf.tensor(data instanceof Uint8Array ? data : Uint8Array.from(data as ArrayLike<number>), s, 'bool');
  }
}

export function tensorFromLoaded(t: LoadedTensor): tf.Tensor {
  return tensorFromData(t.info.dtype, t.info.shape, t.data, `tensor '${t.info.name}'`);
}

/** Synchronously reads an int tensor's values as plain numbers (shape inputs, axes, indices given as data). */
export function intValues(t: tf.Tensor): number[] {
  return Array.from(t.dataSync() as ArrayLike<number>, (v) => Math.trunc(Number(v)));
}

export function floatValues(t: tf.Tensor): number[] {
  return Array.from(t.dataSync() as ArrayLike<number>, Number);
}
