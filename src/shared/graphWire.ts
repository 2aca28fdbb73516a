/**
 * The operator graph as it travels from the engine process to the graph view (gzipped JSON bytes, graphChunk
 * messages), version 2: columns instead of one object per node, value and tensor. Node ids and value and tensor
 * keys are columns of strings; every other string (names that differ, op types, domains, dtypes, kinds, scopes)
 * is written once in a string table and referred to by its index; every distinct shape once in a shape table; a
 * node's inputs and outputs are one flat array of value rows with counts, and a value's producer is left out
 * when it is the node listing the value among its outputs. At 100k operators that is 34.3 → 14.6 M characters of
 * JSON (version 1, graphWireV1.ts; 2.44 → 1.72 MB gzipped): fewer bytes to build, gzip, forward, gunzip and
 * parse, and no intermediate objects in the page besides the IR's own.
 *
 * Columns hold what the IR usually is. A node, value or tensor that is not (a field missing or of another type
 * than ir.ts declares, a value whose `id` is not its key) travels whole in `odd`; keys the IR does not declare
 * travel in `extra` beside the columns. Absent optional fields are -1 in their column.
 *
 * `decodeGraphWire(JSON.parse(encodeGraphWire(g)))` deep-equals `JSON.parse(JSON.stringify(g))`; version 1
 * still decodes, and a plain IR (no wire envelope) decodes to itself, so older senders still work.
 */
import { decodeGraphWireV1, type GraphWireV1 } from './graphWireV1';
import type { Attribute, GraphNode, ModelGraph, TensorInfo, TensorLocation, ValueInfo } from './ir';

export { encodeGraphWireV1 } from './graphWireV1';

type Obj = Record<string, unknown>;
/** Sparse entries: [row, value]. */
type Sparse<T> = [number, T][];

interface NodeColumns {
  id: string[];
  /** -1: the name is the id. */
  name: number[];
  opType: number[];
  domain: number[];
  /** How many of `ins` / `outs` each node takes, in order; each a value's row (≥ 0) or -1 - a string's index. */
  inCount: number[];
  ins: number[];
  outCount: number[];
  outs: number[];
  params: number[];
  paramBytes: number[];
  attributes: Sparse<Attribute[]>;
  /** Each a list of string indices. */
  scope: Sparse<number[]>;
  extra: Sparse<Obj>;
  odd: Sparse<Obj>;
}

interface ValueColumns {
  key: string[];
  /** -1: the name is the key. */
  name: number[];
  kind: number[];
  dtype: number[];
  /** Index into the shape table. */
  shape: number[];
  /** -1 absent, 0 false, 1 true. */
  shapeInferred: number[];
  /** -1 absent, -2 the last node listing the value among its outputs, else a string's index. */
  producer: number[];
  extra: Sparse<Obj>;
  odd: Sparse<Obj>;
}

interface TensorColumns {
  key: string[];
  name: number[];
  dtype: number[];
  shape: number[];
  /** -1: the product of the shape. */
  elements: number[];
  byteLength: number[];
  /** Where not `{ kind: 'inline' }`. */
  location: Sparse<TensorLocation>;
  quantization: Sparse<NonNullable<TensorInfo['quantization']>>;
  extra: Sparse<Obj>;
  odd: Sparse<Obj>;
}

/** The version-2 envelope (see the file comment). */
export interface GraphWireV2 {
  graphWire: 2;
  strings: string[];
  shapes: unknown[][];
  /** The graph's fields other than nodes, values and tensors, as they are. */
  graph: Obj;
  nodes: NodeColumns;
  values: ValueColumns;
  tensors: TensorColumns;
}

export type GraphWire = GraphWireV1 | GraphWireV2;

// The keys each column set holds, as switches: called for every key of every node, value and tensor, a switch
// on these literals is faster than a Set lookup.
function nodeKey(k: string): boolean {
  switch (k) {
    case 'id': case 'name': case 'opType': case 'domain': case 'inputs': case 'outputs': case 'attributes': case 'params': case 'paramBytes': case 'scope':
      return true;
    default:
      return false;
  }
}

