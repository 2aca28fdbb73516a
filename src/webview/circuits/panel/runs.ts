/**
 * The runs the host sends: the run picker, choosing the run to draw (state.ts: setRuns), and the empty
 * state when there is nothing to draw.
 */
import type { RunRecord } from '../../../shared/results';
import { drawable, modelBase, type DrawableRun } from '../model';
import { persist, setBodyState, type PanelContext } from './context';
import { custom, el } from './dom';
import { draw } from './draw';
import { clearDrawn, pickRun, setRuns } from './state';

export function runLabel(d: DrawableRun): string {
  const e = d.run.envelope;
  const t = new Date(d.run.finishedAt);
  const time = Number.isNaN(t.getTime()) ? d.run.finishedAt : t.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  const what = d.kind === 'lib' ? 'LIB graph' : d.kind === 'circuit' ? 'circuit' : 'neuron groups';
  return `${what} · ${modelBase(e.model)} · ${time}`;
}

function fillRunSelect(ctx: PanelContext): void {
  const { runs, current } = ctx.state;
  const runSelect = ctx.dom.runSelect;
  runSelect.replaceChildren(
    ...runs.map((d) => {
      const o = custom('vscode-option', { value: d.run.id, description: d.run.id, selected: d === current });
      o.textContent = runLabel(d);
      return o;
    }),
  );
  if (current) (runSelect as unknown as { value: string }).value = current.run.id;
}

export function showEmpty(ctx: PanelContext): void {
  const dom = ctx.dom;
  clearDrawn(ctx.state);
  dom.bar.hidden = true;
  dom.graphBox.hidden = true;
  dom.details.hidden = true;
  dom.graphBox.removeAttribute('data-run-id');
  dom.graphBox.removeAttribute('data-graph-kind');
  dom.empty.replaceChildren(
    el('h2', {}, 'No graph to show'),
    ctx.bridge.standalone
      ? el('p', {}, 'This report has no LIB, attention-circuit or grouped redundancy run.')
      : el(
          'p',
          {},
          'Run ',
          el('strong', {}, 'Circuitscope: Run Analysis…'),
          ' → ',
          el('strong', {}, 'lib'),
          ' (an interaction graph) or ',
          el('strong', {}, 'circuit'),
          ' (an attention circuit). Redundancy with neuron groups draws here too. The newest such run appears in this panel.',
        ),
  );
  dom.empty.hidden = false;
  setBodyState('empty');
}

/** `runs` from the host: draws the run it shows (or keeps the user's pick), or the empty state. */
export function onRuns(ctx: PanelContext, list: RunRecord[], show: string | undefined): void {
  const s = ctx.state;
  const runs = list.map(drawable).filter((d): d is DrawableRun => !!d);
  if (!runs.length) {
    s.runs = runs;
    s.saved.hostShow = show;
    persist(ctx);
    showEmpty(ctx);
    return;
  }
  const changed = setRuns(s, runs, show);
  persist(ctx);
  fillRunSelect(ctx);
  draw(ctx, changed);
}

/** `clear` from the host. */
export function clearRuns(ctx: PanelContext): void {
  ctx.state.runs = [];
  showEmpty(ctx);
}

/** The run picker: draws the picked run, fitted. */
export function wireRunSelect(ctx: PanelContext): void {
  const runSelect = ctx.dom.runSelect;
  runSelect.addEventListener('change', () => {
    if (!pickRun(ctx.state, (runSelect as unknown as { value: string }).value)) return;
    persist(ctx);
    draw(ctx, true);
  });
}
