/**
 * `lib`: the Local Interaction Basis and its interaction graph (Bushnaq et al. 2024; ANALYSES.md §4), wired to
 * the engine: node layers are captured with onnxruntime taps and streamed batch by batch; every second moment is
 * accumulated in float64; M′ comes from the closed form for Linear → pointwise sections and from VJPs otherwise
 * (per output position for sequence models, or with stochastic ±1 sources) — on onnxruntime gradient graphs, the
 * tfjs translator as the fallback (libGrad.ts); edges,
 * the PCA baseline through the same path, node-ablation curves, and the readable graph for the side panel.
 *
 * The constant (bias) coordinate in autodiff sections. A generic ONNX section has its biases inside, not as a
 * weight on an input coordinate, so ∂/∂(constant) is defined by homogeneity: for an output direction c and input
 * position s, J̄_{c,s}[const] = δ_{st}⟨c, F(x)_t⟩ − ⟨∂⟨c,F⟩/∂x_s, x_s⟩ (t the output position of c), so that
 * Σ_s J̄_{c,s}·[x_s; 1] = ⟨c, F(x)⟩ (Euler). For Linear → ReLU sections this is exactly the folded bias column
 * (C_hᵀ diag(g) b); for GELU, LayerNorm and attention it is the offset of the local linearisation. It is linear in
 * the cotangent, so the stochastic-sources estimator applies to it unchanged.
 */
import type { LayerBasis, MPrime, Thresholds, Whitening } from '../../analysis/lib';
import type { AblationPoint, LibEdgesResult, LibLayerResult, LibResult } from '../../shared/results';
import {
  JacobianAccumulator,
  MomentAccumulator,
  buildGraph,
  closedFormEdgesAccumulate,
  closedFormFactor,
  closedFormMPrime,
  closedFormMiddle,
  constantRowError,
  derivativeRows,
  edgeMass,
  effectiveFeatures,
  gatesFromOutput,
  gramInvariantError,
  identityBasis,
  jacobianInvariantError,
  libBasis,
  pcaBasis,
  pinvInvariantError,
  projectRows,
  relativeFrobenius,
  sectionA,
  whiten,
} from '../../analysis/lib';
import { matmul, matmulAtB, syrkAccumulate, transpose } from '../../analysis/linalg/index';
import { mulberry32 } from '../../analysis/stats/random';
import type { Dataset } from '../../model/datasets';
import type { LoadedModel } from '../../model/ir';
import type { OrtOutput } from '../../model/runtime/ort';
import type { TfjsGraphExecutor } from '../../model/runtime/tfjs';
import type { AnalysisEnvelope, AnalysisRequest, OptionSpec } from '../../shared/analysis';
import type { CostEstimate } from '../../shared/engineProtocol';
import { forEachBatch, prepareTaps, tfjsBackendSetting, type JobContext, type TapBatch, type TapRunner } from '../capture';
import { JobInputError, throwIfAborted } from '../errors';
import { loadCached } from '../modelCache';
import { registerAnalysis, resolveOptions } from './registry';
import { LibKernels } from './libKernels';
import { autoNodeLayers, planSections, userNodeLayers, type ClosedSection, type Section } from './libModel';
import { libAuthors } from './libAuthors';
import * as tfjsModule from '../../model/runtime/tfjs';
import { AutodiffError } from '../../model/autodiff';
import type { OnnxModelProto } from '../../model/formats/onnx';
import { readModelProto } from '../../model/load';
import { ortSectionVjp, tfjsSectionVjp, type GradRoute, type SectionVjp } from './libGrad';

export const LIB_OPTIONS: OptionSpec[] = [
  { name: 'threshold', type: 'number', default: 1e-7, description: 'first truncation, relative: keep covariance eigenvalues > threshold · the largest' },
  { name: 'absThreshold', type: 'number', default: 0, description: 'first truncation, absolute floor on the covariance eigenvalues' },
  { name: 'lambdaThreshold', type: 'number', default: 1e-7, description: 'second truncation, relative: keep Λ > lambdaThreshold · the largest Λ' },
  { name: 'absLambdaThreshold', type: 'number', default: 0, description: 'second truncation, absolute floor on Λ' },
  { name: 'jacobians', type: 'string', default: 'auto', choices: ['auto', 'autodiff'], description: 'M′ and edges: closed form for Linear → pointwise sections (auto) or autodiff everywhere' },
  { name: 'stochasticSources', type: 'integer', default: 0, description: 'sequence models: this many random ±1 sources over output positions per direction instead of one VJP per position (0 = exact)' },
  { name: 'seed', type: 'integer', default: 0, description: 'seed of the stochastic sources' },
  { name: 'pca', type: 'boolean', default: true, description: 'also compute the PCA baseline (same code path, C = W)' },
  { name: 'ablation', type: 'boolean', default: true, description: 'node-ablation curves (top-k directions kept) for LIB and PCA when labels are given' },
  { name: 'checkInvariants', type: 'boolean', default: false, description: 'measure E[f̂f̂ᵀ] = diag(Λ), E[ĴᵀĴ] = I, C_pinv C = I on the data (one more pass)' },
  { name: 'crossCheck', type: 'boolean', default: false, description: 'closed-form sections: also compute M′ and the edges by autodiff and report the relative differences' },
  { name: 'vjpBatch', type: 'integer', default: 0, description: 'samples per VJP (0: 32 for sequence models, 256 otherwise)' },
  { name: 'route', type: 'string', default: 'auto', choices: ['auto', 'onnxruntime', 'tfjs'], description: 'where autodiff Jacobians run: auto (onnxruntime gradient graphs, the tfjs translator for a section whose graph does not build), onnxruntime or tfjs' },
  { name: 'vjpStack', type: 'integer', default: 0, description: 'cotangents per onnxruntime VJP call, stacked on the batch axis (0: as many as fit 1024 rows per call)' },
  { name: 'kernels', type: 'string', default: 'ort', choices: ['ort', 'js'], description: 'float64 GEMM kernels: onnxruntime graphs or plain TypeScript' },
  { name: 'graphMass', type: 'number', default: 0.9, description: 'graph view: per layer pair, the strongest edges holding this share of the mass' },
  { name: 'graphMaxEdges', type: 'integer', default: 60, description: 'graph view: at most this many edges per layer pair' },
  { name: 'graphMaxNodes', type: 'integer', default: 24, description: 'graph view: at most this many nodes per layer' },
];

interface LibOptions {
  threshold: number;
  absThreshold: number;
  lambdaThreshold: number;
  absLambdaThreshold: number;
  jacobians: 'auto' | 'autodiff';
  stochasticSources: number;
  seed: number;
  pca: boolean;
  ablation: boolean;
  checkInvariants: boolean;
  crossCheck: boolean;
  vjpBatch: number;
  route: 'auto' | 'onnxruntime' | 'tfjs';
  vjpStack: number;
  kernels: 'ort' | 'js';
  graphMass: number;
  graphMaxEdges: number;
  graphMaxNodes: number;
}

interface ClosedJob {
  s: ClosedSection;
  inBasis: LayerBasis;
  next: LayerBasis;
  withGram: boolean;
}

interface LayerState {
  name: string;
  /** Unfolded width. */
  w: number;
  moments: MomentAccumulator;
  whitening?: Whitening;
}

