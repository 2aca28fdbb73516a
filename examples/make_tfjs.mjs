// Build the example MLP as TF.js layers models (one Sequential, one Functional) from the trained
// torch weights, save them in the standard layers-model format, load them back from disk and check
// them against the ONNX export of the same network (onnxruntime-node).
//
//   node examples/make_tfjs.mjs        (after examples/make_examples.py --only data mlp)
//
// Writes examples/mlp-tfjs/{model.json,group1-shard1of1.bin} and
//        examples/mlp-tfjs-functional/{model.json,group1-shard1of1.bin}.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import ort from 'onnxruntime-node';
import { readNpz } from './npz.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SHARD = 'group1-shard1of1.bin';

/** torch Linear weight (out,in) -> tfjs Dense kernel (in,out). */
function denseWeights(w, key) {
  const weight = w[`${key}.weight`];
  const bias = w[`${key}.bias`];
  const [out, inp] = weight.shape;
  const kernel = tf.tidy(() => tf.transpose(tf.tensor2d(weight.data, [out, inp])));
  return [kernel, tf.tensor1d(bias.data)];
}

// torch flattens NCHW as (C,H,W); a tfjs Flatten over inputShape [1,28,28] flattens row-major over
// the same three axes, so fc1's kernel needs no permutation.
function sequentialMlp() {
  return tfl.sequential({
    name: 'mlp',
    layers: [
      tfl.layers.flatten({ inputShape: [1, 28, 28], name: 'flatten' }),
      tfl.layers.dense({ units: 128, activation: 'relu', name: 'fc1' }),
      tfl.layers.dense({ units: 128, activation: 'relu', name: 'fc2' }),
      tfl.layers.dense({ units: 10, name: 'fc3' }),
    ],
  });
}

// Same network as a Functional model, with the ReLUs as separate Activation layers.
function functionalMlp() {
  const x = tfl.input({ shape: [1, 28, 28], name: 'x' });
  let h = tfl.layers.flatten({ name: 'flatten' }).apply(x);
  h = tfl.layers.dense({ units: 128, name: 'fc1' }).apply(h);
  h = tfl.layers.activation({ activation: 'relu', name: 'relu1' }).apply(h);
  h = tfl.layers.dense({ units: 128, name: 'fc2' }).apply(h);
  h = tfl.layers.activation({ activation: 'relu', name: 'relu2' }).apply(h);
  const logits = tfl.layers.dense({ units: 10, name: 'fc3' }).apply(h);
  return tfl.model({ inputs: x, outputs: logits, name: 'mlp_functional' });
}

function setWeights(model, w) {
  for (const name of ['fc1', 'fc2', 'fc3']) model.getLayer(name).setWeights(denseWeights(w, name));
}

function concat(weightData) {
  const parts = Array.isArray(weightData) ? weightData : [weightData];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), off);
    off += p.byteLength;
  }
  return out;
}

async function save(model, dir) {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: 'circuitscope examples/make_tfjs.mjs (weights from examples/mlp/mlp_weights.npz)',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [SHARD], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
      writeFileSync(join(dir, SHARD), concat(artifacts.weightData));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

/** An IOHandler that reads model.json and its shards from a folder, as a file-based loader would. */
function fileHandler(dir) {
  return {
    load: async () => {
      const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const data = concat(manifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))).map((b) =>
          b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength),
        ));
        return [specs, data.buffer];
      });
    },
  };
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  const w = readNpz(join(here, 'mlp/mlp_weights.npz'));
  const data = readNpz(join(here, 'data/fmnist.npz'));
  const n = 20;
  const xs = data.x_test.data.slice(0, n * 784);
  const ys = data.y_test.data.slice(0, n);

  const session = await ort.InferenceSession.create(join(here, 'mlp/mlp.onnx'));
  const ortOut = await session.run({ x: new ort.Tensor('float32', xs, [n, 1, 28, 28]) });
  const ref = ortOut.logits.data;

  for (const [make, dir] of [
    [sequentialMlp, 'mlp-tfjs'],
    [functionalMlp, 'mlp-tfjs-functional'],
  ]) {
    const built = make();
    setWeights(built, w);
    await save(built, join(here, dir));
    const loaded = await tfl.loadLayersModel(fileHandler(join(here, dir)));
    const logits = tf.tidy(() => loaded.predict(tf.tensor4d(xs, [n, 1, 28, 28])).dataSync());
    let maxDiff = 0;
    let agree = 0;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      let a = 0;
      let b = 0;
      for (let c = 0; c < 10; c++) {
        maxDiff = Math.max(maxDiff, Math.abs(logits[i * 10 + c] - ref[i * 10 + c]));
        if (logits[i * 10 + c] > logits[i * 10 + a]) a = c;
        if (ref[i * 10 + c] > ref[i * 10 + b]) b = c;
      }
      agree += a === b ? 1 : 0;
      correct += BigInt(a) === ys[i] ? 1 : 0;
    }
    const kind = loaded.constructor.name;
    const layers = loaded.layers.map((l) => `${l.name}:${l.getClassName()}`).join(' ');
    console.log(`${dir}: ${kind} [${layers}] params ${loaded.countParams()}`);
    console.log(
      `  vs onnxruntime on ${n} test images: max |diff| ${maxDiff.toExponential(2)}, argmax agree ${agree}/${n}, correct ${correct}/${n}`,
    );
    if (!(maxDiff < 1e-4)) throw new Error(`${dir}: TF.js and ONNX logits differ by ${maxDiff}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
