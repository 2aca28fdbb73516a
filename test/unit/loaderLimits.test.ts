/**
 * Inputs refused before they can exhaust the stack or memory: JSON nested deeper than the limits (measured
 * without recursion), JSONL padded past its bounds, decoder-internal exceptions described instead of quoted.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { DatasetError, loadJsonl, openDataset, readDatasetSpec } from '../../src/model/datasets';
import { decodeImage } from '../../src/model/datasets/images';
import { encodeNpy, encodeNpz } from '../../src/model/datasets/writer';
import { JSON_DEPTH_LIMITS, jsonTooDeep } from '../../src/model/jsonDepth';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-limits-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, data: string | Uint8Array): string => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, data);
  return f;
};

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DatasetError, `expected a DatasetError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    assert.doesNotMatch(e.message, /\n|undefined|Maximum call stack/);
    return true;
  });
}

describe('JSON nesting depth', () => {
  it('is measured without parsing, ignoring brackets in strings', () => {
    assert.equal(jsonTooDeep('[[1, 2], {"a": [3]}]', 3), undefined);
    assert.deepEqual(jsonTooDeep('[[[1]]]', 2), { depth: 3, offset: 2 });
    assert.equal(jsonTooDeep('["[[[[[[", "\\"[[[["]', 1), undefined);
    assert.deepEqual(jsonTooDeep('{"a": {"b": {"c": 1}}}', 2), { depth: 3, offset: 12 });
    // A hundred thousand levels: no recursion, no stack overflow.
    assert.deepEqual(jsonTooDeep(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 256), { depth: 257, offset: 256 });
  });

  it('a JSONL line nested 100,000 deep is a bad-line error naming the line', async () => {
    const f = write('deep.jsonl', `[1, 2]\n${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    await rejectsWith(loadJsonl(f), 'bad-line', new RegExp(`deep\\.jsonl: line 2: .*nested more than ${JSON_DEPTH_LIMITS.jsonlLine} levels deep`));
  });

  it('a dataset spec nested 100,000 deep is a bad-spec error', async () => {
    const f = write('deep.dataset.json', `{"path": "x.npz", "mean": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    await rejectsWith(readDatasetSpec(f), 'bad-spec', /deep\.dataset\.json: expected a dataset spec object, found JSON nested more than 32 levels deep/);
  });
});

describe('JSONL sizes', () => {
  it('refuses a seqLen that would pad lines into gigabytes', async () => {
    const f = write('short.jsonl', '[1, 2]\n[3]\n');
    await rejectsWith(openDataset({ path: f, seqLen: 1e9, padId: 0 }), 'too-large', /seqLen is 1000000000; expected a positive integer of at most 1048576/);
    const ok = await openDataset({ path: f, seqLen: 4, padId: 0 });
    assert.deepEqual(ok.inputs.sampleShape, [4]);
  });
});

describe('image folders', () => {
  it('a declared size too large to hold is refused before any image is resized', async () => {
    const root = path.join(tmp, 'imgs');
    fs.mkdirSync(path.join(root, 'a'), { recursive: true });
    // Not even a valid image: the size check comes first.
    fs.writeFileSync(path.join(root, 'a', 'x.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    await rejectsWith(openDataset({ path: root, size: [1e9, 1e9] }), 'too-large', /"size" is \[1000000000, 1000000000\]; expected positive integers of at most 178956970 pixels/);
    await rejectsWith(openDataset({ path: root, size: [10_000, 10_000] }, { maxBytes: 2 ** 28 }), 'too-large', /1 images resized to 10000×10000 need 700000000 bytes, above the memory budget of 268435456 bytes/);
  });
});

describe('compressed .npz members', () => {
  it('a deflated member that would inflate and convert past the budget is refused before inflating', async () => {
    // 2^24 zero bytes deflate to ≈ 16 KB; as float32 they need 64 MB more.
    const zeros = { dtype: 'uint8' as const, shape: [2 ** 14, 2 ** 10], data: new Uint8Array(2 ** 24) };
    const f = write('bomb.npz', encodeNpz({ x: zeros, y: zeros }));
    assert.ok(fs.statSync(f).size < 200_000);
    await rejectsWith(openDataset({ path: f, labels: 'y' }, { maxBytes: 2 ** 24 }), 'too-large', /labels 'y' are 16777344 bytes, above half the memory budget of 16777216 bytes/);
    await rejectsWith(
      openDataset({ path: f, input: 'x' }, { maxBytes: 2 ** 26 }),
      'too-large',
      /input 'x' must be decoded whole at open \(\[16384, 1024\] uint8, compressed or Fortran-ordered\): 16777216 bytes plus 67108864 as float32, above the memory budget of 67108864 bytes; store it uncompressed/,
    );
    const ok = await openDataset({ path: f, input: 'x', limit: 10 }, { maxBytes: 2 ** 26 });
    assert.equal(ok.inputs.count, 10);
  });
});

describe('normalisation', () => {
  it('a mean that overflows float32 is a bad-spec error, not infinities in the batches', async () => {
    const f = write('u8.npy', encodeNpy({ dtype: 'uint8', shape: [2, 3], data: Uint8Array.from([0, 1, 2, 3, 4, 255]) }));
    await rejectsWith(openDataset({ path: f, mean: 1e308 }), 'bad-spec', /scale\/mean\/std turn input 'u8' sample 0, element 0 into -Infinity; expected values within float32's range/);
  });
});

describe('decoder-internal exceptions', () => {
  it('a JPEG that trips jpeg-js is described, not quoted', async () => {
    // A 1×1 frame with component 1, then a scan of component 5: jpeg-js throws
    // "TypeError: Cannot set properties of undefined (setting 'huffmanTableDC')".
    const sof = [0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00];
    const sos = [0xff, 0xda, 0x00, 0x08, 0x01, 0x05, 0x00, 0x00, 0x3f, 0x00];
    const bytes = Uint8Array.from([0xff, 0xd8, ...sof, ...sos, 0x00, 0xff, 0xd9]);
    const f = write('bad.jpg', bytes);
    await assert.rejects(decodeImage(f), (e: unknown) => {
      assert.ok(e instanceof DatasetError, String(e));
      assert.equal(e.code, 'bad-image');
      assert.match(e.message, /bad\.jpg: cannot decode JPEG: the decoder stopped on data it cannot interpret \(an internal TypeError\)/);
      assert.doesNotMatch(e.message, /undefined|Cannot (set|read) properties/);
      return true;
    });
  });
});
