/**
 * Synthetic ONNX graphs for the render benchmark: pre-norm transformer-style blocks (15 operators each:
 * LayerNorm, Q/K/V projections, K transpose, scores, softmax, context, output projection, residual Add,
 * LayerNorm, MLP with Relu, residual Add), chained until the requested operator count. `scoped` names the operators like
 * torch exports (`/blocks.3/attn/MatMul`), so the view starts collapsed; unscoped graphs are flat and every
 * operator is drawn — the stress case, comparable with Netron (which always draws everything).
 */
import protobuf from 'protobufjs';
import { ONNX_SCHEMA } from '../../src/model/formats/onnxSchema';
import type { ModelGraph } from '../../src/shared/ir';

const schema = protobuf.Root.fromJSON(ONNX_SCHEMA);
const ModelProto = schema.lookupType('onnx.ModelProto');

type Obj = Record<string, unknown>;

export const OPS_PER_BLOCK = 15;

export function syntheticOnnx(targetNodes: number, scoped: boolean, width = 16): Uint8Array {
  const blocks = Math.max(1, Math.round(targetNodes / OPS_PER_BLOCK));
  const nodes: Obj[] = [];
  const inits: Obj[] = [];
  const zeros = (n: number): Uint8Array => new Uint8Array(n * 4);
  const weight = (name: string, dims: number[]): string => {
    inits.push({ name, data_type: 1, dims, raw_data: zeros(dims.reduce((a, b) => a * b, 1)) });
    return name;
  };
  const name = (b: number, sub: string, op: string, k = ''): string => (scoped ? `/blocks.${b}/${sub}/${op}${k}` : `node_${nodes.length}`);
  let x = 'input';
  for (let b = 0; b < blocks; b++) {
    const p = `b${b}`;
    const add = (sub: string, op: string, inputs: string[], k = '', attrs: Obj[] = []): string => {
      const out = `${p}_${sub}_${op}${k}_out`;
      nodes.push({ name: name(b, sub, op, k), op_type: op, input: inputs, output: [out], attribute: attrs });
      return out;
    };
    const ln1 = add('ln1', 'LayerNormalization', [x, weight(`${p}.ln1.g`, [width]), weight(`${p}.ln1.b`, [width])], '', [{ name: 'axis', type: 2, i: -1 }]);
    const q = add('attn', 'MatMul', [ln1, weight(`${p}.attn.q`, [width, width])], '_q');
    const k = add('attn', 'MatMul', [ln1, weight(`${p}.attn.k`, [width, width])], '_k');
    const v = add('attn', 'MatMul', [ln1, weight(`${p}.attn.v`, [width, width])], '_v');
    const kt = add('attn', 'Transpose', [k], '', [{ name: 'perm', type: 7, ints: [0, 2, 1] }]);
    const s = add('attn', 'MatMul', [q, kt], '_scores');
    const pr = add('attn', 'Softmax', [s], '', [{ name: 'axis', type: 2, i: -1 }]);
    const ctx = add('attn', 'MatMul', [pr, v], '_ctx');
    const o = add('attn', 'MatMul', [ctx, weight(`${p}.attn.o`, [width, width])], '_out');
    const r1 = add('res1', 'Add', [x, o]);
    const ln2 = add('ln2', 'LayerNormalization', [r1, weight(`${p}.ln2.g`, [width]), weight(`${p}.ln2.b`, [width])], '', [{ name: 'axis', type: 2, i: -1 }]);
    const h1 = add('mlp', 'MatMul', [ln2, weight(`${p}.mlp.fc1`, [width, width])], '_fc1');
    const a1 = add('mlp', 'Relu', [h1]);
    const h2 = add('mlp', 'MatMul', [a1, weight(`${p}.mlp.fc2`, [width, width])], '_fc2');
    x = add('res2', 'Add', [r1, h2]);
  }
  const vi = (n: string): Obj => ({ name: n, type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }, { dim_value: 8 }, { dim_value: width }] } } } });
  const m: Obj = {
    ir_version: 8,
    producer_name: 'circuitscope-bench',
    opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'synthetic', node: nodes, initializer: inits, input: [vi('input')], output: [vi(x)] },
  };
  const err = ModelProto.verify(m);
  if (err) throw new Error(`synthetic model does not verify: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(m)).finish();
}

/**
 * The unscoped stress case stays flat: the loader groups its repeated blocks (src/model/motifs.ts), which would
 * draw 1/15 of the operators collapsed; the benchmark keeps measuring every operator drawn (as Netron draws
 * them), so those found blocks are dropped (the synthetic unscoped graph has no other groups).
 */
export function benchGraph(g: ModelGraph, scoped: boolean): ModelGraph {
  return scoped ? g : { ...g, hierarchy: g.hierarchy.filter((h) => !h.motif) };
}
