/**
 * The user's edits of the drawing, kept per run: pins (Pin/Unpin), folds (Fold/Unfold a selection into a
 * supernode; groups: fold whole groups), and lifting a layer's node cap.
 */
import { foldSelection, unfold } from '../fold';
import { groupsSliderRange } from '../groupsGraph';
import type { VNode } from '../model';
import { persist, type PanelContext } from './context';
import { say } from './details';
import { draw } from './draw';
import { controlsOf, vnode } from './state';
import { selectedIds } from './toolbar';

function commit(ctx: PanelContext): void {
  persist(ctx);
  draw(ctx, false);
}

export function togglePin(ctx: PanelContext): void {
  const s = ctx.state;
  const d = s.current;
  const cy = s.cy;
  if (!d || !cy) return;
  const c = controlsOf(s, d);
  const sel = selectedIds(ctx).filter((id) => vnode(s, id)?.kind !== 'group');
  if (!sel.length) {
    if (!Object.keys(c.pinned).length) {
      say(ctx, 'Select nodes to pin them, or drag a node: it stays where you drop it.');
      return;
    }
    c.pinned = {};
  } else if (sel.every((id) => c.pinned[id])) {
    for (const id of sel) delete c.pinned[id];
  } else {
    for (const id of sel) {
      const n = cy.getElementById(id);
      if (n.nonempty()) c.pinned[id] = { ...n.position() };
    }
  }
  commit(ctx);
}

export function foldSelected(ctx: PanelContext): void {
  const s = ctx.state;
  const d = s.current;
  if (!d || !s.base) return;
  const c = controlsOf(s, d);
  const sel = selectedIds(ctx);
  if (d.kind === 'groups') {
    const groupsOf = new Set<number>();
    for (const id of sel) {
      const n = vnode(s, id);
      if (n?.group !== undefined && n.group >= 0 && d.result.groups.sizes[n.group] > 1) groupsOf.add(n.group);
    }
    const add = groupsOf.size ? [...groupsOf] : d.result.groups.sizes.flatMap((sz, g) => (sz > 1 ? [g] : []));
    c.folded = [...new Set([...c.folded, ...add])].sort((a, b) => a - b);
    // Everything folded is what the slider's left end means.
    if (!groupsOf.size) c.value = groupsSliderRange(d.result).min;
  } else {
    const r = foldSelection(s.base, c.folds, sel);
    if (!r.made) {
      say(ctx, 'Select two or more nodes of one layer (Shift-click, or Shift-drag a box), then Fold.');
      return;
    }
    c.folds = r.folds;
  }
  commit(ctx);
}

export function unfoldSelected(ctx: PanelContext): void {
  const s = ctx.state;
  const d = s.current;
  if (!d) return;
  const c = controlsOf(s, d);
  const sel = selectedIds(ctx)
    .map((id) => vnode(s, id))
    .filter((n): n is VNode => !!n);
  if (d.kind === 'groups') {
    const named = sel.filter((n) => n.kind === 'foldedGroup').map((n) => n.group!);
    c.folded = named.length ? c.folded.filter((g) => !named.includes(g)) : [];
    if (!named.length) c.value = groupsSliderRange(d.result).max;
  } else {
    const layers = sel.filter((n) => n.kind === 'overflow').map((n) => n.layer!);
    if (layers.length) c.expanded = [...new Set([...c.expanded, ...layers])];
    const folds = sel.filter((n) => n.kind === 'fold').map((n) => n.id);
    if (folds.length || !layers.length) c.folds = unfold(c.folds, folds);
  }
  commit(ctx);
}

/** Lifts (`on`) or restores a layer's node cap. */
export function expandLayer(ctx: PanelContext, layer: number, on: boolean): void {
  const s = ctx.state;
  const d = s.current;
  if (!d) return;
  const c = controlsOf(s, d);
  c.expanded = on ? [...new Set([...c.expanded, layer])] : c.expanded.filter((l) => l !== layer);
  commit(ctx);
}

/** Double-click: unfold a fold or folded group, fold a group; returns whether anything changed. */
export function toggleFoldOf(ctx: PanelContext, n: VNode): boolean {
  const s = ctx.state;
  const d = s.current;
  if (!d) return false;
  const ctl = controlsOf(s, d);
  if (n.kind === 'fold') ctl.folds = unfold(ctl.folds, [n.id]);
  else if (n.kind === 'foldedGroup') ctl.folded = ctl.folded.filter((g) => g !== n.group);
  else if (n.kind === 'group' && n.group !== undefined && n.group >= 0 && (n.size ?? 0) > 1) ctl.folded = [...new Set([...ctl.folded, n.group])];
  else return false;
  commit(ctx);
  return true;
}
