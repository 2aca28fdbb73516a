/**
 * The little of zip that `.npz` needs, read from disk on demand: the central directory (zip64 included),
 * the byte range of each member, and inflating one member without touching the others. Stored members are
 * not copied at all: the .npy reader reads their rows straight from the archive.
 *
 * We read the directory ourselves rather than with fflate's `unzipSync` because that needs the whole archive
 * in memory. fflate's streaming `Inflate` decodes just enough of a deflated member to read its .npy header;
 * whole members are inflated with Node's zlib (native, asynchronous).
 */

import { crc32, inflateRaw } from 'node:zlib';
import { promisify } from 'node:util';
import { Inflate } from 'fflate';
import { DatasetError, errorText } from './errors';
import { readFully } from './npy';

const inflateRawAsync = promisify(inflateRaw);

type Handle = Awaited<ReturnType<typeof import('node:fs/promises').open>>;

/** One member of a zip archive, from its central-directory record. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CD_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;

/**
 * Reads the central directory of the zip open as `fh` (size `fileSize`).
 * @throws DatasetError `corrupt-zip` when there is no end record or an offset points outside the file.
 */
export async function readZipDirectory(fh: Handle, fileSize: number, file: string): Promise<ZipEntry[]> {
  // The end record is 22 bytes plus a comment of up to 65535; the zip64 locator sits just before it.
  const tailLen = Math.min(fileSize, 22 + 65535 + 20);
  const tailStart = fileSize - tailLen;
  const tail = await readAt(fh, tailStart, tailLen, file);
  const tv = view(tail);
  let e = -1;
  for (let p = tail.length - 22; p >= 0; p--) {
    if (tv.getUint32(p, true) === EOCD_SIG) {
      e = p;
      break;
    }
  }
  if (e < 0) throw new DatasetError('corrupt-zip', file, 'not a zip archive (no end-of-central-directory record); an .npz is a zip of .npy files');
  let count = tv.getUint16(e + 10, true);
  let cdSize = tv.getUint32(e + 12, true);
  let cdOffset = tv.getUint32(e + 16, true);
  if (e >= 20 && tv.getUint32(e - 20, true) === ZIP64_LOCATOR_SIG) {
    const z64Offset = u64(tv, e - 20 + 8, file);
    const z = await readAt(fh, z64Offset, 56, file);
    const zv = view(z);
    if (z.length < 56 || zv.getUint32(0, true) !== ZIP64_EOCD_SIG) {
      throw new DatasetError('corrupt-zip', file, `zip64 end record expected at offset ${z64Offset}, not found`);
    }
    count = u64(zv, 32, file);
    cdSize = u64(zv, 40, file);
    cdOffset = u64(zv, 48, file);
  }
  if (cdOffset + cdSize > fileSize) {
    throw new DatasetError('corrupt-zip', file, `central directory [${cdOffset}, ${cdOffset + cdSize}) lies past the end of the file (${fileSize} bytes); truncated download?`);
  }
  const cd = await readAt(fh, cdOffset, cdSize, file);
  const cv = view(cd);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.length || cv.getUint32(p, true) !== CD_SIG) {
      throw new DatasetError('corrupt-zip', file, `central directory record ${k} of ${count} is missing or damaged`);
    }
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    const crc = cv.getUint32(p + 16, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let size = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    let localHeaderOffset = cv.getUint32(p + 42, true);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
    // Names without the UTF-8 flag are CP437; .npz member names are ASCII, so latin1 is close enough.
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(nameBytes);
    // Zip64 extended information (header id 1): 8-byte values for the fields saturated at 0xFFFFFFFF, in order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd && xEnd <= cd.length) {
      const id = cv.getUint16(x, true);
      const len = cv.getUint16(x + 2, true);
      if (id === 1) {
        let q = x + 4;
        if (size === U32_MAX) {
          size = u64(cv, q, file);
          q += 8;
        }
        if (compressedSize === U32_MAX) {
          compressedSize = u64(cv, q, file);
          q += 8;
        }
        if (localHeaderOffset === U32_MAX) localHeaderOffset = u64(cv, q, file);
      }
      x += 4 + len;
    }
    entries.push({ name, method, flags, crc32: crc, compressedSize, size, localHeaderOffset });
    p = xEnd + commentLen;
  }
  return entries;
}

/**
 * Offset of the first data byte of `entry` (after its local header).
 * @throws DatasetError `corrupt-zip`, or `unsupported-compression` for encrypted members or methods other
 * than stored and deflate.
 */
