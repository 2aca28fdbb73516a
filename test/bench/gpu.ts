/**
 * `npm run bench:gpu`: the same jobs on CPU and on every GPU route that loads here, in one run, with ratios.
 *
 * Routes (each optional, detected at run time, reported by name with the reason when it does not load):
 * - onnxruntime-node CUDA execution provider vs its CPU provider: forward capture over the example data;
 * - tfjs backends (tfjs-node-gpu, tfjs-node, wasm, cpu): the ONNX→tfjs translator's forward pass and a VJP
 *   (gradients) on the example checkpoints;
 * - Gram matrices (the heavy second-moment work of the analyses) as a small ONNX MatMul graph on each ORT
 *   provider vs the float64 JavaScript kernel.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import protobuf from 'protobufjs';
import { syrkAccumulate } from '../../src/analysis/linalg';
import { forEachBatch, prepareTaps, releaseSessions } from '../../src/engine/capture';
import { openDataset } from '../../src/model/datasets';
import { ONNX_SCHEMA } from '../../src/model/formats/onnxSchema';
import { loadModel } from '../../src/model/load';
import { createOrtSession, cudaProviderInstalled } from '../../src/model/runtime/ort';
import { BACKEND_PRIORITY, resolveBackend, type BackendChoice } from '../../src/model/runtime/tfjs/backend';
import { TfjsGraphExecutor } from '../../src/model/runtime/tfjs/executor';
import { vjp } from '../../src/model/runtime/tfjs/grad';
import { tf } from '../../src/model/runtime/tfjs/tf';

const repo = path.join(__dirname, '..', '..');
const data = path.join(repo, 'examples', 'data', 'fmnist.npz');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number | undefined): string => (ms === undefined ? '—' : ms.toFixed(1));

async function time(fn: () => Promise<unknown>, runs = 3): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

async function captureRoute(provider: 'cpu' | 'cuda'): Promise<Record<string, number>> {
  process.env.CIRCUITSCOPE_ORT_PROVIDER = provider;
  const out: Record<string, number> = {};
  for (const model of ['examples/mlp/mlp.onnx', 'examples/cnn/cnn.onnx']) {
    const g = (await loadModel(path.join(repo, model))).graph;
    const taps = g.nodes.filter((n) => n.opType === 'Relu').map((n) => n.outputs[0]);
    out[model] = await time(async () => {
      const r = await prepareTaps(path.join(repo, model), data, taps);
      await forEachBatch(r, 256, () => {});
    });
    await releaseSessions();
  }
  delete process.env.CIRCUITSCOPE_ORT_PROVIDER;
  return out;
}

/** Forward + one VJP of sum(logits · w) w.r.t. the input, batch 64, through the translator. */
async function translatorRoute(backend: BackendChoice): Promise<Record<string, number>> {
  await resolveBackend({ force: backend });
  const ds = await openDataset(data);
  const batch = await ds.read(0, 64);
  const out: Record<string, number> = {};
  for (const model of ['examples/mlp/mlp.onnx', 'examples/cnn/cnn.onnx']) {
    const m = await loadModel(path.join(repo, model));
    const ex = await TfjsGraphExecutor.create(m);
    const input = m.graph.inputs[0];
    const output = m.graph.outputs[0];
    const x = tf.tensor(batch.x as Float32Array, batch.shape);
    out[`${model} forward`] = await time(async () => {
      const [y] = ex.run({ [input]: x }, [output]);
      await y.data();
      y.dispose();
    });
    out[`${model} vjp`] = await time(async () => {
      const cot = tf.onesLike(ex.run({ [input]: x }, [output])[0]);
      const r = vjp(ex, { [input]: x }, input, output, cot);
      await r.grads[0].data();
      tf.dispose([cot, r.output, ...r.grads]);
    });
    x.dispose();
    ex.dispose();
  }
  return out;
}

