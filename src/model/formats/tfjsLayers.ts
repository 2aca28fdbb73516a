/**
 * TF.js layers-model topology (a Keras model config) → IR nodes and values.
 *
 * - One node per layer call: op = the layer's `class_name`, attributes = its config (minus `name`). A layer
 *   called twice (shared weights) gives nodes `name` and `name#1`, both consuming the same weights.
 * - `InputLayer`s are graph input values (shape from `batch_input_shape` / `batch_shape`), not nodes. A
 *   Sequential model without one gets an input value `<first layer>_input`, as Keras names it.
 * - Layer outputs are values `layer:callIndex:tensorIndex`.
 * - Functional wiring is read in both serialisations: Keras 2 `inbound_nodes: [[[name, node, tensor, kwargs]]]`
 *   (tensor references inside kwargs included) and Keras 3 `inbound_nodes: [{args, kwargs}]` with
 *   `__keras_tensor__` entries carrying `keras_history`.
 * - Nested models (a layer whose class is Sequential/Functional/Model) are flattened: their layers become
 *   nodes whose scope is the path of enclosing model layers (`outer/inner`), so the hierarchy collapses them
 *   back into one group. Each call of a nested model is flattened separately (`outer#1/…`).
 * - Weights are attached to layers by name: the longest `a/b/c` prefix of the weight name that is a layer path,
 *   else the innermost path component that names exactly one layer (`dense_1/kernel`, `model/dense_1/bias`,
 *   `lstm/lstm_cell/kernel`). Unattached weights stay initializer values (counted in totals) with a warning.
 * - Shapes: inputs from the config; outputs only where it is cheap (Dense, Flatten, shape-preserving layers
 *   whose input shape is known). No shape inference beyond that.
 */
import { ModelLoadError } from '../errors';
import { LIMITS } from '../graphBuild';
import { isDType, type Attribute, type AttributeValue, type Dim, type DType, type GraphNode, type TensorInfo, type ValueInfo } from '../ir';
import type { GraphParts } from './tfjsGraph';
import { found, isObj } from './tfjsWeights';

