/**
 * The host's messages: loading and the large-file prompt (on the cover), the graph (indexed, then the
 * inspector is built and the first render runs; a `reveal` that came earlier runs after it), tensor
 * previews answering the inspector's requests, the loader's error, the overlay's runs and `reveal`.
 */
import type { NodeSingular } from 'cytoscape';
import type { TensorPreview } from '../../shared/engineProtocol';
import { decodeGraphWire } from '../../shared/graphWire';
import type { ModelGraph } from '../../shared/ir';
import { assertNever, type HostToWebview } from '../../shared/protocol';
import { formatBytes } from '../../shared/summary';
import { gunzipUtf8, joinUtf8 } from '../chunks';
import { h, Inspector } from '../inspector';
import { groupElementId, nodeElementId } from '../viewModel';
import { setStatus, type GraphContext } from './context';
import { answerSave, copyName, exportGraph } from './export';
import { collapse, expandGroup, flash, reveal, revealGroup, revealKey, revealNode } from './navigate';
import { onOverlayMessage, updateOverlay } from './overlayLayer';
import { render, startLayoutWorker } from './render';
import { buildShell, ensureShell, hideCover, showCover, showError } from './shell';
import { setGraph } from './state';
import { selectionOf } from './viewport';

/** Tensor previews asked of the host, answered by `tensor` messages with the same id. */
class TensorRequests {
  private seq = 0;
  private readonly waiters = new Map<number, { resolve: (t: TensorPreview) => void; reject: (e: Error) => void }>();

  constructor(private readonly ctx: GraphContext) {}

  read(name: string): Promise<TensorPreview> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
      this.ctx.bridge.post({ type: 'readTensor', id, tensor: name, maxElements: 16384 });
    });
  }

  answer(msg: Extract<HostToWebview, { type: 'tensor' }>): void {
    const w = this.waiters.get(msg.id);
    if (!w) return;
    this.waiters.delete(msg.id);
    if (msg.ok) w.resolve(msg.value);
    else w.reject(new Error('code' in msg.error ? `[${msg.error.code}] ${msg.error.detail}` : msg.error.message));
  }
}

/** Whether an overlay key lies inside a group (for the inspector's block view). */
function keyUnder(ctx: GraphContext, gid: string): (key: string) => boolean {
  return (key) => {
    const index = ctx.state.index;
    if (!index || !key.startsWith('n:')) return false;
    const i = index.nodeIndex.get(key.slice(2));
    return i !== undefined && index.chains[i].includes(gid);
  };
}

function createInspector(ctx: GraphContext, tensors: TensorRequests): Inspector {
  const s = ctx.state;
  const { overlayView } = ctx;
  const index = s.index!;
  return new Inspector(ctx.dom.inspectorBox, {
    index,
    get shapes() {
      return index.shapes;
    },
    palette: () => s.palette,
    readTensor: (name) => tensors.read(name),
    isExpanded: (g) => s.expanded.has(g),
    toggleGroup: (g) => void (s.expanded.has(g) ? collapse(ctx, g) : expandGroup(ctx, g)),
    revealNode: (id) => void revealNode(ctx, id),
    revealGroup: (id) => void revealGroup(ctx, id),
    standalone: ctx.bridge.standalone,
    overlaySection: (sel) => {
      if (!sel) return null;
      if (sel.kind === 'node') return overlayView.section(nodeElementId(sel.id));
      if (sel.kind === 'group') return overlayView.section(groupElementId(sel.id), keyUnder(ctx, sel.id));
      return overlayView.section(`i:${sel.id}`);
    },
    overlaySummary: () => overlayView.summary((key) => void revealKey(ctx, key).then((el) => el && flash(el))),
    copyName: (sel) => copyName(ctx, sel.kind === 'node' ? 'op' : sel.kind, sel.id),
  });
}

function onGraph(ctx: GraphContext, tensors: TensorRequests, graph: ModelGraph): void {
  const s = ctx.state;
  const { metrics } = ctx;
  metrics.graphReceived = performance.now();
  const restore = setGraph(s, graph, ctx.saved, () => {
    metrics.indexed = performance.now();
  });
  buildShell(ctx);
  hideCover(ctx);
  // Runs may have arrived before the graph: compute the overlay now (the first render paints it).
  s.inspector = undefined;
  updateOverlay(ctx);
  s.inspector = createInspector(ctx, tensors);
  s.firstRenderDone = false;
  // render() posts the layout to its worker before it first waits: the overview (and the shape inference it
  // reads) is built while the worker lays out.
  const rendered = render(ctx, undefined, restore);
  s.inspector.show(undefined);
  metrics.overviewShown ??= performance.now();
  void rendered.then(() => {
    if (restore?.selected && s.cy) {
      const el = s.cy.getElementById(restore.selected);
      if (el.nonempty()) s.inspector?.show(selectionOf(el as NodeSingular));
    }
    s.firstRenderDone = true;
    const t = s.pendingReveal;
    s.pendingReveal = undefined;
    if (t) void reveal(ctx, t);
  });
}

