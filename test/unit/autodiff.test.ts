/**
 * The ONNX autodiff (src/model/autodiff) rule by rule, on the tiny graphs of autodiffCases.ts:
 *
 * 1. Against central finite differences. S(θ) = Σ w ⊙ y with a seeded cotangent w ∈ U(−1, 1), summed in
 *    float64; the gradient graph's ∂S/∂θⱼ is compared with (S(θ + h·eⱼ) − S(θ − h·eⱼ))/2h for up to 30
 *    elements j of every source that is a graph input or an initializer (intermediate sources cannot be
 *    perturbed from outside, so they are checked against the translator only).
 *    - float64 graphs: h = 1e-6; truncation ~h²·|S‴| ≈ 1e-12, round-off ~ε|S|/h ≈ 1e-9, so the tolerance
 *      |fd − g| ≤ 1e-6·max(1, ‖g‖∞) leaves three orders of margin.
 *    - float32 graphs (ops onnxruntime's CPU EP runs only in float32: Conv, ConvTranspose, AveragePool, Erf,
 *      Gelu, LeakyRelu, HardSigmoid, Clip-9, float↔double casts): h = 1e-2; round-off ~6e-8·|S|/h ≈ 1e-4 for
 *      |S| ≈ 10, truncation ~h²·|S‴|/6 ≈ 1e-4: tolerance 3e-3·max(1, ‖g‖∞).
 * 2. Against the tfjs translator's vjp (src/model/runtime/tfjs/grad.ts) on the float32 build of the same
 *    graph with the same values: |g_ort − g_tfjs| ≤ 1e-4·max(1, ‖g_tfjs‖∞) (float32 sums in different orders).
 * Minimum counts are asserted at the end so that a case that silently checked nothing fails the suite.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { openOnnx, encodeModelProto, type OnnxModelProto } from '../../src/model/formats/onnx';
import { makeTensor, tensorValues } from '../../src/model/autodiff/protoUtil';
import { createOrtSession, type OrtInput } from '../../src/model/runtime/ort';
import { createOrtGradSession } from '../../src/model/runtime/ortGrad';
import { TfjsGraphExecutor, resolveBackend, tf, vjp } from '../../src/model/runtime/tfjs';
import { ELEM_OF, rng, tinyModel, type FloatType } from '../helpers/onnxTiny';
import { ALL_CASES, type GradCase } from './autodiffCases';

type Arr = Float32Array | Float64Array;
const FD = { float64: { h: 1e-6, tol: 1e-6 }, float32: { h: 1e-2, tol: 3e-3 } };
const TRANSLATOR_TOL = 1e-4;
const counts = { fd: 0, fdElements: 0, translator: 0, cases: 0 };

function input(dtype: FloatType, data: number[] | Arr, dims: number[]): OrtInput {
  return dtype === 'float64' ? { dtype, data: Float64Array.from(data), dims } : { dtype, data: Float32Array.from(data), dims };
}

interface Prepared {
  c: GradCase;
  build: (dtype: FloatType) => OnnxModelProto;
  feeds: Record<string, { data: number[]; dims: number[] }>;
  sources: string[];
  fdSources: string[];
}

function prepare(c: GradCase, k: number): Prepared {
  const shapeRand = rng(1000 + k);
  const spec = c.spec(() => 2 + Math.floor(shapeRand() * 3));
  const build = (dtype: FloatType): OnnxModelProto => tinyModel(spec, dtype, rng(2000 + k));
  const vals = rng(3000 + k);
  const feeds: Prepared['feeds'] = {};
  for (const [name, shape] of Object.entries(spec.inputs)) {
    const dims = spec.feedShapes?.[name] ?? (shape as number[]);
    const n = dims.reduce((a, b) => a * b, 1);
    const pos = c.positive?.includes(name);
    const away = (v: number): number => {
      for (const kink of c.kinks ?? []) if (Math.abs(v - kink) < 0.03) return kink + (v < kink ? -0.03 : 0.03);
      return v;
    };
    feeds[name] = { dims, data: Array.from({ length: n }, () => away(pos ? 0.5 + vals() : 2 * vals() - 1)) };
  }
  const inputs = Object.keys(spec.inputs).filter((i) => !c.notSources?.includes(i));
  const fdSources = [...inputs, ...(c.initSources ?? [])];
  return { c, build, feeds, sources: [...fdSources, ...(c.midSources ?? [])], fdSources };
}

function toFeeds(p: Prepared, dtype: FloatType, override: Record<string, { data: number[]; dims: number[] }> = {}): Record<string, OrtInput> {
  const out: Record<string, OrtInput> = {};
  for (const [n, v] of Object.entries({ ...p.feeds, ...override })) out[n] = input(dtype, v.data, v.dims);
  return out;
}

function seededW(n: number, k: number): number[] {
  const r = rng(4000 + k);
  return Array.from({ length: n }, () => 2 * r() - 1);
}

async function gradients(p: Prepared, dtype: FloatType, w: number[], wDims: number[]) {
  const gs = await createOrtGradSession(p.build(dtype), { objective: { seeds: ['y'] }, sources: p.sources, outputs: ['y'] }, { provider: 'cpu' });
  try {
    const r = await gs.run(toFeeds(p, dtype), { y: input(dtype, w, wDims) });
    return { grads: r.grads, y: r.outputs.y };
  } finally {
    await gs.release();
  }
}

async function fdCheck(p: Prepared, k: number): Promise<void> {
  const { c } = p;
  const dtype = c.dtype;
  const initSources = c.initSources ?? [];
  const fwdModel = p.build(dtype);
  const fwd = await createOrtSession(encodeModelProto(fwdModel), { provider: 'cpu' });
  const base: Record<string, { data: number[]; dims: number[] }> = { ...p.feeds };
  for (const name of initSources) {
    const t = fwdModel.graph!.initializer!.find((i) => i.name === name)!;
    base[name] = { data: tensorValues(t)!, dims: (t.dims ?? []).map(Number) };
  }
  try {
    const y0 = (await fwd.run(toFeeds(p, dtype), ['y'])).y;
    const w = seededW(y0.data.length, k);
    const { grads, y } = await gradients(p, dtype, w, y0.dims);
    const yv = y.data as Arr;
    const y0v = y0.data as Arr;
    // onnxruntime may fuse differently in the two graphs: equal up to rounding.
    const fwdTol = dtype === 'float64' ? 1e-9 : 1e-6;
    assert.ok(yv.every((v, i) => Math.abs(v - y0v[i]) <= fwdTol * Math.max(1, Math.abs(y0v[i]))), `${c.name}: the gradient model's forward output differs from the model's`);
    // An initializer is perturbed in a rebuilt model (onnxruntime did not honour a feed overriding one).
    const S = async (name: string, j: number, delta: number): Promise<number> => {
      const v = { ...base[name], data: base[name].data.slice() };
      v.data[j] += delta;
      let out: Arr;
      if (initSources.includes(name)) {
        const g = fwdModel.graph!;
        const inits = (g.initializer ?? []).map((t) => (t.name === name ? makeTensor(ELEM_OF[dtype], v.dims, v.data, name) : t));
        const sess = await createOrtSession(encodeModelProto({ ...fwdModel, graph: { ...g, initializer: inits } }), { provider: 'cpu' });
        out = (await sess.run(toFeeds(p, dtype), ['y'])).y.data as Arr;
        await sess.release();
      } else {
        out = (await fwd.run(toFeeds(p, dtype, { [name]: v }), ['y'])).y.data as Arr;
      }
      let s = 0;
      for (let i = 0; i < out.length; i++) s += out[i] * w[i];
      return s;
    };
    const { h, tol } = FD[dtype];
    for (const name of p.fdSources) {
      const g = grads[name];
      assert.ok(g, `${c.name}: no gradient for source '${name}'`);
      assert.deepEqual(g.dims, base[name].dims, `${c.name}: gradient of '${name}' has the wrong shape`);
      const gv = g.data as Arr;
      const scale = Math.max(1, ...Array.from(gv, Math.abs));
      const n = gv.length;
      const picks = n <= 30 ? [...Array(n).keys()] : Array.from({ length: 30 }, (_, i) => Math.floor((i * n) / 30));
      for (const j of picks) {
        const fd = ((await S(name, j, h)) - (await S(name, j, -h))) / (2 * h);
        assert.ok(Math.abs(fd - gv[j]) <= tol * scale, `${c.name}: ∂S/∂${name}[${j}] = ${gv[j]}, central difference ${fd} (tolerance ${tol * scale})`);
        counts.fdElements++;
      }
      counts.fd++;
    }
  } finally {
    await fwd.release();
  }
}

async function translatorCheck(p: Prepared, k: number): Promise<void> {
  const model = p.build('float32');
  const loaded = await openOnnx('/tmp/autodiff-case.onnx', encodeModelProto(model));
  const ex = await TfjsGraphExecutor.create(loaded);
  const given: Record<string, tf.Tensor> = {};
  try {
    for (const [n, v] of Object.entries(p.feeds)) given[n] = tf.tensor(Float32Array.from(v.data), v.dims, 'float32');
    const mids = p.c.midSources ?? [];
    const [y, ...midValues] = ex.run(given, ['y', ...mids]);
    const w = seededW(y.size, k);
    const wt = tf.tensor(Float32Array.from(w), y.shape, 'float32');
    // Graph inputs and initializers: no cut (every path counts); an intermediate source: the graph cut there,
    // which makes the translator's gradient at it the total derivative too.
    const outer = p.sources.filter((s) => !mids.includes(s));
    const refOuter = vjp(ex, given, outer, 'y', wt);
    const cut = { ...given };
    mids.forEach((m, i) => (cut[m] = midValues[i]));
    const refMid = mids.length ? vjp(ex, cut, mids, 'y', wt) : undefined;
    const ref = new Map<string, tf.Tensor>([...outer.map((s, i) => [s, refOuter.grads[i]] as const), ...mids.map((s, i) => [s, refMid!.grads[i]] as const)]);
    const ours = await gradients(p, 'float32', w, y.shape);
    for (const s of p.sources) {
      const a = ours.grads[s].data as Float32Array;
      const r = ref.get(s)!;
      const b = r.dataSync() as Float32Array;
      assert.deepEqual(ours.grads[s].dims, r.shape, `${p.c.name}: shapes of ∂/∂${s} differ`);
      const scale = Math.max(1, ...Array.from(b, Math.abs));
      let worst = 0;
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
      assert.ok(worst <= TRANSLATOR_TOL * scale, `${p.c.name}: ∂S/∂${s} differs from the translator's by ${worst} (tolerance ${TRANSLATOR_TOL * scale})`);
      counts.translator++;
    }
    for (const t of [y, wt, refOuter.output, ...(refMid ? [refMid.output] : []), ...midValues, ...ref.values()]) t.dispose();
  } finally {
    for (const t of Object.values(given)) t.dispose();
    ex.dispose();
  }
}

before(async () => {
  await resolveBackend({ force: 'auto', requireGradients: true });
});

describe('autodiff: every VJP rule against finite differences and the tfjs translator', () => {
  ALL_CASES.forEach((c, k) => {
    it(c.name, async () => {
      const p = prepare(c, k);
      await fdCheck(p, k);
      if (!c.noTranslator) await translatorCheck(p, k);
      counts.cases++;
    });
  });

  it('checked every case (no case silently skipped)', () => {
    console.log(`autodiff cases ${counts.cases}, finite-difference sources ${counts.fd} (${counts.fdElements} elements), translator comparisons ${counts.translator}`);
    assert.equal(counts.cases, ALL_CASES.length);
    assert.ok(ALL_CASES.length >= 100, `expected at least 100 cases, found ${ALL_CASES.length}`);
    assert.ok(counts.fd >= 160, `expected ≥ 160 finite-difference source checks, found ${counts.fd}`);
    assert.ok(counts.fdElements >= 2450, `expected ≥ 2450 finite-difference elements, found ${counts.fdElements}`);
    assert.ok(counts.translator >= 155, `expected ≥ 155 translator comparisons, found ${counts.translator}`);
  });
});
