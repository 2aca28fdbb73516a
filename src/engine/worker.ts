/**
 * The engine worker (`worker_threads`): loading, execution and analyses run here, never on the extension
 * host's thread. Messages follow src/shared/engineProtocol.ts.
 */
import { parentPort } from 'node:worker_threads';
import type { HostToWorker, WorkerToHost } from '../shared/engineProtocol';
import { releaseSessions } from './capture';
import { toPayload } from './errors';
import { runJob } from './jobs';

if (!parentPort) throw new Error('the engine worker must run in a worker thread');
const port = parentPort;

const running = new Map<number, AbortController>();
const post = (m: WorkerToHost): void => port.postMessage(m);

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

async function start(id: number, job: Extract<HostToWorker, { type: 'run' }>['job']): Promise<void> {
  const ac = new AbortController();
  running.set(id, ac);
  try {
    const value = await runJob(job, {
      signal: ac.signal,
      progress: throttled(id),
      log: (message) => post({ type: 'log', level: 'info', message }),
    });
    // Large byte payloads (the graph as JSON) move to the host without a copy.
    const bytes = (value as { bytes?: unknown }).bytes;
    if (bytes instanceof Uint8Array) port.postMessage({ type: 'result', id, ok: true, value } satisfies WorkerToHost, [bytes.buffer as ArrayBuffer]);
    else post({ type: 'result', id, ok: true, value });
  } catch (e) {
    if (ac.signal.aborted) await releaseSessions();
    post({ type: 'result', id, ok: false, error: ac.signal.aborted ? { name: 'Cancelled', message: 'the job was cancelled' } : toPayload(e) });
  } finally {
    running.delete(id);
  }
}

port.on('message', (msg: HostToWorker) => {
  switch (msg.type) {
    case 'run':
      void start(msg.id, msg.job);
      break;
    case 'cancel':
      running.get(msg.id)?.abort();
      break;
  }
});
