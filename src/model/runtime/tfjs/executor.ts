/**
 * Executes an ONNX IR graph with tfjs-core ops, so that it can be differentiated (grad.ts).
 *
 * - Support is checked before anything runs: {@link checkSupported} lists op types the table lacks.
 * - Initializers (and tensor-valued attributes) are read once, at {@link TfjsGraphExecutor.create}.
 * - {@link TfjsGraphExecutor.run} starts from graph inputs; {@link TfjsGraphExecutor.runFrom} starts from any
 *   set of values (a "cut": intermediates, and graph inputs still needed by paths that bypass it). Only the
 *   nodes between the given values and the fetches run, in topological order; intermediates are disposed as
 *   soon as their last consumer has run, and the whole pass is inside tf.tidy so an error leaks nothing.
 */
import type { GraphNode, LoadedModel, ModelGraph, TensorInfo } from '../../ir';
import { Attrs, type OpContext } from './context';
import { TranslatorError, UnsupportedOpsError } from './errors';
import { isDefaultDomain, lookupOp, opKey } from './ops';
import { tensorFromLoaded } from './tensors';
import { tf } from './tf';
import { topologicalOrder } from '../../graphOrder';

export interface UnsupportedOp {
  /** `Conv`, or `domain.Op` outside the default domain. */
  op: string;
  count: number;
  /** Ids of the nodes using it (first 10). */
  nodes: string[];
}

/** Op types of `graph` the translator cannot run, most used first. */
export function unsupportedOps(graph: Pick<ModelGraph, 'nodes'>): UnsupportedOp[] {
  const found = new Map<string, UnsupportedOp>();
  for (const n of graph.nodes) {
    if (lookupOp(n)) continue;
    const op = opKey(n);
    const u = found.get(op) ?? { op, count: 0, nodes: [] };
    u.count++;
    if (u.nodes.length < 10) u.nodes.push(n.id);
    found.set(op, u);
  }
  return [...found.values()].sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
}

/** Names of the op types of `graph` the translator cannot run (empty when it can run all of them). */
export function checkSupported(graph: Pick<ModelGraph, 'nodes'>): string[] {
  return unsupportedOps(graph).map((u) => u.op);
}

/** @throws UnsupportedOpsError naming every unsupported op type with its count. */
export function assertSupported(graph: Pick<ModelGraph, 'nodes' | 'file'>): void {
  const u = unsupportedOps(graph);
  if (u.length) throw new UnsupportedOpsError(u, graph.file);
}

/** Version of the default-domain opset a graph imports (17 when it imports none, e.g. ML-only graphs). */
export function defaultOpset(graph: Pick<ModelGraph, 'opsets'>): number {
  const o = graph.opsets.find((x) => isDefaultDomain(x.domain));
  return o && Number.isFinite(o.version) ? o.version : 17;
}

interface Plan {
  nodes: number[];
  uses: Map<string, number>;
}

export class TfjsGraphExecutor {
  readonly graph: ModelGraph;
  readonly opset: number;
  private readonly order: GraphNode[];
  private readonly attrs: Attrs[];
  private readonly producer = new Map<string, number>();
  private readonly initializers = new Map<string, tf.Tensor>();
  /** Why an initializer could not become a tfjs tensor (string data, …); raised only if a run needs it. */
  private readonly badInitializers = new Map<string, string>();
  private readonly attrTensors = new Map<string, tf.Tensor>();
  private readonly persistent = new Set<tf.Tensor>();
  private readonly plans = new Map<string, Plan>();
  private disposed = false;

  private constructor(graph: ModelGraph) {
    this.graph = graph;
    this.opset = defaultOpset(graph);
    this.order = topoSort(graph);
    this.order.forEach((n, i) => n.outputs.forEach((o) => o && this.producer.set(o, i)));
    this.attrs = this.order.map((n) => new Attrs(n.attributes, n));
  }

