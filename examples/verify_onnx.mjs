// Check every example ONNX checkpoint against torch: run it with onnxruntime-node on the inputs stored
// in the reference.npz files written by make_examples.py and make_archs.py and compare with torch's logits.
//
//   node examples/verify_onnx.mjs
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { readNpz } from './npz.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const TOL = 1e-4;

/** [model path, reference file, input key, input name, logits key, extra inputs [[key, input name]…]] */
const checks = [
  ['mlp/mlp.onnx', 'mlp/reference.npz', 'x', 'x', 'logits'],
  ...['001', '002', '004', '008', '016', '032', '064', '128', '200'].map((e) => [
    `mlp/series/epoch_${e}.onnx`, 'mlp/reference.npz', 'x', 'x', `series_epoch_${e}`,
  ]),
  ['cnn/cnn.onnx', 'cnn/reference.npz', 'x', 'x', 'logits'],
  ['transformer/transformer.onnx', 'transformer/reference.npz', 'tokens', 'tokens', 'logits'],
  // make_archs.py (issue 16): architectures as real exporters write them
  ['gpt2/gpt2.onnx', 'gpt2/reference.npz', 'input_ids', 'input_ids', 'logits'],
  ['gpt2/gpt2.onnx', 'gpt2/reference.npz', 'input_ids_short', 'input_ids', 'logits_short'],
  ['gpt2/gpt2_addmm.onnx', 'gpt2/reference.npz', 'input_ids', 'input_ids', 'logits'],
  ['gpt2/gpt2_addmm.onnx', 'gpt2/reference.npz', 'input_ids_short', 'input_ids', 'logits_short'],
  ['bert/bert.onnx', 'bert/reference.npz', 'input_ids', 'input_ids', 'logits'],
  ['bert/bert_mask.onnx', 'bert/reference.npz', 'input_ids', 'input_ids', 'logits_mask', [['attention_mask', 'attention_mask']]],
  ['vit/vit.onnx', 'vit/reference.npz', 'pixel_values', 'pixel_values', 'logits'],
  ['resnet/resnet.onnx', 'resnet/reference.npz', 'pixel_values', 'pixel_values', 'logits'],
  ...[2, 5, 10, 15, 20, 30, 40, 70, 100].map((w) => {
    const k = `w${String(w).padStart(3, '0')}`;
    return [`widths/mlp_${k}.onnx`, 'widths/reference.npz', 'x', 'x', k];
  }),
];

let failed = 0;
const cache = new Map();
for (const [model, refFile, inKey, inName, outKey, extra = []] of checks) {
  if (!existsSync(join(here, model))) {
    console.log(`MISSING ${model}`);
    failed++;
    continue;
  }
  if (!cache.has(refFile)) cache.set(refFile, readNpz(join(here, refFile)));
  const ref = cache.get(refFile);
  const input = ref[inKey];
  const type = input.dtype === '<i8' ? 'int64' : 'float32';
  const session = await ort.InferenceSession.create(join(here, model));
  const feeds = { [inName]: new ort.Tensor(type, input.data, input.shape) };
  for (const [key, name] of extra) {
    const a = ref[key];
    feeds[name] = new ort.Tensor(a.dtype === '<i8' ? 'int64' : 'float32', a.data, a.shape);
  }
  const out = await session.run(feeds);
  const got = out[session.outputNames[0]];
  const want = ref[outKey];
  let maxDiff = 0;
  for (let i = 0; i < want.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.data[i] - want.data[i]));
  const shapeOk = got.dims.join(',') === want.shape.join(',');
  const ok = shapeOk && maxDiff < TOL;
  if (!ok) failed++;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${model.padEnd(30)} ${inKey.padEnd(15)} ${session.inputNames[0]}[${input.shape}] -> ` +
      `${session.outputNames[0]}[${got.dims}]  max |ort - torch| ${maxDiff.toExponential(2)}`,
  );
}
if (failed) {
  console.error(`${failed} check(s) failed`);
  process.exit(1);
}
