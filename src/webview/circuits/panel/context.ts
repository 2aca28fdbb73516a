/**
 * What every part of the circuits panel works on: the bridge, the page's elements (dom.ts) and the state
 * (state.ts).
 */
import type { Core } from 'cytoscape';
import type { CircuitsToHost, HostToCircuits } from '../../../shared/protocol';
import type { Bridge } from '../../bridge';
import type { PanelDom } from './dom';
import type { PanelState } from './state';

export interface PanelContext {
  readonly bridge: Bridge<CircuitsToHost, HostToCircuits>;
  readonly state: PanelState;
  readonly dom: PanelDom;
  /**
   * Wires a new cytoscape instance's events (events.ts). A hook, so that drawing (which creates the instance)
   * does not depend on the handlers that draw again.
   */
  readonly wire: (cy: Core) => void;
}

/** Saves the controls, pins, folds and the run shown. */
export function persist(ctx: PanelContext): void {
  ctx.bridge.setState(ctx.state.saved);
}

export function setBodyState(s: 'loading' | 'empty' | 'ready'): void {
  document.body.dataset.state = s;
}
