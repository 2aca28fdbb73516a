/**
 * LIB on encoders whose classification head reads one position (BERT's [CLS], a ViT's class token): the auto node
 * layers mix [batch, positions, features] residual layers with the [batch, classes] output. Before, the default
 * route's cost estimate fed the output's cotangent with the residual's positions into the gradient graph and
 * onnxruntime failed inside it ("__grad_n_Mul_10 … 16 by 64"), and the tfjs route said only "has 1 positions".
 * Now both refuse with one typed error naming every layer's shape and the --layer list that runs — which does.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { estimateLib, runLib } from '../../src/engine/analyses/lib';
import { JobInputError } from '../../src/engine/errors';
import { repo } from '../helpers/engine';

const bert = path.join(repo, 'examples', 'bert', 'bert.onnx');
const bertData = path.join(repo, 'examples', 'bert', 'data.npz');
const vit = path.join(repo, 'examples', 'vit', 'vit.onnx');
const fmnist = path.join(repo, 'examples', 'data', 'fmnist.npz');
const bertSeq = ['/bert/encoder/layer.1/attention/output/LayerNorm/Add_1_output_0', '/bert/encoder/layer.1/output/Add_output_0'];

function typedMixError(e: unknown, positions: number, classes: number, seq: string[]): boolean {
  assert.ok(e instanceof JobInputError, `expected a JobInputError, found ${String(e)}`);
  assert.match(e.message, /^expected node layers sharing the sequence length/);
  assert.match(e.message, new RegExp(`'logits' \\[\\d+, ${classes}\\]`));
  assert.match(e.message, new RegExp(`\\[\\d+, ${positions}, 64\\]`));
  assert.ok(e.message.includes(`--layer ${seq.join(',')}`), e.message);
  assert.doesNotMatch(e.message, /__grad_|onnxruntime failed|undefined|\[object/);
  return true;
}

describe('lib: sequence layers and a head reading one position', () => {
  it('BERT, default route: the estimate refuses with the typed error, not an error inside the gradient graph', async () => {
    await assert.rejects(estimateLib({ analysis: 'lib', model: bert, data: bertData, options: {} }, {}), (e) => typedMixError(e, 16, 2, bertSeq));
  });

  it('BERT, tfjs route: the run refuses with the same error', async () => {
    await assert.rejects(runLib({ analysis: 'lib', model: bert, data: bertData, options: { route: 'tfjs' }, limit: 8 }, {}), (e) => typedMixError(e, 16, 2, bertSeq));
  });

  it('ViT on Fashion-MNIST, tfjs route: 17 positions (16 patches + class token) vs 10 classes', async () => {
    const seq = ['/embeddings/Add_output_0', '/layer.0/Add_2_output_0', '/layer.1/Add_2_output_0', '/layer.2/Add_2_output_0'];
    await assert.rejects(runLib({ analysis: 'lib', model: vit, data: fmnist, options: { route: 'tfjs' }, limit: 64 }, {}), (e) => typedMixError(e, 17, 10, seq));
  });

  it('BERT with the suggested --layer list runs: 16 positions, one autodiff section', async () => {
    const r = await runLib({ analysis: 'lib', model: bert, data: bertData, options: { pca: false, ablation: false, stochasticSources: 2 }, limit: 8, layers: bertSeq }, {});
    assert.equal(r.result.positions, 16);
    assert.deepEqual(r.result.nodeLayers.names, bertSeq);
    assert.equal(r.result.layers.length, 2);
    assert.ok(r.result.layers.every((l) => l.lambdas.length > 0 && l.lambdas.every(Number.isFinite)));
  });
});
