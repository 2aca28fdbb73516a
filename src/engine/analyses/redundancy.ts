/**
 * `redundancy`: redundant representations / clones (Doimo, Glielmo, Goldt & Laio 2022) of the last hidden
 * layer (the classifier's input, or --layer), plus our explicit neuron grouping. See src/analysis/redundancy.ts.
 */
import { REDUNDANCY_VARIANTS, redundancyAnalysis } from '../../analysis/redundancy';
import { redundancyAuthors } from '../../analysis/authors';
import { findLinearHead, resolveLayer } from '../../model/patterns';
import type { AnalysisRequest } from '../../shared/analysis';
import type { RedundancyResult } from '../../shared/results';
import type { JobContext } from '../capture';
import { JobInputError, throwIfAborted } from '../errors';
import { loadCached } from '../modelCache';
import { Confusion, argmaxCorrect, floatData, labelRange, perSample, permutedLabelsWarning } from './outputs';
import { runOverModels, type OneResult } from './series';
import { DEFAULT_BATCH_SIZE, SplitBatches, prepareSplits, staged, type Split } from './splits';
import { registerAnalysis, resolveOptions } from './registry';
import { parsePosition, POSITION_OPTION, SequencePlan } from './sequence';

const OPTIONS = [
  { name: 'head', type: 'string' as const, description: 'node name of the linear classifier (default: the last Gemm / MatMul+Add before the output, or the one reading --layer)' },
  { name: 'accuracyTrials', type: 'integer' as const, default: 100, description: 'random chunks per size for the chunk accuracy' },
  { name: 'r2Trials', type: 'integer' as const, default: 40, description: 'random chunks per size for R² and the residual correlation' },
  { name: 'seed', type: 'integer' as const, default: 0, description: 'seed of the random chunks' },
  { name: 'alpha', type: 'number' as const, default: 1e-8, description: 'ridge strength of the chunk → layer regression' },
  { name: 'sizes', type: 'strings' as const, description: 'chunk sizes (default 1, 2, 4, … and the width)' },
  { name: 'groups', type: 'boolean' as const, default: true, description: 'our extension: group neurons by average-linkage clustering on 1 − |corr|' },
  { name: 'groupThreshold', type: 'number' as const, default: 0.5, description: 'cut height of the grouping dendrogram (in 1 − |corr|)' },
  { name: 'authors', type: 'boolean' as const, default: true, description: "also compute the authors' conventions (diegodoimo/redundant_representation: grid W // 2^i over all units, residual correlation over all pairs)" },
  POSITION_OPTION,
];

/** Bytes of activations held in memory at most (both splits): chunk accuracy needs every sample's units. */
const MAX_HELD_BYTES = 1024 * 2 ** 20;

async function collect(split: Split, layer: string, output: string, batchSize: number, ctx: JobContext, confusion?: Confusion) {
  const batches = new SplitBatches(split, [layer, output], batchSize, 0);
  let h: Float32Array | null = null;
  let width = 0, correct = 0, outputOk = true;
  await batches.forEach((b) => {
    const t = b.tensors[layer];
    if (!h) {
      width = perSample(t);
      const bytes = split.count * width * 4;
      if (bytes > MAX_HELD_BYTES / 2) {
        throw new JobInputError(`'${layer}' has ${width} units: ${split.count} ${split.name} samples would hold ${(bytes / 2 ** 20).toFixed(0)} MiB of activations; use --limit to analyse fewer samples`);
      }
      h = new Float32Array(split.count * width);
    }
    h.set(floatData(t, layer), b.start * width);
    const ok = argmaxCorrect(b.tensors[output], b.labels!, confusion);
    if (ok === null) outputOk = false;
    else correct += ok;
  }, ctx);
  return { h: h!, width, accuracy: outputOk ? correct / split.count : null, runMs: batches.runMs };
}

