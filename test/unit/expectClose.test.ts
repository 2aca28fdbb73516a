/** The shared closeness assertion (test/helpers/expectClose.ts) and seeded PRNG (test/helpers/random.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectClose } from '../helpers/expectClose';
import { mulberry32, seededUniform } from '../helpers/random';

describe('expectClose', () => {
  it('passes within abs + rel·|expected|, element by element', () => {
    expectClose(1.0005, 1, { rel: 1e-3 }, 'rel');
    expectClose([1, 2.01, -3], [1, 2, -3], { abs: 0.02 }, 'abs');
    expectClose(Float64Array.of(NaN, Infinity, -Infinity), [NaN, Infinity, -Infinity], {}, 'non-finite');
  });

  it('fails on the worst element, naming it with both values', () => {
    assert.throws(() => expectClose([1, 2.5, 3.1], [1, 2, 3], { abs: 0.2 }, 'xs'), /^AssertionError.*xs: element 1 of 3: 2\.5 vs expected 2 \(\|Δ\| 5\.00e-1 > 0\.2 \+ 0·\|expected\|\)/s);
    assert.throws(() => expectClose(1.01, 1, { rel: 1e-3 }, 'x'), /x: 1\.01 vs expected 1/);
    assert.throws(() => expectClose(0, 1e-30, {}, 'exact'), /exact: 0 vs expected 1e-30/);
  });

  it('fails on NaN or ∞ where a finite value is expected and the reverse, on lengths, and on non-numbers', () => {
    assert.throws(() => expectClose(NaN, 1, { abs: 1 }, 'nan'), /nan: NaN vs expected 1/);
    assert.throws(() => expectClose(1, NaN, { abs: 1 }, 'nan'), /nan: 1 vs expected NaN/);
    assert.throws(() => expectClose(Infinity, 1, { abs: 1e300 }, 'inf'), /inf: Infinity vs expected 1/);
    assert.throws(() => expectClose(-Infinity, Infinity, {}, 'inf'), /inf: -Infinity vs expected Infinity/);
    assert.throws(() => expectClose([1, 2], [1, 2, 3], { abs: 1 }, 'len'), /len: 2 values, expected 3/);
    assert.throws(() => expectClose(undefined, 1, { abs: 1 }, 'u'), /u: actual is undefined, expected a number/);
    assert.throws(() => expectClose(['1'], [1], { abs: 1 }, 's'), /s: actual element 0 is 1, expected a number/);
  });
});

describe('seeded PRNG', () => {
  it('is mulberry32 (the stream pinned in stats.test.ts); seededUniform draws from it', () => {
    const r = mulberry32(42);
    const first = [r(), r(), r()];
    assert.deepEqual(first, [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
    assert.deepEqual(Array.from(seededUniform(3, 42)), first.map(Math.fround));
    assert.deepEqual(Array.from(seededUniform(2, 42, -1, 1)), first.slice(0, 2).map((v) => Math.fround(-1 + 2 * v)));
  });
});
