/**
 * Reverse-mode automatic differentiation of ONNX graphs, as ONNX: {@link buildGradientModel} appends to a
 * model the nodes computing the cotangents of chosen sources (graph inputs, initializers or intermediate
 * values) for a scalar objective or seeded values, so that one onnxruntime session computes the forward
 * values and the gradients. Pure graph transformation over the decoded protobuf; the input is not mutated.
 *
 * Which nodes get a VJP: those with a differentiable input that descends from a source (integer and bool
 * values never carry a gradient) and an output the objective depends on. Contributions to a value from
 * several consumers are accumulated with one Sum node; the rules are in vjpMath.ts, vjpShape.ts, vjpNn.ts.
 */
import { topoSort } from '../onnxBuild';
import type { OnnxModelProto, OnnxValueInfoProto } from '../formats/onnx';
import { GradBuilder } from './builder';
import { AutodiffError } from './errors';
import { inferFacts } from './infer';
import { defaultOpset, FLOAT_ELEMS, type NodeProto } from './protoUtil';
import { NO_GRAD, type VjpContext, type VjpRule } from './rule';
import { MATH_RULES } from './vjpMath';
import { NN_RULES } from './vjpNn';
import { SHAPE_RULES } from './vjpShape';

export interface GradientSpec {
  /** What to differentiate: a scalar value of the graph (a non-scalar one is summed), or values whose
   *  cotangents become new graph inputs (VJP seeds; several seeds mean the objective Σ_i ⟨seed_i, value_i⟩). */
  objective: { scalar: string } | { seeds: string[] };
  /** Graph inputs, initializers or intermediate values; the gradient at an intermediate value is the total
   *  derivative of the objective with respect to that value. A source the objective does not depend on gets zeros. */
  sources: string[];
  /** Forward values to expose as outputs too (the original graph outputs are dropped unless listed). */
  outputs?: string[];
}

export interface GradientModel {
  /** Encode with encodeModelProto and create an ORT session from the bytes. */
  model: OnnxModelProto;
  /** Source name → graph output name holding d objective / d source. */
  grads: Record<string, string>;
  /** Seeded value name → graph input name for its cotangent. */
  seeds: Record<string, string>;
}

export const RULES: Record<string, VjpRule> = { ...MATH_RULES, ...SHAPE_RULES, ...NN_RULES };

/** Op types with a VJP rule. */
export function supportedGradientOps(): string[] {
  return Object.keys(RULES).sort();
}

const nodeLabel = (n: NodeProto): string => n.name || n.output?.[0] || '?';

function diffInputs(rule: VjpRule, n: NodeProto, opset: number): number[] {
  return typeof rule.diff === 'function' ? rule.diff(n, opset) : rule.diff;
}

interface Plan {
  order: NodeProto[];
  /** Values that descend from a source through differentiable inputs. */
  live: Set<string>;
  /** Values the objective depends on. */
  needed: Set<string>;
}

function plan(order: NodeProto[], sources: string[], objective: string[], isFloat: (v: string) => boolean): Plan {
  const live = new Set(sources);
  for (const n of order) {
    const op = n.op_type ?? '';
    if (NO_GRAD.has(op) || (n.domain && n.domain !== 'ai.onnx')) {
      // Custom-domain ops: a live input reaching one is caught below when the objective needs it.
      if (n.domain && n.domain !== 'ai.onnx' && (n.input ?? []).some((i) => live.has(i))) n.output?.forEach((o) => o && isFloat(o) && live.add(o));
      continue;
    }
    // Every live input counts (a float input a rule does not differentiate is refused in backprop rather
    // than silently given no gradient); integer and bool values are never live.
    const reach = (n.input ?? []).some((i) => i && live.has(i));
    if (reach) n.output?.forEach((o) => o && isFloat(o) && live.add(o));
  }
  const needed = new Set(objective);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k];
    if (n.output?.some((o) => needed.has(o))) n.input?.forEach((i) => i && needed.add(i));
  }
  return { order, live, needed };
}

