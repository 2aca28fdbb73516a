/**
 * The `attention` analysis: finds the attention blocks of a transformer graph, captures their probabilities
 * (and, for gated models, the scaled scores) per head over a dataset of any input kind — token prompts, images,
 * audio features, float arrays — with onnxruntime, and reports the sparsity proxies of ANALYSES.md §5 per head,
 * per layer and globally, plus a position-level attention graph of one prompt. Positions are each block's key
 * axis; whether a block is causal and which keys the model masked are read from its weights (option `pairs`).
 */
import { SparsityAccumulator, tokenGraphLayer } from '../../analysis/attention';
import { findAttention, type AttentionBlock } from '../../model/attentionFinder';
import type { AnalysisEnvelope, AnalysisRequest, OptionSpec } from '../../shared/analysis';
import type { CostEstimate } from '../../shared/engineProtocol';
import type { AttentionResult, TokenGraph } from '../../shared/results';
import { BATCH_GROWTH_PER_TAP_BYTE, forEachBatch, prepareTaps, sessionPeakSince, type JobContext, type TapBatch, type TapRunner } from '../capture';
import { JobInputError } from '../errors';
import { loadCached } from '../modelCache';
import { registerAnalysis, resolveOptions } from './registry';
import { checkDatasetTokens, embeddingVocabulary, isIntegerData } from '../tokens';

export const ATTENTION_OPTIONS: OptionSpec[] = [
  { name: 'epsilon', type: 'number', description: 'ε of fractionAbove (weights > ε over causal pairs); fractionAboveInvT uses 1/T', default: 0.01 },
  { name: 'gateBias', type: 'number', description: 'b_gate of a gated sparse-attention model: connectivity = active causal pairs of 1[S + b > 0] (default: from the model metadata gate_bias / bias_gate, else none)' },
  { name: 'padToken', type: 'integer', description: 'token id marking padding (those positions are not counted); -1: none', default: -1 },
  { name: 'prompt', type: 'integer', description: 'prompt (row of the dataset) whose token-level attention graph is returned', default: 0 },
  { name: 'graphThreshold', type: 'number', description: 'attention weight from which a key→query pair is an edge of the token graph', default: 0.1 },
  {
    name: 'pairs',
    type: 'string',
    choices: ['auto', 'causal', 'all'],
    description: 'which query–key pairs count: causal (key ≤ query), all (encoders, vision/speech transformers), or auto: causal where every weight above the diagonal is exactly 0, else all',
    default: 'auto',
  },
];

type PairsOption = 'auto' | 'causal' | 'all';

/** How one block's captured probabilities are laid out, read from the first batch. */
interface BlockLayout {
  heads: number;
  queries: number;
  keys: number;
  causal: boolean;
  /** 4: (batch, heads, queries, keys); 3: (batch·heads, queries, keys). */
  rank: 3 | 4;
}

const DEFINITIONS: Record<string, string> = {
  connectivity: 'gated models: #{causal pairs with S + b_gate > 0} / #causal pairs, per prompt, averaged over prompts',
  fractionAbove: 'dense proxy: #{causal pairs with weight > ε} / #causal pairs, per prompt, averaged over prompts',
  fractionAboveInvT: 'the same with ε = 1/T',
  keysFor90: 'fewest keys holding 90% of a query row’s mass, / (number of causal keys), averaged over queries',
  keysFor99: 'the same for 99%',
  entropyKeys: 'exp(entropy) of a query row (renormalised to its mass), not normalised, averaged over queries',
  sinkMass: 'weight on the first valid key, averaged over the queries after it (causal) or every other query (all pairs)',
  pairs: 'causal blocks count keys j ≤ query i, others every key; padding and keys masked by the model (weight exactly 0 from every query and head) are not counted',
  perLayer: 'mean over the layer’s heads; global: mean over all heads',
};

function gateBiasFromMetadata(meta: Record<string, string>): number | undefined {
  for (const k of ['gate_bias', 'bias_gate', 'gateBias']) {
    const v = meta[k];
    if (v !== undefined && Number.isFinite(Number(v))) return Number(v);
  }
  return undefined;
}

/** @throws JobInputError when the graph shows no attention: fused ops named, or why each Softmax did not match */
function assertAttention(report: ReturnType<typeof findAttention>, file: string): void {
  if (report.blocks.length) return;
  if (report.fused.length) {
    const ops = [...new Set(report.fused.map((f) => `${f.domain}.${f.opType}`))].join(', ');
    throw new JobInputError(
      `the attention of this model is fused into ${report.fused.length} ${ops} node(s) (e.g. ${report.fused[0].node}), which do not expose their probabilities; export it without attention fusion (plain MatMul/Softmax)`,
      file,
    );
  }
  throw new JobInputError(`no attention block (a Softmax over keys after MatMul(Q, Kᵀ), feeding MatMul(P, V)) was found${report.notes.length ? `: ${report.notes.join('; ')}` : ''}`, file);
}

