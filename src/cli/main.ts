/**
 * `circuitscope` — the headless CLI over the same loaders and engine as the extension.
 */
import { parseArgs } from 'node:util';
import { ModelLoadError } from '../model/errors';
import { loadModel } from '../model/load';
import { formatSummary, summarize } from '../shared/summary';
import { listAnalyses } from '../engine/analyses';
import { JobInputError } from '../engine/errors';
import { runReport } from './report';
import { runAnalysisCli, runCapture, UsageError } from './run';

const USAGE = `usage: circuitscope <command> [options]

commands:
  info <model> [--json]     format, producer, opsets, op counts, parameters, inputs/outputs, hierarchy
  run capture <model> --data <data> --layers <names> [--out acts.npz] [--batch-size N] [--limit N] [--json]
                            run the model over a dataset and capture intermediate values (value or node
                            names, comma-separated); --out streams them into an .npz with the labels as 'y'

  run <analysis> <model…|folder> --data <data> [--layer names] [--<option> value…] [--json] [--out result.json]
                            an analysis (see 'circuitscope help analyses'); several models or a folder of
                            checkpoints run it over a series

  report <model> --data <data> [--analyses a,b] [--set lib.graphMass=0.8] [--out report.html]
          [--from run.json…] [job flags]
                            run the analyses that fit the data (x,y → collapse, hash, redundancy, lib; tokens →
                            attention; clean/corrupt/answer/wrong → circuit) and write one standalone HTML file
                            (results, circuit graphs, the operator graph coloured by the results; no network)

job flags: --budget-mb N (default 4096) and --time-budget-min N (default 10): a job whose cost estimate is
  above either is refused, with what to change; --yes runs it anyway (run and report),
  --backend auto|tfjs-node-gpu|tfjs-node|wasm|cpu (tfjs), --ort-provider auto|cpu|cuda (onnxruntime),
  --threads N (onnxruntime's intra-op threads; default one per core)
--out files are written whole or not at all (a temporary beside them, renamed when complete).

<data> is an .npz/.npy file (arrays x, y, x_test, y_test; tokens), a folder of images (one sub-folder per
class), a .csv, a .jsonl of token ids, or a dataset spec .json (see README).
<model> is an ONNX file (*.onnx) or a TF.js model.json (layers or graph model) with its weight shards.
exit codes: 0 ok, 1 a typed error (bad model, bad data, …), 2 usage error, 130 cancelled.`;


async function info(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`info takes exactly one model path, found ${positionals.length}`);
  const t0 = performance.now();
  try {
    const model = await loadModel(positionals[0]);
    const summary = summarize(model.graph);
    const loadMs = performance.now() - t0;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...summary, timings: { loadMs: round(loadMs) } }, null, 2)}\n`);
    } else {
      process.stdout.write(`${formatSummary(summary)}\n  loaded in  ${loadMs.toFixed(1)} ms\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ModelLoadError) {
      if (values.json) process.stdout.write(`${JSON.stringify({ error: e.toJSON() }, null, 2)}\n`);
      else process.stderr.write(`error [${e.code}]: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'info':
        return await info(rest);
      case 'run': {
        const [job, ...args] = rest;
        if (job === 'capture') return await runCapture(args);
        const available = ['capture', ...listAnalyses().map((a) => a.name)].join(', ');
        if (!job) throw new UsageError(`run needs a job name (available: ${available})`);
        try {
          return await runAnalysisCli(job, args);
        } catch (e) {
          if (e instanceof JobInputError) throw new UsageError(`${e.message}`);
          throw e;
        }
      }
      case 'report':
        try {
          return await runReport(rest);
        } catch (e) {
          if (e instanceof JobInputError) throw new UsageError(`${e.message}`);
          throw e;
        }
      case 'help':
        if (rest[0] === 'analyses') {
          const list = listAnalyses();
          if (!list.length) process.stdout.write('no analyses are available in this build\n');
          for (const a of list) {
            process.stdout.write(`${a.name}: ${a.description}\n`);
            for (const o of a.options) process.stdout.write(`  --${o.name} <${o.type}>${o.default !== undefined ? ` (default ${JSON.stringify(o.default)})` : ''}  ${o.description}\n`);
          }
          return 0;
        }
        process.stdout.write(`${USAGE}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`circuitscope: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

/** Resolves once everything written to `stream` so far has reached the OS (or the reader has gone). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableFinished || !stream.writable) return resolve();
    // A stream writes its chunks in order: the callback of an empty write runs after every earlier chunk is
    // flushed. A reader that closed early (`| head`) makes it fail with EPIPE: nothing more can arrive anyway.
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  });
}

/**
 * Exits with `code` once stdout and stderr have drained. `process.exit` right after a large write drops what
 * is still queued for a pipe (`--json | jq` got the first 64 KB); a file or a terminal is written at once, a
 * pipe whenever its reader takes it.
 */
export async function exitAfterDrain(code: number): Promise<never> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

/** Runs the CLI as a program: the exit code once output has drained; 70 and the stack for a bug. */
export function runAsProgram(argv: string[]): void {
  void main(argv).then(
    (code) => exitAfterDrain(code),
    (e: unknown) => {
      // One line for the user; the stack only when asked for (CIRCUITSCOPE_DEBUG=1), for a bug report.
      const line = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
      const stack = process.env.CIRCUITSCOPE_DEBUG && e instanceof Error && e.stack ? `\n${e.stack}` : '';
      process.stderr.write(`circuitscope: internal error (${line}); rerun with CIRCUITSCOPE_DEBUG=1 for details${stack}\n`);
      return exitAfterDrain(70);
    },
  );
}

if (require.main === module) runAsProgram(process.argv.slice(2));
