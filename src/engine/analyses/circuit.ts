/**
 * The `circuit` analysis: the component graph of a residual transformer (pre-LN decoders and ViTs, post-LN
 * encoders), EAP / EAP-IG edge scores from clean/corrupted input pairs (token prompts or float inputs such as
 * images; the metric a logit difference at a position or between two classes), a circuit selected by score and measured by patching, the smallest circuit
 * reaching a target faithfulness, and (on request) exact activation patching to validate the scores.
 */
import { circuitNodes, type ComponentGraph } from '../../analysis/circuits';
import { AttentionStructureError, findResidualStream, type ResidualStream } from '../../model/attentionFinder';
import { isSpecPath, openNpz, readDatasetSpec } from '../../model/datasets';
import type { LoadedModel, ModelGraph } from '../../model/ir';
import { TranslatorError, tf } from '../../model/runtime/tfjs';
import type { AnalysisEnvelope, AnalysisRequest, OptionSpec } from '../../shared/analysis';
import type { CostEstimate } from '../../shared/engineProtocol';
import type { CircuitResult } from '../../shared/results';
import type { JobContext } from '../capture';
import { JobInputError, throwIfAborted } from '../errors';
import { loadCached } from '../modelCache';
import { CircuitModel } from './circuitModel';
import { compareScores, measureCircuit, searchCircuit, type PromptPairs, type ScoreMethod } from './circuitDiscovery';
import { estimateOrt, openRoute, plannedPasses } from './circuitRoute';
import { registerAnalysis, resolveOptions } from './registry';
import { checkTokenIds, embeddingVocabulary, logitsVocabulary } from '../tokens';

export const CIRCUIT_OPTIONS: OptionSpec[] = [
  { name: 'method', type: 'string', description: 'edge scores: eap-ig (integrated gradients over the input embeddings) or eap', default: 'eap-ig', choices: ['eap-ig', 'eap'] },
  { name: 'steps', type: 'integer', description: 'EAP-IG interpolation steps m (gradients at α = k/m, k = 0…m−1)', default: 5 },
  { name: 'selection', type: 'string', description: 'circuit selection: topn (largest |score|) or greedy (from the logits, as EAP-IG)', default: 'topn', choices: ['topn', 'greedy'] },
  { name: 'target', type: 'number', description: 'faithfulness the smallest circuit must reach', default: 0.8 },
  { name: 'edges', type: 'integer', description: 'fixed circuit size n (0: the smallest n reaching --target)', default: 0 },
  { name: 'validate', type: 'boolean', description: 'exact activation patching of every edge (one forward each) and Spearman correlation with EAP and EAP-IG', default: false },
  { name: 'metric', type: 'string', description: 'logit difference answer − wrong: at --position of (batch, T, V) logits (position), between two classes of a (batch, classes) output (classes), or auto (by the output’s shape)', default: 'auto', choices: ['auto', 'position', 'classes'] },
  { name: 'position', type: 'integer', description: 'token position the metric reads (negative: from the end; metric position)', default: -1 },
  { name: 'route', type: 'string', description: 'where gradients and patched runs execute: auto (onnxruntime, with the tfjs translator as the fallback when the model does not decompose), onnxruntime or tfjs', default: 'auto', choices: ['auto', 'onnxruntime', 'tfjs'] },
  { name: 'maxEdges', type: 'integer', description: 'at most this many edges (largest |score|) are listed in the result; circuit edges always are', default: 5000 },
];

