/**
 * ONNX `ModelProto` → IR, decoded with protobufjs over the ONNX schema (src/model/formats/onnx.proto).
 *
 * Initializers stay lazy: protobufjs hands `raw_data` back as views into the file buffer, and only
 * {@link LoadedModel.readTensor} turns bytes into typed arrays. External data (`data_location = EXTERNAL`) is
 * located and size-checked at load time and read on demand; paths that escape the model's folder are refused.
 */
import { promises as fs } from 'node:fs';
import * as fsSync from 'node:fs';
import * as path from 'node:path';
import protobuf from 'protobufjs';
import { noteTopological, topologicalOrder } from '../graphOrder';
import { ModelLoadError } from '../errors';
import { checkedElements, finishGraph, LIMITS, scopeFromName, type PartialGraph } from '../graphBuild';
import {
  DTYPE_BYTES,
  type Attribute,
  type AttributeValue,
  type Dim,
  type DType,
  type GraphNode,
  type LoadedModel,
  type LoadedTensor,
  type SubgraphSummary,
  type TensorData,
  type TensorInfo,
  type ValueInfo,
} from '../ir';
import { ONNX_SCHEMA } from './onnxSchema';
import { decodeBfloat16, decodeFloat16 } from './halfFloat';

const FORMAT = 'onnx';

/**
 * A record's own entry: `values` is a plain object, so a value named `constructor` or `toString` would otherwise
 * find Object.prototype's (a valid graph writing `constructor` was refused as redefining an input).
 */
function own<T>(rec: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

let modelType: protobuf.Type | undefined;
let tensorType: protobuf.Type | undefined;
function types(): { model: protobuf.Type; tensor: protobuf.Type } {
  if (!modelType || !tensorType) {
    const root = protobuf.Root.fromJSON(ONNX_SCHEMA);
    modelType = root.lookupType('onnx.ModelProto');
    tensorType = root.lookupType('onnx.TensorProto');
  }
  return { model: modelType, tensor: tensorType };
}

let leanModelType: protobuf.Type | undefined;
let leanNodeType: protobuf.Type | undefined;
/**
 * ModelProto for loading: the same schema, but a decoded message holds only the fields the file sets. protobufjs'
 * generated constructors give every message an empty array of its own for each repeated field (a TensorProto 8,
 * an AttributeProto 7) — about a million of them at 100k operators, all kept alive, then collected, for the
 * length of a load. Here an absent repeated field reads as protobufjs' shared frozen empty array from the
 * prototype (so the IR copies no array of a decoded message that may be that one: see onnxToGraph).
 *
 * The main graph's nodes are left undecoded: its `node` field is read as bytes (a view into the file per node),
 * and onnxToGraph decodes each NodeProto with {@link leanNode} just before converting it. A decoded node then dies
 * young, where decoding all of them first kept 100k nodes with their attributes alive through the whole
 * conversion (copied by the young-generation collector, then promoted, then marked).
 */
function leanModel(): protobuf.Type {
  if (!leanModelType) {
    const schema = JSON.parse(JSON.stringify(ONNX_SCHEMA)) as {
      nested: { onnx: { nested: Record<string, { fields: Record<string, { type: string; rule?: string; id: number }> }> } };
    };
    const messages = schema.nested.onnx.nested;
    const graph = messages.GraphProto;
    messages.LazyGraphProto = { ...graph, fields: { ...graph.fields, node: { rule: 'repeated', type: 'bytes', id: 1 } } };
    messages.ModelProto.fields.graph = { type: 'LazyGraphProto', id: 7 };
    const root = protobuf.Root.fromJSON(schema as unknown as protobuf.INamespace);
    const visit = (ns: protobuf.NamespaceBase): void => {
      for (const child of ns.nestedArray) {
        if (child instanceof protobuf.Type) child.ctor = leanConstructor();
        if (child instanceof protobuf.Namespace) visit(child);
      }
    };
    visit(root);
    leanModelType = root.lookupType('onnx.ModelProto');
    leanNodeType = root.lookupType('onnx.NodeProto');
  }
  return leanModelType;
}

/** NodeProto of {@link leanModel}'s schema (no empty arrays). */
function leanNode(): protobuf.Type {
  leanModel();
  return leanNodeType!;
}

/** A message constructor that, unlike protobufjs' generated one, creates no empty arrays or maps. */
function leanConstructor(): protobuf.Constructor<object> {
  return function LeanMessage(this: Record<string, unknown>, p?: Record<string, unknown>): void {
    if (p) for (const k of Object.keys(p)) if (p[k] != null && k !== '__proto__') this[k] = p[k];
  } as unknown as protobuf.Constructor<object>;
}

/** ONNX TensorProto.DataType → IR dtype. */
export const ONNX_DTYPES: Record<number, DType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
};

