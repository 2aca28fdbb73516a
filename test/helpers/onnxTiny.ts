/**
 * Tiny ONNX models built in TypeScript for the autodiff tests: float tensors are graph inputs fed random
 * values (so finite differences can perturb them), integer/bool tensors and chosen float weights initializers.
 */
import type { OnnxModelProto } from '../../src/model/formats/onnx';
import { makeAttrs, makeTensor, type AttrValue } from '../../src/model/autodiff/protoUtil';
import { mulberry32 } from './random';

export type FloatType = 'float32' | 'float64';

export interface TinyNodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
}

export interface TinyInitSpec {
  shape: number[];
  /** Fixed values (ints for int64/bool); random floats in U(−1, 1) when absent. */
  data?: number[];
  elem?: 'float' | 'int64' | 'bool';
}

export interface TinySpec {
  opset: number;
  /** Float graph inputs and their shapes (a name → a shape; symbolic dims as strings). */
  inputs: Record<string, (number | string)[]>;
  inits?: Record<string, TinyInitSpec>;
  nodes: TinyNodeSpec[];
  /** The single graph output differentiated in the tests. */
  output: string;
  /** Feed shapes where `inputs` has symbolic dims. */
  feedShapes?: Record<string, number[]>;
}

/** A deterministic PRNG (mulberry32, test/helpers/random.ts). */
export const rng = mulberry32;

export const ELEM_OF: Record<FloatType, number> = { float32: 1, float64: 11 };

/** Builds the model in the given float type; random initializer values come from `rand`. */
export function tinyModel(spec: TinySpec, dtype: FloatType, rand: () => number): OnnxModelProto {
  const elem = ELEM_OF[dtype];
  const initializer = Object.entries(spec.inits ?? {}).map(([name, t]) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const e = t.elem === 'int64' ? 7 : t.elem === 'bool' ? 9 : elem;
    const data = t.data ?? Array.from({ length: n }, () => 2 * rand() - 1);
    return makeTensor(e, t.shape, data, name);
  });
  const vi = (name: string, shape: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: elem, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  });
  return {
    ir_version: spec.opset >= 19 ? 9 : 8,
    opset_import: [{ domain: '', version: spec.opset }],
    producer_name: 'autodiff-test',
    graph: {
      name: 'tiny',
      node: spec.nodes.map((n, i) => ({ name: `${n.op}_${i}`, op_type: n.op, domain: '', input: n.inputs, output: n.outputs, attribute: makeAttrs(n.attrs ?? {}) })),
      initializer,
      input: Object.entries(spec.inputs).map(([n, s]) => vi(n, s)),
      output: [{ name: spec.output, type: { tensor_type: { elem_type: elem } } }],
    },
  };
}

