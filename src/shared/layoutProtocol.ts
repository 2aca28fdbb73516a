/**
 * The layout Web Worker's protocol (src/webview/layoutWorker.ts ↔ layoutClient.ts) and the layout's own input and
 * output types: typed arrays, transferred (not copied) in the reply. A request carries an id; the reply is a
 * {@link Reply} with the same id, the result or the error message.
 */
import type { Reply } from './channel';

export interface LayoutOptions {
  /** Vertical gap between layers. */
  rankSep: number;
  /** Horizontal gap between neighbours in a layer. */
  nodeSep: number;
  /** Width reserved for an edge passing through a layer. */
  edgeSep: number;
  /** Padding inside a compound box. */
  padding: number;
  /** Extra space at the top of a compound for its label. */
  labelHeight: number;
  /** Upper bound on ordering sweeps (fewer are used for big layers). */
  maxSweeps: number;
}

/** Items 0..n-1 are leaves (with a size) or compounds (sized by the layout). Edges join leaves. */
export interface LayoutRequest {
  n: number;
  /** Parent compound index, or -1 at the top level. */
  parent: Int32Array;
  isCompound: Uint8Array;
  width: Float64Array;
  height: Float64Array;
  edgeSource: Int32Array;
  edgeTarget: Int32Array;
  options?: Partial<LayoutOptions>;
}

export interface LayoutResult {
  /** Centres of every item (compounds: centre of their box). */
  x: Float64Array;
  y: Float64Array;
  /** Sizes of every item (leaves: as given; compounds: as computed). */
  width: Float64Array;
  height: Float64Array;
  /**
   * For compounds: where the box extends beyond its children's bounding box plus padding (room for the
   * label, ports and routed edges), as the percentage of the extra width on the left and of the extra height
   * on top — what cytoscape's `min-width-bias-left` / `min-height-bias-top` need to draw this exact box.
   */
  biasLeft: Float64Array;
  biasTop: Float64Array;
  /** Bend points of edge e: bends[2·k], bends[2·k+1] for k in [bendStart[e], bendStart[e+1]). */
  bendStart: Int32Array;
  bends: Float64Array;
  /** Bounding box of the whole drawing (top-left is 0,0). */
  totalWidth: number;
  totalHeight: number;
  stats: { layers: number; dummies: number; crossings: number; ms: number };
}

/** Page → worker: lay out `request`; answered by one {@link LayoutWorkerReply} with the same id. */
export interface LayoutWorkerRequest {
  id: number;
  request: LayoutRequest;
}

/** Worker → page. */
export type LayoutWorkerReply = Reply<LayoutResult, string>;
