/**
 * Checkpoint series only for checkpoints of one architecture: the signature (src/model/graphSignature.ts) on the
 * bundled series (epochs, widths) and on the three unrelated PaddleOCR models that share one folder; the model
 * pick's grouping (src/extension/seriesGroups.ts); the engine's refusal of a mixed series (analyses/series.ts).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkOneArchitecture, graphSignatures } from '../../src/engine/analyses/series';
import { seriesGroups } from '../../src/extension/seriesGroups';

const repo = path.join(__dirname, '..', '..');
const onnxIn = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.onnx'))
    .map((f) => path.join(dir, f));
const epochs = onnxIn(path.join(repo, 'examples', 'mlp', 'series'));
const widths = onnxIn(path.join(repo, 'examples', 'widths'));
const ocrDir = path.join(repo, 'node_modules', '@gutenye', 'ocr-models', 'assets');
const ocr = onnxIn(ocrDir);

describe('graph signatures', () => {
  it('are equal across the epochs of one model and across widths of one architecture', async () => {
    assert.ok(epochs.length >= 3 && widths.length >= 3);
    for (const set of [epochs, widths]) {
      const sigs = await graphSignatures(set);
      assert.equal(new Set(sigs.map((s) => s.signature)).size, 1, sigs.map((s) => `${path.basename(s.model)} ${s.signature}`).join(', '));
      assert.ok(sigs.every((s) => typeof s.signature === 'string' && /^[0-9a-f]{16}$/.test(s.signature)));
    }
  });

  it('differ between the PaddleOCR detector, recognizer and classifier', async () => {
    assert.equal(ocr.length, 3);
    const sigs = await graphSignatures(ocr);
    assert.equal(new Set(sigs.map((s) => s.signature)).size, 3);
  });

  it('are null with the error for a file that is not a model', async () => {
    const [r] = await graphSignatures([path.join(ocrDir, 'ppocr_keys_v1.txt')]);
    assert.equal(r.signature, null);
    assert.ok(r.error && !r.error.includes('\n') && r.error.includes('ppocr_keys_v1.txt'), r.error);
  });
});

describe('seriesGroups (the model pick)', () => {
  it('offers no series for a folder of unrelated models', async () => {
    assert.deepEqual(seriesGroups(await graphSignatures(ocr)), []);
  });

  it('offers the epochs as one series in natural order', async () => {
    const groups = seriesGroups(await graphSignatures([...epochs].reverse()));
    assert.equal(groups.length, 1);
    assert.deepEqual(
      groups[0].files.map((f) => path.basename(f)),
      ['epoch_001.onnx', 'epoch_002.onnx', 'epoch_004.onnx', 'epoch_008.onnx', 'epoch_016.onnx', 'epoch_032.onnx', 'epoch_064.onnx', 'epoch_128.onnx', 'epoch_200.onnx'].filter((f) => epochs.some((e) => e.endsWith(f))),
    );
    assert.equal(groups[0].others, 0);
  });

  it('keeps a series per architecture and counts the others of the folder', () => {
    const groups = seriesGroups([
      { model: '/w/a/e10.onnx', signature: 'A' },
      { model: '/w/a/e2.onnx', signature: 'A' },
      { model: '/w/a/det.onnx', signature: 'B' },
      { model: '/w/a/bad.onnx', signature: null },
      { model: '/w/b/x1.onnx', signature: 'A' },
      { model: '/w/b/x2.onnx', signature: 'C' },
    ]);
    assert.deepEqual(groups, [{ folder: '/w/a', signature: 'A', files: ['/w/a/e2.onnx', '/w/a/e10.onnx'], others: 2 }]);
  });
});

describe('checkOneArchitecture (the engine, for the CLI and the extension alike)', () => {
  it('accepts checkpoints of one architecture', async () => {
    await checkOneArchitecture(widths);
    await checkOneArchitecture(epochs);
  });

  it('refuses unrelated models with a typed one-line error naming both', async () => {
    await assert.rejects(checkOneArchitecture([ocr[0], ocr[1], ocr[2]]), (e: Error) => {
      assert.equal(e.name, 'JobInputError');
      assert.match(e.message, new RegExp(`^a checkpoint series needs checkpoints of one architecture: ${path.basename(ocr[1]).replace(/\./g, '\\.')} .* than ${path.basename(ocr[0]).replace(/\./g, '\\.')}`));
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  });
});
