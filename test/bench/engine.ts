/**
 * Engine benchmarks (issue 3): capture overhead against a plain onnxruntime forward over the same data in
 * the same run, capturing every tensor, and the worker's peak RSS over 6,000 vs 60,000 images with a
 * 512-wide tap (each in its own child process, so the peak belongs to that run alone).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import * as ort from 'onnxruntime-node';
import { forEachBatch, prepareTaps, releaseSessions } from '../../src/engine/capture';
import { openDataset } from '../../src/model/datasets';
import { writeNpy } from '../../src/model/datasets';
import { ONNX_SCHEMA } from '../../src/model/formats/onnxSchema';

const repo = path.join(__dirname, '..', '..');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function plainForward(model: string, data: string, batchSize: number): Promise<number> {
  const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const ds = await openDataset(data);
  let ms = 0;
  for await (const b of ds.batches(batchSize)) {
    const t0 = performance.now();
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', b.x as Float32Array, b.shape) });
    ms += performance.now() - t0;
    for (const t of Object.values(out)) t.dispose?.();
  }
  await s.release();
  return ms;
}

async function captured(model: string, data: string, taps: string[], batchSize: number): Promise<number> {
  const runner = await prepareTaps(model, data, taps);
  const r = await forEachBatch(runner, batchSize, () => {});
  await releaseSessions();
  // onnxruntime time only, as for the plain forward: consumers' own work is the analyses' cost
  return r.runMs;
}

export async function benchCapture(): Promise<void> {
  const data = path.join(repo, 'examples', 'data', 'fmnist.npz');
  const cases = [
    { model: 'examples/mlp/mlp.onnx', relu: true, what: 'MLP: the ReLU outputs + logits (hash codes / collapse / redundancy)' },
    { model: 'examples/cnn/cnn.onnx', relu: false, what: 'CNN: the input of its classifier + logits (collapse)' },
  ];
  console.log('\n## Capture overhead (5,000 Fashion-MNIST images, batch 256, median of 5; onnxruntime run time summed over batches; plain = untouched session over the same data in the same run)\n');
  console.log('| model | taps | plain ms | capture ms | ratio | capture-all ms | ratio |\n|---|---|---:|---:|---:|---:|---:|');
  for (const c of cases) {
    const file = path.join(repo, c.model);
    if (!fs.existsSync(file)) continue;
    const { loadModel } = await import('../../src/model/load');
    const g = (await loadModel(file)).graph;
    const last = [...g.nodes].reverse().find((n) => n.opType === 'Gemm' || n.opType === 'MatMul');
    const taps = c.relu
      ? [...g.nodes.filter((n) => n.opType === 'Relu').map((n) => n.outputs[0]), ...g.outputs]
      : [...(last ? [last.inputs[0]] : []), ...g.outputs];
    const all = g.nodes.flatMap((n) => n.outputs).filter((o) => o && !g.outputs.includes(o));
    const plain: number[] = [];
    const cap: number[] = [];
    const capAll: number[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await plainForward(file, data, 256);
      const q = await captured(file, data, taps, 256);
      const r = await captured(file, data, all, 256);
      if (i === 0) continue; // warm-up
      plain.push(p);
      cap.push(q);
      capAll.push(r);
    }
    const [p, q, r] = [median(plain), median(cap), median(capAll)];
    console.log(`| ${c.model} | ${taps.length} | ${p.toFixed(1)} | ${q.toFixed(1)} | ${(q / p).toFixed(2)}× | ${r.toFixed(1)} (${all.length} tensors) | ${(r / p).toFixed(2)}× |`);
  }
}

// ---------------------------------------------------------------- memory: 6k vs 60k with a 512-wide tap

/** A random 784→512→10 ReLU MLP as ONNX bytes (the bench needs a 512-wide layer). */
export function wideMlp(): Uint8Array {
  const root = protobuf.Root.fromJSON(ONNX_SCHEMA);
  const M = root.lookupType('onnx.ModelProto');
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.1;
  const tensor = (name: string, dims: number[]): object => {
    const n = dims.reduce((a, b) => a * b, 1);
    const f = new Float32Array(n).map(rnd);
    return { name, data_type: 1, dims, raw_data: new Uint8Array(f.buffer) };
  };
  const vi = (name: string, dims: (number | string)[]): object => ({
    name,
    type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  });
  const m = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      name: 'wide',
      node: [
        { name: 'flatten', op_type: 'Flatten', input: ['x'], output: ['flat'] },
        { name: 'fc1', op_type: 'Gemm', input: ['flat', 'W1', 'b1'], output: ['h'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
        { name: 'relu', op_type: 'Relu', input: ['h'], output: ['hidden512'] },
        { name: 'fc2', op_type: 'Gemm', input: ['hidden512', 'W2', 'b2'], output: ['logits'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
      ],
      initializer: [tensor('W1', [512, 784]), tensor('b1', [512]), tensor('W2', [10, 512]), tensor('b2', [10])],
      input: [vi('x', ['batch', 1, 28, 28])],
      output: [vi('logits', ['batch', 10])],
    },
  };
  return M.encode(M.fromObject(m)).finish();
}

/**
 * This process's peak resident set. On Linux, getrusage's ru_maxrss survives exec (a child started by a big
 * parent inherits its peak), so read VmHWM, which belongs to the current address space.
 */
function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Child process: capture `hidden512` over `data` accumulating its Gram; prints the peak RSS. */
async function memoryChild(model: string, data: string): Promise<void> {
  const runner = await prepareTaps(model, data, ['hidden512']);
  const d = 512;
  const gram = new Float64Array(d * d);
  const { syrkAccumulate } = await import('../../src/analysis/linalg');
  const t0 = performance.now();
  let k = 0;
  const r = await forEachBatch(runner, 256, (b) => {
    const x = b.tensors.hidden512.data as Float32Array;
    syrkAccumulate(gram, x, b.count, d);
    if (process.env.BENCH_DEBUG && ++k % 40 === 0) console.error(k, process.memoryUsage());
  });
  console.log(JSON.stringify({ samples: r.samples, peakRssMb: peakRssMb(), ms: performance.now() - t0 }));
}

export async function benchMemory(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-mem-'));
  try {
    const images = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';
    if (!fs.existsSync(images)) {
      console.log('\n## Memory: skipped (Debian package dataset-fashion-mnist not installed)');
      return;
    }
    const raw = gunzipSync(fs.readFileSync(images)).subarray(16);
    const model = path.join(dir, 'wide.onnx');
    fs.writeFileSync(model, wideMlp());
    console.log('\n## Worker peak RSS: 784→512→10 MLP, tap = the 512-wide ReLU, Gram accumulated in float64, batch 256\n');
    console.log('| images | data on disk | peak RSS (MB) | ms |\n|---:|---:|---:|---:|');
    for (const n of [6000, 60000]) {
      const x = new Float32Array(n * 784);
      for (let i = 0; i < x.length; i++) x[i] = raw[i] / 255;
      const file = path.join(dir, `x${n}.npy`);
      await writeNpy(file, { dtype: 'float32', shape: [n, 1, 28, 28], data: x });
      const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--memory-child', model, file], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { samples: number; peakRssMb: number; ms: number };
      console.log(`| ${r.samples} | ${((n * 784 * 4) / 2 ** 20).toFixed(0)} MB | ${r.peakRssMb.toFixed(0)} | ${r.ms.toFixed(0)} |`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--memory-child') {
  void memoryChild(process.argv[3], process.argv[4]);
}