export async function entryDataOffset(fh: Handle, entry: ZipEntry, fileSize: number, file: string): Promise<number> {
  if (entry.flags & 1) throw new DatasetError('unsupported-compression', file, `member '${entry.name}' is encrypted`);
  if (entry.method !== 0 && entry.method !== 8) {
    const names: Record<number, string> = { 12: 'bzip2', 14: 'LZMA', 93: 'zstd', 95: 'xz' };
    throw new DatasetError(
      'unsupported-compression',
      file,
      `member '${entry.name}' uses compression method ${entry.method}${names[entry.method] ? ` (${names[entry.method]})` : ''}; only stored and deflate are supported (numpy's savez / savez_compressed)`,
    );
  }
  // Sizes that no real member has (deflate expands at most ~1032:1) would make us allocate wildly.
  if ((entry.method === 0 && entry.size !== entry.compressedSize) || (entry.method === 8 && entry.size > entry.compressedSize * 1032 + 64)) {
    throw new DatasetError('corrupt-zip', file, `member '${entry.name}' claims ${entry.size} bytes from ${entry.compressedSize} stored; the directory is damaged`);
  }
  const h = await readAt(fh, entry.localHeaderOffset, 30, file);
  const hv = view(h);
  if (h.length < 30 || hv.getUint32(0, true) !== LOCAL_SIG) {
    throw new DatasetError('corrupt-zip', file, `member '${entry.name}': no local header at offset ${entry.localHeaderOffset}`);
  }
  const start = entry.localHeaderOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
  if (start + entry.compressedSize > fileSize) {
    throw new DatasetError('corrupt-zip', file, `member '${entry.name}' runs past the end of the file (${fileSize} bytes); truncated download?`);
  }
  return start;
}

/**
 * The uncompressed bytes of `entry`, CRC-checked.
 * @throws DatasetError `corrupt-zip` on a failed inflate or CRC mismatch, `too-large`.
 */
export async function readEntry(fh: Handle, entry: ZipEntry, dataOffset: number, file: string): Promise<Uint8Array> {
  if (entry.size > 2 ** 32) {
    throw new DatasetError('too-large', file, `member '${entry.name}' is ${entry.size} bytes uncompressed; more than one buffer can hold`);
  }
  const raw = await readAt(fh, dataOffset, entry.compressedSize, file);
  let out: Uint8Array;
  if (entry.method === 0) out = raw;
  else {
    try {
      // Node's zlib rather than fflate here: native, ~3× faster on big members, and off the event loop.
      out = await inflateRawAsync(raw, { maxOutputLength: Math.max(entry.size, 1) });
    } catch (e) {
      throw new DatasetError('corrupt-zip', file, `member '${entry.name}' does not inflate: ${errorText(e)}`);
    }
  }
  if (out.length !== entry.size) {
    throw new DatasetError('corrupt-zip', file, `member '${entry.name}' inflates to ${out.length} bytes, the directory says ${entry.size}`);
  }
  if ((crc32(out) >>> 0) !== entry.crc32) {
    throw new DatasetError('corrupt-zip', file, `member '${entry.name}' fails its CRC-32 check; the archive is damaged`);
  }
  return out;
}

/**
 * At least the first `want` uncompressed bytes of `entry` (fewer only when the member is shorter), inflating
 * only as much of a deflated member as that takes.
 * @throws DatasetError `corrupt-zip` on a failed inflate.
 */
export async function readEntryPrefix(fh: Handle, entry: ZipEntry, dataOffset: number, want: number, file: string): Promise<Uint8Array> {
  if (entry.method === 0) return readAt(fh, dataOffset, Math.min(want, entry.compressedSize), file);
  const chunks: Uint8Array[] = [];
  let have = 0;
  const inf = new Inflate((chunk) => {
    chunks.push(chunk);
    have += chunk.length;
  });
  const step = 1024;
  for (let p = 0; p < entry.compressedSize && have < want; p += step) {
    const n = Math.min(step, entry.compressedSize - p);
    const part = await readAt(fh, dataOffset + p, n, file);
    try {
      inf.push(part, p + n >= entry.compressedSize);
    } catch (e) {
      throw new DatasetError('corrupt-zip', file, `member '${entry.name}' does not inflate: ${errorText(e)}`);
    }
  }
  const out = new Uint8Array(have);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

async function readAt(fh: Handle, position: number, length: number, file: string): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  const got = await readFully(fh, buf, position, file);
  return got === length ? buf : buf.subarray(0, got);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, at: number, file: string): number {
  if (at + 8 > v.byteLength) throw new DatasetError('corrupt-zip', file, 'zip64 field runs past its record');
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new DatasetError('corrupt-zip', file, `zip64 size/offset ${n} is implausible`);
  return Number(n);
}
