/** Losses (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss) and window generators. */
import type { OpContext, OpEntry, OpFn } from './context';
import { alongLast, need } from './opUtil';
import { gatherElementsImpl } from './opsShape';
import { intValues } from './tensors';
import { tf } from './tf';

/**
 * NLL over class axis 1: loss[n, d…] = −input[n, t, d…]·w[t] (t = target[n, d…]); targets equal to
 * ignore_index contribute 0 and no weight. reduction 'mean' divides by the summed weights of the kept targets.
 */
function nll(logp: tf.Tensor, target: tf.Tensor, weight: tf.Tensor | undefined, reduction: string, ignore: number | undefined, ctx: OpContext): tf.Tensor {
  const C = logp.shape[1] as number;
  const t = intValues(target);
  const keep = t.map((v) => (ignore !== undefined && v === ignore ? 0 : 1));
  const safe = t.map((v, i) => {
    if (!keep[i]) return 0;
    if (v < 0 || v >= C) ctx.fail('invalid-node', `target ${v} is outside the ${C} classes`);
    return v;
  });
  const idx = tf.tensor(Int32Array.from(safe), [target.shape[0] as number, 1, ...(target.shape as number[]).slice(1)], 'int32');
  const picked = tf.squeeze(gatherElementsImpl(logp, idx, 1), [1]);
  const mask = tf.tensor(Float32Array.from(keep), target.shape, 'float32');
  const w = weight ? tf.mul(tf.reshape(tf.gather(weight, tf.tensor(Int32Array.from(safe), target.shape, 'int32')), target.shape), mask) : mask;
  const loss = tf.neg(tf.mul(picked, w));
  switch (reduction) {
    case 'none':
      return loss;
    case 'sum':
      return tf.sum(loss);
    case 'mean':
      return tf.div(tf.sum(loss), tf.sum(w));
    default:
      return ctx.fail('invalid-node', `reduction '${reduction}' is not one of none, sum, mean`);
  }
}

const nllLoss: OpFn = (inputs, a, ctx) => [
  nll(need(inputs, 0, ctx), need(inputs, 1, ctx), inputs[2], a.string('reduction', 'mean'), a.has('ignore_index') ? a.int('ignore_index') : undefined, ctx),
];

const softmaxCrossEntropy: OpFn = (inputs, a, ctx) => {
  const scores = need(inputs, 0, ctx);
  const logp = alongLast(scores, 1, (y) => tf.logSoftmax(y));
  const loss = nll(logp, need(inputs, 1, ctx), inputs[2], a.string('reduction', 'mean'), a.has('ignore_index') ? a.int('ignore_index') : undefined, ctx);
  return ctx.outputCount > 1 ? [loss, logp] : [loss];
};

/** Generalised cosine window Σ (−1)^k a_k cos(2πkn/N), N = size (periodic) or size − 1 (symmetric). */
function cosineWindow(coeffs: number[]): OpFn {
  return (inputs, a, ctx) => {
    const size = intValues(need(inputs, 0, ctx))[0];
    const periodic = a.int('periodic', 1) === 1;
    const N = periodic ? size : size - 1;
    const out = new Float32Array(size);
    for (let n = 0; n < size; n++) {
      let v = 0;
      coeffs.forEach((c, k) => (v += (k % 2 ? -1 : 1) * c * Math.cos((2 * Math.PI * k * n) / N)));
      out[n] = v;
    }
    const dtype = a.int('output_datatype', 1);
    return [dtype === 1 || dtype === 11 || dtype === 10 ? tf.tensor1d(out, 'float32') : tf.cast(tf.tensor1d(out, 'float32'), 'int32')];
  };
}

const e = (fn: OpFn, opsets: string, grad: boolean, notes?: string): OpEntry => ({ fn, opsets, grad, notes });

export const MISC_OPS: Record<string, OpEntry> = {
  NegativeLogLikelihoodLoss: e(nllLoss, '12–17', true, 'reduction, ignore_index, optional weight'),
  SoftmaxCrossEntropyLoss: e(softmaxCrossEntropy, '12–17', true, 'reduction, ignore_index, optional weight; optional log_prob output'),
  HannWindow: e(cosineWindow([0.5, 0.5]), '17', false, 'periodic, output_datatype'),
  HammingWindow: e(cosineWindow([25 / 46, 21 / 46]), '17', false, 'periodic, output_datatype'),
  BlackmanWindow: e(cosineWindow([0.42, 0.5, 0.08]), '17', false, 'periodic, output_datatype'),
};
