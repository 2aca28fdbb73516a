/**
 * From a run and the user's controls to what cytoscape draws: the visible graph (built, folded), its
 * positions (layered or packed, pinned nodes where the user left them) and the element definitions with
 * every visual attribute as data. Pure: view.ts only hands the elements to cytoscape.
 */
import type { ElementDefinition } from 'cytoscape';
import { circuitDefaults, circuitGraph } from './circuitGraph';
import { readableZoom } from './fitView';
import { foldGraph } from './fold';
import { groupsDefaults, groupsGraph } from './groupsGraph';
import { bendSide, chooseOrientation, edgeBend, layeredLayout, packGroups, ROW_NAME_ROOM, stageGap, PACK_LABEL, PACK_PAD, type Box, type Orientation, type PackInput, type Point } from './layout';
import { libDefaults, libGraph } from './libGraph';
import type { Controls, DrawableRun, VGraph, VNode } from './model';
import type { CircuitsColors } from './style';

export function defaultsFor(d: DrawableRun): Controls {
  switch (d.kind) {
    case 'lib':
      return libDefaults(d.result);
    case 'circuit':
      return circuitDefaults(d.result);
    case 'groups':
      return groupsDefaults(d.result);
  }
}

/** The graph before user folds (what selections and folds refer to) and after. */
export function visibleGraph(d: DrawableRun, c: Controls): { base: VGraph; graph: VGraph } {
  switch (d.kind) {
    case 'lib': {
      const base = libGraph(d.result, c);
      return { base, graph: foldGraph(base, c.folds) };
    }
    case 'circuit': {
      const base = circuitGraph(d.result, c);
      return { base, graph: foldGraph(base, c.folds) };
    }
    case 'groups': {
      const g = groupsGraph(d.result, c);
      return { base: g, graph: g };
    }
  }
}

export interface Scene {
  base: VGraph;
  graph: VGraph;
  elements: ElementDefinition[];
  orientation?: Orientation;
  positions: Map<string, Point>;
  bounds: Box;
}

const SHAPE: Record<VNode['kind'], string> = {
  direction: 'ellipse',
  constant: 'ellipse',
  overflow: 'round-rectangle',
  fold: 'round-rectangle',
  input: 'round-rectangle',
  logits: 'round-rectangle',
  head: 'ellipse',
  mlp: 'rectangle',
  unit: 'ellipse',
  group: 'round-rectangle',
  foldedGroup: 'round-rectangle',
};

/** The smallest label font of a drawing (px at zoom 1): node labels, the edges' port letters (style.ts). */
export const MIN_FONT_PX = 9;
/** Fit's padding around the drawing (px; panel/draw.ts). */
export const FIT_PADDING = 16;

/** A rough text width for header boxes (the canvas measures real text; this only sizes hover targets). */
const textWidth = (s: string, px: number): number => s.length * px * 0.6 + 6;

function nodeData(n: VNode, c: CircuitsColors): Record<string, unknown> {
  const hc = c.kind.startsWith('high-contrast');
  const supern = n.kind === 'fold' || n.kind === 'overflow' || n.kind === 'foldedGroup';
  const emphasised = n.inCircuit === true;
  const fill = n.kind === 'group' ? (n.group === -1 ? c.background : c.groupFill(n.cohesion)) : c.fill[n.kind];
  const stroke = n.kind === 'group' && n.group === -1 ? c.muted : c.stroke[n.kind];
  // Never under MIN_FONT_PX: Fit zooms so the smallest label is readable (fitView.ts), a smaller one would force
  // a larger zoom on the whole drawing.
  const fs = n.kind === 'direction' || n.kind === 'constant' ? Math.max(MIN_FONT_PX, Math.min(12, n.w * 0.5)) : n.kind === 'unit' ? MIN_FONT_PX : 10;
  return {
    id: n.id,
    ...(n.parent ? { parent: n.parent } : {}),
    kind: n.kind,
    label: n.label,
    w: n.w,
    h: n.h,
    shape: SHAPE[n.kind],
    fill,
    stroke,
    bw: supern ? 3 : emphasised ? (hc ? 3 : 2.5) : hc ? 2 : 1.2,
    bs: supern ? 'double' : n.kind === 'constant' || (n.kind === 'group' && n.group === -1) ? 'dashed' : 'solid',
    fs,
  };
}

/** The distance from column `i`'s axis to its nearest neighbour's (all the room its name has; 120 when alone). */
function columnPitch(lay: { headers: Point[] }, i: number): number {
  const h = lay.headers;
  const d = [i > 0 ? h[i].x - h[i - 1].x : Infinity, i + 1 < h.length ? h[i + 1].x - h[i].x : Infinity];
  const m = Math.min(...d);
  return Number.isFinite(m) ? m : 126;
}

/**
 * Everything cytoscape needs for `d` under controls `c`, laid out for a `viewW` × `viewH` panel. Pinned nodes
 * take their pinned positions.
 */
