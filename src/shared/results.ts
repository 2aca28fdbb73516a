/**
 * The analysis results as the views read them: the DESIGN.md result contract, typed once for the webviews
 * (results panel, circuits side panel, the overlay on the operator graph) and the HTML report. The engine's own
 * result types carry more fields; `src/engine/analyses/contract.ts` checks at compile time that each of them
 * is assignable to the view type here, so a renamed field breaks the build instead of a chart.
 *
 * Numbers that are undefined for a run (a metric with no meaning for that data) are `null`, never NaN.
 */
import type { AnalysisEnvelope, AnalysisName } from './analysis';

// ------------------------------------------------------------------------------------------------ authors

/**
 * The authors' conventions reported beside ours (ANALYSES.md §6, `result.authors`): which repository at which
 * commit, and for each field the file and function it follows.
 */
export interface AuthorsSourceView {
  repository: string;
  commit: string;
  follows: Record<string, string>;
}

/** rhubarbwu/neural-collapse: NCC mismatch without the classifier's bias; equiangularity as a population variance. */
export interface CollapseAuthorsView extends AuthorsSourceView {
  nccMismatchTrain: number | null;
  nccMismatchTest?: number | null;
  equiangularityMeans: number | null;
  equiangularityWeights: number | null;
}

/** diegodoimo/redundant_representation: the grid W // 2^i over all units, residual correlation over all pairs. */
export interface RedundancyAuthorsView extends AuthorsSourceView {
  width: number;
  chunks: { size: number; accuracyTrain: number | null; accuracyTest: number | null; r2: number | null; residualCorrelation: number | null }[];
  criticalWidth: number | null;
  clones: number | null;
  draws?: string;
}

/** ApolloResearch/rib: Λ of the constant direction carried through the activation (null where rib cannot fold). */
export interface LibAuthorsView extends AuthorsSourceView {
  layers: { name: string; lambda0: number | null; reason?: string }[];
}

// ------------------------------------------------------------------------------------------------ collapse

export interface CollapseMetricsView {
  classes: number;
  samples: number;
  dim: number;
  accuracyTrain: number | null;
  accuracyTest?: number | null;
  nc1: number | null;
  nc1TraceRatio: number | null;
  cdnv: number | null;
  equinormMeans: number | null;
  equinormWeights: number | null;
  equiangularityMeans: number | null;
  equiangularityWeights: number | null;
  maxAngleMeans: number | null;
  maxAngleWeights: number | null;
  etfDistanceMeans: number | null;
  etfDistanceWeights: number | null;
  selfDuality: number | null;
  selfDualityEtf: number | null;
  nccMismatchTrain: number | null;
  nccMismatchTest?: number | null;
  nccAccuracyTrain?: number | null;
  nccAccuracyTest?: number | null;
  /** The features analysed (the classifier's input value). */
  features: string;
  head: { node: string; opType: string; weight: string; bias?: string; classes: number } | null;
  /** Classifier-free metrics of every hidden layer, in graph order (value names). */
  layers: {
    layer: string;
    dim: number;
    nc1: number | null;
    nc1TraceRatio: number | null;
    cdnv: number | null;
    equinormMeans: number | null;
    equiangularityMeans: number | null;
    maxAngleMeans: number | null;
    etfDistanceMeans: number | null;
    nccAccuracyTrain: number;
    nccAccuracyTest?: number;
  }[];
  variants: Record<string, string>;
  authors?: CollapseAuthorsView;
}

// ------------------------------------------------------------------------------------------------ hash

export interface HashMetricsView {
  /** The coded values (value names), in code order. */
  layers: string[];
  activations: { layer: string; node: string; op: string; units: number; piecewiseLinear: boolean }[];
  units: number;
  codeBitsRaw: number;
  codeBits: number;
  redundancyRatioTrain: number;
  redundancyRatioTest: number | null;
  distinctTrain: number;
  distinctTest: number | null;
  kmeansAccuracyTrain: number | null;
  kmeansAccuracyTest: number | null;
  knnAccuracy: number | null;
  logisticAccuracy: number | null;
  networkAccuracyTrain: number | null;
  networkAccuracyTest: number | null;
  /** Train redundancy ratio on the first n samples (`--sampleSizes`). */
  bySampleSize?: { samples: number; distinct: number; redundancyRatio: number }[];
  variants: Record<string, string>;
}

