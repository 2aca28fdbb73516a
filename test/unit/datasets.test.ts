/**
 * Dataset loading: .npy/.npz against numpy-written fixtures (test/fixtures/datasets/manifest.json, made by
 * scripts/fixtures/datasets_fixtures.py), the writer round trip, image folders written here with
 * pngjs/jpeg-js, CSV, JSONL, the spec validator, the Dataset layer and checkAgainstModelInput.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import {
  type Dataset,
  type NdArray,
  DatasetError,
  castArray,
  checkAgainstModelInput,
  decodeNpy,
  encodeNpy,
  encodeNpz,
  fortranToC,
  isDatasetError,
  loadCsv,
  loadImageFolder,
  loadJsonl,
  openDataset,
  openNpy,
  openNpz,
  parseNpyHeader,
  readDatasetSpec,
  readNpy,
  readNpz,
  resizeBilinear,
  validateDatasetSpec,
  writeNpy,
  writeNpz,
} from '../../src/model/datasets/index';

const FIXTURES = resolve(__dirname, '../fixtures/datasets');

interface Expect {
  dtype: string;
  shape: number[];
  values: (number | string | boolean)[];
}
interface ManifestEntry {
  file: string;
  kind: 'npy' | 'npz';
  expect?: Expect;
  arrays?: Record<string, Expect>;
  error?: string;
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as { files: ManifestEntry[] };

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'circuitscope-datasets-'));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Asserts that `p` rejects with a DatasetError of `code` whose message is `${file}: ${detail}`. */
async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string, detail?: RegExp, file?: string): Promise<DatasetError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected a DatasetError ${code}, nothing was thrown`);
  assert.ok(isDatasetError(err), `expected a DatasetError ${code}, got ${String(err)}`);
  const e = err as DatasetError;
  assert.equal(e.code, code, `code (message: ${e.message})`);
  assert.equal(e.message, `${e.file}: ${e.detail}`);
  if (detail) assert.match(e.detail, detail);
  if (file !== undefined) assert.equal(e.file, file);
  return e;
}

function expectedValue(v: number | string | boolean, dtype: string): number | bigint {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (dtype === 'int64' || dtype === 'uint64') return BigInt(v);
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return Number(v);
}

function assertArray(got: NdArray, want: Expect, what: string): void {
  assert.equal(got.dtype, want.dtype, `${what} dtype`);
  assert.deepEqual(got.shape, want.shape, `${what} shape`);
  assert.equal(got.data.length, want.values.length, `${what} length`);
  const data = got.data as ArrayLike<number | bigint>;
  for (let i = 0; i < want.values.length; i++) {
    const w = expectedValue(want.values[i], want.dtype);
    const g = data[i];
    if (want.dtype === 'float32' && typeof w === 'number') assert.ok(Object.is(g, Math.fround(w)), `${what}[${i}]: ${g} vs ${w}`);
    else assert.ok(Object.is(g, w), `${what}[${i}]: ${String(g)} vs ${String(w)}`);
  }
}

function rowsOf(want: Expect, start: number, end: number): Expect {
  const row = want.shape.slice(1).reduce((a, b) => a * b, 1);
  return { dtype: want.dtype, shape: [end - start, ...want.shape.slice(1)], values: want.values.slice(start * row, end * row) };
}

describe('npy/npz fixtures written by numpy (manifest)', () => {
  for (const entry of manifest.files) {
    const path = join(FIXTURES, entry.file);
    test(`${entry.file}: ${entry.error ? `rejects with ${entry.error}` : 'matches numpy'}`, async () => {
      if (entry.error) {
        const run = entry.kind === 'npy' ? readNpy(path) : readNpz(path);
        await rejectsWith(run, entry.error, undefined, path);
        // The bytes-level decoder gives the same verdict as the file reader (bar the empty file).
        if (entry.kind === 'npy' && entry.error !== 'empty-file') {
          await rejectsWith(() => decodeNpy(readFileSync(path), path), entry.error);
        }
        return;
      }
      if (entry.kind === 'npy') {
        const want = entry.expect as Expect;
        assertArray(await readNpy(path), want, entry.file);
        assertArray(decodeNpy(readFileSync(path), path), want, `${entry.file} (bytes)`);
        const f = await openNpy(path);
        assert.deepEqual(f.header.shape, want.shape);
        if (want.shape.length >= 1 && want.shape[0] >= 2) {
          const n = want.shape[0];
          assertArray(await f.readRows(1, n), rowsOf(want, 1, n), `${entry.file} rows 1..`);
          assertArray(await f.readRows(0, 1), rowsOf(want, 0, 1), `${entry.file} row 0`);
        }
        return;
      }
      const z = await openNpz(path);
      const arrays = entry.arrays as Record<string, Expect>;
      assert.deepEqual(z.arrays.map((a) => a.name).sort(), Object.keys(arrays).sort());
      for (const [name, want] of Object.entries(arrays)) {
        assert.equal(z.info(name).dtype, want.dtype);
        assert.deepEqual(z.info(name).shape, want.shape);
        assertArray(await z.read(name), want, `${entry.file}:${name}`);
        if (want.shape[0] >= 2) assertArray(await z.readRows(name, 1, 2), rowsOf(want, 1, 2), `${entry.file}:${name} row 1`);
      }
    });
  }
});

describe('npy details', () => {
  test('the header lists dtype, order, version and data offset', async () => {
    const f = await openNpy(join(FIXTURES, 'i4_be_fortran.npy'));
    assert.equal(f.header.descr, '>i4');
    assert.equal(f.header.littleEndian, false);
    assert.equal(f.header.fortranOrder, true);
    assert.equal(f.header.version, '1.0');
    assert.equal(f.header.dataOffset % 64, 0);
    assert.equal((await openNpy(join(FIXTURES, 'v2.npy'))).header.version, '2.0');
    assert.equal((await openNpy(join(FIXTURES, 'v3.npy'))).header.version, '3.0');
  });

  test('unsupported dtypes say which', async () => {
    await rejectsWith(readNpy(join(FIXTURES, 'float16.npy')), 'unsupported-dtype', /float16 \('<f2'\).*astype\(np\.float32\)/);
    await rejectsWith(readNpy(join(FIXTURES, 'unicode.npy')), 'unsupported-dtype', /unicode string/);
    await rejectsWith(readNpy(join(FIXTURES, 'object.npy')), 'unsupported-dtype', /Python object/);
    await rejectsWith(readNpy(join(FIXTURES, 'complex.npy')), 'unsupported-dtype', /complex/);
    await rejectsWith(readNpy(join(FIXTURES, 'datetime.npy')), 'unsupported-dtype', /datetime64/);
    await rejectsWith(readNpy(join(FIXTURES, 'structured.npy')), 'unsupported-dtype', /structured dtype/);
  });

  test('file-level errors: missing, directory, zip given as npy', async () => {
    await rejectsWith(readNpy(join(tmp, 'nope.npy')), 'not-found', /not found/, join(tmp, 'nope.npy'));
    await rejectsWith(readNpy(tmp), 'directory', /directory/, tmp);
    await rejectsWith(readNpy(join(FIXTURES, 'xy_stored.npz')), 'bad-magic', /zip archive: use the \.npz reader/);
    await rejectsWith(openNpz(join(tmp, 'nope.npz')), 'not-found');
    await rejectsWith(openNpz(tmp), 'directory');
    await rejectsWith(() => parseNpyHeader(new Uint8Array(0), 'x.npy'), 'empty-file');
  });

  test('row reads outside the array are out-of-range', async () => {
    const f = await openNpy(join(FIXTURES, 'rows.npy'));
    await rejectsWith(f.readRows(5, 11), 'out-of-range', /\[5, 11\) is outside \[0, 10\)/);
    await rejectsWith(f.readRows(3, 2), 'out-of-range');
    const z = await openNpz(join(FIXTURES, 'xy_deflated.npz'));
    await rejectsWith(z.readRows('x', 0, 7), 'out-of-range');
    await rejectsWith(z.read('nope'), 'missing-array', /no array 'nope' in the archive \(arrays: 'x', 'y', 'x_test', 'y_test'\)/);
  });

  test('row ranges are read from disk without the rest of the file (sparse 4 GiB .npy)', async () => {
    const rows = 2 ** 28 + 2; // × 4 float32 = 4 GiB of data, never materialised
    // Header by hand (encodeNpy would want the 4 GiB of data), then a sparse file of the full length.
    const text = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, 4), }`;
    const padded = text.padEnd(128 - 10 - 1, ' ') + '\n';
    const pre = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length, 0]);
    const path = join(tmp, 'huge.npy');
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, pre);
      writeSync(fd, Buffer.from(padded, 'latin1'));
      ftruncateSync(fd, 128 + rows * 16);
      writeSync(fd, Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer), 0, 16, 128 + (rows - 1) * 16);
    } finally {
      closeSync(fd);
    }
    const f = await openNpy(path);
    assert.deepEqual(f.header.shape, [rows, 4]);
    const last = await f.readRows(rows - 2, rows);
    assert.deepEqual(Array.from(last.data as Float32Array), [0, 0, 0, 0, 1, 2, 3, 4]);
    await rejectsWith(f.read(), 'too-large', /exceed what one buffer can hold/);
    const ds = await openDataset({ path, limit: rows });
    assert.equal(ds.inputs.count, rows);
    const it = ds.batches(2, { start: rows - 4 })[Symbol.asyncIterator]();
    const b1 = await it.next();
    const b2 = await it.next();
    assert.equal((await it.next()).done, true);
    assert.ok(!b1.done && !b2.done);
    assert.deepEqual(b2.value.shape, [2, 4]);
    assert.deepEqual(Array.from(b2.value.x as Float32Array).slice(4), [1, 2, 3, 4]);
    rmSync(path);
  });

  test('fortranToC reorders any rank', () => {
    // numpy: np.arange(6).reshape(2,3) in F order is stored [0,3,1,4,2,5].
    assert.deepEqual(Array.from(fortranToC(Int32Array.from([0, 3, 1, 4, 2, 5]), [2, 3])), [0, 1, 2, 3, 4, 5]);
    const one = Float32Array.from([1, 2]);
    assert.equal(fortranToC(one, [2]), one);
  });

  test('castArray range and integrality checks', () => {
    assert.deepEqual(Array.from(castArray(Float64Array.from([1, 2]), 'float64', 'int64', 'f', 'x') as BigInt64Array), [1n, 2n]);
    assert.throws(() => castArray(Float64Array.from([1.5]), 'float64', 'int32', 'f', 'x'), (e: unknown) => isDatasetError(e) && e.code === 'dtype-mismatch' && /not an integer/.test(e.detail));
    assert.throws(() => castArray(BigInt64Array.from([2n ** 40n]), 'int64', 'int32', 'f', 'x'), (e: unknown) => isDatasetError(e) && /outside the range of int32/.test(e.detail));
    assert.throws(() => castArray(Uint8Array.from([2]), 'uint8', 'bool', 'f', 'x'), (e: unknown) => isDatasetError(e) && e.code === 'dtype-mismatch');
  });

  test('a directory record with impossible sizes is corrupt-zip, not an allocation', async () => {
    const bytes = Uint8Array.from(readFileSync(join(FIXTURES, 'xy_deflated.npz')));
    const cd = Buffer.from(bytes).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    new DataView(bytes.buffer).setUint32(cd + 24, 0xfffffff0, true);
    const path = join(tmp, 'huge-claim.npz');
    writeFileSync(path, bytes);
    await rejectsWith(openNpz(path), 'corrupt-zip', /claims 4294967280 bytes/);
  });

  test('no truncation or corruption of an npy/npz escapes as an untyped error', async () => {
    for (const name of ['xy_stored.npz', 'xy_deflated.npz', 'f8_fortran.npy', 'zip64.npz']) {
      const bytes = readFileSync(join(FIXTURES, name));
      const path = join(tmp, `cut-${name}`);
      const variants: Uint8Array[] = [];
      for (let n = 0; n < bytes.length; n += 23) variants.push(bytes.subarray(0, n));
      for (let i = 0; i < bytes.length; i += 17) {
        const b = Uint8Array.from(bytes);
        b[i] ^= 0xa5;
        variants.push(b);
      }
      for (const v of variants) {
        writeFileSync(path, v);
        try {
          if (name.endsWith('.npy')) await readNpy(path);
          else await readNpz(path);
        } catch (e) {
          assert.ok(isDatasetError(e), `${name} (${v.length} bytes): ${String(e)}`);
        }
      }
    }
  });
});

