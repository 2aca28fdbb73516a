/**
 * Reading what the tapped session returned: float activations per sample, the network's own decisions
 * (accuracy, confusion counts) and the warning when the labels look permuted against its outputs.
 */
import { labelPermutationCheck } from '../../analysis/stats/assignment';
import type { OrtOutput } from '../../model/runtime/ort';
import { JobInputError } from '../errors';

/** Float activations of a tap as a flat array, checked. */
export function floatData(t: OrtOutput, name: string): Float32Array | Float64Array {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  throw new JobInputError(`'${name}' is ${t.dtype}; expected float activations`);
}

/** Elements per sample of a per-sample tensor. */
export const perSample = (t: OrtOutput): number => t.dims.slice(1).reduce((a, b) => a * b, 1);

/**
 * Counts argmax(output row) = label over a batch; null when the output is not [batch, classes]. With
 * `confusion`, also counts each (label, argmax) pair there.
 */
export function argmaxCorrect(t: OrtOutput | undefined, labels: Int32Array, confusion?: Confusion): number | null {
  if (!t || t.dims.length !== 2 || !(t.data instanceof Float32Array || t.data instanceof Float64Array)) return null;
  const C = t.dims[1], x = t.data;
  let ok = 0;
  for (let i = 0; i < labels.length; i++) {
    let arg = 0, top = x[i * C];
    for (let c = 1; c < C; c++) {
      if (x[i * C + c] > top) {
        top = x[i * C + c];
        arg = c;
      }
    }
    if (arg === labels[i]) ok++;
    confusion?.add(labels[i], arg, C);
  }
  return ok;
}

/** Confusion counts of the network's decisions (label × output), for {@link permutedLabelsWarning}. */
export class Confusion {
  counts: Float64Array | null = null;
  outputs = 0;
  /** Set when the outputs are too few for the labels (or too many to count): no check then. */
  unusable = false;
  constructor(readonly labels: number) {}

  add(label: number, output: number, outputs: number): void {
    if (this.unusable) return;
    if (!this.counts) {
      if (outputs < this.labels || this.labels * outputs > 2 ** 22) {
        this.unusable = true;
        return;
      }
      this.outputs = outputs;
      this.counts = new Float64Array(this.labels * outputs);
    }
    if (label < this.labels && output < this.outputs) this.counts[label * this.outputs + output]++;
  }
}

/**
 * The warning when the labels look permuted against the network's outputs: its accuracy is far below what a
 * one-to-one relabelling of the confusion matrix gives (and below `reference`, a label-order-free accuracy
 * such as nearest class mean, when given); names the relabelling and the `classes` spec field that fixes it.
 * Null when they do not.
 */
export function permutedLabelsWarning(
  confusion: Confusion,
  split: string,
  classNames: readonly string[] | undefined,
  reference?: { name: string; value: number | null | undefined },
): string | null {
  if (!confusion.counts || confusion.unusable) return null;
  const L = confusion.labels, K = confusion.outputs;
  const chk = labelPermutationCheck(confusion.counts, L, K, { reference: reference?.value });
  if (!chk.permuted) return null;
  const named = (l: number) => (classNames?.[l] !== undefined ? `'${classNames[l]}' (label ${l})` : `label ${l}`);
  const moved: string[] = [];
  for (let l = 0; l < L; l++) if (chk.mapping[l] >= 0 && chk.mapping[l] !== l) moved.push(`${named(l)} → output ${chk.mapping[l]}`);
  const shown = moved.length > 12 ? `${moved.slice(0, 12).join(', ')}, … (${moved.length} in all)` : moved.join(', ');
  const ref = reference && typeof reference.value === 'number' ? `; ${reference.name} is ${reference.value.toFixed(3)}` : '';
  let fix: string;
  if (classNames && classNames.length >= L) {
    const map = Array.from({ length: L }, (_, l) => l)
      .filter((l) => chk.mapping[l] >= 0)
      .map((l) => `${JSON.stringify(classNames[l])}: ${chk.mapping[l]}`);
    const text = map.length > 12 ? `{${map.slice(0, 12).join(', ')}, …}` : `{${map.join(', ')}}`;
    fix = `if the data numbers its classes in another order than the model, give the model's order in the dataset spec: "classes": ${text}`;
  } else {
    fix = 'if the data numbers its classes in another order than the model, renumber the labels to the model\'s outputs';
  }
  return `labels look permuted: the network's ${split} accuracy is ${chk.accuracy.toFixed(3)}, but ${chk.mappedAccuracy.toFixed(3)} when ${shown}${ref}; ${fix}`;
}

/** Largest label + 1 over the splits. */
export function labelRange(...labels: (Int32Array | undefined)[]): number {
  let m = -1;
  for (const l of labels) if (l) for (let i = 0; i < l.length; i++) m = Math.max(m, l[i]);
  return m + 1;
}
