/**
 * The details line under the graph (the hovered element's numbers, else the selection's, else a note or the
 * run's status and a hint) and the hover highlight (the element's neighbourhood; the rest dimmed).
 */
import type { EdgeSingular, NodeSingular, SingularElementArgument } from 'cytoscape';
import type { DrawableRun } from '../model';
import type { PanelContext } from './context';
import { el } from './dom';
import { controlsOf, vnode } from './state';

/** Shows a one-off message in the details line. */
export function say(ctx: PanelContext, text: string): void {
  ctx.state.note = text;
  showDetails(ctx);
}

function hint(d: DrawableRun): string {
  if (d.kind === 'groups') return 'Click a unit: show its layer in the model · Shift-click: select groups to fold · Drag: pin';
  return 'Click: show in the model · Shift-click/-drag: select, then Fold · Drag: pin';
}

export function showDetails(ctx: PanelContext): void {
  const s = ctx.state;
  const d = s.current;
  if (!d) return;
  let lines: string[] | undefined;
  const h = s.hovered;
  if (h && h.nonempty() && h.inside()) lines = linesOf(ctx, h);
  if (!lines) {
    const sel = s.cy?.$(':selected');
    if (sel && sel.length === 1) lines = linesOf(ctx, sel[0]);
    else if (sel && sel.length > 1) lines = [`${sel.length} selected`, 'Fold merges the selected nodes of each layer; Pin keeps them in place.'];
  }
  if (!lines && s.note) lines = [s.note];
  if (!lines) lines = [s.graph?.status ?? '', hint(d)];
  ctx.dom.details.replaceChildren(...lines.map((l, i) => el('div', { className: i ? 'line muted' : 'line' }, l)));
}

function linesOf(ctx: PanelContext, e: SingularElementArgument): string[] | undefined {
  const s = ctx.state;
  const graph = s.graph;
  if (!graph) return undefined;
  if (e.isEdge()) return graph.edges.find((x) => x.id === e.id())?.info;
  const kind = e.data('kind') as string;
  if (kind === 'header') return graph.columns[e.data('column') as number]?.info;
  const n = vnode(s, e.id());
  if (!n) return undefined;
  const extra: string[] = [];
  if (controlsOf(s, s.current!).pinned[n.id]) extra.push('pinned');
  if (n.kind === 'fold' || n.kind === 'foldedGroup') extra.push('double-click to unfold');
  if (n.kind === 'group' && (n.size ?? 0) > 1 && n.group !== -1) extra.push('double-click to fold');
  return extra.length ? [...n.info.slice(0, -1), `${n.info.at(-1)} · ${extra.join(' · ')}`] : n.info;
}

export function highlight(ctx: PanelContext, e: SingularElementArgument | undefined): void {
  const { cy, graph } = ctx.state;
  if (!cy) return;
  cy.batch(() => {
    cy.elements('.dim, .hover').removeClass('dim hover');
    if (!e || !graph || graph.kind === 'groups' || !graph.edges.length) return;
    let keep;
    if (e.isEdge()) keep = (e as EdgeSingular).union((e as EdgeSingular).connectedNodes());
    else if (e.data('kind') === 'header' || (e as NodeSingular).connectedEdges().empty()) return;
    else keep = (e as NodeSingular).closedNeighborhood();
    cy.elements().not(keep).not('.header').addClass('dim');
    keep.edges().addClass('hover');
  });
}