// ---- decoded protobuf shapes (the subset we read; every field may be absent) ----
type LongLike = number | { low: number; high: number; unsigned: boolean; toNumber(): number; toString(): string };
interface PDim {
  dim_value?: LongLike;
  dim_param?: string;
}
interface PType {
  tensor_type?: { elem_type?: number; shape?: { dim?: PDim[] } };
  sequence_type?: { elem_type?: PType };
  map_type?: { key_type?: number; value_type?: PType };
  optional_type?: { elem_type?: PType };
  sparse_tensor_type?: { elem_type?: number; shape?: { dim?: PDim[] } };
}
interface PValueInfo {
  name?: string;
  type?: PType;
}
interface PStringEntry {
  key?: string;
  value?: string;
}
interface PTensor {
  dims?: LongLike[];
  data_type?: number;
  name?: string;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: LongLike[];
  double_data?: number[];
  uint64_data?: LongLike[];
  data_location?: number;
  external_data?: PStringEntry[];
  segment?: unknown;
}
interface PSparseTensor {
  values?: PTensor;
  indices?: PTensor;
  dims?: LongLike[];
}
interface PAttribute {
  name?: string;
  type?: number;
  f?: number;
  i?: LongLike;
  s?: Uint8Array;
  t?: PTensor;
  g?: PGraph;
  sparse_tensor?: PSparseTensor;
  tp?: PType;
  floats?: number[];
  ints?: LongLike[];
  strings?: Uint8Array[];
  tensors?: PTensor[];
  graphs?: PGraph[];
  type_protos?: PType[];
  ref_attr_name?: string;
}
interface PNode {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: PAttribute[];
}
interface PGraph {
  node?: PNode[];
  name?: string;
  initializer?: PTensor[];
  sparse_initializer?: PSparseTensor[];
  input?: PValueInfo[];
  output?: PValueInfo[];
  value_info?: PValueInfo[];
}
interface PFunction {
  name?: string;
  domain?: string;
  input?: string[];
  output?: string[];
  node?: PNode[];
}
interface PModel {
  ir_version?: LongLike;
  opset_import?: { domain?: string; version?: LongLike }[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: LongLike;
  doc_string?: string;
  graph?: PGraph;
  metadata_props?: PStringEntry[];
  functions?: PFunction[];
}

/** int64 → number when exact, else the decimal string. */
function int64(v: LongLike | undefined): number | string {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const n = v.toNumber();
  return Number.isSafeInteger(n) ? n : v.toString();
}

function asSafeNumber(v: LongLike | undefined): number {
  const x = int64(v);
  return typeof x === 'number' ? x : Number.NaN;
}

const utf8 = new TextDecoder('utf-8');

/** Decodes `bytes` as an ONNX model. @throws ModelLoadError */
export function decodeModelProto(file: string, bytes: Uint8Array): PModel {
  const { model } = types();
  try {
    return model.decode(bytes) as unknown as PModel;
  } catch (e) {
    throw protobufError(file, e, 'ModelProto');
  }
}

/**
 * {@link decodeModelProto} over a Node Buffer viewing the same bytes (no copy): protobufjs then reads strings with
 * the runtime's native UTF-8 decoder instead of its JavaScript one, about twice as fast on a graph of 100k
 * operators (every node's name, op type, inputs and outputs are strings). Its `bytes` fields are Buffers viewing
 * `bytes`; the loader only reads or copies them. Decoded with {@link leanModel}'s messages (no empty arrays).
 */
function decodeModelProtoFast(file: string, bytes: Uint8Array): PModel {
  try {
    return leanModel().decode(longReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) as unknown as PModel;
  } catch (e) {
    throw protobufError(file, e, 'ModelProto');
  }
}

/**
 * A reader over `buf` whose int64 fields (dims, attribute ints, int64_data) come back as numbers where exact, as
 * every reader of them converts them anyway (int64()): no Long object kept per dimension; beyond 2^53 they stay Longs.
 */
function longReader(buf: Buffer): protobuf.Reader {
  const reader = protobuf.Reader.create(buf);
  const readLong = reader.int64.bind(reader) as () => LongLike;
  reader.int64 = (() => {
    const v = readLong();
    if (typeof v === 'number') return v;
    const x = v.toNumber();
    return Number.isSafeInteger(x) ? x : v;
  }) as unknown as typeof reader.int64;
  return reader;
}

/**
 * Decodes the main graph's nodes one at a time, where {@link decodeModelProtoFast} left each as a view of its bytes
 * (a node already decoded, as from {@link decodeModelProto}, is returned as it is). One reader over the file's
 * buffer serves every node: its window is set to the node's bytes, so a length inside a node that runs past the
 * node's end is an error, not a read into the next one.
 */
function nodeDecoder(file: string): (n: PNode | Uint8Array) => PNode {
  const type = leanNode();
  let reader: protobuf.Reader | undefined;
  let buffer: ArrayBufferLike | undefined;
  return (n) => {
    if (!(n instanceof Uint8Array)) return n;
    if (!reader || buffer !== n.buffer) {
      buffer = n.buffer;
      reader = longReader(Buffer.from(buffer));
    }
    reader.pos = n.byteOffset;
    reader.len = n.byteOffset + n.byteLength;
    try {
      return type.decode(reader) as unknown as PNode;
    } catch (e) {
      throw protobufError(file, e, 'ModelProto');
    }
  };
}

function protobufError(file: string, e: unknown, what: string): ModelLoadError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/index out of range/i.test(msg)) {
    return new ModelLoadError(
      'truncated',
      file,
      `expected a complete ONNX ${what}, found a protobuf that ends early or declares a length past the end of the file (${msg})`,
      FORMAT,
    );
  }
  return new ModelLoadError('corrupt', file, `expected an ONNX ${what} (protobuf), found bytes that do not decode: ${msg}`, FORMAT);
}

function dtypeOf(n: number | undefined, file: string, what: string): DType | undefined {
  if (n === undefined || n === 0) return undefined;
  const d = ONNX_DTYPES[n];
  if (!d) {
    throw new ModelLoadError(
      'unknown-dtype',
      file,
      `${what}: expected an ONNX TensorProto.DataType between 1 and 23, found ${n}`,
      FORMAT,
    );
  }
  return d;
}

function dimsOf(dims: LongLike[] | undefined, file: string, what: string): number[] {
  // map, not push: the shape is kept, and an array grown by push from empty holds 17 slots.
  const out = (dims ?? []).map((d) => {
    const n = int64(d);
    if (typeof n !== 'number') {
      throw new ModelLoadError('absurd-shape', file, `${what}: dimension ${n} is beyond 2^53`, FORMAT);
    }
    return n;
  });
  checkedElements(out, file, what, FORMAT);
  return out;
}

