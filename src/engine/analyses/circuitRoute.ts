/**
 * Which route runs a circuit analysis: onnxruntime (gradients as ONNX graphs, circuitOrt.ts) by default, the
 * tfjs translator (circuitModel.ts) when the model does not decompose for onnxruntime or when asked. Also the
 * cost estimate, from shape arithmetic and one timed forward of one batch on the chosen route.
 */
import * as fs from 'node:fs';
import type { ComponentGraph, ComponentLayout } from '../../analysis/circuits';
import { findAttention, findResidualStream, type ResidualStream } from '../../model/attentionFinder';
import type { LoadedModel } from '../../model/ir';
import { tf } from '../../model/runtime/tfjs';
import type { CostEstimate } from '../../shared/engineProtocol';
import { JobInputError } from '../errors';
import { CircuitModel } from './circuitModel';
import { CircuitSession, type CircuitScoring, type PromptPairs } from './circuitDiscovery';
import { OrtCircuitModel, OrtCircuitUnsupported, type CircuitMetricChoice } from './circuitOrt';
import { OrtCircuitSession } from './circuitOrtSession';

export interface CircuitRoute {
  cm: { readonly graph: ComponentGraph; readonly stream: ResidualStream; readonly layout: ComponentLayout[]; readonly passes: { forward: number; backward: number }; describe(): string; dispose(): void | Promise<void> };
  session: CircuitScoring;
  backend: string;
  warnings: string[];
  batchSize: number;
  /** The residual stream's length (the prompts' T; patches + cls for a ViT). */
  seqLen: number;
}

type RouteChoice = 'auto' | 'onnxruntime' | 'tfjs';

let cached: { key: string; model: Promise<OrtCircuitModel> } | undefined;

function cacheKey(model: LoadedModel, sample: number[], position: number, metric: string): string {
  const st = fs.statSync(model.graph.file);
  return `${model.graph.file}\u0000${st.mtimeMs}\u0000${sample.join('x')}\u0000${position}\u0000${metric}`;
}

/** The onnxruntime model for (file, input shape, position, metric), shared by the estimate and the run that follows it. */
async function ortModel(model: LoadedModel, stream: ResidualStream, pairs: PromptPairs, position: number, metric: CircuitMetricChoice): Promise<OrtCircuitModel> {
  const key = cacheKey(model, pairs.sample, position, metric);
  if (cached?.key === key) return cached.model;
  const threads = Number(process.env.CIRCUITSCOPE_THREADS) || undefined;
  const p = OrtCircuitModel.create(model, stream, pairs.clean.subarray(0, pairs.seqLen), { sample: pairs.sample, position, metric, threads, file: model.graph.file });
  cached = { key, model: p };
  p.catch(() => {
    if (cached?.model === p) cached = undefined;
  });
  return p;
}

/** Drops the cached onnxruntime model (after a run). */
export async function releaseOrtCircuit(): Promise<void> {
  const c = cached;
  cached = undefined;
  if (c) await (await c.model.catch(() => undefined))?.dispose();
}


/**
 * Bytes per prompt pair held by the onnxruntime route: the gradient pass's receiver copies (3H per attention
 * layer, ≈ 3 stream-sized tensors each with LayerNorm's backward written once) and the clean, corrupted and
 * difference sender outputs. Measured on the GPT-2-small export (T = 32): 180 MB per pair (peak RSS 4.88 /
 * 5.24 / 5.95 GB at batch 2 / 4 / 8); this gives 192 MB.
 */
export function ortBytesPerPair(layout: readonly ComponentLayout[], T: number, D: number, postLN = false): number {
  const stream = T * D * 4;
  let units = 0;
  let senders = 1;
  let blocks = 1;
  for (const c of layout) {
    // post-LN: each receiver's copies of the upstream block sums and its norms' values (≈ 4 per block), with
    // their gradients (an estimate, not measured)
    const copies = postLN ? 2 * 4 * blocks : 0;
    if (c.kind === 'attn') {
      units += 3 * c.heads * (3 + copies);
      senders += c.heads;
    } else {
      units += 16 + copies;
      senders += 1;
    }
    blocks++;
  }
  return stream * (units + 3 * senders);
}

/** Activation memory the automatic batch size aims at. */
const ORT_BATCH_BYTES = 1e9;
/**
 * Weights and graph copies held while the route runs, in file sizes (the IR's bytes, the decoded proto, one or
 * two onnxruntime sessions, the encoded graph in flight), above a baseline of the process and its libraries.
 * Fitted to peak RSS on two GPT-2-style exports: 653 MB file, 16 × 32 pairs, batch 2/4/8 → 4.88/5.24/5.95 GB;
 * 23 MB file (4 layers, d 256), batch 16 → 0.79 GB.
 */
const ORT_MODEL_COPIES = 6.4;
const ORT_BASELINE_BYTES = 300e6;

/** Batches of equal size (no small last batch) holding at most ORT_BATCH_BYTES of activations each. */
function autoBatch(count: number, perPair: number): number {
  const most = Math.max(1, Math.min(count, Math.floor(ORT_BATCH_BYTES / perPair)));
  return Math.ceil(count / Math.ceil(count / most));
}

/**
 * Opens the route for `o.route` (see the module header).
 * @throws JobInputError when `route: onnxruntime` was asked for and the model does not decompose
 */