  /**
   * Builds an executor: checks op support, then reads every initializer and tensor attribute once.
   * @throws UnsupportedOpsError before reading anything when the graph uses ops the table lacks
   */
  static async create(model: LoadedModel): Promise<TfjsGraphExecutor> {
    assertSupported(model.graph);
    const ex = new TfjsGraphExecutor(model.graph);
    try {
      for (const [name, info] of Object.entries(model.graph.tensors)) {
        if (model.graph.values[name]?.kind !== 'initializer') continue;
        try {
          const t = tensorFromLoaded(await model.readTensor(name));
          ex.initializers.set(name, t);
          ex.persistent.add(t);
        } catch (e) {
          if (!(e instanceof TranslatorError)) throw e;
          ex.badInitializers.set(name, `${info.dtype} initializer: ${e.detail}`);
        }
      }
      for (const n of model.graph.nodes) {
        for (const a of n.attributes) {
          const infos: TensorInfo[] = a.value.type === 'tensor' ? [a.value.value] : a.value.type === 'tensors' ? a.value.value : [];
          for (const info of infos) {
            if (ex.attrTensors.has(info.name)) continue;
            try {
              const t = tensorFromLoaded(await model.readTensor(info.name));
              ex.attrTensors.set(info.name, t);
              ex.persistent.add(t);
            } catch (e) {
              if (!(e instanceof TranslatorError)) throw e;
            }
          }
        }
      }
    } catch (e) {
      ex.dispose();
      throw e;
    }
    return ex;
  }

  /** The tfjs tensor of initializer `name` (owned by the executor: do not dispose). */
  initializer(name: string): tf.Tensor | undefined {
    return this.initializers.get(name);
  }

  /**
   * Runs the graph from graph inputs. Returns one new tensor per fetch (the caller disposes them).
   * @throws TranslatorError `bad-request` when a feed is not a graph input or a needed input is missing
   */
  run(feeds: Record<string, tf.Tensor>, fetches: string[]): tf.Tensor[] {
    const inputs = new Set(this.graph.inputs);
    const stray = Object.keys(feeds).filter((k) => !inputs.has(k));
    if (stray.length) {
      throw new TranslatorError(
        'bad-request',
        `run(): ${stray.map((s) => `'${s}'`).join(', ')} ${stray.length === 1 ? 'is' : 'are'} not graph input(s) (inputs: ${this.graph.inputs.join(', ')}); use runFrom() to start from intermediate values`,
      );
    }
    return this.execute(feeds, fetches);
  }

  /**
   * Runs the part of the graph between the given values (any value ids: graph inputs, intermediates, even
   * initializers to override weights) and the fetches. Values upstream of the cut are not computed.
   * @throws TranslatorError `bad-request` when a name is unknown or a graph input the fetches need is missing
   */
  runFrom(cut: Record<string, tf.Tensor>, fetches: string[]): tf.Tensor[] {
    const unknown = Object.keys(cut).filter((k) => !this.graph.values[k]);
    if (unknown.length) {
      throw new TranslatorError('bad-request', `runFrom(): no value named ${unknown.map((s) => `'${s}'`).join(', ')} in this graph`);
    }
    return this.execute(cut, fetches);
  }

