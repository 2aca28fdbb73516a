/**
 * Image-classification folders in the workspace, for the dataset pick: the layout docs/datasets.md describes,
 * `root/<class>/<image>` with PNG or JPEG images. A folder is offered when at least two of its sub-folders hold
 * images (a lone folder of screenshots is no labelled dataset). No vscode import: unit-tested in plain node.
 */
import * as path from 'node:path';

/** The image extensions the image-folder loader decodes (src/model/datasets/images.ts). */
export const IMAGE_GLOB = '**/*.{png,PNG,jpg,JPG,jpeg,JPEG,jpe,jfif}';

export interface ImageFolderPick {
  root: string;
  /** Class sub-folders holding images, sorted. */
  classes: string[];
  images: number;
}

/** The image folders among `images` (absolute paths of image files), by path. */
export function imageFolders(images: readonly string[], minClasses = 2): ImageFolderPick[] {
  const roots = new Map<string, Map<string, number>>();
  for (const f of images) {
    const classDir = path.dirname(f);
    const root = path.dirname(classDir);
    if (root === classDir) continue;
    const classes = roots.get(root) ?? roots.set(root, new Map()).get(root)!;
    const name = path.basename(classDir);
    if (name.startsWith('.')) continue;
    classes.set(name, (classes.get(name) ?? 0) + 1);
  }
  const out: ImageFolderPick[] = [];
  for (const [root, classes] of roots) {
    if (classes.size < minClasses) continue;
    let n = 0;
    for (const c of classes.values()) n += c;
    out.push({ root, classes: [...classes.keys()].sort(), images: n });
  }
  return out.sort((a, b) => a.root.localeCompare(b.root));
}
