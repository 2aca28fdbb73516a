/**
 * Which files the extension host may open on a webview's or a run file's word. A run file (from the UI, the
 * CLI, another machine — or anyone who can write into the workspace) names a model and, for a series, its
 * checkpoints; the host opens those only when their real paths (symlinks resolved) lie inside the workspace,
 * or when the user chose the file. No vscode import: unit-tested in plain node.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export class ContainmentError extends Error {
  override readonly name = 'ContainmentError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** Whether `child` is `parent` or lies below it (both absolute and already resolved). */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function real(p: string): Promise<string | undefined> {
  try {
    return await fs.promises.realpath(p);
  } catch {
    return undefined;
  }
}

/**
 * The real path of `file` when it exists and lies inside one of `roots` (compared on real paths: a symlink in
 * the workspace that points outside it is outside); undefined otherwise.
 */
export async function realPathInside(file: string, roots: readonly string[]): Promise<string | undefined> {
  const r = await real(path.resolve(file));
  if (r === undefined) return undefined;
  for (const root of roots) {
    const rr = await real(root);
    if (rr !== undefined && isInside(r, rr)) return r;
  }
  return undefined;
}

/**
 * The checkpoint `name` of a series run whose folder is `folder`: a file inside that folder (on real paths).
 * @throws ContainmentError when the name is absolute, climbs out (`..`), or resolves (through a symlink) outside.
 */
export async function seriesMember(folder: string, name: string): Promise<string> {
  if (!name || path.isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
    throw new ContainmentError(folder, `a series checkpoint must be a file inside the series folder, found '${name}'`);
  }
  const file = path.join(folder, name);
  const inside = await realPathInside(file, [folder]);
  if (inside === undefined) {
    const exists = (await real(file)) !== undefined;
    throw new ContainmentError(file, exists ? 'the series checkpoint resolves (through a link) outside the series folder' : 'the series checkpoint does not exist');
  }
  return file;
}
