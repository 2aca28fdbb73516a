/**
 * Vector–Jacobian products and Jacobians between two cuts of an ONNX graph run by {@link TfjsGraphExecutor}.
 *
 * A cut is a set of given values (runFrom): differentiate an output with respect to any of them, e.g. the
 * embedding output of a transformer (tokens are integers) or a residual-stream value, or an initializer
 * (weights). Gradient kernels come from tfjs-core's registrations (imported by ./tf); the backend must have
 * the backward kernels too (wasm lacks several, e.g. Conv2DBackpropFilter: use cpu or a GPU backend).
 */
import { TranslatorError } from './errors';
import type { TfjsGraphExecutor } from './executor';
import { tf } from './tf';

export interface VjpResult {
  /** The output value at the given point (owned by the caller). */
  output: tf.Tensor;
  /** ∂⟨cotangent, output⟩/∂input for each requested input, in order (owned by the caller). */
  grads: tf.Tensor[];
}

function pointOf(executor: TfjsGraphExecutor, given: Record<string, tf.Tensor>, name: string): tf.Tensor {
  const x = given[name] ?? executor.initializer(name);
  if (!x) {
    throw new TranslatorError('bad-request', `vjp: '${name}' is neither among the given values (${Object.keys(given).join(', ')}) nor an initializer`);
  }
  if (x.dtype !== 'float32') throw new TranslatorError('bad-request', `vjp: '${name}' is ${x.dtype}; only float values can be differentiated`);
  return x;
}

/**
 * Vector–Jacobian product: runs `output` from the cut `given` and back-propagates `cotangent` (same shape as
 * the output) to the values named in `wrt`. An input the output does not depend on gets zeros.
 * @throws TranslatorError when a name is not given/an initializer, or the cotangent's shape differs
 */
export function vjp(
  executor: TfjsGraphExecutor,
  given: Record<string, tf.Tensor>,
  wrt: string | string[],
  output: string,
  cotangent: tf.Tensor,
): VjpResult {
  const names = Array.isArray(wrt) ? wrt : [wrt];
  const xs = names.map((n) => pointOf(executor, given, n));
  const f = (): tf.Tensor => {
    const cut = { ...given };
    names.forEach((n, i) => (cut[n] = xs[i]));
    const [y] = executor.runFrom(cut, [output]);
    if (!sameShape(y.shape, cotangent.shape)) {
      throw new TranslatorError('bad-request', `vjp: output '${output}' has shape [${y.shape.join(',')}], the cotangent [${cotangent.shape.join(',')}]`);
    }
    return y;
  };
  // engine.gradients with allowNoGradients: an input the output does not depend on gets null, not an error.
  const { value, grads } = tf.engine().gradients(f, xs, cotangent, true);
  // A gradient that is the cotangent itself (identity paths) is cloned so the caller owns every result.
  return { output: value, grads: grads.map((g, i) => (g === cotangent ? tf.clone(g) : g ?? tf.zerosLike(xs[i]))) };
}

/** ∂⟨cotangent, output⟩/∂x for a single input; disposes the output. */
export function vjpOne(executor: TfjsGraphExecutor, given: Record<string, tf.Tensor>, wrt: string, output: string, cotangent: tf.Tensor): tf.Tensor {
  const { output: y, grads } = vjp(executor, given, wrt, output, cotangent);
  y.dispose();
  return grads[0];
}

export interface JacobianOptions {
  /** Flat output indices to compute rows for (default: all). One backward pass per row. */
  rows?: number[];
}

/**
 * Jacobian ∂output/∂input between two cuts, as a tensor of shape [rows, ...inputShape] (rows = all output
 * elements in C order unless `rows` picks some). `x` is either the value at `inName` alone or a whole cut
 * (when paths bypassing `inName` need other values, e.g. the tokens of a transformer). Cost: one forward
 * and backward pass per row.
 */
export function jacobian(
  executor: TfjsGraphExecutor,
  x: tf.Tensor | Record<string, tf.Tensor>,
  inName: string,
  outName: string,
  opts: JacobianOptions = {},
): tf.Tensor {
  const given = x instanceof tf.Tensor ? { [inName]: x } : x;
  const xin = pointOf(executor, given, inName);
  const [y0] = executor.runFrom(given, [outName]);
  const outShape = y0.shape;
  const n = y0.size;
  y0.dispose();
  const rows = opts.rows ?? [...Array(n).keys()];
  for (const r of rows) {
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new TranslatorError('bad-request', `jacobian: row ${r} is outside the ${n} output elements`);
  }
  const parts = rows.map((r) =>
    tf.tidy(() => {
      const e = new Float32Array(n);
      e[r] = 1;
      const g = vjpOne(executor, given, inName, outName, tf.tensor(e, outShape, 'float32'));
      return tf.reshape(g, [1, ...xin.shape]);
    }),
  );
  const J = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  if (parts.length > 1) for (const p of parts) p.dispose();
  return J;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
