/**
 * The extension's engine: a child process forked from this runtime, driven by the same EngineClient class the
 * extension uses (no vscode import). A native abort, a kill -9, a heap or resident-size blow-up inside the engine
 * each become a typed error naming the job in flight, the host process is untouched, and the next job runs in a
 * fresh engine process.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as v8 from 'node:v8';
import type { EngineClient, EngineCrash } from '../../src/engine/client';
import { EngineError } from '../../src/engine/errors';
import { entry, gunzipJoin, repo, testEngineProcess } from '../helpers/engine';
import { syntheticOnnx } from '../bench/graphModels';
import { decodeGraphWire } from '../../src/shared/graphWire';
import { joinUtf8 } from '../../src/webview/chunks';
import { CHUNK_BYTES, type WorkerToHost } from '../../src/shared/engineProtocol';

const mlp = path.join(repo, 'examples', 'mlp', 'mlp.onnx');
const fmnist = path.join(repo, 'examples', 'data', 'fmnist.npz');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-engine-process-'));

async function crashOf(p: Promise<unknown>): Promise<EngineError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof EngineError, `expected an EngineError, got ${String(caught)}`);
  return caught;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('engine process', () => {
  let engine: EngineClient;
  const crashes: EngineCrash[] = [];
  /** A graph whose gzipped wire JSON (~1.4 MB) is more than one piece. */
  const big = path.join(tmp, 'synthetic-40k.onnx');
  before(() => {
    engine = testEngineProcess({ onCrash: (c) => crashes.push(c) });
    fs.writeFileSync(big, syntheticOnnx(40000, true));
  });

  it('never sends its host one IPC message larger than a piece (the host deserializes each in one turn)', async () => {
    // The engine as the extension forks it, its messages seen as the host's channel receives them.
    const child = fork(entry, [], { execArgv: ['--require', require.resolve('tsx/cjs')], serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const sizes: { type: string; bytes: number }[] = [];
    try {
      const done = new Promise<WorkerToHost>((resolve) => {
        child.on('message', (m: WorkerToHost) => {
          sizes.push({ type: m.type, bytes: v8.serialize(m).byteLength });
          if (m.type === 'result') resolve(m);
        });
      });
      child.send({ type: 'run', id: 1, job: { kind: 'loadGraphBytes', model: big } });
      const result = await done;
      assert.ok(result.type === 'result' && result.ok, `expected a graph, got ${JSON.stringify(result).slice(0, 200)}`);
      const chunks = sizes.filter((s) => s.type === 'chunk');
      assert.ok(chunks.length > 1, `expected the graph in several pieces, found ${chunks.length}`);
      // A piece's bytes plus its envelope (type, id): nothing bigger crosses, and the result itself is small.
      const largest = Math.max(...sizes.map((s) => s.bytes));
      assert.ok(largest <= CHUNK_BYTES + 256, `largest message ${largest} bytes, limit ${CHUNK_BYTES} + 256`);
      assert.ok(sizes[sizes.length - 1].bytes < 1024, `the result message is ${sizes[sizes.length - 1].bytes} bytes`);
    } finally {
      child.kill('SIGKILL');
    }
  });
  after(() => {
    engine.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs jobs in a child process, not in this one, with progress and big byte payloads', async () => {
    const g = await engine.run({ kind: 'loadGraphBytes', model: mlp });
    assert.ok(g.chunks.every((c) => c instanceof Uint8Array), 'the graph crosses as bytes');
    const graph = decodeGraphWire(JSON.parse(gunzipJoin(g.chunks)));
    assert.equal(graph.nodes.length, 6);
    // A graph whose gzipped JSON spans several chunks (40k operators): every piece ≤ 1 MiB, joined whole and in order.
    const b = await engine.run({ kind: 'loadGraphBytes', model: big });
    assert.ok(b.chunks.length > 1, `${b.chunks.length} chunks for ${b.sentBytes} gzipped bytes`);
    assert.ok(b.chunks.every((c) => c.byteLength <= CHUNK_BYTES));
    assert.equal(b.chunks.reduce((a, c) => a + c.byteLength, 0), b.sentBytes);
    const bg = decodeGraphWire(JSON.parse(gunzipJoin(b.chunks)));
    assert.equal(bg.nodes.length, b.nodes);
    assert.ok(engine.pid !== undefined && engine.pid !== process.pid);
    // The summary command's job: text, not the IR, crosses to the host.
    const summary = await engine.run({ kind: 'modelSummary', model: mlp });
    assert.match(summary.text, /nodes {7}6\n {2}parameters {2}118,282 in 6 tensors/);
    const progress: number[] = [];
    const r = await engine.run(
      { kind: 'capture', model: mlp, data: fmnist, taps: ['logits'], batchSize: 100, limit: 300 },
      { onProgress: (p) => progress.push(p.done) },
    );
    assert.equal(r.samples, 300);
    assert.equal(progress.at(-1), 300);
  });

  it('reports a native abort inside the engine as a typed error naming the job, and the next job runs', async () => {
    const before = engine.workersStarted;
    const pid = engine.pid!;
    const e = await crashOf(engine.run({ kind: 'selfTest', mode: 'abort' }));
    assert.equal(e.name, 'EngineCrashed');
    assert.equal(e.code, 'crash');
    assert.match(e.message, /^the engine process \(pid \d+\) stopped unexpectedly: it was killed by SIGABRT while running self-test 'abort'; the next job starts a new engine$/);
    assert.equal(alive(pid), false, 'the aborted engine is gone');
    assert.deepEqual(await engine.run({ kind: 'selfTest', mode: 'echo' }), { echoed: 'ok' });
    assert.equal(engine.workersStarted, before + 1);
    assert.notEqual(engine.pid, pid);
    assert.deepEqual(crashes.at(-1)?.jobs, ["self-test 'abort'"]);
  });

  it('reports a kill -9 of the engine during an analysis, naming the analysis, and the next analysis runs', async () => {
    await engine.run({ kind: 'selfTest', mode: 'echo' });
    const pid = engine.pid!;
    let first = true;
    const job = engine.run(
      { kind: 'analysis', analysis: 'collapse', model: mlp, data: fmnist },
      {
        onProgress: () => {
          if (first) process.kill(pid, 'SIGKILL');
          first = false;
        },
      },
    );
    const e = await crashOf(job);
    assert.equal(e.name, 'EngineCrashed');
    assert.match(e.message, /it was killed by SIGKILL while running analysis 'collapse' on mlp\.onnx; the next job starts a new engine$/);
    // The extension's job: the envelope and the run file's text made in the engine (the host only writes the bytes).
    const run = await engine.run({ kind: 'analysisRun', analysis: 'collapse', model: mlp, data: fmnist, limit: 500 });
    assert.equal(run.envelope.analysis, 'collapse');
    assert.equal(run.chunks.reduce((a, c) => a + c.byteLength, 0), run.byteLength);
    const text = joinUtf8(run.chunks);
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(run.envelope)));
    assert.notEqual(engine.pid, pid);
  });

  it('reports an engine killed while idle, and starts a new one for the next job', async () => {
    await engine.run({ kind: 'selfTest', mode: 'echo' });
    const pid = engine.pid!;
    const n = crashes.length;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 500 && crashes.length === n; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(crashes.length, n + 1);
    assert.deepEqual(crashes.at(-1)!.jobs, []);
    assert.equal(crashes.at(-1)!.pid, pid);
    assert.deepEqual(await engine.run({ kind: 'selfTest', mode: 'echo' }), { echoed: 'ok' });
  });

  it('cancels a job inside the engine process and stays usable', async () => {
    const ac = new AbortController();
    const job = engine.run({ kind: 'selfTest', mode: 'sleep', ms: 10_000 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const e = await crashOf(job);
    assert.equal(e.name, 'Cancelled');
    assert.deepEqual(await engine.run({ kind: 'selfTest', mode: 'echo' }), { echoed: 'ok' });
  });

  it('kills an engine whose resident size passes its limit (memory outside the JS heap), naming the job', async () => {
    const small = testEngineProcess({ memoryLimitMb: 300, rssIntervalMs: 100 });
    try {
      const e = await crashOf(small.run({ kind: 'selfTest', mode: 'grow', mb: 600 }));
      assert.equal(e.code, 'memory-limit');
      assert.match(e.message, /^the engine process used \d+ MB, above its memory limit of 300 MB, and was stopped .* while running self-test 'grow'; the next job starts a new engine$/);
      assert.deepEqual(await small.run({ kind: 'selfTest', mode: 'echo' }), { echoed: 'ok' });
    } finally {
      small.dispose();
    }
  });

  it('stops an engine whose JS heap outgrows its limit, with a one-line message', async () => {
    const small = testEngineProcess({ memoryLimitMb: 400, rssIntervalMs: 100 });
    try {
      const e = await crashOf(small.run({ kind: 'selfTest', mode: 'oom' }));
      assert.ok(e.code === 'out-of-memory' || e.code === 'memory-limit', `code ${e.code}: ${e.message}`);
      assert.match(e.message, /(ran out of memory|above its memory limit of 400 MB).* while running self-test 'oom'; the next job starts a new engine$/);
      assert.doesNotMatch(e.message, /\n|stack|undefined/);
      assert.deepEqual(await small.run({ kind: 'selfTest', mode: 'echo' }), { echoed: 'ok' });
    } finally {
      small.dispose();
    }
  });

  it('reports an engine runtime that cannot start as a typed error naming the job', async () => {
    const broken = testEngineProcess({ execPath: path.join(repo, 'no-such-runtime') });
    try {
      const e = await crashOf(broken.run({ kind: 'listAnalyses' }));
      assert.equal(e.name, 'EngineCrashed');
      assert.equal(e.code, 'spawn');
      assert.match(e.message, /could not start the engine process .*ENOENT.* while running listing the analyses/);
    } finally {
      broken.dispose();
    }
  });
});
