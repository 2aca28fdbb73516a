/**
 * Checkpoint series and width sweeps: an analysis run on each of several models, one result row per model in
 * order (the variant labels hoisted beside the rows), or the single result for one model.
 */
import * as path from 'node:path';
import type { AnalysisEnvelope, AnalysisRequest } from '../../shared/analysis';
import type { Series, VariantLabels } from '../../shared/results';
import { graphSignature } from '../../model/graphSignature';
import type { JobContext } from '../capture';
import { JobInputError, throwIfAborted } from '../errors';
import { loadCached } from '../modelCache';
import { staged } from './splits';

/** The outcome of one model's analysis. */
export interface OneResult<R> {
  result: R;
  backend: string;
  layer?: string | string[];
  warnings: string[];
  timings: Record<string, number>;
}

/** The number in a checkpoint's file name (epoch_064.onnx → 64; mlp_w100.onnx → 100), or null. */
export function checkpointNumber(file: string): number | null {
  const m = path.basename(file).match(/(\d+)(?!.*\d)/);
  return m ? Number(m[1]) : null;
}

/** Each model's architecture signature, or null with the load error's message (one line). */
export async function graphSignatures(models: readonly string[], signal?: AbortSignal): Promise<{ model: string; signature: string | null; error?: string }[]> {
  const out: { model: string; signature: string | null; error?: string }[] = [];
  for (const model of models) {
    throwIfAborted(signal);
    try {
      out.push({ model, signature: graphSignature((await loadCached(model)).graph) });
    } catch (e) {
      out.push({ model, signature: null, error: (e instanceof Error ? e.message : String(e)).split('\n')[0] });
    }
  }
  return out;
}

/**
 * Refuses a series of models that are not checkpoints of one architecture (different operators, or weights by
 * other names or ranks — widths may differ): its rows would compare unrelated networks.
 * @throws JobInputError naming the first model that differs from the first one.
 */
export async function checkOneArchitecture(models: readonly string[], signal?: AbortSignal): Promise<void> {
  if (models.length < 2) return;
  const first = graphSignature((await loadCached(models[0])).graph);
  for (const m of models.slice(1)) {
    throwIfAborted(signal);
    if (graphSignature((await loadCached(m)).graph) !== first) {
      throw new JobInputError(
        `a checkpoint series needs checkpoints of one architecture: ${path.basename(m)} runs other operators or holds other weights than ${path.basename(models[0])}; run unrelated models one at a time`,
        m,
      );
    }
  }
}

/**
 * Runs `one` on the request's model, or on each of `req.models` (a checkpoint series or a set of widths),
 * returning the envelope: a single result, or `{ series: [{ model, checkpoint, …result }] }` in order.
 */
export async function runOverModels<R extends { variants?: VariantLabels }>(
  req: AnalysisRequest,
  ctx: JobContext,
  options: Record<string, unknown>,
  one: (model: string, ctx: JobContext) => Promise<OneResult<R>>,
): Promise<AnalysisEnvelope<R | Series<R>>> {
  const t0 = performance.now();
  const models = req.models?.length ? req.models : [req.model];
  if (models.length === 1) {
    const r = await one(models[0], ctx);
    return {
      analysis: req.analysis,
      model: models[0],
      backend: r.backend,
      ...(r.layer !== undefined ? { layer: r.layer } : {}),
      options,
      result: r.result,
      timings: { ...r.timings, totalMs: performance.now() - t0 },
      ...(r.warnings.length ? { warnings: r.warnings } : {}),
    };
  }
  await checkOneArchitecture(models, ctx.signal);
  const rows: Series<R>['series'] = [];
  let variants: VariantLabels | undefined;
  const warnings: string[] = [];
  let backend = '';
  let layer: string | string[] | undefined;
  let runMs = 0;
  for (let i = 0; i < models.length; i++) {
    throwIfAborted(ctx.signal);
    const r = await one(models[i], staged(ctx, `model ${i + 1}/${models.length} (${path.basename(models[i])})`));
    // Variant labels are the same for every row: hoisted once beside the series.
    const { variants: v, ...rest } = r.result;
    variants ??= v;
    rows.push({ model: path.basename(models[i]), checkpoint: checkpointNumber(models[i]), ...rest });
    for (const w of r.warnings) warnings.push(`${path.basename(models[i])}: ${w}`);
    backend = r.backend;
    layer ??= r.layer;
    runMs += r.timings.runMs ?? 0;
  }
  return {
    analysis: req.analysis,
    model: path.dirname(models[0]) === path.dirname(models[models.length - 1]) ? path.dirname(models[0]) : models[0],
    backend,
    ...(layer !== undefined ? { layer } : {}),
    options,
    result: { models: models.length, series: rows, ...(variants !== undefined ? { variants } : {}) },
    timings: { runMs, totalMs: performance.now() - t0 },
    ...(warnings.length ? { warnings } : {}),
  };
}