function valueShape(t: PType | undefined, file: string, what: string, warnings: string[]): { dtype?: DType; shape?: Dim[] } {
  const tt = t?.tensor_type ?? t?.sparse_tensor_type;
  if (!tt) return {};
  const dtype = dtypeOf(tt.elem_type, file, what);
  if (!tt.shape) return { dtype };
  const shape: Dim[] = (tt.shape.dim ?? []).map((d) => {
    if (d.dim_param) return d.dim_param;
    if (d.dim_value === undefined) return null;
    const n = asSafeNumber(d.dim_value);
    if (Number.isNaN(n) || n > LIMITS.maxDim) {
      throw new ModelLoadError('absurd-shape', file, `${what}: dimension ${int64(d.dim_value)} is larger than 2^40`, FORMAT);
    }
    if (n < 0) {
      warnings.push(`${what}: negative dimension ${n} read as unknown`);
      return null;
    }
    return n;
  });
  return { dtype, shape };
}

/** What a TensorProto holds and where; validated against dtype × shape. */
interface TensorSource {
  info: TensorInfo;
  proto: PTensor;
  /** For external data: the absolute path. */
  externalPath?: string;
  /**
   * Inline `raw_data` left in the model file and read from there on demand: its byte range in the file, and
   * the file's size and mtime when it was loaded (a changed file is refused, not read at the wrong offset).
   */
  inFile?: { offset: number; length: number; size: number; mtimeMs: number };
  /**
   * Inline `raw_data` copied out of the file buffer: it lies in `pool` from `poolAt` (info.byteLength bytes). An
   * offset rather than a view of its own: tens of thousands of small weights, one typed array object each, kept.
   */
  pool?: Uint8Array;
  poolAt: number;
}

/** The inline raw bytes of a source (a view), or undefined when it has none in memory. */
function rawBytes(src: TensorSource): Uint8Array | undefined {
  if (src.pool) return src.pool.subarray(src.poolAt, src.poolAt + src.info.byteLength);
  const raw = src.proto.raw_data;
  return raw && raw.length > 0 ? raw : undefined;
}

/** Inline raw_data up to this size is copied out of the file buffer at load; larger is read from the file. */
const DETACH_COPY_BYTES = 64 * 1024;

function typedFieldLength(t: PTensor, dtype: DType): number {
  switch (dtype) {
    case 'float32':
    case 'complex64':
      return t.float_data?.length ?? 0;
    case 'float64':
    case 'complex128':
      return t.double_data?.length ?? 0;
    case 'int64':
      return t.int64_data?.length ?? 0;
    case 'uint32':
    case 'uint64':
      return t.uint64_data?.length ?? 0;
    case 'string':
      return t.string_data?.length ?? 0;
    default:
      return t.int32_data?.length ?? 0;
  }
}

function describeTensor(
  t: PTensor,
  name: string,
  file: string,
  modelDir: string,
  what: string,
): TensorSource {
  const dtype = dtypeOf(t.data_type, file, `${what} '${name}'`);
  if (!dtype) {
    throw new ModelLoadError('unknown-dtype', file, `${what} '${name}': expected a data_type, found UNDEFINED (0)`, FORMAT);
  }
  const shape = dimsOf(t.dims, file, `${what} '${name}'`);
  const elements = checkedElements(shape, file, `${what} '${name}'`, FORMAT);
  const elemBytes = DTYPE_BYTES[dtype];
  const expectedBytes = Math.ceil(elements * elemBytes);
  if (dtype === 'string' && (t.data_location === 1 || (t.raw_data && t.raw_data.length > 0))) {
    // The ONNX spec: strings live in string_data only (raw_data and external data cannot hold them).
    throw new ModelLoadError(
      'invalid-structure',
      file,
      `${what} '${name}': a string tensor must keep its values in string_data, found ${t.data_location === 1 ? 'external data' : `${t.raw_data!.length} bytes of raw_data`}`,
      FORMAT,
    );
  }
  if (t.data_location === 1) {
    const entries = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location');
    if (!location) {
      throw new ModelLoadError(
        'invalid-structure',
        file,
        `${what} '${name}' is stored externally but has no 'location' entry in external_data`,
        FORMAT,
      );
    }
    const abs = resolveInside(modelDir, location, file, `${what} '${name}'`);
    const offset = Number(entries.get('offset') ?? '0');
    const lengthText = entries.get('length');
    const length = lengthText !== undefined ? Number(lengthText) : expectedBytes;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new ModelLoadError(
        'invalid-structure',
        file,
        `${what} '${name}': external data offset/length must be non-negative integers, found offset=${entries.get('offset') ?? '(absent, 0)'} length=${lengthText ?? `(absent, ${expectedBytes})`}`,
        FORMAT,
      );
    }
    if (dtype !== 'string' && length !== expectedBytes) {
      throw new ModelLoadError(
        'tensor-size-mismatch',
        file,
        `${what} '${name}': ${dtype}[${shape.join(',')}] needs ${expectedBytes} bytes, external data declares ${length}`,
        FORMAT,
      );
    }
    return {
      info: { name, dtype, shape, elements, byteLength: length, location: { kind: 'external', file: location, offset, length } },
      proto: t,
      externalPath: abs,
      poolAt: 0,
    };
  }
  let byteLength: number;
  if (t.raw_data && t.raw_data.length > 0) {
    byteLength = t.raw_data.length;
    if (dtype !== 'string' && byteLength !== expectedBytes) {
      throw new ModelLoadError(
        'tensor-size-mismatch',
        file,
        `${what} '${name}': ${dtype}[${shape.join(',')}] needs ${expectedBytes} bytes of raw_data, found ${byteLength}`,
        FORMAT,
      );
    }
  } else {
    const count = typedFieldLength(t, dtype);
    const perElement = dtype === 'complex64' || dtype === 'complex128' ? 2 : 1;
    // Sub-byte types pack two values per int32_data entry.
    const expectedCount = elemBytes === 0.5 ? Math.ceil(elements / 2) : elements * perElement;
    if (count !== expectedCount) {
      throw new ModelLoadError(
        'tensor-size-mismatch',
        file,
        `${what} '${name}': ${dtype}[${shape.join(',')}] needs ${expectedCount} values, found ${count}`,
        FORMAT,
      );
    }
    byteLength =
      dtype === 'string'
        ? (t.string_data ?? []).reduce((s, b) => s + b.length, 0)
        : expectedBytes;
  }
  return { info: { name, dtype, shape, elements, byteLength, location: INLINE }, proto: t, pool: undefined, poolAt: 0 };
}