function showLoading(ctx: GraphContext, msg: Extract<HostToWebview, { type: 'loading' }>): void {
  setStatus(ctx, 'loading');
  ensureShell(ctx);
  showCover(
    ctx,
    h(
      'div',
      { className: 'loading', id: 'loading' },
      document.createElement('vscode-progress-ring'),
      h('p', {}, `Loading ${msg.file.split(/[\\/]/).pop()}${msg.bytes !== undefined ? ` (${formatBytes(msg.bytes)})` : ''}…`),
    ),
  );
}

function showConfirmLarge(ctx: GraphContext, msg: Extract<HostToWebview, { type: 'confirmLarge' }>): void {
  setStatus(ctx, 'confirm');
  ensureShell(ctx);
  const go = h('vscode-button' as 'button', { id: 'confirm-load' });
  go.textContent = 'Load anyway';
  go.addEventListener('click', () => ctx.bridge.post({ type: 'confirmLoad' }));
  showCover(
    ctx,
    h(
      'div',
      { className: 'confirm', id: 'confirm-large', role: 'alertdialog' },
      h('h1', {}, 'This is a large model'),
      h(
        'p',
        {},
        `${msg.file.split(/[\\/]/).pop()} is ${formatBytes(msg.bytes)}, above the ${formatBytes(msg.limit)} set in circuitscope.largeModelBytes. Loading parses the whole graph; weights stay on disk until you inspect them.`,
      ),
      go,
    ),
  );
}

/** The IR from the wire JSON's text (graphWire.ts), shown (onGraph); a text that is no graph shows its error. */
function receiveGraph(ctx: GraphContext, tensors: TensorRequests, text: string): void {
  let graph: ModelGraph;
  try {
    const parsed: unknown = JSON.parse(text);
    ctx.metrics.parsed = performance.now();
    graph = decodeGraphWire(parsed);
  } catch (e) {
    showError(ctx, { name: 'Error', message: `the graph's data from the engine could not be read: ${e instanceof Error ? e.message : String(e)}` });
    return;
  }
  onGraph(ctx, tensors, graph);
}

/** Handles the host's messages from now on. */
export function listen(ctx: GraphContext): void {
  const tensors = new TensorRequests(ctx);
  /** The pieces of the graph's JSON received so far (`graphChunk` messages). */
  let graphChunks: Uint8Array[] = [];
  /** Counts graphs whose pieces started arriving (a gzipped one is decompressed asynchronously). */
  let graphSeq = 0;
  ctx.bridge.onMessage((msg) => {
    switch (msg.type) {
      case 'loading':
        showLoading(ctx, msg);
        break;
      case 'confirmLarge':
        showConfirmLarge(ctx, msg);
        break;
      case 'graph':
        onGraph(ctx, tensors, msg.graph);
        break;
      case 'graphChunk': {
        // The IR as UTF-8 wire JSON (graphWire.ts) in pieces: the host forwards bytes without serializing; parsed
        // here after the last.
        if (msg.index === 0) {
          graphChunks = [];
          graphSeq++;
          ctx.metrics.firstPiece = performance.now();
          startLayoutWorker(ctx);
        }
        graphChunks.push(msg.bytes);
        if (msg.index + 1 < msg.count) break;
        const pieces = graphChunks;
        graphChunks = [];
        ctx.metrics.lastPiece = performance.now();
        if (msg.encoding !== 'gzip') {
          receiveGraph(ctx, tensors, joinUtf8(pieces));
          break;
        }
        // Gzipped by the engine (engineProtocol.ts, loadGraphBytes): decompressed natively, off the parse.
        const seq = graphSeq;
        void gunzipUtf8(pieces).then(
          (text) => {
            // A newer graph started arriving (the host reloaded the model) while this one decompressed.
            ctx.metrics.unzipped = performance.now();
            if (seq === graphSeq) receiveGraph(ctx, tensors, text);
          },
          (e: unknown) => showError(ctx, { name: 'Error', message: `the graph's data from the engine could not be decompressed: expected ${msg.count} gzip pieces of one stream (${e instanceof Error ? e.message : String(e)})` }),
        );
        break;
      }
      case 'summary':
        // The graph view shows the model overview in its inspector; the summary message is for older hosts.
        break;
      case 'tensor':
        tensors.answer(msg);
        break;
      case 'error':
        showError(ctx, msg.error);
        break;
      case 'overlay':
        onOverlayMessage(ctx, msg);
        break;
      case 'reveal':
        void reveal(ctx, msg.target);
        break;
      case 'saved':
        answerSave(msg);
        break;
      case 'exportGraph':
        void exportGraph(ctx, msg.format, msg.scope);
        break;
      default:
        assertNever(msg);
    }
  });
}
