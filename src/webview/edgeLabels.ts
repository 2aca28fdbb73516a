/**
 * Edge label placement without overlap: pure geometry over the layout, no DOM.
 *
 * Every edge's shape label is drawn by cytoscape as a `source-label` at a distance along the edge from its
 * source's border (`source-text-offset`), so one rule places labels on straight and bent edges alike. Where
 * branches join, the edges' midpoints crowd together and their labels piled up; here each label takes the
 * first of a few positions along its edge (middle, nearer the source, nearer the target, …) whose box
 * overlaps no operator, no block title and no label placed before it, and is left out when none is free
 * (the inspector still shows every shape).
 */

export interface LabelBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface EdgeLabelInput {
  /** Polyline from the source's centre through the bends to the target's centre: x0, y0, x1, y1, … */
  points: ArrayLike<number>;
  /** Half sizes of the source and target boxes (the polyline is clipped to their borders). */
  source: { hw: number; hh: number };
  target: { hw: number; hh: number };
  /** Label size on screen at zoom 1 (px). */
  w: number;
  h: number;
}

/** Candidate positions as fractions of the free length of the edge, in order of preference. */
const FRACTIONS = [0.5, 0.3, 0.7, 0.15, 0.85];

/**
 * For each edge, the distance along it from its source's border at which to centre its label, or -1 when
 * every candidate position would overlap an obstacle or an earlier label. `obstacles`: operator boxes and
 * block titles.
 */
export function placeEdgeLabels(edges: readonly EdgeLabelInput[], obstacles: readonly LabelBox[]): Float64Array {
  const grid = new BoxGrid(64);
  for (const o of obstacles) grid.add(o);
  const out = new Float64Array(edges.length).fill(-1);
  edges.forEach((e, k) => {
    const path = clippedPath(e);
    if (!path) return;
    const margin = e.h / 2 + 1;
    const lo = Math.min(path.length / 2, margin + 2);
    const hi = Math.max(path.length / 2, path.length - margin - 6); // room for the arrow head
    for (const f of FRACTIONS) {
      const d = lo + (hi - lo) * f;
      const p = pointAt(path, d);
      const box = { x1: p.x - e.w / 2, y1: p.y - e.h / 2, x2: p.x + e.w / 2, y2: p.y + e.h / 2 };
      if (grid.hits(box)) continue;
      grid.add(box);
      out[k] = d;
      return;
    }
  });
  return out;
}

interface Path {
  xs: number[];
  ys: number[];
  /** Cumulative lengths at each point. */
  at: number[];
  length: number;
}

/** The polyline between the source's and the target's borders (undefined when the boxes overlap). */
function clippedPath(e: EdgeLabelInput): Path | undefined {
  const n = Math.floor(e.points.length / 2);
  if (n < 2) return undefined;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    xs.push(e.points[2 * i]);
    ys.push(e.points[2 * i + 1]);
  }
  const a = exitPoint(xs[0], ys[0], xs[1], ys[1], e.source.hw, e.source.hh);
  const b = exitPoint(xs[n - 1], ys[n - 1], xs[n - 2], ys[n - 2], e.target.hw, e.target.hh);
  xs[0] = a.x;
  ys[0] = a.y;
  xs[n - 1] = b.x;
  ys[n - 1] = b.y;
  const at = [0];
  for (let i = 1; i < n; i++) at.push(at[i - 1] + Math.hypot(xs[i] - xs[i - 1], ys[i] - ys[i - 1]));
  const length = at[n - 1];
  return length > 0 ? { xs, ys, at, length } : undefined;
}

/** Where the segment from a box's centre (cx, cy) towards (tx, ty) leaves the box of half sizes hw × hh. */
function exitPoint(cx: number, cy: number, tx: number, ty: number, hw: number, hh: number): { x: number; y: number } {
  const dx = tx - cx;
  const dy = ty - cy;
  const s = Math.min(dx ? hw / Math.abs(dx) : Infinity, dy ? hh / Math.abs(dy) : Infinity, 1);
  return { x: cx + dx * s, y: cy + dy * s };
}