  /** Frees the initializer tensors. The executor cannot run afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.persistent) t.dispose();
    this.persistent.clear();
    this.initializers.clear();
    this.attrTensors.clear();
  }

  private plan(given: ReadonlySet<string>, fetches: string[]): Plan {
    const key = `${[...given].sort().join('\u0000')}\u0001${fetches.join('\u0000')}`;
    const cached = this.plans.get(key);
    if (cached) return cached;
    const needed = new Set<number>();
    const missing = new Set<string>();
    const seen = new Set<string>();
    const stack = [...fetches];
    while (stack.length) {
      const v = stack.pop() as string;
      if (seen.has(v)) continue;
      seen.add(v);
      if (given.has(v)) continue;
      if (this.initializers.has(v)) continue;
      const bad = this.badInitializers.get(v);
      if (bad) throw new TranslatorError('unsupported-feature', `value '${v}' is a ${bad}`);
      const p = this.producer.get(v);
      if (p === undefined) {
        if (!this.graph.values[v]) throw new TranslatorError('bad-request', `no value named '${v}' in this graph`);
        missing.add(v);
        continue;
      }
      needed.add(p);
      for (const i of this.order[p].inputs) if (i) stack.push(i);
    }
    if (missing.size) {
      throw new TranslatorError(
        'bad-request',
        `computing ${fetches.map((f) => `'${f}'`).join(', ')} needs ${[...missing].map((m) => `'${m}'`).join(', ')}, which ${missing.size === 1 ? 'was' : 'were'} not given`,
      );
    }
    const nodes = [...needed].sort((a, b) => a - b);
    const uses = new Map<string, number>();
    for (const n of nodes) for (const i of this.order[n].inputs) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
    const plan = { nodes, uses };
    if (this.plans.size > 64) this.plans.clear();
    this.plans.set(key, plan);
    return plan;
  }

  private execute(given: Record<string, tf.Tensor>, fetches: string[]): tf.Tensor[] {
    if (this.disposed) throw new TranslatorError('bad-request', 'this executor has been disposed');
    const givenSet = new Set(Object.keys(given));
    const { nodes, uses } = this.plan(givenSet, fetches);
    const pinned = new Set(fetches);
    return tf.tidy(() => {
      const env = new Map<string, tf.Tensor>();
      const remaining = new Map(uses);
      const get = (v: string): tf.Tensor | undefined => given[v] ?? env.get(v) ?? this.initializers.get(v);
      for (const idx of nodes) {
        const node = this.order[idx];
        const entry = lookupOp(node);
        if (!entry) throw new TranslatorError('unsupported-op', `op ${opKey(node)} is not implemented`, node);
        const ins = node.inputs.map((v) => (v ? get(v) : undefined));
        const wants = (i: number): boolean => {
          const o = node.outputs[i];
          return !!o && ((remaining.get(o) ?? 0) > 0 || pinned.has(o));
        };
        const ctx: OpContext = {
          node,
          opset: this.opset,
          outputCount: node.outputs.length,
          wantsOutput: wants,
          attrTensor: (info) => {
            const t = this.attrTensors.get(info.name);
            if (!t) throw new TranslatorError('unsupported-feature', `tensor attribute '${info.name}' (${info.dtype}) cannot be held by tfjs`, node);
            return t;
          },
          fail: (code, detail) => {
            throw new TranslatorError(code, detail, node);
          },
        };
        let outs: tf.Tensor[];
        try {
          outs = entry.fn(ins, this.attrs[idx], ctx);
        } catch (e) {
          throw asNodeError(e, node);
        }
        const taken = new Set<tf.Tensor>();
        node.outputs.forEach((o, i) => {
          let t = outs[i];
          if (!o) return;
          if (!t) {
            if (wants(i)) throw new TranslatorError('unsupported-feature', `output #${i} ('${o}') is not produced by the translator`, node);
            return;
          }
          // An op may hand back an input or a kept tensor unchanged; give the value a tensor of its own so
          // disposing it later cannot free something else.
          if (this.persistent.has(t) || ins.includes(t) || taken.has(t) || Object.values(given).includes(t)) t = tf.clone(t);
          taken.add(t);
          if (wants(i)) env.set(o, t);
          else t.dispose();
        });
        for (const t of outs.slice(node.outputs.length)) if (!taken.has(t)) t.dispose();
        for (const v of node.inputs) {
          if (!v || !env.has(v)) continue;
          const left = (remaining.get(v) ?? 1) - 1;
          remaining.set(v, left);
          if (left === 0 && !pinned.has(v)) {
            env.get(v)?.dispose();
            env.delete(v);
          }
        }
      }
      return fetches.map((f) => {
        const t = env.get(f);
        if (t) return t;
        const src = given[f] ?? this.initializers.get(f);
        if (!src) throw new TranslatorError('bad-request', `no value '${f}' was computed`);
        return tf.clone(src);
      });
    });
  }
}

function asNodeError(e: unknown, node: GraphNode): TranslatorError {
  if (e instanceof TranslatorError) return e.node ? e : new TranslatorError(e.code, e.detail, node);
  const msg = e instanceof Error ? e.message : String(e);
  return new TranslatorError('invalid-node', `tfjs failed: ${msg}`, node);
}

/** The executor's node order. @throws TranslatorError on a cycle. */
function topoSort(graph: ModelGraph): GraphNode[] {
  const { order, stuck } = topologicalOrder(graph);
  if (stuck.length) {
    throw new TranslatorError('invalid-node', `the graph has a cycle (nodes ${stuck.slice(0, 5).map((n) => n.id).join(', ')} never become ready)`);
  }
  return order;
}