/** The location of every inline tensor: one frozen object, not one per tensor (66k at 100k operators). */
const INLINE: TensorInfo['location'] = Object.freeze({ kind: 'inline' });

/** Resolves `rel` against `dir`, refusing absolute paths and paths that leave `dir`. */
export function resolveInside(dir: string, rel: string, file: string, what: string): string {
  if (path.isAbsolute(rel) || /^[a-zA-Z]:[\\/]/.test(rel)) {
    throw new ModelLoadError(
      'path-escape',
      file,
      `${what}: expected a data path relative to the model's folder, found the absolute path '${rel}' (refused)`,
      FORMAT,
    );
  }
  const abs = path.resolve(dir, rel);
  const back = path.relative(dir, abs);
  if (back === '' || back.startsWith('..') || path.isAbsolute(back)) {
    throw new ModelLoadError(
      'path-escape',
      file,
      `${what}: the data path '${rel}' leaves the model's folder ${dir} (refused)`,
      FORMAT,
    );
  }
  // A data file that is a symlink (or lies under a linked folder) pointing outside escapes as surely as '../':
  // compare real paths. A path that does not exist yet is left to the missing-file check that follows.
  let realDir: string;
  let real: string;
  try {
    realDir = fsSync.realpathSync(dir);
    real = fsSync.realpathSync(abs);
  } catch {
    return abs;
  }
  const realBack = path.relative(realDir, real);
  if (realBack === '' || realBack === '..' || realBack.startsWith(`..${path.sep}`) || path.isAbsolute(realBack)) {
    throw new ModelLoadError(
      'path-escape',
      file,
      `${what}: the data path '${rel}' is a link to ${real}, outside the model's folder ${realDir} (refused)`,
      FORMAT,
    );
  }
  return abs;
}

