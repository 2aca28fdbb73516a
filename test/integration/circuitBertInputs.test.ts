/**
 * Circuits on the BERT example's two exports (examples/bert, a post-LN encoder with a 2-class head): the model
 * with an attention_mask input gets the typed one-input error before any token id is checked (before: its
 * prompts were checked against the 2-class output, "expected an id in [0, 2)"), in the run and in the estimate;
 * on the one-input model the prompts are checked against the embedding's rows and answer/wrong against the classes.
 * Attention and collapse on the two-input model: capture's typed error naming both inputs and what to export.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analysisRunner } from '../../src/engine/analyses';
import { estimateCircuit, runCircuit } from '../../src/engine/analyses/circuit';
import { JobInputError } from '../../src/engine/errors';
import { writeNpz } from '../../src/model/datasets/writer';
import { repo } from '../helpers/engine';

const bert = path.join(repo, 'examples', 'bert', 'bert.onnx');
const bertMask = path.join(repo, 'examples', 'bert', 'bert_mask.onnx');
const pairs = path.join(repo, 'examples', 'bert', 'pairs.npz');
let dir: string;

const i64 = (shape: number[], at: number, value: number): { dtype: 'int64'; shape: number[]; data: BigInt64Array } => {
  const data = new BigInt64Array(shape.reduce((a, b) => a * b, 1)).fill(1n);
  data[at] = BigInt(value);
  return { dtype: 'int64', shape, data };
};

async function pairsWith(name: string, over: { clean?: number; answer?: number }): Promise<string> {
  const file = path.join(dir, name);
  await writeNpz(file, {
    clean: i64([2, 16], 3, over.clean ?? 1),
    corrupt: i64([2, 16], 0, 1),
    answer: i64([2], 1, over.answer ?? 0),
    wrong: i64([2], 0, 1),
  });
  return file;
}

const multiInput = (e: unknown): boolean => {
  assert.ok(e instanceof JobInputError, `expected a JobInputError, found ${String(e)}`);
  assert.match(e.message, /expected one graph input .*found 2 \(input_ids, attention_mask\).*export the model with that input alone/);
  assert.doesNotMatch(e.message, /expected an id/);
  return true;
};

describe('circuits on the BERT example: inputs and token ids', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'circuit-bert-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('bert_mask.onnx (input_ids + attention_mask): the typed one-input error, in the run and the estimate', async () => {
    await assert.rejects(runCircuit({ analysis: 'circuit', model: bertMask, data: pairs, options: {} }, {}), multiInput);
    await assert.rejects(estimateCircuit({ analysis: 'circuit', model: bertMask, data: pairs, options: {} }), multiInput);
  });

  it('bert.onnx: prompt ids ≥ 2 are fine, an id past the embedding is refused naming the embedding', async () => {
    const bad = await pairsWith('vocab.npz', { clean: 100000 });
    await assert.rejects(runCircuit({ analysis: 'circuit', model: bert, data: bad, options: {} }, {}), (e: unknown) => {
      assert.ok(e instanceof JobInputError);
      assert.match(e.message, /'clean' row 0, column 3 holds the token id 100000: expected an id in \[0, \d+\) \(the \d+ rows of the embedding/);
      return true;
    });
  });

  it('bert.onnx: answer is checked against the 2 classes of the logits', async () => {
    const bad = await pairsWith('class.npz', { answer: 2 });
    await assert.rejects(runCircuit({ analysis: 'circuit', model: bert, data: bad, options: {} }, {}), (e: unknown) => {
      assert.ok(e instanceof JobInputError);
      assert.match(e.message, /'answer' row 1 holds the token id 2: expected an id in \[0, 2\) \(the last axis \(2\) of the logits 'logits'\)/);
      return true;
    });
  });

  for (const [analysis, data] of [['attention', 'tokens.npz'], ['collapse', 'data.npz']] as const) {
    it(`${analysis} on bert_mask.onnx: a typed error naming both inputs and the one-input export`, async () => {
      await assert.rejects(analysisRunner(analysis).run({ analysis, model: bertMask, data: path.join(repo, 'examples', 'bert', data), options: {} }, {}), (e: unknown) => {
        assert.ok(e instanceof JobInputError, `expected a JobInputError, found ${String(e)}`);
        assert.match(e.message, /^expected a model with one input, found 2 \('input_ids', 'attention_mask'\); .*export the model with one input/);
        return true;
      });
    });
  }
});
