/**
 * The hash probes' labels: ids renumbered over the classes present, so a per-position head's few ids of a large
 * vocabulary give K-means k = the classes present (not the vocabulary size).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactLabels } from '../../src/engine/analyses/hash';

describe('compactLabels (hash probes)', () => {
  it('renumbers the ids present in train ∪ test in increasing order', () => {
    const r = compactLabels(Int32Array.from([0, 6624, 166, 0]), Int32Array.from([1381, 166]), 6625);
    assert.equal(r.classes, 4);
    assert.deepEqual([...r.train], [0, 3, 1, 0]);
    assert.deepEqual([...r.test!], [2, 1]);
  });
  it('returns the same arrays when every id is present', () => {
    const train = Int32Array.from([2, 0, 1]);
    const r = compactLabels(train, null, 3);
    assert.equal(r.classes, 3);
    assert.equal(r.train, train);
    assert.equal(r.test, null);
  });
  it('leaves out-of-range ids to the analysis (no renumbering)', () => {
    const train = Int32Array.from([0, -1, 5]);
    const r = compactLabels(train, null, 6);
    assert.equal(r.classes, 6);
    assert.equal(r.train, train);
  });
});
