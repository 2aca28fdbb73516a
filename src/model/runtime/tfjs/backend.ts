/**
 * tfjs backend resolution, by priority, with one aggregated error when nothing loads:
 *
 *   tfjs-node-gpu (CUDA, optional dependency) → tfjs-node (optional) → wasm → cpu.
 *
 * The optional packages are loaded with a guarded `require` so that `npm ci` without them works and esbuild
 * (which marks them external) leaves the calls alone. `requireGradients` skips wasm: it lacks backward
 * kernels the translator needs (e.g. Conv2DBackpropFilter), measured on tfjs-backend-wasm 4.22.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { TranslatorError } from './errors';
import { tf } from './tf';

export type BackendChoice = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export const BACKEND_PRIORITY: readonly BackendChoice[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

export interface ResolveBackendOptions {
  /** One backend only ('auto' or absent: by priority). */
  force?: BackendChoice | 'auto';
  /** Skip backends without the gradient kernels the translator needs (wasm). */
  requireGradients?: boolean;
  /** Folder holding tfjs-backend-wasm's .wasm files (default: located from node_modules). */
  wasmDir?: string;
}

export interface BackendAttempt {
  name: BackendChoice;
  ok: boolean;
  /** Why it was skipped or failed. */
  reason?: string;
}

export interface ResolvedBackend {
  /** The backend now active, as the UI and CLI name it. */
  name: BackendChoice;
  /** tfjs's own name for it (`tensorflow` for both tfjs-node flavours). */
  tfjsName: string;
  /** Every candidate tried, in order, with the reason it was passed over. */
  attempts: BackendAttempt[];
}

/** `require` that reports "not installed" instead of throwing (esbuild leaves external ids alone). */
function optionalRequire(load: () => unknown, id: string): { mod?: unknown; reason?: string } {
  if (typeof require !== 'function') return { reason: 'require() is not available in this module system' };
  try {
    return { mod: load() };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'MODULE_NOT_FOUND' && err.message.includes(id)) return { reason: `${id} is not installed` };
    return { reason: `${id} failed to load: ${err.message.split('\n')[0]}` };
  }
}

/** Where tfjs-backend-wasm keeps its .wasm files. */
export function locateWasmDir(): string | undefined {
  if (typeof require !== 'function') return undefined;
  try {
    const main = require.resolve('@tensorflow/tfjs-backend-wasm');
    const dir = path.dirname(main);
    return fs.existsSync(path.join(dir, 'tfjs-backend-wasm.wasm')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

async function activate(tfjsName: string): Promise<string | undefined> {
  try {
    const ok = await tf.setBackend(tfjsName);
    await tf.ready();
    return ok && tf.getBackend() === tfjsName ? undefined : `tf.setBackend('${tfjsName}') did not initialise it`;
  } catch (e) {
    return `tf.setBackend('${tfjsName}') failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

async function tryBackend(name: BackendChoice, opts: ResolveBackendOptions): Promise<{ tfjsName?: string; reason?: string }> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node': {
      const id = name === 'tfjs-node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      // Literal ids so esbuild sees (and, being external, leaves) each one; optional packages must be required
      // lazily and guarded, which static imports cannot be.
      const r =
        name === 'tfjs-node-gpu'
          ? // eslint-disable-next-line @typescript-eslint/no-require-imports
            optionalRequire(() => require('@tensorflow/tfjs-node-gpu'), id)
          : // eslint-disable-next-line @typescript-eslint/no-require-imports
            optionalRequire(() => require('@tensorflow/tfjs-node'), id);
      if (!r.mod) return { reason: r.reason };
      if (!tf.findBackendFactory('tensorflow')) return { reason: `${id} loaded but registered no 'tensorflow' backend (a second copy of tfjs-core?)` };
      const why = await activate('tensorflow');
      return why ? { reason: why } : { tfjsName: 'tensorflow' };
    }
    case 'wasm': {
      if (opts.requireGradients) return { reason: 'skipped: gradients were requested and wasm lacks backward kernels (e.g. Conv2DBackpropFilter)' };
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const r = optionalRequire(() => require('@tensorflow/tfjs-backend-wasm'), '@tensorflow/tfjs-backend-wasm');
      if (!r.mod) return { reason: r.reason };
      const dir = opts.wasmDir ?? locateWasmDir();
      if (!dir) return { reason: "tfjs-backend-wasm's .wasm files were not found next to its main module" };
      const wasm = r.mod as { setWasmPaths?: (prefix: string) => void };
      try {
        wasm.setWasmPaths?.(dir.endsWith(path.sep) ? dir : dir + path.sep);
      } catch (e) {
        return { reason: `setWasmPaths failed: ${(e as Error).message}` };
      }
      const why = await activate('wasm');
      return why ? { reason: why } : { tfjsName: 'wasm' };
    }
    case 'cpu': {
      const why = await activate('cpu');
      return why ? { reason: why } : { tfjsName: 'cpu' };
    }
  }
}

/**
 * Activates the first backend that loads (or the forced one) and returns which it is.
 * @throws TranslatorError `no-backend` listing every candidate's reason
 */
export async function resolveBackend(opts: ResolveBackendOptions = {}): Promise<ResolvedBackend> {
  const force = opts.force && opts.force !== 'auto' ? opts.force : undefined;
  if (force && !BACKEND_PRIORITY.includes(force)) {
    throw new TranslatorError('no-backend', `unknown backend '${force}' (expected one of ${BACKEND_PRIORITY.join(', ')} or auto)`);
  }
  const candidates = force ? [force] : BACKEND_PRIORITY;
  const attempts: BackendAttempt[] = [];
  for (const name of candidates) {
    const r = await tryBackend(name, opts);
    if (r.tfjsName) {
      attempts.push({ name, ok: true });
      return { name, tfjsName: r.tfjsName, attempts };
    }
    attempts.push({ name, ok: false, reason: r.reason });
  }
  throw new TranslatorError(
    'no-backend',
    `no tfjs backend could be initialised${force ? ` (forced: ${force})` : ''}: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`,
  );
}
