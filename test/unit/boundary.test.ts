/**
 * The host's boundary: webview → host messages checked against the protocol (unknown or malformed ones are
 * refused with a reason), and the containment of paths a run file names (real paths: a link out is outside).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { describeJob, engineMemoryLimitMb } from '../../src/engine/client';
import { ContainmentError, isInside, realPathInside, seriesMember } from '../../src/extension/containment';
import { validateCircuitsMessage, validateGraphMessage, validateResultsMessage } from '../../src/shared/validate';

const refused = (v: { ok: boolean; reason?: string }, match: RegExp): void => {
  assert.equal(v.ok, false, 'expected the message to be refused');
  assert.match((v as { reason: string }).reason, match);
  assert.doesNotMatch((v as { reason: string }).reason, /undefined|\[object Object\]/);
};

describe('webview → host message validation', () => {
  it('accepts every well-formed message of the graph editor', () => {
    for (const m of [
      { type: 'ready' },
      { type: 'openSource' },
      { type: 'confirmLoad' },
      { type: 'readTensor', id: 3, tensor: 'fc1.weight', maxElements: 16384 },
      { type: 'rendered', nodes: 10, edges: 9, renderer: 'canvas', layoutMs: 12.5, totalMs: 40 },
    ]) {
      const v = validateGraphMessage(m);
      assert.ok(v.ok, JSON.stringify(m));
      assert.equal(v.message, m);
    }
  });

  it('refuses non-objects, unknown types and missing or mistyped fields of the graph editor', () => {
    refused(validateGraphMessage(null), /expected a message object, found null/);
    refused(validateGraphMessage('ready'), /expected a message object, found "ready"/);
    refused(validateGraphMessage([]), /found an array/);
    refused(validateGraphMessage({}), /expected a message with a "type", found one with keys \(none\)/);
    refused(validateGraphMessage({ type: 3 }), /unknown message type 3/);
    refused(validateGraphMessage({ type: 'openFile', path: '/etc/passwd' }), /unknown message type "openFile" \(known: ready, openSource, confirmLoad, readTensor, rendered, saveExport, copyText\)/);
    refused(validateGraphMessage({ type: 'toString' }), /unknown message type "toString"/);
    refused(validateGraphMessage({ type: '__proto__' }), /unknown message type/);
    refused(validateGraphMessage({ type: 'readTensor', id: 1, maxElements: 5 }), /'readTensor' message: missing tensor/);
    refused(validateGraphMessage({ type: 'readTensor', id: 1, tensor: 7, maxElements: 5 }), /tensor: expected a string, found 7/);
    refused(validateGraphMessage({ type: 'readTensor', id: -1, tensor: 'w', maxElements: 5 }), /id: expected an integer/);
    refused(validateGraphMessage({ type: 'readTensor', id: 1, tensor: 'w', maxElements: 1e12 }), /maxElements: expected an integer in \[0, 1000000\]/);
    refused(validateGraphMessage({ type: 'readTensor', id: 1, tensor: '', maxElements: 5 }), /non-empty/);
    refused(validateGraphMessage({ type: 'readTensor', id: 1, tensor: 'x'.repeat(5000), maxElements: 5 }), /at most 4096 characters, found 5000/);
    refused(validateGraphMessage({ type: 'rendered', nodes: 1, edges: 1, renderer: 'svg', layoutMs: 1, totalMs: 1 }), /renderer: expected one of webgl, canvas, found "svg"/);
    refused(validateGraphMessage({ type: 'rendered', nodes: 1, edges: 1, renderer: 'canvas', layoutMs: Number.NaN, totalMs: 1 }), /layoutMs: expected a non-negative number, found NaN/);
  });

  it('checks the results panel messages: exports, runs, reveals', () => {
    assert.ok(validateResultsMessage({ type: 'export', format: 'png', fileName: 'a.png', content: new Uint8Array(4), runId: 'r1' }).ok);
    assert.ok(validateResultsMessage({ type: 'export', format: 'csv', fileName: 'a.csv', content: 'a,b\n' }).ok);
    assert.ok(validateResultsMessage({ type: 'showOnModel', runId: 'r1' }).ok);
    assert.ok(validateResultsMessage({ type: 'showOnModel', runId: 'r1', metric: 'nc1' }).ok);
    assert.ok(validateResultsMessage({ type: 'showCircuit', runId: 'r1' }).ok);
    assert.ok(validateResultsMessage({ type: 'reveal', model: '/w/m.onnx', target: { node: 'a1.h0', label: 'a1.h0' } }).ok);
    refused(validateResultsMessage({ type: 'export', format: 'exe', fileName: 'a', content: '' }), /format: expected one of json, csv, svg, png, found "exe"/);
    refused(validateResultsMessage({ type: 'export', format: 'json', fileName: 'a.json', content: { a: 1 } }), /content: expected text or bytes, found object/);
    refused(validateResultsMessage({ type: 'export', format: 'json', fileName: 'a.json', content: '', runId: 5 }), /runId: expected a string, found 5/);
    refused(validateResultsMessage({ type: 'showOnModel', runId: 'r', metric: ['x'] }), /metric: expected a string, found an array/);
    refused(validateResultsMessage({ type: 'reveal', model: '/w/m.onnx', target: 'a1.h0' }), /target: expected an object/);
    refused(validateResultsMessage({ type: 'reveal', model: '/w/m.onnx', target: {} }), /target: expected a value or a node name/);
    refused(validateResultsMessage({ type: 'reveal', target: { node: 'n' } }), /missing model/);
    refused(validateResultsMessage({ type: 'confirmLoad' }), /unknown message type "confirmLoad"/);
  });

  it('checks the circuits view messages', () => {
    assert.ok(validateCircuitsMessage({ type: 'ready' }).ok);
    assert.ok(validateCircuitsMessage({ type: 'reveal', model: '/w/t.onnx', target: { value: '/blocks.0/Softmax_output_0' } }).ok);
    assert.ok(validateCircuitsMessage({ type: 'export', format: 'svg', fileName: 'c.svg', content: '<svg/>' }).ok);
    refused(validateCircuitsMessage({ type: 'showCircuit', runId: 'r' }), /unknown message type "showCircuit" \(known: ready, export, reveal\)/);
    refused(validateCircuitsMessage({ type: 'reveal', model: 3, target: { node: 'n' } }), /model: expected a string, found 3/);
  });
});

describe('containment of run-file paths', () => {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cs-contain-')));
  const ws = path.join(root, 'ws');
  const outside = path.join(root, 'outside');
  fs.mkdirSync(path.join(ws, 'series'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(ws, 'm.onnx'), 'x');
  fs.writeFileSync(path.join(ws, 'series', 'epoch_1.onnx'), 'x');
  fs.writeFileSync(path.join(outside, 'secret.onnx'), 'x');
  fs.symlinkSync(path.join(outside, 'secret.onnx'), path.join(ws, 'link.onnx'));
  fs.symlinkSync(path.join(outside, 'secret.onnx'), path.join(ws, 'series', 'epoch_2.onnx'));
  fs.symlinkSync(outside, path.join(ws, 'outdir'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('isInside compares resolved paths, not prefixes', () => {
    assert.equal(isInside('/a/b/c', '/a/b'), true);
    assert.equal(isInside('/a/b', '/a/b'), true);
    assert.equal(isInside('/a/bc', '/a/b'), false);
    assert.equal(isInside('/a', '/a/b'), false);
    assert.equal(isInside('/a/b/../../etc', '/a/b'), false);
  });

  it('finds a model inside the workspace on its real path, and refuses links and climbs out of it', async () => {
    assert.equal(await realPathInside(path.join(ws, 'm.onnx'), [ws]), path.join(ws, 'm.onnx'));
    assert.equal(await realPathInside(path.join(ws, 'series', '..', 'm.onnx'), [ws]), path.join(ws, 'm.onnx'));
    assert.equal(await realPathInside(path.join(ws, 'link.onnx'), [ws]), undefined, 'a symlink to a file outside');
    assert.equal(await realPathInside(path.join(ws, 'outdir', 'secret.onnx'), [ws]), undefined, 'through a linked folder');
    assert.equal(await realPathInside(path.join(ws, '..', 'outside', 'secret.onnx'), [ws]), undefined);
    assert.equal(await realPathInside(path.join(outside, 'secret.onnx'), []), undefined, 'no workspace: nothing is inside');
    assert.equal(await realPathInside(path.join(ws, 'missing.onnx'), [ws]), undefined);
    assert.equal(await realPathInside(path.join(outside, 'secret.onnx'), [ws, outside]), path.join(outside, 'secret.onnx'));
  });

  it("keeps a series' checkpoints inside the series folder", async () => {
    const folder = path.join(ws, 'series');
    assert.equal(await seriesMember(folder, 'epoch_1.onnx'), path.join(folder, 'epoch_1.onnx'));
    for (const [name, match] of [
      ['../m.onnx', /must be a file inside the series folder, found '\.\.\/m\.onnx'/],
      [path.join(outside, 'secret.onnx'), /must be a file inside the series folder/],
      ['', /must be a file inside the series folder, found ''/],
      ['epoch_2.onnx', /resolves \(through a link\) outside the series folder/],
      ['epoch_9.onnx', /does not exist/],
    ] as const) {
      await assert.rejects(seriesMember(folder, name), (e: unknown) => {
        assert.ok(e instanceof ContainmentError, String(e));
        assert.match(e.message, match);
        return true;
      });
    }
  });
});

describe('engine process settings and messages', () => {
  it('sizes the memory limit from the setting, else from the budget within the machine', () => {
    const gb = 2 ** 30;
    assert.equal(engineMemoryLimitMb(6000, 4096, 64 * gb), 6000);
    assert.equal(engineMemoryLimitMb(100, 4096, 64 * gb), 256, 'never below 256 MB');
    assert.equal(engineMemoryLimitMb(0, 4096, 64 * gb), 8192, 'twice the budget');
    assert.equal(engineMemoryLimitMb(0, 1024, 64 * gb), 4096, 'at least 4 GiB');
    assert.equal(engineMemoryLimitMb(0, 4096, 8 * gb), 6553, 'at most 80% of the memory');
  });

  it('names every job kind in words for crash messages', () => {
    assert.equal(describeJob({ kind: 'analysis', analysis: 'lib', model: '/w/m/rec.onnx' }), "analysis 'lib' on rec.onnx");
    assert.equal(describeJob({ kind: 'analysisRun', analysis: 'circuit', model: 'C:\\w\\t.onnx' }), "analysis 'circuit' on t.onnx");
    assert.equal(describeJob({ kind: 'loadGraphBytes', model: '/w/model.json' }), 'loading model.json');
    assert.equal(describeJob({ kind: 'readTensor', model: '/w/m.onnx', tensor: 'fc1.weight' }), "reading tensor 'fc1.weight' of m.onnx");
    assert.equal(describeJob({ kind: 'selfTest', mode: 'abort' }), "self-test 'abort'");
  });
});