async function int32(npzPath: string, name: string, npz: Awaited<ReturnType<typeof openNpz>>): Promise<{ data: Int32Array; shape: number[] }> {
  if (!npz.has(name)) {
    throw new JobInputError(`circuit data needs arrays 'clean', 'corrupt', 'answer' and 'wrong'; '${name}' is missing (arrays: ${npz.arrays.map((a) => a.name).join(', ')})`, npzPath);
  }
  const a = await npz.read(name);
  const src = a.data as ArrayLike<number | bigint>;
  if (!['int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32'].includes(String(a.dtype))) {
    throw new JobInputError(`'${name}' must hold integer token ids, found dtype ${a.dtype}`, npzPath);
  }
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = Number(src[i]);
    // The sign and the vocabulary are checked against the model (checkPairVocabulary), with row and column.
    if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) {
      const row = a.shape.length === 2 ? `row ${Math.floor(i / a.shape[1])}, column ${i % a.shape[1]}` : `row ${i}`;
      throw new JobInputError(`${npzPath}: '${name}' ${row} holds ${String(src[i])}: expected an integer token id in [0, 2^31)`, npzPath);
    }
    out[i] = v;
  }
  return { data: out, shape: a.shape };
}

const FLOAT_DTYPES = new Set(['float32', 'float64', 'float16']);

async function floats(npzPath: string, name: string, npz: Awaited<ReturnType<typeof openNpz>>): Promise<{ data: Float32Array; shape: number[] }> {
  const a = await npz.read(name);
  const src = a.data as ArrayLike<number>;
  const out = src instanceof Float32Array ? src : Float32Array.from(src);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new JobInputError(`${npzPath}: '${name}' element ${i} is ${out[i]}: expected finite values`, npzPath);
  }
  return { data: out, shape: a.shape };
}

/**
 * Reads input pairs from an .npz: `clean`, `corrupt` — token prompts (M, T) as integers, or float inputs
 * (M, …), e.g. images (M, C, H, W) — and `answer`, `wrong` (M,) (the tokens or classes the metric compares).
 * @throws JobInputError when arrays are missing or their shapes disagree (equal-length pairs are required)
 */
export async function readPromptPairs(data: unknown, limit?: number): Promise<PromptPairs> {
  if (typeof data !== 'string') throw new JobInputError('circuit data must be a path to an .npz with clean, corrupt, answer and wrong arrays');
  if (isSpecPath(data)) {
    // A dataset spec over prompt pairs: only where the pairs are and how many to use apply.
    const spec = await readDatasetSpec(data);
    const extra = Object.keys(spec).filter((k) => !['path', 'format', 'limit'].includes(k));
    if (spec.format !== 'npz' || extra.length) {
      throw new JobInputError(
        `circuit prompt pairs are the arrays clean, corrupt, answer and wrong of an .npz; a dataset spec for them may set only "path" and "limit", found ${spec.format !== 'npz' ? `format '${spec.format}'` : extra.map((k) => `"${k}"`).join(', ')}`,
        data,
      );
    }
    return readPromptPairs(spec.path, Math.min(limit ?? Infinity, spec.limit ?? Infinity));
  }
  const npz = await openNpz(data);
  for (const name of ['clean', 'corrupt']) {
    if (!npz.has(name)) throw new JobInputError(`circuit data needs arrays 'clean', 'corrupt', 'answer' and 'wrong'; '${name}' is missing (arrays: ${npz.arrays.map((a) => a.name).join(', ')})`, data);
  }
  const isFloat = (name: string): boolean => FLOAT_DTYPES.has(String(npz.arrays.find((a) => a.name === name)?.dtype));
  if (isFloat('clean') !== isFloat('corrupt')) {
    throw new JobInputError(`'clean' and 'corrupt' must both hold token ids (integers) or both float inputs (e.g. images), found dtypes ${npz.arrays.find((a) => a.name === 'clean')?.dtype} and ${npz.arrays.find((a) => a.name === 'corrupt')?.dtype}`, data);
  }
  const float = isFloat('clean');
  const clean = float ? await floats(data, 'clean', npz) : await int32(data, 'clean', npz);
  const corrupt = float ? await floats(data, 'corrupt', npz) : await int32(data, 'corrupt', npz);
  const answer = await int32(data, 'answer', npz);
  const wrong = await int32(data, 'wrong', npz);
  if (!float && clean.shape.length !== 2) throw new JobInputError(`'clean' must be (prompts, tokens), found shape (${clean.shape.join(', ')})`, data);
  if (float && clean.shape.length < 2) throw new JobInputError(`float 'clean' inputs must be (pairs, …) with one input per pair, e.g. images (pairs, C, H, W); found shape (${clean.shape.join(', ')})`, data);
  if (corrupt.shape.length !== clean.shape.length || corrupt.shape.slice(1).some((d, i) => d !== clean.shape[i + 1])) {
    throw new JobInputError(
      float
        ? `clean and corrupted inputs must have equal shapes (EAP compares them element by element): clean is (${clean.shape.join(', ')}), corrupt is (${corrupt.shape.join(', ')})`
        : `clean and corrupted prompts must have equal length (EAP compares them position by position): clean is (${clean.shape.join(', ')}), corrupt is (${corrupt.shape.join(', ')})`,
      data,
    );
  }
  if (corrupt.shape[0] !== clean.shape[0]) throw new JobInputError(`expected as many corrupted prompts as clean ones: ${clean.shape[0]} clean, ${corrupt.shape[0]} corrupt`, data);
  for (const [name, a] of [['answer', answer], ['wrong', wrong]] as const) {
    if (a.shape.length !== 1 || a.shape[0] !== clean.shape[0]) throw new JobInputError(`'${name}' must be (${clean.shape[0]},), one ${float ? 'class' : 'token'} per pair; found (${a.shape.join(', ')})`, data);
  }
  const sample = clean.shape.slice(1);
  const T = sample.reduce((u, v) => u * v, 1);
  const count = Math.min(clean.shape[0], limit ?? Infinity);
  if (count < 1) throw new JobInputError('no prompt pairs', data);
  return {
    clean: clean.data.subarray(0, count * T),
    corrupt: corrupt.data.subarray(0, count * T),
    answer: answer.data.subarray(0, count),
    wrong: wrong.data.subarray(0, count),
    count,
    seqLen: T,
    sample,
    float,
  };
}

