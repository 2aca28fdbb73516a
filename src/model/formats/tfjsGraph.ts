/**
 * TF.js graph-model topology (a TensorFlow GraphDef in JSON) → IR nodes and values.
 *
 * - `Const` nodes whose name is in the weightsManifest are weights: they become initializer values, not nodes.
 *   A `Const` without manifest bytes stays a node (its value lives only in attrs), with a warning.
 * - `Placeholder` nodes become graph input values (dtype/shape from attrs, else from the signature).
 * - Node outputs are values `name` (output 0) and `name:k`; control inputs `^name` are dropped and counted.
 * - Outputs come from `signature.outputs` (or `userDefinedMetadata.signature.outputs`), else every node whose
 *   outputs nobody consumes.
 * - Functions in `modelTopology.library.function` are listed (not expanded) as subgraphs of the nodes that call
 *   them, by op name or through `func` attrs.
 */
import { ModelLoadError } from '../errors';
import { LIMITS, scopeFromName } from '../graphBuild';
import type { Attribute, AttributeValue, Dim, DType, GraphNode, SubgraphSummary, TensorInfo, ValueInfo } from '../ir';
import { found, isObj } from './tfjsWeights';

type Obj = Record<string, unknown>;
const FORMAT = 'tfjs-graph';
/** Highest output index accepted in an input reference (`node:k`). */
const MAX_OUTPUT_INDEX = 65535;
/** Inline Const values are small in real graph models (shapes, scalars); beyond this, a splat would allocate gigabytes. */
const MAX_INLINE_ELEMENTS = 2 ** 24;

/** TensorFlow DataType enum names → IR dtypes (resource/variant handles have none). */
const TF_DTYPES: Record<string, DType> = {
  DT_FLOAT: 'float32',
  DT_DOUBLE: 'float64',
  DT_HALF: 'float16',
  DT_BFLOAT16: 'bfloat16',
  DT_INT8: 'int8',
  DT_UINT8: 'uint8',
  DT_INT16: 'int16',
  DT_UINT16: 'uint16',
  DT_INT32: 'int32',
  DT_UINT32: 'uint32',
  DT_INT64: 'int64',
  DT_UINT64: 'uint64',
  DT_BOOL: 'bool',
  DT_STRING: 'string',
  DT_COMPLEX64: 'complex64',
  DT_COMPLEX128: 'complex128',
};

export function tfDtype(x: unknown): DType | undefined {
  if (typeof x !== 'string') return undefined;
  return TF_DTYPES[x.replace(/_REF$/, '')];
}

/** TensorShapeProto JSON → dims (-1 → null); undefined for unknown rank or malformed input. */
export function tfShape(x: unknown): Dim[] | undefined {
  if (!isObj(x) || x.unknownRank === true) return undefined;
  if (x.dim === undefined) return [];
  if (!Array.isArray(x.dim)) return undefined;
  return x.dim.map((d): Dim => {
    const size = isObj(d) ? Number(d.size ?? 0) : NaN;
    return Number.isSafeInteger(size) && size >= 0 ? size : null;
  });
}

export interface GraphParts {
  nodes: GraphNode[];
  values: Record<string, ValueInfo>;
  inputs: string[];
  outputs: string[];
  warnings: string[];
}

interface RawNode {
  index: number;
  name: string;
  op: string;
  input: string[];
  attr: Obj;
  device?: string;
}