// ------------------------------------------------------------------------------------------------ redundancy

export interface RedundancyChunkView {
  size: number;
  accuracyTrain: number | null;
  accuracyTest: number | null;
  r2: number | null;
  residualCorrelation: number | null;
  r2Std?: number | null;
  accuracyTestStd?: number | null;
}

export interface RedundancyMetricsView {
  /** The analysed layer (value name). */
  layer: string;
  head: { node: string; weight: string; bias?: string; classes: number } | null;
  /** Live units (constant units dropped). */
  width: number;
  layerWidth?: number;
  droppedConstantUnits: number;
  chunks: RedundancyChunkView[];
  criticalWidth: number | null;
  criticalWidths?: Record<string, number | null>;
  clones: number | null;
  /** Our extension (labelled as such): neurons grouped by average-linkage clustering on 1 − |corr|. */
  groups?: {
    label: string;
    method: string;
    threshold: number;
    count: number;
    /** Group index per unit of the layer (all `layerWidth` units; constant units are −1). */
    assignment: number[];
    sizes: number[];
    cohesion: (number | null)[];
  };
  networkAccuracyTrain: number | null;
  networkAccuracyTest: number | null;
  variants: Record<string, string>;
  authors?: RedundancyAuthorsView;
}

// ------------------------------------------------------------------------------------------------ lib

export interface LibLayerView {
  /** Value name of the node layer (a complete cut of the graph). */
  name: string;
  dim: number;
  rank: number;
  /** Λ of the kept directions, in basis order (the constant direction first when the bias was folded). */
  lambdas: number[];
  effectiveFeatures: number;
  firstRank?: number;
  folded?: boolean;
}

export interface LibEdgesView {
  from: string;
  to: string;
  /** rows = rank of `to`, cols = rank of `from`; `weights` row-major E_ij. */
  rows: number;
  cols: number;
  weights: number[];
  mass?: number;
  for90?: number;
  for99?: number;
}

/** The readable interaction graph the engine prepared (strongest nodes per layer, strongest edges per pair). */
export interface LibGraphView {
  layers: { name: string; nodes: { id: string; layer: number; index: number; lambda: number; constant: boolean }[] }[];
  edges: { from: string; to: string; weight: number }[];
  threshold: { massFraction: number; maxEdgesPerPair: number; maxNodesPerLayer: number; includesConstant: boolean };
}

export interface LibResultView {
  layers: LibLayerView[];
  edges: LibEdgesView[];
  edgesFor90: number;
  edgesFor99: number;
  pca?: { layers: LibLayerView[]; edges: LibEdgesView[]; edgesFor90: number; edgesFor99: number; ablation?: { layer: string; kept: number; accuracy: number }[] };
  ablation?: { layer: string; kept: number; accuracy: number }[];
  graph: LibGraphView;
  samples: number;
  positions: number;
  nodeLayers: { names: string[]; how: string };
  authors?: LibAuthorsView;
}

// ------------------------------------------------------------------------------------------------ attention

export interface SparsityStatsView {
  connectivity?: number | null;
  fractionAbove: number | null;
  fractionAboveInvT?: number | null;
  keysFor90: number | null;
  keysFor99?: number | null;
  entropyKeys: number | null;
  sinkMass: number | null;
}

export interface AttentionResultView {
  heads: (SparsityStatsView & { layer: number; head: number })[];
  layers: (SparsityStatsView & { layer: number; heads: number })[];
  global: SparsityStatsView;
  prompts: number;
  seqLen: number;
  /** Where each attention layer lives in the operator graph (node and value names). */
  blocks: { layer: number; name: string; softmax: string; probs: string; heads: number; gated: boolean }[];
  tokenGraph?: { prompt: number; tokens: number[]; threshold: number; heads: { layer: number; head: number; edges: { from: number; to: number; weight: number }[] }[] };
  definitions: Record<string, string>;
}

