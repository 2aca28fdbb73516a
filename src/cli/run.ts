/**
 * `circuitscope run <job> …`: the shared job runner for the CLI. Jobs run in the engine worker; progress goes
 * to stderr; Ctrl-C cancels the job cleanly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { analysisRunner } from '../engine/analyses';
import { EngineClient } from '../engine/client';
import { EngineError } from '../engine/errors';
import { checkWritableFolder, OutputWriteError, writeFileAtomicSync } from '../engine/atomicWrite';
import { checkCost, DEFAULT_MEMORY_BUDGET_MB, DEFAULT_TIME_BUDGET_MIN, formatBytes, formatDuration, timeAdvice } from '../shared/cost';
import type { CaptureSummary, CostEstimate, JobRequest } from '../shared/engineProtocol';

export class UsageError extends Error {}

const BACKENDS = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];
const ORT_PROVIDERS = ['auto', 'cpu', 'cuda'];

/**
 * The engine for one CLI job; `--backend` / `--ort-provider` force a tfjs backend / an onnxruntime provider,
 * `--threads N` sets onnxruntime's intra-op threads (default: onnxruntime's own choice, one per core).
 */
export function engineForCli(values: { backend?: unknown; 'ort-provider'?: unknown; threads?: unknown } = {}): EngineClient {
  const env: Record<string, string> = {};
  if (values.threads !== undefined) {
    const n = Number(values.threads);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--threads must be a positive integer, found '${String(values.threads)}'`);
    env.CIRCUITSCOPE_THREADS = String(n);
  }
  if (values.backend !== undefined) {
    if (!BACKENDS.includes(String(values.backend))) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, found '${String(values.backend)}'`);
    env.CIRCUITSCOPE_BACKEND = String(values.backend);
  }
  if (values['ort-provider'] !== undefined) {
    if (!ORT_PROVIDERS.includes(String(values['ort-provider']))) {
      throw new UsageError(`--ort-provider must be one of ${ORT_PROVIDERS.join(', ')}, found '${String(values['ort-provider'])}'`);
    }
    env.CIRCUITSCOPE_ORT_PROVIDER = String(values['ort-provider']);
  }
  return new EngineClient({ workerPath: path.join(__dirname, 'worker.js'), env });
}

