/**
 * Image folders: `root/<class>/<image>`, class names sorted (code-unit order, as Python's `sorted` for ASCII
 * names and torchvision's `ImageFolder`) → label ids 0…C-1, files sorted within each class. PNG (pngjs) and
 * JPEG (jpeg-js) are decoded to RGBA, resized, converted to the declared channels and packed as uint8 in the
 * declared layout; scaling and normalisation happen in the dataset layer.
 *
 * Resizing is bilinear with half-pixel centres and no antialiasing — `torch.nn.functional.interpolate(mode=
 * 'bilinear', align_corners=False)` — on each RGBA channel, rounded back to uint8 (as resizing a PIL image
 * does before `ToTensor`). Downscaling by more than 2× therefore aliases; pre-shrink such data offline.
 * Grey conversion uses PIL's `convert('L')` luma, (19595 R + 38470 G + 7471 B + 2^15) >> 16. Alpha is
 * dropped, not composited, for 1 and 3 channels.
 */

import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { DatasetError, errorText, fsError } from './errors';
import { decodePeakBytes, MAX_IMAGE_PIXELS, readImageHeader } from './imageHeader';
import type { NdArray } from './ndarray';
import type { Layout } from './spec';

/** Options of {@link loadImageFolder}. */
export interface ImageFolderOptions {
  /** 1, 3 or 4; default 1 when every image is grey (R = G = B everywhere), else 3. */
  channels?: 1 | 3 | 4;
  /** [height, width]; default the first image's size (then every image must have it). */
  size?: [number, number];
  /** Default NCHW. */
  layout?: Layout;
  /** At most this many images, taken round-robin across classes (so every class keeps some). */
  limit?: number;
  signal?: AbortSignal;
  /**
   * Memory budget in bytes (default 4 GiB, the engine's default budget): an image whose decoding would need
   * more (≈ 12 bytes per pixel, read from its header before decoding), or a folder whose packed pixels would,
   * is refused with `too-large`.
   */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 4 * 2 ** 30;

/** A decoded image folder. */
export interface ImageFolder {
  /** uint8 pixels, shape [N, C, H, W] or [N, H, W, C]. */
  images: NdArray & { dtype: 'uint8'; data: Uint8Array };
  labels: Int32Array;
  classNames: string[];
  /** Image files in sample order, relative to the root. */
  files: string[];
  /** Files that are not PNG/JPEG (by extension), skipped; with up to 5 examples. */
  skipped: { count: number; examples: string[] };
  /** Images resized to `size`, and the [height, width] of the first of them. */
  resized: { count: number; from?: [number, number] };
  /** Whether every image was grey (R = G = B everywhere), before any channel conversion. */
  grey: boolean;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.jpe', '.jfif']);
const UNSUPPORTED_IMAGE_EXT: Record<string, string> = {
  '.gif': 'GIF',
  '.bmp': 'BMP',
  '.webp': 'WebP',
  '.tif': 'TIFF',
  '.tiff': 'TIFF',
  '.avif': 'AVIF',
  '.heic': 'HEIC',
};

/**
 * Loads an image-classification folder (one sub-folder per class).
 * @throws DatasetError `not-found`, `not-a-directory`, `empty-dataset` (no class folders or no images),
 * `bad-image` (an undecodable file, an unsupported image format, or mismatched sizes without `size`).
 */
export async function loadImageFolder(root: string, opts: ImageFolderOptions = {}): Promise<ImageFolder> {
  const st = await stat(root).catch((e: unknown) => {
    throw fsError(e, root);
  });
  if (!st.isDirectory()) {
    throw new DatasetError('not-a-directory', root, 'expected a folder with one sub-folder of images per class, found a file');
  }
  const skipped = { count: 0, examples: [] as string[] };
  const skip = (rel: string) => {
    skipped.count++;
    if (skipped.examples.length < 5) skipped.examples.push(rel);
  };
  const top = await readdir(root, { withFileTypes: true }).catch((e: unknown) => {
    throw fsError(e, root);
  });
  const classNames = top
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  for (const d of top) if (!d.isDirectory()) skip(d.name);
  if (classNames.length === 0) {
    throw new DatasetError('empty-dataset', root, 'no class sub-folders; expected root/<class name>/<image files>');
  }
  const perClass: string[][] = [];
  for (const c of classNames) {
    const dir = join(root, c);
    const entries = await readdir(dir, { withFileTypes: true }).catch((e: unknown) => {
      throw fsError(e, dir);
    });
    const files: string[] = [];
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const rel = `${c}/${e.name}`;
      const ext = extname(e.name).toLowerCase();
      if (e.isFile() && IMAGE_EXT.has(ext)) files.push(rel);
      else if (e.isFile() && UNSUPPORTED_IMAGE_EXT[ext]) {
        throw new DatasetError('bad-image', join(root, rel), `${UNSUPPORTED_IMAGE_EXT[ext]} images are not supported; convert the folder to PNG or JPEG`);
      } else skip(rel);
    }
    perClass.push(files);
  }
  const chosen = pickRoundRobin(perClass, opts.limit);
  const total = chosen.reduce((s, f) => s + f.length, 0);
  if (total === 0) {
    throw new DatasetError('empty-dataset', root, `no PNG or JPEG files in the ${classNames.length} class folders${skipped.count ? ` (${skipped.count} other files skipped, e.g. ${skipped.examples.join(', ')})` : ''}`);
  }

