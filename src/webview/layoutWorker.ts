/**
 * The layout Web Worker: receives {@link LayoutRequest}s, answers with {@link LayoutResult}s (typed arrays
 * transferred, not copied). Bundled separately and inlined into the webview bundle as a string
 * (esbuild.mjs), so it starts from a `blob:` URL — webview resources live on another origin, which a
 * Worker cannot be created from directly.
 */
import { layoutGraph, type LayoutRequest } from './layout';

interface Req {
  id: number;
  request: LayoutRequest;
}

const ctx = self as unknown as { onmessage: ((ev: MessageEvent<Req>) => void) | null; postMessage(msg: unknown, transfer: Transferable[]): void };

ctx.onmessage = (ev: MessageEvent<Req>): void => {
  const { id, request } = ev.data;
  try {
    const r = layoutGraph(request);
    ctx.postMessage({ id, ok: true, result: r }, [r.x.buffer, r.y.buffer, r.width.buffer, r.height.buffer, r.biasLeft.buffer, r.biasTop.buffer, r.bendStart.buffer, r.bends.buffer]);
  } catch (e) {
    ctx.postMessage({ id, ok: false, error: e instanceof Error ? e.message : String(e) }, []);
  }
};
