/**
 * The graph IR (plain data, shared with the webview: src/shared/ir.ts) plus the loader-side handle that
 * reads weight bytes lazily.
 */
import type { ModelGraph, TensorInfo } from '../shared/ir';
import type { OnnxValueInfoProto } from './formats/onnx';

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
  /**
   * Reads one weight tensor whose bytes are held in memory (ONNX: inline data small enough to be kept at load),
   * as {@link readTensor} would; undefined when reading it needs a file (then use readTensor). Lets a pass over
   * tens of thousands of small constants (shape inference) skip a promise per tensor.
   */
  readTensorSync?(name: string): LoadedTensor | undefined;
  /**
   * The file's bytes as read at load (ONNX loaded from a path), handed over once so a session can be created
   * from them instead of reading the file again; the model itself keeps no reference to them (its tensors are
   * read from the file on demand), so they are freed once the taker drops them. The view may have spare
   * capacity after its end (see `readFileWithSpare`). Undefined once taken, and for other formats.
   */
  takeBytes?(): Uint8Array | undefined;
  /** ONNX: the declared ValueInfoProto (type and shape) of a value, from value_info or the graph outputs. */
  valueInfo?(name: string): OnnxValueInfoProto | undefined;
}