function pointAt(p: Path, d: number): { x: number; y: number } {
  let i = 1;
  while (i < p.at.length - 1 && p.at[i] < d) i++;
  const seg = p.at[i] - p.at[i - 1];
  const t = seg > 0 ? Math.min(1, Math.max(0, (d - p.at[i - 1]) / seg)) : 0;
  return { x: p.xs[i - 1] + (p.xs[i] - p.xs[i - 1]) * t, y: p.ys[i - 1] + (p.ys[i] - p.ys[i - 1]) * t };
}

/** A uniform grid of boxes for overlap queries. */
class BoxGrid {
  private readonly cells = new Map<string, LabelBox[]>();
  constructor(private readonly size: number) {}

  private keys(b: LabelBox): string[] {
    const out: string[] = [];
    for (let gx = Math.floor(b.x1 / this.size); gx <= Math.floor(b.x2 / this.size); gx++) {
      for (let gy = Math.floor(b.y1 / this.size); gy <= Math.floor(b.y2 / this.size); gy++) out.push(`${gx},${gy}`);
    }
    return out;
  }

  add(b: LabelBox): void {
    for (const k of this.keys(b)) {
      const list = this.cells.get(k);
      if (list) list.push(b);
      else this.cells.set(k, [b]);
    }
  }

  hits(b: LabelBox): boolean {
    for (const k of this.keys(b)) {
      for (const o of this.cells.get(k) ?? []) if (b.x1 < o.x2 && b.x2 > o.x1 && b.y1 < o.y2 && b.y2 > o.y1) return true;
    }
    return false;
  }
}

/** What {@link edgeLabelOffsets} reads of a layout (src/shared/layoutProtocol.ts's LayoutResult has it all). */
export interface LabelLayout {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  width: ArrayLike<number>;
  height: ArrayLike<number>;
  bendStart: ArrayLike<number>;
  bends: ArrayLike<number>;
}

/**
 * Offsets for the labels of a drawn graph: `labels[e]` is edge e's text (undefined: none), `ends[e]` its
 * source and target layout indices; layout items before `firstItem` are compound boxes, whose titles
 * (`titles[c]`, drawn top-left) are obstacles. `measure` gives a label's width at the edge font, `titleWidth`
 * a block title's.
 */
export function edgeLabelOffsets(
  layout: LabelLayout,
  firstItem: number,
  titles: readonly string[],
  ends: readonly [number, number][],
  labels: readonly (string | undefined)[],
  measure: (text: string) => number,
  titleWidth: (text: string) => number = (t) => t.length * 6.8,
): Float64Array {
  const obstacles: LabelBox[] = [];
  for (let i = 0; i < layout.x.length; i++) {
    const x1 = layout.x[i] - layout.width[i] / 2;
    const y1 = layout.y[i] - layout.height[i] / 2;
    // cytoscape draws a compound 12 px of padding (+ border) outside its layout box, its title in that
    // top band (graphView.ts): from 2 px left of the layout box's left edge, centred ≈ 6 px above its top
    if (i < firstItem) obstacles.push({ x1: x1 - 6, y1: y1 - 16, x2: x1 + 2 + titleWidth(titles[i] ?? ''), y2: y1 + 4 });
    else obstacles.push({ x1: x1 - 2, y1: y1 - 2, x2: x1 + layout.width[i] + 2, y2: y1 + layout.height[i] + 2 });
  }
  const which: number[] = [];
  const inputs: EdgeLabelInput[] = [];
  ends.forEach(([s, t], e) => {
    const text = labels[e];
    if (!text) return;
    const points = [layout.x[s], layout.y[s]];
    for (let k = layout.bendStart[e]; k < layout.bendStart[e + 1]; k++) points.push(layout.bends[2 * k], layout.bends[2 * k + 1]);
    points.push(layout.x[t], layout.y[t]);
    which.push(e);
    inputs.push({ points, source: { hw: layout.width[s] / 2, hh: layout.height[s] / 2 }, target: { hw: layout.width[t] / 2, hh: layout.height[t] / 2 }, w: measure(text) + 4, h: 12 });
  });
  const placed = placeEdgeLabels(inputs, obstacles);
  const out = new Float64Array(ends.length).fill(-1);
  which.forEach((e, k) => (out[e] = placed[k]));
  return out;
}
