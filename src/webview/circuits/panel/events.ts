/**
 * Input: cytoscape's events (hover → details and highlight, selection → buttons, click → reveal in the
 * model or lift a layer's cap, double-click → fold/unfold, drag → pin), the threshold row's controls, and
 * the panel's keyboard shortcuts (F fit, P pin, Escape clears the selection).
 */
import type { Core, EventObject, NodeSingular, SingularElementArgument } from 'cytoscape';
import { foldedBySize } from '../groupsGraph';
import { libTopnMax } from '../libGraph';
import type { Controls } from '../model';
import { revealTarget } from '../reveal';
import { persist, type PanelContext } from './context';
import { highlight, showDetails } from './details';
import { fit, schedule } from './draw';
import { expandLayer, toggleFoldOf, togglePin } from './edit';
import { controlsOf, vnode } from './state';
import { updateButtons } from './toolbar';

function hasModifier(ev: EventObject): boolean {
  const o = ev.originalEvent as MouseEvent | undefined;
  return !!o && (o.shiftKey || o.ctrlKey || o.metaKey);
}

/** A click on a node: a column header restores its layer's cap; an overflow node lifts it; else reveal in the model. */
function onTap(ctx: PanelContext, ev: EventObject, c: Core): void {
  const s = ctx.state;
  const t = ev.target as NodeSingular | Core;
  if (t === c || !(t as NodeSingular).isNode?.()) return;
  const node = t as NodeSingular;
  const kind = node.data('kind') as string;
  if (kind === 'header') {
    const col = s.graph?.columns[node.data('column') as number];
    if (col?.expanded && col.layer !== undefined) expandLayer(ctx, col.layer, false);
    return;
  }
  if (hasModifier(ev)) return;
  const n = vnode(s, node.id());
  const current = s.current;
  if (!n || !current) return;
  if (n.kind === 'overflow') {
    expandLayer(ctx, n.layer!, true);
    return;
  }
  const target = revealTarget(current, n);
  if (target) ctx.bridge.post({ type: 'reveal', model: current.run.envelope.model, target });
}

/** A dragged node stays where it is dropped (a dragged group box: all its units). */
function onDragFree(ctx: PanelContext, node: NodeSingular): void {
  const s = ctx.state;
  const d = s.current;
  if (!d) return;
  const ctl = controlsOf(s, d);
  const moved = node.isParent() ? node.descendants() : node;
  moved.forEach((m) => {
    if (m.isParent()) return;
    ctl.pinned[m.id()] = { ...m.position() };
    m.addClass('pinned');
  });
  persist(ctx);
  updateButtons(ctx);
  showDetails(ctx);
}

export function wireCy(ctx: PanelContext, c: Core): void {
  const s = ctx.state;
  c.on('scrollzoom pinchzoom dragpan', () => {
    s.fitted = false;
  });
  c.on('mouseover', (ev) => {
    const t = ev.target as SingularElementArgument | Core;
    if (t === c) return;
    s.hovered = t as SingularElementArgument;
    s.note = undefined;
    highlight(ctx, s.hovered);
    showDetails(ctx);
  });
  c.on('mouseout', (ev) => {
    if (ev.target === s.hovered) {
      s.hovered = undefined;
      highlight(ctx, undefined);
      showDetails(ctx);
    }
  });
  c.on('select unselect', () => {
    s.note = undefined;
    updateButtons(ctx);
    showDetails(ctx);
  });
  c.on('tap', (ev) => onTap(ctx, ev, c));
  c.on('dbltap', 'node', (ev) => {
    const n = vnode(s, (ev.target as NodeSingular).id());
    if (n) toggleFoldOf(ctx, n);
  });
  c.on('dragfree', 'node', (ev) => onDragFree(ctx, ev.target as NodeSingular));
}

/** The slider, the mode picker and the constant-edges checkbox: change the run's controls, redraw next frame. */
export function wireControls(ctx: PanelContext): void {
  const s = ctx.state;
  const { slider, modeSelect, constantBox } = ctx.dom;
  const redraw = (): void => schedule(ctx);
  slider.addEventListener('input', () => {
    const current = s.current;
    if (!current) return;
    const c = controlsOf(s, current);
    const v = Number(slider.value);
    c.value = v;
    if (current.kind === 'circuit' && c.mode === 'circuit') c.mode = 'topn';
    if (current.kind === 'groups') c.folded = foldedBySize(current.result, v);
    redraw();
  });
  modeSelect.addEventListener('change', () => {
    const current = s.current;
    if (!current) return;
    const c = controlsOf(s, current);
    const m = (modeSelect as unknown as { value: string }).value as Controls['mode'];
    if (m === c.mode) return;
    c.mode = m;
    if (current.kind === 'lib') {
      // Switching keeps about the same number of edges: the engine's default share, or its per-pair cap.
      c.value = m === 'topn' ? Math.min(libTopnMax(current.result), current.result.graph.threshold.maxEdgesPerPair) : current.result.graph.threshold.massFraction;
    }
    redraw();
  });
  constantBox.addEventListener('change', () => {
    const current = s.current;
    if (!current || current.kind !== 'lib') return;
    controlsOf(s, current).constantEdges = (constantBox as unknown as { checked: boolean }).checked;
    redraw();
  });
}

export function wireKeys(ctx: PanelContext): void {
  ctx.dom.panel.addEventListener('keydown', (ev) => {
    const t = ev.target as HTMLElement | null;
    if (t?.closest('input, vscode-single-select, vscode-checkbox, vscode-button')) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    switch (ev.key) {
      case 'f':
      case 'F':
        fit(ctx);
        break;
      case 'p':
      case 'P':
        togglePin(ctx);
        break;
      case 'Escape':
        ctx.state.cy?.$(':selected').unselect();
        break;
      default:
        return;
    }
    ev.preventDefault();
  });
}
