/**
 * `collapse`: neural collapse on the classifier's input (all NC1–NC4 metrics) and the classifier-free metrics
 * on every hidden layer, for one model or over a checkpoint series. See src/analysis/collapse.ts.
 */
import {
  COLLAPSE_VARIANTS,
  ClassMeansAccumulator,
  CollapseAccumulator,
  collapseGeometry,
  collapseMetrics,
  type LinearHead,
} from '../../analysis/collapse';
import { collapseAuthors } from '../../analysis/authors';
import { findActivations, findLinearHead, resolveLayer } from '../../model/patterns';
import type { AnalysisRequest } from '../../shared/analysis';
import type { CollapseResult, LayerCollapse } from '../../shared/results';
import type { JobContext } from '../capture';
import { JobInputError } from '../errors';
import { loadCached } from '../modelCache';
import { Confusion, argmaxCorrect, floatData, labelRange, perSample, permutedLabelsWarning } from './outputs';
import { runOverModels, type OneResult } from './series';
import { DEFAULT_BATCH_SIZE, SplitBatches, prepareSplits, staged } from './splits';
import { registerAnalysis, resolveOptions } from './registry';
import { parsePosition, POSITION_OPTION, SequencePlan } from './sequence';

const OPTIONS = [
  { name: 'head', type: 'string' as const, description: 'node name of the linear classifier (default: the last Gemm / MatMul+Add before the output); its input is the features' },
  { name: 'layerwise', type: 'boolean' as const, default: true, description: 'also compute the classifier-free metrics (NC1 variants, NC2 on means, NCC accuracy) on every hidden layer, or on the --layer values' },
  POSITION_OPTION,
];

interface LayerState {
  name: string;
  dim: number;
  pass1: ClassMeansAccumulator | null;
  train: CollapseAccumulator | null;
  test: CollapseAccumulator | null;
  head: LinearHead | null;
}