const now = (): number => performance.now();

/**
 * The translator and tfjs. (Imported statically: the worker loads them anyway for the circuit analysis, and a
 * dynamic import of a folder does not resolve under the test runner's loader.)
 */
function tfjs(): Promise<typeof tfjsModule> {
  return Promise.resolve(tfjsModule);
}

/** Jacobian rows of an M′ pass up to this size are kept and replayed for the LIB edges instead of new VJPs. */
const CACHE_BYTES = 256 * 2 ** 20;
/**
 * Float32 activations staged per node layer before one onnxruntime moments call: a few large calls instead of one
 * per batch (each call returns a d×d partial Gram that is added in JS; per 256-row batch that addition cost as much
 * as a third of the kernel's time on the 785-wide MLP input). onnxruntime's float64 copies of a full stage need ≈ 6×
 * this transiently.
 */
const MOMENT_STAGE_BYTES = 8 * 2 ** 20;
/**
 * Rows (samples × positions) of one onnxruntime VJP call: cotangents at the same point are stacked on the batch
 * axis up to this many rows (see libGrad.ts).
 */
const STACK_ROWS = 1024;

/** Rows of one node layer's activations waiting for a moments call. */
class MomentStage {
  rows = 0;
  private readonly buf: Float32Array;

  /** `totalRows`: all the rows the pass will bring (no need to stage more). */
  constructor(readonly width: number, batchRows: number, totalRows: number) {
    const cap = Math.max(batchRows, Math.min(totalRows, Math.floor(MOMENT_STAGE_BYTES / (4 * width))));
    this.buf = new Float32Array(cap * width);
  }

  fits(rows: number): boolean {
    return (this.rows + rows) * this.width <= this.buf.length;
  }

  push(x: Float32Array, rows: number): void {
    this.buf.set(x.subarray(0, rows * this.width), this.rows * this.width);
    this.rows += rows;
  }

  staged(): Float32Array {
    return this.buf.subarray(0, this.rows * this.width);
  }
}

/** Deterministic ±1 sources: the lowest bit of each mulberry32 draw (u·2³² is the draw's exact 32-bit integer). */
function signs(seed: number): () => number {
  const u = mulberry32(seed);
  return () => ((u() * 4294967296) & 1 ? 1 : -1);
}

function activations(t: OrtOutput | undefined, name: string, count: number): { x: Float32Array; T: number; w: number } {
  if (!t) throw new JobInputError(`onnxruntime returned no value for node layer '${name}'`);
  if (t.dims[0] !== count) throw new JobInputError(`node layer '${name}' has shape [${t.dims.join(', ')}]; expected the batch (${count}) first`);
  if (t.dims.length !== 2 && t.dims.length !== 3) {
    throw new JobInputError(`node layer '${name}' has shape [${t.dims.join(', ')}]; LIB takes [batch, features] or [batch, positions, features] (pick node layers that are flat, e.g. after a Flatten)`);
  }
  const x = t.data instanceof Float32Array ? t.data : t.data instanceof Float64Array ? Float32Array.from(t.data) : null;
  if (!x) throw new JobInputError(`node layer '${name}' is ${t.dtype}; LIB needs float activations`);
  return { x, T: t.dims.length === 3 ? t.dims[1] : 1, w: t.dims[t.dims.length - 1] };
}

/**
 * Node layers must share the sequence axis (LIB's sections map each position's row to the same position's row):
 * a mix of [batch, positions, features] layers and [batch, features] ones — a classification head that reads one
 * position, e.g. BERT's [CLS] or a ViT's class token — is refused naming each layer's shape and what to pass.
 */
function checkPositions(names: string[], dims: number[][], file?: string): void {
  const T = (d: number[]): number => (d.length === 3 ? d[1] : 1);
  // Missing values and other ranks get activations()' own error.
  if (dims.some((d) => d.length !== 2 && d.length !== 3) || dims.every((d) => T(d) === T(dims[0]))) return;
  const shapes = names.map((n, l) => `'${n}' [${dims[l].join(', ')}]`).join(', ');
  const seq = names.filter((_, l) => dims[l].length === 3);
  const flat = names.filter((_, l) => dims[l].length !== 3);
  const hint = flat.length && seq.length
    ? `; LIB's sections map positions to positions, so a head reading one position (e.g. [CLS]) cannot close a chain of sequence layers: pass --layer with layers that all have the sequence axis (e.g. --layer ${seq.join(',')}) or all without it`
    : '; pass --layer with node layers of one sequence length';
  throw new JobInputError(`expected node layers sharing the sequence length, found ${shapes}${hint}`, file);
}

/**
 * Ḡ (k·rows × d, float64) of k VJP blocks: the gradient rows, then the constant coordinate's homogeneity offset
 * ⟨c, F(x)⟩ − ⟨∂⟨c,F⟩/∂x, x⟩ per row (see the header).
 */
function jacobianRows(grads: Float32Array, out: Float32Array, cot: Float32Array, xs: Float32Array, k: number, rows: number, w: number, h: number): Float64Array {
  const d = w + 1;
  const G = new Float64Array(k * rows * d);
  for (let q = 0; q < k; q++) {
    for (let row = 0; row < rows; row++) {
      const go = (q * rows + row) * w, xo = row * w, oo = row * h, co = (q * rows + row) * h, bo = (q * rows + row) * d;
      let gx = 0, cf = 0;
      for (let a = 0; a < w; a++) {
        const v = grads[go + a];
        G[bo + a] = v;
        gx += v * xs[xo + a];
      }
      for (let j = 0; j < h; j++) cf += cot[co + j] * out[oo + j];
      G[bo + w] = cf - gx;
    }
  }
  return G;
}

/** The engine context of one run: model, data, plan, the tfjs executor (created when first needed). */
class LibRun {
  executor?: TfjsGraphExecutor;
  tfjsBackend?: string;
  vjps = 0;
  readonly kernels = new LibKernels();
  positions = 1;
  samples = 0;
  layers: LayerState[] = [];
  egg: (Float64Array | null)[] = [];
  /** The VJP route of each autodiff section (by section index), created when first needed. */
  readonly grads = new Map<number, SectionVjp>();
  /** The route each autodiff section's VJPs took (kept after its session is released). */
  readonly routes = new Map<number, { route: GradRoute; backend: string }>();
  proto?: OnnxModelProto;

  constructor(
    readonly model: LoadedModel,
    readonly runner: TapRunner,
    readonly names: string[],
    readonly sections: Section[],
    readonly opts: LibOptions,
    readonly ctx: JobContext,
    readonly batchSize: number,
    readonly end: number,
    readonly warnings: string[] = [],
  ) {}

  get vjpBatch(): number {
    return this.opts.vjpBatch > 0 ? this.opts.vjpBatch : this.positions > 1 ? 32 : 256;
  }

  async executorFor(): Promise<TfjsGraphExecutor> {
    if (this.executor) return this.executor;
    const { resolveBackend, TfjsGraphExecutor } = await tfjs();
    const be = await resolveBackend({ force: tfjsBackendSetting() });
    this.tfjsBackend = be.name;
    this.executor = await TfjsGraphExecutor.create(this.model);
    return this.executor;
  }