function selectBlocks(blocks: AttentionBlock[], layers: string[] | undefined, file: string): AttentionBlock[] {
  if (!layers?.length) return blocks;
  const picked = blocks.filter((b) => layers.some((l) => l === String(b.layer) || l === b.name || l === b.softmax || l === b.probs));
  if (!picked.length) {
    throw new JobInputError(`--layers ${layers.join(',')} matches no attention block (blocks: ${blocks.map((b) => `${b.layer} = ${b.name}`).join('; ')})`, file);
  }
  return picked;
}

/**
 * Prompts are token ids: negative ones are refused even when the model's input feeds no embedding table the
 * loader can see (Gather would wrap them). With a table, prepareTaps has checked them against its rows.
 * @throws JobInputError naming the array, row, column and the data file
 */
async function checkPromptTokens(runner: TapRunner, end: number, signal?: AbortSignal): Promise<void> {
  if (!isIntegerData(runner.dataset) || embeddingVocabulary(runner.model.graph, runner.inputName)) return;
  await checkDatasetTokens(runner.dataset, end, undefined, signal);
}

/**
 * Reads a block's layout from its first batch: heads (axis 1 of a rank-4 tensor, or batch·heads folded into
 * axis 0), query and key lengths, and whether it is causal.
 * @throws JobInputError when the probabilities are not (batch, heads, queries, keys) or (batch·heads, queries, keys)
 */
function blockLayout(blk: AttentionBlock, dims: readonly number[], batch: number, probs: Float32Array, pairs: PairsOption, file: string): BlockLayout {
  let layout: Omit<BlockLayout, 'causal'>;
  if (dims.length === 4 && dims[0] === batch) layout = { heads: dims[1], queries: dims[2], keys: dims[3], rank: 4 };
  else if (dims.length === 3 && dims[0] % batch === 0) layout = { heads: dims[0] / batch, queries: dims[1], keys: dims[2], rank: 3 };
  else {
    throw new JobInputError(
      `attention layer ${blk.layer} (${blk.name}): expected probabilities (batch ${batch}, heads, queries, keys) or (batch·heads, queries, keys) at '${blk.probs}', found (${dims.join(', ')})`,
      file,
    );
  }
  const { queries: Tq, keys: Tk } = layout;
  if (pairs === 'causal' && Tq !== Tk) {
    throw new JobInputError(`option pairs=causal needs as many queries as keys, but attention layer ${blk.layer} (${blk.name}) has ${Tq} queries and ${Tk} keys`, file);
  }
  let causal = pairs === 'causal';
  if (pairs === 'auto' && Tq === Tk && Tk > 1) {
    causal = true;
    const rows = probs.length / Tk;
    for (let r = 0; r < rows && causal; r++) {
      const i = r % Tq;
      for (let j = i + 1; j < Tk; j++) {
        if (probs[r * Tk + j] !== 0) {
          causal = false;
          break;
        }
      }
    }
  }
  return { ...layout, causal };
}

/**
 * Keys each sample's model masked: a key with weight exactly 0 from every query of every head (softmax of a
 * finite score never underflows to 0 in float32 unless the score was pushed down by a mask). Gated blocks are
 * skipped (their gate zeroes weights: that is what they measure).
 * @returns [B, Tk] with 1 = attended, and the number of masked keys
 */
function attendedKeys(probs: Float32Array, B: number, H: number, Tq: number, Tk: number): { keyValid: Uint8Array; masked: number } {
  const keyValid = new Uint8Array(B * Tk);
  for (let b = 0; b < B; b++) {
    const kv = keyValid.subarray(b * Tk, (b + 1) * Tk);
    for (let r = 0; r < H * Tq; r++) {
      const off = (b * H * Tq + r) * Tk;
      for (let j = 0; j < Tk; j++) if (probs[off + j] !== 0) kv[j] = 1;
    }
  }
  let masked = 0;
  for (const v of keyValid) if (!v) masked++;
  return { keyValid, masked };
}

