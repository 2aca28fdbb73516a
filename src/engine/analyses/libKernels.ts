/**
 * The GEMM-heavy steps of LIB as tiny float64 ONNX graphs run by onnxruntime (DESIGN.md "Where the FLOPs go":
 * ORT's native kernels beat JS loops several-fold), with the pure-TypeScript routines of src/analysis/lib.ts as
 * the fallback and the reference they are tested against (test/integration/libKernels.test.ts):
 *
 * - moments: Σ(x − s) and Σ(x − s)ᵀ(x − s) of a float32 batch around a shift s, in float64;
 * - closed-form edges of a Linear → pointwise section: Σ_x (Pᵀ diag(g(x)) A diag(f̂(x)))⊙² with f̂ = x C computed
 *   in the same graph, plus Σ f̂⊙² and optionally Σ f̂ᵀ f̂ (for the invariants).
 *
 * Float32 activations are cast to float64 inside the graph, so every product and sum is float64.
 */
import { encodeModelProto, type OnnxModelProto } from '../../model/formats/onnx';
import { ELEM, int64Tensor, node, valueInfo } from '../../model/onnxBuild';
import { createOrtSession, type OrtInput, type OrtSession } from '../../model/runtime/ort';

const { FLOAT, DOUBLE } = ELEM;

function encode(name: string, nodes: object[], inputs: object[], outputs: object[], inits: object[] = []): Uint8Array {
  const m = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'circuitscope-lib',
    graph: { name, node: nodes, input: inputs, output: outputs, initializer: inits },
  } as unknown as OnnxModelProto;
  return encodeModelProto(m);
}

/** A float64 tensor for onnxruntime. */
function f64(data: Float64Array, dims: number[]): OrtInput {
  return { dtype: 'float64', data, dims };
}

function momentsModel(): Uint8Array {
  return encode(
    'lib_moments',
    [
      node('Cast', ['x'], ['xd'], { to: { int: DOUBLE } }),
      node('Sub', ['xd', 's'], ['xc']),
      node('Transpose', ['xc'], ['xt'], { perm: { ints: [1, 0] } }),
      node('MatMul', ['xt', 'xc'], ['gram']),
      node('ReduceSum', ['xc', 'ax0'], ['sum'], { keepdims: { int: 0 } }),
    ],
    [valueInfo('x', FLOAT, ['n', 'w']), valueInfo('s', DOUBLE, ['w'])],
    [valueInfo('gram', DOUBLE, ['w', 'w']), valueInfo('sum', DOUBLE, ['w'])],
    [int64Tensor('ax0', [0])],
  );
}

function gramModel(): Uint8Array {
  return encode(
    'lib_gram',
    [node('Transpose', ['x'], ['xt'], { perm: { ints: [1, 0] } }), node('MatMul', ['xt', 'x'], ['gram'])],
    [valueInfo('x', DOUBLE, ['n', 'd'])],
    [valueInfo('gram', DOUBLE, ['d', 'd'])],
  );
}

function matmulBtModel(): Uint8Array {
  return encode(
    'lib_matmul_bt',
    [node('Transpose', ['b'], ['bt'], { perm: { ints: [1, 0] } }), node('MatMul', ['a', 'bt'], ['c'])],
    [valueInfo('a', DOUBLE, ['m', 'k']), valueInfo('b', DOUBLE, ['n', 'k'])],
    [valueInfo('c', DOUBLE, ['m', 'n'])],
  );
}

function edgesModel(withGram: boolean): Uint8Array {
  const nodes = [
    node('Cast', ['x'], ['xd'], { to: { int: DOUBLE } }),
    node('MatMul', ['xd', 'cw'], ['xc']),
    node('Add', ['xc', 'cb'], ['fhat']), // f̂ = x C[:w] + C[w]
    node('Unsqueeze', ['g', 'ax1'], ['g3']), // [B, 1, h]
    node('Unsqueeze', ['pt', 'ax0'], ['p3']), // [1, r1, h]
    node('Mul', ['p3', 'g3'], ['pg']), // [B, r1, h]
    node('MatMul', ['pg', 'a'], ['j']), // [B, r1, r0]: Pᵀ diag(g) A
    node('Unsqueeze', ['fhat', 'ax1'], ['f3']),
    node('Mul', ['j', 'f3'], ['jf']),
    node('Mul', ['jf', 'jf'], ['sq']),
    node('ReduceSum', ['sq', 'ax0'], ['e'], { keepdims: { int: 0 } }),
    node('Mul', ['fhat', 'fhat'], ['f2']),
    node('ReduceSum', ['f2', 'ax0'], ['fsq'], { keepdims: { int: 0 } }),
  ];
  const outputs = [valueInfo('e', DOUBLE, ['r1', 'r0']), valueInfo('fsq', DOUBLE, ['r0'])];
  if (withGram) {
    nodes.push(node('Transpose', ['fhat'], ['ft'], { perm: { ints: [1, 0] } }), node('MatMul', ['ft', 'fhat'], ['fg']));
    outputs.push(valueInfo('fg', DOUBLE, ['r0', 'r0']));
  }
  return encode(
    'lib_edges',
    nodes,
    [
      valueInfo('x', FLOAT, ['b', 'w']),
      valueInfo('cw', DOUBLE, ['w', 'r0']),
      valueInfo('cb', DOUBLE, ['r0']),
      valueInfo('g', DOUBLE, ['b', 'h']),
      valueInfo('pt', DOUBLE, ['r1', 'h']),
      valueInfo('a', DOUBLE, ['h', 'r0']),
    ],
    outputs,
    [int64Tensor('ax0', [0]), int64Tensor('ax1', [1])],
  );
}

