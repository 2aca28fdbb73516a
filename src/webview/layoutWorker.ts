/**
 * The layout Web Worker: receives {@link LayoutRequest}s, answers with {@link LayoutResult}s (typed arrays
 * transferred, not copied). Bundled separately and inlined into the webview bundle as a string
 * (esbuild.mjs), so it starts from a `blob:` URL — webview resources live on another origin, which a
 * Worker cannot be created from directly.
 */
import type { LayoutWorkerReply, LayoutWorkerRequest } from '../shared/layoutProtocol';
import { layoutGraph } from './layout';

const ctx = self as unknown as { onmessage: ((ev: MessageEvent<LayoutWorkerRequest>) => void) | null; postMessage(msg: LayoutWorkerReply, transfer: Transferable[]): void };

ctx.onmessage = (ev: MessageEvent<LayoutWorkerRequest>): void => {
  const { id, request } = ev.data;
  try {
    const r = layoutGraph(request);
    ctx.postMessage({ id, ok: true, value: r }, [r.x.buffer, r.y.buffer, r.width.buffer, r.height.buffer, r.biasLeft.buffer, r.biasTop.buffer, r.bendStart.buffer, r.bends.buffer]);
  } catch (e) {
    ctx.postMessage({ id, ok: false, error: e instanceof Error ? e.message : String(e) }, []);
  }
};