/** Where a component lives in the operator graph: a head → its layer's Softmax, an MLP → its output value. */
function graphTargetOf(n: ComponentGraph['nodes'][number], cm: { stream: ResidualStream }): { node?: string; value?: string } | undefined {
  const comps = cm.stream.components;
  switch (n.kind) {
    case 'input':
      return comps.length ? { value: comps[0].input } : undefined;
    case 'logits':
      return { value: cm.stream.logits };
    case 'head': {
      const c = comps.find((x) => x.kind === 'attn' && x.layer === n.layer);
      return c?.kind === 'attn' ? { node: c.block.softmax, value: c.block.softmaxOutput } : undefined;
    }
    case 'mlp': {
      const c = comps.find((x) => x.kind === 'mlp' && x.layer === n.layer);
      return c ? { value: c.output } : undefined;
    }
  }
}

/**
 * Token ids against the vocabulary: prompts against the rows of the embedding table the token input indexes
 * (else the logits' last axis), answer and wrong tokens against the logits' last axis (else the embedding);
 * negative ids are refused either way (Gather would wrap them to the end of the table).
 * @throws JobInputError naming the array, row, column and the data file
 */
function checkPairVocabulary(pairs: PromptPairs, graph: ModelGraph, file: string): void {
  const embedding = graph.inputs.length === 1 ? embeddingVocabulary(graph, graph.inputs[0]) : undefined;
  const logits = logitsVocabulary(graph);
  // The logits' last axis is a vocabulary only for a per-position head ([batch, T, vocab]); a classifier's
  // [batch, classes] bounds answer and wrong, never the prompts.
  const perPosition = (graph.values[graph.outputs[0]]?.shape?.length ?? 0) >= 3;
  const promptVocab = embedding ?? (perPosition ? logits : undefined);
  if (!pairs.float) for (const [array, ids] of [['clean', pairs.clean], ['corrupt', pairs.corrupt]] as const) checkTokenIds(ids, pairs.seqLen, promptVocab, { array, file });
  for (const [array, ids] of [['answer', pairs.answer], ['wrong', pairs.wrong]] as const) checkTokenIds(ids, 1, pairs.float ? logits : (logits ?? embedding), { array, file });
}