function attributeValue(
  a: PAttribute,
  ctx: { file: string; modelDir: string; nodeId: string; constants: Map<string, TensorSource>; functions: Map<string, PFunction> },
): AttributeValue {
  const what = `attribute '${a.name ?? ''}' of node '${ctx.nodeId}'`;
  const tensor = (t: PTensor, k?: number): TensorInfo => {
    const name = `${ctx.nodeId}/${a.name ?? ''}${k === undefined ? '' : `/${k}`}`;
    const src = describeTensor(t, name, ctx.file, ctx.modelDir, what);
    ctx.constants.set(name, src);
    return src.info;
  };
  const ints = (xs: LongLike[] | undefined): (number | string)[] => (xs ?? []).map(int64);
  switch (a.type) {
    case 1:
      return { type: 'float', value: a.f ?? 0 };
    case 2:
      return { type: 'int', value: int64(a.i) };
    case 3:
      return { type: 'string', value: a.s ? utf8.decode(a.s) : '' };
    case 4:
      return a.t ? { type: 'tensor', value: tensor(a.t) } : { type: 'unknown', value: 'empty tensor attribute' };
    case 5:
      return a.g ? { type: 'graph', value: summarise(a.g, ctx.functions) } : { type: 'unknown', value: 'empty graph attribute' };
    case 6:
      return { type: 'floats', value: a.floats?.length ? a.floats : [] };
    case 7:
      return { type: 'ints', value: ints(a.ints) };
    case 8:
      return { type: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case 9:
      return { type: 'tensors', value: (a.tensors ?? []).map((t, k) => tensor(t, k)) };
    case 10:
      return { type: 'graphs', value: (a.graphs ?? []).map((g) => summarise(g, ctx.functions)) };
    case 11:
    case 12:
      return { type: 'unknown', value: 'sparse tensor' };
    case 13:
    case 14:
      return { type: 'type', value: 'type proto' };
    default:
      // Old writers leave `type` unset; infer from the populated field.
      if (a.ref_attr_name) return { type: 'string', value: `@${a.ref_attr_name}` };
      if (a.floats?.length) return { type: 'floats', value: a.floats };
      if (a.ints?.length) return { type: 'ints', value: ints(a.ints) };
      if (a.strings?.length) return { type: 'strings', value: a.strings.map((s) => utf8.decode(s)) };
      if (a.t) return { type: 'tensor', value: tensor(a.t) };
      if (a.g) return { type: 'graph', value: summarise(a.g, ctx.functions) };
      if (a.s?.length) return { type: 'string', value: utf8.decode(a.s) };
      if (a.i !== undefined) return { type: 'int', value: int64(a.i) };
      if (a.f !== undefined) return { type: 'float', value: a.f };
      return { type: 'unknown', value: `attribute type ${a.type ?? 'unset'}` };
  }
}

/** Lists a nested graph (If/Loop/Scan body) without expanding it into the IR. */
function summarise(g: PGraph, functions: Map<string, PFunction>, depth = 0): SubgraphSummary {
  const opCounts: Record<string, number> = {};
  const subgraphs: SubgraphSummary[] = [];
  for (const n of g.node ?? []) {
    const op = n.op_type ?? '?';
    opCounts[op] = (opCounts[op] ?? 0) + 1;
    if (depth < 32) {
      for (const a of n.attribute ?? []) {
        if (a.g) subgraphs.push(summarise(a.g, functions, depth + 1));
        for (const sg of a.graphs ?? []) subgraphs.push(summarise(sg, functions, depth + 1));
      }
    }
  }
  return {
    name: g.name ?? '',
    nodeCount: g.node?.length ?? 0,
    opCounts,
    inputs: (g.input ?? []).map((v) => v.name ?? ''),
    outputs: (g.output ?? []).map((v) => v.name ?? ''),
    subgraphs,
  };
}

function summariseFunction(f: PFunction, functions: Map<string, PFunction>): SubgraphSummary {
  return {
    ...summarise({ node: f.node, name: `${f.domain ?? ''}.${f.name ?? ''}` }, functions),
    inputs: f.input?.length ? f.input : [],
    outputs: f.output?.length ? f.output : [],
  };
}

/**
 * Turns a standard-domain Constant node with a tensor or scalar/list value into a tensor source named after
 * its output, or returns undefined (sparse or string-list constants stay nodes).
 */
function foldConstant(n: PNode, file: string, modelDir: string): TensorSource | undefined {
  if (n.op_type !== 'Constant' || (n.domain ?? '') !== '' || n.output?.length !== 1 || !n.output[0]) return undefined;
  const attrs = n.attribute ?? [];
  if (attrs.length !== 1) return undefined;
  const a = attrs[0];
  const name = n.output[0];
  let proto: PTensor | undefined;
  switch (a.name) {
    case 'value':
      proto = a.t;
      break;
    case 'value_float':
      proto = { dims: [], data_type: 1, float_data: [a.f ?? 0] };
      break;
    case 'value_floats':
      proto = { dims: [a.floats?.length ?? 0], data_type: 1, float_data: a.floats ?? [] };
      break;
    case 'value_int':
      proto = { dims: [], data_type: 7, int64_data: [a.i ?? 0] };
      break;
    case 'value_ints':
      proto = { dims: [a.ints?.length ?? 0], data_type: 7, int64_data: a.ints ?? [] };
      break;
    default:
      return undefined;
  }
  if (!proto) return undefined;
  return describeTensor(proto, name, file, modelDir, `Constant node '${n.name || name}'`);
}

/**
 * The scope of every node named without one, and the attribute list of every node without attributes: one frozen
 * empty array each instead of one per node (at 100k operators, 100k and 73k arrays kept for the model's life).
 */
const NO_SCOPE = Object.freeze([]) as unknown as string[];
const NO_ATTRIBUTES = Object.freeze([]) as unknown as Attribute[];

/**
 * Node fields shared between the nodes of one graph: the op type text (one string per op type, not one decoded copy
 * per node) and each scope, as a frozen array shared by every node under it.
 */
function sharedNodeFields(): { opType(t: string): string; scope(name: string): string[] } {
  const opTypes = new Map<string, string>();
  const scopes = new Map<string, string[]>();
  return {
    opType(t) {
      const known = opTypes.get(t);
      if (known !== undefined) return known;
      opTypes.set(t, t);
      return t;
    },
    scope(name) {
      const cut = name.lastIndexOf('/');
      if (cut < 0) return NO_SCOPE;
      // The scope is the non-empty parts before the last one: a function of the text before the last '/' when
      // the text after it is not empty (a name ending in '/' drops its last non-empty part instead).
      if (cut === name.length - 1) return scopeFromName(name);
      const prefix = name.slice(0, cut);
      let s = scopes.get(prefix);
      if (!s) scopes.set(prefix, (s = Object.freeze(scopeFromName(name)) as string[]));
      return s;
    },
  };
}

/** Builds the IR from a decoded model. @throws ModelLoadError */
export function onnxToGraph(
  file: string,
  fileBytes: number,
  m: PModel,
): { graph: ReturnType<typeof finishGraph>; sources: Map<string, TensorSource> } {
  const g = m.graph;
  if (!g) {
    throw new ModelLoadError(
      'invalid-structure',
      file,
      'expected an ONNX ModelProto with a graph (field 7), found none — this is not an ONNX model or it is damaged',
      FORMAT,
    );
  }
  const modelDir = path.dirname(file);
  const warnings: string[] = [];
  const values: Record<string, ValueInfo> = {};
  // Every value set in `values`, also here, for the lookups while reading the nodes: a Map probe on a freshly decoded
  // name is one hash lookup, a property read on `values` two (the name is interned first). A miss still asks `values`.
  const made = new Map<string, ValueInfo>();
  const tensors: Record<string, TensorInfo> = {};
  const sources = new Map<string, TensorSource>();
  const functions = new Map<string, PFunction>();
  for (const f of m.functions ?? []) functions.set(`${f.domain ?? ''}\u0000${f.name ?? ''}`, f);

  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (!name) throw new ModelLoadError('invalid-structure', file, 'an initializer has no name', FORMAT);
    const src = describeTensor(t, name, file, modelDir, 'initializer');
    tensors[name] = src.info;
    sources.set(name, src);
    made.set(name, (values[name] = { id: name, name, dtype: src.info.dtype, shape: src.info.shape, kind: 'initializer' }));
  }
  for (const s of g.sparse_initializer ?? []) {
    const v = s.values;
    const name = v?.name ?? '';
    if (!v || !name) throw new ModelLoadError('invalid-structure', file, 'a sparse initializer has no values or no name', FORMAT);
    const src = describeTensor(v, name, file, modelDir, 'sparse initializer');
    const shape = dimsOf(s.dims, file, `sparse initializer '${name}'`);
    tensors[name] = src.info;
    sources.set(name, src);
    made.set(name, (values[name] = { id: name, name, dtype: src.info.dtype, shape, kind: 'initializer' }));
    warnings.push(`sparse initializer '${name}': ${src.info.elements} stored values of a [${shape.join(',')}] tensor`);
  }
  const inputs: string[] = [];
  for (const vi of g.input ?? []) {
    const name = vi.name ?? '';
    if (!name) throw new ModelLoadError('invalid-structure', file, 'a graph input has no name', FORMAT);
    if (own(values, name)?.kind === 'initializer') continue; // IR < 4: initializers also listed as inputs
    const { dtype, shape } = valueShape(vi.type, file, `graph input '${name}'`, warnings);
    made.set(name, (values[name] = { id: name, name, dtype, shape, kind: 'input' }));
    inputs.push(name);
  }
  const declared = new Map<string, PValueInfo>();
  for (const vi of g.value_info ?? []) if (vi.name) declared.set(vi.name, vi);
  const outputs: string[] = [];
  for (const vi of g.output ?? []) {
    if (!vi.name) throw new ModelLoadError('invalid-structure', file, 'a graph output has no name', FORMAT);
    declared.set(vi.name, vi);
    outputs.push(vi.name);
  }
  const outputSet = new Set(outputs);

  const nodes: GraphNode[] = [];
  const usedIds = new Set<string>();
  let unnamed = 0;
  let foldedCount = 0;
  // Whether the file's order is topological: every input known before its reader, no value written twice.
  let inOrder = true;
  // Nodes of a model from decodeModelProtoFast are still bytes: each is decoded here, converted, and dropped.
  const pnodes = (g.node ?? []) as (PNode | Uint8Array)[];
  const decodeNode = nodeDecoder(file);
  const shared = sharedNodeFields();
  if (pnodes.length > LIMITS.maxNodes) {
    throw new ModelLoadError('too-large', file, `the graph has ${pnodes.length} nodes, above the ${LIMITS.maxNodes} limit`, FORMAT);
  }
  for (let k = 0; k < pnodes.length; k++) {
    const n = decodeNode(pnodes[k]);
    const opType = shared.opType(n.op_type ?? '');
    if (!opType) {
      throw new ModelLoadError('invalid-structure', file, `node #${k} ('${n.name ?? ''}'): expected an op_type, found none`, FORMAT);
    }
    const folded = foldConstant(n, file, modelDir);
    if (folded) {
      // A Constant node is a weight in all but name (paddle2onnx and tf2onnx export weights this way):
      // its output becomes an initializer so parameter counts and the graph view treat it as one.
      const out = folded.info.name;
      if (own(values, out)) {
        throw new ModelLoadError('invalid-graph', file, `Constant node '${n.name || k}' writes '${out}', which already exists`, FORMAT);
      }
      tensors[out] = folded.info;
      sources.set(out, folded);
      made.set(out, (values[out] = { id: out, name: out, dtype: folded.info.dtype, shape: folded.info.shape, kind: 'initializer' }));
      foldedCount++;
      continue;
    }
    let id = n.name ?? '';
    if (!id) {
      unnamed++;
      id = `${opType}_${k}`;
    }
    if (usedIds.has(id)) {
      let j = 2;
      while (usedIds.has(`${id}#${j}`)) j++;
      warnings.push(`node name '${id}' is used more than once; this one is '${id}#${j}'`);
      id = `${id}#${j}`;
    }
    usedIds.add(id);
    // Attribute tensors go straight into `sources` (no map per node: 100k of them at 100k operators).
    let attributes = NO_ATTRIBUTES;
    if (n.attribute?.length) {
      const actx = { file, modelDir, nodeId: id, constants: sources, functions };
      attributes = n.attribute.map((a) => ({ name: a.name ?? '', value: attributeValue(a, actx) }));
    }
    // (no array per node: most have no subgraph, and most models no functions)
    let subgraphs: SubgraphSummary[] | undefined;
    for (const a of attributes) {
      if (a.value.type === 'graph') (subgraphs ??= []).push(a.value.value);
      if (a.value.type === 'graphs') (subgraphs ??= []).push(...a.value.value);
    }
    const fn = functions.size ? functions.get(`${n.domain ?? ''}\u0000${opType}`) : undefined;
    if (fn) (subgraphs ??= []).push(summariseFunction(fn, functions));
    const node: GraphNode = {
      id,
      name: n.name ?? '',
      opType,
      domain: n.domain ?? '',
      // Copies of exactly their length: protobufjs grows a repeated field by push, 17 slots for one to three names,
      // and the decoded node's arrays then die young with it.
      inputs: n.input?.length ? n.input.slice() : [],
      outputs: n.output?.length ? n.output.slice() : [],
      attributes,
      params: 0,
      paramBytes: 0,
      scope: shared.scope(n.name ?? ''),
    };
    if (subgraphs?.length) node.subgraphs = subgraphs;
    nodes.push(node);
    // An input names a value already made: the value's own id string takes its place (equal text; later passes then
    // look up a name `values` already holds as a key, and the decoded copy of the text is dropped).
    const ins = node.inputs;
    for (let k = 0; k < ins.length; k++) {
      const i = ins[k];
      if (!i) continue;
      const v = made.get(i);
      if (v) ins[k] = v.id;
      else if (inOrder && !own(values, i)) inOrder = false;
    }
    for (const out of node.outputs) {
      if (!out) continue;
      const known = made.get(out) ?? own(values, out);
      if (known) {
        inOrder = false;
        // Validation reports the duplicate producer / the clash with an input or initializer.
        if (known.producer === undefined && known.kind !== 'intermediate') {
          throw new ModelLoadError(
            'invalid-graph',
            file,
            `node '${id}' writes '${out}', which is already a graph input or initializer`,
            FORMAT,
          );
        }
        continue;
      }
      const vi = declared.get(out);
      const { dtype, shape } = vi ? valueShape(vi.type, file, `value '${out}'`, warnings) : {};
      made.set(out, (values[out] = { id: out, name: out, dtype, shape, kind: outputSet.has(out) ? 'output' : 'intermediate', producer: id }));
    }
  }
  if (foldedCount) warnings.push(`${foldedCount} Constant node(s) were folded into initializers`);
  if (unnamed) warnings.push(`${unnamed} node(s) have no name; ids were made from the op type and position`);
  // Outputs that are graph inputs or initializers (identity models) need no producer.
  for (const o of outputs) {
    if (!own(values, o)) {
      throw new ModelLoadError('invalid-graph', file, `graph output '${o}' is produced by no node and is not an input`, FORMAT);
    }
  }
  // In file order every input was found while reading; else look for one that nothing provides.
  for (const node of inOrder ? [] : nodes) {
    for (const i of node.inputs) {
      if (i && !own(values, i)) {
        throw new ModelLoadError(
          'invalid-graph',
          file,
          `node '${node.id}' (${node.opType}) reads '${i}', which no node produces and which is not a graph input or initializer`,
          FORMAT,
        );
      }
    }
  }

  // A graph in topological file order has no cycle; the passes after loading need not check its order again.
  const { stuck } = inOrder ? { stuck: [] } : topologicalOrder({ nodes });
  if (inOrder) noteTopological(nodes);
  if (stuck.length) {
    const list = stuck.slice(0, 5).map((n) => `'${n.id}' (${n.opType})`).join(', ') + (stuck.length > 5 ? ` and ${stuck.length - 5} more` : '');
    throw new ModelLoadError(
      'invalid-graph',
      file,
      `expected an acyclic graph (ONNX graphs are DAGs), found a cycle (${stuck.length} node(s) on it or behind it: ${list})`,
      FORMAT,
    );
  }

  const partial: PartialGraph = {
    format: 'onnx',
    file,
    fileBytes,
    producer: m.producer_name ? { name: m.producer_name, version: m.producer_version || undefined } : undefined,
    formatVersion: m.ir_version !== undefined ? `IR v${int64(m.ir_version)}` : undefined,
    opsets: (m.opset_import ?? []).map((o) => ({ domain: o.domain ?? '', version: asSafeNumber(o.version) })),
    metadata: Object.fromEntries((m.metadata_props ?? []).map((e) => [e.key ?? '', e.value ?? ''])),
    inputs,
    outputs,
    nodes,
    values,
    tensors,
    warnings,
  };
  if (m.doc_string) partial.metadata.doc_string = m.doc_string;
  if (m.domain) partial.metadata.domain = m.domain;
  if (g.name) partial.metadata.graph_name = g.name;
  return { graph: finishGraph(partial), sources };
}