  async pass(stage: string, onBatch: (b: TapBatch) => Promise<void> | void, runner: TapRunner = this.runner, end = this.end): Promise<number> {
    const r = await forEachBatch(runner, this.batchSize, onBatch, { signal: this.ctx.signal, progress: (d, t) => this.ctx.progress?.(d, t, stage) }, { end });
    return r.samples;
  }

  /** Pass 1: moments of every node layer (float64) and E[ggᵀ] of every closed-form section's gates. */
  async moments(): Promise<void> {
    const useOrt = this.opts.kernels === 'ort';
    const stages: MomentStage[] = [];
    this.samples = await this.pass('moments', async (b) => {
      checkPositions(this.names, this.names.map((n) => b.tensors[n]?.dims ?? []), this.model.graph.file);
      for (let l = 0; l < this.names.length; l++) {
        const { x, T, w } = activations(b.tensors[this.names[l]], this.names[l], b.count);
        if (!this.layers[l]) {
          this.layers[l] = { name: this.names[l], w, moments: new MomentAccumulator(w) };
          if (l === 0) this.positions = T;
        }
        if (T !== this.positions) throw new JobInputError(`node layer '${this.names[l]}' has ${T} positions, '${this.names[0]}' ${this.positions}; node layers must share the sequence length`);
        const rows = b.count * T;
        const m = this.layers[l].moments;
        if (useOrt) {
          m.ensureShift(x, rows);
          stages[l] ??= new MomentStage(w, rows, this.end * T);
          if (!stages[l].fits(rows)) await this.flushMoments(l, stages[l]);
          if (stages[l].fits(rows)) stages[l].push(x, rows);
          else await this.addMoments(l, x, rows);
        } else m.add(x, rows);
      }
      this.sections.forEach((s, l) => {
        if (s.kind !== 'closed' || !s.act) {
          this.egg[l] = null;
          return;
        }
        const out = activations(b.tensors[s.to], s.to, b.count);
        const g = gatesFromOutput(s.act, out.x);
        this.egg[l] ??= new Float64Array(s.h * s.h);
        syrkAccumulate(this.egg[l]!, g, b.count * out.T, s.h);
      });
      throwIfAborted(this.ctx.signal);
    });
    for (let l = 0; l < stages.length; l++) if (stages[l]) await this.flushMoments(l, stages[l]);
    if (!this.samples) throw new JobInputError('the dataset has no samples in the requested range');
    const rows = this.samples * this.positions;
    for (const e of this.egg) if (e) for (let i = 0; i < e.length; i++) e[i] /= rows;
    this.sections.forEach((s, l) => {
      if (s.kind === 'closed' && (s.w !== this.layers[l].w || s.h !== this.layers[l + 1].w)) {
        throw new JobInputError(`section '${s.from}' → '${s.to}': weights are ${s.h}×${s.w} but the activations have widths ${this.layers[l].w} → ${this.layers[l + 1].w}`);
      }
    });
  }

  /** One onnxruntime moments call on `rows` activations of node layer l, added to its accumulator (shift set). */
  private async addMoments(l: number, x: Float32Array, rows: number): Promise<void> {
    const m = this.layers[l].moments;
    const { sum, gram } = await this.kernels.moments(x, rows, m.width, m.shift!);
    m.addPartial(sum, gram, rows);
  }

  /** The rows staged for node layer l, in one moments call. */
  private async flushMoments(l: number, stage: MomentStage): Promise<void> {
    if (!stage.rows) return;
    await this.addMoments(l, stage.staged(), stage.rows);
    stage.rows = 0;
  }

  /** Directions of the next layer that carry a Jacobian (the constant direction of a folded basis has none). */
  directions(next: LayerBasis): number[] {
    const out: number[] = [];
    for (let i = next.folded ? 1 : 0; i < next.rank; i++) out.push(i);
    return out;
  }

  /** How many VJPs one direction costs per chunk: T (exact per position), the sources, or 1 without positions. */
  get perDirection(): number {
    if (this.positions === 1) return 1;
    return this.opts.stochasticSources > 0 ? this.opts.stochasticSources : this.positions;
  }

  /**
   * One data pass of VJPs for section l with cotangents from `next` (C^{l+1}): M′ (always) and, when `inBasis` is
   * given, the edges row by row and E[ĴᵀĴ]. Returns the accumulator with sums normalised.
   */
  async autodiff(l: number, next: LayerBasis, inBasis: LayerBasis | null, withJtj: boolean, stage: string, cache?: { mode: 'fill' | 'replay'; store: Float64Array[] }): Promise<JacobianAccumulator> {
    const replay = cache?.mode === 'replay';
    const section = replay ? null : await this.sectionVjp(l);
    let replayed = 0;
    const from = this.names[l];
    const w = this.layers[l].w, h = this.layers[l + 1].w, d = w + 1, T = this.positions;
    const P = derivativeRows(next); // h × r_next
    const rNext = next.rank;
    const dirs = this.directions(next);
    const acc = new JacobianAccumulator(d, rNext);
    const stochastic = T > 1 && this.opts.stochasticSources > 0;
    const useOrt = this.opts.kernels === 'ort';
    // The cotangents of one chunk, in a fixed order (direction-major): groups of `stack` run as one call.
    const jobs: [number, number][] = [];
    for (const i of dirs) for (let t = 0; t < this.perDirection; t++) jobs.push([i, t]);
    await this.pass(stage, async (b) => {
      const { x } = activations(b.tensors[from], from, b.count);
      for (let c0 = 0; c0 < b.count; c0 += this.vjpBatch) {
        const n = Math.min(this.vjpBatch, b.count - c0);
        const rows = n * T;
        const xs = x.subarray(c0 * T * w, (c0 + n) * T * w);
        let fhat: Float64Array | null = null;
        if (inBasis) {
          fhat = useOrt && inBasis.folded
            ? (await this.kernels.project(xs, rows, w, inBasis.C.subarray(0, w * inBasis.rank), inBasis.C.subarray(w * inBasis.rank), inBasis.rank, false)).fhat
            : projectRows(xs, rows, inBasis);
        }
        const stack = this.stackFor(rows, section?.route ?? this.routes.get(l)?.route);
        for (let j0 = 0; j0 < jobs.length; j0 += stack) {
          throwIfAborted(this.ctx.signal);
          const group = jobs.slice(j0, j0 + stack);
          const g = group.length;
          let Gall: Float64Array;
          if (!section) {
            // Replaying the Jacobian rows of the M′ pass (same cotangents, same grouping).
            Gall = cache!.store[replayed++];
          } else {
            const cot = new Float32Array(g * rows * h);
            group.forEach(([i, t], q) => {
              const rnd = stochastic ? signs((this.opts.seed * 1000003) ^ (l * 7919 + i * 104729 + t * 1299709 + (b.start + c0) * 15485863)) : null;
              const base = q * rows * h;
              for (let s = 0; s < n; s++) {
                for (let p = 0; p < T; p++) {
                  let sgn = 1;
                  if (T > 1) sgn = stochastic ? rnd!() : p === t ? 1 : 0;
                  if (sgn === 0) continue;
                  const o = base + (s * T + p) * h;
                  for (let k = 0; k < h; k++) cot[o + k] = sgn * P[k * rNext + i];
                }
              }
            });
            const { grads, out } = await section.vjp(xs, n, cot, g);
            this.vjps += g;
            Gall = jacobianRows(grads, out, cot, xs, g, rows, w, h);
            if (cache?.mode === 'fill') cache.store.push(Gall);
            if (useOrt && d > 64) {
              const gram = await this.kernels.gram(Gall, g * rows, d);
              for (let k = 0; k < gram.length; k++) acc.mPrime[k] += gram[k];
            } else acc.addMPrime(Gall, g * rows);
          }
          if (inBasis && fhat) {
            const r = inBasis.rank;
            const H = useOrt && d > 64 ? await this.kernels.matmulABt(Gall, inBasis.Cpinv, g * rows, d, r) : undefined;
            group.forEach(([i], q) => acc.addEdges(i, Gall.subarray(q * rows * d, (q + 1) * rows * d), rows, T, inBasis, fhat, withJtj, H?.subarray(q * rows * r, (q + 1) * rows * r)));
          }
        }
      }
    });
    if (replay) acc.mPrime.fill(NaN); // a replay accumulates edges only
    const norm = this.samples * T * (stochastic ? this.opts.stochasticSources : 1);
    for (let k = 0; k < acc.mPrime.length; k++) acc.mPrime[k] /= norm;
    if (acc.edges) for (let k = 0; k < acc.edges.length; k++) acc.edges[k] /= norm;
    if (acc.jtj) for (let k = 0; k < acc.jtj.length; k++) acc.jtj[k] /= norm;
    if (inBasis && !acc.edges) acc.edges = new Float64Array(rNext * inBasis.rank);
    return acc;
  }