function projectModel(withGram: boolean): Uint8Array {
  const nodes = [node('Cast', ['x'], ['xd'], { to: { int: DOUBLE } }), node('MatMul', ['xd', 'cw'], ['xc']), node('Add', ['xc', 'cb'], ['fhat']), node('Mul', ['fhat', 'fhat'], ['f2']), node('ReduceSum', ['f2', 'ax0'], ['fsq'], { keepdims: { int: 0 } })];
  const outputs = [valueInfo('fhat', DOUBLE, ['b', 'r0']), valueInfo('fsq', DOUBLE, ['r0'])];
  if (withGram) {
    nodes.push(node('Transpose', ['fhat'], ['ft'], { perm: { ints: [1, 0] } }), node('MatMul', ['ft', 'fhat'], ['fg']));
    outputs.push(valueInfo('fg', DOUBLE, ['r0', 'r0']));
  }
  return encode('lib_project', nodes, [valueInfo('x', FLOAT, ['b', 'w']), valueInfo('cw', DOUBLE, ['w', 'r0']), valueInfo('cb', DOUBLE, ['r0'])], outputs, [int64Tensor('ax0', [0])]);
}

/** Lazily created float64 ORT sessions for the LIB kernels (CPU execution provider, one session per graph). */
export class LibKernels {
  private readonly sessions = new Map<string, Promise<OrtSession>>();

  private session(key: string, build: () => Uint8Array): Promise<OrtSession> {
    let s = this.sessions.get(key);
    if (!s) {
      s = createOrtSession(build(), { provider: 'cpu', threads: 1 });
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Σ(x − s) (w) and Σ(x − s)ᵀ(x − s) (w × w) of x (rows × w, float32) in float64. */
  async moments(x: Float32Array, rows: number, w: number, shift: Float64Array): Promise<{ sum: Float64Array; gram: Float64Array }> {
    const s = await this.session('moments', momentsModel);
    const out = await s.run({ x: { dtype: 'float32', data: x, dims: [rows, w] }, s: f64(shift, [w]) });
    return { sum: out.sum.data as Float64Array, gram: out.gram.data as Float64Array };
  }

  /** XᵀX (d × d) of a float64 matrix X (rows × d). */
  async gram(x: Float64Array, rows: number, d: number): Promise<Float64Array> {
    const s = await this.session('gram', gramModel);
    const out = await s.run({ x: f64(x, [rows, d]) });
    return out.gram.data as Float64Array;
  }

  /** A Bᵀ (m × n) for float64 A (m × k) and B (n × k). */
  async matmulABt(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Promise<Float64Array> {
    const s = await this.session('matmul_bt', matmulBtModel);
    const out = await s.run({ a: f64(a, [m, k]), b: f64(b, [n, k]) });
    return out.c.data as Float64Array;
  }

  /**
   * f̂ = x C (rows × r) for x (rows × w, float32) and a folded basis given as C[:w] (w × r) and C[w] (r), plus Σ f̂⊙²
   * and, when `withGram`, Σ f̂ᵀ f̂.
   */
  async project(x: Float32Array, rows: number, w: number, cw: Float64Array, cb: Float64Array, r: number, withGram: boolean): Promise<{ fhat: Float64Array; fsq: Float64Array; fg?: Float64Array }> {
    const s = await this.session(`project${withGram ? '+gram' : ''}`, () => projectModel(withGram));
    const out = await s.run({ x: { dtype: 'float32', data: x, dims: [rows, w] }, cw: f64(cw, [w, r]), cb: f64(cb, [r]) });
    return { fhat: out.fhat.data as Float64Array, fsq: out.fsq.data as Float64Array, fg: out.fg?.data as Float64Array | undefined };
  }

  /**
   * Closed-form edge sums over a batch: E += Σ_x (Pᵀ diag(g(x)) A diag(f̂(x)))⊙², Σ f̂⊙², Σ f̂ᵀ f̂ (when `withGram`).
   * `pt` is Pᵀ (r1 × h), `a` is A (h × r0), `g` the gates (rows × h). Rows are chunked so the [rows, r1, r0]
   * intermediate stays under ~32 MB.
   */
  async edges(
    x: Float32Array, rows: number, w: number, cw: Float64Array, cb: Float64Array,
    g: Float64Array, h: number, pt: Float64Array, r1: number, a: Float64Array, r0: number, withGram: boolean,
  ): Promise<{ e: Float64Array; fsq: Float64Array; fg?: Float64Array }> {
    const s = await this.session(`edges${withGram ? '+gram' : ''}`, () => edgesModel(withGram));
    const e = new Float64Array(r1 * r0), fsq = new Float64Array(r0);
    const fg = withGram ? new Float64Array(r0 * r0) : undefined;
    const chunk = Math.max(1, Math.min(rows, Math.floor((4 << 20) / Math.max(1, r1 * r0))));
    for (let b0 = 0; b0 < rows; b0 += chunk) {
      const n = Math.min(chunk, rows - b0);
      const out = await s.run({
        x: { dtype: 'float32', data: x.subarray(b0 * w, (b0 + n) * w), dims: [n, w] },
        cw: f64(cw, [w, r0]),
        cb: f64(cb, [r0]),
        g: f64(g.subarray(b0 * h, (b0 + n) * h), [n, h]),
        pt: f64(pt, [r1, h]),
        a: f64(a, [h, r0]),
      });
      addInto(e, out.e.data as Float64Array);
      addInto(fsq, out.fsq.data as Float64Array);
      if (fg) addInto(fg, out.fg.data as Float64Array);
    }
    return { e, fsq, fg };
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.then((x) => x.release()).catch(() => {})));
  }
}

function addInto(acc: Float64Array, x: Float64Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += x[i];
}
