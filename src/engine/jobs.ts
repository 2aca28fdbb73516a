/**
 * The engine's jobs, run inside the worker (and directly by tests). Each takes a {@link JobRequest} and a
 * {@link JobContext} and returns the plain result object of the protocol.
 */
import { toChunks, type CaptureSummary, type CostEstimate, type JobKind, type JobRequest, type JobResult, type TensorPreview } from '../shared/engineProtocol';
import type { ModelGraph } from '../model/ir';
import type { OrtOutput } from '../model/runtime/ort';
import { BATCH_GROWTH_PER_TAP_BYTE, forEachBatch, checkOutPath, prepareTaps, sessionPeakSince, type JobContext } from './capture';
import { CancelledError, JobInputError, throwIfAborted } from './errors';
import { analysisInfos, analysisRunner } from './analyses';
import { layerCandidates } from '../model/layerCandidates';
import { graphSignatures } from './analyses/series';
import { encodeGraphWire } from '../shared/graphWire';
import { formatSummary, summarize } from '../shared/summary';
import { loadCached } from './modelCache';
import { NpzStreamWriter } from './npzStream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

const gzip = promisify(zlib.gzip);

export type { JobContext };

/** One handler per job kind, each checked against its own result type in JobResultMap. */
type Handlers = { [K in JobKind]: (job: Extract<JobRequest, { kind: K }>, ctx: JobContext) => Promise<JobResult<K>> | JobResult<K> };

const HANDLERS: Handlers = {
  loadGraph: (job) => loadGraph(job.model),
  loadGraphBytes: async (job, ctx) => {
    const graph = await loadGraph(job.model);
    // Columns and a string table (graphWire.ts, version 2): fewer bytes to build, gzip, parse, and no object per
    // node, value and tensor in between.
    const bytes = new TextEncoder().encode(encodeGraphWire(graph));
    // Gzipped (on libuv's threads, so a cancel is still heard): the host receives and forwards ~8x fewer bytes
    // (14.6 -> 1.7 MB at 100k operators). Every byte that crosses the host is memory it allocates outside its heap,
    // and that allocation is what starts the host's garbage collector, whose pauses over the extension host's own
    // large heap were its longest stalls while a big graph arrived (test/bench/graphHostLag.ts).
    const gz = await gzip(bytes, { level: 1 });
    throwIfAborted(ctx.signal);
    return { chunks: toChunks(new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength)), encoding: 'gzip', byteLength: bytes.byteLength, sentBytes: gz.byteLength, nodes: graph.nodes.length };
  },
  modelSummary: async (job) => ({ text: formatSummary(summarize(await loadGraph(job.model))) }),
  readTensor: (job) => readTensor(job.model, job.tensor, job.maxElements ?? 256),
  capture: (job, ctx) => capture(job, ctx),
  estimate: (job, ctx) => estimate(job, ctx),
  analysis: async (job, ctx) => {
    const { kind: _kind, ...req } = job;
    const notes: string[] = [];
    const note = (m: string) => {
      if (!notes.includes(m)) notes.push(m);
    };
    const envelope = await analysisRunner(req.analysis).run(req, { ...ctx, note });
    const fresh = notes.filter((m) => !envelope.warnings?.includes(m));
    return fresh.length ? { ...envelope, warnings: [...fresh, ...(envelope.warnings ?? [])] } : envelope;
  },
  analysisRun: async (job, ctx) => {
    const { kind: _kind, ...req } = job;
    const envelope = await analysisRunner(req.analysis).run(req, ctx);
    const bytes = new TextEncoder().encode(`${JSON.stringify(envelope, null, 2)}\n`);
    return { envelope, chunks: toChunks(bytes), byteLength: bytes.byteLength };
  },
  estimateAnalysis: async (job, ctx) => {
    const { kind: _kind, ...req } = job;
    const runner = analysisRunner(req.analysis);
    if (runner.estimate) return runner.estimate(req, ctx);
    if (!req.data) throw new JobInputError(`${req.analysis} needs data to estimate its cost`);
    // Generic: one forward pass per batch with the requested layers captured.
    return estimate({ kind: 'estimate', model: req.model, data: req.data, taps: req.layers ?? [], batchSize: req.batchSize, limit: req.limit }, ctx);
  },
  selfTest: (job, ctx) => selfTest(job, ctx),
  listAnalyses: () => analysisInfos(),
  layerCandidates: async (job) => layerCandidates((await loadCached(job.model)).graph),
  graphSignatures: (job, ctx) => graphSignatures(job.models, ctx.signal),
};

/** Runs `job`; the result's type follows its kind. */
export async function runJob<K extends JobKind>(job: Extract<JobRequest, { kind: K }>, ctx: JobContext): Promise<JobResult<K>> {
  // TypeScript cannot correlate HANDLERS[job.kind] with job's own type (a union of kinds); each entry is checked above.
  const handler = HANDLERS[job.kind as K] as (job: Extract<JobRequest, { kind: K }>, ctx: JobContext) => Promise<JobResult<K>> | JobResult<K>;
  return handler(job, ctx);
}