async function redundancyOne(model: string, req: AnalysisRequest, opts: Record<string, unknown>, ctx: JobContext): Promise<OneResult<RedundancyResult>> {
  const t0 = performance.now();
  const lm = await loadCached(model);
  const graph = lm.graph;
  if ((req.layers?.length ?? 0) > 1) throw new JobInputError(`redundancy analyses one layer, found ${req.layers!.length} (--layer ${req.layers!.join(', ')})`);
  const userLayer = req.layers?.[0] ? resolveLayer(graph, req.layers[0], '--layer') : undefined;
  const found = await findLinearHead(lm, { head: opts.head as string | undefined, layer: opts.head ? undefined : userLayer });
  const head = found.head;
  const layer = userLayer ?? head?.input;
  if (!layer) throw new JobInputError(`no last hidden layer to analyse: ${found.reason}; name it with --layer`, graph.file);
  const warnings: string[] = [];
  if (!head) warnings.push(`no linear classifier reads '${layer}' (${found.reason}): chunk accuracy is undefined, R² and residual correlation are computed`);
  const sizes = ((opts.sizes as string[] | undefined) ?? []).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new JobInputError(`option 'sizes' expects positive integers, found '${s}'`);
    return n;
  });
  for (const k of ['accuracyTrials', 'r2Trials'] as const) {
    if ((opts[k] as number) < 1) throw new JobInputError(`option '${k}' expects a positive integer, found ${opts[k]}`);
  }
  if (!((opts.alpha as number) >= 0)) throw new JobInputError(`option 'alpha' expects a number ≥ 0, found ${opts.alpha}`);
  const output = graph.outputs[0];
  const taps = [...new Set([layer, output])];
  const raw = await prepareSplits(model, req.data, taps, ctx, req.limit, true);
  const backend = raw.backend;
  // Per-position classifiers (CTC, LM heads): one position, or every position as a sample (option position).
  const plan = await SequencePlan.probe(raw.train, taps, layer, head, parsePosition(opts.position), ctx, { optional: new Set([output].filter((o) => o !== layer)), headOption: 'layer', file: graph.file });
  const train = plan.split(raw.train);
  const test = raw.test && plan.split(raw.test);
  const seqNote = plan.describe(layer);
  if (seqNote) warnings.push(seqNote);
  const loadMs = performance.now() - t0;
  const batchSize = req.batchSize ?? DEFAULT_BATCH_SIZE;
  const confusion = new Confusion(labelRange(train.labels));
  const tr = await collect(train, layer, output, batchSize, staged(ctx, 'train activations'), confusion);
  const te = test ? await collect(test, layer, output, batchSize, staged(ctx, 'test activations')) : null;
  const runMs = tr.runMs + (te?.runMs ?? 0);
  const W = tr.width;
  if (head && head.dim !== W) throw new JobInputError(`the classifier '${head.node}' takes ${head.dim} features but '${layer}' has ${W} per sample; name the classifier with --head <node> or its input with --layer <value>`, graph.file);
  const classes = head?.classes ?? labelRange(train.labels, test?.labels);
  const maxLabel = labelRange(train.labels, test?.labels);
  if (head && maxLabel > head.classes) throw new JobInputError(`labels go up to ${maxLabel - 1} but the classifier '${head.node}' has ${head.classes} outputs`, graph.file);
  if (!test) warnings.push('no test split (x_test/y_test): R² and residual correlation are measured on the training split, accuracyTest is not reported');
  const actx = staged(ctx, 'chunks');
  // the same data and draws for our conventions and the authors'
  const input = {
    train: { h: tr.h, rows: train.count, labels: train.labels },
    test: te && test ? { h: te.h, rows: test.count, labels: test.labels } : null,
    width: W,
    weight: head?.weight ?? null,
    bias: head?.bias ?? null,
    classes,
  };
  const draws = { accuracyTrials: opts.accuracyTrials as number, r2Trials: opts.r2Trials as number, seed: opts.seed as number, alpha: opts.alpha as number };
  const m = redundancyAnalysis(
    input,
    {
      ...draws,
      sizes: sizes.length ? sizes : undefined,
      groups: opts.groups as boolean,
      groupThreshold: opts.groupThreshold as number,
      monitor: { progress: actx.progress, check: () => throwIfAborted(ctx.signal) },
    },
  );
  warnings.push(...m.warnings);
  const authors = opts.authors === false
    ? undefined
    : redundancyAuthors(
      input,
      {
        ...draws,
        monitor: { progress: staged(ctx, 'authors’ conventions').progress, check: () => throwIfAborted(ctx.signal) },
      },
    );
  const { warnings: _w, ...metrics } = m;
  const accTr = tr.accuracy, accTe = te?.accuracy ?? null;
  const permuted = accTr !== null && permutedLabelsWarning(confusion, 'train', train.runner.dataset.classNames);
  if (permuted) warnings.unshift(permuted);
  if (accTr !== null && accTr < 1) {
    warnings.push(`train accuracy is ${accTr.toFixed(4)} < 1: redundancy is expected only at zero training error with regularisation (Doimo et al.)`);
  }
  const result: RedundancyResult = {
    layer,
    head: head ? { node: head.node, weight: head.weightTensor, bias: head.biasTensor, classes: head.classes } : null,
    ...metrics,
    networkAccuracyTrain: accTr,
    networkAccuracyTest: accTe,
    variants: REDUNDANCY_VARIANTS,
    ...(authors ? { authors } : {}),
    ...(plan.info ? { sequence: plan.info } : {}),
  };
  return { result, backend, layer, warnings, timings: { loadMs, runMs, analysisMs: performance.now() - t0 - loadMs - runMs } };
}

registerAnalysis({
  name: 'redundancy',
  description: 'Redundant representations / clones (Doimo et al. 2022): chunk accuracy, R², residual correlation, critical width; plus our neuron grouping',
  needsData: true,
  layers: { mode: 'one', description: "the layer whose units are analysed (default: the classifier's input)" },
  dataHint: 'labelled inputs: x, y and x_test, y_test (R² on the test split)',
  options: OPTIONS,
  async run(req, ctx) {
    const opts = resolveOptions(OPTIONS, req.options);
    return runOverModels(req, ctx, opts, (model, c) => redundancyOne(model, req, opts, c));
  },
});
