/**
 * Running TF.js checkpoints with intermediate values captured — the TF.js counterpart of the ONNX tap
 * rewrite: graph models through tfjs-converter's `execute(inputs, outputNames)` (any node output, `name` or
 * `name:k`), layers models through a sub-model whose outputs are the requested layers' outputs. Exposes the
 * same session interface as the onnxruntime adapter so the engine's batch loop serves both.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tfc from '@tensorflow/tfjs-converter';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelGraph } from '../ir';
import type { OrtInput, OrtOutput, OrtSession } from './ort';
import { ModelLoadError } from '../errors';
import { tfjsError } from './runtimeError';
import { resolveBackend, type BackendChoice } from './tfjs/backend';
import { tf } from './tfjs/tf';

interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** An IOHandler reading model.json and its shards from disk (paths were validated by the loader). */
function fileHandler(file: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = JSON.parse(await fs.readFile(file, 'utf8')) as {
        modelTopology: object;
        weightsManifest?: ManifestGroup[];
        format?: string;
        generatedBy?: string;
        convertedBy?: string | null;
        signature?: object;
        userDefinedMetadata?: Record<string, unknown>;
        modelInitializer?: object;
      };
      const dir = path.dirname(file);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const g of json.weightsManifest ?? []) {
        specs.push(...g.weights);
        for (const p of g.paths) buffers.push(new Uint8Array(await fs.readFile(path.join(dir, p))));
      }
      const total = buffers.reduce((s, b) => s + b.length, 0);
      const weightData = new Uint8Array(total);
      let at = 0;
      for (const b of buffers) {
        weightData.set(b, at);
        at += b.length;
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: weightData.buffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'],
        modelInitializer: json.modelInitializer,
      };
    },
  };
}

function toTensor(x: OrtInput): tf.Tensor {
  switch (x.dtype) {
    case 'float32':
      return tf.tensor(x.data, x.dims, 'float32');
    case 'float64':
      // tfjs has no float64
      return tf.tensor(Float32Array.from(x.data), x.dims, 'float32');
    case 'int32':
      return tf.tensor(x.data, x.dims, 'int32');
    case 'int64':
      return tf.tensor(Int32Array.from(x.data, (v) => Number(v)), x.dims, 'int32');
    case 'bool':
      return tf.tensor(x.data, x.dims, 'bool');
  }
}

async function fromTensor(t: tf.Tensor): Promise<OrtOutput> {
  const data = (await t.data()) as Float32Array | Int32Array | Uint8Array;
  return { dtype: t.dtype === 'float32' ? 'float32' : t.dtype === 'int32' ? 'int32' : t.dtype === 'bool' ? 'bool' : t.dtype, dims: [...t.shape], data };
}

/**
 * A session over a TF.js model whose outputs are the model's outputs followed by `taps` (IR value ids).
 * @throws Error naming a tap that cannot be fetched (e.g. a layer inside a nested model).
 */
export async function createTfjsSession(graph: ModelGraph, taps: readonly string[], backend: BackendChoice | 'auto' = 'auto'): Promise<OrtSession & { backendName: string }> {
  let session: OrtSession & { backendName: string };
  try {
    session = await createTfjsSessionUnwrapped(graph, taps, backend);
  } catch (e) {
    throw tfjsError(e, 'session', graph.file, isTypedLoadError);
  }
  const run = session.run.bind(session);
  session.run = async (feeds, fetches) => {
    try {
      return await run(feeds, fetches);
    } catch (e) {
      throw tfjsError(e, 'run', graph.file);
    }
  };
  return session;
}

/** Errors this module or the loader already typed (a tap that cannot be fetched, a backend that failed). */
function isTypedLoadError(e: unknown): boolean {
  return e instanceof ModelLoadError || (e instanceof Error && (e.name === 'TranslatorError' || e.name === 'JobInputError'));
}

async function createTfjsSessionUnwrapped(graph: ModelGraph, taps: readonly string[], backend: BackendChoice | 'auto'): Promise<OrtSession & { backendName: string }> {
  const resolved = await resolveBackend({ force: backend });
  const handler = fileHandler(graph.file);
  const inputNames = [...graph.inputs];
  const outputNames = [...new Set([...graph.outputs, ...taps])];
  if (graph.format === 'tfjs-graph') {
    const model = await tfc.loadGraphModel(handler);
    return {
      provider: 'cpu',
      backendName: `tfjs ${tf.version_core} (${resolved.name} backend), graph model`,
      inputNames,
      outputNames,
      async run(feeds, fetches) {
        const names = [...(fetches ?? outputNames)];
        const inputs: Record<string, tf.Tensor> = {};
        for (const [k, v] of Object.entries(feeds)) inputs[k] = toTensor(v);
        try {
          const out = (await model.executeAsync(inputs, names)) as tf.Tensor | tf.Tensor[];
          const list = Array.isArray(out) ? out : [out];
          const res: Record<string, OrtOutput> = {};
          for (let i = 0; i < names.length; i++) res[names[i]] = await fromTensor(list[i]);
          tf.dispose(list);
          return res;
        } finally {
          tf.dispose(Object.values(inputs));
        }
      },
      release() {
        model.dispose();
        return Promise.resolve();
      },
    };
  }
  // layers model: the IR names a layer call's output `layer:nodeIndex:tensorIndex`
  const model = await tfl.loadLayersModel(handler);
  const symbolic = (id: string): tfl.SymbolicTensor => {
    const m = /^(.*):(\d+):(\d+)$/.exec(id);
    if (!m) throw new Error(`'${id}' is not a layer output of ${graph.file} (expected layer:node:tensor)`);
    let layer: tfl.layers.Layer;
    try {
      layer = model.getLayer(m[1]);
    } catch {
      throw new Error(`layer '${m[1]}' cannot be fetched from ${graph.file} (layers inside nested models are not fetchable)`);
    }
    const out = layer.getOutputAt(Number(m[2]));
    const list = Array.isArray(out) ? out : [out];
    const t = list[Number(m[3])];
    if (!t) throw new Error(`layer '${m[1]}' has no output ${m[3]} at call ${m[2]}`);
    return t;
  };
  const outputs = outputNames.map((o) => (graph.outputs.includes(o) ? model.outputs[graph.outputs.indexOf(o)] : symbolic(o)));
  const sub = tfl.model({ inputs: model.inputs, outputs });
  return {
    provider: 'cpu',
    backendName: `tfjs ${tf.version_core} (${resolved.name} backend), layers model`,
    inputNames,
    outputNames,
    async run(feeds, fetches) {
      const x = toTensor(feeds[inputNames[0]]);
      try {
        const out = sub.predict(x) as tf.Tensor | tf.Tensor[];
        const list = Array.isArray(out) ? out : [out];
        const res: Record<string, OrtOutput> = {};
        for (let i = 0; i < outputNames.length; i++) if (!fetches || fetches.includes(outputNames[i])) res[outputNames[i]] = await fromTensor(list[i]);
        tf.dispose(list);
        return res;
      } finally {
        x.dispose();
      }
    },
    release() {
      sub.dispose();
      return Promise.resolve();
    },
  };
}