function valueKey(k: string): boolean {
  switch (k) {
    case 'id': case 'name': case 'dtype': case 'shape': case 'shapeInferred': case 'kind': case 'producer':
      return true;
    default:
      return false;
  }
}

function tensorKey(k: string): boolean {
  switch (k) {
    case 'name': case 'dtype': case 'shape': case 'elements': case 'byteLength': case 'location': case 'quantization':
      return true;
    default:
      return false;
  }
}

const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number';

/** The keys of `o` that `known` lacks, or undefined when there are none. */
function extraOf(o: Obj, known: (k: string) => boolean): Obj | undefined {
  let extra: Obj | undefined;
  for (const k in o) {
    if (known(k) || o[k] === undefined) continue;
    (extra ??= {})[k] = o[k];
  }
  return extra;
}

/** Equal dimension by dimension (`===`: 2 and '2' differ, as JSON keeps them). */
function sameDims(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

class Tables {
  readonly strings: string[] = [];
  readonly shapes: unknown[][] = [];
  private readonly stringIndex = new Map<string, number>();
  /** Shape indices by a hash of their dimensions (a shape equal to none of them is new). */
  private readonly shapeIndex = new Map<number, number[]>();

  /** The last string looked up and its index: runs of the same op type, domain, kind or dtype skip the map. */
  private lastStr = '';
  private lastStrIndex = -1;
  /** The last shape looked up and its index (neighbouring values often share a shape). */
  private lastShape: readonly unknown[] = [];
  private lastShapeIndex = -1;

  str(s: string): number {
    if (s === this.lastStr && this.lastStrIndex >= 0) return this.lastStrIndex;
    this.lastStr = s;
    this.lastStrIndex = this.strIndex(s);
    return this.lastStrIndex;
  }

  private strIndex(s: string): number {
    let i = this.stringIndex.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.stringIndex.set(s, i);
    }
    return i;
  }

  /** -1 for undefined. */
  optStr(s: string | undefined): number {
    return s === undefined ? -1 : this.str(s);
  }

  shape(s: readonly unknown[] | undefined): number {
    if (s === undefined) return -1;
    if (this.lastShapeIndex >= 0 && sameDims(this.lastShape, s)) return this.lastShapeIndex;
    this.lastShape = s;
    this.lastShapeIndex = this.findShape(s);
    return this.lastShapeIndex;
  }

  private findShape(s: readonly unknown[]): number {
    // Hashed without building a string key (one per value was most of this function's time).
    let h = s.length;
    for (const d of s) h = (Math.imul(h, 31) + (typeof d === 'number' ? d | 0 : typeof d === 'string' ? d.length + 7 : 3)) | 0;
    let same = this.shapeIndex.get(h);
    for (const i of same ?? []) if (sameDims(this.shapes[i], s)) return i;
    const i = this.shapes.length;
    this.shapes.push(s as unknown[]);
    if (same) same.push(i);
    else this.shapeIndex.set(h, (same = [i]));
    return i;
  }
}

/** Whether every element of `x` (an array) is a string; a loop, not `every` with a closure (called twice a node). */
function allStrings(x: readonly unknown[]): boolean {
  for (let i = 0; i < x.length; i++) if (typeof x[i] !== 'string') return false;
  return true;
}

function regularNode(n: GraphNode): boolean {
  return (
    isStr(n.id) && isStr(n.name) && isStr(n.opType) && isStr(n.domain) && Array.isArray(n.inputs) && allStrings(n.inputs) && Array.isArray(n.outputs) &&
    allStrings(n.outputs) && Array.isArray(n.attributes) && isNum(n.params) && isNum(n.paramBytes) && Array.isArray(n.scope) && allStrings(n.scope)
  );
}