describe('npy/npz writer', () => {
  const arrays: Record<string, NdArray> = {
    f32: { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3.25, NaN, Infinity, -0]) },
    f64: { dtype: 'float64', shape: [3], data: Float64Array.from([Math.PI, -1e300, 5e-324]) },
    i64: { dtype: 'int64', shape: [2, 2], data: BigInt64Array.from([-(2n ** 63n), 2n ** 53n + 1n, 0n, 2n ** 63n - 1n]) },
    i32: { dtype: 'int32', shape: [1, 3], data: Int32Array.from([-(2 ** 31), 7, 2 ** 31 - 1]) },
    u8: { dtype: 'uint8', shape: [2, 2, 2], data: Uint8Array.from([0, 1, 2, 3, 252, 253, 254, 255]) },
    u64: { dtype: 'uint64', shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
    b: { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
    scalar: { dtype: 'float64', shape: [], data: Float64Array.from([2.5]) },
    empty: { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) },
  };
  const same = (a: NdArray, b: NdArray, what: string) => {
    assert.equal(a.dtype, b.dtype, what);
    assert.deepEqual(a.shape, b.shape, what);
    assert.deepEqual(Array.from(a.data as ArrayLike<unknown>), Array.from(b.data as ArrayLike<unknown>), what);
  };

  for (const compress of [true, false]) {
    test(`round-trips every dtype through our reader (${compress ? 'deflated' : 'stored'})`, async () => {
      const path = join(tmp, `rt-${compress}.npz`);
      await writeNpz(path, arrays, { compress });
      const z = await openNpz(path);
      assert.deepEqual(z.arrays.map((a) => a.name), Object.keys(arrays));
      assert.ok(z.arrays.every((a) => a.compressed === compress));
      for (const [k, v] of Object.entries(arrays)) same(await z.read(k), v, k);
      same(await z.readRows('i64', 1, 2), { dtype: 'int64', shape: [1, 2], data: BigInt64Array.from([0n, 2n ** 63n - 1n]) }, 'rows');
    });
  }

  test('.npy headers are aligned to 64 bytes and decode back', async () => {
    for (const [k, v] of Object.entries(arrays)) {
      const bytes = encodeNpy(v);
      const h = parseNpyHeader(bytes, k);
      assert.equal(h.dataOffset % 64, 0);
      assert.equal(h.version, '1.0');
      same(decodeNpy(bytes, k), v, k);
      const path = join(tmp, `${k}.npy`);
      await writeNpy(path, v);
      same(await readNpy(path), v, `${k} file`);
    }
    const wide = { dtype: 'float32' as const, shape: new Array(30000).fill(1), data: Float32Array.from([7]) };
    const h = parseNpyHeader(encodeNpy(wide), 'wide');
    assert.equal(h.version, '2.0');
    assert.equal(h.dataOffset % 64, 0);
  });

  test('writer errors are typed', async () => {
    await rejectsWith(() => encodeNpy({ dtype: 'float32', shape: [3], data: new Float32Array(2) }, 'a.npy'), 'size-mismatch', /needs 3 elements, got a Float32Array of 2/);
    await rejectsWith(() => encodeNpy({ dtype: 'float32', shape: [2], data: new Float64Array(2) }), 'size-mismatch');
    await rejectsWith(() => encodeNpy({ dtype: 'float32', shape: [-1], data: new Float32Array(0) }), 'bad-spec');
    await rejectsWith(() => encodeNpz({ 'a/b': arrays.f32 }), 'bad-spec', /path separator/);
    await rejectsWith(writeNpz(join(tmp, 'no-such-dir', 'x.npz'), { x: arrays.f32 }), 'not-found');
  });
});

