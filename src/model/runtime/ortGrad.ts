/**
 * Gradients of ONNX models run by onnxruntime: {@link buildGradientModel} + encode + one session. The session
 * computes the requested forward values and d objective / d source in one run.
 */
import { buildGradientModel, type GradientModel, type GradientSpec } from '../autodiff';
import { encodeModelProto, type OnnxModelProto } from '../formats/onnx';
import { createOrtSession, type OrtInput, type OrtOptions, type OrtOutput, type OrtSession } from './ort';

export interface OrtGradResult {
  /** Source name → d objective / d source. */
  grads: Record<string, OrtOutput>;
  /** The forward values listed in the spec's `outputs`. */
  outputs: Record<string, OrtOutput>;
}

export interface OrtGradSession {
  readonly gradient: GradientModel;
  readonly session: OrtSession;
  /**
   * One forward + backward pass. `feeds`: the model's inputs; `seeds`: the cotangent of each seeded value
   * (by the value's name, same shape), for a seeds objective.
   */
  run(feeds: Record<string, OrtInput>, seeds?: Record<string, OrtInput>): Promise<OrtGradResult>;
  release(): Promise<void>;
}

/**
 * Builds the gradient model of `model` for `spec` and opens an onnxruntime session on it.
 * @throws AutodiffError (see buildGradientModel); Error when a seed is missing at run time
 */
export async function createOrtGradSession(model: OnnxModelProto, spec: GradientSpec, opts: OrtOptions = {}): Promise<OrtGradSession> {
  const gradient = buildGradientModel(model, spec);
  const session = await createOrtSession(encodeModelProto(gradient.model), opts);
  return {
    gradient,
    session,
    async run(feeds, seeds = {}) {
      const all: Record<string, OrtInput> = { ...feeds };
      for (const [value, input] of Object.entries(gradient.seeds)) {
        const s = seeds[value];
        if (!s) throw new Error(`ortGrad: expected a cotangent for seeded value '${value}', found seeds for ${Object.keys(seeds).map((k) => `'${k}'`).join(', ') || 'none'}`);
        all[input] = s;
      }
      const sourceOf = new Map(Object.entries(gradient.grads).map(([s, o]) => [o, s]));
      const fetches = [...(spec.outputs ?? []), ...Object.values(gradient.grads)];
      const out = await session.run(all, fetches);
      const res: OrtGradResult = { grads: {}, outputs: {} };
      for (const [name, v] of Object.entries(out)) {
        const src = sourceOf.get(name);
        if (src !== undefined) res.grads[src] = v;
        else res.outputs[name] = v;
      }
      return res;
    },
    release: () => session.release(),
  };
}
