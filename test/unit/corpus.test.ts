/**
 * One data-driven test over the loader corpus (test/fixtures/corpus/manifest.json, made by
 * scripts/make-corpus.ts): every file loads to the expected format with a valid IR, or fails with exactly
 * the expected typed error naming the file.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ModelLoadError } from '../../src/model/errors';
import { loadModel } from '../../src/model/load';
import { validateGraph } from '../../src/model/validate';

interface Entry {
  file: string;
  why: string;
  expect: { format: string; nodes: number; params?: number } | { error: string; match: string };
}

const dir = path.join(__dirname, '..', 'fixtures', 'corpus');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Entry[];

describe('loader corpus', () => {
  it('has at least 30 bad files', () => {
    assert.ok(manifest.filter((e) => 'error' in e.expect).length >= 30);
  });
  for (const entry of manifest) {
    it(`${entry.file}: ${entry.why}`, async () => {
      const file = path.join(dir, entry.file);
      const exp = entry.expect;
      if ('error' in exp) {
        await assert.rejects(loadModel(file), (e: unknown) => {
          assert.ok(e instanceof ModelLoadError, `expected a ModelLoadError, got ${String(e)}`);
          assert.equal(e.code, exp.error, `code for ${entry.file}: ${e.message}`);
          assert.ok(e.message.includes(exp.match), `message should mention ${JSON.stringify(exp.match)}: ${e.message}`);
          assert.ok(e.message.startsWith(path.resolve(file)), `message should name the file: ${e.message}`);
          assert.doesNotMatch(e.detail, /undefined|\[object Object\]|\n|\bat .*:\d+:\d+/, 'one line, no undefined, no stack');
          return true;
        });
      } else {
        const m = await loadModel(file);
        assert.equal(m.graph.format, exp.format);
        assert.equal(m.graph.nodes.length, exp.nodes);
        if (exp.params !== undefined) assert.equal(m.graph.params, exp.params);
        assert.deepEqual(validateGraph(m.graph), []);
        for (const name of Object.keys(m.graph.tensors)) {
          const t = await m.readTensor(name);
          assert.equal(t.data.length, t.info.elements, `tensor ${name}`);
        }
      }
    });
  }
});