export interface OpenOnnxOptions {
  /**
   * `bytes` are the file's contents as on disk now (size and mtime): the loaded model then keeps no view into
   * them — small inline tensors are copied, large ones are read from the file on demand — so the caller can
   * hand the buffer on (to an onnxruntime session) and let it go. Without it the model keeps views into `bytes`.
   */
  fileBacked?: { size: number; mtimeMs: number };
}

/** Opens an ONNX model from its bytes; checks external data files exist and are long enough. @throws ModelLoadError */
export async function openOnnx(file: string, bytes: Uint8Array, opts: OpenOnnxOptions = {}): Promise<LoadedModel> {
  const m = decodeModelProtoFast(file, bytes);
  const { graph, sources } = onnxToGraph(file, bytes.length, m);
  if (opts.fileBacked) detachFromBuffer(sources, bytes, opts.fileBacked);
  const declared = new Map<string, PValueInfo>();
  for (const vi of [...(m.graph?.value_info ?? []), ...(m.graph?.output ?? [])]) if (vi.name) declared.set(vi.name, vi);
  for (const src of sources.values()) {
    if (!src.externalPath || src.info.location.kind !== 'external') continue;
    const { offset, length, file: rel } = src.info.location;
    let size: number;
    try {
      size = (await fs.stat(src.externalPath)).size;
    } catch {
      throw new ModelLoadError(
        'missing-shard',
        file,
        `tensor '${src.info.name}' is stored in the external data file '${rel}', which does not exist beside the model`,
        FORMAT,
      );
    }
    if (offset + length > size) {
      throw new ModelLoadError(
        'short-shard',
        file,
        `tensor '${src.info.name}' needs bytes ${offset}–${offset + length} of '${rel}', but that file has ${size} bytes`,
        FORMAT,
      );
    }
  }
  return {
    graph,
    valueInfo: (name: string) => declared.get(name),
    async readTensor(name: string): Promise<LoadedTensor> {
      const src = sources.get(name);
      if (!src) throw new ModelLoadError('invalid-structure', file, `no tensor named '${name}' in this model`, FORMAT);
      return { info: src.info, data: await tensorData(src, file) };
    },
    readTensorSync(name: string): LoadedTensor | undefined {
      const src = sources.get(name);
      if (!src || src.externalPath || src.inFile) return undefined;
      const raw = rawBytes(src);
      return { info: src.info, data: raw ? fromRaw(raw, src.info) : fromTypedFields(src.proto, src.info) };
    },
  };
}

