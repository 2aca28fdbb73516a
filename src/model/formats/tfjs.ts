/**
 * TensorFlow.js `model.json` (layers-model and graph-model) → IR.
 *
 * The topology is turned into nodes by {@link buildLayersModel} (Keras configs) or {@link buildGraphModel}
 * (GraphDef JSON); the weightsManifest into lazy tensor descriptors by {@link openWeights}, which resolves and
 * stats every shard at load time. Every field of the JSON is treated as untrusted: anything malformed is a
 * {@link ModelLoadError}, never another exception.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelLoadError } from '../errors';
import { finishGraph, type PartialGraph } from '../graphBuild';
import type { LoadedModel, ModelFormat } from '../ir';
import { buildGraphModel, type GraphParts } from './tfjsGraph';
import { buildLayersModel } from './tfjsLayers';
import { found, isObj, openWeights } from './tfjsWeights';

type Obj = Record<string, unknown>;

/** True for a TF.js model.json: an object with `modelTopology` and/or `weightsManifest`, or a TF.js `format`. */
export function isTfjsModelJson(json: unknown): boolean {
  if (!isObj(json)) return false;
  if (json.format === 'layers-model' || json.format === 'graph-model') return true;
  return isObj(json.modelTopology) || Array.isArray(json.weightsManifest);
}

/** Says what a JSON document that is not a TF.js model looks like (for `unknown-format` errors). */
export function describeJson(json: unknown, file: string): string {
  const base = path.basename(file).toLowerCase();
  if (json === null) return 'JSON null';
  if (Array.isArray(json)) {
    if (json.length > 0 && json.every((g) => isObj(g) && Array.isArray(g.paths) && Array.isArray(g.weights))) {
      return 'a TF.js weights manifest without a topology (a list of {paths, weights} groups; open the model.json that refers to it)';
    }
    return `a JSON array (${json.length} element${json.length === 1 ? '' : 's'})`;
  }
  if (typeof json === 'string') return 'a JSON string';
  if (typeof json === 'number') return 'a JSON number';
  if (typeof json === 'boolean') return `JSON ${String(json)}`;
  if (!isObj(json)) return 'a JSON value of an unknown kind';
  const has = (...keys: string[]): boolean => keys.every((k) => k in json);
  const keys = Object.keys(json);
  if (has('model', 'added_tokens') || (has('model') && (has('normalizer') || has('pre_tokenizer')) && isObj(json.model))) {
    return `a HuggingFace tokenizer (tokenizer.json: has "model" and "${has('added_tokens') ? 'added_tokens' : 'pre_tokenizer'}")`;
  }
  if (has('tokenizer_class') || (base === 'tokenizer_config.json' && keys.length > 0)) return 'a HuggingFace tokenizer config (tokenizer_config.json)';
  if (has('lockfileVersion')) return 'an npm package-lock.json';
  if (typeof json.name === 'string' && (has('version') || has('dependencies') || has('devDependencies') || has('scripts'))) {
    return base === 'package.json' ? 'an npm package.json' : 'an npm package.json (has "name" and "version"/"dependencies")';
  }
  if (has('compilerOptions') || (base.startsWith('tsconfig') && (has('extends') || has('include') || has('references')))) {
    return 'a tsconfig (TypeScript compiler settings)';
  }
  if (has('class_name', 'config')) {
    return 'a Keras model config without weights (has class_name/config but no weightsManifest; save with tfjs.converters or model.save to get a model.json)';
  }
  if (has('model_type') || has('architectures')) {
    const mt = typeof json.model_type === 'string' ? `model_type ${json.model_type}` : 'architectures ' + String(json.architectures);
    return `a HuggingFace config.json (${mt}); the weights live in another file`;
  }
  if (has('cells', 'nbformat')) return 'a Jupyter notebook';
  if (has('graph') && (has('opsetImport') || has('irVersion') || has('opset_import'))) {
    return 'an ONNX model dumped as JSON (open the binary .onnx file instead)';
  }
  if (has('configurations', 'version')) return 'a VS Code launch.json';
  if (has('images', 'annotations')) return 'COCO-style annotations';
  if (has('paths', 'weights')) return 'a single TF.js weights-manifest group without a topology';
  if (keys.length === 0) return 'an empty JSON object';
  const vals = Object.values(json);
  if (keys.length >= 10 && vals.slice(0, 50).every((v) => typeof v === 'number' && Number.isInteger(v))) {
    return `a vocabulary map (${keys.length} strings → integer ids, like vocab.json)`;
  }
  const shown = keys.slice(0, 6).map((k) => (k.length > 30 ? `${k.slice(0, 30)}…` : k));
  return `a JSON object with keys ${shown.join(', ')}${keys.length > 6 ? `… (${keys.length} keys)` : ''}`;
}

