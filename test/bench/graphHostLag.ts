/**
 * The extension host's event loop while a large model loads: the host-like process below loads models the
 * way the custom editor does — `loadGraphBytes` through the engine process (EngineClient in process mode,
 * dist/worker.js forked as the extension forks it), the graph's gzipped JSON bytes forwarded to the webview untouched —
 * while `perf_hooks.monitorEventLoopDelay` samples the delay; then, as baselines measured in the same run, the
 * earlier ways: the engine in a worker thread with the IR structured-cloned back and JSON-serialized for
 * postMessage, and the file parsed on the host's own thread with `loadModel`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EngineClient } from '../../src/engine/client';
import { loadModel } from '../../src/model/load';

const repo = path.join(__dirname, '..', '..');

export interface LagRow {
  model: string;
  mode: 'engine process, JSON bytes (the editor)' | 'engine worker, JSON bytes' | 'engine worker, IR + postMessage' | 'main thread + postMessage';
  ms: number;
  nodes: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /** Busy fraction of the host's event loop during the load. */
  elu: number;
}

/**
 * The loop delay (what a user feels) and the host thread's own share of it: on a loaded machine the delay also
 * counts time the host waited for a core, so the loop's utilization (busy fraction of the main thread's event
 * loop, `performance.eventLoopUtilization`) is printed beside it.
 */
async function measure<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; p50: number; p99: number; max: number; elu: number }> {
  const elu0 = performance.eventLoopUtilization();
  const h = monitorEventLoopDelay({ resolution: 5 });
  // A host also has timers of its own; keep one ticking so the histogram sees every stall.
  const tick = setInterval(() => {}, 5);
  h.enable();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  // Let the histogram's timer fire once more: a stall is recorded when the loop gets back to it.
  await new Promise((r) => setTimeout(r, 20));
  h.disable();
  clearInterval(tick);
  const toMs = (ns: number): number => Math.round(ns / 1e5) / 10;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  return { value, ms, p50: toMs(h.percentile(50)), p99: toMs(h.percentile(99)), max: toMs(h.max), elu };
}

/** The engine as the extension runs it: a process forked from this runtime. */
function processEngine(workerPath: string): EngineClient {
  return new EngineClient({ workerPath, process: { memoryLimitMb: 8192 } });
}

export async function hostLag(models: string[], opts: { baselines?: boolean } = {}): Promise<LagRow[]> {
  const workerPath = path.join(repo, 'dist', 'worker.js');
  if (!fs.existsSync(workerPath)) throw new Error(`${workerPath} is missing: run npm run build first`);
  const rows: LagRow[] = [];
  const engines: [LagRow['mode'], () => EngineClient][] = [['engine process, JSON bytes (the editor)', () => processEngine(workerPath)]];
  if (opts.baselines !== false) engines.push(['engine worker, JSON bytes', () => new EngineClient({ workerPath })]);
  for (const model of models) {
    for (const [mode, make] of engines) {
      // A fresh engine per model, so no model cache is hit. What the custom editor does: the engine serializes
      // the IR to JSON bytes; the host forwards a copy of the bytes to the webview, which parses them.
      const engine = make();
      await engine.run({ kind: 'selfTest', mode: 'echo' });
      const b = await measure(async () => {
        const r = await engine.run({ kind: 'loadGraphBytes', model });
        // The editor posts a copy of each piece, a turn of the event loop apart.
        for (const c of r.chunks) {
          c.slice();
          await new Promise((res) => setImmediate(res));
        }
        return r;
      });
      engine.dispose();
      rows.push({ model: path.basename(model), mode, ms: b.ms, nodes: b.value.nodes, lagP50: b.p50, lagP99: b.p99, lagMax: b.max, elu: b.elu });
    }
    if (opts.baselines === false) continue;
    {
      // The earlier way: the IR structured-cloned back from a worker, then JSON-serialized by webview.postMessage.
      const engine = new EngineClient({ workerPath });
      await engine.run({ kind: 'selfTest', mode: 'echo' });
      const w = await measure(async () => {
        const g = await engine.run({ kind: 'loadGraph', model });
        JSON.stringify({ type: 'graph', graph: g });
        return g;
      });
      engine.dispose();
      rows.push({ model: path.basename(model), mode: 'engine worker, IR + postMessage', ms: w.ms, nodes: w.value.nodes.length, lagP50: w.p50, lagP99: w.p99, lagMax: w.max, elu: w.elu });
    }
    const m = await measure(async () => {
      const lm = await loadModel(model);
      JSON.stringify({ type: 'graph', graph: lm.graph });
      return lm;
    });
    rows.push({ model: path.basename(model), mode: 'main thread + postMessage', ms: m.ms, nodes: m.value.graph.nodes.length, lagP50: m.p50, lagP99: m.p99, lagMax: m.max, elu: m.elu });
  }
  return rows;
}