/** Runs the attention analysis on one model. */
export async function runAttention(req: AnalysisRequest, ctx: JobContext): Promise<AnalysisEnvelope<AttentionResult>> {
  const t0 = performance.now();
  const o = resolveOptions(ATTENTION_OPTIONS, req.options);
  if (!req.data) throw new JobInputError('the attention analysis needs --data: what the model reads (token prompts, images, an .npz of float samples, a dataset spec)');
  const model = await loadCached(req.model);
  const graph = model.graph;
  const report = findAttention(graph);
  assertAttention(report, graph.file);
  const blocks = selectBlocks(report.blocks, req.layers, graph.file);
  const warnings: string[] = [];
  if (report.fused.length) warnings.push(`${report.fused.length} fused attention node(s) (${report.fused.map((f) => f.node).join(', ')}) hide their probabilities and are not included`);
  const gateBias = (o.gateBias as number | undefined) ?? gateBiasFromMetadata(graph.metadata);
  const gated = blocks.some((b) => b.gate);
  if (gated && gateBias === undefined) warnings.push('gated attention detected but no gate bias given (--gateBias or metadata gate_bias): connectivity not computed; the proxies use the gated weights');
  if (!gated && gateBias !== undefined) warnings.push(`a gate bias was given but the model's attention is dense; connectivity is 1[S + ${gateBias} > 0] over the dense scores`);
  const taps = [...new Set(blocks.flatMap((b) => (gateBias !== undefined ? [b.probs, b.scores] : [b.probs])))];
  const runner = await prepareTaps(graph.file, req.data, taps, ctx);
  const sampleShape = runner.dataset.inputs.sampleShape;
  // Token prompts: integer samples of one axis. Anything else (images, features, float arrays) is fed as is.
  const isTokens = sampleShape.length === 1 && isIntegerData(runner.dataset);
  const T = isTokens ? sampleShape[0] : 0;
  const end = Math.min(runner.dataset.inputs.count, req.limit ?? Infinity);
  const padToken = o.padToken as number;
  if (!isTokens && padToken >= 0) {
    throw new JobInputError(`option 'padToken' marks padding in token prompts, but the data are samples of shape (${sampleShape.join(', ')}) (${runner.dataset.inputs.dtype}); leave it at -1`, runner.dataset.file);
  }
  if (isTokens) await checkPromptTokens(runner, end, ctx.signal);
  const loadMs = performance.now() - t0;
  const prompt = o.prompt as number;
  if (prompt < 0 || prompt >= end) throw new JobInputError(`option 'prompt' is ${prompt}, but there are ${end} prompts`);
  let acc: SparsityAccumulator | undefined;
  let layouts: BlockLayout[] = [];
  const maskedKeys = blocks.map(() => 0);
  let counted = 0;
  let tokenGraph: TokenGraph | undefined;
  const threshold = o.graphThreshold as number;
  const t1 = performance.now();
  const onBatch = async (b: TapBatch): Promise<void> => {
    let valid: Uint8Array | undefined;
    let tokens: number[] | undefined;
    const inBatch = prompt >= b.start && prompt < b.start + b.count;
    if (!acc) {
      layouts = blocks.map((blk) => blockLayout(blk, b.tensors[blk.probs].dims, b.count, b.tensors[blk.probs].data as Float32Array, o.pairs as PairsOption, graph.file));
      acc = new SparsityAccumulator({
        seqLen: layouts[0].keys,
        heads: layouts.map((l) => l.heads),
        layers: layouts.map((l) => ({ queries: l.queries, keys: l.keys, causal: l.causal })),
        epsilon: o.epsilon as number,
        gateBias,
      });
    }
    if (!isTokens && inBatch && layouts[0].queries === layouts[0].keys) tokens = Array.from({ length: layouts[0].keys }, (_, t) => t);
    const needTokens = isTokens && (padToken >= 0 || inBatch);
    if (needTokens) {
      const batch = await runner.dataset.read(b.start, b.start + b.count);
      const x = batch.x as ArrayLike<number | bigint>;
      if (padToken >= 0) {
        valid = new Uint8Array(b.count * T);
        for (let i = 0; i < valid.length; i++) valid[i] = Number(x[i]) === padToken ? 0 : 1;
      }
      if (prompt >= b.start && prompt < b.start + b.count) {
        tokens = Array.from({ length: T }, (_, t) => Number(x[(prompt - b.start) * T + t]));
      }
    }
    blocks.forEach((blk, li) => {
      const p = b.tensors[blk.probs];
      const L = layouts[li];
      const H = L.rank === 4 ? p.dims[1] : p.dims[0] / b.count;
      const { queries: Tq, keys: Tk } = L;
      if (p.dims.length !== L.rank || H !== L.heads || p.dims[L.rank - 2] !== Tq || p.dims[L.rank - 1] !== Tk || p.data.length !== b.count * H * Tq * Tk) {
        throw new JobInputError(`attention layer ${blk.layer} (${blk.name}): expected probabilities (${b.count}, ${L.heads}, ${Tq}, ${Tk}) at '${blk.probs}' as in the first batch, found (${p.dims.join(', ')})`, graph.file);
      }
      if (isTokens && (Tq !== T || Tk !== T)) {
        throw new JobInputError(`attention layer ${blk.layer} (${blk.name}): expected probabilities (batch, heads, ${T}, ${T}) at '${blk.probs}' for prompts of ${T} tokens, found (${p.dims.join(', ')})`, graph.file);
      }
      const probs = p.data as Float32Array;
      const scores = gateBias !== undefined ? (b.tensors[blk.scores].data as Float32Array) : undefined;
      const masks = blk.gate ? undefined : attendedKeys(probs, b.count, H, Tq, Tk);
      if (masks) maskedKeys[li] += masks.masked;
      acc!.add(li, probs, [b.count, H, Tq, Tk], valid, scores, li === 0, masks?.keyValid);
      if (tokens && Tq === Tk && Tk === tokens.length) {
        const s = prompt - b.start;
        const off = s * H * Tk * Tk;
        const v = valid?.subarray(s * Tk, (s + 1) * Tk);
        const kv = masks?.keyValid.subarray(s * Tk, (s + 1) * Tk);
        const both = v && kv ? v.map((x, t) => x & kv[t]) : (v ?? kv);
        tokenGraph ??= { prompt, tokens, positions: isTokens ? 'tokens' : 'keys', threshold, heads: [] };
        tokenGraph.heads.push(...tokenGraphLayer(blk.layer, probs.subarray(off, off + H * Tk * Tk), H, Tk, threshold, both, L.causal));
      }
    });
    counted += b.count;
  };
  // Without --batch-size: one prompt first, then batches sized from its captured bytes (attentionBatchSize).
  let first = 0;
  let batchSize = req.batchSize;
  if (batchSize === undefined) {
    let bytes = 0;
    await forEachBatch(runner, 1, async (b) => {
      bytes = tapBytes(b) / b.count;
      await onBatch(b);
    }, ctx, { end: Math.min(1, end) });
    first = Math.min(1, end);
    batchSize = attentionBatchSize(bytes);
  }
  await forEachBatch(runner, batchSize, onBatch, ctx, { start: first, end });
  if (!acc) throw new JobInputError('the dataset has no prompts', runner.dataset.file);
  const sparsity = acc.result();
  const result: AttentionResult = {
    ...sparsity,
    blocks: blocks.map((b, i) => ({
      layer: b.layer,
      name: b.name,
      softmax: b.softmax,
      probs: b.probs,
      logits: b.logits,
      scores: b.scores,
      heads: layouts[i].heads,
      gated: !!b.gate,
      steps: b.steps.map((s) => `${s.op} (${s.role})`).join(' → ') || 'none',
      queries: layouts[i].queries,
      keys: layouts[i].keys,
      pairs: layouts[i].causal ? 'causal' : 'all',
      maskedKeys: counted ? maskedKeys[i] / counted : 0,
    })),
    input: { kind: isTokens ? 'tokens' : 'samples', sampleShape: [...sampleShape] },
    fused: report.fused,
    notes: report.notes,
    ...(tokenGraph ? { tokenGraph } : {}),
    definitions: DEFINITIONS,
  };
  const lengths = [...new Set(layouts.map((l) => l.keys))].join('/');
  warnings.push(`dense models: fractionAbove/keysFor/entropyKeys are labelled proxies of connectivity (ε = ${o.epsilon as number}); compare models only at equal T (${lengths} keys)`);
  return {
    analysis: 'attention',
    model: graph.file,
    backend: runner.backend,
    layer: blocks.map((b) => b.name),
    options: o,
    result,
    timings: { loadMs, runMs: performance.now() - t1, totalMs: performance.now() - t0 },
    warnings,
  };
}

