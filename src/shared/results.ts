/**
 * The analysis results: the DESIGN.md result contract, declared once. `src/analysis` returns these types
 * directly (it imports them as types only), the engine adds what it knows about the model (layer names, the
 * classifier it found, the variant labels), and the CLI's `--json`, the webviews (results panel, circuits side
 * panel, the overlay on the operator graph) and the HTML report read the same declarations — a renamed field
 * breaks the build on every side at once.
 *
 * Metrics that are undefined for a run (no meaning for that data) are `null` with a warning saying why, never
 * NaN. Warnings travel in the envelope (`AnalysisEnvelope.warnings`), not in `result`.
 */
import type { AnalysisEnvelope, AnalysisName } from './analysis';

// ------------------------------------------------------------------------------------------------ authors

/**
 * The authors' conventions reported beside ours (ANALYSES.md §6, `result.authors`): which repository at which
 * commit, and for each field the file and function it follows.
 */
export interface AuthorsSource {
  repository: string;
  commit: string;
  follows: Record<string, string>;
}

/** rhubarbwu/neural-collapse: NCC mismatch without the classifier's bias; equiangularity as a population variance. */
export interface CollapseAuthors extends AuthorsSource {
  /** Share of train samples where argmax(W h) (no bias) ≠ the nearest train class mean. */
  nccMismatchTrain: number | null;
  nccMismatchTest?: number | null;
  /** Population variance of the cosines of μ_c − μ_G over unordered pairs (resp. of the raw rows w_c). */
  equiangularityMeans: number | null;
  equiangularityWeights: number | null;
}

export interface AuthorsChunk {
  size: number;
  accuracyTrain: number | null;
  accuracyTest: number | null;
  r2: number;
  /** Null with fewer than 2 samples (np.cov is undefined there). */
  residualCorrelation: number | null;
}

/** diegodoimo/redundant_representation: the grid W // 2^i over all units, residual correlation over all pairs. */
export interface RedundancyAuthors extends AuthorsSource {
  /** All units of the layer (the authors drop none). */
  width: number;
  chunks: AuthorsChunk[];
  criticalWidth: number | null;
  clones: number | null;
  /** How our draws differ from theirs (same expectation). */
  draws: string;
}

/** ApolloResearch/rib: Λ of the constant direction carried through the activation (null where rib cannot fold). */
export interface LibAuthors extends AuthorsSource {
  /** Folded node layers, input side first; lambda0 null (with the reason) where rib's folding does not apply. */
  layers: { name: string; lambda0: number | null; reason?: string }[];
}

/** Labels of the variants and conventions an analysis picked (shown beside its numbers). */
export type VariantLabels = Record<string, string>;

// ------------------------------------------------------------------------------------------------ collapse

/** What `collapseMetrics` (src/analysis/collapse.ts) computes from the two passes over one feature layer. */
export interface CollapseMetrics {
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
  nccAccuracyTrain: number;
  nccAccuracyTest?: number;
  /** Number of Σ_B eigenpairs inverted for nc1. */
  sigmaBRank: number;
  /** Classes without training samples (dropped). */
  droppedClasses: number[];
  warnings: string[];
}

/** Classifier-free metrics of one hidden layer. */
export interface LayerCollapse {
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
}

/** `collapse`: the metrics of the classifier's input plus the classifier-free metrics of every hidden layer. */
export interface CollapseResult extends Omit<CollapseMetrics, 'warnings'> {
  /** The features analysed (the classifier's input value). */
  features: string;
  head: { node: string; opType: string; weight: string; bias?: string; classes: number } | null;
  /** Classifier-free metrics of every hidden layer, in graph order (value names). */
  layers: LayerCollapse[];
  variants: VariantLabels;
  /** rhubarbwu/neural-collapse's conventions beside ours (ANALYSES.md §6); absent in runs saved before them. */
  authors?: CollapseAuthors;
  /** Per-position classifiers (CTC, LM heads): which positions were the samples; absent for per-sample ones. */
  sequence?: SequenceInfo;
}

// ------------------------------------------------------------------------------------------------ hash

