/**
 * The one graph IR every checkpoint format is loaded into.
 *
 * Everything here is plain, structured-cloneable data (no classes, no functions, no typed arrays of weights):
 * it crosses the worker ↔ host ↔ webview boundaries unchanged. Weight bytes stay with the loader and are read
 * on demand through {@link LoadedModel.readTensor} (initializers are lazy).
 */

/** Element types the IR knows. ONNX and TF.js dtypes map onto these; anything else is a load error. */
export const DTYPES = [
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
  'complex64',
  'complex128',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'uint4',
  'int4',
  'float4e2m1',
] as const;
export type DType = (typeof DTYPES)[number];

/** Bytes per element; `string` has no fixed size (0), 4-bit types count as 0.5. */
export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
  string: 0,
  complex64: 8,
  complex128: 16,
  float8e4m3fn: 1,
  float8e4m3fnuz: 1,
  float8e5m2: 1,
  float8e5m2fnuz: 1,
  uint4: 0.5,
  int4: 0.5,
  float4e2m1: 0.5,
};

const DTYPE_SET: ReadonlySet<string> = new Set(DTYPES);

export function isDType(s: string): s is DType {
  return DTYPE_SET.has(s);
}

/**
 * One dimension: a known size, a symbolic name (ONNX `dim_param`, e.g. "batch"), or null when unknown
 * (TF.js -1, ONNX dim with neither value nor param).
 */
export type Dim = number | string | null;

export type ModelFormat = 'onnx' | 'tfjs-layers' | 'tfjs-graph';

/** A value flowing along edges: a graph input, an initializer (weight) or a node output. */
export interface ValueInfo {
  /** Unique id within the graph (for ONNX the value name; TF.js: `layer:nodeIndex:tensorIndex` or `node:k`). */
  id: string;
  /** Name as shown to the user. */
  name: string;
  dtype?: DType;
  /**
   * Undefined when the shape is not known at all. A string dimension is a symbol (ONNX `dim_param`) or an
   * expression over symbols written by shape inference (`batch*seq`, `floor((H+1)/2)`).
   */
  shape?: Dim[];
  /** True when `shape` (or some of its dimensions) was filled by shape inference rather than stored in the file. */
  shapeInferred?: boolean;
  kind: 'input' | 'initializer' | 'intermediate' | 'output';
  /** Node id producing this value; absent for graph inputs and initializers. */
  producer?: string;
}

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number | string } // int64 beyond 2^53 kept as a decimal string
  | { type: 'string'; value: string }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: (number | string)[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: TensorInfo }
  | { type: 'tensors'; value: TensorInfo[] }
  | { type: 'graph'; value: SubgraphSummary }
  | { type: 'graphs'; value: SubgraphSummary[] }
  | { type: 'type'; value: string }
  | { type: 'json'; value: unknown } // TF.js layer config values and graph-model attrs that are not scalars
  | { type: 'unknown'; value: string };

export interface Attribute {
  name: string;
  value: AttributeValue;
}

/** Where a tensor's bytes are; resolved by the loader that produced the IR. */
export type TensorLocation =
  | { kind: 'inline' } // inside the model file (ONNX raw_data / typed fields)
  | { kind: 'external'; file: string; offset: number; length: number } // ONNX external data (path relative to the model's folder)
  | { kind: 'shard'; files: string[]; offset: number; length: number }; // TF.js weightsManifest group (offset into the concatenated shards)

/** Descriptor of a weight tensor (initializer / TF.js weight). Bytes are read lazily. */
export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Product of `shape` (1 for a scalar). */
  elements: number;
  /** Bytes as stored (quantized TF.js weights may be smaller than elements × dtype size). */
  byteLength: number;
  location: TensorLocation;
  /** TF.js weight quantization (`uint8`/`uint16`/`float16`), when present. */
  quantization?: { dtype: string; scale?: number; min?: number };
}

/** A nested graph (ONNX If/Loop/Scan bodies, function bodies) listed, not expanded. */
export interface SubgraphSummary {
  name: string;
  nodeCount: number;
  opCounts: Record<string, number>;
  inputs: string[];
  outputs: string[];
  /** Nested subgraphs of this subgraph, recursively summarised. */
  subgraphs: SubgraphSummary[];
}

export interface GraphNode {
  /** Unique id within the graph. */
  id: string;
  /** Name as in the file (may be empty in ONNX; then the id is synthesised). */
  name: string;
  opType: string;
  /** ONNX domain ('' = ai.onnx); 'tfjs' for TF.js. */
  domain: string;
  /** Value ids consumed, in order; '' for an omitted optional input. */
  inputs: string[];
  /** Value ids produced, in order; '' for an omitted optional output. */
  outputs: string[];
  attributes: Attribute[];
  /** Number of scalar parameters in weight tensors this node consumes (initializers / layer weights). */
  params: number;
  /** Bytes of those weight tensors as stored. */
  paramBytes: number;
  /** Hierarchy path (name scopes / layer names), outermost first; [] at the top level. */
  scope: string[];
  /** Subgraphs held in attributes (If/Loop/Scan). */
  subgraphs?: SubgraphSummary[];
}

/** A group in the collapsible hierarchy (one name scope or layer). */
export interface HierarchyGroup {
  /** Path joined by '/', unique. */
  id: string;
  /** Last path component. */
  label: string;
  /** Parent group id, or undefined for a top-level group. */
  parent?: string;
  /** Node ids directly inside this group (not in a child group). */
  nodes: string[];
  /** Child group ids. */
  children: string[];
  /** Total nodes and parameters under this group, recursively. */
  nodeCount: number;
  params: number;
  /**
   * Set when this group has the same op structure as sibling groups (e.g. transformer blocks `h.0`…`h.11`):
   * a key shared by all repeats.
   */
  repeatKey?: string;
  /** A block found by its repeated structure (src/model/motifs.ts), not a name scope of the file. */
  motif?: boolean;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface ModelGraph {
  format: ModelFormat;
  /** Absolute path of the file that was loaded. */
  file: string;
  fileBytes: number;
  producer?: { name: string; version?: string };
  /** ONNX ir_version, TF.js format/converter versions. */
  formatVersion?: string;
  opsets: OpsetImport[];
  /** Free-form metadata (ONNX metadata_props, TF.js generatedBy/convertedBy/userDefinedMetadata keys). */
  metadata: Record<string, string>;
  /** Graph input value ids (non-initializer inputs only), in order. */
  inputs: string[];
  /** Graph output value ids, in order. */
  outputs: string[];
  nodes: GraphNode[];
  /** Every value by id. */
  values: Record<string, ValueInfo>;
  /** Weight tensors by name (lazy descriptors). */
  tensors: Record<string, TensorInfo>;
  hierarchy: HierarchyGroup[];
  /** Totals over `tensors`. */
  params: number;
  paramBytes: number;
  /** Non-fatal notes from the loader (e.g. "3 nodes have no name; ids synthesised"). */
  warnings: string[];
}

/** Element count of a fully known shape; NaN when any dimension is symbolic or unknown. */
export function shapeElements(shape: readonly Dim[]): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return NaN;
    n *= d;
  }
  return n;
}