  const layout = opts.layout ?? 'NCHW';
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let size = opts.size;
  if (size) {
    // A declared size is checked before anything is decoded or resized into it.
    const [h, w] = size;
    if (!(Number.isSafeInteger(h) && Number.isSafeInteger(w) && h > 0 && w > 0) || h * w > MAX_IMAGE_PIXELS) {
      throw new DatasetError('too-large', root, `"size" is [${h}, ${w}]; expected positive integers of at most ${MAX_IMAGE_PIXELS} pixels in all`);
    }
    const bytes = total * (opts.channels ?? 3) * h * w + 4 * h * w;
    if (bytes > maxBytes) {
      throw new DatasetError('too-large', root, `${total} images resized to ${h}×${w} need ${bytes} bytes, above the memory budget of ${maxBytes} bytes; set "limit" or a smaller "size"`);
    }
  }
  // Without declared channels we pack RGB and drop to one channel at the end if every image was grey.
  const packChannels = opts.channels ?? 3;
  let out: Uint8Array | undefined;
  let allGrey = true;
  let firstFile = '';
  const labels = new Int32Array(total);
  const files: string[] = [];
  const resized: ImageFolder['resized'] = { count: 0 };
  let n = 0;
  for (let c = 0; c < chosen.length; c++) {
    for (const rel of chosen[c]) {
      opts.signal?.throwIfAborted();
      const path = join(root, rel);
      const img = await decodeImage(path, maxBytes);
      if (!size) {
        size = [img.height, img.width];
        firstFile = rel;
      } else if (!opts.size && (img.height !== size[0] || img.width !== size[1])) {
        throw new DatasetError(
          'bad-image',
          path,
          `is ${img.height}×${img.width} (h×w) but ${firstFile} is ${size[0]}×${size[1]}; declare "size": [h, w] in the dataset spec to resize every image`,
        );
      }
      const [h, w] = size;
      const same = img.height === h && img.width === w;
      if (!same) {
        resized.count++;
        resized.from ??= [img.height, img.width];
      }
      const rgba = same ? img.data : resizeBilinear(img.data, img.height, img.width, h, w);
      if (allGrey && !isGrey(rgba)) allGrey = false;
      if (!out) {
        const bytes = total * packChannels * h * w;
        if (bytes > maxBytes || bytes > 2 ** 32) {
          throw new DatasetError(
            'too-large',
            root,
            `${total} images of ${packChannels}×${h}×${w} need ${bytes} bytes, above the memory budget of ${Math.min(maxBytes, 2 ** 32)} bytes; set "limit" or a smaller "size" in the dataset spec`,
          );
        }
        out = new Uint8Array(bytes);
      }
      packPixels(rgba, h * w, packChannels, layout, out.subarray(n * packChannels * h * w, (n + 1) * packChannels * h * w));
      labels[n] = c;
      files.push(rel);
      n++;
    }
  }
  const [h, w] = size as [number, number];
  let channels: number = packChannels;
  let data = out as Uint8Array;
  if (opts.channels === undefined && allGrey) {
    channels = 1;
    data = takeFirstChannel(data, total, h * w, layout);
  }
  const shape = layout === 'NCHW' ? [total, channels, h, w] : [total, h, w, channels];
  return { images: { dtype: 'uint8', shape, data }, labels, classNames, files, skipped, resized, grey: allGrey };
}

/** Per class, the files kept under `limit`: one from each class in turn, so small limits stay balanced. */
function pickRoundRobin(perClass: string[][], limit: number | undefined): string[][] {
  const total = perClass.reduce((s, f) => s + f.length, 0);
  if (limit === undefined || limit >= total) return perClass;
  const take = perClass.map(() => 0);
  let left = limit;
  for (let round = 0; left > 0; round++) {
    for (let c = 0; c < perClass.length && left > 0; c++) {
      if (round < perClass[c].length) {
        take[c]++;
        left--;
      }
    }
  }
  return perClass.map((f, c) => f.slice(0, take[c]));
}

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Decodes a PNG or JPEG (chosen by magic bytes, not extension) to 8-bit RGBA. The size is read from the header
 * first: above {@link MAX_IMAGE_PIXELS} pixels, or when decoding would need more than `maxBytes`, the image is
 * refused without decoding.
 * @throws DatasetError `bad-image`, `too-large`.
 */
export async function decodeImage(path: string, maxBytes = DEFAULT_MAX_BYTES): Promise<Rgba> {
  const buf = await readFile(path).catch((e: unknown) => {
    throw fsError(e, path);
  });
  const isPng = buf.length >= 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47;
  const isJpeg = buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  if (!isPng && !isJpeg) {
    throw new DatasetError('bad-image', path, buf.length === 0 ? 'empty image file' : 'not a PNG or JPEG image (unrecognised first bytes)');
  }
  const header = readImageHeader(buf);
  if (header) {
    const pixels = header.width * header.height;
    if (header.width === 0 || header.height === 0) {
      throw new DatasetError('bad-image', path, `the ${header.format} header declares ${header.width}×${header.height} pixels (w×h); expected a non-empty image`);
    }
    if (pixels > MAX_IMAGE_PIXELS || decodePeakBytes(pixels) > maxBytes) {
      throw new DatasetError(
        'too-large',
        path,
        `the ${header.format} header declares ${header.width}×${header.height} pixels (w×h), which would need ≈ ${(decodePeakBytes(pixels) / 2 ** 20).toFixed(0)} MB to decode; expected at most ${MAX_IMAGE_PIXELS} pixels and ${(maxBytes / 2 ** 20).toFixed(0)} MB (the memory budget) — shrink the image first`,
      );
    }
  }
  let img: Rgba;
  try {
    if (isPng) {
      const p = PNG.sync.read(buf);
      img = { width: p.width, height: p.height, data: new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.length) };
    } else {
      const j = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
      img = { width: j.width, height: j.height, data: j.data };
    }
  } catch (e) {
    throw new DatasetError('bad-image', path, `cannot decode ${isPng ? 'PNG' : 'JPEG'}: ${errorText(e)}`);
  }
  if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 4) {
    throw new DatasetError('bad-image', path, `decoded to ${img.width}×${img.height} with ${img.data.length} bytes; the file is damaged`);
  }
  return img;
}

