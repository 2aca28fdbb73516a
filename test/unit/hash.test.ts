/**
 * Activation hash codes (src/analysis/hashCodes.ts): concatenated layer codes, constant-bit dropping, exact
 * redundancy ratios, the sample-size axis, probes on informative codes, and degenerate inputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoSampleSizes, CodeBuilder, hashCodeAnalysis } from '../../src/analysis/hashCodes';
import { getBit } from '../../src/analysis/stats/bits';
import { mulberry32 } from '../../src/analysis/stats/random';

/** Codes of `n` samples: class prototypes of `bits` bits, each bit flipped with probability p. */
function noisyCodes(n: number, bits: number, classes: number, p: number, seed: number) {
  const r = mulberry32(seed);
  const proto = Array.from({ length: classes }, () => Array.from({ length: bits }, () => (r() < 0.5 ? 1 : -1)));
  const x = new Float32Array(n * bits);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let j = 0; j < bits; j++) x[i * bits + j] = r() < p ? -proto[y[i]][j] : proto[y[i]][j];
  }
  const b = new CodeBuilder([bits], n);
  b.add([x], n, 0);
  return { codes: b.codes, y };
}

describe('hash codes', () => {
  it('builds codes batch by batch as the concatenation of each layer’s signs', () => {
    const b = new CodeBuilder([3, 2], 4);
    b.add([Float32Array.from([1, -1, 0, 0.5, 2, -3]), Float32Array.from([0, 1, -1, -1])], 2, 0);
    b.add([Float32Array.from([0, 0, 0, 1, 1, 1]), Float32Array.from([1, 1, 0, 0])], 2, 2);
    const rows = [0, 1, 2, 3].map((r) => [0, 1, 2, 3, 4].map((j) => getBit(b.codes, r, j)).join(''));
    assert.deepEqual(rows, ['10001', '11000', '00011', '11100']);
    assert.equal(b.rows, 4);
    assert.throws(() => b.add([new Float32Array(3)], 1, 0), /expected 2 layers/);
    assert.throws(() => b.add([new Float32Array(3), new Float32Array(3)], 1, 0), /layer 1 has 3 values for 1 samples/);
  });

  it('drops constant bits, counts duplicates exactly and reports the sample-size axis', () => {
    // 6 samples, 3 bits; bit 2 is constant 1 over train ∪ test.
    const b = new CodeBuilder([3], 6);
    b.add([Float32Array.from([1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1])], 6, 0);
    const t = new CodeBuilder([3], 2);
    t.add([Float32Array.from([0, 0, 1, 0, 0, 1])], 2, 0);
    const y = Int32Array.from([0, 1, 0, 1, 0, 1]);
    const m = hashCodeAnalysis(
      { train: b.codes, labelsTrain: y, test: t.codes, labelsTest: Int32Array.from([0, 1]), classes: 2 },
      { sampleSizes: [2, 4, 6, 99], probes: { kmeans: false, logistic: false }, knnK: 3 },
    );
    assert.equal(m.codeBitsRaw, 3);
    assert.equal(m.codeBits, 2);
    // Train codes on the 2 kept bits: 10, 10, 01, 10, 00, 01 → 3 distinct of 6.
    assert.equal(m.distinctTrain, 3);
    assert.equal(m.redundancyRatioTrain, 0.5);
    assert.equal(m.redundancyRatioTest, 0.5);
    assert.deepEqual(m.bySampleSize, [
      { samples: 2, distinct: 1, redundancyRatio: 0.5 },
      { samples: 4, distinct: 2, redundancyRatio: 0.5 },
      { samples: 6, distinct: 3, redundancyRatio: 0.5 },
    ]);
    assert.equal(m.kmeansAccuracyTrain, null);
    assert.equal(typeof m.knnAccuracy, 'number');
  });

  it("'auto' sample sizes halve from n down to 100, at most 8, ascending", () => {
    assert.deepEqual(autoSampleSizes(5000), [156, 312, 625, 1250, 2500, 5000]);
    assert.deepEqual(autoSampleSizes(200), [100, 200]);
    assert.deepEqual(autoSampleSizes(199), [199]);
    assert.deepEqual(autoSampleSizes(60), [60]);
    assert.deepEqual(autoSampleSizes(60000), [468, 937, 1875, 3750, 7500, 15000, 30000, 60000]);
    assert.deepEqual(autoSampleSizes(0), []);
  });

  it('informative codes give high probe accuracies; noise gives chance', () => {
    const train = noisyCodes(600, 64, 4, 0.1, 1);
    const test = noisyCodes(200, 64, 4, 0.1, 1);
    const m = hashCodeAnalysis({ train: train.codes, labelsTrain: train.y, test: test.codes, labelsTest: test.y, classes: 4 });
    assert.equal(m.redundancyRatioTrain, 0);
    for (const k of ['kmeansAccuracyTrain', 'kmeansAccuracyTest', 'knnAccuracy', 'logisticAccuracy'] as const) {
      assert.ok((m[k] as number) > 0.95, `${k} = ${m[k]}`);
    }
    assert.equal(m.probes.logistic!.pairs, 6);
    assert.deepEqual(m.warnings, []);
    const noise = noisyCodes(400, 32, 4, 0.5, 2);
    const n2 = noisyCodes(200, 32, 4, 0.5, 3);
    const z = hashCodeAnalysis({ train: noise.codes, labelsTrain: noise.y, test: n2.codes, labelsTest: n2.y, classes: 4 }, { probes: { kmeans: false } });
    assert.ok(z.knnAccuracy! < 0.4 && z.logisticAccuracy! < 0.4);
  });

  it('without a test split reports nulls with a reason; constant codes skip the probes', () => {
    const t = noisyCodes(50, 8, 2, 0.2, 4);
    const m = hashCodeAnalysis({ train: t.codes, labelsTrain: t.y, classes: 2 });
    assert.equal(m.redundancyRatioTest, null);
    assert.equal(m.knnAccuracy, null);
    assert.equal(typeof m.kmeansAccuracyTrain, 'number');
    assert.ok(m.warnings.some((w) => /no test split/.test(w)));
    const b = new CodeBuilder([4], 3);
    b.add([new Float32Array(12).fill(1)], 3, 0);
    const c = hashCodeAnalysis({ train: b.codes, labelsTrain: Int32Array.from([0, 1, 0]), classes: 2 });
    assert.equal(c.codeBits, 0);
    assert.equal(c.redundancyRatioTrain, 2 / 3);
    assert.ok(c.warnings.some((w) => /every code bit is constant/.test(w)));
  });

  it('rejects labels that do not match the codes', () => {
    const t = noisyCodes(10, 8, 2, 0.2, 5);
    assert.throws(() => hashCodeAnalysis({ train: t.codes, labelsTrain: t.y.subarray(0, 9), classes: 2 }), /10 train codes but 9 labels/);
    assert.throws(() => hashCodeAnalysis({ train: t.codes, labelsTrain: t.y.map(() => 5), classes: 2 }), /train label 0 is 5/);
  });
});
