/**
 * The threshold row for the drawn run: the mode picker's options (lib: mass % or top-n; circuit: circuit or
 * top-n; groups: none), the slider's range and reading, and the constant-edges checkbox.
 */
import { pct } from '../format';
import { groupsSliderRange } from '../groupsGraph';
import { libTopnMax } from '../libGraph';
import type { Controls, DrawableRun } from '../model';
import { custom, type PanelDom } from './dom';

export function configureControls(dom: PanelDom, d: DrawableRun, c: Controls): void {
  const { modeSelect, slider, sliderValue, constantBox } = dom;
  const modes: [string, string][] =
    d.kind === 'lib'
      ? [
          ['mass', 'mass %'],
          ['topn', 'top-n'],
        ]
      : d.kind === 'circuit'
        ? [
            ['circuit', 'circuit'],
            ['topn', 'top-n'],
          ]
        : [];
  modeSelect.hidden = !modes.length;
  const have = [...modeSelect.children].map((o) => o.getAttribute('value')).join();
  if (have !== modes.map((m) => m[0]).join()) {
    modeSelect.replaceChildren(
      ...modes.map(([v, label]) => {
        const o = custom('vscode-option', { value: v, selected: v === c.mode });
        o.textContent = label;
        return o;
      }),
    );
  }
  if (modes.length) (modeSelect as unknown as { value: string }).value = c.mode;
  const [min, max, step] = sliderRange(d, c);
  slider.min = String(min);
  slider.max = String(max);
  slider.step = String(step);
  slider.value = String(Math.min(max, Math.max(min, c.value)));
  slider.setAttribute(
    'aria-label',
    d.kind === 'lib' ? (c.mode === 'topn' ? 'Strongest edges per layer pair' : 'Share of edge mass per layer pair') : d.kind === 'circuit' ? 'Strongest edges by |score|' : 'Fold groups of at least this many units',
  );
  sliderValue.textContent = sliderText(d, c);
  constantBox.hidden = d.kind !== 'lib';
  (constantBox as unknown as { checked: boolean }).checked = c.constantEdges;
}

/** The slider's [min, max, step] for a run and mode. */
function sliderRange(d: DrawableRun, c: Controls): [number, number, number] {
  if (d.kind === 'lib') return c.mode === 'topn' ? [1, libTopnMax(d.result), 1] : [0.05, 1, 0.01];
  if (d.kind === 'circuit') return [1, Math.max(1, d.result.listedEdges), 1];
  const r = groupsSliderRange(d.result);
  return [r.min, r.max, 1];
}

export function sliderText(d: DrawableRun, c: Controls): string {
  if (d.kind === 'lib') return c.mode === 'topn' ? `top ${Math.floor(c.value)}` : pct(c.value);
  if (d.kind === 'circuit') return c.mode === 'topn' ? `top ${Math.floor(c.value)}` : `circuit (${d.result.circuit.edgeCount})`;
  return c.value >= groupsSliderRange(d.result).max ? 'none folded' : `≥ ${c.value} units`;
}
