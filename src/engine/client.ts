/**
 * The host side of the engine (extension host and CLI): starts the engine on demand, sends jobs, relays
 * throttled progress, cancels, and survives the engine: a crash, a native abort or running out of memory
 * becomes a typed error naming the job in flight, and the next job starts a fresh engine.
 *
 * Two ways to run the engine (src/engine/worker.ts is the entry of both):
 * - `process` (the extension): a child process forked from the host's own runtime (in VS Code the Electron
 *   binary run as node with ELECTRON_RUN_AS_NODE=1, as VS Code's language servers are; code-server runs on
 *   plain node), so that WebAssembly reservations, native allocations and native aborts never touch the
 *   extension host's address space. A V8 heap flag and an RSS watch keep it under its memory limit.
 * - `worker` (the CLI, whose process lives only for its job): a `worker_threads` worker.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { EngineErrorPayload, HostToWorker, JobKind, JobRequest, JobResult, WorkerToHost } from '../shared/engineProtocol';
import { EngineError } from './engineError';

export interface Progress {
  done: number;
  total: number;
  stage: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** How the engine process is started and bounded. */
export interface EngineProcessOptions {
  /** The runtime to fork (default `process.execPath`: the host's own node or Electron). */
  execPath?: string;
  /** Runtime flags before the entry (tests run the TypeScript sources with `['--import', 'tsx']`). */
  execArgv?: string[];
  /** The engine process's memory limit in MiB: V8's heap limit and the resident size above which it is killed. */
  memoryLimitMb: number;
  /** How often the resident size is checked (default 500 ms). */
  rssIntervalMs?: number;
}

export interface EngineClientOptions {
  /** Path of the engine entry (default: `worker.js` beside this bundle). */
  workerPath?: string;
  /** Run the engine as a child process (the extension) instead of a worker thread (the CLI). */
  process?: EngineProcessOptions;
  /** Makes the worker (tests use this to run the TypeScript sources in a worker). */
  workerFactory?: () => Worker;
  /** Heap limits of a worker (default 4 GiB old generation). */
  resourceLimits?: ResourceLimits;
  /** How long a cancelled job may take to stop before the engine is stopped (default 3 s). */
  cancelGraceMs?: number;
  onLog?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** The engine stopped without being asked to (crash, abort, memory limit): what, and which jobs it took. */
  onCrash?: (crash: EngineCrash) => void;
  /** Extra environment of the engine (e.g. CIRCUITSCOPE_BACKEND from the extension's settings). */
  env?: Record<string, string>;
}

export interface EngineCrash {
  pid?: number;
  /** One line: what happened (exit code or signal, memory), without the jobs. */
  cause: string;
  code: 'crash' | 'out-of-memory' | 'memory-limit' | 'spawn';
  /** The jobs that were running, as {@link describeJob} names them. */
  jobs: string[];
}

interface Pending {
  label: string;
  /** The job's kind: the result must say the same. */
  kind: JobKind;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onProgress?: (p: Progress) => void;
  cancelTimer?: NodeJS.Timeout;
  /** The pieces of a chunked result received so far. */
  chunks?: Uint8Array[];
}

/** A running engine, either transport. */
interface EngineHandle {
  readonly pid: number | undefined;
  send(m: HostToWorker): void;
  ref(): void;
  unref(): void;
  stop(): void;
}

/**
 * The engine process's memory limit in MiB: `setting` when positive (at least 256), else automatic — twice the
 * jobs' memory budget, at least 4096, at most 80% of the machine's memory.
 */
export function engineMemoryLimitMb(setting: number, budgetMb: number, totalBytes = os.totalmem()): number {
  if (setting > 0) return Math.max(256, Math.floor(setting));
  const ram = Math.floor((0.8 * totalBytes) / 2 ** 20);
  return Math.max(256, Math.min(Math.max(2 * budgetMb, 4096), ram));
}

