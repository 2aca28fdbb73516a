/**
 * Runs layouts in a Web Worker, falling back to the main thread when no worker can be started (a CSP
 * without `worker-src blob:`, or a browser without workers). A newer request supersedes older ones: their
 * promises resolve to `undefined` and the caller drops them.
 */
import layoutWorkerSource from 'inline-worker:layout';
import type { LayoutWorkerReply, LayoutWorkerRequest } from '../shared/layoutProtocol';
import { layoutGraph, type LayoutRequest, type LayoutResult } from './layout';

export class LayoutClient {
  private worker: Worker | undefined;
  private seq = 0;
  private readonly pending = new Map<number, { req: LayoutRequest; resolve: (r: LayoutResult | undefined) => void; reject: (e: Error) => void }>();
  /** Where layouts run: `worker` once the worker has answered, `main` after a fallback. */
  mode: 'worker' | 'main' | 'starting' = 'starting';
  failure: string | undefined;

  constructor(forceMain = false) {
    if (forceMain) {
      this.mode = 'main';
      return;
    }
    try {
      const url = URL.createObjectURL(new Blob([layoutWorkerSource], { type: 'text/javascript' }));
      this.worker = new Worker(url, { name: 'circuitscope-layout' });
      this.worker.onmessage = (ev: MessageEvent<LayoutWorkerReply>): void => this.onReply(ev.data);
      this.worker.onerror = (ev: ErrorEvent): void => this.fallBack(`layout worker failed: ${ev.message || 'blocked'}`);
    } catch (e) {
      this.fallBack(`layout worker unavailable: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  layout(req: LayoutRequest): Promise<LayoutResult | undefined> {
    const id = ++this.seq;
    for (const [pid, p] of this.pending) {
      this.pending.delete(pid);
      p.resolve(undefined);
    }
    if (!this.worker) return Promise.resolve(layoutGraph(req));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { req, resolve, reject });
      const msg: LayoutWorkerRequest = { id, request: req };
      this.worker!.postMessage(msg);
    });
  }

  private onReply(msg: LayoutWorkerReply): void {
    this.mode = 'worker';
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(new Error(msg.error));
  }

  private fallBack(why: string): void {
    this.failure = why;
    this.mode = 'main';
    this.worker?.terminate();
    this.worker = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      try {
        p.resolve(layoutGraph(p.req));
      } catch (e) {
        p.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }
}