// ---------------------------------------------------------------- images

function png(path: string, w: number, h: number, pixel: (x: number, y: number) => [number, number, number, number], colorType: 0 | 2 | 6 = 6): void {
  const p = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) p.data.set(pixel(x, y), (y * w + x) * 4);
  writeFileSync(path, PNG.sync.write(p, { colorType, inputHasAlpha: true }));
}

function jpg(path: string, w: number, h: number, rgb: [number, number, number]): void {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...rgb, 255], i * 4);
  writeFileSync(path, jpeg.encode({ width: w, height: h, data }, 95).data);
}

describe('image folders', () => {
  let grey: string;
  let colour: string;
  before(() => {
    grey = join(tmp, 'grey');
    for (const c of ['zebra', 'ant', 'cat']) mkdirSync(join(grey, c), { recursive: true });
    // ant: 2 images, cat: 1, zebra: 2; values encode (class, index, x, y).
    png(join(grey, 'ant', 'b.png'), 3, 2, (x, y) => [10 + x + 3 * y, 10 + x + 3 * y, 10 + x + 3 * y, 255], 0);
    png(join(grey, 'ant', 'a.png'), 3, 2, (x, y) => [x + 3 * y, x + 3 * y, x + 3 * y, 255], 0);
    png(join(grey, 'cat', 'c.PNG'), 3, 2, () => [100, 100, 100, 255], 0);
    png(join(grey, 'zebra', 'z1.png'), 3, 2, () => [200, 200, 200, 128], 6);
    png(join(grey, 'zebra', 'z2.png'), 3, 2, () => [250, 250, 250, 255], 2);
    writeFileSync(join(grey, 'zebra', 'notes.txt'), 'not an image');
    writeFileSync(join(grey, 'README.md'), 'top-level file');

    colour = join(tmp, 'colour');
    mkdirSync(join(colour, 'a'), { recursive: true });
    mkdirSync(join(colour, 'b'), { recursive: true });
    png(join(colour, 'a', '1.png'), 2, 2, (x, y) => [x * 100, y * 100, 50, 200]);
    jpg(join(colour, 'b', '1.jpg'), 8, 8, [200, 40, 90]);
  });

  test('classes sorted to ids, files sorted, non-images skipped and counted, grey detected', async () => {
    const f = await loadImageFolder(grey);
    assert.deepEqual(f.classNames, ['ant', 'cat', 'zebra']);
    assert.deepEqual(Array.from(f.labels), [0, 0, 1, 2, 2]);
    assert.deepEqual(f.files, ['ant/a.png', 'ant/b.png', 'cat/c.PNG', 'zebra/z1.png', 'zebra/z2.png']);
    assert.deepEqual(f.images.shape, [5, 1, 2, 3]);
    assert.deepEqual(Array.from(f.images.data.subarray(0, 12)), [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);
    assert.equal(f.skipped.count, 2);
    assert.deepEqual(f.skipped.examples.sort(), ['README.md', 'zebra/notes.txt']);
  });

  test('dataset: default scale 1/255, labels, class names, notes; declared channels 3 from grey', async () => {
    const ds = await openDataset(grey);
    assert.equal(ds.format, 'images');
    assert.deepEqual(ds.inputs, { name: 'images', dtype: 'float32', sampleShape: [1, 2, 3], count: 5 });
    assert.deepEqual(ds.classNames, ['ant', 'cat', 'zebra']);
    assert.match(ds.notes.join('\n'), /skipped 2 non-image file/);
    const b = await ds.read();
    assert.equal((b.x as Float32Array)[5], Math.fround(5 / 255));
    const rgb = await openDataset({ path: grey, channels: 3, layout: 'NHWC' });
    assert.deepEqual(rgb.inputs.sampleShape, [2, 3, 3]);
    const x = (await rgb.read(0, 1)).x as Float32Array;
    assert.deepEqual(Array.from(x.subarray(0, 6), (v) => Math.round(v * 255)), [0, 0, 0, 1, 1, 1]);
  });

  test('RGB(A): NCHW/NHWC, channels 1/3/4, mean/std per channel, JPEG decoded', async () => {
    const nchw = await loadImageFolder(colour, { size: [2, 2], channels: 4 });
    assert.deepEqual(nchw.images.shape, [2, 4, 2, 2]);
    // PNG 'a/1.png': R = 100x, G = 100y, B = 50, A = 200.
    assert.deepEqual(Array.from(nchw.images.data.subarray(0, 16)), [0, 100, 0, 100, 0, 0, 100, 100, 50, 50, 50, 50, 200, 200, 200, 200]);
    const nhwc = await loadImageFolder(colour, { size: [2, 2], layout: 'NHWC' });
    assert.deepEqual(nhwc.images.shape, [2, 2, 2, 3]);
    assert.deepEqual(Array.from(nhwc.images.data.subarray(0, 6)), [0, 0, 50, 100, 0, 50]);
    // JPEG is lossy: a flat colour comes back within a few levels.
    const jp = Array.from(nhwc.images.data.subarray(12, 15));
    for (const [g, w] of jp.map((v, i) => [v, [200, 40, 90][i]])) assert.ok(Math.abs(g - w) <= 4, `${jp}`);
    const l = await loadImageFolder(colour, { size: [2, 2], channels: 1 });
    // PIL luma of (100, 0, 50): (100·19595 + 50·7471 + 32768) >> 16 = 36 (299/1000·100 + 114/1000·50 = 35.6).
    assert.equal(l.images.data[1], 36);

    const ds = await openDataset({ path: colour, size: [2, 2], mean: [0.5, 0.25, 0], std: [0.5, 0.5, 2] });
    const x = (await ds.read(0, 1)).x as Float32Array;
    assert.equal(x[1], Math.fround((100 / 255 - 0.5) / 0.5));
    assert.equal(x[4 + 2], Math.fround((100 / 255 - 0.25) / 0.5));
    assert.equal(x[8], Math.fround(50 / 255 / 2));
    await rejectsWith(openDataset({ path: colour, size: [2, 2], mean: [0.1, 0.2] }), 'bad-spec', /"mean" has 2 values but samples of shape \[3, 2, 2\] have 3 channels/);
  });

  test('bilinear resize: half-pixel centres, clamped edges, identity at the same size', () => {
    const row = (vals: number[]) => Uint8Array.from(vals.flatMap((v) => [v, v, v, 255]));
    const up = resizeBilinear(row([0, 100]), 1, 2, 1, 4);
    assert.deepEqual(Array.from(up.filter((_, i) => i % 4 === 0)), [0, 25, 75, 100]);
    const down = resizeBilinear(row([0, 10, 20, 30]), 1, 4, 1, 2);
    assert.deepEqual(Array.from(down.filter((_, i) => i % 4 === 0)), [5, 25]);
    const img = row([3, 7, 11, 200, 0, 9]);
    assert.deepEqual(resizeBilinear(img, 2, 3, 2, 3), img);
    // 2×2 → 3×3: centre = mean of the four corners.
    const sq = resizeBilinear(row([0, 40, 80, 120]), 2, 2, 3, 3);
    assert.equal(sq[4 * 4], 60);
  });

  test('mismatched sizes need "size"; with it every image is resized', async () => {
    const dir = join(tmp, 'sizes');
    mkdirSync(join(dir, 'k'), { recursive: true });
    png(join(dir, 'k', 'a.png'), 4, 4, () => [9, 9, 9, 255]);
    png(join(dir, 'k', 'b.png'), 2, 3, () => [9, 9, 9, 255]);
    await rejectsWith(loadImageFolder(dir), 'bad-image', /is 3×2 \(h×w\) but k\/a\.png is 4×4; declare "size"/, join(dir, 'k', 'b.png'));
    const f = await loadImageFolder(dir, { size: [5, 5] });
    assert.deepEqual(f.images.shape, [2, 1, 5, 5]);
    assert.ok(f.images.data.every((v) => v === 9));
  });

  test('limit keeps classes balanced (round-robin)', async () => {
    const f = await loadImageFolder(grey, { limit: 3 });
    assert.deepEqual(f.files, ['ant/a.png', 'cat/c.PNG', 'zebra/z1.png']);
    const ds = await openDataset({ path: grey, limit: 4 });
    assert.deepEqual(Array.from(ds.labels ?? []), [0, 0, 1, 2]);
  });

  test('errors: unreadable image named, unsupported format, empty folders, file, missing', async () => {
    const dir = join(tmp, 'broken');
    mkdirSync(join(dir, 'c'), { recursive: true });
    png(join(dir, 'c', 'ok.png'), 2, 2, () => [1, 2, 3, 255]);
    const bad = join(dir, 'c', 'x.png');
    writeFileSync(bad, Buffer.concat([readFileSync(join(dir, 'c', 'ok.png')).subarray(0, 40)]));
    await rejectsWith(loadImageFolder(dir), 'bad-image', /cannot decode PNG/, bad);
    writeFileSync(bad, 'hello');
    await rejectsWith(loadImageFolder(dir), 'bad-image', /not a PNG or JPEG/, bad);
    writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1, 2, 3]));
    await rejectsWith(loadImageFolder(dir), 'bad-image', /cannot decode JPEG/, bad);
    rmSync(bad);
    writeFileSync(join(dir, 'c', 'anim.gif'), 'GIF89a');
    await rejectsWith(loadImageFolder(dir), 'bad-image', /GIF images are not supported/);
    rmSync(join(dir, 'c', 'anim.gif'));

    const empty = join(tmp, 'empty-root');
    mkdirSync(empty);
    await rejectsWith(openDataset({ path: empty, format: 'images' }), 'empty-dataset', /no class sub-folders/);
    mkdirSync(join(empty, 'a'));
    writeFileSync(join(empty, 'a', 'x.txt'), '');
    await rejectsWith(loadImageFolder(empty), 'empty-dataset', /no PNG or JPEG files in the 1 class folders \(1 other files skipped, e\.g\. a\/x\.txt\)/);
    await rejectsWith(loadImageFolder(join(dir, 'c', 'ok.png')), 'not-a-directory');
    await rejectsWith(loadImageFolder(join(tmp, 'missing')), 'not-found');
  });
});