/**
 * Opens a TF.js model.json whose JSON has already been parsed. `file` is absolute; shards are resolved in
 * its folder and must exist and be long enough.
 * @throws ModelLoadError (and nothing else)
 */
export async function openTfjs(file: string, json: unknown): Promise<LoadedModel> {
  try {
    return await open(file, json);
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new ModelLoadError('invalid-structure', file, `the TF.js model.json could not be interpreted: ${msg}`, 'tfjs');
  }
}

async function open(file: string, json: unknown): Promise<LoadedModel> {
  if (!isObj(json)) {
    throw new ModelLoadError('invalid-structure', file, `expected a TF.js model.json object, found ${found(json)}`, 'tfjs');
  }
  const format = detectFormat(file, json);
  const topo = json.modelTopology as Obj;
  const weights = await openWeights(file, json.weightsManifest, format);
  let parts: GraphParts;
  let formatVersion: string | undefined;
  const metadata: Record<string, string> = {};
  if (format === 'tfjs-graph') {
    parts = buildGraphModel(file, topo, json, weights.tensors);
    const producerVersion = isObj(topo.versions) ? topo.versions.producer : undefined;
    formatVersion = [str(json.format) ?? 'graph-model', producerVersion !== undefined ? `TF GraphDef producer ${String(producerVersion)}` : '']
      .filter(Boolean)
      .join(', ');
    if (producerVersion !== undefined) metadata['graphdef.producer'] = String(producerVersion);
  } else {
    const lp = buildLayersModel(file, topo, weights.tensors, weights.order);
    parts = lp;
    formatVersion = [str(json.format) ?? 'layers-model', lp.kerasVersion ? `keras ${lp.kerasVersion}` : ''].filter(Boolean).join(', ');
    metadata.model_class = lp.modelClass;
    if (lp.kerasVersion) metadata.keras_version = lp.kerasVersion;
    if (lp.backend) metadata.backend = lp.backend;
    if (isObj(topo.training_config)) metadata.training_config = short(JSON.stringify(topo.training_config));
  }
  for (const k of ['format', 'generatedBy', 'convertedBy'] as const) {
    const v = json[k];
    if (v !== undefined && v !== null) metadata[k] = stringify(v);
  }
  if (isObj(json.userDefinedMetadata)) {
    for (const [k, v] of Object.entries(json.userDefinedMetadata)) metadata[`userDefinedMetadata.${k}`] = stringify(v);
  }
  if (isObj(json.signature)) metadata.signature = stringify(json.signature);

  let fileBytes = 0;
  try {
    fileBytes = (await fs.stat(file)).size;
  } catch {
    fileBytes = Buffer.byteLength(JSON.stringify(json));
  }
  const partial: PartialGraph = {
    format,
    file,
    fileBytes,
    producer: producerOf(json),
    formatVersion,
    opsets: [],
    metadata,
    inputs: parts.inputs,
    outputs: parts.outputs,
    nodes: parts.nodes,
    values: parts.values,
    tensors: weights.tensors,
    warnings: [...weights.warnings, ...parts.warnings],
  };
  return { graph: finishGraph(partial), readTensor: (name) => weights.read(name) };
}

function detectFormat(file: string, json: Obj): ModelFormat {
  const bad = (detail: string): ModelLoadError => new ModelLoadError('invalid-structure', file, detail, 'tfjs');
  const topo = json.modelTopology;
  if (topo === undefined || topo === null) {
    const what = Array.isArray(json.weightsManifest) ? 'only a weightsManifest (a TF.js weights manifest without a topology)' : 'no modelTopology';
    throw bad(`expected a TF.js model.json with a modelTopology, found ${what}`);
  }
  if (!isObj(topo)) throw bad(`expected modelTopology to be an object, found ${found(topo)}`);
  if (json.format === 'graph-model') return 'tfjs-graph';
  if (json.format === 'layers-model') return 'tfjs-layers';
  if (Array.isArray(topo.node)) return 'tfjs-graph';
  if ('class_name' in topo || 'model_config' in topo || 'config' in topo) return 'tfjs-layers';
  throw bad(
    `expected modelTopology to hold either node[] (a graph model) or class_name/config (a layers model), found keys ${Object.keys(topo).slice(0, 8).join(', ') || '(none)'}`,
  );
}

function producerOf(json: Obj): { name: string; version?: string } | undefined {
  const by = str(json.convertedBy) ?? str(json.generatedBy);
  if (!by) return undefined;
  const m = /v?(\d+\.\d+(?:\.\d+)?)\s*$/.exec(by);
  return m ? { name: by, version: m[1] } : { name: by };
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x.trim() !== '' ? x : undefined;
}

function short(s: string): string {
  return s.length > 2000 ? `${s.slice(0, 2000)}…` : s;
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return short(JSON.stringify(v) ?? String(v));
  } catch {
    return String(v);
  }
}
