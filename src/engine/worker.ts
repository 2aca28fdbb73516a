/**
 * The engine's entry: loading, execution and analyses run here, never in the extension host. The same file
 * runs two ways (messages follow src/shared/engineProtocol.ts either way):
 * - as a child process (`child_process.fork`, the extension: its own address space, its own heap limit),
 *   talking over the IPC channel with `serialization: 'advanced'` (typed arrays cross as bytes);
 * - as a `worker_threads` worker (the CLI, whose process exists only for the job).
 */
import { parentPort } from 'node:worker_threads';
import { jobDone, type HostToWorker, type JobKind, type JobRequest, type WorkerToHost } from '../shared/engineProtocol';
import { releaseSessions } from './capture';
import { toPayload } from './errors';
import { runJob } from './jobs';

interface Channel {
  post(m: WorkerToHost, transfer?: ArrayBuffer[]): void;
  listen(fn: (m: HostToWorker) => void): void;
}

function channel(): Channel {
  if (parentPort) {
    const port = parentPort;
    return { post: (m, transfer) => port.postMessage(m, transfer), listen: (fn) => port.on('message', fn) };
  }
  if (process.send) {
    const send = process.send.bind(process);
    // The host went away (window closed, extension host crashed): nothing is left to answer to.
    process.on('disconnect', () => process.exit(0));
    return {
      post: (m) => {
        if (process.connected) send(m);
      },
      listen: (fn) => process.on('message', (m) => fn(m as HostToWorker)),
    };
  }
  throw new Error('the engine must run in a worker thread or a forked process (it talks to its host over a message channel)');
}

const port = channel();
const running = new Map<number, AbortController>();
const post = (m: WorkerToHost): void => port.post(m);

/** Progress at most every 200 ms per job (and always the final one). */
function throttled(id: number): (done: number, total: number, stage: string) => void {
  let last = 0;
  return (done, total, stage) => {
    const now = Date.now();
    if (now - last < 200 && done < total) return;
    last = now;
    post({ type: 'progress', id, done, total, stage });
  };
}

async function start<K extends JobKind>(id: number, job: Extract<JobRequest, { kind: K }>): Promise<void> {
  const ac = new AbortController();
  running.set(id, ac);
  try {
    const value = await runJob(job, {
      signal: ac.signal,
      progress: throttled(id),
      log: (message) => post({ type: 'log', level: 'info', message }),
    });
    // Large byte payloads (the graph as JSON) cross as one message per chunk (transferred to a worker's host),
    // then the result with its `chunks` emptied: the host assembles them again.
    const chunks = (value as { chunks?: unknown }).chunks;
    if (Array.isArray(chunks) && chunks.every((c) => c instanceof Uint8Array)) {
      for (const c of chunks as Uint8Array[]) port.post({ type: 'chunk', id, bytes: c }, [c.buffer as ArrayBuffer]);
      post(jobDone(id, job.kind, { ...value, chunks: [] }));
    } else post(jobDone(id, job.kind, value));
  } catch (e) {
    if (ac.signal.aborted) await releaseSessions();
    post({ type: 'result', id, ok: false, error: ac.signal.aborted ? { name: 'Cancelled', message: 'the job was cancelled' } : toPayload(e) });
  } finally {
    running.delete(id);
  }
}

port.listen((msg) => {
  switch (msg.type) {
    case 'run':
      void start(msg.id, msg.job);
      break;
    case 'cancel':
      running.get(msg.id)?.abort();
      break;
  }
});
post({ type: 'ready', pid: process.pid });
if (!parentPort) setInterval(() => post({ type: 'memory', rss: process.memoryUsage.rss() }), 500).unref();
