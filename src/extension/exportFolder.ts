/**
 * Where an export's save dialog opens: the workspace folder holding the thing exported (the model, or a run's
 * model), else the first workspace folder — never the hidden `.circuitscope/runs/` where runs are kept — and
 * only without a workspace the model's own folder. No vscode import: unit-tested in plain node.
 */
import * as path from 'node:path';

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!!rel && !rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The save dialog's folder for an export of something at `near` (a model file, a series folder; undefined when
 * unknown), given the workspace `roots` (absolute). Undefined when there is neither a workspace nor a `near`.
 */
export function exportFolder(roots: readonly string[], near: string | undefined): string | undefined {
  if (near) {
    const root = roots.filter((r) => inside(r, near)).sort((a, b) => b.length - a.length)[0];
    if (root) return root;
  }
  if (roots.length) return roots[0];
  return near ? path.dirname(near) : undefined;
}

/** A file name safe on every platform, with the export's extension (a webview suggests it). */
export function safeExportName(fileName: string, format: string): string {
  const base = path.basename(fileName.replace(/\\/g, '/')).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '');
  if (!base) return `export.${format}`;
  return base.toLowerCase().endsWith(`.${format}`) ? base : `${base}.${format}`;
}
