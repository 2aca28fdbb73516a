/**
 * The host side of the engine (extension host and CLI): starts the `worker_threads` worker on demand,
 * sends jobs, relays throttled progress, cancels, and survives the worker: a crash or an out-of-memory
 * becomes an error result for the jobs in flight, and the next job starts a fresh worker.
 */
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

export interface EngineClientOptions {
  /** Path of the bundled worker (default: `worker.js` beside this bundle). */
  workerPath?: string;
  /** Makes the worker (tests use this to run the TypeScript sources). */
  workerFactory?: () => Worker;
  /** Heap limits of the worker (default 4 GiB old generation). */
  resourceLimits?: ResourceLimits;
  /** How long a cancelled job may take to stop before the worker is terminated (default 3 s). */
  cancelGraceMs?: number;
  onLog?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Extra environment of the worker (e.g. CIRCUITSCOPE_BACKEND from the extension's settings). */
  env?: Record<string, string>;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onProgress?: (p: Progress) => void;
  cancelTimer?: NodeJS.Timeout;
}

export class EngineClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private disposed = false;
  /** How many workers were started (1 + restarts). */
  workersStarted = 0;

  constructor(private readonly opts: EngineClientOptions = {}) {}

  run<K extends JobKind>(job: Extract<JobRequest, { kind: K }>, opts: RunOptions = {}): Promise<JobResult<K>> {
    if (this.disposed) return Promise.reject(new EngineError({ name: 'Error', message: 'the engine was disposed' }));
    if (opts.signal?.aborted) return Promise.reject(cancelled());
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<JobResult<K>>((resolve, reject) => {
      const entry: Pending = { resolve: resolve as (v: unknown) => void, reject, onProgress: opts.onProgress };
      this.pending.set(id, entry);
      this.updateRef();
      const onAbort = (): void => {
        if (!this.pending.has(id)) return;
        worker.postMessage({ type: 'cancel', id } satisfies HostToWorker);
        // A job stuck in synchronous code cannot see the cancel: stop the worker after a grace period.
        entry.cancelTimer = setTimeout(() => {
          if (this.pending.has(id)) {
            this.restart(new EngineError({ name: 'EngineCrashed', code: 'restarted', message: 'the engine was restarted to stop a cancelled job that did not stop' }), id);
          }
        }, this.opts.cancelGraceMs ?? 3000);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ type: 'run', id, job } satisfies HostToWorker);
    });
  }

  /** Stops the worker; pending jobs are rejected. */
  dispose(): void {
    this.disposed = true;
    this.restart(new EngineError({ name: 'Error', message: 'the engine was disposed' }));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w =
      this.opts.workerFactory?.() ??
      new Worker(this.opts.workerPath ?? path.join(__dirname, 'worker.js'), {
        resourceLimits: this.opts.resourceLimits ?? { maxOldGenerationSizeMb: 4096 },
        env: { ...process.env, ...this.opts.env },
      });
    this.workersStarted++;
    w.on('message', (m: WorkerToHost) => this.onMessage(m));
    w.on('error', (e: Error & { code?: string }) => {
      const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(e.message);
      this.fail(w, {
        name: 'EngineCrashed',
        code: oom ? 'out-of-memory' : 'crash',
        message: oom
          ? 'the engine ran out of memory (raise circuitscope.memoryBudgetMB or use a smaller batch size); it has been restarted'
          : `the engine crashed: ${e.message}; it has been restarted`,
      });
    });
    w.on('exit', (code) => {
      this.fail(w, { name: 'EngineCrashed', code: 'exit', message: `the engine stopped unexpectedly (exit code ${code}); it has been restarted` });
    });
    // Don't keep a CLI process alive just for an idle worker.
    w.unref();
    this.worker = w;
    return w;
  }

  private onMessage(m: WorkerToHost): void {
    switch (m.type) {
      case 'progress':
        this.pending.get(m.id)?.onProgress?.({ done: m.done, total: m.total, stage: m.stage });
        break;
      case 'log':
        this.opts.onLog?.(m.level, m.message);
        break;
      case 'result': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.cancelTimer);
        if (m.ok) p.resolve(m.value);
        else p.reject(new EngineError(m.error));
        this.updateRef();
        break;
      }
    }
  }

  private updateRef(): void {
    if (!this.worker) return;
    if (this.pending.size) this.worker.ref();
    else this.worker.unref();
  }

  /** The worker died: every pending job fails with `error`; the next run starts a new worker. */
  private fail(w: Worker, error: EngineErrorPayload): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.cancelTimer);
      p.reject(new EngineError(error));
      this.pending.delete(id);
    }
  }

  private restart(reason: unknown, cancelledId?: number): void {
    const w = this.worker;
    this.worker = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.cancelTimer);
      p.reject(id === cancelledId ? cancelled() : reason);
      this.pending.delete(id);
    }
    void w?.terminate();
  }
}

function cancelled(): EngineError {
  return new EngineError({ name: 'Cancelled', message: 'the job was cancelled' });
}