// ---------------------------------------------------------------- CSV / JSONL

describe('CSV', () => {
  const write = (name: string, text: string) => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };

  test('header detected, label column by name, string labels → sorted class ids', async () => {
    const p = write('iris.csv', 'sl,sw,species\n5.1,3.5,setosa\n7.0,3.2,versicolor\r\n\n6.3,"3.3",setosa\n');
    const d = await loadCsv(p, { labelColumn: 'species' });
    assert.deepEqual(d.columns, ['sl', 'sw']);
    assert.deepEqual(d.features.shape, [3, 2]);
    assert.deepEqual(Array.from(d.features.data as Float64Array), [5.1, 3.5, 7.0, 3.2, 6.3, 3.3]);
    assert.deepEqual(d.classNames, ['setosa', 'versicolor']);
    assert.deepEqual(Array.from(d.labels ?? []), [0, 1, 0]);
    const ds = await openDataset({ path: p, labelColumn: 'species' });
    assert.deepEqual(ds.inputs, { name: 'features', dtype: 'float32', sampleShape: [2], count: 3 });
  });

  test('no header (label names in the last column are not mistaken for one), index labels, tsv, semicolons', async () => {
    const p = write('iris.data', '5.1,3.5,Iris-setosa\n4.9,3.0,Iris-setosa\n');
    const d = await loadCsv(p, { labelColumn: -1 });
    assert.deepEqual(d.columns, ['col0', 'col1']);
    assert.equal(d.features.shape[0], 2);
    const t = await loadCsv(write('a.tsv', 'x\ty\tl\n1\t2\t0\n3\t4\t1\n'), { labelColumn: 2 });
    assert.deepEqual(Array.from(t.labels ?? []), [0, 1]);
    assert.equal(t.classNames, undefined);
    const s = await loadCsv(write('semi.csv', '1;2\n3;4e-1\n'));
    assert.deepEqual(Array.from(s.features.data as Float64Array), [1, 2, 3, 0.4]);
    const forced = await loadCsv(write('forced.csv', '1,2\n3,4\n'), { header: true });
    assert.deepEqual(forced.columns, ['1', '2']);
    assert.equal(forced.features.shape[0], 1);
  });

  test('errors carry the line number', async () => {
    await rejectsWith(loadCsv(write('bad1.csv', 'a,b\n1,2\n3,x7\n')), 'bad-cell', /^line 3, column 2 \('b'\): "x7" is not a number$/);
    await rejectsWith(loadCsv(write('bad2.csv', 'a,b\n1,2\n3\n')), 'bad-cell', /^line 3: 1 cells, expected 2 as on line 1$/);
    await rejectsWith(loadCsv(write('bad3.csv', '1,,3\n')), 'bad-cell', /line 1, column 2 \('col1'\): empty cell/);
    await rejectsWith(loadCsv(write('bad4.csv', '1,"2\n')), 'bad-cell', /line 1: unbalanced/);
    await rejectsWith(loadCsv(write('bad5.csv', '1,2\n'), { labelColumn: 'y' }), 'bad-spec', /no header row/);
    await rejectsWith(loadCsv(write('bad6.csv', 'a,b\n1,2\n'), { labelColumn: 'y' }), 'bad-spec', /no column 'y' in the header \(columns: a, b\)/);
    await rejectsWith(loadCsv(write('bad7.csv', 'a,b\n1,2.5\n'), { labelColumn: 'b' }), 'bad-labels', /line 2: label 2.5/);
    await rejectsWith(loadCsv(write('bad8.csv', 'a,b\n'), {}), 'empty-dataset');
    await rejectsWith(loadCsv(write('bad9.csv', '1,2\n'), { labelColumn: 5 }), 'bad-spec');
    await rejectsWith(loadCsv(write('bad10.csv', '')), 'empty-file');
    await rejectsWith(loadCsv(write('bad11.csv', '1\n'), { labelColumn: 0 }), 'empty-dataset', /no feature columns/);
    await rejectsWith(loadCsv(tmp), 'directory');
  });

  test('nan/inf cells are read, then reported by the dataset unless allowed', async () => {
    const p = write('nan.csv', 'a,b\n1,2\n3,nan\ninf,4\n');
    const e = await rejectsWith(openDataset(p), 'non-finite', /has 2 non-finite value\(s\).*first is sample 1, element 1.*"allowNonFinite": true/);
    assert.equal(e.file, p);
    const ds = await openDataset({ path: p, allowNonFinite: true });
    assert.ok(Number.isNaN((await ds.read()).x[3] as number));
  });
});

