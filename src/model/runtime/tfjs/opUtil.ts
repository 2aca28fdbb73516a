/** Small helpers shared by the op implementations. */
import type { OpContext, OpInputs } from './context';
import { intValues } from './tensors';
import { tf } from './tf';

/** Input `i`, which the op requires. */
export function need(inputs: OpInputs, i: number, ctx: OpContext): tf.Tensor {
  const t = inputs[i];
  if (!t) return ctx.fail('invalid-node', `expected input #${i}, found none`);
  return t;
}

/** Normalises a possibly negative axis against `rank`. */
export function normAxis(axis: number, rank: number, ctx: OpContext): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1)) return ctx.fail('invalid-node', `axis ${axis} is out of range for a rank-${rank} tensor`);
  return a;
}

/** Numpy-style (multidirectional) broadcast of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], ctx: OpContext): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return ctx.fail('invalid-node', `shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Optional int list given as an input tensor (opset ≥ N form) or undefined. */
export function optInts(t: tf.Tensor | undefined): number[] | undefined {
  return t ? intValues(t) : undefined;
}

export function prod(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

/**
 * An int32 scalar. Mixing an int32 tensor with a plain JS number makes tfjs upcast the result to float32,
 * so integer arithmetic must use these.
 */
export function i32(v: number): tf.Tensor {
  return tf.scalar(v, 'int32');
}

/** A scalar of the same dtype as `like`. */
export function scalarLike(v: number, like: tf.Tensor): tf.Tensor {
  return tf.scalar(v, like.dtype === 'bool' ? 'bool' : like.dtype);
}

export function isFloat(t: tf.Tensor): boolean {
  return t.dtype === 'float32';
}

/** Moves axis `from` to the last position (returns the permutation too, to undo it). */
export function permToLast(rank: number, axis: number): number[] {
  const perm = [...Array(rank).keys()].filter((i) => i !== axis);
  perm.push(axis);
  return perm;
}

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** Applies `f` along `axis` by moving it last, running f, and moving it back. */
export function alongLast(x: tf.Tensor, axis: number, f: (y: tf.Tensor) => tf.Tensor): tf.Tensor {
  if (axis === x.rank - 1) return f(x);
  const perm = permToLast(x.rank, axis);
  return tf.transpose(f(tf.transpose(x, perm)), inversePerm(perm));
}

/**
 * Inserts d−1 zeros between elements along each listed axis (kernel/input dilation): length k becomes
 * (k−1)·d+1. Built from reshape+pad so it is differentiable.
 */
export function dilate(x: tf.Tensor, axes: readonly number[], factors: readonly number[]): tf.Tensor {
  let y = x;
  axes.forEach((axis, i) => {
    const d = factors[i];
    const k = y.shape[axis];
    if (d <= 1 || k === 0) return;
    const s = y.shape;
    const expanded = [...s.slice(0, axis + 1), 1, ...s.slice(axis + 1)];
    const pads: [number, number][] = expanded.map(() => [0, 0]);
    pads[axis + 1] = [0, d - 1];
    const padded = tf.pad(tf.reshape(y, expanded), pads);
    const flat = tf.reshape(padded, [...s.slice(0, axis), k * d, ...s.slice(axis + 1)]);
    const begin = s.map(() => 0);
    const size = [...s];
    size[axis] = (k - 1) * d + 1;
    y = tf.slice(flat, begin, size);
  });
  return y;
}

/**
 * x[b : b + (n−1)·s + 1 : s] on every axis (counts n, steps s ≥ 1), from pad/slice/reshape: tfjs has no
 * gradient for StridedSlice. An axis with step s is cut to n·s elements (zero-padded at the end when the
 * input is shorter), split into [n, s] and its first column kept.
 */
export function stridedSliceDiff(x: tf.Tensor, begin: readonly number[], counts: readonly number[], steps: readonly number[]): tf.Tensor {
  if (steps.every((s) => s === 1)) return tf.slice(x, [...begin], [...counts]);
  const spans = counts.map((n, i) => n * steps[i]);
  const short = x.shape.map((d, i) => Math.max(0, spans[i] - (d - begin[i])));
  const src = short.some((v) => v > 0) ? tf.pad(x, short.map((v): [number, number] => [0, v])) : x;
  const cut = tf.slice(src, [...begin], spans);
  const split: number[] = [];
  const keep: number[] = [];
  counts.forEach((n, i) => {
    if (steps[i] > 1) {
      split.push(n, steps[i]);
      keep.push(n, 1);
    } else {
      split.push(n);
      keep.push(n);
    }
  });
  const picked = tf.slice(tf.reshape(cut, split), split.map(() => 0), keep);
  return tf.reshape(picked, [...counts]);
}
