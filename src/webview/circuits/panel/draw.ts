/**
 * Drawing the current run: the scene (scene.ts) for its controls at the panel's size, synced into one
 * cytoscape instance at preset positions (elements that stay keep their state), the summary, the controls'
 * readings and the buttons; fitted when asked or when the orientation flips.
 */
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import { preventStyleInjection } from '../../graphView';
import { fitCircuits } from '../fitView';
import { buildScene, FIT_PADDING } from '../scene';
import { circuitsStylesheet } from '../style';
import { persist, setBodyState, type PanelContext } from './context';
import { configureControls, sliderText } from './controls';
import { showDetails } from './details';
import { el } from './dom';
import { controlsOf } from './state';
import { updateButtons } from './toolbar';

/** The graph container's size (fallbacks while it is not laid out). */
export function size(ctx: PanelContext): { w: number; h: number } {
  const box = ctx.dom.graphBox;
  return { w: box.clientWidth || 360, h: box.clientHeight || 600 };
}

function ensureCy(ctx: PanelContext): Core {
  const s = ctx.state;
  if (s.cy) return s.cy;
  preventStyleInjection();
  const c = cytoscape({
    container: ctx.dom.graphBox,
    style: circuitsStylesheet(s.colors),
    layout: { name: 'preset', fit: false },
    minZoom: 0.05,
    maxZoom: 4,
    boxSelectionEnabled: true,
    selectionType: 'single',
  } as cytoscape.CytoscapeOptions);
  ctx.wire(c);
  s.cy = c;
  return c;
}

/** Replaces what is drawn with `els`, keeping elements whose id (and parent, ends) stay. */
function sync(c: Core, els: ElementDefinition[]): void {
  const want = new Map(els.map((e) => [e.data.id as string, e]));
  c.batch(() => {
    const gone = c.collection();
    c.elements().forEach((ele) => {
      const w = want.get(ele.id());
      if (!w) gone.merge(ele);
      else if (ele.isNode() && ((ele.data('parent') as string | undefined) ?? null) !== ((w.data.parent as string | undefined) ?? null)) gone.merge(ele);
      else if (ele.isEdge() && (ele.data('source') !== w.data.source || ele.data('target') !== w.data.target)) gone.merge(ele);
    });
    c.remove(gone);
    const add: ElementDefinition[] = [];
    for (const e of els) {
      const have = c.getElementById(e.data.id as string);
      if (have.empty()) {
        add.push(e);
        continue;
      }
      have.data(e.data);
      have.classes(e.classes ?? '');
      if (e.position && have.isNode() && !have.isParent()) have.position(e.position);
    }
    if (add.length) c.add(add);
  });
}

export function draw(ctx: PanelContext, fitAfter: boolean): void {
  const s = ctx.state;
  const dom = ctx.dom;
  const d = s.current;
  if (!d) return;
  const c = controlsOf(s, d);
  dom.empty.hidden = true;
  dom.bar.hidden = false;
  dom.graphBox.hidden = false;
  dom.details.hidden = false;
  configureControls(dom, d, c);
  const { w, h } = size(ctx);
  s.drawnSize = { w, h };
  const scene = buildScene(d, c, s.colors, w, h);
  s.graph = scene.graph;
  s.base = scene.base;
  const changedOrientation = scene.orientation !== s.orientation;
  s.orientation = scene.orientation;
  const cyc = ensureCy(ctx);
  sync(cyc, scene.elements);
  dom.graphBox.dataset.runId = d.run.id;
  dom.graphBox.dataset.graphKind = d.kind;
  dom.panel.dataset.graphKind = d.kind;
  const summary = scene.graph.summary;
  dom.summary.replaceChildren(...summary.map((line, i) => el('div', { className: i === summary.length - 1 && i > 1 ? 'line muted' : 'line', title: line }, line)));
  dom.sliderValue.textContent = sliderText(d, c);
  dom.sliderValue.title = scene.graph.status;
  s.hovered = undefined;
  updateButtons(ctx);
  showDetails(ctx);
  if (fitAfter || changedOrientation) fit(ctx);
  setBodyState('ready');
}

/**
 * Fit (the button, F, a new run, a resize after Fit): the whole drawing while its smallest label stays readable,
 * else its entry corner at the readable zoom (fitView.ts).
 */
export function fit(ctx: PanelContext): void {
  const cy = ctx.state.cy;
  if (!cy) return;
  cy.resize();
  const eles = cy.elements();
  if (eles.nonempty()) {
    const bb = eles.boundingBox({ includeLabels: true, includeOverlays: false });
    let minFont = Infinity;
    eles.forEach((e) => {
      // Labelled nodes, and edges with a port letter (the only edge labels).
      if (!e.data(e.isNode() ? 'label' : 'port')) return;
      const px = parseFloat(String(e.style('font-size')));
      if (px > 0) minFont = Math.min(minFont, px);
    });
    cy.viewport(fitCircuits(bb, minFont, cy.width(), cy.height(), { padding: FIT_PADDING }));
  }
  ctx.state.fitted = true;
}

/** Redraws on the next animation frame (several control changes in one frame draw once), saving first. */
export function schedule(ctx: PanelContext): void {
  const s = ctx.state;
  if (s.frame) return;
  s.frame = requestAnimationFrame(() => {
    s.frame = 0;
    persist(ctx);
    draw(ctx, false);
  });
}
