/**
 * Helpers over the decoded ONNX protobuf objects: attribute reading and writing, small tensors to and from
 * numbers, element types.
 */
import { ELEM } from '../onnxBuild';
import type { OnnxModelProto, OnnxNodeProto } from '../formats/onnx';

export type NodeProto = OnnxNodeProto;
export type AttributeProto = NonNullable<OnnxNodeProto['attribute']>[number];
export type TensorProto = NonNullable<NonNullable<OnnxModelProto['graph']>['initializer']>[number];
type LongLike = AttributeProto['i'];

/** TensorProto.DataType numbers used here. */
export { ELEM };
export const FLOAT_ELEMS: ReadonlySet<number> = new Set([ELEM.FLOAT, ELEM.FLOAT16, ELEM.DOUBLE, ELEM.BFLOAT16]);

export function num(v: LongLike | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return attr(node, name) !== undefined;
}

export function attrInt(node: NodeProto, name: string, def: number): number {
  const a = attr(node, name);
  return a?.i !== undefined ? num(a.i) : def;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}

export function attrFloat(node: NodeProto, name: string, def: number): number {
  const a = attr(node, name);
  return a?.f !== undefined ? a.f : def;
}

export function attrStr(node: NodeProto, name: string, def: string): string {
  const a = attr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : def;
}

export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  return attr(node, name)?.t;
}

/** Attribute values accepted by {@link makeAttrs}: number (int unless listed in `floats`), number[], string, tensor. */
export type AttrValue = number | number[] | string | { tensor: TensorProto } | { float: number } | { floatList: number[] };

export function makeAttrs(attrs: Record<string, AttrValue | undefined>): AttributeProto[] {
  const out: AttributeProto[] = [];
  for (const [name, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (typeof v === 'number') out.push({ name, type: 2, i: v });
    else if (typeof v === 'string') out.push({ name, type: 3, s: new TextEncoder().encode(v) });
    else if (Array.isArray(v)) out.push({ name, type: 7, ints: v });
    else if ('tensor' in v) out.push({ name, type: 4, t: v.tensor });
    else if ('float' in v) out.push({ name, type: 1, f: v.float });
    else out.push({ name, type: 6, floats: v.floatList });
  }
  return out;
}

/** Copies every attribute of `node` except those named in `drop`. */
export function copyAttrs(node: NodeProto, drop: string[] = []): AttributeProto[] {
  return (node.attribute ?? []).filter((a) => !drop.includes(a.name ?? ''));
}

/** A little-endian raw_data tensor of `values` as `elem` (FLOAT, DOUBLE, INT64, INT32, BOOL). */
export function makeTensor(elem: number, dims: number[], values: ArrayLike<number>, name = ''): TensorProto {
  let raw: Uint8Array;
  if (elem === ELEM.FLOAT) raw = new Uint8Array(Float32Array.from(values).buffer);
  else if (elem === ELEM.DOUBLE) raw = new Uint8Array(Float64Array.from(values).buffer);
  else if (elem === ELEM.INT64) raw = new Uint8Array(BigInt64Array.from(Array.from(values, (x) => BigInt(Math.trunc(x)))).buffer);
  else if (elem === ELEM.INT32) raw = new Uint8Array(Int32Array.from(values).buffer);
  else if (elem === ELEM.BOOL) raw = Uint8Array.from(values);
  else throw new Error(`makeTensor: element type ${elem} is not one of FLOAT, DOUBLE, INT64, INT32, BOOL`);
  return { name, dims, data_type: elem, raw_data: raw };
}

/** The values of a small integer or float tensor, or undefined when it is external, too large or of another type. */
export function tensorValues(t: TensorProto, limit = 4096): number[] | undefined {
  const dims = (t.dims ?? []).map(num);
  const n = dims.reduce((a, b) => a * b, 1);
  if (n > limit || t.data_location === 1) return undefined;
  const e = t.data_type ?? 0;
  const raw = t.raw_data;
  if (raw && raw.length) {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      if (e === ELEM.INT64) out.push(Number(dv.getBigInt64(8 * i, true)));
      else if (e === ELEM.INT32) out.push(dv.getInt32(4 * i, true));
      else if (e === ELEM.FLOAT) out.push(dv.getFloat32(4 * i, true));
      else if (e === ELEM.DOUBLE) out.push(dv.getFloat64(8 * i, true));
      else if (e === ELEM.BOOL || e === ELEM.UINT8) out.push(dv.getUint8(i));
      else if (e === ELEM.INT8) out.push(dv.getInt8(i));
      else return undefined;
    }
    return out;
  }
  if (e === ELEM.INT64) return (t.int64_data ?? []).map(num);
  if (e === ELEM.INT32 || e === ELEM.BOOL || e === ELEM.INT8 || e === ELEM.UINT8) return t.int32_data ?? [];
  if (e === ELEM.FLOAT) return t.float_data ?? [];
  if (e === ELEM.DOUBLE) return t.double_data ?? [];
  return undefined;
}

/** The model's default-domain opset. */
export function defaultOpset(model: OnnxModelProto): number {
  const o = (model.opset_import ?? []).find((x) => !x.domain || x.domain === 'ai.onnx');
  return o ? num(o.version) : 1;
}