type Obj = Record<string, unknown>;
const FORMAT = 'tfjs-layers';
const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);
/** Layers whose output shape equals their input shape. */
const SAME_SHAPE = new Set([
  'Activation',
  'Dropout',
  'BatchNormalization',
  'LayerNormalization',
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'Softmax',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
]);
const MAX_DEPTH = 32;
/** Size fields of layer configs checked for plausibility (a 2^24-wide layer is already far past any real model). */
const SIZE_FIELDS = ['units', 'filters', 'output_dim', 'input_dim', 'num_heads', 'key_dim', 'value_dim', 'depth_multiplier'] as const;
const MAX_LAYER_DIM = 2 ** 24;
/** Window fields (kernels, pools, strides, dilations, cropping, padding sizes): a 65,536-wide window is already absurd. */
const WINDOW_FIELDS = ['kernel_size', 'pool_size', 'strides', 'dilation_rate', 'size'] as const;
const MAX_WINDOW = 2 ** 16;
/** Layer classes that always own weights (a kernel or an embedding table). */
const WEIGHTED = new Set(['Dense', 'Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'Conv3DTranspose', 'DepthwiseConv2D', 'SeparableConv1D', 'SeparableConv2D', 'Embedding', 'LSTM', 'GRU', 'SimpleRNN']);
/** Flattening repeated nested-model calls multiplies layers; real Keras models stay far below this. */
const MAX_LAYER_NODES = Math.min(LIMITS.maxNodes, 200_000);

interface Entry {
  cls: string;
  name: string;
  config: unknown;
  raw: Obj;
  where: string;
}

interface Ref {
  layer: string;
  node: number;
  tensor: number;
}

interface Instance {
  /** Scope path with call suffixes (`outer#1`). */
  path: string[];
  /** The same path without call suffixes: what weight names use. */
  wpath: string[];
}

export interface LayersParts extends GraphParts {
  modelClass: string;
  kerasVersion?: string;
  backend?: string;
}

/** Builds the IR parts of a layers-model. `topo` is `modelTopology`. @throws ModelLoadError invalid-structure */
export function buildLayersModel(file: string, topo: Obj, tensors: Record<string, TensorInfo>, order: string[]): LayersParts {
  const b = new LayersBuilder(file, tensors);
  let mt: Obj = topo;
  let where = 'modelTopology';
  if (topo.model_config !== undefined) {
    if (!isObj(topo.model_config)) throw b.bad(`modelTopology.model_config: expected a Keras model config object, found ${found(topo.model_config)}`);
    mt = topo.model_config;
    where = 'modelTopology.model_config';
  }
  if (typeof mt.class_name !== 'string') {
    throw b.bad(`layers-model topology: expected ${where}.class_name (Sequential, Functional, Model), found ${found(mt.class_name)}`);
  }
  const outs = b.model(mt.class_name, mt.config, { path: [], wpath: [] }, undefined, `${where}.config`, 0);
  const parts = b.finish(outs, order);
  const kv = mt.keras_version ?? topo.keras_version;
  const be = mt.backend ?? topo.backend;
  return {
    ...parts,
    modelClass: mt.class_name,
    kerasVersion: typeof kv === 'string' ? kv : undefined,
    backend: typeof be === 'string' ? be : undefined,
  };
}

class LayersBuilder {
  readonly nodes: GraphNode[] = [];
  readonly values: Record<string, ValueInfo> = {};
  readonly inputs: string[] = [];
  readonly warnings: string[] = [];
  private readonly nodeIds = new Set<string>();
  private valueCount = 0;
  /** Alias value ids (nested-model inputs and outputs) → the value they stand for. */
  private readonly aliases = new Map<string, string>();
  /** Descriptions of alias ids, for errors when one is never bound. */
  private readonly aliasWhat = new Map<string, string>();
  /** Layer path without call suffixes → its nodes (one per call). */
  private readonly layerNodes = new Map<string, GraphNode[]>();
  /** Bare layer name → layer paths carrying it. */
  private readonly bare = new Map<string, Set<string>>();

  constructor(
    private readonly file: string,
    private readonly tensors: Record<string, TensorInfo>,
  ) {
    for (const t of Object.values(tensors)) {
      this.values[t.name] = { id: t.name, name: t.name, dtype: t.dtype, shape: t.shape, kind: 'initializer' };
    }
  }

  bad(detail: string): ModelLoadError {
    return new ModelLoadError('invalid-structure', this.file, detail, FORMAT);
  }

  /** Adds a model's layers; returns its output value ids (possibly aliases). */
  model(cls: string, config: unknown, inst: Instance, bound: string[] | undefined, where: string, depth: number): string[] {
    if (depth > MAX_DEPTH) throw this.bad(`${where}: models nested more than ${MAX_DEPTH} deep`);
    if (cls === 'Sequential' || Array.isArray(config)) return this.sequential(config, inst, bound, where, depth);
    if (isObj(config) && Array.isArray(config.layers)) return this.functional(config, inst, bound, where, depth);
    throw this.bad(
      `layers-model topology has neither config.layers nor a layer list: ${where} of the ${cls} model is ${found(config)}`,
    );
  }

  private entries(layers: unknown[], where: string): Entry[] {
    const seen = new Set<string>();
    return layers.map((l, i) => {
      const w = `${where}[${i}]`;
      if (!isObj(l)) throw this.bad(`${w}: expected a layer {class_name, config}, found ${found(l)}`);
      if (typeof l.class_name !== 'string' || l.class_name === '') throw this.bad(`${w} has no 'class_name' (found ${found(l.class_name)})`);
      const cfg = l.config;
      const name = typeof l.name === 'string' ? l.name : isObj(cfg) ? cfg.name : undefined;
      if (typeof name !== 'string' || name === '') throw this.bad(`${w} (${l.class_name}) has no 'name' (found ${found(name)})`);
      if (seen.has(name)) throw this.bad(`${w}: the layer name '${name}' is used twice in the same model`);
      seen.add(name);
      if (cfg !== undefined && cfg !== null && !isObj(cfg) && !Array.isArray(cfg)) {
        throw this.bad(`${w} ('${name}'): expected 'config' to be an object, found ${found(cfg)}`);
      }
      if (isObj(cfg) && !MODEL_CLASSES.has(l.class_name)) this.checkLayerConfig(cfg, `${w} ('${name}', ${l.class_name})`);
      return { cls: l.class_name, name, config: cfg ?? {}, raw: l, where: w };
    });
  }

  /**
   * What tfjs-layers would otherwise trip over when it rebuilds the layer (a number where a serialized
   * initializer is expected: `Cannot create property 'customObjects' on number`), or allocate without
   * bound (`units: 1e9` → a 784 × 10⁹ kernel): size fields must be plausible positive integers, and every
   * serialized object (`{class_name, config}`) must have an object config.
   */
  private checkLayerConfig(cfg: Obj, where: string): void {
    for (const f of SIZE_FIELDS) {
      const v = cfg[f];
      if (v === undefined || v === null) continue;
      if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > MAX_LAYER_DIM) {
        throw new ModelLoadError(
          'absurd-shape',
          this.file,
          `${where}: expected '${f}' to be an integer from 0 to ${MAX_LAYER_DIM}, found ${safeJson(v)}`,
          FORMAT,
        );
      }
    }
    for (const f of WINDOW_FIELDS) {
      const v = cfg[f];
      if (v === undefined || v === null) continue;
      const xs = Array.isArray(v) ? v : [v];
      if (!xs.every((x) => Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= MAX_WINDOW)) {
        throw new ModelLoadError('absurd-shape', this.file, `${where}: expected '${f}' to hold integers from 0 to ${MAX_WINDOW}, found ${safeJson(v)}`, FORMAT);
      }
    }
    for (const [k, v] of Object.entries(cfg)) {
      if (/_(initializer|regularizer|constraint)$/.test(k) && v !== null && typeof v !== 'string' && !isObj(v)) {
        throw this.bad(`${where}: expected '${k}' to be null, a name or {class_name, config}, found ${found(v)}`);
      }
      this.checkSerialized(v, `${where}.${k}`, 0);
    }
  }

  private checkSerialized(v: unknown, where: string, depth: number): void {
    if (depth > 16 || !isObj(v)) return;
    if ('class_name' in v) {
      if (typeof v.class_name !== 'string') throw this.bad(`${where}.class_name: expected a class name, found ${found(v.class_name)}`);
      if (v.config !== undefined && v.config !== null && !isObj(v.config)) {
        throw this.bad(`${where} (${v.class_name}): expected 'config' to be an object, found ${found(v.config)}`);
      }
    }
    for (const [k, x] of Object.entries(v)) this.checkSerialized(x, `${where}.${k}`, depth + 1);
  }

  /**
   * Layers that always own weights must have them in the manifest (an empty manifest is refused, a partial
   * one warned about: the graph can still be shown), and
   * the size fields must agree with the stored kernel: `units` / `filters` with its last axis, an Embedding's
   * `input_dim` × `output_dim` with its table.
   */
  private checkLayerWeights(): void {
    const missing: string[] = [];
    for (const n of this.nodes) {
      if (!WEIGHTED.has(n.opType)) continue;
      const weights = n.inputs.filter((i) => i in this.tensors);
      const where = `layer '${n.id}' (${n.opType})`;
      if (!weights.length) {
        const total = Object.keys(this.tensors).length;
        if (!total) throw this.bad(`${where}: expected its weights in weightsManifest, found an empty weightsManifest`);
        missing.push(n.id);
        continue;
      }
      const attr = (name: string): number | undefined => {
        const a = n.attributes.find((x) => x.name === name)?.value;
        return a?.type === 'int' && typeof a.value === 'number' ? a.value : undefined;
      };
      const kernel = weights.map((w) => this.tensors[w]).find((t) => /(^|\/)(kernel|embeddings)(:\d+)?$/.test(t.name));
      if (!kernel || kernel.shape.length === 0) continue;
      const last = kernel.shape[kernel.shape.length - 1];
      const check = (field: string, want: number | undefined, got: number): void => {
        if (want !== undefined && want !== got) {
          throw new ModelLoadError(
            'tensor-size-mismatch',
            this.file,
            `${where}: '${field}' is ${want} but its weight '${kernel.name}' has shape [${kernel.shape.join(', ')}]`,
            FORMAT,
          );
        }
      };
      if (n.opType === 'Embedding') {
        check('output_dim', attr('output_dim'), last);
        check('input_dim', attr('input_dim'), kernel.shape[0]);
      } else if (n.opType === 'Dense') check('units', attr('units'), last);
      else if (/^Conv\dD$/.test(n.opType)) {
        check('filters', attr('filters'), last);
        const ks = n.attributes.find((x) => x.name === 'kernel_size')?.value;
        const rank = Number(n.opType[4]);
        const sizes = ks?.type === 'int' ? new Array<number>(rank).fill(ks.value as number) : ks?.type === 'ints' ? (ks.value as number[]) : undefined;
        if (sizes && sizes.length === rank && kernel.shape.length === rank + 2) sizes.forEach((k, j) => check(`kernel_size[${j}]`, k, kernel.shape[j]));
      }
    }
    if (missing.length) {
      const list = missing.slice(0, 5).map((m) => `'${m}'`).join(', ') + (missing.length > 5 ? ` (and ${missing.length - 5} more)` : '');
      this.warnings.push(`${missing.length} layer(s) that own weights have none in the weightsManifest: ${list}; tfjs will refuse to run this model`);
    }
  }

  /**
   * tfjs-layers builds a Dense kernel of [input's last dim, units] from the config before it reads the stored
   * one: an input declared far larger than the stored kernel (`batch_input_shape: [null, 1e9]`) would be
   * allocated in full. The declared input width must be the stored kernel's.
   */
  private checkDenseInputs(): void {
    for (const n of this.nodes) {
      if (n.opType !== 'Dense') continue;
      const input = n.inputs[0] ? this.values[n.inputs[0]] : undefined;
      const width = input?.kind !== 'initializer' ? input?.shape?.at(-1) : undefined;
      const kernel = n.inputs.map((i) => this.tensors[i]).find((t) => t && /(^|\/)kernel(:\d+)?$/.test(t.name));
      if (typeof width === 'number' && kernel && kernel.shape.length === 2 && width !== kernel.shape[0]) {
        throw new ModelLoadError(
          'tensor-size-mismatch',
          this.file,
          `layer '${n.id}' (Dense): its input '${input!.id}' is ${width} wide but its weight '${kernel.name}' has shape [${kernel.shape.join(', ')}]`,
          FORMAT,
        );
      }
    }
  }

  private isModel(e: Entry): boolean {
    if (MODEL_CLASSES.has(e.cls)) return true;
    return isObj(e.config) && Array.isArray(e.config.layers) && e.config.input_layers !== undefined;
  }

  private sequential(config: unknown, inst: Instance, bound: string[] | undefined, where: string, depth: number): string[] {
    let layers: unknown[];
    if (Array.isArray(config)) layers = config;
    else if (isObj(config) && Array.isArray(config.layers)) layers = config.layers;
    else throw this.bad(`layers-model topology has neither config.layers nor a layer list: ${where} is ${found(config)}`);
    const entries = this.entries(layers, Array.isArray(config) ? where : `${where}.layers`);
    if (entries.length === 0) throw this.bad(`${where}: the Sequential model has no layers`);
    if (bound && bound.length !== 1) {
      throw this.bad(`${where}: a nested Sequential model takes one input, but it is called with ${bound.length}`);
    }
    const prefix = prefixOf(inst);
    let current: string | undefined = bound?.[0];
    let start = 0;
    const first = entries[0];
    if (first.cls === 'InputLayer') {
      const id = prefix + first.name;
      if (current !== undefined) this.alias(id, current, `the input of nested model '${inst.path.join('/')}'`);
      else this.addInput(id, first.name, cfgObj(first.config));
      current = id;
      start = 1;
    } else if (current === undefined && !this.isModel(first)) {
      const id = `${prefix}${first.name}_input`;
      const cfg = cfgObj(first.config);
      if (!hasInputShape(cfg)) this.warnings.push(`the Sequential model's first layer '${first.name}' declares no input shape`);
      this.addInput(id, id, cfg);
      current = id;
    }
    for (let i = start; i < entries.length; i++) {
      const e = entries[i];
      if (e.cls === 'InputLayer') {
        this.warnings.push(`${e.where}: an InputLayer in the middle of a Sequential model was ignored`);
        continue;
      }
      if (this.isModel(e)) {
        const outs = this.model(e.cls, e.config, childOf(inst, e.name, 0), current === undefined ? undefined : [current], `${e.where}.config`, depth + 1);
        if (outs.length !== 1) throw this.bad(`${e.where}: a model inside a Sequential must have one output, '${e.name}' has ${outs.length}`);
        current = outs[0];
        continue;
      }
      if (current === undefined) throw this.bad(`${e.where}: the layer '${e.name}' has no input`);
      current = this.layerNode(e, inst, 0, [current], 1)[0];
    }
    return current === undefined ? [] : [current];
  }

  private functional(config: Obj, inst: Instance, bound: string[] | undefined, where: string, depth: number): string[] {
    const entries = this.entries(config.layers as unknown[], `${where}.layers`);
    const prefix = prefixOf(inst);
    const table = new Map(entries.map((e) => [e.name, e]));
    const calls = new Map<string, Ref[][]>();
    for (const e of entries) calls.set(e.name, this.inbound(e, table));
    const need = new Map<string, number>(); // `${layer}:${call}` → highest tensor index read

    const inputRefs = tensorList(config.input_layers, `${where}.input_layers`, this);
    const outputRefs = tensorList(config.output_layers, `${where}.output_layers`, this);
    const offsets = this.nestedOffsets(entries, calls, outputRefs);

    const resolve = (r: Ref, what: string): string => {
      const t = table.get(r.layer);
      if (!t) throw this.bad(`${what} refers to layer '${r.layer}', which is not in this model (${where})`);
      if (t.cls === 'InputLayer') {
        if (r.tensor !== 0) throw this.bad(`${what} reads output ${r.tensor} of InputLayer '${r.layer}', which has one`);
        return prefix + t.name;
      }
      const n = calls.get(t.name)?.length ?? 0;
      const call = r.node - (offsets.get(t.name) ?? 0);
      if (call < 0 || call >= n) {
        throw this.bad(`${what} reads call ${r.node} of layer '${r.layer}', which has ${n} inbound node${n === 1 ? '' : 's'}`);
      }
      if (this.isModel(t)) {
        const id = `\u0000${prefix}${t.name}#${call}:${r.tensor}`;
        this.aliasWhat.set(id, `output ${r.tensor} of call ${call} of the nested model '${prefix}${t.name}'`);
        return id;
      }
      const key = `${t.name}:${call}`;
      need.set(key, Math.max(need.get(key) ?? 0, r.tensor));
      return `${prefix}${t.name}:${call}:${r.tensor}`;
    };

    const resolved = new Map<Entry, string[][]>();
    for (const e of entries) {
      resolved.set(
        e,
        (calls.get(e.name) ?? []).map((refs, c) => refs.map((r) => resolve(r, `${e.where}.inbound_nodes[${c}]`))),
      );
    }
    const outIds = outputRefs.map((r, i) => resolve(r, `${where}.output_layers[${i}]`));

    // Inputs: bind to the caller's tensors, or become graph inputs at the top level.
    if (bound && bound.length !== inputRefs.length) {
      throw this.bad(`${where}: the nested model '${inst.path.join('/')}' has ${inputRefs.length} inputs, but it is called with ${bound.length} tensors`);
    }
    const declared = new Set<string>();
    inputRefs.forEach((r, i) => {
      const e = table.get(r.layer);
      if (!e) throw this.bad(`${where}.input_layers[${i}] names layer '${r.layer}', which is not in this model`);
      if (e.cls !== 'InputLayer') {
        throw this.bad(`${where}.input_layers[${i}] names '${r.layer}', a ${e.cls}; expected an InputLayer`);
      }
      const id = prefix + e.name;
      if (bound) this.alias(id, bound[i], `input ${i} of nested model '${inst.path.join('/')}'`);
      else this.addInput(id, e.name, cfgObj(e.config));
      declared.add(e.name);
    });
    for (const e of entries) {
      if (e.cls === 'InputLayer' && !declared.has(e.name)) {
        this.warnings.push(`InputLayer '${prefix}${e.name}' is not in input_layers; treated as a graph input`);
        this.addInput(prefix + e.name, e.name, cfgObj(e.config));
      }
    }

    for (const e of entries) {
      if (e.cls === 'InputLayer') continue;
      const perCall = resolved.get(e) ?? [];
      perCall.forEach((ins, c) => {
        if (this.isModel(e)) {
          const outs = this.model(e.cls, e.config, childOf(inst, e.name, c), ins, `${e.where}.config`, depth + 1);
          outs.forEach((o, t) => this.alias(`\u0000${prefix}${e.name}#${c}:${t}`, o, `output ${t} of '${prefix}${e.name}'`));
        } else {
          this.layerNode(e, inst, c, ins, (need.get(`${e.name}:${c}`) ?? 0) + 1);
        }
      });
    }
    return outIds;
  }

  /**
   * Keras counts a nested model's own input→output link as its node 0, so references to a nested model's
   * calls are usually shifted by one (tfjs-layers: every nested model; tf.keras: nested Functional/Sequential
   * with an input; Keras 3: nested Functional only). The shift is read off the references themselves where
   * they decide it (an index 0 means no shift, an index equal to the call count means a shift), else from the
   * writer's convention.
   */
  private nestedOffsets(entries: Entry[], calls: Map<string, Ref[][]>, outputRefs: Ref[]): Map<string, number> {
    const seen = new Map<string, { min: number; max: number }>();
    const note = (r: Ref): void => {
      const m = seen.get(r.layer) ?? { min: Infinity, max: -Infinity };
      m.min = Math.min(m.min, r.node);
      m.max = Math.max(m.max, r.node);
      seen.set(r.layer, m);
    };
    for (const refs of calls.values()) for (const call of refs) call.forEach(note);
    outputRefs.forEach(note);
    const offsets = new Map<string, number>();
    for (const e of entries) {
      if (!this.isModel(e)) continue;
      const n = calls.get(e.name)?.length ?? 0;
      const m = seen.get(e.name);
      let offset: number;
      if (m && m.min === 0) offset = 0;
      else if (m && m.max >= n) offset = 1;
      else {
        const inbound = e.raw.inbound_nodes;
        const keras3 = Array.isArray(inbound) && isObj(inbound[0]);
        const cfg = cfgObj(e.config);
        const firstLayer = Array.isArray(e.config) ? e.config[0] : Array.isArray(cfg.layers) ? cfg.layers[0] : undefined;
        const seqHasInput = isObj(firstLayer) && (firstLayer.class_name === 'InputLayer' || hasInputShape(cfgObj(firstLayer.config)));
        offset = keras3 ? (e.cls === 'Functional' ? 1 : 0) : e.cls === 'Sequential' ? (seqHasInput ? 1 : 0) : 1;
      }
      offsets.set(e.name, offset);
    }
    return offsets;
  }

  /** Parses a layer's inbound nodes (both Keras serialisations) into tensor references per call. */
  private inbound(e: Entry, table: Map<string, Entry>): Ref[][] {
    const x = e.raw.inbound_nodes;
    if (x === undefined || x === null) return [];
    const w = `${e.where}.inbound_nodes`;
    if (!Array.isArray(x)) throw this.bad(`${w}: expected a list of inbound nodes, found ${found(x)}`);
    return x.map((node, i) => {
      const refs: Ref[] = [];
      if (isObj(node)) {
        // Keras 3: {args: [...], kwargs: {...}} with __keras_tensor__ leaves
        this.kerasTensors(node.args, refs, `${w}[${i}].args`, 0);
        this.kerasTensors(node.kwargs, refs, `${w}[${i}].kwargs`, 0);
      } else if (Array.isArray(node)) {
        this.keras2Node(node, refs, `${w}[${i}]`, table, 0);
      } else {
        throw this.bad(`${w}[${i}]: expected a list of [layer, node, tensor] entries or {args, kwargs}, found ${found(node)}`);
      }
      return refs;
    });
  }

  private keras2Node(node: unknown[], refs: Ref[], w: string, table: Map<string, Entry>, depth: number): void {
    if (depth > 16) throw this.bad(`${w}: inbound node nested too deeply`);
    if (typeof node[0] === 'string') {
      refs.push(toRef(node, w, this));
      const kwargs = node[3];
      if (isObj(kwargs)) this.kwargTensors(kwargs, refs, table, 0);
      return;
    }
    node.forEach((el, j) => {
      if (!Array.isArray(el)) throw this.bad(`${w}[${j}]: expected [layer, node, tensor, kwargs], found ${found(el)}`);
      this.keras2Node(el, refs, `${w}[${j}]`, table, depth + 1);
    });
  }

  /** Keras 2 writes tensors passed as keyword arguments (TFOpLambda `y`, Attention `value`) as [layer, node, tensor]. */
  private kwargTensors(x: unknown, refs: Ref[], table: Map<string, Entry>, depth: number): void {
    if (depth > 8) return;
    if (Array.isArray(x)) {
      if (x.length === 3 && typeof x[0] === 'string' && table.has(x[0]) && Number.isSafeInteger(x[1]) && Number.isSafeInteger(x[2])) {
        refs.push({ layer: x[0], node: x[1] as number, tensor: x[2] as number });
        return;
      }
      for (const el of x) this.kwargTensors(el, refs, table, depth + 1);
    } else if (isObj(x)) {
      for (const v of Object.values(x)) this.kwargTensors(v, refs, table, depth + 1);
    }
  }

  private kerasTensors(x: unknown, refs: Ref[], w: string, depth: number): void {
    if (depth > 32) throw this.bad(`${w}: arguments nested too deeply`);
    if (Array.isArray(x)) {
      x.forEach((el, j) => this.kerasTensors(el, refs, `${w}[${j}]`, depth + 1));
    } else if (isObj(x)) {
      if (x.class_name === '__keras_tensor__') {
        const h = isObj(x.config) ? x.config.keras_history : undefined;
        if (!Array.isArray(h)) throw this.bad(`${w}: a __keras_tensor__ without config.keras_history (found ${found(h)})`);
        refs.push(toRef(h, `${w}.config.keras_history`, this));
        return;
      }
      for (const [k, v] of Object.entries(x)) this.kerasTensors(v, refs, `${w}.${k}`, depth + 1);
    }
  }

  private alias(id: string, target: string, what: string): void {
    if (this.aliases.has(id) || id in this.values) throw this.bad(`the value '${id.replace('\u0000', '')}' (${what}) is defined twice`);
    this.aliases.set(id, target);
    this.aliasWhat.set(id, what);
  }

  private addInput(id: string, name: string, cfg: Obj): void {
    if (id in this.values) throw this.bad(`the input '${id}' clashes with another value of the same name`);
    this.values[id] = { id, name, dtype: dtypeOf(cfg.dtype), shape: inputShape(cfg), kind: 'input' };
    this.inputs.push(id);
  }

  /** Adds the node for call `c` of layer `e`; returns its output value ids. */
  private layerNode(e: Entry, inst: Instance, c: number, inputs: string[], nOut: number): string[] {
    const prefix = prefixOf(inst);
    const id = `${prefix}${e.name}${c ? `#${c}` : ''}`;
    if (this.nodeIds.has(id)) throw this.bad(`${e.where}: the node id '${id}' is produced twice`);
    if (this.nodes.length >= MAX_LAYER_NODES) throw this.bad(`the model expands to more than ${MAX_LAYER_NODES} layer calls`);
    if (nOut > 4096) throw this.bad(`${e.where}: layer '${e.name}' is read at output ${nOut - 1}, an implausible index`);
    this.valueCount += nOut;
    if (this.valueCount > LIMITS.maxNodes) throw this.bad(`the model expands to more than ${LIMITS.maxNodes} layer outputs`);
    this.nodeIds.add(id);
    const outputs: string[] = [];
    for (let t = 0; t < nOut; t++) {
      const v = `${prefix}${e.name}:${c}:${t}`;
      if (v in this.values) throw this.bad(`${e.where}: the value '${v}' is defined twice`);
      this.values[v] = { id: v, name: v, kind: 'intermediate', producer: id };
      outputs.push(v);
    }
    const node: GraphNode = {
      id,
      name: e.name,
      opType: e.cls,
      domain: 'tfjs',
      inputs: [...inputs],
      outputs,
      attributes: layerAttributes(e.config),
      params: 0,
      paramBytes: 0,
      scope: [...inst.path],
    };
    this.nodes.push(node);
    const key = [...inst.wpath, e.name].join('/');
    const list = this.layerNodes.get(key) ?? [];
    list.push(node);
    this.layerNodes.set(key, list);
    const paths = this.bare.get(e.name) ?? new Set<string>();
    paths.add(key);
    this.bare.set(e.name, paths);
    return outputs;
  }

  private resolveId(id: string): string {
    let cur = id;
    let steps = 0;
    while (this.aliases.has(cur)) {
      if (++steps > this.aliases.size) {
        throw this.bad(`the layer wiring loops: ${this.aliasWhat.get(id) ?? id} is defined through itself`);
      }
      cur = this.aliases.get(cur)!;
    }
    if (cur.startsWith('\u0000')) {
      throw this.bad(`the model reads ${this.aliasWhat.get(cur) ?? cur.slice(1)}, which that model does not have`);
    }
    return cur;
  }

  finish(outs: string[], order: string[]): GraphParts {
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => this.resolveId(i));
    const outputs = [...new Set(outs.map((o) => this.resolveId(o)))];
    this.checkAcyclic();
    this.attachWeights(order);
    this.checkLayerWeights();
    this.cheapShapes();
    this.checkDenseInputs();
    for (const o of outputs) {
      const v = this.values[o];
      if (v && v.kind === 'intermediate') v.kind = 'output';
    }
    return { nodes: this.nodes, values: this.values, inputs: this.inputs, outputs, warnings: this.warnings };
  }

  /** Kahn's algorithm over layer calls: Keras graphs are DAGs; a cycle means a hostile or broken config. */
  private checkAcyclic(): void {
    const producer = new Map<string, GraphNode>();
    for (const n of this.nodes) for (const o of n.outputs) producer.set(o, n);
    const indeg = new Map<GraphNode, number>();
    const users = new Map<GraphNode, GraphNode[]>();
    for (const n of this.nodes) {
      let d = 0;
      for (const i of n.inputs) {
        const p = producer.get(i);
        if (!p) continue;
        d++;
        const u = users.get(p) ?? [];
        u.push(n);
        users.set(p, u);
      }
      indeg.set(n, d);
    }
    const queue = this.nodes.filter((n) => indeg.get(n) === 0);
    let done = 0;
    while (queue.length) {
      const n = queue.pop()!;
      done++;
      for (const u of users.get(n) ?? []) {
        const d = indeg.get(u)! - 1;
        indeg.set(u, d);
        if (d === 0) queue.push(u);
      }
    }
    if (done < this.nodes.length) {
      const stuck = this.nodes.filter((n) => (indeg.get(n) ?? 0) > 0).slice(0, 5).map((n) => `'${n.id}'`);
      throw this.bad(`the layer graph has a cycle (inbound_nodes loop through ${stuck.join(', ')}); a Keras model must be acyclic`);
    }
  }

  private attachWeights(order: string[]): void {
    const unattached: string[] = [];
    for (const name of order) {
      const comps = name.replace(/:\d+$/, '').split('/');
      let target: GraphNode[] | undefined;
      for (let j = comps.length - 1; j >= 1 && !target; j--) target = this.layerNodes.get(comps.slice(0, j).join('/'));
      for (let j = comps.length - 2; j >= 0 && !target; j--) {
        const paths = this.bare.get(comps[j]);
        if (paths && paths.size === 1) target = this.layerNodes.get([...paths][0]);
      }
      if (!target) {
        unattached.push(name);
        continue;
      }
      for (const n of target) n.inputs.push(name);
    }
    if (unattached.length) {
      const list = unattached.slice(0, 5).join(', ') + (unattached.length > 5 ? ` (and ${unattached.length - 5} more)` : '');
      this.warnings.push(`${unattached.length} weights match no layer by name and are not attached to a node: ${list}`);
    }
  }

  private cheapShapes(): void {
    for (const n of this.nodes) {
      const v = this.values[n.outputs[0]];
      if (!v || v.shape || n.outputs.length !== 1) continue;
      const input = n.inputs[0] ? this.values[n.inputs[0]] : undefined;
      const s = input?.kind !== 'initializer' ? input?.shape : undefined;
      if (!s) continue;
      if (n.opType === 'Dense') {
        const units = n.attributes.find((a) => a.name === 'units')?.value;
        if (s.length >= 1 && units?.type === 'int' && typeof units.value === 'number') v.shape = [...s.slice(0, -1), units.value];
      } else if (n.opType === 'Flatten' && s.length >= 1) {
        const rest = s.slice(1);
        v.shape = [s[0], rest.every((d) => typeof d === 'number') ? rest.reduce<number>((a, d) => a * (d as number), 1) : null];
      } else if (SAME_SHAPE.has(n.opType)) {
        v.shape = [...s];
      }
      if (v.shape) v.dtype ??= input?.dtype;
    }
  }
}

