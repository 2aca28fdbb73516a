/** An EngineClient whose worker runs the TypeScript sources (workers do not inherit tsx's loader). */
import * as path from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { EngineClient, type EngineClientOptions } from '../../src/engine/client';

export const repo = path.join(__dirname, '..', '..');

export function testEngine(opts: { resourceLimits?: ResourceLimits } & Omit<EngineClientOptions, 'workerFactory'> = {}): EngineClient {
  const entry = path.join(repo, 'src', 'engine', 'worker.ts');
  return new EngineClient({
    ...opts,
    workerFactory: () =>
      new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, {
        eval: true,
        resourceLimits: opts.resourceLimits ?? { maxOldGenerationSizeMb: 2048 },
      }),
  });
}