/** The columns, and for each value row the last node row listing it among its outputs (-1: none). */
function nodeColumns(nodes: readonly GraphNode[], t: Tables, rows: ReadonlyMap<string, number>): { c: NodeColumns; producerRow: Int32Array } {
  const producerRow = new Int32Array(rows.size).fill(-1);
  const c: NodeColumns = { id: [], name: [], opType: [], domain: [], inCount: [], ins: [], outCount: [], outs: [], params: [], paramBytes: [], attributes: [], scope: [], extra: [], odd: [] };
  // A loop, and a value's row or a string's index inline (once per input and output): no closure call per node.
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (!regularNode(n)) {
      c.odd.push([i, n as unknown as Obj]);
      c.id.push('');
      for (const col of [c.name, c.opType, c.domain]) col.push(-1);
      for (const col of [c.inCount, c.outCount, c.params, c.paramBytes]) col.push(0);
      continue;
    }
    c.id.push(n.id);
    c.name.push(n.name === n.id ? -1 : t.str(n.name));
    c.opType.push(t.str(n.opType));
    c.domain.push(t.str(n.domain));
    const inputs = n.inputs;
    c.inCount.push(inputs.length);
    for (let k = 0; k < inputs.length; k++) c.ins.push(rows.get(inputs[k]) ?? -1 - t.str(inputs[k]));
    const outputs = n.outputs;
    c.outCount.push(outputs.length);
    for (let k = 0; k < outputs.length; k++) {
      const r = rows.get(outputs[k]) ?? -1 - t.str(outputs[k]);
      c.outs.push(r);
      if (r >= 0) producerRow[r] = i;
    }
    c.params.push(n.params);
    c.paramBytes.push(n.paramBytes);
    if (n.attributes.length) c.attributes.push([i, n.attributes]);
    if (n.scope.length) c.scope.push([i, n.scope.map((s) => t.str(s))]);
    const extra = extraOf(n as unknown as Obj, nodeKey);
    if (extra) c.extra.push([i, extra]);
  }
  return { c, producerRow };
}

function regularValue(v: ValueInfo, key: string): boolean {
  return (
    v.id === key && isStr(v.name) && isStr(v.kind) && (v.dtype === undefined || isStr(v.dtype)) && (v.shape === undefined || Array.isArray(v.shape)) &&
    (v.shapeInferred === undefined || typeof v.shapeInferred === 'boolean') && (v.producer === undefined || isStr(v.producer))
  );
}

/** The columns but `producer` (see {@link producerColumn}), and each key's row. */
function valueColumns(values: Record<string, ValueInfo>, t: Tables): { c: ValueColumns; rows: Map<string, number>; list: ValueInfo[] } {
  const c: ValueColumns = { key: Object.keys(values), name: [], kind: [], dtype: [], shape: [], shapeInferred: [], producer: [], extra: [], odd: [] };
  const rows = new Map<string, number>();
  // Object.keys and a lookup each: Object.values takes longer on a record of 100k keys.
  const list = new Array<ValueInfo>(c.key.length);
  for (let i = 0; i < c.key.length; i++) {
    const key = c.key[i];
    const v = (list[i] = values[key]);
    rows.set(key, i);
    if (!regularValue(v, key)) {
      c.odd.push([i, v as unknown as Obj]);
      for (const col of [c.name, c.kind, c.dtype, c.shape, c.shapeInferred]) col.push(-1);
      continue;
    }
    c.name.push(v.name === key ? -1 : t.str(v.name));
    c.kind.push(t.str(v.kind));
    c.dtype.push(t.optStr(v.dtype));
    c.shape.push(t.shape(v.shape));
    c.shapeInferred.push(v.shapeInferred === undefined ? -1 : v.shapeInferred ? 1 : 0);
    const extra = extraOf(v as unknown as Obj, valueKey);
    if (extra) c.extra.push([i, extra]);
  }
  return { c, rows, list };
}