function prefixOf(inst: Instance): string {
  return inst.path.length ? `${inst.path.join('/')}/` : '';
}

function childOf(inst: Instance, name: string, call: number): Instance {
  return { path: [...inst.path, call ? `${name}#${call}` : name], wpath: [...inst.wpath, name] };
}

function cfgObj(x: unknown): Obj {
  return isObj(x) ? x : {};
}

function hasInputShape(cfg: Obj): boolean {
  return Array.isArray(cfg.batch_input_shape) || Array.isArray(cfg.batch_shape) || Array.isArray(cfg.input_shape);
}

function dims(xs: unknown[]): Dim[] {
  return xs.map((d) => (Number.isSafeInteger(d) && (d as number) >= 0 ? (d as number) : typeof d === 'string' ? d : null));
}

function inputShape(cfg: Obj): Dim[] | undefined {
  const s = cfg.batch_input_shape ?? cfg.batch_shape;
  if (Array.isArray(s)) return dims(s);
  if (Array.isArray(cfg.input_shape)) return [null, ...dims(cfg.input_shape)];
  return undefined;
}

/** Keras dtype: a string, or (Keras 3) a DTypePolicy `{class_name, config: {name}}`. */
function dtypeOf(x: unknown): DType | undefined {
  const s = typeof x === 'string' ? x : isObj(x) && isObj(x.config) && typeof x.config.name === 'string' ? x.config.name : undefined;
  return s !== undefined && isDType(s) ? s : undefined;
}