function checkNames(model: OnnxModelProto, spec: GradientSpec, known: Set<string>): void {
  const objective = 'scalar' in spec.objective ? [spec.objective.scalar] : spec.objective.seeds;
  if (!objective.length) throw new AutodiffError('bad-request', 'expected at least one seeded value in the objective, found none');
  if (!spec.sources.length) throw new AutodiffError('bad-request', 'expected at least one source, found none');
  const unknown = [...objective, ...spec.sources, ...(spec.outputs ?? [])].filter((n) => !known.has(n));
  if (unknown.length) {
    throw new AutodiffError('unknown-name', `expected values of graph '${model.graph?.name ?? ''}', found unknown ${unknown.map((u) => `'${u}'`).join(', ')}`);
  }
}

/**
 * Builds one ONNX model computing the forward values and d objective / d source for each source.
 * @throws AutodiffError: unknown name, non-float source or seed, op without a rule on a differentiable path
 *   (naming the node and op), a rule not expressible at the model's opset
 */
export function buildGradientModel(model: OnnxModelProto, spec: GradientSpec): GradientModel {
  const graph = model.graph;
  if (!graph) throw new AutodiffError('bad-request', 'expected a ModelProto with a graph, found none');
  const opset = defaultOpset(model);
  if (opset < 9) {
    throw new AutodiffError('unsupported-case', `expected a model importing default-domain opset ≥ 9 (ConstantOfShape, Where, NonZero), found ${opset}`);
  }
  const nodes = graph.node ?? [];
  const order = topoSort(nodes); // ONNX requires producers first; re-checked (a cycle throws)
  const known = new Set<string>();
  for (const v of graph.input ?? []) if (v.name) known.add(v.name);
  for (const t of graph.initializer ?? []) if (t.name) known.add(t.name);
  for (const n of nodes) n.output?.forEach((o) => o && known.add(o));
  checkNames(model, spec, known);
  const taken = new Set(known);
  for (const n of nodes) if (n.name) taken.add(n.name);
  for (const v of [...(graph.output ?? []), ...(graph.value_info ?? [])]) if (v.name) taken.add(v.name);
  const facts = inferFacts(graph, order);
  const isFloat = (v: string): boolean => {
    const d = facts.dtype.get(v);
    return d === undefined || FLOAT_ELEMS.has(d);
  };
  const seedNames = 'seeds' in spec.objective ? spec.objective.seeds : [spec.objective.scalar];
  for (const v of [...spec.sources, ...seedNames]) {
    const d = facts.dtype.get(v);
    if (d !== undefined && !FLOAT_ELEMS.has(d)) {
      throw new AutodiffError('non-float', `expected a floating-point value, found '${v}' of element type ${d} (integer and bool values carry no gradient)`);
    }
  }
  const b = new GradBuilder(opset, facts, taken, '__grad_');
  const p = plan(order, spec.sources, seedNames, isFloat);

  // Seeds.
  const contrib = new Map<string, string[]>();
  const add = (v: string, g: string): void => {
    const list = contrib.get(v);
    if (list) list.push(g);
    else contrib.set(v, [g]);
  };
  const seeds: Record<string, string> = {};
  const newInputs: OnnxValueInfoProto[] = [];
  if ('scalar' in spec.objective) {
    add(spec.objective.scalar, b.fill(spec.objective.scalar, 1));
  } else {
    for (const v of spec.objective.seeds) {
      const name = b.fresh(`seed_${v}`);
      seeds[v] = name;
      // Element type only: a declared shape would make onnxruntime reject feeds on any inference slip.
      newInputs.push({ name, type: { tensor_type: { elem_type: b.dtype(v) } } });
      add(v, name);
    }
  }
  backprop(b, p, contrib, opset);
  return assemble(model, spec, b, contrib, seeds, newInputs);
}