/**
 * Bilinear resize of an RGBA image (see the module comment for the convention), rounded to uint8.
 * Exported for tests.
 */
export function resizeBilinear(src: Uint8Array, inH: number, inW: number, outH: number, outW: number): Uint8Array {
  const out = new Uint8Array(outH * outW * 4);
  const sy = inH / outH;
  const sx = inW / outW;
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const fxs = new Float64Array(outW);
  for (let x = 0; x < outW; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), inW - 1);
    x0s[x] = Math.floor(fx);
    x1s[x] = Math.min(x0s[x] + 1, inW - 1);
    fxs[x] = fx - x0s[x];
  }
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), inH - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, inH - 1);
    const ly = fy - y0;
    for (let x = 0; x < outW; x++) {
      const lx = fxs[x];
      const a = (y0 * inW + x0s[x]) * 4;
      const b = (y0 * inW + x1s[x]) * 4;
      const c = (y1 * inW + x0s[x]) * 4;
      const d = (y1 * inW + x1s[x]) * 4;
      const o = (y * outW + x) * 4;
      for (let k = 0; k < 4; k++) {
        const top = src[a + k] + (src[b + k] - src[a + k]) * lx;
        const bottom = src[c + k] + (src[d + k] - src[c + k]) * lx;
        out[o + k] = Math.round(top + (bottom - top) * ly);
      }
    }
  }
  return out;
}

function isGrey(rgba: Uint8Array): boolean {
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
  }
  return true;
}

/** Writes `pixels` RGBA pixels into `out` as `channels` channels in `layout`. */
function packPixels(rgba: Uint8Array, pixels: number, channels: number, layout: Layout, out: Uint8Array): void {
  for (let p = 0; p < pixels; p++) {
    const r = rgba[p * 4];
    const g = rgba[p * 4 + 1];
    const b = rgba[p * 4 + 2];
    if (channels === 1) {
      out[p] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
      continue;
    }
    for (let k = 0; k < channels; k++) {
      const v = rgba[p * 4 + k];
      if (layout === 'NCHW') out[k * pixels + p] = v;
      else out[p * channels + k] = v;
    }
  }
}

/** From packed 3-channel grey images, the first channel only. */
function takeFirstChannel(data: Uint8Array, n: number, pixels: number, layout: Layout): Uint8Array {
  const out = new Uint8Array(n * pixels);
  for (let i = 0; i < n; i++) {
    const img = data.subarray(i * 3 * pixels, (i + 1) * 3 * pixels);
    const dst = out.subarray(i * pixels, (i + 1) * pixels);
    if (layout === 'NCHW') dst.set(img.subarray(0, pixels));
    else for (let p = 0; p < pixels; p++) dst[p] = img[p * 3];
  }
  return out;
}