export function buildScene(d: DrawableRun, c: Controls, colors: CircuitsColors, viewW: number, viewH: number): Scene {
  const { base, graph } = visibleGraph(d, c);
  const els: ElementDefinition[] = [];
  let positions: Map<string, Point>;
  let bounds: Box;
  let orientation: Orientation | undefined;
  if (graph.kind === 'groups') {
    const inputs: PackInput[] = [];
    const children = new Map<string, VNode[]>();
    for (const n of graph.nodes) if (n.parent) children.set(n.parent, [...(children.get(n.parent) ?? []), n]);
    for (const n of graph.nodes) {
      if (n.parent) continue;
      const kids = children.get(n.id);
      inputs.push({ id: n.id, w: n.w, h: n.h, minW: textWidth(n.label, 10) + 8, ...(kids ? { children: kids.map((k) => ({ id: k.id, w: k.w, h: k.h })) } : {}) });
    }
    // Shelves as wide as the panel shows at the readable zoom: a big drawing scrolls down, never sideways.
    const packed = packGroups(inputs, viewW, viewH, Math.max(1, viewW - 2 * FIT_PADDING) / readableZoom(MIN_FONT_PX));
    positions = packed.positions;
    bounds = packed.bounds;
    for (const n of graph.nodes) {
      const data = nodeData(n, colors);
      if (n.kind === 'group') {
        // The box's inner size (label room excluded): cytoscape grows the compound to at least this.
        const b = packed.boxes.get(n.id)!;
        // (cytoscape adds its padding around min-width / min-height.)
        data.w = b.x2 - b.x1 - 2 * PACK_PAD;
        data.h = b.y2 - b.y1 - PACK_LABEL - 2 * PACK_PAD;
        els.push({ group: 'nodes', data, classes: 'group' });
      } else {
        els.push({ group: 'nodes', data, position: { ...positions.get(n.id)! }, classes: n.kind });
      }
    }
  } else {
    const items = graph.nodes.map((n) => ({ id: n.id, column: n.column, order: n.order, w: n.w, h: n.h }));
    orientation = chooseOrientation(items, graph.columns.length, viewW, viewH);
    // The stages as close as needed for the main axis to fit the panel at the readable zoom (not below 40 apart).
    const gap = stageGap(items, graph.columns.length, orientation, viewW, viewH, readableZoom(MIN_FONT_PX), FIT_PADDING);
    // Rows: as much room on the left as the longest row name takes (its right end 14 left of the row, 4 spare).
    const nameRoom = Math.min(ROW_NAME_ROOM, 18 + Math.max(0, ...graph.columns.map((col) => Math.min(86, textWidth(col.label, 12)))));
    const lay = layeredLayout(items, graph.columns.length, orientation, gap, nameRoom);
    positions = lay.positions;
    bounds = lay.bounds;
    graph.columns.forEach((col, i) => {
      const p = lay.headers[i];
      // A column's name may be as wide as the column and the gap beside it (less the names' spacing).
      const tw = orientation === 'columns' ? Math.min(120, columnPitch(lay, i) - 6) : Math.min(86, textWidth(col.label, 12));
      const w = Math.min(tw, textWidth(col.label, 12));
      const x = orientation === 'columns' ? p.x : p.x - w / 2;
      els.push({
        group: 'nodes',
        data: { id: `hdr:${i}`, kind: 'header', column: i, label: col.label, w, h: 16, shape: 'rectangle', fill: colors.background, stroke: colors.background, bw: 0, bs: 'solid', fs: 11, th: 'center', tw },
        position: { x, y: p.y },
        classes: col.expanded ? 'header expanded' : 'header',
        selectable: false,
        grabbable: false,
      });
    });
    for (const n of graph.nodes) {
      const cls: string[] = [n.kind];
      if (n.faded) cls.push('faded');
      els.push({ group: 'nodes', data: nodeData(n, colors), position: { ...positions.get(n.id)! }, classes: cls.join(' ') });
    }
    const hc = colors.kind.startsWith('high-contrast');
    let max = 0;
    for (const e of graph.edges) if (!e.constant) max = Math.max(max, e.weight);
    const columnOf = new Map(graph.nodes.map((n) => [n.id, n.column]));
    for (const e of graph.edges) {
      const t = max > 0 ? Math.min(1, e.weight / max) : 1;
      const data: Record<string, unknown> = { id: e.id, source: e.source, target: e.target, weight: e.weight, width: 0.6 + 5.4 * t };
      const cls: string[] = [];
      if (graph.kind === 'lib') {
        data.color = e.constant ? colors.muted : colors.libEdge;
        data.op = hc ? 1 : 0.25 + 0.75 * t;
        data.arrow = 'none';
        if (e.constant) cls.push('constant');
      } else {
        data.color = (e.score ?? 0) >= 0 ? colors.positive : colors.negative;
        data.op = e.inCircuit ? 0.95 : hc ? 0.7 : 0.25 + 0.35 * t;
        data.arrow = 'triangle';
        if (e.port) data.port = e.port;
        if (!e.inCircuit) cls.push('faded');
        const span = (columnOf.get(e.target) ?? 0) - (columnOf.get(e.source) ?? 0);
        const bend = edgeBend(span, e.port, bendSide(orientation, positions.get(e.source) ?? { x: 0, y: 0 }, positions.get(e.target) ?? { x: 0, y: 0 }));
        if (bend !== 0) {
          data.cpd = bend;
          cls.push('bent');
        }
      }
      els.push({ group: 'edges', data, classes: cls.join(' ') });
    }
  }
  // Pinned nodes stay where the user left them.
  for (const el of els) {
    const p = c.pinned[el.data.id as string];
    if (p && el.position) {
      el.position = { ...p };
      el.classes = `${el.classes ?? ''} pinned`.trim();
      positions.set(el.data.id as string, { ...p });
    }
  }
  return { base, graph, elements: els, ...(orientation ? { orientation } : {}), positions, bounds };
}
