/**
 * `circuitscope` — the headless CLI over the same loaders and engine as the extension.
 */
import { parseArgs } from 'node:util';
import { ModelLoadError } from '../model/errors';
import { loadModel } from '../model/load';
import { formatSummary, summarize } from '../model/summary';

const USAGE = `usage: circuitscope <command> [options]

commands:
  info <model> [--json]     format, producer, opsets, op counts, parameters, inputs/outputs, hierarchy

<model> is an ONNX file (*.onnx) or a TF.js model.json (layers or graph model) with its weight shards.
exit codes: 0 ok, 1 the model could not be loaded (typed error), 2 usage error.`;

class UsageError extends Error {}

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
      case undefined:
      case '-h':
      case '--help':
      case 'help':
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

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`circuitscope: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(70);
    },
  );
}