  /** Cotangents per VJP call: onnxruntime stacks them on the batch axis up to {@link STACK_ROWS} rows; tfjs one by one. */
  stackFor(rows: number, route: GradRoute | undefined): number {
    if (this.opts.vjpStack > 0) return this.opts.vjpStack;
    if (route === 'tfjs') return 1;
    return Math.max(1, Math.floor(STACK_ROWS / rows));
  }

  /**
   * The VJP route of section l (created when first needed): onnxruntime unless asked otherwise, the tfjs
   * translator when the gradient graph does not build (noted in the warnings).
   * @throws JobInputError when `route: onnxruntime` was asked and the gradient graph does not build
   */
  async sectionVjp(l: number): Promise<SectionVjp> {
    const have = this.grads.get(l);
    if (have) return have;
    const from = this.names[l], to = this.names[l + 1];
    const shape = { T: this.positions, w: this.layers[l].w, h: this.layers[l + 1].w };
    let v: SectionVjp | undefined;
    if (this.opts.route !== 'tfjs') {
      try {
        this.proto ??= await readModelProto(this.model);
        v = await ortSectionVjp(this.model, this.proto, from, to, shape);
      } catch (e) {
        if (!(e instanceof AutodiffError)) throw e;
        if (this.opts.route === 'onnxruntime') throw new JobInputError(`section '${from}' → '${to}': the onnxruntime gradient graph does not build: ${e.message}`, this.model.graph.file);
        this.warnings.push(`section '${from}' → '${to}': the onnxruntime gradient graph does not build (${e.message}); its VJPs run on the tfjs translator`);
      }
    }
    if (!v) {
      const ex = await this.executorFor();
      v = tfjsSectionVjp(ex, this.tfjsBackend!, from, to, shape);
    }
    this.grads.set(l, v);
    this.routes.set(l, { route: v.route, backend: v.backend });
    return v;
  }

  /** Bytes the Jacobian rows of one M′ pass of section l take (they are kept for the edges when this is small). */
  cacheBytes(l: number, next: LayerBasis): number {
    return this.samples * this.positions * (this.layers[l].w + 1) * 8 * this.directions(next).length * this.perDirection;
  }

  /**
   * Closed-form edges (and Σ f̂ᵀf̂ when asked) of several (section, basis pair) jobs in one data pass: the activations
   * of a batch are read once for all of them.
   */
  async closedEdges(jobs: ClosedJob[], stage: string): Promise<{ E: Float64Array; fg?: Float64Array }[]> {
    const useOrt = this.opts.kernels === 'ort';
    const prepared = jobs.map(({ s, inBasis, next, withGram }) => {
      const h = s.h, r0 = inBasis.rank, r1 = next.rank;
      const P = derivativeRows(next);
      return {
        P, Pt: transpose(P, h, r1), A: sectionA(s.Wt, h, s.w + 1, inBasis),
        cw: inBasis.C.subarray(0, s.w * r0), cb: inBasis.C.subarray(s.w * r0),
        E: new Float64Array(r1 * r0), fg: withGram ? new Float64Array(r0 * r0) : undefined,
      };
    });
    await this.pass(stage, async (b) => {
      for (let j = 0; j < jobs.length; j++) {
        const { s, inBasis, next } = jobs[j];
        const q = prepared[j];
        const w = s.w, h = s.h, r0 = inBasis.rank, r1 = next.rank;
        const { x, T } = activations(b.tensors[s.from], s.from, b.count);
        const rows = b.count * T;
        const hOut = activations(b.tensors[s.to], s.to, b.count).x;
        const g = s.act ? gatesFromOutput(s.act, hOut) : new Float64Array(rows * h).fill(1);
        if (useOrt) {
          const r = await this.kernels.edges(x, rows, w, q.cw, q.cb, g, h, q.Pt, r1, q.A, r0, !!q.fg);
          for (let k = 0; k < q.E.length; k++) q.E[k] += r.e[k];
          if (q.fg && r.fg) for (let k = 0; k < q.fg.length; k++) q.fg[k] += r.fg[k];
        } else {
          const fhat = projectRows(x, rows, inBasis);
          closedFormEdgesAccumulate(q.E, q.P, q.A, h, r1, r0, g, fhat, rows);
          if (q.fg) syrkAccumulate(q.fg, fhat, rows, r0);
        }
        throwIfAborted(this.ctx.signal);
      }
    });
    const norm = this.samples * this.positions;
    return prepared.map((q) => {
      for (let k = 0; k < q.E.length; k++) q.E[k] /= norm;
      if (q.fg) for (let k = 0; k < q.fg.length; k++) q.fg[k] /= norm;
      return { E: q.E, fg: q.fg };
    });
  }

  /** Σ f̂ᵀf̂ / rows of layer l in `basis` (for the invariants of autodiff layers). */
  async gramOf(l: number, basis: LayerBasis, stage: string): Promise<Float64Array> {
    const w = this.layers[l].w, r = basis.rank;
    const fg = new Float64Array(r * r);
    await this.pass(stage, async (b) => {
      const { x, T } = activations(b.tensors[this.names[l]], this.names[l], b.count);
      const rows = b.count * T;
      if (this.opts.kernels === 'ort') {
        const p = await this.kernels.project(x, rows, w, basis.C.subarray(0, w * r), basis.C.subarray(w * r), r, true);
        for (let k = 0; k < fg.length; k++) fg[k] += p.fg![k];
      } else syrkAccumulate(fg, projectRows(x, rows, basis), rows, r);
    });
    for (let k = 0; k < fg.length; k++) fg[k] /= this.samples * this.positions;
    return fg;
  }

  /** Releases section l's VJP session (its route stays recorded for the result). */
  async releaseSection(l: number): Promise<void> {
    const g = this.grads.get(l);
    this.grads.delete(l);
    if (g) await g.release();
  }

