/**
 * Dataset specs as files (`*.dataset.json` opened by openDataset), the `classes` field (validation and label
 * renumbering for image folders and CSV name labels) and image folders fitted to a model input's shape.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import { type DatasetError, isDatasetError, openDataset, validateDatasetSpec } from '../../src/model/datasets';
import { fitToModelInput } from '../../src/model/datasets/fit';

let tmp: string;
let folder: string;

/** A grey w×h PNG whose every pixel is `v`. */
function png(file: string, w: number, h: number, v: number): void {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) p.data.set([v, v, v, 255], i * 4);
  writeFileSync(file, PNG.sync.write(p));
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'circuitscope-fit-'));
  folder = join(tmp, 'animals');
  // Sorted: ant (0), cat (1), zebra (2); pixel value = 10 × (index in the model's order [zebra, ant, cat]) + 5.
  for (const [c, v] of [['zebra', 5], ['ant', 15], ['cat', 25]] as const) {
    mkdirSync(join(folder, c), { recursive: true });
    png(join(folder, c, '1.png'), 6, 4, v);
    png(join(folder, c, '2.png'), 6, 4, v);
  }
});
after(() => rmSync(tmp, { recursive: true, force: true }));

async function rejects(p: Promise<unknown> | (() => unknown), code: string, detail: RegExp, file?: string): Promise<DatasetError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  assert.ok(isDatasetError(err), `expected DatasetError ${code}, got ${String(err)}`);
  const e = err as DatasetError;
  assert.equal(e.code, code, e.message);
  assert.match(e.detail, detail);
  if (file !== undefined) assert.equal(e.file, file);
  return e;
}

describe('dataset spec files', () => {
  test('a .json path is read as a spec: paths relative to the spec file, fields applied', async () => {
    mkdirSync(join(tmp, 'specs'), { recursive: true });
    const spec = join(tmp, 'specs', 'animals.dataset.json');
    writeFileSync(spec, JSON.stringify({ path: '../animals', limit: 3, size: [2, 3] }));
    const ds = await openDataset(spec);
    assert.equal(ds.file, folder);
    assert.equal(ds.inputs.count, 3);
    assert.deepEqual(ds.inputs.sampleShape, [1, 2, 3]);
  });

  test('a spec file naming another spec, a missing spec and bad JSON are typed errors naming the spec', async () => {
    const spec = join(tmp, 'loop.dataset.json');
    writeFileSync(spec, JSON.stringify({ path: 'other.dataset.json' }));
    await rejects(openDataset(spec), 'bad-spec', /'path' names another dataset spec \(other\.dataset\.json\)/, spec);
    await rejects(openDataset(join(tmp, 'absent.dataset.json')), 'not-found', /file not found/);
    const broken = join(tmp, 'broken.dataset.json');
    writeFileSync(broken, '{"path": ');
    await rejects(openDataset(broken), 'bad-spec', /not valid JSON/, broken);
  });
});

