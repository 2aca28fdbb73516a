/**
 * Where Fit puts the Circuits panel's view: pure geometry, no DOM.
 *
 * A whole drawing squeezed into the side panel is only useful while its labels can be read: a tall LIB graph
 * (25 directions per layer) in a 280 px wide panel fitted at a zoom where its 8 px labels were 5 px on screen.
 * Fit shows the whole drawing when its smallest label is at least {@link READABLE_TEXT_PX} on screen at that
 * zoom (at most `maxZoom`); else it shows the drawing at the zoom where that label is exactly readable,
 * from its entry corner — the top (the strongest LIB directions, the input stage of a circuit, the largest
 * groups) and the left (the first layer, the row names) — centred along an axis where the drawing fits; the
 * rest is reached by dragging (panning) or zooming out.
 */
import type { Viewport } from '../viewportFit';
import type { Box } from './layout';

/** The smallest label size on screen that stays readable (px). */
export const READABLE_TEXT_PX = 9;

/** The zoom at which text of `minFontPx` (the drawing's smallest label, at zoom 1) is {@link READABLE_TEXT_PX}. */
export function readableZoom(minFontPx: number): number {
  return minFontPx > 0 && Number.isFinite(minFontPx) ? READABLE_TEXT_PX / minFontPx : 1;
}

export interface CircuitsFitOptions {
  /** Space kept free around the drawing (px). */
  padding?: number;
  /** The largest zoom Fit uses for a small drawing. */
  maxZoom?: number;
}

/**
 * The viewport for Fit: `bounds` (model coordinates, labels included) in a `width` × `height` panel whose
 * smallest label is `minFontPx` at zoom 1 (see the file comment). The zoom never goes below
 * {@link readableZoom}(minFontPx).
 */
export function fitCircuits(bounds: Box, minFontPx: number, width: number, height: number, opts: CircuitsFitOptions = {}): Viewport {
  const pad = opts.padding ?? 16;
  const W = Math.max(1, width - 2 * pad);
  const H = Math.max(1, height - 2 * pad);
  const bw = Math.max(1, bounds.x2 - bounds.x1);
  const bh = Math.max(1, bounds.y2 - bounds.y1);
  const readable = readableZoom(minFontPx);
  const zoom = Math.max(readable, Math.min(opts.maxZoom ?? 2, W / bw, H / bh));
  // Along each axis: centred where the drawing fits, else its start (left, top) at the padding.
  const x = bw * zoom <= W + 1e-6 ? width / 2 - ((bounds.x1 + bounds.x2) / 2) * zoom : pad - bounds.x1 * zoom;
  const y = bh * zoom <= H + 1e-6 ? height / 2 - ((bounds.y1 + bounds.y2) / 2) * zoom : pad - bounds.y1 * zoom;
  return { zoom, pan: { x, y } };
}