  async dispose(): Promise<void> {
    const grads = [...this.grads.values()];
    this.grads.clear();
    await Promise.all(grads.map((g) => g.release().catch(() => {})));
    this.executor?.dispose();
    await this.kernels.release();
  }
}

function layerResult(name: string, b: LayerBasis): LibLayerResult {
  return {
    name,
    dim: b.dim,
    rank: b.rank,
    lambdas: [...b.lambdas],
    effectiveFeatures: effectiveFeatures(b.lambdas, b.folded),
    ...(b.firstRank !== undefined ? { firstRank: b.firstRank } : {}),
    folded: b.folded,
  };
}

function edgesResult(from: string, to: string, E: Float64Array, inBasis: LayerBasis, next: LayerBasis): LibEdgesResult {
  const m = edgeMass(E, next.rank, inBasis.rank, next.folded, inBasis.folded);
  return { from, to, rows: next.rank, cols: inBasis.rank, weights: [...E], mass: m.total, for90: m.for90, for99: m.for99 };
}

function kGrid(maxK: number): number[] {
  const ks = [0];
  for (let k = 1; k < maxK; k *= 2) ks.push(k);
  if (maxK > 0) ks.push(maxK);
  return [...new Set(ks)];
}

/**
 * Accuracy with only the top-k directions (and the constant) kept at each node layer, f ↦ f C_k C_pinv,k, the
 * rest of the network run by the tfjs executor from that node layer (float32 is plenty for an accuracy).
 */
async function ablation(run: LibRun, bases: LayerBasis[], split: TapRunner, end: number): Promise<AblationPoint[]> {
  const ex = await run.executorFor();
  const { tf } = await tfjs();
  const out = run.names[run.names.length - 1];
  const points = new Map<string, { layer: string; kept: number; correct: number; total: number }>();
  // The bases as float32 tensors, once.
  const mats = bases.slice(0, -1).map((b) => ({
    C: tf.tensor(Float32Array.from(b.C), [b.dim, b.rank], 'float32'),
    Cp: tf.tensor(Float32Array.from(b.Cpinv), [b.rank, b.dim], 'float32'),
  }));
  try {
    await run.pass(
      'ablation',
      async (b) => {
        if (!b.labels) throw new JobInputError('ablation needs labels');
        for (let l = 0; l < mats.length; l++) {
          const basis = bases[l];
          const name = run.names[l];
          const { x, T, w } = activations(b.tensors[name], name, b.count);
          if (T !== 1) return;
          const xt = tf.tensor(x, [b.count, w], 'float32');
          const fhat = tf.tidy(() => tf.add(tf.matMul(xt, tf.slice(mats[l].C, [0, 0], [w, basis.rank])), tf.slice(mats[l].C, [w, 0], [1, basis.rank])));
          try {
            for (const k of kGrid(basis.rank - 1)) {
              throwIfAborted(run.ctx.signal);
              const pred = tf.tidy(() => {
                const back = tf.matMul(tf.slice(fhat, [0, 0], [b.count, k + 1]), tf.slice(mats[l].Cp, [0, 0], [k + 1, w]));
                const [y] = ex.runFrom({ [name]: back }, [out]);
                return tf.argMax(y, -1);
              });
              const p = pred.dataSync() as Int32Array;
              pred.dispose();
              const key = `${l}:${k}`;
              const pt = points.get(key) ?? { layer: name, kept: k, correct: 0, total: 0 };
              for (let s = 0; s < b.count; s++) if (p[s] === b.labels[s]) pt.correct++;
              pt.total += b.count;
              points.set(key, pt);
            }
          } finally {
            xt.dispose();
            fhat.dispose();
          }
        }
      },
      split,
      end,
    );
  } finally {
    for (const m of mats) {
      m.C.dispose();
      m.Cp.dispose();
    }
  }
  return [...points.values()].map((p) => ({ layer: p.layer, kept: p.kept, accuracy: p.total ? p.correct / p.total : 0 }));
}

