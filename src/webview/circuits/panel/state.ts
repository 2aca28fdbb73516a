/**
 * The circuits panel's state: what is saved across reloads (controls, pins and folds per run, the run
 * shown, the host's last `show`), the runs the host sent and the one drawn, and what is drawn now (the
 * cytoscape instance, the scene's graph and its unfolded base, the orientation, hover and note).
 */
import type { Core, SingularElementArgument } from 'cytoscape';
import type { DrawableRun, Controls, VGraph, VNode } from '../model';
import { defaultsFor } from '../scene';
import type { CircuitsColors } from '../style';

/** What the bridge keeps across reloads. */
export interface SavedState {
  v: 1;
  /** The run drawn (the user's pick or the host's). */
  shown?: string;
  /** The host's last `show`: a `runs` message with the same `show` keeps the user's pick. */
  hostShow?: string;
  runs: Record<string, Controls>;
}

export interface PanelState {
  saved: SavedState;
  runs: DrawableRun[];
  current?: DrawableRun;
  cy?: Core;
  colors: CircuitsColors;
  /** The scene's graph as drawn, and before user folds (what Fold selects from). */
  graph?: VGraph;
  base?: VGraph;
  orientation?: string;
  hovered?: SingularElementArgument;
  /** A one-off message in the details line (until the next hover or selection). */
  note?: string;
  /** A pending redraw's animation frame (0: none). */
  frame: number;
  /** The panel's size at the last drawing (a resize well beyond it re-lays out). */
  drawnSize: { w: number; h: number };
  /** The view is as Fit left it (no zoom or pan since): a resize fits again. */
  fitted: boolean;
}

export function createPanelState(saved: SavedState | undefined, colors: CircuitsColors): PanelState {
  return {
    saved: saved && saved.v === 1 && typeof saved.runs === 'object' ? saved : { v: 1, runs: {} },
    runs: [],
    colors,
    frame: 0,
    drawnSize: { w: 0, h: 0 },
    fitted: false,
  };
}

/** The controls of a run (its defaults the first time, then kept in the saved state). */
export function controlsOf(s: PanelState, d: DrawableRun): Controls {
  let c = s.saved.runs[d.run.id];
  if (!c) {
    c = defaultsFor(d);
    s.saved.runs[d.run.id] = c;
  }
  return c;
}

/** The drawn node with this id. */
export function vnode(s: PanelState, id: string): VNode | undefined {
  return s.graph?.nodes.find((n) => n.id === id);
}

/** Nothing drawn, no run current. */
export function clearDrawn(s: PanelState): void {
  s.current = undefined;
  s.graph = s.base = undefined;
  s.cy?.destroy();
  s.cy = undefined;
}

/**
 * The host's runs (already filtered to drawable ones) and its `show`: picks the run to draw — the host's
 * `show` when it changed, else the current run, the saved one, the host's, or the newest — and forgets the
 * controls of runs that are gone. Returns whether the run drawn changed.
 */
export function setRuns(s: PanelState, runs: DrawableRun[], show: string | undefined): boolean {
  s.runs = runs;
  const ids = new Set(runs.map((d) => d.run.id));
  for (const id of Object.keys(s.saved.runs)) if (!ids.has(id)) delete s.saved.runs[id];
  const hostChanged = show !== undefined && show !== s.saved.hostShow;
  s.saved.hostShow = show;
  let target: string;
  if (hostChanged && ids.has(show)) target = show;
  else if (s.current && ids.has(s.current.run.id)) target = s.current.run.id;
  else if (s.saved.shown && ids.has(s.saved.shown)) target = s.saved.shown;
  else if (show && ids.has(show)) target = show;
  else target = runs.at(-1)!.run.id;
  const changed = target !== s.current?.run.id;
  s.current = runs.find((d) => d.run.id === target)!;
  s.saved.shown = target;
  return changed;
}

/** The user picked a run; returns whether it is another one than the current. */
export function pickRun(s: PanelState, id: string): boolean {
  const d = s.runs.find((r) => r.run.id === id);
  if (!d || d === s.current) return false;
  s.current = d;
  s.saved.shown = id;
  return true;
}
