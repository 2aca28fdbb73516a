/** The action buttons' state: Pin/Unpin, and whether Fold and Unfold apply to the selection. */
import { isFoldable } from '../fold';
import type { VNode } from '../model';
import type { PanelContext } from './context';
import { controlsOf, vnode } from './state';

export function selectedIds(ctx: PanelContext): string[] {
  const cy = ctx.state.cy;
  return cy ? cy.$('node:selected').map((n) => n.id()) : [];
}

function setDisabled(b: HTMLElement, off: boolean): void {
  if (off) b.setAttribute('disabled', '');
  else b.removeAttribute('disabled');
}

export function updateButtons(ctx: PanelContext): void {
  const s = ctx.state;
  const { pinButton, foldButton, unfoldButton } = ctx.dom;
  const d = s.current;
  const c = d ? controlsOf(s, d) : undefined;
  const sel = selectedIds(ctx)
    .map((id) => vnode(s, id))
    .filter((n): n is VNode => !!n);
  const pinnable = sel.filter((n) => n.kind !== 'group');
  const allPinned = c && pinnable.length > 0 && pinnable.every((n) => c.pinned[n.id]);
  const anyPinned = c && Object.keys(c.pinned).length > 0;
  pinButton.textContent = allPinned || (!pinnable.length && anyPinned) ? 'Unpin' : 'Pin';
  setDisabled(pinButton, !pinnable.length && !anyPinned);
  if (d?.kind === 'groups') {
    setDisabled(foldButton, !d.result.groups.sizes.some((sz, g) => sz > 1 && !c!.folded.includes(g)));
    setDisabled(unfoldButton, !c!.folded.length);
  } else {
    const perColumn = new Map<number, number>();
    for (const n of sel) if (isFoldable(n) || n.kind === 'fold') perColumn.set(n.column, (perColumn.get(n.column) ?? 0) + 1);
    setDisabled(foldButton, ![...perColumn.values()].some((k) => k >= 2));
    setDisabled(unfoldButton, !(c && (c.folds.length || sel.some((n) => n.kind === 'overflow'))));
  }
}
