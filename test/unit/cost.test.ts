/**
 * The shared cost formatter and budget check (CLI and extension), and output files written whole or not at
 * all (src/engine/atomicWrite.ts, the streamed capture .npz).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkWritableFolder, OutputWriteError, writeFileAtomicSync } from '../../src/engine/atomicWrite';
import { CancelledError } from '../../src/engine/errors';
import { NpzStreamWriter } from '../../src/engine/npzStream';
import { openNpz } from '../../src/model/datasets';
import { checkCost, formatBytes, formatDuration, timeAdvice } from '../../src/shared/cost';

describe('formatDuration', () => {
  it('picks s, min, h or days, two figures below 10 and whole numbers above', () => {
    const cases: [number, string][] = [
      [0, '0.0 s'],
      [420, '0.4 s'],
      [4_240, '4.2 s'],
      [42_000, '42 s'],
      [60_000, '1.0 min'],
      [3.5 * 60_000, '3.5 min'],
      [38 * 60_000, '38 min'],
      [60 * 60_000, '1.0 h'],
      [1.4 * 3_600_000, '1.4 h'],
      [23 * 3_600_000, '23 h'],
      [24 * 3_600_000, '1.0 day'],
      [116_000 * 60_000, '81 days'], // LIB on the OCR recognizer, once estimated at "116000.0 min"
      [3.25 * 86_400_000, '3.3 days'],
    ];
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, `${ms} ms`);
  });
  it('says unknown for what is not a duration', () => {
    for (const ms of [NaN, Infinity, -1]) assert.equal(formatDuration(ms), 'unknown');
  });
  it('formats sizes in MB, and GB from 10 GB', () => {
    assert.equal(formatBytes(133 * 2 ** 20), '133 MB');
    assert.equal(formatBytes(12.5 * 2 ** 30), '12.5 GB');
    assert.equal(formatBytes(NaN), 'unknown');
  });
});

describe('checkCost', () => {
  const est = { peakBytes: 100 * 2 ** 20, expectedMs: 30 * 60_000, forwardPasses: 40, vjps: 3 };
  it('gates time and memory separately', () => {
    assert.deepEqual(
      { ...checkCost(est, 4096, 10), summary: undefined },
      { overMemory: false, overTime: true, summary: undefined },
    );
    assert.equal(checkCost(est, 4096, 31).overTime, false);
    assert.equal(checkCost(est, 50, 31).overMemory, true);
    assert.equal(checkCost(est, 4096, 10).summary, 'peak ≈ 100 MB, ≈ 30 min, 40 forward passes, 3 VJPs (budgets 4096 MB, 10 min)');
  });
  it('advises fewer samples, another batch size and the options that cost time', () => {
    assert.equal(
      timeAdvice('circuit', 64),
      'run on fewer samples (--limit N; the estimate covers 64), try another --batch-size, or cheaper options (fewer --steps, --method eap, --validate false)',
    );
    assert.equal(timeAdvice('attention', 10), 'run on fewer samples (--limit N; the estimate covers 10), try another --batch-size');
    assert.equal(timeAdvice('toString', 10), 'run on fewer samples (--limit N; the estimate covers 10), try another --batch-size');
  });
});

describe('output files whole or not at all', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-atomic-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('replaces a file in one rename and leaves no temporary', () => {
    const f = path.join(dir, 'run.json');
    fs.writeFileSync(f, 'old');
    writeFileAtomicSync(f, '{"new":true}\n');
    assert.equal(fs.readFileSync(f, 'utf8'), '{"new":true}\n');
    assert.deepEqual(fs.readdirSync(dir), ['run.json']);
    fs.rmSync(f);
  });

  it('a failed write leaves what was there and no temporary, and says why in one line', () => {
    const f = path.join(dir, 'taken');
    fs.mkdirSync(f);
    fs.writeFileSync(path.join(f, 'inside'), 'x');
    assert.throws(
      () => writeFileAtomicSync(f, 'data'),
      (e: unknown) => e instanceof OutputWriteError && e.file === f && /^could not write .*taken: E[A-Z]+: .* \(nothing was written there\)$/.test(e.message),
    );
    assert.deepEqual(fs.readdirSync(dir), ['taken']);
    assert.throws(() => checkWritableFolder(path.join(dir, 'nope', 'x.json')), /the folder .*nope does not exist/);
    assert.throws(() => checkWritableFolder(f), /a folder of that name is in the way/);
    fs.rmSync(f, { recursive: true });
  });

  it('the streamed .npz appears only when finished, and a failed finish leaves nothing', async () => {
    const out = path.join(dir, 'acts.npz');
    const w = new NpzStreamWriter(out, 2);
    w.append('a', new Float32Array([1, 2, 3]), [3]);
    w.append('a', new Float32Array([4, 5, 6]), [3]);
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing beside the destination while batches arrive');
    await w.finish();
    assert.deepEqual(Array.from((await (await openNpz(out)).read('a')).data as Float32Array), [1, 2, 3, 4, 5, 6]);
    fs.rmSync(out);
    // a destination that cannot be replaced (a non-empty folder): the rename fails after the zip was written
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep'), 'x');
    const bad = new NpzStreamWriter(out, 1);
    bad.append('a', new Float32Array([1]), [1]);
    await assert.rejects(bad.finish(), (e: unknown) => e instanceof OutputWriteError && e.file === out);
    assert.deepEqual(fs.readdirSync(dir), ['acts.npz']);
    assert.deepEqual(fs.readdirSync(out), ['keep']);
    fs.rmSync(out, { recursive: true });
  });

  it('a capture cancelled while its .npz is being written leaves nothing', async () => {
    const out = path.join(dir, 'cancelled.npz');
    const w = new NpzStreamWriter(out, 4);
    w.append('a', new Float32Array(4 * 2 ** 20), [2 ** 20]); // 16 MB: several chunks
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(w.finish(ac.signal), (e: unknown) => e instanceof CancelledError);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
