/**
 * The analyses the engine can run. Each analysis module registers one {@link AnalysisRunner}; the worker,
 * the CLI (flags from `options`) and the extension (quick picks) all read this registry.
 */
import type { AnalysisEnvelope, AnalysisInfo, AnalysisName, AnalysisRequest, OptionSpec } from '../../shared/analysis';
import type { CostEstimate } from '../../shared/engineProtocol';
import type { JobContext } from '../capture';
import { JobInputError } from '../errors';

export interface AnalysisRunner {
  name: AnalysisName;
  /** One line for help texts and quick picks, naming the paper. */
  description: string;
  /** Whether `--data` is required. */
  needsData: boolean;
  /** How `--layer` is used: not at all, one value, or several (the UI's layer pick follows this). */
  layers: AnalysisInfo['layers'];
  /** What the dataset must hold, in one line (quick-pick detail, error hints). */
  dataHint: string;
  options: OptionSpec[];
  run(req: AnalysisRequest, ctx: JobContext): Promise<AnalysisEnvelope>;
  /** Cost before running (memory, time, forward passes and VJPs); absent: the engine's generic capture estimate. */
  estimate?(req: AnalysisRequest, ctx: JobContext): Promise<CostEstimate>;
}

const registry = new Map<AnalysisName, AnalysisRunner>();

export function registerAnalysis(r: AnalysisRunner): void {
  registry.set(r.name, r);
}

export function analysisRunner(name: string): AnalysisRunner {
  const r = registry.get(name as AnalysisName);
  if (!r) {
    const known = [...registry.keys()].join(', ') || 'none yet';
    throw new JobInputError(`unknown analysis '${name}' (available: ${known})`);
  }
  return r;
}

export function listAnalyses(): AnalysisRunner[] {
  return [...registry.values()];
}

/** What a UI needs to offer the analyses (plain data: crosses the worker boundary). */
export function analysisInfos(): AnalysisInfo[] {
  return listAnalyses().map((r) => ({ name: r.name, description: r.description, needsData: r.needsData, layers: r.layers, dataHint: r.dataHint, options: r.options }));
}

/**
 * Validates and fills option values against their specs (defaults applied).
 * @throws JobInputError naming the option, what was expected and what was found.
 */
export function resolveOptions(specs: OptionSpec[], given: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = new Set(specs.map((s) => s.name));
  for (const k of Object.keys(given)) {
    if (!known.has(k)) throw new JobInputError(`unknown option '${k}' (options: ${[...known].join(', ') || 'none'})`);
  }
  for (const s of specs) {
    let v = given[s.name];
    if (v === undefined) {
      if (s.default !== undefined) out[s.name] = s.default;
      continue;
    }
    switch (s.type) {
      case 'number':
      case 'integer': {
        const n = typeof v === 'string' ? Number(v) : v;
        if (typeof n !== 'number' || !Number.isFinite(n) || (s.type === 'integer' && !Number.isInteger(n))) {
          throw new JobInputError(`option '${s.name}' expects ${s.type === 'integer' ? 'an integer' : 'a number'}, found ${JSON.stringify(v)}`);
        }
        v = n;
        break;
      }
      case 'boolean':
        if (v === 'true' || v === 'false') v = v === 'true';
        if (typeof v !== 'boolean') throw new JobInputError(`option '${s.name}' expects true or false, found ${JSON.stringify(v)}`);
        break;
      case 'string':
        if (typeof v !== 'string') throw new JobInputError(`option '${s.name}' expects a string, found ${JSON.stringify(v)}`);
        break;
      case 'strings':
        if (typeof v === 'string') v = v.split(',').map((x) => x.trim()).filter(Boolean);
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
          throw new JobInputError(`option '${s.name}' expects a comma-separated list, found ${JSON.stringify(v)}`);
        }
        break;
    }
    if (s.choices && !(Array.isArray(v) ? v : [v]).every((x) => s.choices!.includes(String(x)))) {
      throw new JobInputError(`option '${s.name}' expects one of ${s.choices.join(', ')}, found ${JSON.stringify(v)}`);
    }
    out[s.name] = v;
  }
  return out;
}