export async function openRoute(model: LoadedModel, pairs: PromptPairs, o: Record<string, unknown>, batchSize: number | undefined, signal?: AbortSignal): Promise<CircuitRoute> {
  const choice = (o.route ?? 'auto') as RouteChoice;
  const metric = (o.metric ?? 'auto') as CircuitMetricChoice;
  const warnings: string[] = [];
  if (choice === 'tfjs' && pairs.float) throw new JobInputError(`the tfjs translator route takes token prompts; float input pairs (shape (${pairs.sample.join(', ')}) per pair) run on --route onnxruntime`);
  if (choice !== 'tfjs') {
    const stream = findResidualStream(model.graph, findAttention(model.graph));
    try {
      const m = await ortModel(model, stream, pairs, o.position as number, metric);
      // never more pairs per batch than there are (the extension sends circuitscope.batchSize, 256 by default)
      const B = batchSize !== undefined ? Math.max(1, Math.min(pairs.count, batchSize)) : autoBatch(pairs.count, ortBytesPerPair(m.layout, m.T, m.D, stream.postLN));
      const cm = Object.assign(m, { dispose: () => releaseOrtCircuit() });
      return {
        cm,
        session: new OrtCircuitSession(m, pairs, B, signal),
        get backend() {
          return m.backend; // the provider its sessions got, known once they exist
        },
        warnings,
        batchSize: B,
        seqLen: m.T,
      };
    } catch (e) {
      if (!(e instanceof OrtCircuitUnsupported)) throw e;
      if (choice === 'onnxruntime') throw new JobInputError(`the onnxruntime route cannot decompose this model: ${e.message}`, model.graph.file);
      if (pairs.float) throw new JobInputError(`the onnxruntime route cannot decompose this model (${e.message}), and the tfjs translator route takes token prompts only, not float input pairs`, model.graph.file);
      if (stream.postLN) throw new JobInputError(`the onnxruntime route cannot decompose this post-LN model (${e.message}), and the tfjs translator route decomposes pre-LN models only`, model.graph.file);
      warnings.push(`onnxruntime route unavailable (${e.message}); gradients run on the tfjs translator`);
    }
  }
  const probe = tf.tensor2d(pairs.clean.subarray(0, pairs.seqLen), [1, pairs.seqLen], 'int32');
  let cm: CircuitModel;
  try {
    cm = await CircuitModel.create(model, probe);
  } finally {
    probe.dispose();
  }
  const B = batchSize ?? 64;
  return { cm, session: new CircuitSession(cm, pairs, B, o.position as number, signal, metric), backend: `tfjs ${cm.backend} (translator)`, warnings, batchSize: B, seqLen: pairs.seqLen };
}

/** Passes a run makes (EAP: 2 forward + 1 backward per batch; EAP-IG: 2 forward + m backward; search; validation). */
export function plannedPasses(o: Record<string, unknown>, E: number, batches: number): { forward: number; vjps: number; search: number } {
  const m = o.method === 'eap' ? 1 : (o.steps as number);
  const search = (o.edges as number) > 0 ? 1 : 2 * Math.ceil(Math.log2(E + 1)) + 8;
  const validate = o.validate ? E + 1 : 0;
  return {
    forward: batches * (2 + search + validate),
    vjps: batches * (m + (o.validate ? (o.method === 'eap' ? (o.steps as number) : 1) : 0)),
    search: batches * (search + validate),
  };
}

/**
 * The onnxruntime route's estimate: the model's probes and one timed forward of one batch (its session
 * creation too); a gradient pass is taken as 3 forwards, a patched forward as 1.5, and each of the three
 * graphs' session creation as the forward graph's.
 */
export async function estimateOrt(model: LoadedModel, pairs: PromptPairs, o: Record<string, unknown>, batchSize: number | undefined): Promise<CostEstimate | undefined> {
  if (o.route === 'tfjs') return undefined;
  let m: OrtCircuitModel;
  try {
    m = await ortModel(model, findResidualStream(model.graph, findAttention(model.graph)), pairs, o.position as number, (o.metric ?? 'auto') as CircuitMetricChoice);
  } catch (e) {
    if (e instanceof OrtCircuitUnsupported && o.route !== 'onnxruntime') return undefined;
    throw e;
  }
  const perPair = ortBytesPerPair(m.layout, m.T, m.D, m.stream.postLN);
  const B = batchSize !== undefined ? Math.max(1, Math.min(pairs.count, batchSize)) : autoBatch(pairs.count, perPair);
  const t0 = performance.now();
  const tok = m.tokens(pairs.clean.subarray(0, B * pairs.seqLen), B);
  await m.forward(tok);
  const firstMs = performance.now() - t0;
  const t1 = performance.now();
  await m.forward(tok);
  const fwdMs = performance.now() - t1;
  m.passes.forward -= 2; // the run reuses this model and its forward session (cached)
  const createMs = Math.max(0, firstMs - fwdMs);
  const batches = Math.ceil(pairs.count / B);
  const E = m.graph.edges.length;
  const p = plannedPasses(o, E, batches);
  const sendersBytes = pairs.count * (m.graph.senders.length * m.T * m.D * 4) * 2;
  return {
    samples: pairs.count,
    batchSize: B,
    activationBytesPerBatch: B * perPair,
    peakBytes: Math.round(ORT_BASELINE_BYTES + ORT_MODEL_COPIES * model.graph.fileBytes + B * perPair + sendersBytes),
    expectedMs: Math.round(3 * createMs + fwdMs * (2 * batches + 1.5 * p.search + 3 * p.vjps)),
    forwardPasses: p.forward,
    vjps: p.vjps,
    notes: [`onnxruntime route: one forward of ${B} pairs took ${fwdMs.toFixed(0)} ms (session ${createMs.toFixed(0)} ms); ${E} edges`],
  };
}