describe('classes', () => {
  test('validation: names in order or a name → index map; duplicates, empty, bad indices and other formats refused', () => {
    assert.deepEqual(validateDatasetSpec({ path: folder, classes: ['zebra', 'ant', 'cat'] }).classes, ['zebra', 'ant', 'cat']);
    assert.deepEqual(validateDatasetSpec({ path: folder, classes: { ant: 3, cat: 0 } }).classes, { ant: 3, cat: 0 });
    const bad: [unknown, RegExp][] = [
      [[], /at least one class name/],
      [['a', 'b', 'a'], /names 'a' twice \(entries 0 and 2\)/],
      [['a', 3], /entry 1 is 3/],
      [{}, /at least one class name to an index/],
      [{ a: 1, b: 1 }, /maps both 'a' and 'b' to 1/],
      [{ a: 1.5 }, /maps 'a' to 1\.5/],
      [{ a: 2e6 }, /indices must be integers in \[0, 1000000\)/],
      [7, /must be an array of class names/],
    ];
    for (const [classes, re] of bad) assert.throws(() => validateDatasetSpec({ path: folder, classes }, 'x.dataset.json'), (e: unknown) => isDatasetError(e) && e.code === 'bad-spec' && e.file === 'x.dataset.json' && re.test(e.detail));
    assert.throws(() => validateDatasetSpec({ path: join(tmp, 'a.npz'), classes: ['a'] }), /field 'classes' does not apply to format 'npz' \(it is for images, csv\)/);
  });

  test('image folders: labels renumbered to the model order (array and map), names by output', async () => {
    const sorted = await openDataset({ path: folder });
    assert.deepEqual([...sorted.labels!], [0, 0, 1, 1, 2, 2]);
    assert.deepEqual(sorted.classNames, ['ant', 'cat', 'zebra']);
    const ordered = await openDataset({ path: folder, classes: ['zebra', 'ant', 'cat'] });
    assert.deepEqual([...ordered.labels!], [1, 1, 2, 2, 0, 0]);
    assert.deepEqual(ordered.classNames, ['zebra', 'ant', 'cat']);
    // The pixel value says which model class each sample is: 10 × label + 5.
    const b = await ordered.read();
    for (let i = 0; i < 6; i++) assert.ok(Math.abs((b.x[i * 24] as number) * 255 - (10 * ordered.labels![i] + 5)) < 1e-4);
    const mapped = await openDataset({ path: folder, classes: { zebra: 4, ant: 1, cat: 2 } });
    assert.deepEqual([...mapped.labels!], [1, 1, 2, 2, 4, 4]);
    assert.deepEqual(mapped.classNames, ['(output 0)', 'ant', 'cat', '(output 3)', 'zebra']);
  });

  test('image folders: a folder not named, or a name without a folder, is bad-classes naming the spec file', async () => {
    const spec = join(tmp, 'bad.dataset.json');
    writeFileSync(spec, JSON.stringify({ path: 'animals', classes: ['zebra', 'ant'] }));
    await rejects(openDataset(spec), 'bad-classes', /"classes" does not name 'cat' among the class folders of .*animals; .*the data's classes: 'ant', 'cat', 'zebra'/, spec);
    writeFileSync(spec, JSON.stringify({ path: 'animals', classes: { zebra: 0, ant: 1, cat: 2, dog: 3 } }));
    await rejects(openDataset(spec), 'bad-classes', /"classes" names 'dog', not found among the class folders/, spec);
  });

  test('CSV name labels: renumbered; numeric labels refuse "classes"; with a limit absent names are allowed', async () => {
    const csv = join(tmp, 'pets.csv');
    writeFileSync(csv, 'a,b,label\n1,2,dog\n3,4,cat\n5,6,dog\n7,8,eel\n');
    const ds = await openDataset({ path: csv, labelColumn: 'label', classes: ['eel', 'dog', 'cat'] });
    assert.deepEqual([...ds.labels!], [1, 2, 1, 0]);
    assert.deepEqual(ds.classNames, ['eel', 'dog', 'cat']);
    await rejects(openDataset({ path: csv, labelColumn: 'label', classes: ['eel', 'dog', 'cat', 'owl'] }), 'bad-classes', /names 'owl', not found among the label values/);
    const limited = await openDataset({ path: csv, labelColumn: 'label', classes: ['eel', 'dog', 'cat', 'owl'], limit: 2 });
    assert.deepEqual([...limited.labels!], [1, 2]);
    const numeric = join(tmp, 'ids.csv');
    writeFileSync(numeric, 'a,label\n1,0\n2,1\n');
    await rejects(openDataset({ path: numeric, labelColumn: 'label', classes: ['x', 'y'] }), 'bad-classes', /holds class ids \(numbers\) already/);
  });
});

describe('image folders fitted to the model input', () => {
  test('fitToModelInput: NCHW and NHWC inputs, spec fields win, non-image inputs decide nothing', () => {
    const nchw = fitToModelInput({ path: 'x' }, { name: 'x', shape: ['batch', 3, 32, 30] });
    assert.deepEqual([nchw.size, nchw.layout, nchw.channels], [[32, 30], undefined, 3]);
    const nhwc = fitToModelInput({ path: 'x' }, { name: 'x', shape: [-1, 64, 64, 1] });
    assert.deepEqual([nhwc.size, nhwc.layout, nhwc.channels], [[64, 64], 'NHWC', 1]);
    const given = fitToModelInput({ path: 'x', size: [8, 8], layout: 'NCHW', channels: 3 }, { name: 'x', shape: [null, 64, 64, 1] });
    assert.deepEqual([given.size, given.layout, given.channels], [undefined, undefined, undefined]);
    assert.equal(given.warning([1, 8, 8, 3], { count: 0 }, false), null);
    for (const shape of [[null, 784], [null, 'h', 'w', 'c'], [null, 28, 28], [null, 16, 28, 28]]) {
      const f = fitToModelInput({ path: 'x' }, { name: 'x', shape });
      assert.deepEqual([f.size, f.layout, f.channels], [undefined, undefined, undefined], JSON.stringify(shape));
    }
    // Symbolic height and width: only the layout and channels.
    const free = fitToModelInput({ path: 'x' }, { name: 'x', shape: [null, null, null, 3] });
    assert.deepEqual([free.size, free.layout, free.channels], [undefined, 'NHWC', 3]);
  });

  test('openDataset with the model input: resized and laid out, with a warning naming the input and its shape', async () => {
    const ds = await openDataset({ path: folder }, { modelInput: { name: 'input_1', shape: [-1, 8, 12, 1] } });
    assert.deepEqual(ds.inputs.sampleShape, [8, 12, 1]);
    assert.equal(ds.layout, 'NHWC');
    assert.equal(ds.warnings.length, 1);
    assert.match(ds.warnings[0], /^image folder fitted to model input 'input_1' \[-1, 8, 12, 1\]: resized 6 image\(s\) \(e\.g\. from 4×6\) to 8×12 \(bilinear\) and laid them out NHWC/);
    assert.match(ds.warnings[0], /does not set "size" or "layout"/);
    // Same size as the images and NCHW: nothing to say.
    const same = await openDataset({ path: folder }, { modelInput: { name: 'x', shape: ['n', 1, 4, 6] } });
    assert.deepEqual(same.inputs.sampleShape, [1, 4, 6]);
    assert.deepEqual(same.warnings, []);
    // Colour images for a one-channel model: converted, and said so.
    const colour = join(tmp, 'colour');
    mkdirSync(join(colour, 'a'), { recursive: true });
    const p = new PNG({ width: 4, height: 6 });
    for (let i = 0; i < 24; i++) p.data.set([200, 10, 10, 255], i * 4);
    writeFileSync(join(colour, 'a', '1.png'), PNG.sync.write(p));
    const grey = await openDataset({ path: colour }, { modelInput: { name: 'x', shape: ['n', 1, 6, 4] } });
    assert.deepEqual(grey.inputs.sampleShape, [1, 6, 4]);
    assert.match(grey.warnings[0] ?? '', /model input 'x' \[n, 1, 6, 4\]: converted colour to grey .*does not set "channels"/);
    const px = (await grey.read()).x[0] as number;
    assert.ok(Math.abs(px - ((200 * 19595 + 10 * 38470 + 10 * 7471 + 0x8000) >> 16) / 255) < 1e-6, `${px}`);
    // A declared size wins over the model's.
    const declared = await openDataset({ path: folder, size: [2, 3] }, { modelInput: { name: 'x', shape: ['n', 1, 4, 6] } });
    assert.deepEqual(declared.inputs.sampleShape, [1, 2, 3]);
    assert.deepEqual(declared.warnings, []);
  });
});