async function runLib(req: AnalysisRequest, ctx: JobContext): Promise<AnalysisEnvelope<LibResult>> {
  const t0 = now();
  if (!req.data) throw new JobInputError('lib needs --data (the samples the basis is built from)');
  const opts = resolveOptions(LIB_OPTIONS, req.options) as unknown as LibOptions;
  if (!(opts.threshold >= 0 && opts.threshold < 1) || !(opts.lambdaThreshold >= 0 && opts.lambdaThreshold < 1)) {
    throw new JobInputError(`thresholds are relative: expected 0 ≤ threshold, lambdaThreshold < 1, found ${opts.threshold}, ${opts.lambdaThreshold}`);
  }
  if (opts.stochasticSources < 0) throw new JobInputError(`stochasticSources must be ≥ 0, found ${opts.stochasticSources}`);
  const model = await loadCached(req.model);
  if (model.graph.format !== 'onnx') throw new JobInputError(`lib runs on ONNX models; ${model.graph.format} models are not supported yet`, model.graph.file);
  const plan = req.layers?.length ? userNodeLayers(model.graph, req.layers) : autoNodeLayers(model.graph);
  const sections = await planSections(model, plan.layers);
  const runner = await prepareTaps(req.model, req.data, plan.layers, ctx);
  const end = Math.min(runner.dataset.inputs.count, req.limit ?? Infinity);
  const warnings: string[] = [];
  const run = new LibRun(model, runner, plan.layers, sections, opts, ctx, req.batchSize ?? 256, end, warnings);
  const timings: Record<string, number> = { loadMs: now() - t0 };
  const thr1: Thresholds = { relative: opts.threshold, absolute: opts.absThreshold };
  const thr2: Thresholds = { relative: opts.lambdaThreshold, absolute: opts.absLambdaThreshold };
  try {
    let t = now();
    await run.moments();
    timings.momentsMs = now() - t;
    const L = plan.layers.length;
    const closedOk = (s: Section): s is ClosedSection => s.kind === 'closed' && opts.jacobians === 'auto';
    if (run.positions > 1 && opts.stochasticSources === 0 && sections.some((s) => !closedOk(s))) {
      warnings.push(`exact per-position Jacobians: ${run.positions} VJPs per direction per batch; --stochasticSources k trades exactness for a ${run.positions}/k speed-up`);
    }

    // Whitening of every folded layer; the output keeps the identity.
    t = now();
    for (let l = 0; l < L - 1; l++) {
      const m = run.layers[l].moments;
      run.layers[l].whitening = whiten(m.mean(), m.covariance(), run.layers[l].w, thr1);
    }
    const outBasis = identityBasis(run.layers[L - 1].w, run.layers[L - 1].moments.secondMomentsDiagonal());
    const lib: LayerBasis[] = new Array(L);
    lib[L - 1] = outBasis;
    const mPrimes: (Float64Array | null)[] = new Array(L - 1).fill(null);
    const crossCheck: NonNullable<LibResult['crossCheck']> = [];
    // The edges of autodiff sections (LIB and PCA) are computed right after the section's M′, so that its VJP
    // session is released before the next section's opens (one onnxruntime arena at a time).
    const autodiffEdges = { lib: new Map<number, JacobianAccumulator>(), pca: new Map<number, JacobianAccumulator>() };
    const pcaBases: LayerBasis[] | null = opts.pca ? [...run.layers.slice(0, L - 1).map((ls) => pcaBasis(ls.whitening!)), outBasis] : null;
    let jacMs = 0;
    for (let l = L - 2; l >= 0; l--) {
      const s = sections[l];
      const next = lib[l + 1];
      const wh = run.layers[l].whitening!;
      const d = wh.width + 1;
      let mp: MPrime;
      if (closedOk(s)) {
        const S = closedFormMiddle(derivativeRows(next), s.h, next.rank, run.egg[l]);
        mp = closedFormFactor(s.Wt, s.h, d, S);
        if (opts.crossCheck) mPrimes[l] = closedFormMPrime(s.Wt, s.h, d, S);
      } else {
        const tj = now();
        // The LIB edges of this section use the same cotangents: keep the Jacobian rows when they fit.
        const store: Float64Array[] | null = run.cacheBytes(l, next) <= CACHE_BYTES ? [] : null;
        const acc = await run.autodiff(l, next, null, false, `jacobians ${s.to}`, store ? { mode: 'fill', store } : undefined);
        mp = { full: acc.mPrime };
        lib[l] = libBasis(wh, mp, thr2);
        autodiffEdges.lib.set(l, await run.autodiff(l, next, lib[l], opts.checkInvariants, `edges lib ${s.to}`, store ? { mode: 'replay', store } : undefined));
        if (pcaBases) autodiffEdges.pca.set(l, await run.autodiff(l, pcaBases[l + 1], pcaBases[l], false, `edges pca ${s.to}`));
        await run.releaseSection(l);
        jacMs += now() - tj;
      }
      lib[l] ??= libBasis(wh, mp, thr2);
      if (lib[l].warning) warnings.push(`${plan.layers[l]}: ${lib[l].warning}`);
      throwIfAborted(ctx.signal);
    }
    run.proto = undefined; // every autodiff section's graph is built: the decoded weights can go
    timings.basisMs = now() - t - jacMs;
    timings.jacobiansMs = jacMs;

    // Edges (and the invariants), LIB then PCA, through the same code path.
    t = now();
    const jacBefore = timings.jacobiansMs;
    const invariants: NonNullable<LibResult['invariants']> = [];
    // All closed-form edges (LIB and PCA) in one data pass.
    const closedKeys: string[] = [];
    const closedJobs: ClosedJob[] = [];
    for (const [kind, bases] of [['lib', lib], ['pca', pcaBases]] as const) {
      if (!bases) continue;
      sections.forEach((s, l) => {
        if (!closedOk(s)) return;
        closedKeys.push(`${kind}:${l}`);
        closedJobs.push({ s, inBasis: bases[l], next: bases[l + 1], withGram: kind === 'lib' && opts.checkInvariants });
      });
    }
    const closedDone = new Map<string, { E: Float64Array; fg?: Float64Array }>();
    if (closedJobs.length) (await run.closedEdges(closedJobs, 'edges')).forEach((r, j) => closedDone.set(closedKeys[j], r));
    const edgeSets = async (bases: LayerBasis[], kind: 'lib' | 'pca'): Promise<LibEdgesResult[]> => {
      const out: LibEdgesResult[] = [];
      for (let l = 0; l < L - 1; l++) {
        const s = sections[l];
        const inv = kind === 'lib' && opts.checkInvariants;
        let E: Float64Array;
        let fg: Float64Array | undefined;
        let jtj: Float64Array | undefined;
        if (closedOk(s)) {
          const r = closedDone.get(`${kind}:${l}`)!;
          E = r.E;
          fg = r.fg;
          if (inv) {
            // E[ĴᵀĴ] = Aᵀ S A with S = (P Pᵀ) ⊙ E[ggᵀ]: the closed form, evaluated in the LIB coordinates.
            const A = sectionA(s.Wt, s.h, s.w + 1, bases[l]);
            const S = closedFormMiddle(derivativeRows(bases[l + 1]), s.h, bases[l + 1].rank, run.egg[l]);
            jtj = matmulAtB(A, matmul(S, A, s.h, s.h, bases[l].rank), s.h, bases[l].rank, bases[l].rank);
          }
          if (kind === 'lib' && opts.crossCheck) {
            const tj = now();
            const acc = await run.autodiff(l, bases[l + 1], bases[l], false, `cross-check ${s.to}`);
            timings.crossCheckMs = (timings.crossCheckMs ?? 0) + now() - tj;
            crossCheck.push({ from: s.from, to: s.to, mPrime: relativeFrobenius(acc.mPrime, mPrimes[l]!), edges: relativeFrobenius(acc.edges!, E), samples: run.samples });
          }
        } else {
          const tj = now();
          const acc = autodiffEdges[kind].get(l) ?? (await run.autodiff(l, bases[l + 1], bases[l], inv, `edges ${kind} ${s.to}`));
          timings.jacobiansMs += now() - tj;
          E = acc.edges!;
          jtj = acc.jtj ?? undefined;
          if (inv) fg = await run.gramOf(l, bases[l], `invariants ${s.from}`);
        }
        if (inv) {
          invariants.push({
            layer: plan.layers[l],
            gram: gramInvariantError(fg!, bases[l]),
            jacobian: jacobianInvariantError(jtj!, bases[l].rank, bases[l].folded),
            pinv: pinvInvariantError(bases[l]),
            constantRow: constantRowError(E, bases[l].rank, bases[l + 1].folded),
          });
        }
        out.push(edgesResult(plan.layers[l], plan.layers[l + 1], E, bases[l], bases[l + 1]));
      }
      return out;
    };
    const libEdges = await edgeSets(lib, 'lib');
    const pcaEdges = pcaBases ? await edgeSets(pcaBases, 'pca') : null;
    timings.edgesMs = now() - t - (timings.jacobiansMs - jacBefore) - (timings.crossCheckMs ?? 0);

    const libLayers = lib.map((b, l) => layerResult(plan.layers[l], b));
    const jacBackend = [...new Set([...run.routes.values()].map((g) => g.backend))].join(' and ');
    const sum = (es: LibEdgesResult[], k: 'for90' | 'for99'): number => es.reduce((a, e) => a + e[k], 0);
    const result: LibResult = {
      layers: libLayers,
      edges: libEdges,
      edgesFor90: sum(libEdges, 'for90'),
      edgesFor99: sum(libEdges, 'for99'),
      graph: buildGraph(libLayers, libEdges, { massFraction: opts.graphMass, maxEdgesPerPair: opts.graphMaxEdges, maxNodesPerLayer: opts.graphMaxNodes }),
      samples: run.samples,
      positions: run.positions,
      nodeLayers: { names: plan.layers, how: plan.how },
      sections: sections.map((s, l) => {
        const route = run.routes.get(l)?.route;
        return closedOk(s)
          ? { from: s.from, to: s.to, method: 'closed-form' as const, activation: s.act?.op ?? 'none', ...(route ? { route } : {}) }
          : { from: s.from, to: s.to, method: 'autodiff' as const, note: s.kind === 'autodiff' ? s.why : 'autodiff requested', ...(route ? { route } : {}) };
      }),
      jacobians: {
        vjps: run.vjps,
        stochasticSources: run.positions > 1 ? opts.stochasticSources : 0,
        ...(jacBackend ? { backend: jacBackend } : {}),
        ...(run.tfjsBackend ? { tfjsBackend: run.tfjsBackend } : {}),
        constantCoordinate: 'closed form: the bias column of W̃ = [W | b]; autodiff: the homogeneity offset ⟨c, F(x)⟩ − ⟨∂⟨c,F⟩/∂x, x⟩',
      },
      authors: libAuthors(plan.layers, sections, lib, run.layers.slice(0, L - 1).map((ls) => ls.whitening!.mean), run.egg),
    };
    if (pcaBases && pcaEdges) {
      const pl = pcaBases.map((b, l) => layerResult(plan.layers[l], b));
      result.pca = { layers: pl, edges: pcaEdges, edgesFor90: sum(pcaEdges, 'for90'), edgesFor99: sum(pcaEdges, 'for99') };
    }
    if (invariants.length) result.invariants = invariants;
    if (crossCheck.length) result.crossCheck = crossCheck;

    // Node ablation (classification outputs with labels only).
    if (opts.ablation) {
      const split: Dataset = runner.dataset.test ?? runner.dataset;
      const splitRunner: TapRunner = { ...runner, dataset: split };
      const outW = run.layers[L - 1].w;
      if (!split.labels || (split.labelShape && split.labelShape.length > 0)) warnings.push('node ablation skipped: the data has no per-sample class labels');
      else if (run.positions !== 1 || outW < 2) warnings.push('node ablation skipped: it measures classification accuracy, which needs a [batch, classes] output');
      else {
        t = now();
        const splitEnd = split === runner.dataset ? end : split.inputs.count;
        result.ablationSplit = split === runner.dataset ? 'the analysed samples (no test split in the data)' : 'test split (x_test, y_test)';
        result.ablation = await ablation(run, lib, splitRunner, splitEnd);
        if (result.pca && pcaBases) result.pca.ablation = await ablation(run, pcaBases, splitRunner, splitEnd);
        timings.ablationMs = now() - t;
      }
    }
    timings.totalMs = now() - t0;
    const backend = `${runner.backend}${jacBackend ? `; Jacobians: ${jacBackend}` : ''}${result.ablation && run.tfjsBackend ? `; node ablation: tfjs ${run.tfjsBackend}` : ''}; float64 kernels: ${opts.kernels === 'ort' ? 'onnxruntime (CPU)' : 'TypeScript'}`;
    return { analysis: 'lib', model: model.graph.file, backend, layer: plan.layers, options: opts as unknown as Record<string, unknown>, result, timings, ...(warnings.length ? { warnings } : {}) };
  } finally {
    await run.dispose();
  }
}