/** The model's structure (one input, visible heads, …) first — its errors say more than an id mismatch — then the ids. */
function checkModelThenPairs(model: LoadedModel, pairs: PromptPairs, data: string): void {
  try {
    findResidualStream(model.graph);
  } catch (e) {
    throw toJobError(e, model.graph.file);
  }
  checkPairVocabulary(pairs, model.graph, data);
}

function toJobError(e: unknown, file: string): unknown {
  if (e instanceof AttentionStructureError) return new JobInputError(`circuits need a residual transformer (pre-LN or post-LN) with visible heads: ${e.message}`, e.file ?? file);
  if (e instanceof TranslatorError && (e.code === 'unsupported-op' || e.code === 'unsupported-feature')) return new JobInputError(`the tfjs translator cannot run this model for gradients: ${e.message}`, file);
  return e;
}

/** Runs the circuit analysis on one model (see the module header). */
export async function runCircuit(req: AnalysisRequest, ctx: JobContext): Promise<AnalysisEnvelope<CircuitResult>> {
  const t0 = performance.now();
  const o = resolveOptions(CIRCUIT_OPTIONS, req.options);
  const method = o.method as ScoreMethod;
  const steps = o.steps as number;
  const selection = o.selection as 'topn' | 'greedy';
  const target = o.target as number;
  const fixedN = o.edges as number;
  if (steps < 1) throw new JobInputError(`option 'steps' must be ≥ 1, found ${steps}`);
  if (fixedN < 0) throw new JobInputError(`option 'edges' must be ≥ 0, found ${fixedN}`);
  if (!req.data) throw new JobInputError('the circuit analysis needs --data: an .npz with clean, corrupt, answer and wrong');
  const model = await loadCached(req.model);
  if (model.graph.format !== 'onnx') throw new JobInputError(`circuits run on ONNX graphs; this is a ${model.graph.format} model`, model.graph.file);
  const pairs = await readPromptPairs(req.data, req.limit);
  checkModelThenPairs(model, pairs, String(req.data));
  let route;
  try {
    route = await openRoute(model, pairs, o, req.batchSize, ctx.signal);
  } catch (e) {
    throw toJobError(e, model.graph.file);
  }
  const { cm, session } = route;
  const timings: Record<string, number> = { loadMs: performance.now() - t0 };
  const warnings: string[] = [...route.warnings];
  try {
    const g = cm.graph;
    ctx.progress?.(0, 3, 'clean and corrupted runs');
    const t1 = performance.now();
    await session.prepare();
    if (!Number.isFinite(session.metricClean) || !Number.isFinite(session.metricCorrupt)) throw new JobInputError(`the metric is not finite (clean ${session.metricClean}, corrupt ${session.metricCorrupt})`);
    if (session.metricClean === session.metricCorrupt) warnings.push('the metric is equal on clean and corrupted prompts: faithfulness is undefined');
    ctx.progress?.(1, 3, `${method} scores`);
    const scores = await session.scores(method, steps);
    const scoring = { forward: cm.passes.forward, backward: cm.passes.backward };
    timings.scoresMs = performance.now() - t1;
    throwIfAborted(ctx.signal);
    ctx.progress?.(2, 3, 'measuring circuits');
    const t2 = performance.now();
    const f0 = cm.passes.forward;
    let best;
    let curve: CircuitResult['sizeSearch'] = [];
    if (fixedN > 0) {
      if (fixedN > g.edges.length) throw new JobInputError(`option 'edges' is ${fixedN}, but the graph has ${g.edges.length} edges`);
      best = await measureCircuit(session, scores, fixedN, selection);
    } else {
      const r = await searchCircuit(session, scores, target, selection);
      curve = r.curve;
      best = r.best;
      if (!best) {
        warnings.push(`no circuit reached faithfulness ${target} (the full graph scores ${curve.at(-1)?.faithfulness}); reporting the full graph`);
        best = await measureCircuit(session, scores, g.edges.length, selection);
      }
    }
    timings.searchMs = performance.now() - t2;
    const search = { forward: cm.passes.forward - f0 };
    const discovery = { forward: cm.passes.forward, backward: cm.passes.backward };
    timings.discoveryMs = performance.now() - t1;
    let validation: CircuitResult['validation'];
    if (o.validate) {
      const t3 = performance.now();
      const fv = cm.passes.forward;
      const exact = await session.exactScores((d, n) => ctx.progress?.(d, n, 'exact patching'));
      const exactMs = performance.now() - t3;
      const other = await session.scores(method === 'eap' ? 'eap-ig' : 'eap', steps);
      const eap = method === 'eap' ? scores : other;
      const ig = method === 'eap' ? other : scores;
      const ce = compareScores(eap, exact, 50);
      const ci = compareScores(ig, exact, 50);
      validation = {
        exactScores: Array.from(exact),
        top: ce.top,
        spearmanTop: { eap: ce.spearmanTop, eapIg: ci.spearmanTop },
        spearmanAll: { eap: ce.spearmanAll, eapIg: ci.spearmanAll },
        forwardPasses: cm.passes.forward - fv,
        exactMs,
        ms: performance.now() - t3,
      };
      timings.validateMs = validation.ms;
    }
    const mask = best.mask;
    const edgeCount = mask.reduce((s, v) => s + v, 0);
    const nodes = circuitNodes(g, mask);
    const ranked = g.edges.map((_, i) => i).sort((a, b) => Math.abs(scores[b]) - Math.abs(scores[a]) || a - b);
    const listed = new Set(ranked.slice(0, o.maxEdges as number));
    g.edges.forEach((_, i) => mask[i] && listed.add(i));
    if (listed.size < g.edges.length) warnings.push(`listing ${listed.size} of ${g.edges.length} edges (largest |score| and the circuit's; raise --maxEdges for all)`);
    warnings.push(
      method === 'eap-ig'
        ? `scores: EAP-IG (inputs variant), gradients averaged over α = k/${steps}, k = 0…${steps - 1}, between corrupted and clean embeddings`
        : 'scores: EAP (gradient at the clean run)',
      'faithfulness is measured: every edge outside the circuit is patched to its corrupted-run value (receiver inputs rebuilt as residual sums)',
    );
    const result: CircuitResult = {
      method,
      ...(method === 'eap-ig' ? { steps } : {}),
      metric: session.metricDescription,
      pairs: pairs.count,
      seqLen: route.seqLen,
      layout: cm.describe(),
      nodes: g.nodes.map((n) => ({ ...n, graph: graphTargetOf(n, cm) })),
      edges: g.edges
        .map((e, i) => ({ i, e }))
        .filter(({ i }) => listed.has(i))
        .map(({ i, e }) => ({ id: e.id, from: e.from, to: e.to, ...(e.port ? { port: e.port } : {}), score: scores[i], inCircuit: !!mask[i] })),
      totalEdges: g.edges.length,
      listedEdges: listed.size,
      circuit: {
        edges: g.edges.filter((_, i) => mask[i]).map((e) => e.id),
        n: best.n,
        edgeCount,
        fraction: edgeCount / g.edges.length,
        heads: nodes.filter((id) => id.startsWith('a')),
        nodes,
        selection,
        target,
        reachedTarget: best.faithfulness !== null && best.faithfulness >= target,
        metricClean: session.metricClean,
        metricCorrupt: session.metricCorrupt,
        metricCircuit: best.metricCircuit,
        faithfulness: best.faithfulness,
      },
      sizeSearch: curve,
      passes: { ...discovery, scoring, search },
      ...(validation ? { validation } : {}),
    };
    ctx.progress?.(3, 3, 'done');
    timings.totalMs = performance.now() - t0;
    return {
      analysis: 'circuit',
      model: model.graph.file,
      backend: route.backend,
      options: o,
      result,
      timings,
      warnings,
    };
  } catch (e) {
    throw toJobError(e, model.graph.file);
  } finally {
    session.dispose();
    await cm.dispose();
  }
}