async function loadGraph(model: string): Promise<ModelGraph> {
  return (await loadCached(model)).graph;
}

async function readTensor(model: string, name: string, maxElements: number): Promise<TensorPreview> {
  const m = await loadCached(model);
  const t = await m.readTensor(name);
  const data = t.data;
  const numeric: ArrayLike<number | bigint> | undefined = Array.isArray(data) ? undefined : data;
  const values: number[] = [];
  if (numeric) for (let i = 0; i < Math.min(maxElements, numeric.length); i++) values.push(Number(numeric[i]));
  const preview: TensorPreview = { name, dtype: t.info.dtype, shape: t.info.shape, elements: t.info.elements, values };
  if (numeric && numeric.length > 0) preview.stats = statsWithHistogram(numeric, 32);
  return preview;
}

/** Min, max, mean, std (population) and an equal-width histogram; non-finite values are skipped. */
export function statsWithHistogram(x: ArrayLike<number | bigint>, bins: number): NonNullable<TensorPreview['stats']> {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    const v = Number(x[i]);
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sq += v * v;
    n++;
  }
  if (n === 0) return { min: 0, max: 0, mean: 0, std: 0, histogram: { edges: [0, 0], counts: [0] } };
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, sq / n - mean * mean));
  const width = max > min ? (max - min) / bins : 1;
  const counts = new Array<number>(max > min ? bins : 1).fill(0);
  for (let i = 0; i < x.length; i++) {
    const v = Number(x[i]);
    if (!Number.isFinite(v)) continue;
    counts[Math.min(counts.length - 1, Math.floor((v - min) / width))]++;
  }
  const edges = counts.map((_, k) => min + k * width).concat(max > min ? max : min + 1);
  return { min, max, mean, std, histogram: { edges, counts } };
}