/** One autodiff section's measured VJP cost (see {@link calibrateSection}). */
interface SectionCost {
  route: GradRoute;
  /** ms per cotangent row (sample × position) of a VJP call, with its Ḡ and M′ kernels. */
  perRowMs: number;
  /** ms to build the gradient graph and open its session. */
  createMs: number;
  /** RSS growth over the calibration (the session, its arena at the run's call size, the call's arrays). */
  rssBytes: number;
  note: string;
}

/**
 * Times section from → to on onnxruntime: the gradient graph built and opened, then VJP calls of the run's size
 * (k stacked cotangents at n calibration samples) with the Ḡ rows and the M′ kernel: one to warm up, three timed.
 * Returns undefined when the gradient graph does not build (the run will use the tfjs translator).
 */
async function calibrateSection(model: LoadedModel, proto: OnnxModelProto, from: string, to: string, x: Float32Array, n: number, shape: { T: number; w: number; h: number }, k: number, kernels: LibKernels): Promise<SectionCost | undefined> {
  const rss0 = process.memoryUsage().rss;
  const t0 = now();
  let v: SectionVjp;
  try {
    v = await ortSectionVjp(model, proto, from, to, shape);
  } catch (e) {
    if (e instanceof AutodiffError) return undefined;
    throw e;
  }
  const createMs = now() - t0;
  try {
    const { T, w, h } = shape;
    const rows = n * T, d = w + 1;
    const rnd = signs(12345);
    const cot = new Float32Array(k * rows * h);
    for (let i = 0; i < cot.length; i++) cot[i] = rnd() * 0.01;
    // One untimed call (the arena grows, kernels are compiled), then the mean of three.
    let ms = 0;
    for (let rep = 0; rep < 4; rep++) {
      const t = now();
      const { grads, out } = await v.vjp(x, n, cot, k);
      const G = jacobianRows(grads, out, cot, x, k, rows, w, h);
      if (d > 64) await kernels.gram(G, k * rows, d);
      if (rep > 0) ms += (now() - t) / 3;
    }
    return { route: 'onnxruntime', perRowMs: ms / (k * rows), createMs, rssBytes: Math.max(0, process.memoryUsage().rss - rss0), note: `${from} → ${to}: ${k} × ${n} samples per call in ${ms.toFixed(0)} ms (session ${createMs.toFixed(0)} ms, RSS +${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MB)` };
  } finally {
    await v.release();
  }
}

/**
 * Cost before running: widths from one calibration batch, forward passes (moments, edges, ablation), and per
 * autodiff section the VJP rows of its passes — M′, the LIB edges (replayed from the M′ pass's Jacobian rows when
 * they fit in {@link CACHE_BYTES}), the PCA edges — each (directions) × (positions or stochastic sources) ×
 * samples × positions rows, priced by one timed onnxruntime call of the run's size per distinct section
 * ({@link calibrateSection}). Peak memory: the process's RSS after that calibration plus the run's own arrays.
 */
