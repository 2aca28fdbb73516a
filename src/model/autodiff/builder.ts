/**
 * Emits the nodes of a gradient graph: fresh names that cannot collide with the model's, constants, and the
 * opset-dependent spellings of the shape ops the VJP rules need (ReduceSum's axes became an input at 13,
 * ReduceMean's at 18, Squeeze/Unsqueeze/Split's at 13, Slice's starts/ends at 10). Never raises the opset:
 * where a form does not exist at the model's opset, the rule gets a typed error.
 */
import { AutodiffError } from './errors';
import type { GraphFacts, Shape } from './infer';
import { ELEM, makeAttrs, makeTensor, type AttrValue, type NodeProto } from './protoUtil';

export class GradBuilder {
  readonly nodes: NodeProto[] = [];
  private counter = 0;
  private readonly cache = new Map<string, string>();
  /** The node being differentiated, for error messages. */
  current?: NodeProto;

  constructor(
    readonly opset: number,
    readonly facts: GraphFacts,
    private readonly taken: Set<string>,
    readonly prefix: string,
  ) {}

  /** A name that no value, node or graph input/output of the model uses. */
  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}${hint}_${this.counter++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }

  /** Emits one node; returns its output names. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, nOut = 1): string[] {
    const outputs = Array.from({ length: nOut }, () => this.fresh(op.toLowerCase()));
    this.nodes.push({ op_type: op, domain: '', name: this.fresh(`n_${op}`), input: inputs, output: outputs, attribute: makeAttrs(attrs) });
    return outputs;
  }

  op(op: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}): string {
    return this.node(op, inputs, attrs)[0];
  }

  fail(detail: string): never {
    const n = this.current;
    throw new AutodiffError('unsupported-case', detail, n ? n.name || n.output?.[0] : undefined, n?.op_type);
  }

  need(minOpset: number, what: string): void {
    if (this.opset < minOpset) this.fail(`${what} needs default-domain opset ≥ ${minOpset}, the model imports ${this.opset} (the opset is never raised)`);
  }

  private cached(key: string, make: () => string): string {
    let v = this.cache.get(key);
    if (!v) this.cache.set(key, (v = make()));
    return v;
  }

  /** An int64 constant (1-D unless `dims` says otherwise). */
  ints(values: number[], dims: number[] = [values.length]): string {
    return this.cached(`i64:${dims.join('x')}:${values.join(',')}`, () => this.op('Constant', [], { value: { tensor: makeTensor(ELEM.INT64, dims, values) } }));
  }

  /** A scalar constant of float element type `elem` (half types via a float32 constant and a Cast). */
  scalar(value: number, elem: number): string {
    return this.cached(`f:${elem}:${value}`, () => {
      if (elem === ELEM.FLOAT || elem === ELEM.DOUBLE) return this.op('Constant', [], { value: { tensor: makeTensor(elem, [], [value]) } });
      const f = this.op('Constant', [], { value: { tensor: makeTensor(ELEM.FLOAT, [], [value]) } });
      return this.op('Cast', [f], { to: elem });
    });
  }

  dtype(name: string): number {
    return this.facts.dtype.get(name) ?? ELEM.FLOAT;
  }

  shape(name: string): Shape | undefined {
    return this.facts.shape.get(name);
  }

  /** Static shape with every dimension a number, or undefined. */
  numShape(name: string): number[] | undefined {
    const s = this.facts.shape.get(name);
    return s && s.every((d) => typeof d === 'number') ? (s as number[]) : undefined;
  }

  rank(name: string): number | undefined {
    return this.facts.shape.get(name)?.length;
  }

  shapeOf(name: string): string {
    return this.cached(`shape:${name}`, () => {
      const s = this.numShape(name);
      return s ? this.ints(s) : this.op('Shape', [name]);
    });
  }

  /** A tensor of `value` with the shape and float type of `like`. */
  fill(like: string, value: number, elem = this.dtype(like)): string {
    if (elem === ELEM.FLOAT || elem === ELEM.DOUBLE) {
      return this.op('ConstantOfShape', [this.shapeOf(like)], { value: { tensor: makeTensor(elem, [1], [value]) } });
    }
    const f = this.op('ConstantOfShape', [this.shapeOf(like)], { value: { tensor: makeTensor(ELEM.FLOAT, [1], [value]) } });
    return this.op('Cast', [f], { to: elem });
  }

  reduceSum(x: string, axes: number[], keepdims: number): string {
    if (axes.length === 0) return x;
    if (this.opset >= 13) return this.op('ReduceSum', [x, this.ints(axes)], { keepdims });
    return this.op('ReduceSum', [x], { axes, keepdims });
  }

  /** ReduceSum over axes computed at run time (an int64 1-D value; empty = no reduction). */
  reduceSumDyn(x: string, axes: string, keepdims: number): string {
    this.need(13, 'a reduction over axes known only at run time');
    return this.op('ReduceSum', [x, axes], { keepdims, noop_with_empty_axes: 1 });
  }

  unsqueeze(x: string, axes: number[]): string {
    if (axes.length === 0) return x;
    return this.opset >= 13 ? this.op('Unsqueeze', [x, this.ints(axes)]) : this.op('Unsqueeze', [x], { axes });
  }

  squeeze(x: string, axes: number[]): string {
    if (axes.length === 0) return x;
    return this.opset >= 13 ? this.op('Squeeze', [x, this.ints(axes)]) : this.op('Squeeze', [x], { axes });
  }

  /** Slice with constant starts/ends/axes (steps only from opset 10). */
  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    if (this.opset >= 10) {
      const ins = [x, this.ints(starts), this.ints(ends), this.ints(axes)];
      if (steps) ins.push(this.ints(steps));
      return this.op('Slice', ins);
    }
    if (steps && steps.some((s) => s !== 1)) this.fail('a strided Slice');
    return this.op('Slice', [x], { starts, ends, axes });
  }

  /** Elements [start, end) of a 1-D int64 value. */
  slice1d(x: string, start: number, end: number): string {
    return this.slice(x, [start], [end], [0]);
  }

  reshape(x: string, shape: string): string {
    return this.op('Reshape', [x, shape]);
  }

  /** Reshape to the (static when known) shape of `like`. */
  reshapeLike(x: string, like: string): string {
    return this.reshape(x, this.shapeOf(like));
  }

  transpose(x: string, perm: number[]): string {
    if (perm.every((p, i) => p === i)) return x;
    return this.op('Transpose', [x], { perm });
  }

  /** The int64 ramp [0, 1, …, n − 1] for a scalar int64 n: Range from opset 11, NonZero of ones before. */
  ramp(n: string): string {
    if (this.opset >= 11) return this.op('Range', [this.ints([0], []), n, this.ints([1], [])]);
    const ones = this.op('ConstantOfShape', [this.reshape(n, this.ints([1]))], { value: { tensor: makeTensor(ELEM.INT64, [1], [1]) } });
    return this.reshape(this.op('NonZero', [ones]), this.ints([-1]));
  }

  /** Σ of several cotangents (one Sum node). */
  sum(parts: string[]): string {
    return parts.length === 1 ? parts[0] : this.op('Sum', parts);
  }

  /** A float64/float32 cast of an int64 value to the float type `elem`. */
  toFloat(x: string, elem: number): string {
    return this.op('Cast', [x], { to: elem });
  }

  /**
   * Reduces the cotangent `g` of a broadcasting op's output `y` to the shape of its operand `ref`:
   * g_ref = ReduceSum over the axes where ref was broadcast, reshaped to ref's shape.
   * Static when ref's dimensions are known (a 1 or a number, or a symbol equal to y's at that axis) and y's
   * rank is known; otherwise computed at run time from Shape(g) and Shape(ref) (opset ≥ 13).
   */
  sumToShape(g: string, ref: string, y: string, others: string[] = []): string {
    return this.sumToShapeOf(g, this.shape(y), ref, this.shape(ref), others.map((o) => this.shape(o)));
  }

  /**
   * {@link sumToShape} with the shapes of g and ref given (for values the facts do not cover). `others`: the
   * shapes of the op's other operands; an axis where each of them is absent or 1 was not broadcast in ref
   * whatever ref's dimension there.
   */
  sumToShapeOf(g: string, sy: Shape | undefined, ref: string, sr: Shape | undefined, others: (Shape | undefined)[] = []): string {
    if (sr && sy && sr.length <= sy.length) {
      const lead = sy.length - sr.length;
      const axes: number[] = [];
      const uncertain: number[] = [];
      for (let i = lead; i < sy.length; i++) {
        const d = sr[i - lead];
        if (d === 1) {
          if (sy[i] !== 1) axes.push(i);
        } else if (d === null || (typeof d === 'string' && d !== sy[i])) {
          const notBroadcast = others.length > 0 && others.every((o) => o !== undefined && (i < sy.length - o.length || o[i - (sy.length - o.length)] === 1));
          if (!notBroadcast) uncertain.push(i);
        }
      }
      const leadAxes = Array.from({ length: lead }, (_, i) => i);
      if (uncertain.length === 0) {
        if (axes.length === 0) return lead ? this.reduceSum(g, leadAxes, 0) : g;
        if (lead === 0) return this.reduceSum(g, axes, 1);
        return this.reduceSum(this.reduceSum(g, axes, 1), leadAxes, 0);
      }
      if (this.opset < 13 && this.opset >= 10) {
        // Per uncertain axis a: where ref's size there is 1 at run time, the sum over a, else g unchanged —
        // Where(dim = 1, Σ_a g, g) broadcast to g's shape, then its first dim(ref, a) elements along a.
        let r = this.reduceSum(g, axes, 1);
        const shapeR = this.op('Shape', [ref]);
        for (const a of uncertain) {
          const dim = this.slice1d(shapeR, a - lead, a - lead + 1);
          const pick = this.op('Where', [this.op('Equal', [dim, this.ints([1])]), this.reduceSum(r, [a], 1), r]);
          r = this.op('Slice', [pick, this.ints([0]), dim, this.ints([a])]);
        }
        return lead ? this.reduceSum(r, leadAxes, 0) : r;
      }
    }
    // Dynamic: pad Shape(ref) with leading ones to g's rank; reduce where it is 1 (harmless where g's is 1 too).
    this.need(13, `reducing a broadcast cotangent to the shape of '${ref}' whose shape is not known statically`);
    const shapeG = this.op('Shape', [g]);
    const shapeR = this.op('Shape', [ref]);
    const lead = this.op('Sub', [this.op('Shape', [shapeG]), this.op('Shape', [shapeR])]);
    const ones = this.op('ConstantOfShape', [lead], { value: { tensor: makeTensor(ELEM.INT64, [1], [1]) } });
    const padded = this.op('Concat', [ones, shapeR], { axis: 0 });
    const mask = this.op('Equal', [padded, this.ints([1], [])]);
    const axes = this.reshape(this.op('NonZero', [mask]), this.ints([-1]));
    return this.reshape(this.reduceSumDyn(g, axes, 1), shapeR);
  }
}
