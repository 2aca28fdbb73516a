/**
 * Redundant-neuron groups (ANALYSES.md §3, our labelled extension): the layer's units as nodes inside one box
 * per group, constant units (assignment −1) in a box of their own; any group can be folded into a single
 * supernode. Pure. The slider folds every group of at least n units (its right end folds none).
 */
import type { RedundancyResult } from '../../shared/results';
import { fmt } from './format';
import type { Controls, VGraph, VNode } from './model';

type Groups = NonNullable<RedundancyResult['groups']>;
type GroupsResult = RedundancyResult & { groups: Groups };

/** Unit box size (model units). */
export const UNIT_SIZE = 22;

/** The slider's range: folding starts at groups of 2 units; `max` (largest size + 1) folds none. */
export function groupsSliderRange(r: GroupsResult): { min: number; max: number } {
  return { min: 2, max: Math.max(2, ...r.groups.sizes) + 1 };
}

/** The groups the slider folds at n: those with at least n units (single units are never folded). */
export function foldedBySize(r: GroupsResult, n: number): number[] {
  const out: number[] = [];
  r.groups.sizes.forEach((s, g) => {
    if (s >= Math.max(2, n)) out.push(g);
  });
  return out;
}

export function groupsDefaults(r: GroupsResult): Controls {
  return { mode: 'size', value: groupsSliderRange(r).max, constantEdges: false, expanded: [], folds: [], folded: [], pinned: {} };
}

/** Groups in drawing order: largest first, ties by index. */
export function groupOrder(r: GroupsResult): number[] {
  return [...r.groups.sizes.keys()].sort((a, b) => r.groups.sizes[b] - r.groups.sizes[a] || a - b);
}

/** The node of unit u, the i-th member of its group box `parent` (group -1: the constant units). */
function unitNode(u: number, i: number, parent: string, group: number, info: string): VNode {
  return { id: `u:${u}`, kind: 'unit', column: -1, order: i, label: String(u), w: UNIT_SIZE, h: UNIT_SIZE, parent, group, unit: u, info: [info] };
}

export function groupsGraph(r: GroupsResult, c: Controls): VGraph {
  const g = r.groups;
  const folded = new Set(c.folded);
  const unitsOf = new Map<number, number[]>();
  g.assignment.forEach((a, u) => {
    const list = unitsOf.get(a) ?? [];
    list.push(u);
    unitsOf.set(a, list);
  });
  const nodes: VNode[] = [];
  const cohesionText = (k: number): string => `cohesion ${fmt(g.cohesion[k] ?? null)} (mean |corr| within the group)`;
  groupOrder(r).forEach((k, order) => {
    const units = unitsOf.get(k) ?? [];
    const size = g.sizes[k];
    if (folded.has(k) && size > 1) {
      const s = Math.round(UNIT_SIZE * Math.sqrt(size) * 0.9 + 12);
      nodes.push({
        id: `gf:${k}`,
        kind: 'foldedGroup',
        column: -1,
        order,
        label: `g${k} ×${size}`,
        w: Math.max(s, 48),
        h: s,
        group: k,
        size,
        cohesion: g.cohesion[k] ?? null,
        members: units.map((u) => `u:${u}`),
        info: [`group ${k} · ${size} units (folded) · ${cohesionText(k)}`, `units ${units.join(', ')}`],
      });
      return;
    }
    nodes.push({
      id: `grp:${k}`,
      kind: 'group',
      column: -1,
      order,
      label: `g${k} · ${size}`,
      w: 0,
      h: 0,
      group: k,
      size,
      cohesion: g.cohesion[k] ?? null,
      info: [`group ${k} · ${size} unit${size === 1 ? '' : 's'} · ${cohesionText(k)}`],
    });
    units.forEach((u, i) => nodes.push(unitNode(u, i, `grp:${k}`, k, `unit ${u} · group ${k} (${size} unit${size === 1 ? '' : 's'}, ${cohesionText(k)})`)));
  });
  const constant = unitsOf.get(-1) ?? [];
  if (constant.length) {
    nodes.push({
      id: 'grp:const',
      kind: 'group',
      column: -1,
      order: g.sizes.length,
      label: `constant · ${constant.length}`,
      w: 0,
      h: 0,
      group: -1,
      size: constant.length,
      info: [`${constant.length} constant unit${constant.length === 1 ? '' : 's'} (constant over train ∪ test, dropped before grouping)`],
    });
    constant.forEach((u, i) => nodes.push(unitNode(u, i, 'grp:const', -1, `unit ${u} · constant over train ∪ test (not grouped)`)));
  }
  const live = g.assignment.filter((a) => a >= 0).length;
  const summary = [
    `redundant-neuron groups · ${r.layer}`,
    `${g.count} groups of ${live} live units${constant.length ? ` · ${constant.length} constant` : ''} · clones ${fmt(r.clones)} (critical width ${fmt(r.criticalWidth)})`,
    `${g.method}, cut at ${fmt(g.threshold)} — ${g.label}`,
  ];
  const nFolded = nodes.filter((n) => n.kind === 'foldedGroup').length;
  const { max } = groupsSliderRange(r);
  const status = nFolded ? `${nFolded} group${nFolded === 1 ? '' : 's'} folded${c.value < max ? ` (slider: groups of ≥ ${c.value} units)` : ''}` : 'all groups unfolded';
  return { kind: 'groups', columns: [], nodes, edges: [], summary, status };
}