describe('JSONL', () => {
  const write = (name: string, text: string) => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };

  test('arrays and objects with labels; int64 tokens', async () => {
    const p = write('t.jsonl', '{"tokens": [1, 2, 3], "label": 1}\n\n{"tokens": [4, 5, 6], "label": 0, "text": "x"}\n');
    const d = await loadJsonl(p);
    assert.deepEqual(d.tokens.shape, [2, 3]);
    assert.deepEqual(Array.from(d.tokens.data as BigInt64Array), [1n, 2n, 3n, 4n, 5n, 6n]);
    assert.deepEqual(Array.from(d.labels ?? []), [1, 0]);
    const ds = await openDataset(p);
    assert.deepEqual(ds.inputs, { name: 'tokens', dtype: 'int64', sampleShape: [3], count: 2 });
    const i32 = await openDataset({ path: p, dtype: 'int32' });
    assert.ok((await i32.read()).x instanceof Int32Array);
    const arr = await loadJsonl(write('a.jsonl', '[1,2]\n[3,4]\n'));
    assert.equal(arr.labels, undefined);
  });

  test('seqLen pads with padId and truncates; notes say how many', async () => {
    const p = write('pad.jsonl', '[1,2,3,4,5]\n[6]\n[7,8,9]\n');
    const ds = await openDataset({ path: p, seqLen: 3, padId: 0 });
    assert.deepEqual(Array.from((await ds.read()).x as BigInt64Array), [1n, 2n, 3n, 6n, 0n, 0n, 7n, 8n, 9n]);
    assert.deepEqual(ds.notes, ['truncated 1 line(s) to seqLen 3', 'padded 1 line(s) to seqLen 3 with id 0']);
  });

  test('errors carry the line number', async () => {
    await rejectsWith(loadJsonl(write('e1.jsonl', '[1,2]\n[1,2,3]\n')), 'bad-line', /^line 2: 3 tokens, but line 1 has 2; declare seqLen/);
    await rejectsWith(loadJsonl(write('e2.jsonl', '[1,2]\n[1,\n'), {}), 'bad-line', /^line 2: not valid JSON/);
    await rejectsWith(loadJsonl(write('e3.jsonl', '[1,2.5]\n')), 'bad-line', /^line 1: token 1 is 2.5, not an integer id/);
    await rejectsWith(loadJsonl(write('e4.jsonl', '[1]\n'), { seqLen: 3 }), 'bad-line', /^line 1: 1 tokens, fewer than seqLen 3, and no padId/);
    await rejectsWith(loadJsonl(write('e5.jsonl', '{"ids": [1]}\n')), 'bad-line', /^line 1: object has no 'tokens' key \(keys: ids\)/);
    await rejectsWith(loadJsonl(write('e6.jsonl', '{"tokens": [1], "label": 1}\n{"tokens": [2]}\n')), 'bad-line', /^line 2: 'label' must be an int32 class id/);
    await rejectsWith(loadJsonl(write('e7.jsonl', '"hello"\n')), 'bad-line', /^line 1: expected an array/);
    await rejectsWith(loadJsonl(write('e8.jsonl', '{"tokens": 5}\n')), 'bad-line', /is not an array/);
    await rejectsWith(loadJsonl(write('e9.jsonl', '[]\n')), 'bad-line', /no tokens/);
    await rejectsWith(loadJsonl(write('e10.jsonl', '\n\n')), 'empty-dataset');
    await rejectsWith(loadJsonl(write('e11.jsonl', '{"tokens": [1], "label": 1}\n[2]\n')), 'bad-line', /^line 2: is a bare array/);
  });
});