/** Progress on stderr: a rewritten line on a terminal, a line every few seconds otherwise. */
export function progressPrinter(label: string): (p: { done: number; total: number; stage: string }) => void {
  let last = 0;
  const tty = process.stderr.isTTY;
  return (p) => {
    const now = Date.now();
    if (!tty && now - last < 5000 && p.done < p.total) return;
    last = now;
    const pct = p.total ? ((100 * p.done) / p.total).toFixed(0) : '?';
    const line = `${label}: ${p.stage} ${p.done}/${p.total} (${pct}%)`;
    if (tty) process.stderr.write(`\r${line}\x1b[K${p.done >= p.total ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  };
}

/** Runs `fn` with an AbortSignal wired to Ctrl-C. */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onSigint = (): void => {
    process.stderr.write('\ncancelling…\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    return await fn(ac.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** Flags every job takes: the memory and time budgets its cost estimate is checked against. */
export const BUDGET_FLAGS = {
  'budget-mb': { type: 'string' },
  'time-budget-min': { type: 'string' },
  yes: { type: 'boolean', default: false },
  backend: { type: 'string' },
  'ort-provider': { type: 'string' },
  threads: { type: 'string' },
} as const;

function positiveNumber(flag: string | undefined, env: string | undefined, fallback: number, name: string): number {
  const text = flag ?? env;
  const n = Number(text ?? fallback);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, found '${text}'`);
  return n;
}

/** Why a job with this (checkpoint-scaled) estimate is refused under the budgets, one line each; empty when it runs. */
export function budgetRefusals(est: CostEstimate, budgetMb: number, budgetMin: number, analysis?: string): string[] {
  const check = checkCost(est, budgetMb, budgetMin);
  const refusals: string[] = [];
  if (check.overMemory) {
    refusals.push(
      `the estimated peak memory ${formatBytes(est.peakBytes)} exceeds the budget of ${budgetMb} MB; lower --batch-size, run on fewer samples (--limit N), raise --budget-mb, or pass --yes to run anyway`,
    );
  }
  if (check.overTime) {
    refusals.push(
      `the estimated time ≈ ${formatDuration(est.expectedMs)} exceeds the time budget of ${formatDuration(budgetMin * 60_000)}; ${timeAdvice(analysis, est.samples)}; raise --time-budget-min, or pass --yes to run anyway`,
    );
  }
  return refusals;
}

/**
 * Prints the cost estimate and refuses a job whose expected peak memory or time exceeds its budget (unless
 * --yes), saying what to change. Returns false when refused.
 */
export async function checkBudget(
  engine: EngineClient,
  job: Extract<JobRequest, { kind: 'estimate' | 'estimateAnalysis' }>,
  flags: { 'budget-mb'?: string; 'time-budget-min'?: string; yes?: boolean; json?: boolean },
  checkpoints = 1,
  label = '',
): Promise<boolean> {
  const budgetMb = positiveNumber(flags['budget-mb'], process.env.CIRCUITSCOPE_BUDGET_MB, DEFAULT_MEMORY_BUDGET_MB, '--budget-mb');
  const budgetMin = positiveNumber(flags['time-budget-min'], process.env.CIRCUITSCOPE_TIME_BUDGET_MIN, DEFAULT_TIME_BUDGET_MIN, '--time-budget-min');
  // Both estimate kinds answer a CostEstimate (JobResultMap).
  const est: CostEstimate = job.kind === 'estimate' ? await engine.run(job) : await engine.run(job);
  // A series runs the same job once per checkpoint: the estimate is for one, the time for all.
  est.expectedMs *= checkpoints;
  est.forwardPasses *= checkpoints;
  est.vjps *= checkpoints;
  const check = checkCost(est, budgetMb, budgetMin);
  process.stderr.write(`estimate${label ? ` for ${label}` : ''}: ${check.summary}${checkpoints > 1 ? `, ${checkpoints} checkpoints` : ''}${est.notes?.length ? `; ${est.notes.join('; ')}` : ''}\n`);
  if (flags.yes) return true;
  const analysis = 'analysis' in job ? String(job.analysis) : undefined;
  const refusals = budgetRefusals(est, budgetMb, budgetMin, analysis);
  for (const r of refusals) process.stderr.write(`error [budget]: ${r}\n`);
  // A script reading --json gets the refusal as JSON too, not an empty stdout.
  if (refusals.length && flags.json) process.stdout.write(`${JSON.stringify({ error: { name: 'BudgetExceeded', code: 'budget', message: refusals.join('; and ') } }, null, 2)}\n`);
  return !check.overMemory && !check.overTime;
}

/** A job's typed error: JSON on stdout with --json, else one line on stderr. Exit 130 when cancelled, else 1. */
export function reportEngineError(e: unknown, json: boolean): number {
  if (e instanceof OutputWriteError) {
    if (json) process.stdout.write(`${JSON.stringify({ error: { name: e.name, code: 'io', message: e.message, file: e.file } }, null, 2)}\n`);
    else process.stderr.write(`error [io]: ${e.message}\n`);
    return 1;
  }
  if (!(e instanceof EngineError)) throw e;
  if (json) process.stdout.write(`${JSON.stringify({ error: e.payload }, null, 2)}\n`);
  else process.stderr.write(`error [${e.payload.code ?? e.name}]: ${e.message}\n`);
  return e.name === 'Cancelled' ? 130 : 1;
}

const int = (s: string | undefined, name: string): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, found '${s}'`);
  return n;
};

export async function runCapture(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      layers: { type: 'string', multiple: true },
      out: { type: 'string' },
      'batch-size': { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...BUDGET_FLAGS,
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`run capture takes one model path, found ${positionals.length}`);
  if (!values.data) throw new UsageError('run capture needs --data <file.npz | folder | spec.json>');
  const taps = (values.layers ?? []).flatMap((l) => l.split(',')).map((s) => s.trim()).filter(Boolean);
  if (!taps.length) throw new UsageError('run capture needs --layers <value or node names, comma-separated>');
  const engine = engineForCli(values);
  try {
    const batchSize = int(values['batch-size'], '--batch-size');
    const limit = int(values.limit, '--limit');
    const estimateJob = { kind: 'estimate' as const, model: path.resolve(positionals[0]), data: path.resolve(values.data), taps, batchSize, limit };
    if (!(await checkBudget(engine, estimateJob, values))) return 1;
    const result: CaptureSummary = await withInterrupt((signal) =>
      engine.run(
        {
          kind: 'capture',
          model: path.resolve(positionals[0]),
          data: path.resolve(values.data!),
          taps,
          out: values.out ? path.resolve(values.out) : undefined,
          batchSize,
          limit,
        },
        { signal, onProgress: progressPrinter('capture') },
      ),
    );
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ analysis: 'capture', model: result.model, backend: result.backend, options: { taps, batchSize: result.batchSize }, result, timings: result.timings, ...(result.warnings ? { warnings: result.warnings } : {}) }, null, 2)}\n`);
    } else {
      process.stdout.write(`captured ${result.samples} samples in ${result.batches} batches with ${result.backend}\n`);
      for (const t of result.taps) {
        process.stdout.write(`  ${t.name}: ${t.dtype} [${t.sampleShape.join(', ')}] per sample; mean ${t.mean.toPrecision(4)}, std ${t.std.toPrecision(4)}, range [${t.min.toPrecision(4)}, ${t.max.toPrecision(4)}]\n`);
      }
      for (const w of result.warnings ?? []) process.stdout.write(`  note: ${w}\n`);
      if (result.out) process.stdout.write(`  written to ${result.out} (arrays named after the values, '/' and ':' → '_'; labels as 'y')\n`);
      process.stdout.write(`  ${result.timings.totalMs.toFixed(0)} ms (model+data ${result.timings.loadMs.toFixed(0)} ms, run ${result.timings.runMs.toFixed(0)} ms)\n`);
    }
    return 0;
  } catch (e) {
    return reportEngineError(e, values.json as boolean);
  } finally {
    engine.dispose();
  }
}