async function tensorData(src: TensorSource, file: string): Promise<TensorData> {
  const { info, proto } = src;
  let raw: Uint8Array | undefined;
  if (src.externalPath && info.location.kind === 'external') {
    const { offset, length } = info.location;
    const fh = await fs.open(src.externalPath, 'r');
    try {
      raw = new Uint8Array(length);
      const { bytesRead } = await fh.read(raw, 0, length, offset);
      if (bytesRead !== length) {
        throw new ModelLoadError('short-shard', file, `tensor '${info.name}': read ${bytesRead} of ${length} external bytes`, FORMAT);
      }
    } finally {
      await fh.close();
    }
  } else if (src.inFile) {
    raw = await readInFile(src.inFile, info.name, file);
  } else {
    raw = rawBytes(src);
  }
  if (raw) return fromRaw(raw, info);
  return fromTypedFields(proto, info);
}

/**
 * Replaces the sources' views into the file buffer by copies (small tensors) or by their byte ranges in the file
 * (large). The small ones are copied into one buffer of their own (tens of thousands of weights: one allocation,
 * not one each), each keeping a view of its bytes there.
 */
/** The message of a source whose bytes are read from the pool or the file: no field of the decoded one is read again. */
const READ_ELSEWHERE: PTensor = Object.freeze({});

