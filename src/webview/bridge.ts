/**
 * How a view talks to whoever hosts it. Inside VS Code that is the webview API (`acquireVsCodeApi`, which may
 * be called once per page); in the standalone HTML report (`circuitscope report`) it is a page-local bridge
 * that answers from data embedded in the page and turns exports into downloads. Views take a Bridge and never
 * call `acquireVsCodeApi` themselves, so the same code renders in both places.
 */
export interface Bridge<Out, In> {
  post(msg: Out): void;
  onMessage(handler: (msg: In) => void): void;
  getState<S>(): S | undefined;
  setState<S>(state: S): void;
  /** True in the HTML report: there is no extension host (no model to reveal in, no files to write). */
  readonly standalone: boolean;
}

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

let api: VsCodeApi | undefined;

/** The VS Code webview bridge (one API object per page, shared by every caller). */
export function vscodeBridge<Out, In>(): Bridge<Out, In> {
  api ??= acquireVsCodeApi();
  const a = api;
  return {
    post: (msg) => a.postMessage(msg),
    onMessage: (handler) => window.addEventListener('message', (ev: MessageEvent<In>) => handler(ev.data)),
    getState: <S>() => (a.getState() ?? undefined) as S | undefined,
    setState: (s) => a.setState(s),
    standalone: false,
  };
}

/**
 * A bridge for a page without a host: `respond` answers posted messages (it may call `deliver` later, any
 * number of times); state lives in memory for the page's life.
 */
export function localBridge<Out, In>(respond: (msg: Out, deliver: (m: In) => void) => void): Bridge<Out, In> {
  const handlers: ((m: In) => void)[] = [];
  let state: unknown;
  const deliver = (m: In): void => {
    // Asynchronous, like a real webview message.
    setTimeout(() => {
      for (const h of handlers) h(m);
    }, 0);
  };
  return {
    post: (msg) => respond(msg, deliver),
    onMessage: (handler) => handlers.push(handler),
    getState: <S>() => state as S | undefined,
    setState: (s) => {
      state = s;
    },
    standalone: true,
  };
}