/** Visits the nodes in reverse order and applies each rule to the accumulated output cotangents. */
function backprop(b: GradBuilder, p: Plan, contrib: Map<string, string[]>, opset: number): void {
  const total = (v: string): string | undefined => {
    const list = contrib.get(v);
    if (!list || list.length === 0) return undefined;
    const s = b.sum(list);
    contrib.set(v, [s]);
    return s;
  };
  for (let k = p.order.length - 1; k >= 0; k--) {
    const n = p.order[k];
    const outs = n.output ?? [];
    if (!outs.some((o) => o && p.live.has(o) && contrib.has(o))) continue;
    const op = n.op_type ?? '';
    const rule = n.domain && n.domain !== 'ai.onnx' ? undefined : RULES[op];
    // A node none of whose inputs descends from a source is upstream of every source: nothing to propagate.
    if (!(n.input ?? []).some((i) => i && p.live.has(i))) continue;
    if (!rule) {
      throw new AutodiffError('unsupported-op', `expected an op with a VJP rule on the differentiable path, found ${n.domain ? `${n.domain}::` : ''}${op} (supported: ${supportedGradientOps().join(', ')})`, nodeLabel(n), op);
    }
    const ins = n.input ?? [];
    const diff = new Set(diffInputs(rule, n, opset));
    const stray = ins.findIndex((i, j) => !diff.has(j) && !!i && p.live.has(i) && p.needed.has(i));
    if (stray >= 0) {
      throw new AutodiffError('unsupported-case', `expected input ${stray} ('${ins[stray]}') not to depend on a source (the ${op} rule does not differentiate it), found that it does`, nodeLabel(n), op);
    }
    const extra = rule.outputs === undefined ? -1 : outs.findIndex((o, j) => j >= rule.outputs! && !!o && p.live.has(o) && contrib.has(o));
    if (extra >= 0) {
      throw new AutodiffError('unsupported-case', `expected only output${rule.outputs === 1 ? ' 0' : `s 0–${rule.outputs! - 1}`} to reach the objective, found output ${extra} ('${outs[extra]}') too`, nodeLabel(n), op);
    }
    const needs = ins.map((i, j) => diff.has(j) && !!i && p.live.has(i) && p.needed.has(i));
    if (!needs.some((x) => x)) continue;
    b.current = n;
    const gy = outs.map((o) => (o && p.live.has(o) ? total(o) : undefined));
    const ctx: VjpContext = {
      b,
      node: n,
      x: ins,
      y: outs,
      gy,
      needs,
      opset,
      g: (j = 0) => gy[j] ?? b.fill(outs[j], 0),
    };
    const gx = rule.vjp(ctx);
    gx.forEach((g, j) => {
      if (g && needs[j]) contrib.set(ins[j], [...(contrib.get(ins[j]) ?? []), g]);
    });
  }
  b.current = undefined;
  for (const [v, list] of contrib) if (list.length > 1) contrib.set(v, [b.sum(list)]);
}

function assemble(
  model: OnnxModelProto,
  spec: GradientSpec,
  b: GradBuilder,
  contrib: Map<string, string[]>,
  seeds: Record<string, string>,
  newInputs: OnnxValueInfoProto[],
): GradientModel {
  const graph = model.graph!;
  const grads: Record<string, string> = {};
  const outputs: OnnxValueInfoProto[] = [];
  const declared = new Map([...(graph.value_info ?? []), ...(graph.output ?? []), ...(graph.input ?? [])].map((v) => [v.name, v]));
  for (const v of spec.outputs ?? []) outputs.push(declared.get(v) ?? { name: v });
  for (const s of spec.sources) {
    if (grads[s]) continue;
    const g = contrib.get(s)?.[0] ?? b.fill(s, 0);
    const name = b.fresh(`grad_${s}`);
    b.nodes.push({ op_type: 'Identity', domain: '', name: b.fresh('n_Identity'), input: [g], output: [name] });
    grads[s] = name;
    outputs.push({ name, type: { tensor_type: { elem_type: b.dtype(s) } } });
  }
  const out: OnnxModelProto = {
    ...model,
    graph: { ...graph, node: [...(graph.node ?? []), ...b.nodes], input: [...(graph.input ?? []), ...newInputs], output: outputs },
  };
  return { model: out, grads, seeds };
}
