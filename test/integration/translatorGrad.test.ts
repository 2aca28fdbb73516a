/**
 * Gradients of the tfjs translator against central finite differences, on the example checkpoints.
 *
 * Scalar: S(x) = Σ w ⊙ logits with fixed seeded w ∈ U(−1, 1), summed in float64 from the float32 outputs.
 * Gradient: g = vjp(…, cotangent w) at the cut x (the image for the MLP/CNN; for the transformer, whose
 * tokens are integers, the embedding output and a residual-stream value, with the tokens still given for
 * the paths that bypass the cut).
 * Check, along unit directions v (g/‖g‖ and two seeded random ones):
 *   fd = (S(x + h·v) − S(x − h·v)) / 2h,  err = |fd − ⟨g, v⟩| / ‖g‖  ≤ 1e-2.
 * Normalising by ‖g‖ (not by ⟨g, v⟩, which is ~‖g‖/√n for a random v) keeps the check meaningful in
 * float32. Step h = 1e-4·‖x‖ (x: the cut's value): swept over 1e-3…1e-5 on these models, 1e-3 is already
 * too coarse for the transformer's curvature and for ReLU kinks crossed along g, 1e-5 drowns in float32
 * round-off of S; at 1e-4 the worst error measured is ~1e-3, ten times under the tolerance.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { openNpz } from '../../src/model/datasets';
import { loadModel } from '../../src/model/load';
import { TfjsGraphExecutor, resolveBackend, tf, vjp } from '../../src/model/runtime/tfjs';
import { seededUniform } from '../helpers/random';

const examples = path.join(__dirname, '..', '..', 'examples');
const TOL = 1e-2;
/** Step as a fraction of the cut's norm (see the header). */
const STEP = 1e-4;

/** Deterministic uniform [lo, hi) values (mulberry32), default [−1, 1). */
const seeded = (n: number, seed: number, lo = -1, hi = 1): Float32Array => seededUniform(n, seed, lo, hi);

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function dot64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The image plus seeded U(0, 0.01) noise. Fashion-MNIST backgrounds are exact zeros, so convolutions give
 * exactly equal activations across them and MaxPool sits on ties, where the function has a kink and
 * one-sided derivatives differ; the noise moves the point off that measure-zero set.
 */
function jittered(data: Float32Array, shape: number[]): tf.Tensor {
  const noise = seeded(data.length, 99, 0, 0.01);
  return tf.tensor(data.map((v, i) => v + noise[i]), shape, 'float32');
}

interface Check {
  direction: string;
  fd: number;
  analytic: number;
  err: number;
}

/**
 * Runs the finite-difference check of d S / d given[cut] for S = Σ w ⊙ given→out.
 * `given` holds the cut value (and whatever else the paths to `out` need).
 */
function fdCheck(ex: TfjsGraphExecutor, given: Record<string, tf.Tensor>, cut: string, out: string, seed: number): Check[] {
  const x = given[cut];
  const [y0] = ex.runFrom(given, [out]);
  const w = tf.tensor(seeded(y0.size, seed), y0.shape, 'float32');
  y0.dispose();
  const r = vjp(ex, given, cut, out, w);
  const g = r.grads[0].dataSync() as Float32Array;
  r.output.dispose();
  r.grads[0].dispose();
  const wv = w.dataSync() as Float32Array;
  const xv = x.dataSync() as Float32Array;
  const n = xv.length;
  const gNorm = norm(g);
  const h = STEP * norm(xv);
  const S = (v: Float32Array, t: number): number => {
    const xt = tf.tensor(xv.map((xi, i) => xi + t * v[i]), x.shape, 'float32');
    const [y] = ex.runFrom({ ...given, [cut]: xt }, [out]);
    const s = dot64(y.dataSync() as Float32Array, wv);
    y.dispose();
    xt.dispose();
    return s;
  };
  const dirs: [string, Float32Array][] = [['g/‖g‖', g.map((gi) => gi / gNorm)]];
  for (const k of [1, 2]) {
    const v = seeded(n, seed + 100 * k);
    const vn = norm(v);
    dirs.push([`random #${k}`, v.map((vi) => vi / vn)]);
  }
  const checks = dirs.map(([direction, v]) => {
    const fd = (S(v, h) - S(v, -h)) / (2 * h);
    const analytic = dot64(g, v);
    return { direction, fd, analytic, err: Math.abs(fd - analytic) / gNorm };
  });
  w.dispose();
  return checks;
}

