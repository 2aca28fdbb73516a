/**
 * The results panel's "Authors' conventions" section (src/webview/results/sections.ts) on the committed CLI envelopes
 * with an `authors` block added: one table per analysis, ours beside the authors', the repository as the badge,
 * values straight from the envelope; no section without the block.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { CollapseResult, LibResult, RedundancyResult } from '../../src/shared/results';
import { collapseSections, libSections, redundancySections } from '../../src/webview/results/sections';
import type { Section, TableSpec } from '../../src/webview/results/spec';

const env = (name: string): Record<string, unknown> =>
  (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'envelopes', `${name}.json`), 'utf8')) as { result: Record<string, unknown> }).result;
const source = (repository: string) => ({ repository, commit: '0123456789abcdef0123456789abcdef01234567', follows: { nccMismatch: 'accumulate.py', equiangularity: 'kernels.py', chunks: 'grid', accuracy: 'acc', r2: 'r2', residualCorrelation: 'corr', criticalWidth: 'crit', lambda0: 'rib' } });

function authorsOf(sections: Section[]): Section {
  const s = sections.find((x) => x.title === 'Authors’ conventions');
  assert.ok(s, `sections: ${sections.map((x) => x.title).join(', ')}`);
  return s;
}
const rowOf = (t: TableSpec, field: string) => t.rows.find((r) => r[0].v === field)!;

describe("results panel: the authors' conventions", () => {
  it('collapse: ours and rhubarbwu/neural-collapse side by side', () => {
    const r = env('collapse') as unknown as CollapseResult;
    assert.equal(collapseSections(r).some((s) => s.title === 'Authors’ conventions'), false);
    const a = { ...source('rhubarbwu/neural-collapse'), nccMismatchTrain: 0.0612, nccMismatchTest: 0.093, equiangularityMeans: 0.125, equiangularityWeights: null };
    const s = authorsOf(collapseSections({ ...r, authors: a }));
    assert.equal(s.badge, 'rhubarbwu/neural-collapse');
    assert.match(s.note!, /@ 0123456/);
    const t = s.items[0] as TableSpec;
    assert.deepEqual(t.columns.map((c) => c.key), ['field', 'ours', 'authors', 'follows']);
    assert.deepEqual(rowOf(t, 'nccMismatchTrain').slice(1, 3).map((c) => c.v), [r.nccMismatchTrain, 0.0612]);
    assert.equal(rowOf(t, 'equiangularityMeans')[2].v, 0.125);
    assert.equal(rowOf(t, 'equiangularityWeights')[2].text, '—');
    assert.equal(rowOf(t, 'nccMismatchTest')[3].v, 'accumulate.py');
  });

  it('redundancy: the summary on both grids and the chunks on the authors’ grid', () => {
    const r = env('redundancy') as unknown as RedundancyResult;
    const a = { ...source('diegodoimo/redundant_representation'), width: 100, criticalWidth: 50, clones: 2, draws: '100 trials',
      chunks: [1, 3, 6, 12, 25, 50, 100].map((size) => ({ size, accuracyTrain: size / 100, accuracyTest: size / 110, r2: size === 100 ? 1 : size / 60, residualCorrelation: 0.2 / size })) };
    const s = authorsOf(redundancySections({ ...r, authors: a }));
    const [summary, chunks] = s.items as TableSpec[];
    assert.deepEqual(rowOf(summary, 'width').slice(1, 3).map((c) => c.v), [r.width, 100]);
    assert.deepEqual(rowOf(summary, 'criticalWidth').slice(1, 3).map((c) => c.v), [r.criticalWidth, 50]);
    assert.deepEqual(chunks.rows.map((row) => row[0].v), [1, 3, 6, 12, 25, 50, 100]);
    assert.equal(chunks.rows[1][4].v, 0.2 / 3);
    assert.equal(chunks.note, '100 trials');
  });

  it('lib: Λ₀ ours (the folded layers’ first Λ) and rib’s, with the reason where rib cannot fold', () => {
    const r = env('lib') as unknown as LibResult;
    const folded = r.layers.filter((l) => l.folded);
    assert.ok(folded.length >= 2);
    const a = { ...source('ApolloResearch/rib'), layers: folded.map((l, i) => (i === 0 ? { name: l.name, lambda0: null, reason: 'sigmoid' } : { name: l.name, lambda0: 2 * l.lambdas[0] })) };
    const t = authorsOf(libSections({ ...r, authors: a })).items[0] as TableSpec;
    assert.equal(t.rows.length, folded.length);
    assert.deepEqual(t.rows[1].slice(1, 3).map((c) => c.v), [folded[1].lambdas[0], 2 * folded[1].lambdas[0]]);
    assert.equal(t.rows[0][2].text, '—');
    assert.equal(t.rows[0][3].v, 'sigmoid');
  });
});
