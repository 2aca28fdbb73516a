/**
 * `npm run bench autodiff`: the backward pass of a GPT-2-shaped MLP layer (Y = X·W + b, 512 tokens, 768 → 3072)
 * through the ONNX gradient graph run by onnxruntime vs the tfjs translator's vjp, in the same run.
 * Backward = G·Wᵀ and Xᵀ·G: 2 × 2·512·3072·768 = 4.83 GFLOP. The gradient graph also runs the forward product
 * (2.42 GFLOP), timed alone in the same run and subtracted; the translator's vjp likewise runs its forward.
 */
import { encodeModelProto, openOnnx } from '../../src/model/formats/onnx';
import { makeTensor } from '../../src/model/autodiff/protoUtil';
import type { OnnxModelProto } from '../../src/model/formats/onnx';
import { createOrtSession } from '../../src/model/runtime/ort';
import { createOrtGradSession } from '../../src/model/runtime/ortGrad';
import { TfjsGraphExecutor, resolveBackend, tf, vjp } from '../../src/model/runtime/tfjs';

const T = 512;
const D = 768;
const H = 3072;
const FWD = 2 * T * D * H;
const BWD = 2 * FWD;

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  });
}

function mlpLayer(): OnnxModelProto {
  return {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      name: 'mlp_layer',
      node: [
        { op_type: 'MatMul', input: ['x', 'w'], output: ['xw'], name: 'mm' },
        { op_type: 'Add', input: ['xw', 'b'], output: ['y'], name: 'add' },
      ],
      initializer: [makeTensor(1, [D, H], rand(D * H, 1), 'w'), makeTensor(1, [H], rand(H, 2), 'b')],
      input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: T }, { dim_value: D }] } } } }],
      output: [{ name: 'y', type: { tensor_type: { elem_type: 1 } } }],
    },
  };
}

async function median(runs: number, f: () => Promise<void>): Promise<number> {
  await f();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)] / 1000;
}

export async function benchAutodiff(): Promise<void> {
  const model = mlpLayer();
  const x = rand(T * D, 3);
  const g = rand(T * H, 4);
  console.log(`\n## Autodiff: GPT-2 MLP layer backward (X [${T},${D}] · W [${D},${H}]; G·Wᵀ and Xᵀ·G = ${(BWD / 1e9).toFixed(2)} GFLOP)\n`);
  console.log('| route | threads | s (fwd+bwd) | s (fwd) | backward GFLOP/s |\n|---|---:|---:|---:|---:|');
  for (const threads of [1, 2]) {
    const fwd = await createOrtSession(encodeModelProto(model), { provider: 'cpu', threads });
    const gs = await createOrtGradSession(model, { objective: { seeds: ['y'] }, sources: ['x', 'w'] }, { provider: 'cpu', threads });
    const feeds = { x: { dtype: 'float32' as const, data: x, dims: [T, D] } };
    const tf0 = await median(5, async () => void (await fwd.run(feeds)));
    const tg = await median(5, async () => void (await gs.run(feeds, { y: { dtype: 'float32', data: g, dims: [T, H] } })));
    console.log(`| onnxruntime gradient graph | ${threads} | ${tg.toFixed(3)} | ${tf0.toFixed(3)} | ${(BWD / 1e9 / (tg - tf0)).toFixed(1)} |`);
    await fwd.release();
    await gs.release();
  }
  const backend = await resolveBackend({ force: 'auto', requireGradients: true });
  const ex = await TfjsGraphExecutor.create(await openOnnx('/tmp/mlp_layer.onnx', encodeModelProto(model)));
  const xt = tf.tensor(x, [T, D]);
  const gt = tf.tensor(g, [T, H]);
  const tfwd = await median(1, async () => {
    const [y] = ex.run({ x: xt }, ['y']);
    await y.data();
    y.dispose();
  });
  const tt = await median(1, async () => {
    const r = vjp(ex, { x: xt }, ['x', 'w'], 'y', gt);
    await Promise.all(r.grads.map((t) => t.data()));
    for (const t of [r.output, ...r.grads]) t.dispose();
  });
  console.log(`| tfjs translator vjp (${backend.name}) | 1 | ${tt.toFixed(3)} | ${tfwd.toFixed(3)} | ${(BWD / 1e9 / (tt - tfwd)).toFixed(1)} |`);
  ex.dispose();
}
