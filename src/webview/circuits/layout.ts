/**
 * Deterministic positions for the circuits panel (preset positions for cytoscape). Pure.
 *
 * - {@link layeredLayout}: one column (or row) per node layer / circuit stage, nodes stacked in their `order`,
 *   each column centred on the stream's axis; boxes never overlap (a gap of {@link GAP} between neighbours).
 * - {@link chooseOrientation}: columns side by side or rows top to bottom, whichever fits the panel at the
 *   larger zoom (a tall side panel gets columns for the 24-direction LIB layers).
 * - {@link packGroups}: redundancy group boxes packed in shelves to the panel's aspect ratio.
 */

export interface LayoutItem {
  id: string;
  column: number;
  order: number;
  w: number;
  h: number;
}

export type Orientation = 'columns' | 'rows';

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface LayeredLayout {
  orientation: Orientation;
  positions: Map<string, Point>;
  /** Where each column's name goes (above a column; left of a row). */
  headers: Point[];
  bounds: Box;
}

/** Space between neighbours in a column. */
export const GAP = 7;
/** Space between columns (room for the edges between them). */
export const COLUMN_GAP = 84;
/** Room for the column names. */
export const HEADER_ROOM = 30;

function byColumn(items: readonly LayoutItem[], columns: number): LayoutItem[][] {
  const cols: LayoutItem[][] = Array.from({ length: columns }, () => []);
  for (const it of items) if (it.column >= 0 && it.column < columns) cols[it.column].push(it);
  for (const c of cols) c.sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return cols;
}

/** The drawing's size in each orientation, without headers. */
function extentOf(cols: LayoutItem[][], o: Orientation): { main: number; cross: number } {
  let main = 0;
  let cross = 0;
  cols.forEach((c, i) => {
    const thick = Math.max(40, ...c.map((n) => (o === 'columns' ? n.w : n.h)));
    main += thick + (i ? COLUMN_GAP : 0);
    let len = 0;
    c.forEach((n, k) => (len += (o === 'columns' ? n.h : n.w) + (k ? GAP : 0)));
    cross = Math.max(cross, len);
  });
  return { main, cross };
}

/** Columns or rows, whichever shows the drawing larger in a `viewW` × `viewH` panel (ties: columns). */
export function chooseOrientation(items: readonly LayoutItem[], columns: number, viewW: number, viewH: number): Orientation {
  const cols = byColumn(items, columns);
  const c = extentOf(cols, 'columns');
  const r = extentOf(cols, 'rows');
  const zoomColumns = Math.min(viewW / Math.max(1, c.main + 40), viewH / Math.max(1, c.cross + HEADER_ROOM + 40));
  const zoomRows = Math.min(viewW / Math.max(1, r.cross + 120), viewH / Math.max(1, r.main + 40));
  return zoomRows > zoomColumns * 1.05 ? 'rows' : 'columns';
}

/** Where {@link stageGap} stops narrowing the space between columns (rows): edges between them must stay apart. */
export const MIN_COLUMN_GAP = 40;

/**
 * The space between columns (rows) that lets the drawing's main axis — its width in columns, its height in rows —
 * fit a `viewW` × `viewH` panel at `zoom` (Fit's readable zoom), between {@link MIN_COLUMN_GAP} and
 * {@link COLUMN_GAP}: a narrow side panel shows every layer of a LIB graph side by side, scrolling down only.
 * `pad`: Fit's padding on each side (px).
 */
export function stageGap(items: readonly LayoutItem[], columns: number, orientation: Orientation, viewW: number, viewH: number, zoom: number, pad = 16): number {
  if (columns < 2) return COLUMN_GAP;
  const cols = byColumn(items, columns);
  let thick = 0;
  for (const c of cols) thick += Math.max(40, ...c.map((n) => (orientation === 'columns' ? n.w : n.h)));
  // (the column names stand above the columns and left of the rows: never in the main axis)
  const room = (Math.max(1, (orientation === 'columns' ? viewW : viewH) - 2 * pad) / zoom - thick) / (columns - 1);
  return Math.max(MIN_COLUMN_GAP, Math.min(COLUMN_GAP, Math.floor(room)));
}

/** Room left of the rows for their names (the longest name's width + 14 where the caller measures them). */
export const ROW_NAME_ROOM = 90;

/**
 * Positions of `items` (centres) in `columns` columns, or rows when `orientation` is 'rows', `gap` apart
 * (default {@link COLUMN_GAP}); rows leave `rowNameRoom` on their left for their names.
 */
export function layeredLayout(items: readonly LayoutItem[], columns: number, orientation: Orientation, gap = COLUMN_GAP, rowNameRoom = ROW_NAME_ROOM): LayeredLayout {
  const cols = byColumn(items, columns);
  const positions = new Map<string, Point>();
  const headers: Point[] = [];
  const colMain: number[] = [];
  let at = 0;
  cols.forEach((c, i) => {
    const thick = Math.max(40, ...c.map((n) => (orientation === 'columns' ? n.w : n.h)));
    if (i) at += gap;
    colMain.push(at + thick / 2);
    at += thick;
  });
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  cols.forEach((c, i) => {
    const len = c.reduce((s, n, k) => s + (orientation === 'columns' ? n.h : n.w) + (k ? GAP : 0), 0);
    let p = -len / 2;
    for (const n of c) {
      const ext = orientation === 'columns' ? n.h : n.w;
      const cross = p + ext / 2;
      const pos = orientation === 'columns' ? { x: colMain[i], y: cross } : { x: cross, y: colMain[i] };
      positions.set(n.id, pos);
      x1 = Math.min(x1, pos.x - n.w / 2);
      x2 = Math.max(x2, pos.x + n.w / 2);
      y1 = Math.min(y1, pos.y - n.h / 2);
      y2 = Math.max(y2, pos.y + n.h / 2);
      p += ext + GAP;
    }
  });
  if (!Number.isFinite(x1)) x1 = y1 = x2 = y2 = 0;
  cols.forEach((_, i) => headers.push(orientation === 'columns' ? { x: colMain[i], y: y1 - HEADER_ROOM / 2 - 4 } : { x: x1 - 14, y: colMain[i] }));
  const bounds = orientation === 'columns' ? { x1, y1: y1 - HEADER_ROOM, x2, y2 } : { x1: x1 - rowNameRoom, y1, x2, y2 };
  return { orientation, positions, headers, bounds };
}