/** Captured bytes of one batch the default batching holds at once: batches shrink beyond it (64 prompts at most). */
const BATCH_TAP_BYTES = 64 * 2 ** 20;

/** The default batch size: as many prompts as keep one batch's captured tensors within {@link BATCH_TAP_BYTES}. */
export function attentionBatchSize(bytesPerPrompt: number): number {
  return Math.max(1, Math.min(64, Math.floor(BATCH_TAP_BYTES / Math.max(1, bytesPerPrompt))));
}

function tapBytes(b: TapBatch): number {
  let n = 0;
  for (const t of Object.values(b.tensors)) n += Array.isArray(t.data) ? 0 : t.data.byteLength;
  return n;
}

/** Prompts of the timed calibration run (after one warm-up prompt). */
const CALIB_PROMPTS = 4;


/**
 * Cost before running, from the job's own measurements: the session is created here (the run reuses it), one
 * warm-up prompt gives the captured bytes per prompt (hence the batch size), a timed run of
 * {@link CALIB_PROMPTS} prompts through the forward pass and the proxies gives the time per prompt. Peak memory
 * is the larger of the process's RSS peak while the session was created and its RSS now plus one batch's growth
 * ({@link BATCH_GROWTH_PER_TAP_BYTE}).
 */
export async function estimateAttention(req: AnalysisRequest, ctx: JobContext): Promise<CostEstimate> {
  const o = resolveOptions(ATTENTION_OPTIONS, req.options);
  if (!req.data) throw new JobInputError('the attention analysis needs --data');
  const model = await loadCached(req.model);
  const report = findAttention(model.graph);
  assertAttention(report, model.graph.file);
  const blocks = selectBlocks(report.blocks, req.layers, model.graph.file);
  const gate = (o.gateBias as number | undefined) ?? gateBiasFromMetadata(model.graph.metadata);
  const since = process.resourceUsage().maxRSS;
  const runner = await prepareTaps(model.graph.file, req.data, [...new Set(blocks.flatMap((b) => (gate !== undefined ? [b.probs, b.scores] : [b.probs])))], ctx);
  const sessionPeak = sessionPeakSince(since);
  const samples = Math.min(runner.dataset.inputs.count, req.limit ?? Infinity);
  if (runner.dataset.inputs.sampleShape.length === 1 && isIntegerData(runner.dataset)) await checkPromptTokens(runner, samples, ctx.signal);
  let perPrompt = 0;
  await forEachBatch(runner, 1, (b) => void (perPrompt = tapBytes(b) / b.count), ctx, { end: Math.min(1, samples) });
  const batchSize = req.batchSize ?? attentionBatchSize(perPrompt);
  const calib = Math.max(1, Math.min(samples, CALIB_PROMPTS));
  let acc: SparsityAccumulator | undefined;
  let layouts: BlockLayout[] = [];
  const t0 = performance.now();
  await forEachBatch(runner, calib, (b) => {
    if (!acc) {
      layouts = blocks.map((blk) => blockLayout(blk, b.tensors[blk.probs].dims, b.count, b.tensors[blk.probs].data as Float32Array, o.pairs as PairsOption, model.graph.file));
      acc = new SparsityAccumulator({
        seqLen: layouts[0].keys,
        heads: layouts.map((l) => l.heads),
        layers: layouts.map((l) => ({ queries: l.queries, keys: l.keys, causal: l.causal })),
        epsilon: o.epsilon as number,
        gateBias: gate,
      });
    }
    blocks.forEach((blk, li) => {
      const p = b.tensors[blk.probs];
      const L = layouts[li];
      acc!.add(li, p.data as Float32Array, [b.count, L.heads, L.queries, L.keys], undefined, gate !== undefined ? (b.tensors[blk.scores].data as Float32Array) : undefined, li === 0);
    });
  }, ctx, { end: calib });
  const ms = performance.now() - t0;
  const rss = process.memoryUsage().rss;
  const batchGrowth = BATCH_GROWTH_PER_TAP_BYTE * perPrompt * Math.min(batchSize, samples);
  const forwardPasses = req.batchSize ? Math.ceil(samples / batchSize) : Math.min(1, samples) + Math.ceil(Math.max(0, samples - 1) / batchSize);
  return {
    samples,
    batchSize,
    activationBytesPerBatch: perPrompt * batchSize,
    peakBytes: Math.round(Math.max(sessionPeak, rss + batchGrowth)),
    expectedMs: Math.round((ms * samples) / calib),
    forwardPasses,
    vjps: 0,
    notes: [`calibrated on ${calib} prompts in ${ms.toFixed(0)} ms with ${runner.backend}; ${(perPrompt / 2 ** 20).toFixed(1)} MB captured a prompt, RSS ${(rss / 2 ** 20).toFixed(0)} MB after the calibration`],
  };
}

registerAnalysis({
  name: 'attention',
  estimate: estimateAttention,
  description: 'Attention sparsity: connectivity (gated) or labelled proxies per head/layer, token attention graphs (Draye et al. 2025)',
  needsData: true,
  layers: { mode: 'none', description: '' },
  dataHint: 'what the model reads: token prompts (int64 tokens, prompts × positions), images, float samples or a dataset spec',
  options: ATTENTION_OPTIONS,
  run: runAttention,
});
