/**
 * `hash`: activation hash codes (He, Lei, Ji & Tao 2021) of every ReLU-like activation, their redundancy
 * ratios and probe accuracies; over several models (a width sweep or a checkpoint series) one row per model —
 * the data of the activation hash phase chart. See src/analysis/hashCodes.ts.
 */
import { AUTO_SAMPLE_SIZE_MIN, autoSampleSizes, CodeBuilder, HASH_VARIANTS, hashCodeAnalysis } from '../../analysis/hashCodes';
import { findActivations, resolveLayer, type ActivationInfo } from '../../model/patterns';
import type { AnalysisRequest } from '../../shared/analysis';
import type { HashResult } from '../../shared/results';
import type { JobContext } from '../capture';
import { JobInputError, throwIfAborted } from '../errors';
import { loadCached } from '../modelCache';
import { Confusion, argmaxCorrect, floatData, labelRange, perSample, permutedLabelsWarning } from './outputs';
import { runOverModels, type OneResult } from './series';
import { DEFAULT_BATCH_SIZE, SplitBatches, prepareSplits, staged, type Split } from './splits';
import { registerAnalysis, resolveOptions } from './registry';
import { parsePosition, POSITION_OPTION, SequencePlan } from './sequence';

const PROBES = ['kmeans', 'knn', 'logistic'];

const OPTIONS = [
  { name: 'probes', type: 'strings' as const, default: PROBES, choices: PROBES, description: 'probes to run on the codes (comma-separated)' },
  { name: 'seed', type: 'integer' as const, default: 0, description: 'seed of the K-means restarts' },
  { name: 'kmeansInit', type: 'integer' as const, default: 10, description: 'K-means restarts (k-means++), the lowest inertia is kept' },
  { name: 'knnK', type: 'integer' as const, default: 9, description: 'neighbours of the Hamming KNN probe' },
  { name: 'logisticC', type: 'number' as const, default: 1, description: 'inverse L2 strength of the one-vs-one logistic probe' },
  POSITION_OPTION,
  { name: 'sampleSizes', type: 'strings' as const, default: ['auto'], description: `the train redundancy ratio on the first n samples, for each n (e.g. 500,1000,2000); 'auto': n, n/2, n/4, … down to ${AUTO_SAMPLE_SIZE_MIN} (the phase chart's sample-size axis); 'none'` },
];

interface Coded {
  value: string;
  info: ActivationInfo | null;
}

/** The values to code: every ReLU-like activation, or the --layer names (an activation's node or output means its code value). */
function codedValues(layers: string[] | undefined, acts: ActivationInfo[], resolve: (l: string) => string): Coded[] {
  if (!layers?.length) return acts.map((a) => ({ value: a.value, info: a }));
  return layers.map((l) => {
    const a = acts.find((x) => x.node === l || x.output === l || x.value === l);
    return a ? { value: a.value, info: a } : { value: resolve(l), info: null };
  });
}

async function buildCodes(split: Split, coded: Coded[], taps: string[], output: string, batchSize: number, ctx: JobContext, confusion?: Confusion) {
  const batches = new SplitBatches(split, taps, batchSize, 0);
  let builder: CodeBuilder | null = null;
  let correct = 0;
  let outputOk = true;
  await batches.forEach((b) => {
    const layers = coded.map((c) => floatData(b.tensors[c.value], c.value));
    builder ??= new CodeBuilder(coded.map((c) => perSample(b.tensors[c.value])), split.count);
    builder.add(layers, b.count, b.start);
    const ok = argmaxCorrect(b.tensors[output], b.labels!, confusion);
    if (ok === null) outputOk = false;
    else correct += ok;
  }, ctx);
  return { builder: builder!, accuracy: outputOk ? correct / split.count : null, runMs: batches.runMs };
}