/** Running float64 moments of one tap. */
class Moments {
  n = 0;
  sum = 0;
  sq = 0;
  min = Infinity;
  max = -Infinity;
  add(x: OrtOutput['data']): void {
    if (Array.isArray(x)) return;
    for (let i = 0; i < x.length; i++) {
      const v = Number(x[i]);
      this.sum += v;
      this.sq += v * v;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
    this.n += x.length;
  }
  get mean(): number {
    return this.n ? this.sum / this.n : 0;
  }
  get std(): number {
    return this.n ? Math.sqrt(Math.max(0, this.sq / this.n - this.mean ** 2)) : 0;
  }
}

async function capture(job: Extract<JobRequest, { kind: 'capture' }>, ctx: JobContext): Promise<CaptureSummary> {
  const t0 = performance.now();
  if (!job.taps.length) throw new JobInputError('capture needs at least one value to capture (--layers)');
  const runner = await prepareTaps(job.model, job.data, job.taps, ctx);
  const loadMs = performance.now() - t0;
  const batchSize = job.batchSize ?? 256;
  const end = Math.min(runner.dataset.inputs.count, job.limit ?? Infinity);
  const out = job.out ? await checkOutPath(job.out) : undefined;
  const writer = out ? new NpzStreamWriter(out, end) : undefined;
  const moments = new Map(runner.taps.map((t) => [t, new Moments()]));
  const shapes = new Map<string, { dtype: string; sampleShape: number[] }>();
  let labels: Int32Array | undefined;
  try {
    const run = await forEachBatch(
      runner,
      batchSize,
      (b) => {
        for (const tap of runner.taps) {
          const t = b.tensors[tap];
          if (!t) throw new Error(`onnxruntime returned no value for '${tap}'`);
          if (t.dims[0] !== b.count) {
            throw new JobInputError(`'${tap}' has shape [${t.dims.join(', ')}], not a per-sample value (first axis ≠ batch ${b.count}); capture per-sample activations only`, job.model);
          }
          shapes.set(tap, { dtype: t.dtype, sampleShape: t.dims.slice(1) });
          moments.get(tap)!.add(t.data);
          if (writer && !Array.isArray(t.data)) writer.append(tap, t.data as Float32Array, t.dims.slice(1));
        }
        if (writer && b.labels) writer.append('y', b.labels, []);
        labels ??= b.labels;
      },
      ctx,
      { end },
    );
    if (writer) {
      ctx.progress?.(run.samples, run.samples, 'writing');
      await writer.finish(ctx.signal);
    }
    return {
      model: runner.model.graph.file,
      dataset: runner.dataset.name,
      samples: run.samples,
      batches: run.batches,
      batchSize,
      taps: runner.taps.map((name) => {
        const m = moments.get(name)!;
        const s = shapes.get(name) ?? { dtype: 'unknown', sampleShape: [] };
        return { name, dtype: s.dtype, sampleShape: s.sampleShape, mean: m.mean, std: m.std, min: m.min, max: m.max };
      }),
      out,
      backend: runner.backend,
      ...(runner.dataset.warnings.length ? { warnings: runner.dataset.warnings } : {}),
      timings: { totalMs: performance.now() - t0, runMs: run.runMs, loadMs },
    };
  } catch (e) {
    writer?.cleanup();
    throw e;
  }
}

/**
 * The generic cost estimate (capture, and analyses without their own): the session is created here (the run
 * reuses it), one sample warms it up, one timed batch of ≤ 32 samples (4 on a slow model) gives the time and the
 * captured bytes per sample. Peak: the larger of the RSS peak while the session was created and the RSS now plus one batch's
 * growth ({@link BATCH_GROWTH_PER_TAP_BYTE} × its captured bytes, and its inputs).
 */
async function estimate(job: Extract<JobRequest, { kind: 'estimate' }>, ctx: JobContext): Promise<CostEstimate> {
  const since = process.resourceUsage().maxRSS;
  const runner = await prepareTaps(job.model, job.data, job.taps, ctx);
  const sessionPeak = sessionPeakSince(since);
  const batchSize = job.batchSize ?? 256;
  const samples = Math.min(runner.dataset.inputs.count, job.limit ?? Infinity);
  let perSampleBytes = 0;
  let fixedBytes = 0;
  const w0 = performance.now();
  await forEachBatch(runner, 1, () => {}, { signal: ctx.signal }, { end: Math.min(1, samples) });
  // A model slow on one sample (≥ 200 ms: the GPT-2-small export takes ≈ 0.5 s) is timed on 4 more, not 32:
  // measured there, a first batch of 32 took 18.5 s against 12.1 s for the same batch in the run that followed.
  const calib = Math.min(samples, Math.max(1, Math.min(batchSize, performance.now() - w0 >= 200 ? 4 : 32)));
  const t0 = performance.now();
  await forEachBatch(
    runner,
    calib,
    (b) => {
      for (const tap of runner.taps) {
        const t = b.tensors[tap];
        const bytes = Array.isArray(t.data) ? 0 : t.data.byteLength;
        if (t.dims[0] === b.count) perSampleBytes += bytes / b.count;
        else fixedBytes += bytes;
      }
    },
    { signal: ctx.signal },
    { end: calib },
  );
  const ms = performance.now() - t0;
  const inputBytesPerSample = runner.dataset.inputs.sampleShape.reduce((a, b) => a * b, 1) * (runner.dataset.inputs.dtype === 'int64' || runner.dataset.inputs.dtype === 'float64' ? 8 : 4);
  const activationBytesPerBatch = perSampleBytes * Math.min(batchSize, samples) + fixedBytes;
  const rss = process.memoryUsage().rss;
  return {
    samples,
    batchSize,
    activationBytesPerBatch,
    peakBytes: Math.round(Math.max(sessionPeak, rss + Math.min(batchSize, samples) * inputBytesPerSample + BATCH_GROWTH_PER_TAP_BYTE * activationBytesPerBatch)),
    expectedMs: Math.round((ms / calib) * samples * 1.1),
    forwardPasses: Math.ceil(samples / batchSize),
    vjps: 0,
    notes: [`calibrated on ${calib} samples in ${ms.toFixed(1)} ms with ${runner.backend}; RSS ${(rss / 2 ** 20).toFixed(0)} MB after the calibration`],
  };
}

async function selfTest(job: Extract<JobRequest, { kind: 'selfTest' }>, ctx: JobContext): Promise<{ echoed: string }> {
  switch (job.mode) {
    case 'echo':
      return { echoed: 'ok' };
    case 'sleep': {
      const until = Date.now() + (job.ms ?? 1000);
      while (Date.now() < until) {
        throwIfAborted(ctx.signal);
        ctx.progress?.(Date.now() - (until - (job.ms ?? 1000)), job.ms ?? 1000, 'sleeping');
        await new Promise((r) => setTimeout(r, 10));
      }
      return { echoed: 'slept' };
    }
    case 'crash':
      process.exit(3);
      break;
    case 'abort':
      process.abort();
      break;
    case 'grow': {
      // Touched memory outside the JS heap (as native runtimes allocate it): only an RSS watch sees it.
      const held: Buffer[] = [];
      for (let i = 0; i < (job.mb ?? 1024); i++) held.push(Buffer.alloc(1 << 20, 1));
      while (held.length > 0) {
        throwIfAborted(ctx.signal);
        await new Promise((r) => setTimeout(r, 50));
      }
      break;
    }
    case 'oom': {
      const hog: number[][] = [];
      for (;;) hog.push(new Array<number>(1 << 20).fill(Math.random()));
    }
  }
  throw new CancelledError();
}