function report(name: string, checks: Check[]): void {
  for (const c of checks) {
    console.log(`grad ${name} along ${c.direction}: fd = ${c.fd.toPrecision(6)}, vjp = ${c.analytic.toPrecision(6)}, err = ${c.err.toExponential(2)}`);
    assert.ok(c.err <= TOL, `${name} along ${c.direction}: |fd − ⟨g,v⟩|/‖g‖ = ${c.err} > ${TOL}`);
  }
}

before(async () => {
  const b = await resolveBackend({ force: 'auto', requireGradients: true });
  // tfjs-node(-gpu) are optional; without them, requireGradients must skip wasm and land on cpu.
  assert.ok(b.name !== 'wasm', 'requireGradients must not pick wasm');
});

describe('tfjs translator gradients vs central finite differences', () => {
  for (const name of ['mlp', 'cnn']) {
    it(`${name}: d(Σ w·logits)/d(image)`, async () => {
      const model = await loadModel(path.join(examples, name, `${name}.onnx`));
      const ex = await TfjsGraphExecutor.create(model);
      const npz = await openNpz(path.join(examples, 'data', 'fmnist.npz'));
      const rows = await npz.readRows('x', 10, 12);
      const x = jittered(rows.data as Float32Array, rows.shape);
      try {
        report(name, fdCheck(ex, { [model.graph.inputs[0]]: x }, model.graph.inputs[0], model.graph.outputs[0], 7));
      } finally {
        x.dispose();
        ex.dispose();
      }
    });
  }

  it('mlp: d(Σ w·logits)/d(first-layer weight), a cut at an initializer', async () => {
    const model = await loadModel(path.join(examples, 'mlp', 'mlp.onnx'));
    const ex = await TfjsGraphExecutor.create(model);
    const gemm = model.graph.nodes.find((n) => n.opType === 'Gemm');
    assert.ok(gemm, 'the MLP has a Gemm');
    const wName = gemm.inputs[1];
    const npz = await openNpz(path.join(examples, 'data', 'fmnist.npz'));
    const rows = await npz.readRows('x', 0, 2);
    const x = jittered(rows.data as Float32Array, rows.shape);
    const W = ex.initializer(wName);
    assert.ok(W);
    try {
      report('mlp weight', fdCheck(ex, { [model.graph.inputs[0]]: x, [wName]: W }, wName, model.graph.outputs[0], 11));
    } finally {
      x.dispose();
      ex.dispose();
    }
  });

  it('transformer: d(Σ w·logits)/d(embedding output) and d/d(residual stream)', async () => {
    const model = await loadModel(path.join(examples, 'transformer', 'transformer.onnx'));
    const ex = await TfjsGraphExecutor.create(model);
    const g = model.graph;
    // The embedding lookup: a Gather of a rank-2 initializer by the tokens.
    const embed = g.nodes.find((n) => n.opType === 'Gather' && g.values[n.inputs[0]]?.kind === 'initializer' && n.inputs[1] === g.inputs[0]);
    assert.ok(embed, 'the transformer has an embedding Gather');
    // A residual-stream value: what the second LayerNormalization normalises (after the first attention block).
    const lns = g.nodes.filter((n) => n.opType === 'LayerNormalization');
    assert.ok(lns.length >= 2);
    const resid = lns[1].inputs[0];
    const npz = await openNpz(path.join(examples, 'transformer', 'induction.npz'));
    const t = await npz.readRows('tokens', 0, 2);
    const tokens = tf.tensor(Int32Array.from(t.data as BigInt64Array, Number), t.shape, 'int32');
    const out = g.outputs[0];
    try {
      for (const cut of [embed.outputs[0], resid]) {
        const [value] = ex.run({ [g.inputs[0]]: tokens }, [cut]);
        try {
          report(`transformer @ ${cut}`, fdCheck(ex, { [g.inputs[0]]: tokens, [cut]: value }, cut, out, 13));
        } finally {
          value.dispose();
        }
      }
    } finally {
      tokens.dispose();
      ex.dispose();
    }
  });
});