function producerColumn(values: readonly ValueInfo[], c: ValueColumns, nodes: readonly GraphNode[], producerRow: Int32Array, t: Tables): void {
  for (let i = 0; i < c.key.length; i++) {
    const p = values[i].producer;
    const derived = producerRow[i] < 0 ? undefined : nodes[producerRow[i]].id;
    c.producer.push(p === undefined || typeof p !== 'string' ? -1 : p === derived ? -2 : t.str(p));
  }
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether `loc` is `{ kind: 'inline' }` and nothing more. */
function plainInline(loc: TensorLocation): boolean {
  if (loc.kind !== 'inline') return false;
  for (const k in loc) if (k !== 'kind') return false;
  return true;
}

function regularTensor(x: TensorInfo): boolean {
  return (
    isStr(x.name) && isStr(x.dtype) && Array.isArray(x.shape) && isNum(x.elements) && x.elements !== -1 && isNum(x.byteLength) &&
    typeof x.location === 'object' && x.location !== null && (x.quantization === undefined || (typeof x.quantization === 'object' && x.quantization !== null))
  );
}

function tensorColumns(tensors: Record<string, TensorInfo>, t: Tables): TensorColumns {
  const c: TensorColumns = { key: Object.keys(tensors), name: [], dtype: [], shape: [], elements: [], byteLength: [], location: [], quantization: [], extra: [], odd: [] };
  for (let i = 0; i < c.key.length; i++) {
    const key = c.key[i];
    const x = tensors[key];
    if (!regularTensor(x)) {
      c.odd.push([i, x as unknown as Obj]);
      for (const col of [c.name, c.dtype, c.shape, c.elements]) col.push(-1);
      c.byteLength.push(0);
      continue;
    }
    c.name.push(x.name === key ? -1 : t.str(x.name));
    c.dtype.push(t.str(x.dtype));
    c.shape.push(t.shape(x.shape));
    // -1 stands for the product; a tensor whose count is -1 itself travels in `odd`.
    c.elements.push(x.elements === product(x.shape) ? -1 : x.elements);
    c.byteLength.push(x.byteLength);
    if (!plainInline(x.location)) c.location.push([i, x.location]);
    if (x.quantization !== undefined) c.quantization.push([i, x.quantization]);
    const extra = extraOf(x as unknown as Obj, tensorKey);
    if (extra) c.extra.push([i, extra]);
  }
  return c;
}

/** The graph as version-2 wire JSON (see the file comment). */
export function encodeGraphWire(g: ModelGraph): string {
  const t = new Tables();
  const { nodes, values, tensors, ...rest } = g;
  const v = valueColumns(values, t);
  const n = nodeColumns(nodes, t, v.rows);
  producerColumn(v.list, v.c, nodes, n.producerRow, t);
  const wire: GraphWireV2 = { graphWire: 2, strings: t.strings, shapes: t.shapes, graph: rest as unknown as Obj, nodes: n.c, values: v.c, tensors: tensorColumns(tensors, t) };
  return JSON.stringify(wire);
}

/** `o[key] = v` as an own property, even for the key `__proto__` (which assignment would take as the prototype). */
function setOwn<T>(o: Record<string, T>, key: string, v: T): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
  else o[key] = v;
}

/** Rows of a sparse list by row (the later entry wins, as in the encoder each row has at most one). */
function byRow<T>(s: Sparse<T>): Map<number, T> {
  return new Map(s);
}

/** The nodes, and for each value row the last node row listing it among its outputs (-1: none). */
function decodeNodes(c: NodeColumns, str: readonly string[], keys: readonly string[]): { nodes: GraphNode[]; producerRow: Int32Array } {
  const producerRow = new Int32Array(keys.length).fill(-1);
  const attributes = byRow(c.attributes);
  const scope = byRow(c.scope);
  const extra = byRow(c.extra);
  const odd = byRow(c.odd);
  const nodes = new Array<GraphNode>(c.id.length);
  let ii = 0;
  let oi = 0;
  for (let i = 0; i < c.id.length; i++) {
    const inputs = new Array<string>(c.inCount[i]);
    for (let k = 0; k < inputs.length; k++) {
      const r = c.ins[ii++];
      inputs[k] = r >= 0 ? keys[r] : str[-1 - r];
    }
    const outputs = new Array<string>(c.outCount[i]);
    for (let k = 0; k < outputs.length; k++) {
      const r = c.outs[oi++];
      outputs[k] = r >= 0 ? keys[r] : str[-1 - r];
      if (r >= 0) producerRow[r] = i;
    }
    const o = odd.get(i);
    if (o) {
      nodes[i] = o as unknown as GraphNode;
      continue;
    }
    const id = c.id[i];
    const sc = scope.get(i);
    const n: GraphNode = {
      id,
      name: c.name[i] < 0 ? id : str[c.name[i]],
      opType: str[c.opType[i]],
      domain: str[c.domain[i]],
      inputs,
      outputs,
      attributes: attributes.get(i) ?? [],
      params: c.params[i],
      paramBytes: c.paramBytes[i],
      scope: sc ? sc.map((k) => str[k]) : [],
    };
    const e = extra.get(i);
    nodes[i] = e ? Object.assign(n, e) : n;
  }
  return { nodes, producerRow };
}