/** The job in words, for errors and logs: "analysis 'lib' on rec.onnx". */
export function describeJob(job: JobRequest): string {
  const base = (p: string): string => p.split(/[\\/]/).filter(Boolean).pop() ?? p;
  switch (job.kind) {
    case 'analysis':
    case 'analysisRun':
      return `analysis '${job.analysis}' on ${base(job.model)}`;
    case 'estimateAnalysis':
      return `the cost estimate of '${job.analysis}' on ${base(job.model)}`;
    case 'loadGraph':
    case 'loadGraphBytes':
      return `loading ${base(job.model)}`;
    case 'modelSummary':
      return `summarizing ${base(job.model)}`;
    case 'readTensor':
      return `reading tensor '${job.tensor}' of ${base(job.model)}`;
    case 'capture':
      return `capture on ${base(job.model)}`;
    case 'estimate':
      return `the cost estimate of a capture on ${base(job.model)}`;
    case 'layerCandidates':
      return `listing the layers of ${base(job.model)}`;
    case 'listAnalyses':
      return 'listing the analyses';
    case 'graphSignatures':
      return `comparing the architectures of ${job.models.length} models`;
    case 'selfTest':
      return `self-test '${job.mode}'`;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

export class EngineClient {
  private engine: EngineHandle | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private disposed = false;
  /** How many engines were started (1 + restarts). */
  workersStarted = 0;

  constructor(private readonly opts: EngineClientOptions = {}) {}

  /** The engine process's pid while one runs (process mode). */
  get pid(): number | undefined {
    return this.engine?.pid;
  }

  run<K extends JobKind>(job: Extract<JobRequest, { kind: K }>, opts: RunOptions = {}): Promise<JobResult<K>> {
    if (this.disposed) return Promise.reject(new EngineError({ name: 'Error', message: 'the engine was disposed' }));
    if (opts.signal?.aborted) return Promise.reject(cancelled());
    const label = describeJob(job);
    let engine: EngineHandle;
    try {
      engine = this.ensureEngine();
    } catch (e) {
      return Promise.reject(new EngineError(spawnFailure(e, label, this.opts.process?.execPath ?? process.execPath)));
    }
    const id = this.nextId++;
    return new Promise<JobResult<K>>((resolve, reject) => {
      const entry: Pending = { label, kind: job.kind, resolve: resolve as (v: unknown) => void, reject, onProgress: opts.onProgress };
      this.pending.set(id, entry);
      this.updateRef();
      const onAbort = (): void => {
        if (!this.pending.has(id)) return;
        engine.send({ type: 'cancel', id });
        // A job stuck in synchronous code cannot see the cancel: stop the engine after a grace period.
        entry.cancelTimer = setTimeout(() => {
          if (this.pending.has(id)) {
            this.restart(new EngineError({ name: 'EngineCrashed', code: 'restarted', message: `the engine was restarted to stop ${label}, which did not stop when cancelled` }), id);
          }
        }, this.opts.cancelGraceMs ?? 3000);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      engine.send({ type: 'run', id, job });
    });
  }

  /** Stops the engine; pending jobs are rejected. */
  dispose(): void {
    this.disposed = true;
    this.restart(new EngineError({ name: 'Error', message: 'the engine was disposed' }));
  }

  private ensureEngine(): EngineHandle {
    if (this.engine) return this.engine;
    const entry = this.opts.workerPath ?? path.join(__dirname, 'worker.js');
    const e = this.opts.process ? this.startProcess(entry, this.opts.process) : this.startWorker(entry);
    this.workersStarted++;
    this.engine = e;
    this.updateRef();
    return e;
  }

  private startWorker(entry: string): EngineHandle {
    const w =
      this.opts.workerFactory?.() ??
      new Worker(entry, {
        resourceLimits: this.opts.resourceLimits ?? { maxOldGenerationSizeMb: 4096 },
        env: { ...process.env, ...this.opts.env },
      });
    const handle: EngineHandle = {
      pid: undefined,
      send: (m) => w.postMessage(m),
      ref: () => w.ref(),
      unref: () => w.unref(),
      stop: () => void w.terminate(),
    };
    w.on('message', (m: WorkerToHost) => this.onMessage(m));
    w.on('error', (e: Error & { code?: string }) => {
      const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(e.message);
      this.gone(handle, oom ? { code: 'out-of-memory', cause: 'the engine ran out of memory (raise circuitscope.memoryBudgetMB or use a smaller batch size)' } : { code: 'crash', cause: `the engine crashed (${e.message})` });
    });
    w.on('exit', (code) => this.gone(handle, { code: 'crash', cause: `the engine stopped unexpectedly (exit code ${code})` }));
    return handle;
  }

  private startProcess(entry: string, po: EngineProcessOptions): EngineHandle {
    const limit = Math.max(64, Math.floor(po.memoryLimitMb));
    const child: ChildProcess = fork(entry, [], {
      execPath: po.execPath ?? process.execPath,
      // Never the host's own flags (an inspector port, the extension host's loader): only ours.
      // The heap gets three quarters of the limit: a JS heap that grows is stopped by V8 with its own message
      // before the resident size (heap + native + wasm) reaches the limit the watch below enforces.
      // A young generation of up to 32 MiB a semi-space (V8's default is 16 on 64-bit): loading a 100k-operator graph
      // allocates hundreds of MB of objects that all survive, and fewer scavenges cost ~15% less CPU there.
      execArgv: [
        ...(po.execArgv ?? []),
        `--max-old-space-size=${Math.max(48, Math.floor(limit * 0.75))}`,
        `--max-semi-space-size=${Math.max(1, Math.min(32, Math.floor(limit / 32)))}`,
      ],
      env: { ...process.env, ...this.opts.env, ELECTRON_RUN_AS_NODE: '1' },
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // The host's own priority, not below it: with two CPU-bound jobs beside it on 2 cores, a below-normal engine
    // (nice 10) loaded a 100k-operator graph in 16.0–20.6 s against 2.9–3.2 s at normal priority, while the host's
    // event-loop delay was no better (max 11.5–32.4 ms against 9.0–28.0 ms; 4 runs each, graphHostLag.ts).
    let stderrTail = '';
    let overLimitMb: number | undefined;
    let stopping = false;
    const lines = (level: 'info' | 'warn') => (chunk: Buffer) => {
      const text = chunk.toString('utf8').replace(ANSI, '');
      if (level === 'warn') stderrTail = (stderrTail + text).slice(-4000);
      for (const l of text.split('\n')) if (l.trim()) this.opts.onLog?.(level, `engine process: ${l.trimEnd()}`);
    };
    child.stdout?.on('data', lines('info'));
    child.stderr?.on('data', lines('warn'));
    const handle: EngineHandle = {
      pid: child.pid,
      send: (m) => {
        if (child.connected) child.send(m);
      },
      ref: () => {
        child.ref();
        child.channel?.ref();
      },
      unref: () => {
        child.unref();
        child.channel?.unref();
        (child.stdout as { unref?: () => void } | null)?.unref?.();
        (child.stderr as { unref?: () => void } | null)?.unref?.();
      },
      stop: () => {
        stopping = true;
        child.kill('SIGKILL');
      },
    };
    let reportedMb: number | undefined;
    const watch = setInterval(() => {
      void residentMb(child.pid, reportedMb).then((mb) => {
        if (mb === undefined || mb <= limit || overLimitMb !== undefined) return;
        overLimitMb = mb;
        child.kill('SIGKILL');
      });
    }, po.rssIntervalMs ?? 500);
    watch.unref();
    child.on('message', (m: WorkerToHost) => {
      if (m.type === 'memory') reportedMb = Math.round(m.rss / 2 ** 20);
      else this.onMessage(m, child.pid);
    });
    child.on('error', (e) => {
      // A failed spawn or a failed send; a failed spawn is followed by no 'exit'.
      if (child.pid === undefined) {
        clearInterval(watch);
        this.gone(handle, { code: 'spawn', cause: `could not start the engine process (${e.message})` });
      } else this.opts.onLog?.('warn', `engine process ${child.pid}: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      if (stopping) return;
      const lastLine = stderrTail.trim().split('\n').filter((l) => l.trim() && !/^\s*at |^\s*\d+: |^\s*-{3,}|stack trace/i.test(l)).pop()?.trim().slice(0, 200);
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (overLimitMb !== undefined) {
        this.gone(handle, {
          code: 'memory-limit',
          cause: `the engine process used ${overLimitMb} MB, above its memory limit of ${limit} MB, and was stopped (lower the batch size or the samples, or raise circuitscope.engineMemoryLimitMB)`,
        });
      } else if (/heap out of memory|Reached heap limit/i.test(stderrTail)) {
        this.gone(handle, { code: 'out-of-memory', cause: `the engine process ran out of memory (its heap limit is ${Math.max(48, Math.floor(limit * 0.75))} MB of its ${limit} MB limit) and ${how}` });
      } else {
        this.gone(handle, { code: 'crash', cause: `the engine process (pid ${child.pid}) stopped unexpectedly: it ${how}${lastLine ? ` (${lastLine})` : ''}` });
      }
    });
    this.opts.onLog?.('info', `engine process started (pid ${child.pid}, ${path.basename(po.execPath ?? process.execPath)}, memory limit ${limit} MB)`);
    return handle;
  }

  private onMessage(m: WorkerToHost, pid?: number): void {
    switch (m.type) {
      case 'ready':
        if (pid !== undefined) this.opts.onLog?.('info', `engine process ${m.pid} is ready`);
        break;
      case 'memory':
        break;
      case 'progress':
        this.pending.get(m.id)?.onProgress?.({ done: m.done, total: m.total, stage: m.stage });
        break;
      case 'chunk': {
        const p = this.pending.get(m.id);
        if (p) (p.chunks ??= []).push(m.bytes);
        break;
      }
      case 'log':
        this.opts.onLog?.(m.level, m.message);
        break;
      case 'result': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.cancelTimer);
        if (!m.ok) p.reject(new EngineError(m.error));
        else if (m.kind !== p.kind) p.reject(new EngineError({ name: 'Error', message: `${p.label}: expected a '${p.kind}' result from the engine, found a '${m.kind}' result` }));
        else p.resolve(p.chunks ? { ...(m.value as object), chunks: p.chunks } : m.value);
        this.updateRef();
        break;
      }
    }
  }

  private updateRef(): void {
    if (!this.engine) return;
    // Don't keep a CLI or a test process alive just for an idle engine.
    if (this.pending.size) this.engine.ref();
    else this.engine.unref();
  }

  /** The engine died: every pending job fails with a typed error naming it; the next run starts a new engine. */
  private gone(e: EngineHandle, crash: Omit<EngineCrash, 'jobs' | 'pid'>): void {
    if (this.engine !== e) return;
    this.engine = undefined;
    const jobs = [...this.pending.values()].map((p) => p.label);
    for (const [id, p] of this.pending) {
      clearTimeout(p.cancelTimer);
      const others = jobs.length > 1 ? ` (with ${jobs.length - 1} other job${jobs.length > 2 ? 's' : ''})` : '';
      p.reject(new EngineError({ name: 'EngineCrashed', code: crash.code, message: `${crash.cause} while running ${p.label}${others}; the next job starts a new engine` }));
      this.pending.delete(id);
    }
    this.opts.onLog?.('error', `${crash.cause}${jobs.length ? ` while running ${jobs.join(', ')}` : ' while idle'}`);
    this.opts.onCrash?.({ ...crash, pid: e.pid, jobs });
  }

  private restart(reason: unknown, cancelledId?: number): void {
    const e = this.engine;
    this.engine = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.cancelTimer);
      p.reject(id === cancelledId ? cancelled() : reason);
      this.pending.delete(id);
    }
    e?.stop();
  }
}

function cancelled(): EngineError {
  return new EngineError({ name: 'Cancelled', message: 'the job was cancelled' });
}

function spawnFailure(e: unknown, label: string, execPath: string): EngineErrorPayload {
  const msg = e instanceof Error ? e.message : String(e);
  return { name: 'EngineCrashed', code: 'spawn', message: `could not start the engine (${path.basename(execPath)}: ${msg}) for ${label}` };
}

/**
 * The resident size of a process in MiB. Linux: read from /proc by the host (it works while the engine is busy
 * in native code); elsewhere the size the engine last reported itself.
 */
async function residentMb(pid: number | undefined, reported: number | undefined): Promise<number | undefined> {
  if (pid === undefined || process.platform !== 'linux') return reported;
  try {
    const status = await fs.promises.readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return kb ? Math.round(Number(kb[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}
