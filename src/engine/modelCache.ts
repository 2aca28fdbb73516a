/** Loaded models kept per (file, mtime, size) inside the worker, a few at most. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { LoadedModel } from '../model/ir';
import { loadModel } from '../model/load';

const cache: { key: string; model: Promise<LoadedModel> }[] = [];
const MAX_MODELS = 4;

export async function loadCached(file: string): Promise<LoadedModel> {
  const abs = path.resolve(file);
  let key = abs;
  try {
    const st = await fs.stat(abs);
    key = `${abs}\u0000${st.mtimeMs}\u0000${st.size}`;
  } catch {
    // loadModel reports the missing file with a typed error.
  }
  const hit = cache.findIndex((c) => c.key === key);
  if (hit >= 0) {
    const [entry] = cache.splice(hit, 1);
    cache.unshift(entry);
    return entry.model;
  }
  const model = loadModel(abs);
  cache.unshift({ key, model });
  model.catch(() => {
    const i = cache.findIndex((c) => c.key === key);
    if (i >= 0) cache.splice(i, 1);
  });
  cache.length = Math.min(cache.length, MAX_MODELS);
  return model;
}

export function clearModelCache(): void {
  cache.length = 0;
}
