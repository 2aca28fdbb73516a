/** EngineClients that run the TypeScript sources: in a worker (the CLI's way) or in a forked process (the extension's). */
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { EngineClient, type EngineClientOptions, type EngineProcessOptions } from '../../src/engine/client';

export const repo = path.join(__dirname, '..', '..');
export const entry = path.join(repo, 'src', 'engine', 'worker.ts');

export function testEngine(opts: { resourceLimits?: ResourceLimits } & Omit<EngineClientOptions, 'workerFactory'> = {}): EngineClient {
  return new EngineClient({
    ...opts,
    workerFactory: () =>
      // Workers do not inherit tsx's loader: the worker registers it first.
      new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, {
        eval: true,
        resourceLimits: opts.resourceLimits ?? { maxOldGenerationSizeMb: 2048 },
      }),
  });
}

/** The extension's engine: a child process of this runtime (the same client class, with tsx loading the sources). */
export function testEngineProcess(opts: Partial<EngineProcessOptions> & Omit<EngineClientOptions, 'workerFactory' | 'process' | 'workerPath'> = {}): EngineClient {
  const { execPath, execArgv, memoryLimitMb, rssIntervalMs, ...rest } = opts;
  return new EngineClient({
    ...rest,
    workerPath: entry,
    process: { execPath, execArgv: [...(execArgv ?? []), '--require', require.resolve('tsx/cjs')], memoryLimitMb: memoryLimitMb ?? 2048, rssIntervalMs },
  });
}

/** A `loadGraphBytes` result's pieces (one gzip stream, engineProtocol.ts) → the JSON text the webview parses. */
export function gunzipJoin(chunks: readonly Uint8Array[]): string {
  return zlib.gunzipSync(Buffer.concat(chunks)).toString('utf8');
}