/**
 * Cost before running: builds the decomposed model, times one clean forward on a batch and counts the passes
 * (EAP: 2 forward + 1 backward per batch; EAP-IG: 2 + m forward and m backward; the size search ≈ 2·log2(E)
 * patched forwards; validation E more). A backward pass is taken as 6 forwards (measured on the example transformer, wasm).
 */
export async function estimateCircuit(req: AnalysisRequest): Promise<CostEstimate> {
  const o = resolveOptions(CIRCUIT_OPTIONS, req.options);
  const model = await loadCached(req.model);
  const pairs = await readPromptPairs(req.data, req.limit);
  checkModelThenPairs(model, pairs, String(req.data));
  try {
    const viaOrt = await estimateOrt(model, pairs, o, req.batchSize);
    if (viaOrt) return viaOrt;
  } catch (e) {
    throw toJobError(e, model.graph.file);
  }
  if (pairs.float) throw new JobInputError(`the tfjs translator route takes token prompts; float input pairs (shape (${pairs.sample.join(', ')}) per pair) run on --route onnxruntime`, model.graph.file);
  const batchSize = Math.min(req.batchSize ?? 64, pairs.count);
  const probe = tf.tensor2d(pairs.clean.subarray(0, batchSize * pairs.seqLen), [batchSize, pairs.seqLen], 'int32');
  let cm: CircuitModel | undefined;
  try {
    cm = await CircuitModel.create(model, probe);
    const warm = cm.forward(probe);
    tf.dispose([warm.logits, warm.senders]);
    const t0 = performance.now();
    const r = cm.forward(probe);
    r.logits.dataSync();
    const D = r.senders.shape[3] as number;
    tf.dispose([r.logits, r.senders]);
    const fwdMs = performance.now() - t0;
    const batches = Math.ceil(pairs.count / batchSize);
    const E = cm.graph.edges.length;
    const p = plannedPasses(o, E, batches);
    const forwardPasses = p.forward + p.vjps;
    const vjps = p.vjps;
    const maxHeads = Math.max(1, ...cm.layout.map((c) => (c.kind === 'attn' ? c.heads : 1)));
    const perStream = batchSize * pairs.seqLen * D * 4;
    return {
      samples: pairs.count,
      batchSize,
      activationBytesPerBatch: (cm.graph.senders.length * 2 + 3 * maxHeads) * perStream,
      // weights on the translator and ORT sides; clean + corrupted sender outputs per batch; the stacked
      // per-receiver inputs of one attention layer, and the tape of a backward pass (≈ 4× a forward's live set)
      peakBytes: Math.round(3 * model.graph.fileBytes + batches * 2 * cm.graph.senders.length * perStream + 4 * 6 * maxHeads * perStream),
      expectedMs: Math.round(fwdMs * (forwardPasses + 6 * vjps) * 1.1),
      forwardPasses,
      vjps,
      notes: [`one decomposed forward of ${batchSize} pairs took ${fwdMs.toFixed(0)} ms on tfjs ${cm.backend}; ${E} edges`],
    };
  } catch (e) {
    throw toJobError(e, model.graph.file);
  } finally {
    probe.dispose();
    cm?.dispose();
  }
}

registerAnalysis({
  name: 'circuit',
  estimate: estimateCircuit,
  description: 'Attention circuits (EAP / EAP-IG edge attribution, measured faithfulness; Draye et al. 2025, Hanna et al. 2024)',
  needsData: true,
  layers: { mode: 'none', description: '' },
  dataHint: 'prompt pairs: clean, corrupt (equal length), answer, wrong',
  options: CIRCUIT_OPTIONS,
  run: runCircuit,
});
