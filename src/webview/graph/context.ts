/**
 * What every module of the graph view works on: the page (root, bridge, URL parameters), the DOM it built
 * (shell.ts), the overlay's controls, the state (state.ts) and the metrics the tests read.
 */
import type { Core } from 'cytoscape';
import type { HostToWebview, WebviewToHost } from '../../shared/protocol';
import type { Bridge } from '../bridge';
import type { OverlayView } from '../overlayView';
import type { Shell } from './shell';
import type { GraphState, Metrics, ViewState } from './state';

export interface GraphContext {
  readonly root: HTMLElement;
  readonly bridge: Bridge<WebviewToHost, HostToWebview>;
  readonly params: URLSearchParams;
  readonly metrics: Metrics;
  readonly state: GraphState;
  readonly dom: Shell;
  readonly overlayView: OverlayView;
  /** What the bridge had saved when the view was mounted. */
  readonly saved: ViewState | undefined;
  /**
   * Wires a new cytoscape instance's pointer events (events.ts). A hook, so that rendering (which creates the
   * instance) does not depend on the modules that react to clicks by rendering again.
   */
  readonly wireCy: (cy: Core) => void;
}

export type ViewStatus = 'loading' | 'confirm' | 'error' | 'rendering' | 'ready';

export function setStatus(ctx: GraphContext, state: ViewStatus): void {
  document.body.dataset.state = state;
  ctx.root.dataset.state = state;
}