// ---------------------------------------------------------------- spec

describe('dataset spec', () => {
  test('relative paths resolve against the spec file; format inferred; bare path accepted', async () => {
    const dir = join(tmp, 'specs');
    mkdirSync(dir, { recursive: true });
    const specFile = join(dir, 'ds.json');
    writeFileSync(specFile, JSON.stringify({ path: '../data/x.npz', limit: 3 }));
    const s = await readDatasetSpec(specFile);
    assert.equal(s.path, join(tmp, 'data', 'x.npz'));
    assert.equal(s.format, 'npz');
    assert.deepEqual(validateDatasetSpec('a.jsonl').format, 'jsonl');
    assert.equal(validateDatasetSpec({ path: 'b.TSV' }).format, 'csv');
    assert.equal(validateDatasetSpec({ path: tmp }).format, 'images');
    assert.equal(validateDatasetSpec({ path: 'x.bin', format: 'npy' }).format, 'npy');
  });

  test('every malformed field is a bad-spec error naming the spec file', async () => {
    const cases: [unknown, RegExp][] = [
      [42, /must be a JSON object/],
      [{}, /missing field 'path'/],
      [{ path: 'a.npz', lables: 'y' }, /unknown field 'lables'/],
      [{ path: 'a.npz', dtype: 'float16' }, /field 'dtype' must be one of/],
      [{ path: 'a.npz', reshape: [1, -1, -1] }, /'reshape' must be an array of positive integers \(at most one -1\)/],
      [{ path: 'a.npz', reshape: 'abc' }, /'reshape'/],
      [{ path: 'a.npz', scale: 0 }, /'scale' must be a finite non-zero number/],
      [{ path: 'a.npz', std: [1, 0] }, /'std' must be a positive number/],
      [{ path: 'a.npz', mean: [] }, /'mean'/],
      [{ path: 'd', format: 'images', channels: 2 }, /'channels' must be 1, 3 or 4/],
      [{ path: 'd', format: 'images', size: [28] }, /'size' must be \[height, width\]/],
      [{ path: 'a.npz', layout: 'CHW' }, /'layout' must be "NCHW" or "NHWC"/],
      [{ path: 'a.csv', labelColumn: 1.5 }, /'labelColumn'/],
      [{ path: 'a.csv', header: 'yes' }, /'header' must be true or false/],
      [{ path: 'a.csv', delimiter: ',,' }, /'delimiter'/],
      [{ path: 'a.jsonl', seqLen: 0 }, /'seqLen' must be a positive integer/],
      [{ path: 'a.jsonl', padId: 0 }, /'padId' needs 'seqLen'/],
      [{ path: 'a.npz', limit: -1 }, /'limit'/],
      [{ path: 'a.npz', allowNonFinite: 1 }, /'allowNonFinite'/],
      [{ path: 'a.npz', input: '' }, /'input' must be a non-empty string/],
      [{ path: 'a.npz', seqLen: 8 }, /field 'seqLen' does not apply to format 'npz' \(it is for jsonl\)/],
      [{ path: 'a.npy', labels: 'y' }, /field 'labels' does not apply to format 'npy'/],
      [{ path: 'a.npz', dtype: 'int64', scale: 2 }, /need dtype float32 or float64/],
      [{ path: 'd', format: 'images', dtype: 'uint8' }, /images are given as float32/],
      [{ path: 'a.jsonl', dtype: 'float32' }, /need an integer dtype/],
    ];
    for (const [spec, re] of cases) await rejectsWith(() => validateDatasetSpec(spec, '/x/spec.json'), 'bad-spec', re, '/x/spec.json');
    await rejectsWith(() => validateDatasetSpec({ path: 'a.npz', format: 'parquet' }), 'unknown-format', /not one of npz, npy, images, csv, jsonl/, '<dataset spec>');
    const f = join(tmp, 'thing.bin');
    writeFileSync(f, 'x');
    await rejectsWith(() => validateDatasetSpec(f), 'unknown-format', /cannot tell the data format/, f);
    await rejectsWith(() => validateDatasetSpec(join(tmp, 'nothing-here')), 'not-found');
    const badJson = join(tmp, 'bad.json');
    writeFileSync(badJson, '{"path": ');
    await rejectsWith(readDatasetSpec(badJson), 'bad-spec', /not valid JSON/, badJson);
    await rejectsWith(readDatasetSpec(join(tmp, 'none.json')), 'not-found');
    await rejectsWith(readDatasetSpec(tmp), 'directory');
  });
});