// ------------------------------------------------------------------------------------------------ circuit

export interface CircuitNodeView {
  id: string;
  kind: 'input' | 'head' | 'mlp' | 'logits';
  layer?: number;
  head?: number;
  /** The operator-graph element this component corresponds to (for click-through and the overlay). */
  graph?: { node?: string; value?: string };
}

export interface CircuitResultView {
  method: string;
  metric: string;
  pairs: number;
  seqLen: number;
  nodes: CircuitNodeView[];
  edges: { id: string; from: string; to: string; port?: string; score: number; inCircuit: boolean }[];
  totalEdges: number;
  listedEdges: number;
  circuit: {
    edges: string[];
    edgeCount: number;
    fraction: number;
    heads: string[];
    nodes: string[];
    target: number;
    reachedTarget: boolean;
    metricClean: number;
    metricCorrupt: number;
    metricCircuit: number;
    faithfulness: number | null;
  };
  sizeSearch: { n: number; edges: number; faithfulness: number | null }[];
  passes: { forward: number; backward: number };
  validation?: { top: number; spearmanTop: { eap: number; eapIg: number }; spearmanAll: { eap: number; eapIg: number } };
}

// ------------------------------------------------------------------------------------------------ envelopes

/** A checkpoint series / width sweep: one row per model, in order. */
export interface SeriesView<R> {
  models: number;
  series: (R & { model: string; checkpoint: number | null })[];
  variants?: Record<string, string>;
}

export interface ResultViewByAnalysis {
  collapse: CollapseMetricsView | SeriesView<CollapseMetricsView>;
  hash: HashMetricsView | SeriesView<HashMetricsView>;
  redundancy: RedundancyMetricsView | SeriesView<RedundancyMetricsView>;
  lib: LibResultView;
  attention: AttentionResultView;
  circuit: CircuitResultView;
}

/** An envelope whose `result` is typed by its `analysis`. */
export type TypedEnvelope = { [A in AnalysisName]: AnalysisEnvelope<ResultViewByAnalysis[A]> & { analysis: A } }[AnalysisName];

export function isSeries<R>(r: R | SeriesView<R>): r is SeriesView<R> {
  return typeof r === 'object' && r !== null && Array.isArray((r as SeriesView<R>).series);
}

/**
 * One analysis run as the UI keeps it: the envelope, where it was saved, and which dataset it used. `id` is
 * unique per run (also the saved file's stem).
 */
export interface RunRecord {
  id: string;
  envelope: TypedEnvelope;
  /** ISO time the run finished. */
  finishedAt: string;
  /** The dataset file (or spec) the run read, as the user picked it. */
  data?: string;
  /** Absolute path of the saved `.json` envelope, when saved. */
  savedTo?: string;
  /**
   * The checkpoint on this machine the user assigned the run to, when the envelope's `model` path does not
   * exist here (a run made elsewhere). Views trust it before the envelope's path.
   */
  modelFile?: string;
}

/** An operator-graph element to show: a value (tensor) name, resolved to its producer, or a node name/id. */
export interface RevealTarget {
  value?: string;
  node?: string;
  /** Shown in the graph's status line ("from the circuit view: a1.h0"). */
  label?: string;
}

/** What a standalone HTML report embeds (`circuitscope report` writes it; `src/webview/report` reads it). */
export interface ReportData {
  title: string;
  generatedAt: string;
  tool: string;
  /** Absolute path of the model, as the runs name it. */
  model?: string;
  summary?: import('./views').ModelSummaryView;
  /** The operator graph (omitted for very large graphs, with a note). */
  graph?: import('./ir').ModelGraph;
  runs: RunRecord[];
  notes: string[];
}