/** What `hashCodeAnalysis` (src/analysis/hashCodes.ts) computes; the engine adds the network's accuracies. */
export interface HashMetrics {
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
  /** Train redundancy ratio on the first n samples (`--sampleSizes`). */
  bySampleSize?: { samples: number; distinct: number; redundancyRatio: number }[];
  /** Diagnostics of the probes (iterations, inertia, convergence). */
  probes: {
    kmeans?: { train?: { inertia: number; iterations: number }; test?: { inertia: number; iterations: number } };
    logistic?: { pairs: number; notConverged: number; maxIterations: number };
  };
  warnings: string[];
}

/** `hash`: activation hash codes of every ReLU-like activation. */
export interface HashResult extends Omit<HashMetrics, 'warnings'> {
  /** The coded values (value names), in code order. */
  layers: string[];
  activations: { layer: string; node: string; op: string; units: number; piecewiseLinear: boolean }[];
  /** Hidden units coded (= codeBitsRaw): the model-size axis of the phase chart. */
  units: number;
  networkAccuracyTrain: number | null;
  networkAccuracyTest: number | null;
  variants: VariantLabels;
  /** Per-position classifiers (CTC, LM heads): which positions were the samples; absent for per-sample ones. */
  sequence?: SequenceInfo;
}

// ------------------------------------------------------------------------------------------------ redundancy

export interface RedundancyChunk {
  size: number;
  accuracyTrain: number | null;
  accuracyTest: number | null;
  r2: number;
  /** Mean |corr| of the residuals over pairs of units outside the chunk (null when fewer than 2 remain). */
  residualCorrelation: number | null;
  /** Standard deviations over the trials. */
  r2Std: number;
  accuracyTestStd: number | null;
  trials: { accuracy: number; r2: number };
}

/** Our extension (labelled as such): neurons grouped by average-linkage clustering on 1 − |corr|. */
export interface RedundancyGroups {
  label: string;
  method: string;
  threshold: number;
  count: number;
  /** Group of every unit of the layer (all `layerWidth` units; −1 for dropped constant units). */
  assignment: number[];
  sizes: number[];
  /** Mean |corr| inside each group (1 for singletons). */
  cohesion: number[];
}

/** What `redundancyAnalysis` (src/analysis/redundancy.ts) computes on one layer. */
export interface RedundancyMetrics {
  /** Live units analysed (the layer width minus constant units). */
  width: number;
  layerWidth: number;
  droppedConstantUnits: number;
  chunks: RedundancyChunk[];
  criticalWidth: number | null;
  /** Critical width per R² threshold ("0.9", "0.95", "0.99"). */
  criticalWidths: Record<string, number | null>;
  clones: number | null;
  /** Chunk accuracy of all live units (equals the network's accuracy when this layer feeds the classifier). */
  fullAccuracyTrain: number | null;
  fullAccuracyTest: number | null;
  r2Split: 'test' | 'train';
  groups?: RedundancyGroups;
  warnings: string[];
}

/** `redundancy`: redundant representations / clones of one layer. */
export interface RedundancyResult extends Omit<RedundancyMetrics, 'warnings'> {
  /** The analysed layer (value name). */
  layer: string;
  head: { node: string; weight: string; bias?: string; classes: number } | null;
  networkAccuracyTrain: number | null;
  networkAccuracyTest: number | null;
  variants: VariantLabels;
  /** diegodoimo/redundant_representation's conventions beside ours (ANALYSES.md §6); absent with --authors false. */
  authors?: RedundancyAuthors;
  /** Per-position classifiers (CTC, LM heads): which positions were the samples; absent for per-sample ones. */
  sequence?: SequenceInfo;
}

// ------------------------------------------------------------------------------------------------ lib

/** One node layer (a complete cut of the graph, by value name). */
export interface LibLayerResult {
  name: string;
  /** Folded dimension (w + 1), or w for the output layer. */
  dim: number;
  /** Directions kept (constant included for folded layers). */
  rank: number;
  /** Λ of the kept directions, in basis order (the constant direction first for folded layers). */
  lambdas: number[];
  /** Λ > 1e-3·Λmax, constant direction excluded. */
  effectiveFeatures: number;
  /** Directions after the first truncation (constant included). */
  firstRank?: number;
  /** Whether the last coordinate is the folded constant. */
  folded: boolean;
}

/** Edges between adjacent node layers (`weights` is rows × cols, row-major: rows = `to`'s directions). */
export interface LibEdgesResult {
  from: string;
  to: string;
  rows: number;
  cols: number;
  weights: number[];
  /** Edge-mass statistics of this pair, constant nodes excluded. */
  mass: number;
  for90: number;
  for99: number;
}