export function buildGraphModel(file: string, topo: Obj, json: Obj, tensors: Record<string, TensorInfo>): GraphParts {
  const bad = (detail: string): ModelLoadError => new ModelLoadError('invalid-structure', file, detail, FORMAT);
  const warnings: string[] = [];
  if (!Array.isArray(topo.node)) {
    throw bad(`graph-model topology: expected modelTopology.node to be an array of nodes, found ${found(topo.node)}`);
  }
  if (topo.node.length > LIMITS.maxNodes) throw bad(`modelTopology.node has ${topo.node.length} nodes, above the limit of ${LIMITS.maxNodes}`);

  const raw: RawNode[] = [];
  const byName = new Map<string, RawNode>();
  for (let i = 0; i < topo.node.length; i++) {
    const n = topo.node[i];
    const where = `modelTopology.node[${i}]`;
    if (!isObj(n)) throw bad(`${where}: expected a node object {name, op, input, attr}, found ${found(n)}`);
    if (typeof n.name !== 'string' || n.name === '') throw bad(`${where} has no 'name' (found ${found(n.name)})`);
    if (typeof n.op !== 'string' || n.op === '') throw bad(`${where} ('${n.name}') has no 'op' (found ${found(n.op)})`);
    if (n.input !== undefined && n.input !== null && !(Array.isArray(n.input) && n.input.every((s) => typeof s === 'string'))) {
      throw bad(`${where} ('${n.name}'): expected 'input' to be an array of strings, found ${found(n.input)}`);
    }
    if (n.attr !== undefined && n.attr !== null && !isObj(n.attr)) {
      throw bad(`${where} ('${n.name}'): expected 'attr' to be an object, found ${found(n.attr)}`);
    }
    if (byName.has(n.name)) throw bad(`${where}: the node name '${n.name}' is used twice`);
    const r: RawNode = {
      index: i,
      name: n.name,
      op: n.op,
      input: (n.input as string[] | undefined) ?? [],
      attr: (n.attr as Obj | undefined) ?? {},
      device: typeof n.device === 'string' && n.device ? n.device : undefined,
    };
    raw.push(r);
    byName.set(r.name, r);
  }

  const isWeight = (r: RawNode | undefined, name: string): boolean => (r ? r.op === 'Const' && name in tensors : name in tensors);
  const values: Record<string, ValueInfo> = {};
  for (const t of Object.values(tensors)) {
    const other = byName.get(t.name);
    if (other && !isWeight(other, t.name)) {
      throw bad(`weight '${t.name}' has the same name as a node that is not a Const (op ${other.op})`);
    }
    values[t.name] = { id: t.name, name: t.name, dtype: t.dtype, shape: t.shape, kind: 'initializer' };
  }

  // Resolve data inputs to value ids; count how many outputs each producer needs.
  const maxOut = new Map<string, number>();
  const consumed = new Set<string>();
  let controlInputs = 0;
  const resolveRef = (ref: string): { node: string; k: number } | undefined => {
    const m = /^(.*):(\d+)$/.exec(ref);
    const nodeName = m && !byName.has(ref) ? m[1] : ref;
    const k = m && !byName.has(ref) ? Number(m[2]) : 0;
    if (!byName.has(nodeName) && !(nodeName in tensors)) return undefined;
    return { node: nodeName, k };
  };
  const valueOf = (node: string, k: number): string => (k === 0 ? node : `${node}:${k}`);
  const inputsOf = new Map<RawNode, string[]>();
  for (const r of raw) {
    const ins: string[] = [];
    for (const s of r.input) {
      if (s.startsWith('^')) {
        controlInputs++;
        consumed.add(s.slice(1));
        continue;
      }
      const ref = resolveRef(s);
      if (!ref) throw bad(`modelTopology.node[${r.index}] ('${r.name}') has input '${s}', but no node or weight is named that`);
      const producer = byName.get(ref.node);
      if ((isWeight(producer, ref.node) || producer?.op === 'Placeholder') && ref.k > 0) {
        throw bad(`modelTopology.node[${r.index}] ('${r.name}') reads output ${ref.k} of '${ref.node}', which has only one`);
      }
      if (!Number.isSafeInteger(ref.k) || ref.k > MAX_OUTPUT_INDEX) throw bad(`modelTopology.node[${r.index}] ('${r.name}') has the implausible input '${s}'`);
      maxOut.set(ref.node, Math.max(maxOut.get(ref.node) ?? 0, ref.k));
      consumed.add(ref.node);
      ins.push(valueOf(ref.node, ref.k));
    }
    inputsOf.set(r, ins);
  }
  if (controlInputs > 0) warnings.push(`${controlInputs} control-dependency inputs (^name) were ignored`);

  const sig = signatureOf(json);
  const sigOutputs: { key: string; ref: { node: string; k: number }; info: Obj }[] = [];
  let sigOk = false;
  if (sig && isObj(sig.outputs)) {
    sigOk = true;
    for (const [key, o] of Object.entries(sig.outputs)) {
      const tname = isObj(o) && typeof o.name === 'string' ? o.name : key;
      const ref = resolveRef(tname);
      const single = ref && (isWeight(byName.get(ref.node), ref.node) || byName.get(ref.node)?.op === 'Placeholder');
      if (!ref || ref.k > MAX_OUTPUT_INDEX || (single && ref.k > 0)) {
        warnings.push(`signature output '${key}' names '${tname}', which is not in the graph; outputs taken from unconsumed nodes instead`);
        sigOk = false;
        break;
      }
      sigOutputs.push({ key, ref, info: isObj(o) ? o : {} });
    }
    if (sigOk && sigOutputs.length === 0) sigOk = false;
    if (sigOk) for (const { ref } of sigOutputs) maxOut.set(ref.node, Math.max(maxOut.get(ref.node) ?? 0, ref.k));
  }
  let outputCount = 0;
  for (const k of maxOut.values()) outputCount += k + 1;
  if (outputCount > LIMITS.maxNodes) throw bad(`the nodes declare ${outputCount} outputs in all, above the limit of ${LIMITS.maxNodes}`);
  const sigInputs = new Map<string, Obj>();
  if (sig && isObj(sig.inputs)) {
    for (const [key, o] of Object.entries(sig.inputs)) {
      if (!isObj(o)) continue;
      const tname = typeof o.name === 'string' ? o.name : key;
      sigInputs.set(tname.replace(/:0$/, ''), o);
    }
  }

  const functions = new FunctionLibrary(topo.library);
  const nodes: GraphNode[] = [];
  const inputs: string[] = [];
  let orphanConsts = 0;
  for (const r of raw) {
    if (isWeight(r, r.name)) continue;
    const attrs = r.attr;
    if (r.op === 'Placeholder') {
      const s = sigInputs.get(r.name);
      const dtype = tfDtype(attrType(attrs.dtype)) ?? tfDtype(s?.dtype);
      const shape = isObj(attrs.shape) && 'shape' in attrs.shape ? tfShape(attrs.shape.shape) : undefined;
      values[r.name] = { id: r.name, name: r.name, dtype, shape: shape ?? tfShape(s?.tensorShape), kind: 'input' };
      inputs.push(r.name);
      continue;
    }
    if (r.op === 'Const') {
      if (!hasInlineValue(attrs)) {
        throw bad(
          `Const node '${r.name}' has no value: expected its bytes in weightsManifest or an inline tensor value, found neither${Object.keys(tensors).length === 0 ? ' (the weightsManifest holds no weights at all)' : ''}`,
        );
      }
      // An inline value may be one number splatted over its shape: tfjs allocates the whole shape.
      const v = attrs.value;
      const dims = isObj(v) && isObj(v.tensor) ? tfShape(v.tensor.tensorShape) : undefined;
      const elements = dims?.reduce<number>((p, d) => p * (typeof d === 'number' ? d : 1), 1) ?? 0;
      if (elements > MAX_INLINE_ELEMENTS) {
        throw new ModelLoadError(
          'absurd-shape',
          file,
          `Const node '${r.name}' declares an inline value of shape [${dims!.join(', ')}] (${elements} elements); expected at most ${MAX_INLINE_ELEMENTS} (large constants belong in the weightsManifest)`,
          FORMAT,
        );
      }
      orphanConsts++;
    }
    const n = maxOut.has(r.name) ? (maxOut.get(r.name) ?? 0) + 1 : r.op === 'NoOp' ? 0 : 1;
    const outputs: string[] = [];
    for (let k = 0; k < n; k++) {
      const id = valueOf(r.name, k);
      values[id] = { id, name: id, kind: 'intermediate', producer: r.name };
      outputs.push(id);
    }
    const attributes: Attribute[] = [];
    const subgraphs: SubgraphSummary[] = [];
    for (const [name, v] of Object.entries(attrs)) {
      const value = attrValue(v, functions);
      attributes.push({ name, value });
      if (value.type === 'graph') subgraphs.push(value.value);
      if (value.type === 'graphs') subgraphs.push(...value.value);
    }
    const called = functions.summary(r.op);
    if (called) subgraphs.unshift(called);
    if (r.device) attributes.push({ name: '_device', value: { type: 'string', value: r.device } });
    const node: GraphNode = {
      id: r.name,
      name: r.name,
      opType: r.op,
      domain: 'tfjs',
      inputs: inputsOf.get(r) ?? [],
      outputs,
      attributes,
      params: 0,
      paramBytes: 0,
      scope: scopeFromName(r.name),
    };
    if (subgraphs.length) node.subgraphs = subgraphs;
    nodes.push(node);
  }
  if (orphanConsts > 0) warnings.push(`${orphanConsts} Const nodes have no bytes in the weightsManifest and are kept as nodes`);

  let outputs: string[];
  if (sigOk) {
    outputs = [];
    for (const { ref, info } of sigOutputs) {
      const id = valueOf(ref.node, ref.k);
      if (!outputs.includes(id)) outputs.push(id);
      const v = values[id];
      if (v) {
        v.dtype ??= tfDtype(info.dtype);
        v.shape ??= tfShape(info.tensorShape);
      }
    }
  } else {
    outputs = nodes.filter((n) => !consumed.has(n.id) && n.outputs.length > 0).map((n) => n.outputs[0]);
  }
  for (const id of outputs) {
    const v = values[id];
    if (v && v.kind === 'intermediate') v.kind = 'output';
  }
  return { nodes, values, inputs, outputs, warnings };
}