function toRef(x: unknown[], w: string, b: LayersBuilder): Ref {
  const [layer, node, tensor] = x;
  const ok = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= 1_000_000;
  if (typeof layer !== 'string' || !ok(node) || !ok(tensor)) {
    throw b.bad(`${w}: expected [layer name, node index, tensor index], found ${safeJson(x.slice(0, 3))}`);
  }
  return { layer, node, tensor };
}

/** `input_layers` / `output_layers`: a list of refs, a single ref (Keras 3, one tensor) or a dict of refs. */
function tensorList(x: unknown, w: string, b: LayersBuilder): Ref[] {
  if (Array.isArray(x) && typeof x[0] === 'string') return [toRef(x, w, b)];
  if (Array.isArray(x)) {
    return x.map((r, i) => {
      if (!Array.isArray(r)) throw b.bad(`${w}[${i}]: expected [layer name, node index, tensor index], found ${found(r)}`);
      return toRef(r, `${w}[${i}]`, b);
    });
  }
  if (isObj(x)) {
    return Object.entries(x).map(([k, r]) => {
      if (!Array.isArray(r)) throw b.bad(`${w}.${k}: expected [layer name, node index, tensor index], found ${found(r)}`);
      return toRef(r, `${w}.${k}`, b);
    });
  }
  throw b.bad(`${w}: expected a list of [layer name, node index, tensor index], found ${found(x)}`);
}

function safeJson(v: unknown): string {
  try {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 120 ? `${s.slice(0, 120)}…` : s;
  } catch {
    return String(v);
  }
}

/** A layer config value as an attribute: scalars, strings and uniform arrays typed; everything else JSON. */
function configValue(v: unknown): AttributeValue {
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'int', value: v } : { type: 'float', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (Array.isArray(v) && v.length > 0) {
    if (v.every((x) => Number.isInteger(x))) return { type: 'ints', value: v as number[] };
    if (v.every((x) => typeof x === 'number')) return { type: 'floats', value: v as number[] };
    if (v.every((x) => typeof x === 'string')) return { type: 'strings', value: v as string[] };
  }
  return { type: 'json', value: v };
}

function layerAttributes(config: unknown): Attribute[] {
  if (!isObj(config)) return [];
  const out: Attribute[] = [];
  for (const [name, v] of Object.entries(config)) {
    if (name === 'name') continue;
    out.push({ name, value: configValue(v) });
  }
  return out;
}
