/**
 * Token data checked against the model's vocabulary before the model sees it: negative ids (ONNX Gather would
 * wrap them to the end of the table) and ids ≥ the vocabulary are a JobInputError naming the array, row, column
 * and the data file — for the attention analysis (`tokens`, run and estimate) and circuits
 * (`clean`/`corrupt`/`answer`/`wrong`), on the example transformer (vocabulary 32).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { estimateAttention, runAttention } from '../../src/engine/analyses/attention';
import { runCircuit } from '../../src/engine/analyses/circuit';
import { prepareTaps, releaseSessions } from '../../src/engine/capture';
import { JobInputError } from '../../src/engine/errors';
import { openNpz, writeNpz, type NdArray } from '../../src/model/datasets';
import { repo } from '../helpers/engine';

const model = path.join(repo, 'examples', 'transformer', 'transformer.onnx');
const induction = path.join(repo, 'examples', 'transformer', 'induction.npz');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-tokens-'));

/** The example's arrays with one id replaced: `array[row, col] = value`. */
async function withBadId(name: string, array: string, row: number, col: number, value: bigint): Promise<string> {
  const z = await openNpz(induction);
  const arrays: Record<string, NdArray> = {};
  for (const a of ['tokens', 'clean', 'corrupt', 'answer', 'wrong']) arrays[a] = await z.read(a);
  const a = arrays[array];
  const data = BigInt64Array.from(a.data as BigInt64Array);
  data[a.shape.length === 2 ? row * a.shape[1] + col : row] = value;
  arrays[array] = { dtype: 'int64', shape: a.shape, data };
  const file = path.join(tmp, name);
  await writeNpz(file, arrays);
  return file;
}

const refused = (file: string, what: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof JobInputError, `expected a JobInputError, got ${String(e)}`);
  assert.match(e.message, what);
  assert.ok(e.message.includes(file), `the message names the data file: ${e.message}`);
  assert.equal(e.file, file);
  assert.doesNotMatch(e.message, /\n|undefined|\[object/);
  return true;
};

describe('token ids against the vocabulary', () => {
  after(async () => {
    await releaseSessions();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('attention refuses a negative token id, naming its row and column (run and estimate)', async () => {
    const file = await withBadId('neg.npz', 'tokens', 3, 5, -1n);
    const what = /'tokens' row 3, column 5 holds the token id -1: expected an id in \[0, 32\) \(the 32 rows of the embedding 'embed\.weight'/;
    await assert.rejects(runAttention({ analysis: 'attention', model, data: file, options: {} }, {}), refused(file, what));
    await assert.rejects(estimateAttention({ analysis: 'attention', model, data: file, options: {} }, {}), refused(file, what));
  });

  it('attention refuses a token id beyond the vocabulary', async () => {
    const file = await withBadId('oov.npz', 'tokens', 300, 23, 32n);
    await assert.rejects(
      runAttention({ analysis: 'attention', model, data: file, options: {} }, {}),
      refused(file, /'tokens' row 300, column 23 holds the token id 32: expected an id in \[0, 32\)/),
    );
  });

  it('any job feeding the embedding (capture, LIB …) refuses them too, before the model runs', async () => {
    const file = await withBadId('neg-capture.npz', 'tokens', 511, 0, -7n);
    await assert.rejects(prepareTaps(model, file, ['logits']), refused(file, /'tokens' row 511, column 0 holds the token id -7/));
  });

  it('JSONL token lines are checked the same way, naming the line as the row', async () => {
    const file = path.join(tmp, 'prompts.jsonl');
    const line = (bad?: [number, number]): string => JSON.stringify(Array.from({ length: 24 }, (_, i) => (bad && i === bad[0] ? bad[1] : i % 32)));
    fs.writeFileSync(file, [line(), line(), line([17, -2]), line()].join('\n'));
    await assert.rejects(
      runAttention({ analysis: 'attention', model, data: file, options: {} }, {}),
      refused(file, /'tokens' row 2, column 17 holds the token id -2: expected an id in \[0, 32\)/),
    );
  });

  it('attention still runs on the untouched prompts', async () => {
    const env = await runAttention({ analysis: 'attention', model, data: induction, limit: 16, options: {} }, {});
    assert.ok(env.result.heads.length > 0);
  });

  it('circuits refuse a negative clean token and an out-of-vocabulary corrupt token', async () => {
    const neg = await withBadId('clean-neg.npz', 'clean', 2, 4, -3n);
    await assert.rejects(
      runCircuit({ analysis: 'circuit', model, data: neg, options: { edges: 5 } }, {}),
      refused(neg, /'clean' row 2, column 4 holds the token id -3: expected an id in \[0, 32\)/),
    );
    const oov = await withBadId('corrupt-oov.npz', 'corrupt', 10, 0, 1000n);
    await assert.rejects(
      runCircuit({ analysis: 'circuit', model, data: oov, options: { edges: 5 } }, {}),
      refused(oov, /'corrupt' row 10, column 0 holds the token id 1000: expected an id in \[0, 32\)/),
    );
  });

  it('circuits refuse answer and wrong tokens outside the logits, by row', async () => {
    const answer = await withBadId('answer-oov.npz', 'answer', 5, 0, 99999n);
    await assert.rejects(
      runCircuit({ analysis: 'circuit', model, data: answer, options: { edges: 5 } }, {}),
      refused(answer, /'answer' row 5 holds the token id 99999: expected an id in \[0, 32\) \(the last axis \(32\) of the logits 'logits'\)/),
    );
    const wrong = await withBadId('wrong-neg.npz', 'wrong', 0, 0, -1n);
    await assert.rejects(runCircuit({ analysis: 'circuit', model, data: wrong, options: { edges: 5 } }, {}), refused(wrong, /'wrong' row 0 holds the token id -1/));
  });
});