function signatureOf(json: Obj): Obj | undefined {
  if (isObj(json.signature)) return json.signature;
  const meta = json.userDefinedMetadata;
  if (isObj(meta) && isObj(meta.signature)) return meta.signature;
  return undefined;
}

const attrType = (x: unknown): unknown => (isObj(x) ? x.type : undefined);

/** A TF int64 in JSON (a decimal string, or a number): a number when safe, else the decimal string. */
function int64(x: unknown): number | string {
  const s = typeof x === 'string' ? x : typeof x === 'number' ? String(x) : '0';
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

function float(x: unknown): number {
  return typeof x === 'number' ? x : Number(x);
}

function base64Text(x: unknown): string {
  if (typeof x !== 'string') return '';
  return Buffer.from(x, 'base64').toString('utf8');
}

function dtypeName(x: unknown): string {
  return tfDtype(x) ?? (typeof x === 'string' ? x : 'unknown');
}

function shapeInts(x: unknown): AttributeValue {
  const s = tfShape(x);
  if (!s) return { type: 'string', value: 'unknown rank' };
  return { type: 'ints', value: s.map((d) => (typeof d === 'number' ? d : -1)) };
}

/** Decodes a TensorFlow AttrValue in JSON form. */
export function attrValue(v: unknown, functions: FunctionLibrary): AttributeValue {
  if (!isObj(v)) return { type: 'unknown', value: safeJson(v) };
  if ('i' in v) return { type: 'int', value: int64(v.i) };
  if ('f' in v) return { type: 'float', value: float(v.f) };
  if ('s' in v) return { type: 'string', value: base64Text(v.s) };
  if ('b' in v) return { type: 'json', value: v.b === true };
  if ('type' in v) return { type: 'type', value: dtypeName(v.type) };
  if ('shape' in v) return shapeInts(v.shape);
  if ('tensor' in v) {
    const t = isObj(v.tensor) ? v.tensor : {};
    const summary: Obj = { dtype: dtypeName(t.dtype), shape: tfShape(t.tensorShape) ?? 'unknown rank' };
    for (const k of ['intVal', 'floatVal', 'boolVal', 'int64Val', 'doubleVal']) {
      if (Array.isArray(t[k]) && (t[k] as unknown[]).length <= 64) summary[k] = t[k];
    }
    if (Array.isArray(t.stringVal) && t.stringVal.length <= 64) summary.stringVal = t.stringVal.map(base64Text);
    return { type: 'json', value: summary };
  }
  if ('func' in v) {
    const name = isObj(v.func) && typeof v.func.name === 'string' ? v.func.name : '';
    const s = functions.summary(name);
    return s ? { type: 'graph', value: s } : { type: 'string', value: name };
  }
  if ('list' in v) {
    const l = isObj(v.list) ? v.list : {};
    const arr = (k: string): unknown[] | undefined => (Array.isArray(l[k]) && (l[k] as unknown[]).length > 0 ? (l[k] as unknown[]) : undefined);
    let a: unknown[] | undefined;
    if ((a = arr('i'))) return { type: 'ints', value: a.map(int64) };
    if ((a = arr('f'))) return { type: 'floats', value: a.map(float) };
    if ((a = arr('s'))) return { type: 'strings', value: a.map(base64Text) };
    if ((a = arr('b'))) return { type: 'json', value: a.map((x) => x === true) };
    if ((a = arr('type'))) return { type: 'strings', value: a.map(dtypeName) };
    if ((a = arr('shape'))) return { type: 'json', value: a.map((s) => tfShape(s) ?? 'unknown rank') };
    if ((a = arr('func'))) {
      const names = a.map((f) => (isObj(f) && typeof f.name === 'string' ? f.name : ''));
      const sums = names.map((n) => functions.summary(n));
      if (sums.every((s): s is SubgraphSummary => s !== undefined)) return { type: 'graphs', value: sums };
      return { type: 'strings', value: names };
    }
    if ((a = arr('tensor'))) return { type: 'json', value: `${a.length} tensors` };
    return { type: 'ints', value: [] };
  }
  if ('placeholder' in v) return { type: 'string', value: `$${String(v.placeholder)}` };
  return { type: 'unknown', value: safeJson(v) };
}

function safeJson(v: unknown): string {
  try {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 200 ? `${s.slice(0, 200)}…` : s;
  } catch {
    return String(v);
  }
}

/** `modelTopology.library.function[]`, summarised on demand (memoised, recursion-safe). */
export class FunctionLibrary {
  private readonly defs = new Map<string, Obj>();
  private readonly memo = new Map<string, SubgraphSummary>();
  private readonly active = new Set<string>();

  constructor(library: unknown) {
    const fns = isObj(library) && Array.isArray(library.function) ? library.function : [];
    for (const f of fns) {
      if (!isObj(f) || !isObj(f.signature) || typeof f.signature.name !== 'string') continue;
      this.defs.set(f.signature.name, f);
    }
  }

  get size(): number {
    return this.defs.size;
  }

  summary(name: string): SubgraphSummary | undefined {
    const def = this.defs.get(name);
    if (!def) return undefined;
    const done = this.memo.get(name);
    if (done) return done;
    const argNames = (x: unknown): string[] =>
      Array.isArray(x) ? x.map((a) => (isObj(a) && typeof a.name === 'string' ? a.name : '?')) : [];
    const sig = def.signature as Obj;
    const body = Array.isArray(def.nodeDef) ? def.nodeDef : [];
    const s: SubgraphSummary = {
      name,
      nodeCount: body.length,
      opCounts: {},
      inputs: argNames(sig.inputArg),
      outputs: argNames(sig.outputArg),
      subgraphs: [],
    };
    if (this.active.has(name) || this.active.size > 64) return s; // recursion: list it once, do not descend
    this.active.add(name);
    try {
      const nested = new Set<string>();
      for (const n of body) {
        if (!isObj(n)) continue;
        const op = typeof n.op === 'string' ? n.op : '?';
        s.opCounts[op] = (s.opCounts[op] ?? 0) + 1;
        if (this.defs.has(op)) nested.add(op);
        if (isObj(n.attr)) {
          for (const a of Object.values(n.attr)) {
            if (isObj(a) && isObj(a.func) && typeof a.func.name === 'string' && this.defs.has(a.func.name)) nested.add(a.func.name);
          }
        }
      }
      for (const f of nested) {
        const sub = this.summary(f);
        if (sub) s.subgraphs.push(sub);
      }
    } finally {
      this.active.delete(name);
    }
    this.memo.set(name, s);
    return s;
  }
}

/** Whether a Const node's `value` attribute carries its tensor inline (content or typed value lists). */
function hasInlineValue(attrs: Record<string, unknown>): boolean {
  const v = attrs.value;
  const t = isObj(v) ? v.tensor : undefined;
  if (!isObj(t)) return false;
  if (typeof t.tensorContent === 'string') return true;
  for (const k of ['floatVal', 'doubleVal', 'intVal', 'int64Val', 'boolVal', 'stringVal', 'halfVal', 'uint32Val', 'uint64Val']) {
    if (Array.isArray(t[k])) return true;
  }
  // A tensor of zero elements needs no bytes.
  const dims = isObj(t.tensorShape) && Array.isArray(t.tensorShape.dim) ? t.tensorShape.dim : undefined;
  return dims !== undefined && dims.some((d) => isObj(d) && (d.size === '0' || d.size === 0));
}