/** Expands folders to the models inside them (natural sort: epoch_2 before epoch_10). */
export function expandModels(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = path.resolve(p);
    if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
      const inside = fs
        .readdirSync(abs)
        .filter((f) => f.endsWith('.onnx') || f === 'model.json')
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
        .map((f) => path.join(abs, f));
      if (!inside.length) throw new UsageError(`the folder ${abs} holds no .onnx or model.json checkpoints`);
      out.push(...inside);
    } else out.push(abs);
  }
  return out;
}

/** Scalars of a result, one per line, arrays summarised: the human-readable fallback for any analysis. */
export function formatResult(value: unknown, indent = '  ', depth = 0): string {
  if (value === null || typeof value !== 'object') return `${String(value)}`;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) {
      const shown = (value as number[]).slice(0, 8).map((v) => (Number.isInteger(v) ? String(v) : v.toPrecision(4)));
      return `[${shown.join(', ')}${value.length > 8 ? `, … (${value.length})` : ''}]`;
    }
    if (depth >= 2) return `[${value.length} items]`;
    return value.map((v, i) => `\n${indent.repeat(depth + 1)}[${i}] ${formatResult(v, indent, depth + 1)}`).join('');
  }
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => {
      const text = typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(5) : formatResult(v, indent, depth + 1);
      return `\n${indent.repeat(depth + 1)}${k}: ${text}`;
    })
    .join('');
}

export async function runAnalysisCli(name: string, argv: string[]): Promise<number> {
  const runner = analysisRunner(name);
  const optionFlags: Record<string, { type: 'string' }> = {};
  for (const o of runner.options) optionFlags[o.name] = { type: 'string' };
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...optionFlags,
      data: { type: 'string' },
      layer: { type: 'string', multiple: true },
      layers: { type: 'string', multiple: true },
      'batch-size': { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      ...BUDGET_FLAGS,
    },
    allowPositionals: true,
  });
  if (!positionals.length) throw new UsageError(`run ${name} needs a model (or several, or a folder of checkpoints)`);
  if (runner.needsData && !values.data) throw new UsageError(`run ${name} needs --data <file.npz | folder | spec.json>`);
  const models = expandModels(positionals);
  const layers = [...(values.layer ?? []), ...(values.layers ?? [])].flatMap((l) => l.split(',')).map((s) => s.trim()).filter(Boolean);
  const options: Record<string, unknown> = {};
  const all = values as Record<string, unknown>;
  for (const o of runner.options) if (all[o.name] !== undefined) options[o.name] = all[o.name];
  const out = values.out ? path.resolve(values.out as string) : undefined;
  const engine = engineForCli(values);
  try {
    if (out) checkWritableFolder(out);
    const request = {
      analysis: runner.name,
      model: models[0],
      models: models.length > 1 ? models : undefined,
      data: values.data ? path.resolve(values.data as string) : undefined,
      layers: layers.length ? layers : undefined,
      options,
      batchSize: int(values['batch-size'] as string | undefined, '--batch-size'),
      limit: int(values.limit as string | undefined, '--limit'),
    };
    if (request.data && !(await checkBudget(engine, { kind: 'estimateAnalysis', ...request }, values as { 'budget-mb'?: string; 'time-budget-min'?: string; yes?: boolean; json?: boolean }, models.length))) return 1;
    const env = await withInterrupt((signal) => engine.run({ kind: 'analysis', ...request }, { signal, onProgress: progressPrinter(name) }));
    const json = `${JSON.stringify(env, null, 2)}\n`;
    if (out) writeFileAtomicSync(out, json);
    if (values.json) process.stdout.write(json);
    else {
      process.stdout.write(`${env.analysis} on ${env.model}\n  backend: ${env.backend}\n`);
      if (env.layer) process.stdout.write(`  layer: ${Array.isArray(env.layer) ? env.layer.join(', ') : env.layer}\n`);
      process.stdout.write(`  result:${formatResult(env.result)}\n`);
      for (const w of env.warnings ?? []) process.stdout.write(`  note: ${w}\n`);
      process.stdout.write(`  timings: ${Object.entries(env.timings).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}\n`);
      if (out) process.stdout.write(`  written to ${out}\n`);
    }
    return 0;
  } catch (e) {
    return reportEngineError(e, values.json as boolean);
  } finally {
    engine.dispose();
  }
}