export interface AnalysisLagRow {
  analysis: string;
  model: string;
  ms: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  elu: number;
  /** The same analysis with its result serialized for the results panel (what the extension posts). */
  postMs: number;
}

/**
 * The host's event loop while analyses run the way "Run Analysis…" runs them: the job in the engine process,
 * progress messages arriving, the envelope structured-cloned back, then posted (JSON) to the results panel.
 */
export async function analysisHostLag(jobs: { analysis: 'collapse' | 'hash' | 'redundancy' | 'lib' | 'attention' | 'circuit'; model: string; data: string }[]): Promise<AnalysisLagRow[]> {
  const workerPath = path.join(repo, 'dist', 'worker.js');
  if (!fs.existsSync(workerPath)) throw new Error(`${workerPath} is missing: run npm run build first`);
  const rows: AnalysisLagRow[] = [];
  const engine = processEngine(workerPath);
  try {
    await engine.run({ kind: 'selfTest', mode: 'echo' });
    for (const j of jobs) {
      let progress = 0;
      const r = await measure(async () => {
        // As the extension runs it: the envelope and the run file's text (made in the engine) come back.
        const { envelope: env } = await engine.run({ kind: 'analysisRun', analysis: j.analysis, model: j.model, data: j.data }, { onProgress: () => progress++ });
        const t0 = performance.now();
        JSON.stringify({ type: 'runs', runs: [{ id: 'x', envelope: env, finishedAt: '' }] });
        return performance.now() - t0;
      });
      rows.push({ analysis: `${j.analysis} (${progress} progress messages)`, model: path.basename(j.model), ms: r.ms, lagP50: r.p50, lagP99: r.p99, lagMax: r.max, elu: r.elu, postMs: r.value });
    }
  } finally {
    engine.dispose();
  }
  return rows;
}

export function analysisLagTable(rows: AnalysisLagRow[]): string {
  const lines = ['| analysis | model | run ms | host loop delay p50 / p99 / max (ms) | host loop busy | result JSON for the panel (ms) |', '|---|---|---:|---|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.analysis} | ${r.model} | ${r.ms.toFixed(0)} | ${r.lagP50} / ${r.lagP99} / ${r.lagMax} | ${(100 * r.elu).toFixed(1)}% | ${r.postMs.toFixed(1)} |`);
  return lines.join('\n');
}

export function lagTable(rows: LagRow[]): string {
  const lines = ['| model | nodes | how | load ms | loop delay p50 / p99 / max (ms) | host loop busy |', '|---|---:|---|---:|---|---:|'];
  for (const r of rows) lines.push(`| ${r.model} | ${r.nodes} | ${r.mode} | ${r.ms.toFixed(0)} | ${r.lagP50} / ${r.lagP99} / ${r.lagMax} | ${(100 * r.elu).toFixed(1)}% |`);
  return lines.join('\n');
}

if (require.main === module) {
  const models = process.argv.slice(2);
  void hostLag(models).then((rows) => {
    console.log(lagTable(rows));
    process.exit(0);
  });
}