async function estimateLib(req: AnalysisRequest, ctx: JobContext): Promise<CostEstimate> {
  if (!req.data) throw new JobInputError('lib needs --data to estimate its cost');
  const opts = resolveOptions(LIB_OPTIONS, req.options) as unknown as LibOptions;
  const model = await loadCached(req.model);
  // the run's own refusals, so the estimate (which the CLI asks first) does not answer another error instead
  if (model.graph.format !== 'onnx') throw new JobInputError(`lib runs on ONNX models; ${model.graph.format} models are not supported yet`, model.graph.file);
  const plan = req.layers?.length ? userNodeLayers(model.graph, req.layers) : autoNodeLayers(model.graph);
  const sections = await planSections(model, plan.layers);
  const runner = await prepareTaps(req.model, req.data, plan.layers, ctx);
  const batchSize = req.batchSize ?? 256;
  const samples = Math.min(runner.dataset.inputs.count, req.limit ?? Infinity);
  const calib = Math.min(samples, 32);
  let ms = 0;
  const widths: number[] = [];
  const acts: Float32Array[] = [];
  let T = 1;
  for (let k = 0; k < 2; k++) {
    const t = now();
    await forEachBatch(runner, calib, (b) => {
      checkPositions(plan.layers, plan.layers.map((n) => b.tensors[n]?.dims ?? []), model.graph.file);
      plan.layers.forEach((n, l) => {
        const a = activations(b.tensors[n], n, b.count);
        widths[l] = a.w;
        acts[l] = a.x;
        if (l === 0) T = a.T;
        else if (a.T !== T) throw new JobInputError(`node layer '${n}' has ${a.T} positions, '${plan.layers[0]}' ${T}; node layers must share the sequence length`);
      });
    }, { signal: ctx.signal }, { end: calib });
    ms = now() - t;
  }
  const batches = Math.ceil(samples / batchSize);
  const vjpBatch = opts.vjpBatch > 0 ? opts.vjpBatch : T > 1 ? 32 : 256;
  const chunks = Math.ceil(samples / vjpBatch);
  const per = T === 1 ? 1 : opts.stochasticSources > 0 ? opts.stochasticSources : T;
  const autodiffOf = (s: Section): boolean => s.kind === 'autodiff' || opts.jacobians === 'autodiff';
  let vjps = 0;
  let passes = 2; // moments, edges
  let vjpMs = 0;
  let createMs = 0;
  let callBytes = 0;

  let cacheBytes = 0;
  const notes: string[] = [];
  const costs = new Map<string, SectionCost | undefined>();
  const kernels = new LibKernels();
  let proto: OnnxModelProto | undefined;
  try {
    for (let l = 0; l < sections.length; l++) {
      const s = sections[l];
      const dirs = widths[l + 1]; // an upper bound: the next layer's rank (constant excluded) is at most its width
      const jobs = dirs * per;
      const cache = jobs * samples * T * (widths[l] + 1) * 8;
      const uses = autodiffOf(s) ? 1 + (cache <= CACHE_BYTES ? 0 : 1) + (opts.pca ? 1 : 0) : opts.crossCheck ? 1 : 0;
      if (autodiffOf(s)) passes += 1;
      vjps += uses * jobs * chunks;
      if (!uses) continue;
      if (cache <= CACHE_BYTES) cacheBytes = Math.max(cacheBytes, cache);
      const n = Math.min(vjpBatch, samples, calib);
      const rows = n * T;
      const k = Math.min(jobs, opts.vjpStack > 0 ? opts.vjpStack : Math.max(1, Math.floor(STACK_ROWS / (Math.min(vjpBatch, samples) * T))));
      // Sections of the same ops and widths cost the same (the blocks of a transformer): timed once.
      const key = `${sectionSignature(model, s)}|${widths[l]}|${widths[l + 1]}`;
      if (!costs.has(key) && opts.route !== 'tfjs') {
        proto ??= await readModelProto(model);
        const c = await calibrateSection(model, proto, s.from, s.to, acts[l].subarray(0, n * T * widths[l]), n, { T, w: widths[l], h: widths[l + 1] }, k, kernels);
        costs.set(key, c);
        if (c) notes.push(`calibrated ${c.note}`);
      }
      const c = costs.get(key);
      const rowsPerPass = jobs * samples * T;
      // The tfjs translator: a VJP taken as ≈ 3 forward passes of a chunk.
      const passMs = c ? rowsPerPass * c.perRowMs : jobs * chunks * 3 * (ms / calib) * Math.min(vjpBatch, samples);
      vjpMs += uses * passMs;
      createMs += c?.createMs ?? 0;
      callBytes = Math.max(callBytes, c?.rssBytes ?? 0, 2 * k * rows * ((widths[l] + 1) * 8 + widths[l + 1] * 4 + widths[l] * 4));
    }
  } finally {
    await kernels.release();
  }
  const rowsPerBatch = Math.min(batchSize, samples) * T;
  const d2 = widths.reduce((a, w) => a + (w + 1) * (w + 1), 0);
  const pcaEdgeBytes = widths.slice(1).reduce((a, w, i) => a + (w + 1) * (widths[i] + 1) * 8, 0);
  // Moment stages (one per node layer) plus onnxruntime's float64 copies of the largest during its call.
  const stages = widths.map((w) => Math.max(rowsPerBatch * w * 4, MOMENT_STAGE_BYTES));
  const stageBytes = opts.kernels === 'ort' ? stages.reduce((a, b) => a + b, 0) + 6 * Math.max(...stages) : 0;
  const arrays = 3 * d2 * 8 + 2 * pcaEdgeBytes + rowsPerBatch * widths.reduce((a, w) => a + w, 0) * 12 + stageBytes;
  // Measured: the RSS now holds the model, the tap session and what the calibrated VJP sessions left (weights,
  // arenas at the run's call size, the calls' arrays). The run opens one session per autodiff section, one after
  // the other, and released memory is not all returned to the OS: one more section's growth (the largest) is
  // added (on the bench's 4-layer export: 0.97× of the measured peak with 8 prompts, 0.81–0.91× with 16; the
  // measured peaks themselves vary by ±6% from run to run).
  const sectionBytes = Math.max(0, ...[...costs.values()].map((c) => c?.rssBytes ?? 0));
  const peakBytes = costs.size
    ? process.memoryUsage().rss + sectionBytes + cacheBytes + arrays
    : 2 * model.graph.fileBytes + arrays + callBytes + cacheBytes + (32 << 20);
  // Rough rates measured on a shared 2-core machine: JS eigh ≈ 9n³ flops at 1.5 GFLOP/s; ORT float64 GEMM ≈ 5 GFLOP/s.
  const eighMs = widths.slice(0, -1).reduce((a, w) => a + (9 * w ** 3) / 1.5e6, 0);
  let edgeFlops = 0;
  sections.forEach((s, l) => {
    if (s.kind !== 'closed' || opts.jacobians !== 'auto') return;
    const full = 2 * samples * T * (widths[l + 1] + 1) * s.h * (widths[l] + 1);
    edgeFlops += full / 16 + (opts.pca ? full : 0); // LIB ranks are typically far below the widths
  });
  const edgeMs = edgeFlops / 5e6;
  const forwardMs = (ms / calib) * samples;
  notes.unshift(
    `node layers: ${plan.layers.join(' → ')} (${plan.how})`,
    `sections: ${sections.map((s) => (autodiffOf(s) ? 'autodiff' : 'closed form')).join(', ')}`,
    `forward of ${calib} samples in ${ms.toFixed(1)} ms with ${runner.backend}; eigendecompositions ≈ ${(eighMs / 1000).toFixed(1)} s, closed-form edges ≈ ${(edgeMs / 1000).toFixed(1)} s, VJPs ≈ ${(vjpMs / 1000).toFixed(1)} s`,
  );
  return {
    samples, batchSize, activationBytesPerBatch: rowsPerBatch * widths.reduce((a, w) => a + w, 0) * 4, peakBytes: Math.round(peakBytes),
    expectedMs: Math.round(forwardMs * (passes + 1) + vjpMs + createMs + eighMs + edgeMs + 200),
    forwardPasses: batches * passes, vjps, notes,
  };
}

/** The op types of a section, in order (sections with the same signature and widths cost the same). */
function sectionSignature(model: LoadedModel, s: Section): string {
  const byId = new Map(model.graph.nodes.map((n) => [n.id, n.opType]));
  return s.nodes.map((id) => byId.get(id) ?? '?').join(',');
}

registerAnalysis({
  name: 'lib',
  description: 'Local Interaction Basis and its interaction graph (Bushnaq et al. 2024): Λ spectra, edges, PCA baseline, node ablation',
  needsData: true,
  layers: { mode: 'many', description: 'node layers: complete cuts of the graph, from input to output (default: the input of every Linear layer and the output; the residual stream between blocks for transformers)' },
  dataHint: 'inputs x (labels y / y_test enable node ablation); token data as tokens',
  options: LIB_OPTIONS,
  run: runLib,
  estimate: estimateLib,
});

export { runLib, estimateLib };
