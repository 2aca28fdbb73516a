/**
 * Maximum-weight assignment on a rectangular matrix (the Hungarian method, in the shortest-augmenting-path
 * form of Jonker–Volgenant as written by e-maxx), and on top of it the check that a classifier's labels look
 * permuted: the relabelling of a confusion matrix that maximises agreement, and how much accuracy it gains.
 */

/**
 * For a `rows × cols` weight matrix (row-major, rows ≤ cols), the column assigned to each row so that the
 * total weight is maximal, each column used at most once. O(rows² · cols).
 * @throws RangeError when rows > cols or the matrix length is not rows × cols, or a weight is not finite.
 */
export function maxWeightAssignment(weights: ArrayLike<number>, rows: number, cols: number): Int32Array {
  if (!(Number.isSafeInteger(rows) && Number.isSafeInteger(cols) && rows >= 0 && rows <= cols)) {
    throw new RangeError(`assignment needs 0 ≤ rows ≤ cols, found ${rows} × ${cols}`);
  }
  if (weights.length !== rows * cols) throw new RangeError(`assignment matrix has ${weights.length} entries, expected ${rows} × ${cols}`);
  let top = -Infinity;
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i])) throw new RangeError(`assignment weight ${i} is ${weights[i]}; weights must be finite`);
    top = Math.max(top, weights[i]);
  }
  // Minimise cost = top − weight (non-negative). Potentials u (rows, 1-based) and v (cols, 1-based);
  // p[j] = the row matched to column j (0: none).
  const cost = (i: number, j: number) => top - weights[(i - 1) * cols + (j - 1)];
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const p = new Int32Array(cols + 1);
  const way = new Int32Array(cols + 1);
  const minv = new Float64Array(cols + 1);
  const used = new Uint8Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost(i0, j) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (p[j] > 0) out[p[j] - 1] = j - 1;
  return out;
}

/** What {@link labelPermutationCheck} found. */
export interface LabelPermutation {
  /** Samples counted. */
  samples: number;
  /** Share of samples whose prediction equals their label. */
  accuracy: number;
  /** For each label 0…labels−1, the output that best stands for it (a one-to-one relabelling); −1 for a label with no samples. */
  mapping: Int32Array;
  /** Share of samples whose prediction equals mapping[label]. */
  mappedAccuracy: number;
  /** True when the relabelling gains enough to say the labels look permuted (see {@link labelPermutationCheck}). */
  permuted: boolean;
}

/**
 * Given the confusion counts of a classifier (`labels × outputs`, row-major: counts[l·outputs + k] = samples
 * of label l predicted as output k; at most `outputs` labels with samples), the one-to-one relabelling label → output that
 * maximises agreement (maximum-weight assignment), its accuracy, and whether the labels look permuted: the
 * relabelled accuracy beats the plain one by at least `minGain` (default 0.2) and by at least `minSamples`
 * samples (default 10, so that a handful of samples cannot trigger it), and — when `reference` is given (an
 * accuracy that does not depend on the label order's agreement with the model, e.g. nearest class mean or a
 * probe trained on the labels) — the plain accuracy is at least `minGain / 2` below it.
 * Labels without samples keep mapping −1 and do not count.
 * @throws RangeError as {@link maxWeightAssignment}.
 */
export function labelPermutationCheck(
  counts: ArrayLike<number>,
  labels: number,
  outputs: number,
  opts: { reference?: number | null; minGain?: number; minSamples?: number } = {},
): LabelPermutation {
  const minGain = opts.minGain ?? 0.2;
  const minSamples = opts.minSamples ?? 10;
  let samples = 0;
  let correct = 0;
  const present = new Uint8Array(labels);
  for (let l = 0; l < labels; l++) {
    for (let k = 0; k < outputs; k++) {
      const c = counts[l * outputs + k];
      samples += c;
      if (c > 0) present[l] = 1;
      if (k === l) correct += c;
    }
  }
  // Only labels with samples take part (a class map may leave most of a large model's outputs unused).
  const rows: number[] = [];
  for (let l = 0; l < labels; l++) if (present[l]) rows.push(l);
  const sub = new Float64Array(rows.length * outputs);
  rows.forEach((l, r) => {
    for (let k = 0; k < outputs; k++) sub[r * outputs + k] = counts[l * outputs + k];
  });
  const assigned = maxWeightAssignment(sub, rows.length, outputs);
  const mapping = new Int32Array(labels).fill(-1);
  let mappedCorrect = 0;
  rows.forEach((l, r) => {
    mapping[l] = assigned[r];
    mappedCorrect += counts[l * outputs + assigned[r]];
  });
  const accuracy = samples ? correct / samples : 0;
  const mappedAccuracy = samples ? mappedCorrect / samples : 0;
  const gain = mappedAccuracy - accuracy;
  const ref = opts.reference;
  const permuted =
    samples > 0 &&
    gain >= minGain &&
    mappedCorrect - correct >= minSamples &&
    (ref === undefined || ref === null || !Number.isFinite(ref) || accuracy <= ref - minGain / 2);
  return { samples, accuracy, mapping, mappedAccuracy, permuted };
}