async function collapseOne(model: string, req: AnalysisRequest, opts: Record<string, unknown>, ctx: JobContext): Promise<OneResult<CollapseResult>> {
  const t0 = performance.now();
  const lm = await loadCached(model);
  const graph = lm.graph;
  const warnings: string[] = [];
  const found = await findLinearHead(lm, { head: opts.head as string | undefined });
  const head = found.head;
  const userLayers = (req.layers ?? []).map((l) => resolveLayer(graph, l, '--layer'));
  const acts = await findActivations(lm);
  let features: string;
  if (head) features = head.input;
  else {
    const fallback = userLayers[userLayers.length - 1] ?? acts.activations[acts.activations.length - 1]?.output;
    if (!fallback) throw new JobInputError(`no features to analyse: ${found.reason}, and the graph has no hidden activations; name a layer with --layer`, graph.file);
    features = fallback;
    warnings.push(`no linear classifier found (${found.reason}); the features are '${features}' and every metric that needs (W, b) is undefined`);
  }
  const layerwise = opts.layerwise !== false;
  const position = parsePosition(opts.position);
  let layerNames = !layerwise ? [] : userLayers.length ? userLayers : acts.activations.map((a) => a.output);
  const output = graph.outputs[0];
  const taps = [...new Set([features, ...layerNames, output])];
  const raw = await prepareSplits(model, req.data, taps, ctx, req.limit, true);
  const backend = raw.backend;
  // Per-position classifiers (CTC, LM heads): one position, or every position as a sample (option position).
  const plan = await SequencePlan.probe(raw.train, taps, features, head, position, ctx, { optional: new Set(taps.filter((t) => t !== features)), headOption: 'head', file: graph.file });
  const train = plan.split(raw.train);
  const test = raw.test && plan.split(raw.test);
  const seqNote = plan.describe(features);
  if (seqNote) warnings.push(seqNote);
  layerNames = layerNames.filter((n) => plan.keeps(n));
  const all = [...new Set([features, ...layerNames])];
  const loadMs = performance.now() - t0;
  const labelClasses = head ? head.classes : labelRange(train.labels, test?.labels);
  const maxLabel = labelRange(train.labels, test?.labels);
  if (head && maxLabel > head.classes) {
    throw new JobInputError(`labels go up to ${maxLabel - 1} but the classifier '${head.node}' has ${head.classes} outputs`, graph.file);
  }
  if (labelClasses < 2) throw new JobInputError(`expected at least 2 classes, found labels 0..${labelClasses - 1}`);
  const state = new Map<string, LayerState>(all.map((n) => [n, { name: n, dim: 0, pass1: null, train: null, test: null, head: null }]));
  const batchSize = req.batchSize ?? DEFAULT_BATCH_SIZE;
  const trainBatches = new SplitBatches(train, taps, batchSize);
  let correctTrain = 0, correctTest = 0, outputOk = true;
  const confusion = new Confusion(maxLabel);
  // Pass 1: class means.
  await trainBatches.forEach((b) => {
    for (const s of state.values()) {
      const t = b.tensors[s.name];
      if (!s.pass1) {
        s.dim = perSample(t);
        s.pass1 = new ClassMeansAccumulator(s.dim, labelClasses);
      }
      s.pass1.add(floatData(t, s.name), b.labels!, b.count);
    }
    const ok = argmaxCorrect(b.tensors[output], b.labels!, confusion);
    if (ok === null) outputOk = false;
    else correctTrain += ok;
  }, staged(ctx, 'train pass 1 (class means)'));
  for (const s of state.values()) {
    const geom = collapseGeometry(s.pass1!);
    if (s.name === features && head) {
      if (head.dim !== s.dim) throw new JobInputError(`the classifier '${head.node}' takes ${head.dim} features but '${features}' has ${s.dim} per sample; name the classifier with --head <node>`, graph.file);
      s.head = { weight: head.weight, bias: head.bias, classes: head.classes, dim: head.dim };
    }
    s.train = new CollapseAccumulator(geom, s.head);
    if (test) s.test = new CollapseAccumulator(geom, s.head);
  }
  // Pass 2: centred second moments, NCC and head decisions.
  await trainBatches.forEach((b) => {
    for (const s of state.values()) s.train!.add(floatData(b.tensors[s.name], s.name), b.labels!, b.count);
  }, staged(ctx, 'train pass 2 (within-class)'));
  let runMs = trainBatches.runMs;
  if (test) {
    const testBatches = new SplitBatches(test, taps, batchSize, 0);
    await testBatches.forEach((b) => {
      for (const s of state.values()) s.test!.add(floatData(b.tensors[s.name], s.name), b.labels!, b.count);
      const ok = argmaxCorrect(b.tensors[output], b.labels!);
      if (ok === null) outputOk = false;
      else correctTest += ok;
    }, staged(ctx, 'test'));
    runMs += testBatches.runMs;
  }
  if (!outputOk) warnings.push(`the network's output '${output}' is not [batch, classes], so accuracies come from the classifier on the features`);
  const f = state.get(features)!;
  const main = collapseMetrics({
    geom: f.train!.geom,
    train: f.train!,
    test: f.test,
    head: f.head,
    noHeadReason: found.reason,
    networkAccuracyTrain: outputOk ? correctTrain / train.count : null,
    networkAccuracyTest: outputOk && test ? correctTest / test.count : null,
  });
  warnings.push(...main.warnings);
  const permuted = outputOk && permutedLabelsWarning(confusion, 'train', train.runner.dataset.classNames, { name: 'nearest-class-mean accuracy', value: main.nccAccuracyTrain });
  if (permuted) warnings.unshift(permuted);
  if (!test) warnings.push('no test split (x_test/y_test): accuracyTest and nccMismatchTest are not reported');
  const layers: LayerCollapse[] = [];
  for (const name of layerNames) {
    const s = state.get(name)!;
    const m = collapseMetrics({ geom: s.train!.geom, train: s.train!, test: s.test, head: null, classifierFree: true });
    for (const w of m.warnings) warnings.push(`layer '${name}': ${w}`);
    const row: LayerCollapse = {
      layer: name, dim: s.dim, nc1: m.nc1, nc1TraceRatio: m.nc1TraceRatio, cdnv: m.cdnv, equinormMeans: m.equinormMeans,
      equiangularityMeans: m.equiangularityMeans, maxAngleMeans: m.maxAngleMeans, etfDistanceMeans: m.etfDistanceMeans,
      nccAccuracyTrain: m.nccAccuracyTrain,
    };
    if (m.nccAccuracyTest !== undefined) row.nccAccuracyTest = m.nccAccuracyTest;
    layers.push(row);
  }
  const g = f.train!.geom;
  const keptWeights = f.head ? Float64Array.from(g.classIds.flatMap((c) => [...f.head!.weight.subarray(c * g.dim, (c + 1) * g.dim)])) : null;
  const authors = collapseAuthors({
    centred: g.centred, weight: keptWeights, classes: g.classIds.length, dim: g.dim,
    agreeTrain: f.head ? f.train!.nccAgreesHeadNoBias : null, samplesTrain: f.train!.samples,
    ...(f.test ? { agreeTest: f.head ? f.test.nccAgreesHeadNoBias : null, samplesTest: f.test.samples } : {}),
  });
  const { warnings: _w, ...metrics } = main;
  const result: CollapseResult = {
    ...metrics,
    features,
    head: head ? { node: head.node, opType: head.opType, weight: head.weightTensor, bias: head.biasTensor, classes: head.classes } : null,
    layers,
    variants: COLLAPSE_VARIANTS,
    authors,
    ...(plan.info ? { sequence: plan.info } : {}),
  };
  return {
    result,
    backend,
    layer: features,
    warnings,
    timings: { loadMs, runMs, analysisMs: performance.now() - t0 - loadMs - runMs },
  };
}

registerAnalysis({
  name: 'collapse',
  description: 'Neural collapse NC1–NC4 (Papyan, Han & Donoho 2020; Tirer et al. 2023) on the classifier input, layer-wise NC1, trends over checkpoints',
  needsData: true,
  layers: { mode: 'many', description: "hidden layers for the layer-wise metrics (default: every hidden activation); the headline metrics use the classifier's input" },
  dataHint: 'labelled inputs: x, y (x_test, y_test for test metrics)',
  options: OPTIONS,
  async run(req, ctx) {
    const opts = resolveOptions(OPTIONS, req.options);
    return runOverModels(req, ctx, opts, (model, c) => collapseOne(model, req, opts, c));
  },
});
