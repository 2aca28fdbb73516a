/**
 * Where the view starts and where Fit goes: pure geometry over the layout's boxes, no DOM.
 *
 * A whole drawing fitted into the viewport is only useful while its labels can be read: Fit on a 440-operator
 * chain used to zoom to 0.03, a hairline. Below {@link READABLE_ZOOM} the view shows the entry region instead
 * — the top of the drawing, where the inputs are — at the largest readable zoom that fits the width of what
 * that first screen shows, centred on it; the rest is reached by scrolling, the minimap or zooming out.
 */

export interface ViewBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface Viewport {
  zoom: number;
  pan: { x: number; y: number };
}

/**
 * Item boxes (centres and sizes, as the layout gives them). Boxes before `firstItem` are compound boxes
 * (the layout request puts them first): they frame items and are not themselves content to show.
 */
export interface ItemBoxes {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  width: ArrayLike<number>;
  height: ArrayLike<number>;
  firstItem?: number;
}

/** The smallest zoom at which operator labels (12 px) stay readable (≈ 7 px on screen). */
export const READABLE_ZOOM = 0.6;

export interface FitOptions {
  padding?: number;
  maxZoom?: number;
  minZoom?: number;
}

/**
 * The viewport for the first view and for Fit: the whole drawing when it fits at a readable zoom (at most
 * `maxZoom`), else the entry region (see the file comment).
 */
export function fitViewport(boxes: ItemBoxes, bounds: ViewBox, width: number, height: number, opts: FitOptions = {}): Viewport {
  const pad = opts.padding ?? 24;
  const maxZoom = opts.maxZoom ?? 1.25;
  const minZoom = opts.minZoom ?? READABLE_ZOOM;
  const W = Math.max(1, width - 2 * pad);
  const H = Math.max(1, height - 2 * pad);
  const bw = Math.max(1, bounds.x2 - bounds.x1);
  const bh = Math.max(1, bounds.y2 - bounds.y1);
  const whole = Math.min(maxZoom, W / bw, H / bh);
  if (whole >= minZoom) return centred(bounds, whole, width, height);
  // The band the first screen shows from the top; its zoom fits the band's width (readable, at most 1).
  let zoom = Math.max(minZoom, Math.min(1, maxZoom, W / bw));
  let band = bandExtent(boxes, bounds, bounds.y1 + H / zoom);
  // A smaller zoom shows a taller band, which may be wider: zoom only ever decreases, down to minZoom.
  for (let k = 0; k < 12 && band; k++) {
    const z = Math.max(minZoom, Math.min(zoom, W / Math.max(1, band.x2 - band.x1)));
    if (z >= zoom - 1e-9) break;
    zoom = z;
    band = bandExtent(boxes, bounds, bounds.y1 + H / zoom);
  }
  let cx = (bounds.x1 + bounds.x2) / 2;
  if (band) {
    if ((band.x2 - band.x1) * zoom <= W) cx = (band.x1 + band.x2) / 2;
    else {
      // wider than the screen even at the readable zoom: centre on the entry row (the topmost items)
      const top = bandExtent(boxes, bounds, band.top + 1) ?? band;
      const half = W / zoom / 2;
      // the entry row in view; of the band, its left edge too where the entry row leaves room for it
      cx = Math.max(top.x2 - half, Math.min((top.x1 + top.x2) / 2, band.x1 + half));
    }
  }
  return { zoom, pan: { x: width / 2 - cx * zoom, y: pad - bounds.y1 * zoom } };
}

/** cytoscape's zoom floor for graphs whose whole drawing fits above it (graphView.ts's `minZoom`). */
export const ZOOM_FLOOR = 0.02;

/**
 * The smallest zoom the view allows for a drawing: {@link ZOOM_FLOOR}, or lower where the whole drawing needs
 * less to fit — zooming out (−, the wheel) must reach the overview. A 100k-operator drawing is millions of units
 * tall: clamped at 0.02 it could never be seen whole (a windowed view's far layer draws it at any zoom).
 */
export function zoomFloor(bounds: ViewBox, width: number, height: number, padding = 24): number {
  const bw = Math.max(1, bounds.x2 - bounds.x1);
  const bh = Math.max(1, bounds.y2 - bounds.y1);
  const whole = Math.min(Math.max(1, width - 2 * padding) / bw, Math.max(1, height - 2 * padding) / bh);
  // Half the whole-drawing zoom: room to zoom out a little past it, as above the floor.
  return Math.min(ZOOM_FLOOR, whole / 2);
}

function centred(b: ViewBox, zoom: number, width: number, height: number): Viewport {
  return { zoom, pan: { x: width / 2 - ((b.x1 + b.x2) / 2) * zoom, y: height / 2 - ((b.y1 + b.y2) / 2) * zoom } };
}

/** The horizontal extent of the items whose tops lie above `yMax` (wholly or partly on the first screen). */
function bandExtent(boxes: ItemBoxes, bounds: ViewBox, yMax: number): { x1: number; x2: number; top: number } | undefined {
  let x1 = Infinity;
  let x2 = -Infinity;
  let top = Infinity;
  for (let i = boxes.firstItem ?? 0; i < boxes.x.length; i++) {
    const t = boxes.y[i] - boxes.height[i] / 2;
    if (t > yMax) continue;
    x1 = Math.min(x1, boxes.x[i] - boxes.width[i] / 2);
    x2 = Math.max(x2, boxes.x[i] + boxes.width[i] / 2);
    top = Math.min(top, t);
  }
  if (x1 > x2) return undefined;
  return { x1: Math.max(x1, bounds.x1), x2: Math.min(x2, bounds.x2), top };
}

/** Screen box of item i under a viewport. */
export function screenBox(boxes: ItemBoxes, i: number, v: Viewport): ViewBox {
  const x = boxes.x[i] * v.zoom + v.pan.x;
  const y = boxes.y[i] * v.zoom + v.pan.y;
  const w = (boxes.width[i] * v.zoom) / 2;
  const h = (boxes.height[i] * v.zoom) / 2;
  return { x1: x - w, y1: y - h, x2: x + w, y2: y + h };
}