function decodeValues(c: ValueColumns, str: readonly string[], shapes: readonly unknown[][], nodes: readonly GraphNode[], producerRow: Int32Array): Record<string, ValueInfo> {
  const extra = byRow(c.extra);
  const odd = byRow(c.odd);
  const values: Record<string, ValueInfo> = {};
  for (let i = 0; i < c.key.length; i++) {
    const key = c.key[i];
    const o = odd.get(i);
    if (o) {
      setOwn(values, key, o as unknown as ValueInfo);
      continue;
    }
    const v = { id: key, name: c.name[i] < 0 ? key : str[c.name[i]] } as ValueInfo;
    if (c.dtype[i] >= 0) v.dtype = str[c.dtype[i]] as ValueInfo['dtype'];
    // A copy: each value owns its shape, as it did in the engine.
    if (c.shape[i] >= 0) v.shape = shapes[c.shape[i]].slice() as ValueInfo['shape'];
    if (c.shapeInferred[i] >= 0) v.shapeInferred = c.shapeInferred[i] === 1;
    v.kind = str[c.kind[i]] as ValueInfo['kind'];
    const p = c.producer[i];
    if (p >= 0) v.producer = str[p];
    else if (p === -2) v.producer = nodes[producerRow[i]].id;
    const e = extra.get(i);
    setOwn(values, key, e ? Object.assign(v, e) : v);
  }
  return values;
}

function decodeTensors(c: TensorColumns, str: readonly string[], shapes: readonly unknown[][]): Record<string, TensorInfo> {
  const location = byRow(c.location);
  const quantization = byRow(c.quantization);
  const extra = byRow(c.extra);
  const odd = byRow(c.odd);
  const tensors: Record<string, TensorInfo> = {};
  for (let i = 0; i < c.key.length; i++) {
    const key = c.key[i];
    const o = odd.get(i);
    if (o) {
      setOwn(tensors, key, o as unknown as TensorInfo);
      continue;
    }
    const shape = shapes[c.shape[i]].slice() as number[];
    const x: TensorInfo = {
      name: c.name[i] < 0 ? key : str[c.name[i]],
      dtype: str[c.dtype[i]] as TensorInfo['dtype'],
      shape,
      elements: c.elements[i] === -1 ? product(shape) : c.elements[i],
      byteLength: c.byteLength[i],
      location: location.get(i) ?? { kind: 'inline' },
    };
    const q = quantization.get(i);
    if (q) x.quantization = q;
    const e = extra.get(i);
    setOwn(tensors, key, e ? Object.assign(x, e) : x);
  }
  return tensors;
}

function decodeGraphWireV2(w: GraphWireV2): ModelGraph {
  const str = w.strings;
  const { nodes, producerRow } = decodeNodes(w.nodes, str, w.values.key);
  return {
    ...(w.graph as unknown as ModelGraph),
    nodes,
    values: decodeValues(w.values, str, w.shapes, nodes, producerRow),
    tensors: decodeTensors(w.tensors, str, w.shapes),
  };
}

/**
 * The IR from parsed wire JSON (version 1 or 2), or the parsed value itself when it is a plain IR.
 * @throws Error when it is a wire envelope of another version.
 */
export function decodeGraphWire(parsed: unknown): ModelGraph {
  const w = parsed as Partial<GraphWire> | null;
  if (!w || typeof w !== 'object' || !('graphWire' in w)) return parsed as ModelGraph;
  if (w.graphWire === 2 && Array.isArray(w.strings) && w.nodes && w.values && w.tensors) return decodeGraphWireV2(w as GraphWireV2);
  if (w.graphWire === 1 && w.graph) return decodeGraphWireV1(w as GraphWireV1);
  throw new Error(`graph wire: expected version 1 or 2, found ${JSON.stringify(w.graphWire)}`);
}
