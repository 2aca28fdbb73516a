/**
 * Selection and navigation: selecting an element (and showing it in the inspector), expanding and
 * collapsing blocks with the clicked block kept in place on screen, revealing a node, block or overlay key
 * (opening the blocks that hide it), and the host's `reveal` request.
 */
import type { NodeSingular } from 'cytoscape';
import type { RevealTarget } from '../../shared/results';
import { groupElementId, groupsToReveal, isCollapsible, nodeElementId } from '../viewModel';
import type { GraphContext } from './context';
import { render } from './render';
import { showNote } from './shell';
import { closeGroup, openGroups, resolver, setAllExpanded } from './state';
import { saveState, selectionOf, topCenter } from './viewport';

/** Selects an element (none: clears), optionally centring it (`always`, or when off screen or small). */
export function select(ctx: GraphContext, el: NodeSingular | undefined, center: boolean | 'always' = false): void {
  const cy = ctx.state.cy;
  if (!cy) return;
  cy.$(':selected').unselect();
  if (el) {
    el.select();
    if (center) {
      const bb = cy.extent();
      const p = el.position();
      if (center === 'always' || p.x < bb.x1 || p.x > bb.x2 || p.y < bb.y1 || p.y > bb.y2 || cy.zoom() < 0.75) {
        cy.zoom(Math.max(cy.zoom(), 1));
        cy.center(el);
      }
    }
  }
  ctx.state.inspector?.show(el ? selectionOf(el) : undefined);
  saveState(ctx);
}

export async function expandGroup(ctx: GraphContext, gid: string): Promise<void> {
  const s = ctx.state;
  if (!s.cy || s.expanded.has(gid)) return;
  const before = groupElementId(gid);
  const rendered = topCenter(ctx, before);
  s.expanded.add(gid);
  s.inspector?.show({ kind: 'group', id: gid });
  await render(ctx, rendered ? { after: before, rendered } : undefined);
  const cy = s.cy;
  const el = cy.getElementById(before);
  if (el.nonempty()) {
    cy.$(':selected').unselect();
    el.select();
  }
}

export async function collapse(ctx: GraphContext, gid: string): Promise<void> {
  const s = ctx.state;
  if (!s.cy || !s.expanded.has(gid) || !s.index) return;
  const id = groupElementId(gid);
  const rendered = topCenter(ctx, id);
  closeGroup(s, gid);
  s.inspector?.show({ kind: 'group', id: gid });
  await render(ctx, rendered ? { after: id, rendered } : undefined);
  s.cy.getElementById(id).select();
}

export async function expandAll(ctx: GraphContext, open: boolean): Promise<void> {
  if (!ctx.state.index) return;
  setAllExpanded(ctx.state, open);
  await render(ctx, undefined, undefined, true);
}

/** Opens the blocks hiding a node, then selects it; returns the element (undefined if not drawn). */
export async function revealNode(ctx: GraphContext, nodeId: string, center: boolean | 'always' = true): Promise<NodeSingular | undefined> {
  const s = ctx.state;
  if (!s.index || !s.cy) return undefined;
  if (openGroups(s, groupsToReveal(s.index, nodeId))) await render(ctx);
  s.mount?.ensure([nodeElementId(nodeId)]);
  const el = s.cy.getElementById(nodeElementId(nodeId));
  if (el.empty()) return undefined;
  select(ctx, el as NodeSingular, center);
  return el as NodeSingular;
}

export async function revealGroup(ctx: GraphContext, gid: string): Promise<void> {
  const s = ctx.state;
  const index = s.index;
  if (!index || !s.cy) return;
  const ancestors: string[] = [];
  let p = index.groups.get(gid)?.parent;
  while (p) {
    const pg = index.groups.get(p);
    if (pg && isCollapsible(pg)) ancestors.push(p);
    p = pg?.parent;
  }
  if (openGroups(s, ancestors)) await render(ctx);
  s.mount?.ensure([groupElementId(gid)]);
  const el = s.cy.getElementById(groupElementId(gid));
  if (el.nonempty()) select(ctx, el, true);
}

/** Reveals an overlay key (`n:<node>` or `i:<value>`). */
export async function revealKey(ctx: GraphContext, key: string, center: boolean | 'always' = true): Promise<NodeSingular | undefined> {
  const s = ctx.state;
  if (!s.cy) return undefined;
  if (key.startsWith('n:')) return revealNode(ctx, key.slice(2), center);
  s.mount?.ensure([key]);
  const el = s.cy.getElementById(key);
  if (el.empty()) return undefined;
  select(ctx, el as NodeSingular, center);
  return el as NodeSingular;
}

/** Blinks an element three times. */
export function flash(el: NodeSingular): void {
  let n = 0;
  const tick = (): void => {
    if (el.removed()) return;
    el.toggleClass('flash', n % 2 === 0);
    if (++n < 6) setTimeout(tick, 220);
    else el.removeClass('flash');
  };
  tick();
}

/** `reveal` from the host: resolve, open its blocks, select, centre and flash; a note when not found. */
export async function reveal(ctx: GraphContext, target: RevealTarget): Promise<void> {
  const s = ctx.state;
  if (!s.firstRenderDone) {
    s.pendingReveal = target;
    return;
  }
  const names = resolver(s);
  if (!names || !s.cy) return;
  const key = names.key(target);
  const from = target.label ? `from ${target.label}` : '';
  if (key === undefined) {
    const what = [target.node !== undefined ? `operator "${target.node}"` : '', target.value !== undefined ? `value "${target.value}"` : ''].filter(Boolean).join(' or ');
    showNote(ctx, `Not found in this graph: ${what || 'no element named'}${from ? ` (${from})` : ''}.`);
    return;
  }
  ctx.dom.revealNote.hidden = true;
  const el = await revealKey(ctx, key, 'always');
  if (!el) {
    showNote(ctx, `Could not show ${target.node ?? target.value} in this graph.`);
    return;
  }
  ctx.dom.fromText.textContent = from ? `· ${from}` : '';
  ctx.dom.status.title = from;
  flash(el);
}