async function hashOne(model: string, req: AnalysisRequest, opts: Record<string, unknown>, ctx: JobContext): Promise<OneResult<HashResult>> {
  const t0 = performance.now();
  const lm = await loadCached(model);
  const graph = lm.graph;
  const { activations, piecewiseLinear } = await findActivations(lm);
  const coded = codedValues(req.layers, activations, (l) => resolveLayer(graph, l, '--layer'));
  if (!coded.length) {
    throw new JobInputError('no ReLU-like activation found in the graph (Relu, LeakyRelu, PRelu, Clip(0, ·), or smooth ones such as Gelu); name the values to code with --layer', graph.file);
  }
  const warnings: string[] = [];
  if (!req.layers?.length && !piecewiseLinear) {
    warnings.push(`the network has no piecewise-linear activation; coding the smooth ones (${[...new Set(activations.map((a) => a.op))].join(', ')}) by sign: the code still exists but no longer names a linear region`);
  }
  const sizeSpec = ((opts.sampleSizes as string[] | undefined) ?? []).map((s) => s.trim()).filter((s) => s !== '');
  const special = sizeSpec.length === 1 && (sizeSpec[0] === 'auto' || sizeSpec[0] === 'none') ? sizeSpec[0] : null;
  const given = special
    ? []
    : sizeSpec.map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 1) throw new JobInputError(`option 'sampleSizes' expects positive integers, 'auto' or 'none', found '${s}'`);
        return n;
      });
  const output = graph.outputs[0];
  const taps = [...new Set([...coded.map((c) => c.value), output])];
  const raw = await prepareSplits(model, req.data, taps, ctx, req.limit, true);
  const backend = raw.backend;
  // Per-position models: positions are read from the network's output (batch, positions, classes).
  const plan = await SequencePlan.probe(raw.train, taps, output, null, parsePosition(opts.position), ctx, { headOption: 'layer', file: graph.file });
  const train = plan.split(raw.train);
  const test = raw.test && plan.split(raw.test);
  const seqNote = plan.describe(output);
  if (seqNote) warnings.push(seqNote);
  const loadMs = performance.now() - t0;
  const batchSize = req.batchSize ?? DEFAULT_BATCH_SIZE;
  const confusion = new Confusion(labelRange(train.labels));
  const tr = await buildCodes(train, coded, taps, output, batchSize, staged(ctx, 'train codes'), confusion);
  const te = test ? await buildCodes(test, coded, taps, output, batchSize, staged(ctx, 'test codes')) : null;
  const runMs = tr.runMs + (te?.runMs ?? 0);
  const labelIds = labelRange(train.labels, test?.labels);
  if (labelIds < 2) throw new JobInputError(`expected at least 2 classes, found labels 0..${labelIds - 1}`);
  // The probes see the classes present (K-means k = their number): per-position labels of a CTC or language-model
  // head use a few ids of a large vocabulary (the PP-OCRv4 recognizer: 13 of 6625), and k = 6625 clusters of a few
  // hundred codes, or 6625·6624/2 logistic pairs, would neither mean anything nor finish.
  const probeLabels = compactLabels(train.labels, test?.labels ?? null, labelIds);
  const classes = probeLabels.classes;
  if (classes < labelIds) warnings.push(`the probes use the ${classes} classes present in the labels (ids 0..${labelIds - 1}); K-means k = ${classes}`);
  const sizes = special === 'auto' ? autoSampleSizes(train.count) : given;
  const tooBig = sizes.filter((n) => n > train.count);
  if (tooBig.length) warnings.push(`sampleSizes ${tooBig.join(', ')} exceed the ${train.count} training samples and were skipped`);
  const probes = new Set(opts.probes as string[]);
  const analysisCtx = staged(ctx, 'probes');
  const m = hashCodeAnalysis(
    { train: tr.builder.codes, labelsTrain: probeLabels.train, test: te?.builder.codes ?? null, labelsTest: probeLabels.test, classes },
    {
      seed: opts.seed as number,
      kmeansInit: opts.kmeansInit as number,
      knnK: opts.knnK as number,
      logisticC: opts.logisticC as number,
      probes: { kmeans: probes.has('kmeans'), knn: probes.has('knn'), logistic: probes.has('logistic') },
      sampleSizes: sizes,
      monitor: { progress: analysisCtx.progress, check: () => throwIfAborted(ctx.signal) },
    },
  );
  warnings.push(...m.warnings);
  // The probes learn from the labels, so their accuracy does not depend on the label order agreeing with the model's.
  const probe = m.logisticAccuracy !== null ? { name: 'the logistic probe accuracy', value: m.logisticAccuracy } : m.knnAccuracy !== null ? { name: 'the KNN probe accuracy', value: m.knnAccuracy } : undefined;
  const permuted = tr.accuracy !== null && permutedLabelsWarning(confusion, 'train', train.runner.dataset.classNames, probe);
  if (permuted) warnings.unshift(permuted);
  const { warnings: _w, ...metrics } = m;
  const units = tr.builder.codes.bits;
  const result: HashResult = {
    layers: coded.map((c) => c.value),
    activations: coded.map((c, l) => ({
      layer: c.value,
      node: c.info?.node ?? '(named by --layer)',
      op: c.info?.op ?? 'sign of the value',
      units: tr.builder.widths[l],
      piecewiseLinear: c.info?.piecewiseLinear ?? false,
    })),
    units,
    ...metrics,
    networkAccuracyTrain: tr.accuracy,
    networkAccuracyTest: te?.accuracy ?? null,
    variants: HASH_VARIANTS,
    ...(plan.info ? { sequence: plan.info } : {}),
  };
  return {
    result,
    backend,
    layer: result.layers,
    warnings,
    timings: { loadMs, runMs, analysisMs: performance.now() - t0 - loadMs - runMs },
  };
}

/** Labels renumbered 0..K−1 over the K ids present in train ∪ test (the same arrays when every id 0..ids−1 is present). */
export function compactLabels(train: Int32Array, test: Int32Array | null, ids: number): { train: Int32Array; test: Int32Array | null; classes: number } {
  const map = new Int32Array(ids).fill(-1);
  for (const l of [train, test]) {
    if (!l) continue;
    for (let i = 0; i < l.length; i++) {
      // an out-of-range id is left to the analysis's own label check
      if (!(l[i] >= 0 && l[i] < ids)) return { train, test, classes: ids };
      map[l[i]] = 0;
    }
  }
  let k = 0;
  for (let c = 0; c < ids; c++) if (map[c] === 0) map[c] = k++;
  if (k === ids) return { train, test, classes: ids };
  return { train: train.map((v) => map[v]), test: test ? test.map((v) => map[v]) : null, classes: k };
}

registerAnalysis({
  name: 'hash',
  description: 'Activation hash codes (He, Lei, Ji & Tao 2021): redundancy ratio and K-means/KNN/logistic probes on ReLU codes; the phase chart over widths or checkpoints',
  needsData: true,
  layers: { mode: 'many', description: 'ReLU-like activations whose on/off pattern forms the code (default: all of them)' },
  dataHint: 'labelled inputs: x, y and x_test, y_test (the probes are scored on the test split)',
  options: OPTIONS,
  async run(req, ctx) {
    const opts = resolveOptions(OPTIONS, req.options);
    return runOverModels(req, ctx, opts, (model, c) => hashOne(model, req, opts, c));
  },
});