// ---------------------------------------------------------------- Dataset

async function collect(ds: Dataset, batchSize: number, opts = {}): Promise<{ starts: number[]; x: number[]; labels: number[] }> {
  const out = { starts: [] as number[], x: [] as number[], labels: [] as number[] };
  for await (const b of ds.batches(batchSize, opts)) {
    out.starts.push(b.start);
    assert.equal(b.shape[0], b.count);
    out.x.push(...Array.from(b.x as ArrayLike<number | bigint>, Number));
    out.labels.push(...(b.labels ?? []));
  }
  return out;
}

describe('Dataset', () => {
  test('npz defaults: x, y, x_test/y_test; lazy and eager batches agree', async () => {
    for (const file of ['xy_stored.npz', 'xy_deflated.npz', 'zip64.npz']) {
      const path = join(FIXTURES, file);
      const eager = await openDataset(path);
      const lazy = await openDataset(path, { eagerBytes: 0 });
      assert.equal(eager.inputs.name, 'x');
      assert.ok(eager.labels instanceof Int32Array);
      const want = manifest.files.find((m) => m.file === file)?.arrays as Record<string, Expect>;
      assert.deepEqual(eager.inputs.sampleShape, want.x.shape.slice(1));
      const a = await collect(eager, 4);
      const b = await collect(lazy, 4);
      assert.deepEqual(a, b);
      assert.deepEqual(a.labels, want.y.values.map(Number));
      assert.deepEqual(a.x, want.x.values.map((v) => Math.fround(Number(v))));
      if (file !== 'zip64.npz') {
        assert.equal(eager.test?.inputs.count, 2);
        assert.deepEqual(Array.from(eager.test?.labels ?? []), [2, 0]);
        assert.equal(eager.test?.name, `${file}:x_test`);
      }
    }
  });

  test('batches: sizes, start/end, abort, bad arguments', async () => {
    const ds = await openDataset(join(FIXTURES, 'rows.npy'), { eagerBytes: 0 });
    assert.deepEqual(ds.inputs, { name: 'rows', dtype: 'float32', sampleShape: [3], count: 10 });
    const all = await collect(ds, 4);
    assert.deepEqual(all.starts, [0, 4, 8]);
    assert.deepEqual(all.x, [...Array(30).keys()]);
    const mid = await collect(ds, 2, { start: 3, end: 6 });
    assert.deepEqual(mid.starts, [3, 5]);
    assert.deepEqual(mid.x, [9, 10, 11, 12, 13, 14, 15, 16, 17]);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(collect(ds, 2, { signal: ac.signal }), { name: 'AbortError' });
    await rejectsWith(collect(ds, 0), 'out-of-range', /batch size must be a positive integer/);
    await rejectsWith(collect(ds, 2, { start: 4, end: 11 }), 'out-of-range', /\[4, 11\) is outside \[0, 10\)/);
    await rejectsWith(ds.read(-1, 2), 'out-of-range');
  });

  test('tokens npz: int64 by default, int32 on request; limit', async () => {
    const ds = await openDataset({ path: join(FIXTURES, 'tokens.npz'), limit: 2 });
    assert.deepEqual(ds.inputs, { name: 'tokens', dtype: 'int64', sampleShape: [4], count: 2 });
    assert.deepEqual(Array.from((await ds.read()).x as BigInt64Array), [1n, 5n, 9n, 2n, 1n, 7n, 7n, 2n]);
    const i32 = await openDataset({ path: join(FIXTURES, 'tokens.npz'), dtype: 'int32' });
    assert.ok((await i32.read()).x instanceof Int32Array);
    const scaled = await openDataset({ path: join(FIXTURES, 'tokens.npz'), scale: 0.5, mean: [1, 0, 0, 0], layout: 'NHWC' });
    assert.deepEqual(Array.from((await scaled.read(0, 1)).x as Float32Array), [-0.5, 2.5, 4.5, 1]);
  });

  test('reshape (and -1), checkAgainstModelInput message with the reshape to add', async () => {
    const flat = await openDataset(join(FIXTURES, 'flat.npz'));
    const e = await rejectsWith(() => checkAgainstModelInput(flat, ['batch', 1, 4, 4], 'float32', 'x'), 'shape-mismatch');
    assert.equal(
      e.detail,
      `model input 'x' expects [batch, 1, 4, 4] float32; data 'x' in flat.npz has per-sample shape [16] (6 samples) — add "reshape": [1,4,4] to the dataset spec`,
    );
    const r = await openDataset({ path: join(FIXTURES, 'flat.npz'), reshape: [1, -1, 4] });
    assert.deepEqual(r.inputs.sampleShape, [1, 4, 4]);
    assert.deepEqual(checkAgainstModelInput(r, ['batch', 1, 4, 4], 'float32', 'x'), { batchSize: null });
    assert.deepEqual(checkAgainstModelInput(r, [2, 1, null, 'w'], 'float32'), { batchSize: 2 });
    assert.deepEqual(checkAgainstModelInput(r, [-1, 1, -1, 4], 'float32'), { batchSize: null });
    await rejectsWith(openDataset({ path: join(FIXTURES, 'flat.npz'), reshape: [1, 28, 28] }), 'reshape-mismatch', /"reshape": \[1, 28, 28\] does not fit: each sample of input 'x' has shape \[16\] \(16 elements\)/);
    await rejectsWith(openDataset({ path: join(FIXTURES, 'flat.npz'), reshape: [3, -1] }), 'reshape-mismatch');
    // Symbolic dims: the one free axis is solved for.
    await rejectsWith(() => checkAgainstModelInput(flat, ['n', 4, 'w'], 'float32'), 'shape-mismatch', /add "reshape": \[4,4\]/);
    await rejectsWith(() => checkAgainstModelInput(flat, ['n', 5, 5], 'float32'), 'shape-mismatch', /each sample holds 16 values, the model takes 25/);
    await rejectsWith(() => checkAgainstModelInput(flat, [], 'float32'), 'shape-mismatch', /a scalar/);
  });

  test('checkAgainstModelInput: dtype and format-specific hints', async () => {
    const flat = await openDataset(join(FIXTURES, 'flat.npz'));
    await rejectsWith(() => checkAgainstModelInput(flat, ['b', 16], 'float64', 'x'), 'dtype-mismatch', /data 'x' in flat\.npz is float32 — add "dtype": "float64" to the dataset spec/);
    await rejectsWith(() => checkAgainstModelInput(flat, ['b', 16], 'float16'), 'dtype-mismatch', /cannot produce float16/);
    const tok = await openDataset(join(FIXTURES, 'tokens.npz'));
    await rejectsWith(() => checkAgainstModelInput(tok, ['b', 4], 'int32'), 'dtype-mismatch', /"dtype": "int32"/);
    const dir = join(tmp, 'hint-images');
    mkdirSync(join(dir, 'a'), { recursive: true });
    png(join(dir, 'a', '1.png'), 5, 4, () => [10, 20, 30, 255]);
    const img = await openDataset(dir);
    assert.deepEqual(img.inputs.sampleShape, [3, 4, 5]);
    await rejectsWith(() => checkAgainstModelInput(img, ['b', 1, 28, 28], 'float32'), 'shape-mismatch', /add "channels": 1 to the dataset spec; add "size": \[28,28\]/);
    await rejectsWith(() => checkAgainstModelInput(img, ['b', 'h', 'w', 3], 'float32'), 'shape-mismatch', /add "layout": "NHWC"/);
    const jl = join(tmp, 'hint.jsonl');
    writeFileSync(jl, '[1,2]\n');
    const jds = await openDataset(jl);
    await rejectsWith(() => checkAgainstModelInput(jds, ['b', 8], 'int64'), 'shape-mismatch', /add "seqLen": 8 to the dataset spec \(and "padId"/);
  });

  test('non-finite inputs: count and first index, eager and per lazy batch', async () => {
    await rejectsWith(openDataset(join(FIXTURES, 'nan_x.npz')), 'non-finite', /input 'x' has 2 non-finite value\(s\) \(NaN or ±Inf\); the first is sample 1, element 0/);
    const lazy = await openDataset(join(FIXTURES, 'nonfinite.npy'), { eagerBytes: 0 });
    await rejectsWith(lazy.read(0, 2), 'non-finite', /3 non-finite value\(s\) \(NaN or ±Inf\) among samples 0–1; the first is sample 0, element 1/);
    assert.equal((await lazy.read(2, 3)).x[0], 2);
    const ok = await openDataset({ path: join(FIXTURES, 'nan_x.npz'), allowNonFinite: true });
    assert.equal(ok.inputs.count, 3);
  });

  test('labels: length mismatch, float labels, conversions; scale/mean/std on npz', async () => {
    await rejectsWith(openDataset(join(FIXTURES, 'labels_short.npz')), 'labels-mismatch', /labels 'y' have 4 entries, but input 'x' has 5 samples/);
    const p = join(tmp, 'lab.npz');
    await writeNpz(p, {
      x: { dtype: 'uint8', shape: [2, 2], data: Uint8Array.from([0, 255, 51, 102]) },
      y: { dtype: 'float64', shape: [2], data: Float64Array.from([1, 0.5]) },
      z: { dtype: 'float32', shape: [2], data: Float32Array.from([3, 4]) },
      big: { dtype: 'int64', shape: [2], data: BigInt64Array.from([1n, 2n ** 40n]) },
      s: { dtype: 'float32', shape: [], data: Float32Array.from([1]) },
    });
    await rejectsWith(openDataset(p), 'bad-labels', /labels 'y': entry 1 is 0.5; labels must be integer class ids/);
    await rejectsWith(openDataset({ path: p, labels: 'big' }), 'bad-labels', /outside the range of int32/);
    await rejectsWith(openDataset({ path: p, labels: 's' }), 'labels-mismatch', /no sample axis/);
    await rejectsWith(openDataset({ path: p, input: 's', labels: 'z' }), 'shape-mismatch', /is a scalar/);
    await rejectsWith(openDataset({ path: p, labels: 'nope' }), 'missing-array', /no array 'nope'/);
    const ds = await openDataset({ path: p, labels: 'z', scale: 1 / 255, mean: 0.5, std: 0.5 });
    assert.deepEqual(Array.from(ds.labels ?? []), [3, 4]);
    assert.deepEqual(Array.from((await ds.read()).x as Float32Array), [-1, 1, -0.6, -0.2].map(Math.fround));
    const raw = await openDataset({ path: p, labels: 'z' });
    assert.equal(raw.inputs.dtype, 'float32');
    await rejectsWith(openDataset({ path: p, labels: 'z', testLabels: 'z' }), 'bad-spec', /no test input/);
    const f2i = await rejectsWith(openDataset({ path: join(FIXTURES, 'xy_stored.npz'), dtype: 'int64' }), 'dtype-mismatch');
    assert.match(f2i.detail, /input 'x': element 0 is .* not an integer/);
  });

  test('npz without x or tokens needs "input"; a single array is taken; npy scalar and empty', async () => {
    await rejectsWith(openDataset(join(FIXTURES, 'mixed.npz')), 'missing-array', /no input array 'x' or 'tokens' \(arrays: 'f', 'b'\); name the input with "input"/);
    const m = await openDataset({ path: join(FIXTURES, 'mixed.npz'), input: 'f' });
    assert.deepEqual(Array.from((await m.read()).x as Float32Array), [0, 1, 2, 3, 4, 5]);
    const one = join(tmp, 'one.npz');
    await writeNpz(one, { feats: { dtype: 'bool', shape: [2, 1], data: Uint8Array.from([1, 0]) } });
    const o = await openDataset(one);
    assert.equal(o.inputs.name, 'feats');
    assert.equal(o.inputs.dtype, 'float32');
    await rejectsWith(openDataset(join(FIXTURES, 'scalar.npy')), 'shape-mismatch', /is a scalar/);
    await rejectsWith(openDataset(join(FIXTURES, 'empty.npy')), 'empty-dataset', /no samples \(shape \[0, 3\]\)/);
    await rejectsWith(openDataset({ path: join(FIXTURES, 'rows.npy'), format: 'npz' }), 'corrupt-zip');
  });

  test('DatasetError serialises', () => {
    const e = new DatasetError('bad-cell', '/d/a.csv', 'line 3: x');
    assert.equal(e.message, '/d/a.csv: line 3: x');
    assert.equal(e.name, 'DatasetError');
    assert.deepEqual(JSON.parse(JSON.stringify(e)), { name: 'DatasetError', code: 'bad-cell', file: '/d/a.csv', detail: 'line 3: x' });
    assert.ok(isDatasetError(e) && !isDatasetError(new Error('x')));
  });
});
