/**
 * Vector–Jacobian products of one LIB section (node layer `from` → node layer `to`), for several cotangents at
 * once. Two routes behind one interface:
 *
 * - onnxruntime (default): the section cut out of the model (`submodel`) and differentiated as an ONNX graph
 *   (src/model/autodiff): one session per section computes `to` and ∂⟨c, to⟩/∂from. k cotangents at one point
 *   run as one call on the batch axis — x repeated k times, the k cotangent blocks stacked — since node layers are
 *   complete cuts and samples do not interact, block q of the gradient is the VJP of cotangent block q.
 * - tfjs: the ONNX → tfjs translator's `vjp`, one call per cotangent (the verified fallback, and the route for
 *   sections whose gradient graph does not build).
 */
import * as path from 'node:path';
import { buildGradientModel } from '../../model/autodiff';
import { encodeModelProto, type OnnxModelProto } from '../../model/formats/onnx';
import type { LoadedModel } from '../../model/ir';
import { ELEM, submodel, valueInfo } from '../../model/onnxBuild';
import { createOrtSession, type OrtSession } from '../../model/runtime/ort';
import type { TfjsGraphExecutor } from '../../model/runtime/tfjs';
import * as tfjsModule from '../../model/runtime/tfjs';
import { JobInputError } from '../errors';

export type GradRoute = 'onnxruntime' | 'tfjs';

/** One section's VJPs at a point x (n samples) for k cotangent blocks. */
export interface SectionVjp {
  readonly route: GradRoute;
  /** The route in words, for `backend` and `result.jacobians`. */
  readonly backend: string;
  /**
   * x: n samples ([n, T, w] or [n, w], row-major); cots: k blocks shaped like the output ([n, T, h] or [n, h]).
   * Returns the k gradient blocks (k·n·T·w) and the section's output at x (n·T·h).
   */
  vjp(x: Float32Array, n: number, cots: Float32Array, k: number): Promise<{ grads: Float32Array; out: Float32Array }>;
  release(): Promise<void>;
}

/** Widths of a section: positions T (1 for [batch, features] layers), input width w, output width h. */
export interface SectionShape {
  T: number;
  w: number;
  h: number;
}

const dimsOf = (n: number, s: SectionShape, width: number): number[] => (s.T > 1 ? [n, s.T, width] : [n, width]);

/**
 * The onnxruntime route for section from → to: its gradient graph, built and opened.
 * @throws AutodiffError when the graph does not differentiate (the caller falls back to tfjs)
 */
export async function ortSectionVjp(model: LoadedModel, proto: OnnxModelProto, from: string, to: string, s: SectionShape): Promise<SectionVjp> {
  const sub = submodel(proto, [from], [to]);
  const extra = (sub.graph!.input ?? []).map((i) => i.name).filter((n) => n !== from);
  if (extra.length) {
    // Node layers are complete cuts, so this does not happen for a plan that passed planSections.
    throw new JobInputError(`section '${from}' → '${to}' reads ${extra.map((e) => `'${e}'`).join(', ')} besides '${from}'; LIB node layers must be complete cuts`, model.graph.file);
  }
  // The cut's rank (and width) declared: the autodiff's shape inference needs operand ranks (MatMul, Softmax).
  sub.graph!.input = [valueInfo(from, ELEM.FLOAT, s.T > 1 ? ['batch', 'positions', s.w] : ['batch', s.w]) as NonNullable<NonNullable<OnnxModelProto['graph']>['input']>[number]];
  const gm = buildGradientModel(sub, { objective: { seeds: [to] }, sources: [from], outputs: [to] });
  const p = process.env.CIRCUITSCOPE_ORT_PROVIDER;
  const session: OrtSession = await createOrtSession(encodeModelProto(gm.model), { provider: p === 'cuda' || p === 'cpu' ? p : 'auto', externalDataDir: path.dirname(model.graph.file) });
  const seed = gm.seeds[to];
  const grad = gm.grads[from];
  return {
    route: 'onnxruntime',
    backend: `onnxruntime ${session.provider} (gradients as ONNX graphs)`,
    async vjp(x, n, cots, k) {
      const xw = n * s.T * s.w;
      let xs = x.subarray(0, xw);
      if (k > 1) {
        xs = new Float32Array(k * xw);
        for (let q = 0; q < k; q++) xs.set(x.subarray(0, xw), q * xw);
      }
      const out = await session.run(
        { [from]: { dtype: 'float32', data: xs, dims: dimsOf(k * n, s, s.w) }, [seed]: { dtype: 'float32', data: cots.subarray(0, k * n * s.T * s.h), dims: dimsOf(k * n, s, s.h) } },
        [to, grad],
      );
      const g = out[grad]?.data, y = out[to]?.data;
      if (!(g instanceof Float32Array) || !(y instanceof Float32Array)) throw new JobInputError(`section '${from}' → '${to}': onnxruntime returned no float32 gradient or output`, model.graph.file);
      return { grads: g, out: y.subarray(0, n * s.T * s.h) };
    },
    release: () => session.release(),
  };
}

/** The tfjs translator's route for section from → to (one `vjp` per cotangent block). */
export function tfjsSectionVjp(ex: TfjsGraphExecutor, backendName: string, from: string, to: string, s: SectionShape): SectionVjp {
  const { tf, vjp } = tfjsModule;
  return {
    route: 'tfjs',
    backend: `tfjs ${backendName} (ONNX → tfjs translator)`,
    vjp(x, n, cots, k) {
      const xw = n * s.T * s.w, yh = n * s.T * s.h;
      const grads = new Float32Array(k * xw);
      let out: Float32Array | undefined;
      const xt = tf.tensor(x.subarray(0, xw), dimsOf(n, s, s.w), 'float32');
      try {
        for (let q = 0; q < k; q++) {
          const ct = tf.tensor(cots.subarray(q * yh, (q + 1) * yh), dimsOf(n, s, s.h), 'float32');
          try {
            const r = vjp(ex, { [from]: xt }, from, to, ct);
            grads.set(r.grads[0].dataSync() as Float32Array, q * xw);
            out ??= Float32Array.from(r.output.dataSync() as Float32Array);
            r.grads.forEach((g) => g.dispose());
            r.output.dispose();
          } finally {
            ct.dispose();
          }
        }
      } finally {
        xt.dispose();
      }
      return Promise.resolve({ grads, out: out ?? new Float32Array(yh) });
    },
    release: () => Promise.resolve(),
  };
}