function detachFromBuffer(sources: Map<string, TensorSource>, bytes: Uint8Array, stat: { size: number; mtimeMs: number }): void {
  const small: TensorSource[] = [];
  let total = 0;
  for (const src of sources.values()) {
    const raw = src.proto.raw_data;
    if (!raw || raw.buffer !== bytes.buffer) continue;
    if (raw.byteLength === 0) {
      src.proto.raw_data = undefined; // no bytes (the values are in the typed fields): nothing to keep a view for
      continue;
    }
    if (raw.byteLength <= DETACH_COPY_BYTES) {
      small.push(src);
      total += raw.byteLength;
      continue;
    }
    src.inFile = { offset: raw.byteOffset - bytes.byteOffset, length: raw.byteLength, ...stat };
    src.proto = READ_ELSEWHERE;
  }
  const pool = new Uint8Array(total);
  let at = 0;
  for (const src of small) {
    const raw = src.proto.raw_data!;
    pool.set(raw, at);
    src.pool = pool;
    src.poolAt = at;
    src.proto = READ_ELSEWHERE;
    at += raw.byteLength;
  }
}

async function readInFile(at: NonNullable<TensorSource['inFile']>, name: string, file: string): Promise<Uint8Array> {
  const fh = await fs.open(file, 'r');
  try {
    const st = await fh.stat();
    if (st.size !== at.size || st.mtimeMs !== at.mtimeMs) {
      throw new ModelLoadError('changed', file, `tensor '${name}': the file changed on disk since it was loaded (${at.size} → ${st.size} bytes); reopen the model`, FORMAT);
    }
    const raw = new Uint8Array(at.length);
    let done = 0;
    while (done < at.length) {
      const { bytesRead } = await fh.read(raw, done, at.length - done, at.offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done !== at.length) throw new ModelLoadError('truncated', file, `tensor '${name}': read ${done} of its ${at.length} bytes`, FORMAT);
    return raw;
  } finally {
    await fh.close();
  }
}

/** Copies into an aligned buffer and views it with the dtype's array (ONNX raw_data is little-endian). */
export function fromRaw(raw: Uint8Array, info: TensorInfo): TensorData {
  // A real copy (Buffer.prototype.slice would alias the pool) into an aligned buffer of its own.
  const buf = new Uint8Array(raw).buffer;
  switch (info.dtype) {
    case 'float32':
    case 'complex64':
      return new Float32Array(buf);
    case 'float64':
    case 'complex128':
      return new Float64Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'uint16':
      return new Uint16Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'uint32':
      return new Uint32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint64':
      return new BigUint64Array(buf);
    case 'float16':
      return decodeFloat16(new Uint16Array(buf));
    case 'bfloat16':
      return decodeBfloat16(new Uint16Array(buf));
    case 'string':
      return [utf8.decode(raw)];
    default:
      return new Uint8Array(buf); // 8-bit and 4-bit floats/ints: raw bytes
  }
}

function fromTypedFields(t: PTensor, info: TensorInfo): TensorData {
  const big = (xs: LongLike[] | undefined, signed: boolean): bigint[] =>
    (xs ?? []).map((v) => (typeof v === 'number' ? BigInt(v) : signed ? BigInt(v.toString()) : BigInt.asUintN(64, BigInt(v.toString()))));
  const i32 = t.int32_data ?? [];
  switch (info.dtype) {
    case 'float32':
    case 'complex64':
      return Float32Array.from(t.float_data ?? []);
    case 'float64':
    case 'complex128':
      return Float64Array.from(t.double_data ?? []);
    case 'int64':
      return BigInt64Array.from(big(t.int64_data, true));
    case 'uint64':
      return BigUint64Array.from(big(t.uint64_data, false));
    case 'uint32':
      return Uint32Array.from((t.uint64_data ?? []).map((v) => (typeof v === 'number' ? v : v.toNumber())));
    case 'int8':
      return Int8Array.from(i32);
    case 'int16':
      return Int16Array.from(i32);
    case 'uint16':
      return Uint16Array.from(i32);
    case 'int32':
      return Int32Array.from(i32);
    case 'float16':
      return decodeFloat16(Uint16Array.from(i32));
    case 'bfloat16':
      return decodeBfloat16(Uint16Array.from(i32));
    case 'string':
      return (t.string_data ?? []).map((b) => utf8.decode(b));
    default:
      return Uint8Array.from(i32);
  }
}

/** Decodes a standalone TensorProto (ONNX test data `input_0.pb`). @throws ModelLoadError */
export function decodeTensorProto(file: string, bytes: Uint8Array): LoadedTensor {
  const { tensor } = types();
  let t: PTensor;
  try {
    t = tensor.decode(bytes) as unknown as PTensor;
  } catch (e) {
    throw protobufError(file, e, 'TensorProto');
  }
  const src = describeTensor(t, t.name ?? '', file, path.dirname(file), 'tensor');
  if (src.externalPath) throw new ModelLoadError('invalid-structure', file, 'standalone tensors with external data are not supported', FORMAT);
  return { info: src.info, data: src.proto.raw_data?.length ? fromRaw(src.proto.raw_data, src.info) : fromTypedFields(t, src.info) };
}

/** Encodes a (possibly edited) decoded ModelProto back to bytes. Semantically equal, not byte-identical. */
export function encodeModelProto(m: PModel): Uint8Array {
  return types().model.encode(m as unknown as protobuf.Message).finish();
}

export type { PModel as OnnxModelProto, PGraph as OnnxGraphProto, PNode as OnnxNodeProto, PValueInfo as OnnxValueInfoProto };