/**
 * The control-point distance of an edge drawn as a bezier (cytoscape `control-point-distances`): edges that
 * skip columns bow out by their span — to `side` (+1 or −1: away from the stream's axis) — so they pass beside
 * the stages they skip; the q/k/v edges into one head spread apart so each port reads on its own.
 */
export function edgeBend(span: number, port: string | undefined, side = 1): number {
  const portShift = port === 'q' ? -1 : port === 'v' ? 1 : 0;
  return (Math.abs(span) > 1 ? side * 22 * (Math.abs(span) - 1) : 0) + 9 * portShift;
}

/**
 * Which way an edge between two points bows to leave the axis (cytoscape's positive distance is to the
 * right of the source → target direction): away from the stream's centre line.
 */
export function bendSide(orientation: Orientation, source: Point, target: Point): number {
  const cross = orientation === 'columns' ? (source.y + target.y) / 2 : (source.x + target.x) / 2;
  const along = orientation === 'columns' ? target.x - source.x : target.y - source.y;
  // Right of the direction of travel is +y when travelling +x (columns) and −x when travelling +y (rows).
  const right = orientation === 'columns' ? Math.sign(along) || 1 : -(Math.sign(along) || 1);
  return (cross >= 0 ? 1 : -1) * right;
}

export interface PackInput {
  id: string;
  /** The box's own size (a folded group's node) when it has no children. */
  w: number;
  h: number;
  /** Children (units) laid out in a grid inside the box, in order. */
  children?: { id: string; w: number; h: number }[];
  /** Smallest width of the box (its label's width). */
  minW?: number;
}

export interface PackResult {
  positions: Map<string, Point>;
  /** Each input's allocated box (label room included). */
  boxes: Map<string, Box>;
  bounds: Box;
}

/** Padding inside a group box and room for its label above it. */
export const PACK_PAD = 6;
export const PACK_LABEL = 16;
export const PACK_GAP = 14;

/**
 * Shelf packing of group boxes (in input order) to about the panel's aspect ratio `viewW / viewH`; children
 * sit in a near-square grid inside their box, a childless box's node at its centre. Shelves are at most
 * `maxRowWidth` wide (but never narrower than the widest box): the width the panel shows at a readable zoom,
 * so a drawing too big for the panel scrolls one way (down) instead of shrinking below readable.
 */
export function packGroups(inputs: readonly PackInput[], viewW: number, viewH: number, maxRowWidth = Infinity): PackResult {
  const sized = inputs.map((g) => {
    if (!g.children?.length) return { g, w: Math.max(g.w, g.minW ?? 0), h: g.h, cols: 0, cw: 0, ch: 0 };
    const n = g.children.length;
    const cols = Math.ceil(Math.sqrt(n));
    const rows = Math.ceil(n / cols);
    const cw = Math.max(...g.children.map((c) => c.w));
    const ch = Math.max(...g.children.map((c) => c.h));
    const innerW = cols * cw + (cols - 1) * 4;
    const innerH = rows * ch + (rows - 1) * 4;
    return { g, w: Math.max(innerW + 2 * PACK_PAD, g.minW ?? 0), h: innerH + 2 * PACK_PAD + PACK_LABEL, cols, cw, ch };
  });
  let area = 0;
  let widest = 0;
  for (const s of sized) {
    area += (s.w + PACK_GAP) * (s.h + PACK_GAP);
    widest = Math.max(widest, s.w);
  }
  const aspect = viewW > 0 && viewH > 0 ? viewW / viewH : 1;
  const rowWidth = Math.max(widest, Math.min(maxRowWidth, Math.sqrt(area * aspect)));
  const positions = new Map<string, Point>();
  const boxes = new Map<string, Box>();
  let x = 0;
  let y = 0;
  let shelf = 0;
  let maxX = 0;
  for (const s of sized) {
    if (x > 0 && x + s.w > rowWidth) {
      x = 0;
      y += shelf + PACK_GAP;
      shelf = 0;
    }
    boxes.set(s.g.id, { x1: x, y1: y, x2: x + s.w, y2: y + s.h });
    if (s.cols) {
      const n = s.g.children!.length;
      const innerW = s.cols * s.cw + (s.cols - 1) * 4;
      const left = x + (s.w - innerW) / 2;
      const top = y + PACK_LABEL + PACK_PAD;
      for (let k = 0; k < n; k++) {
        const c = s.g.children![k];
        positions.set(c.id, { x: left + (k % s.cols) * (s.cw + 4) + s.cw / 2, y: top + Math.floor(k / s.cols) * (s.ch + 4) + s.ch / 2 });
      }
    } else {
      positions.set(s.g.id, { x: x + s.w / 2, y: y + s.h / 2 });
    }
    x += s.w + PACK_GAP;
    maxX = Math.max(maxX, x - PACK_GAP);
    shelf = Math.max(shelf, s.h);
  }
  return { positions, boxes, bounds: { x1: 0, y1: 0, x2: maxX, y2: y + shelf } };
}

/** Whether two boxes overlap (touching edges do not count). */
export function overlaps(a: Box, b: Box): boolean {
  return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
}