export interface LibGraphNode {
  id: string;
  layer: number;
  /** Direction index in the layer's basis (0 = constant for folded layers). */
  index: number;
  lambda: number;
  constant: boolean;
}

export interface LibGraphEdge {
  from: string;
  to: string;
  weight: number;
}

/** What the side panel draws: layers of nodes (sorted by Λ) and the strongest edges. */
export interface LibGraph {
  layers: { name: string; nodes: LibGraphNode[] }[];
  edges: LibGraphEdge[];
  /** How edges were chosen: per adjacent pair, the strongest edges holding `massFraction` of the mass, at most `maxEdgesPerPair`. */
  threshold: { massFraction: number; maxEdgesPerPair: number; maxNodesPerLayer: number; includesConstant: boolean };
}

export interface AblationPoint {
  layer: string;
  kept: number;
  accuracy: number;
}

/** `lib`: the Local Interaction Basis (DESIGN.md contract fields first; the rest are documented extras). */
export interface LibResult {
  layers: LibLayerResult[];
  edges: LibEdgesResult[];
  /** Σ over adjacent layer pairs of the edges holding 90% (99%) of that pair's mass, constant nodes excluded. */
  edgesFor90: number;
  edgesFor99: number;
  pca?: { layers: LibLayerResult[]; edges: LibEdgesResult[]; edgesFor90: number; edgesFor99: number; ablation?: AblationPoint[] };
  ablation?: AblationPoint[];
  graph: LibGraph;
  samples: number;
  positions: number;
  nodeLayers: { names: string[]; how: string };
  /** `route`: where an autodiff section's VJPs ran (an onnxruntime gradient graph or the tfjs translator). */
  sections: { from: string; to: string; method: 'closed-form' | 'autodiff'; activation?: string; note?: string; route?: 'onnxruntime' | 'tfjs' }[];
  /** `backend`: the routes that computed VJPs, in words (absent when none ran). */
  jacobians: { vjps: number; stochasticSources: number; backend?: string; tfjsBackend?: string; constantCoordinate: string };
  ablationSplit?: string;
  invariants?: { layer: string; gram: number; jacobian: number; pinv: number; constantRow: number }[];
  crossCheck?: { from: string; to: string; mPrime: number; edges: number; samples: number }[];
  /** ApolloResearch/rib's Λ of the constant direction beside ours (ANALYSES.md §6); absent in runs saved before it. */
  authors?: LibAuthors;
}

/** Per-position classifiers (CTC, language-model heads; option `position`): which positions were the samples. */
export interface SequenceInfo {
  /** 'all': every position a sample; 'position': one position per input. */
  mode: 'all' | 'position';
  positions: number;
  /** The position used (0-based), for mode 'position'. */
  position?: number;
  /** Taps left out because they are not per position (mode 'all'). */
  dropped: string[];
}

// ------------------------------------------------------------------------------------------------ attention

export interface SparsityMetrics {
  /** Gated models only (a gate bias was given). */
  connectivity?: number;
  fractionAbove: number;
  fractionAboveInvT: number;
  keysFor90: number;
  keysFor99: number;
  entropyKeys: number;
  sinkMass: number;
}

export interface HeadSparsity extends SparsityMetrics {
  layer: number;
  head: number;
}

export interface LayerSparsity extends SparsityMetrics {
  layer: number;
  heads: number;
}

/** What `SparsityAccumulator` (src/analysis/attention.ts) computes. */
export interface SparsityResult {
  heads: HeadSparsity[];
  layers: LayerSparsity[];
  global: SparsityMetrics;
  /** Prompts and valid queries counted. */
  prompts: number;
  queries: number;
  seqLen: number;
  epsilon: number;
  gateBias?: number;
}

/** A token-level attention graph of one prompt: edges key → query with weight ≥ threshold. */
export interface TokenGraph {
  prompt: number;
  /** The prompt's token ids; for inputs that are not tokens (images, features), the key positions 0 … T−1. */
  tokens: number[];
  /** What `tokens` holds (absent in runs saved before it: token ids). */
  positions?: 'tokens' | 'keys';
  threshold: number;
  heads: { layer: number; head: number; edges: { from: number; to: number; weight: number }[] }[];
}

/** An attention op fused into one node (its heads are not visible to the analyses). */
export interface FusedAttention {
  node: string;
  opType: string;
  domain: string;
}