function gramModel(d: number): Uint8Array {
  const M = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  const vi = (name: string, dims: (number | string)[]): object => ({
    name,
    type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((x) => (typeof x === 'number' ? { dim_value: x } : { dim_param: x })) } } },
  });
  return M.encode(
    M.fromObject({
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'gram',
        node: [
          { op_type: 'Transpose', input: ['x'], output: ['xt'], attribute: [{ name: 'perm', type: 7, ints: [1, 0] }] },
          { op_type: 'MatMul', input: ['xt', 'x'], output: ['g'] },
        ],
        input: [vi('x', ['n', d])],
        output: [vi('g', [d, d])],
      },
    }),
  ).finish();
}

async function gramRoutes(): Promise<{ name: string; ms: number }[]> {
  const n = 5000;
  const d = 785;
  const x = new Float32Array(n * d).map((_, i) => Math.sin(i));
  const rows: { name: string; ms: number }[] = [];
  rows.push({ name: 'JS float64 syrk', ms: await time(async () => syrkAccumulate(new Float64Array(d * d), x, n, d)) });
  for (const provider of ['cpu', 'cuda'] as const) {
    if (provider === 'cuda' && !cudaProviderInstalled()) continue;
    const s = await createOrtSession(gramModel(d), { provider });
    rows.push({ name: `ORT ${provider} MatMul (float32)`, ms: await time(() => s.run({ x: { dtype: 'float32', data: x, dims: [n, d] } })) });
    await s.release();
  }
  return rows;
}

async function main(): Promise<void> {
  console.log('# GPU routes vs CPU (same jobs, same run)\n');
  const cuda = cudaProviderInstalled();
  console.log(`onnxruntime-node CUDA execution provider: ${cuda ? 'installed' : 'not installed (install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a networked machine with CUDA 12)'}`);
  const cpuCapture = await captureRoute('cpu');
  let cudaCapture: Record<string, number> | undefined;
  if (cuda) {
    try {
      cudaCapture = await captureRoute('cuda');
    } catch (e) {
      console.log(`CUDA capture failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  console.log('\n## Capture (onnxruntime-node, 5,000 images, batch 256, ReLU taps)\n');
  console.log('| model | CPU EP ms | CUDA EP ms | speedup |\n|---|---:|---:|---:|');
  for (const [k, v] of Object.entries(cpuCapture)) {
    const c = cudaCapture?.[k];
    console.log(`| ${k} | ${fmt(v)} | ${fmt(c)} | ${c ? `${(v / c).toFixed(2)}×` : '—'} |`);
  }

  console.log('\n## Translator forward and VJP (batch 64) per tfjs backend\n');
  const results: Record<string, Record<string, number>> = {};
  for (const b of BACKEND_PRIORITY) {
    try {
      results[b] = await translatorRoute(b);
    } catch (e) {
      console.log(`${b}: not available — ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  const keys = Object.keys(results.cpu ?? {});
  const names = Object.keys(results);
  console.log(`\n| job | ${names.map((n) => `${n} ms`).join(' | ')} | best vs cpu |\n|---|${names.map(() => '---:').join('|')}|---:|`);
  for (const k of keys) {
    const vals = names.map((n) => results[n][k]);
    const best = Math.min(...vals.filter((v) => v !== undefined));
    console.log(`| ${k} | ${vals.map(fmt).join(' | ')} | ${(results.cpu[k] / best).toFixed(2)}× |`);
  }

  console.log('\n## Gram XᵀX (5,000 × 785)\n');
  const grams = await gramRoutes();
  console.log('| route | ms | vs JS |\n|---|---:|---:|');
  for (const r of grams) console.log(`| ${r.name} | ${fmt(r.ms)} | ${(grams[0].ms / r.ms).toFixed(2)}× |`);
  if (!fs.existsSync('/dev/nvidiactl')) console.log('\n(no NVIDIA device on this machine: only CPU routes ran)');
}

void main();
