/**
 * The graph IR (plain data, shared with the webview: src/shared/ir.ts) plus the loader-side handle that
 * reads weight bytes lazily.
 */
import type { ModelGraph, TensorInfo } from '../shared/ir';

export * from '../shared/ir';

/** The decoded contents of a weight tensor. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

export interface LoadedTensor {
  info: TensorInfo;
  /**
   * Values in the tensor's natural typed array. float16/bfloat16 and TF.js-quantized weights are decoded to
   * Float32Array; bool to Uint8Array; 4-bit and 8-bit float types are returned as raw bytes (Uint8Array).
   */
  data: TensorData;
}

/** A model as held by the loader (worker side): the IR plus lazy access to weight bytes. */
export interface LoadedModel {
  graph: ModelGraph;
  /** Reads one weight tensor. @throws ModelLoadError when its bytes are missing or inconsistent. */
  readTensor(name: string): Promise<LoadedTensor>;
}