/** `attention`: sparsity proxies per head, per layer and globally, plus one prompt's token graph. */
export interface AttentionResult extends SparsityResult {
  /** Where each attention layer lives in the operator graph (node and value names). */
  blocks: {
    layer: number;
    name: string;
    softmax: string;
    probs: string;
    logits: string;
    scores: string;
    heads: number;
    gated: boolean;
    steps: string;
    /** Query and key positions (positions = the key axis); absent in runs saved before them. */
    queries?: number;
    keys?: number;
    /** The pairs counted: causal (key ≤ query) or all. */
    pairs?: 'causal' | 'all';
    /** Keys per sample the model gave exactly zero weight from every query and head (a mask), averaged. */
    maskedKeys?: number;
  }[];
  /** What the model read (absent in runs saved before it: token prompts). */
  input?: { kind: 'tokens' | 'samples'; sampleShape: number[] };
  fused: FusedAttention[];
  notes: string[];
  tokenGraph?: TokenGraph;
  definitions: Record<string, string>;
}

// ------------------------------------------------------------------------------------------------ circuit

export type Port = 'q' | 'k' | 'v';

/** A component of the residual stream: `input`, a head `a{l}.h{h}`, an MLP `m{l}`, the `logits`. */
export interface CircuitNode {
  id: string;
  kind: 'input' | 'head' | 'mlp' | 'logits';
  layer?: number;
  head?: number;
}

/** A component as the result lists it, with the operator-graph element it corresponds to (click-through, overlay). */
export interface CircuitResultNode extends CircuitNode {
  graph?: { node?: string; value?: string };
}

/** Edge scores: EAP, or EAP-IG (integrated gradients over the input embeddings). */
export type ScoreMethod = 'eap' | 'eap-ig';

export interface SizeSearchPoint {
  n: number;
  /** Edges left after pruning. */
  edges: number;
  faithfulness: number | null;
}

/** `circuit`: scored component-graph edges, the selected circuit and its faithfulness. */
export interface CircuitResult {
  method: ScoreMethod;
  steps?: number;
  metric: string;
  pairs: number;
  seqLen: number;
  layout: string;
  nodes: CircuitResultNode[];
  edges: { id: string; from: string; to: string; port?: string; score: number; inCircuit: boolean }[];
  totalEdges: number;
  listedEdges: number;
  circuit: {
    edges: string[];
    n: number;
    edgeCount: number;
    fraction: number;
    heads: string[];
    nodes: string[];
    selection: 'topn' | 'greedy';
    target: number;
    reachedTarget: boolean;
    metricClean: number;
    metricCorrupt: number;
    metricCircuit: number;
    faithfulness: number | null;
  };
  sizeSearch: SizeSearchPoint[];
  passes: { forward: number; backward: number; scoring: { forward: number; backward: number }; search: { forward: number } };
  validation?: {
    exactScores: number[];
    top: number;
    spearmanTop: { eap: number; eapIg: number };
    spearmanAll: { eap: number; eapIg: number };
    forwardPasses: number;
    /** Exact patching alone; `ms` also holds the other method's scoring pass. */
    exactMs: number;
    ms: number;
  };
}

// ------------------------------------------------------------------------------------------------ envelopes

/** A checkpoint series / width sweep: one row per model, in order; the variant labels hoisted beside it. */
export interface Series<R> {
  models: number;
  series: (Omit<R, 'variants'> & { model: string; checkpoint: number | null })[];
  variants?: VariantLabels;
}

export interface ResultByAnalysis {
  collapse: CollapseResult | Series<CollapseResult>;
  hash: HashResult | Series<HashResult>;
  redundancy: RedundancyResult | Series<RedundancyResult>;
  lib: LibResult;
  attention: AttentionResult;
  circuit: CircuitResult;
}

/** An envelope whose `result` is typed by its `analysis`. */
export type TypedEnvelope = { [A in AnalysisName]: AnalysisEnvelope<ResultByAnalysis[A]> & { analysis: A } }[AnalysisName];

export function isSeries<R>(r: R | Series<R>): r is Series<R> {
  return typeof r === 'object' && r !== null && Array.isArray((r as Series<R>).series);
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
  summary?: import('./summary').ModelSummary;
  /** The operator graph (omitted for very large graphs, with a note). */
  graph?: import('./ir').ModelGraph;
  runs: RunRecord[];
  notes: string[];
}
