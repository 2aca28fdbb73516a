/**
 * The layout problem of a visible graph (viewModel.ts): compounds first, then items, sized from their labels
 * by a text measure (the webview's canvas; benchmarks and tests in Node pass an estimate).
 */
import type { LayoutRequest } from './layout';
import type { VisibleGraph } from './viewModel';

/** The layout problem of a visible graph: compounds first, then items; sizes from their labels. */
export function buildLayoutRequest(v: VisibleGraph, family: string, textWidth: (text: string, font: string) => number): { req: LayoutRequest; itemIndex: Map<string, number> } {
  const n = v.compounds.length + v.items.length;
  const itemIndex = new Map<string, number>();
  v.compounds.forEach((c, i) => itemIndex.set(c.id, i));
  v.items.forEach((it, i) => itemIndex.set(it.id, v.compounds.length + i));
  const parent = new Int32Array(n).fill(-1);
  const isCompound = new Uint8Array(n);
  const width = new Float64Array(n);
  const height = new Float64Array(n);
  v.compounds.forEach((c, i) => {
    isCompound[i] = 1;
    parent[i] = c.parent ? itemIndex.get(c.parent)! : -1;
    const label = c.repeat ? `${c.label}   ⟳ ${c.repeat.index}/${c.repeat.count}` : c.label;
    width[i] = textWidth(label, `bold 11px ${family}`) + 24;
  });
  v.items.forEach((it, j) => {
    const i = v.compounds.length + j;
    parent[i] = it.parent ? itemIndex.get(it.parent)! : -1;
    const font = it.kind === 'group' ? `bold 12px ${family}` : `12px ${family}`;
    const lines = [it.label];
    if (it.kind === 'group') lines.push(`${it.repeat ? `⟳ ${it.repeat.index}/${it.repeat.count} · ` : ''}${it.detail ?? ''}`);
    else if (it.detail) lines.push(it.detail);
    let w = 0;
    for (const l of lines) w = Math.max(w, textWidth(l, font));
    width[i] = Math.max(it.kind === 'op' ? 56 : 72, Math.ceil(w) + (it.kind === 'group' ? 28 : 20));
    height[i] = lines.length > 1 ? 42 : 28;
  });
  const m = v.edges.length;
  const edgeSource = new Int32Array(m);
  const edgeTarget = new Int32Array(m);
  v.edges.forEach((e, k) => {
    edgeSource[k] = e.sourceAt ?? itemIndex.get(e.source)!;
    edgeTarget[k] = e.targetAt ?? itemIndex.get(e.target)!;
  });
  return { req: { n, parent, isCompound, width, height, edgeSource, edgeTarget }, itemIndex };
}
