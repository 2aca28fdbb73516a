/**
 * NumPy `.npz` reading: a zip of `.npy` members (numpy's `savez`, stored, or `savez_compressed`, deflated).
 * Opening lists every array's dtype and shape by reading only the directory and each member's header;
 * arrays are decoded one at a time on request. Rows of a stored C-order member are read straight from disk.
 */

import { open, stat } from 'node:fs/promises';
import { DatasetError, fsError } from './errors';
import type { DataDType, NdArray } from './ndarray';
import {
  type NpyHeader,
  type NpyLocation,
  NPY_PREAMBLE_BYTES,
  decodeNpy,
  npyHeaderLength,
  parseNpyHeader,
  readNpyRowsAt,
  sizeMismatch,
} from './npy';
import { type ZipEntry, entryDataOffset, readEntry, readEntryPrefix, readZipDirectory } from './zip';

/** One array of an archive, as listed without decoding it. */
export interface NpzArrayInfo {
  /** Array name: the member name without `.npy` (as numpy's `NpzFile` names it). */
  name: string;
  /** Member name in the zip. */
  member: string;
  dtype: DataDType;
  shape: number[];
  fortranOrder: boolean;
  /** True for a deflated member (reading any of it inflates all of it). */
  compressed: boolean;
  /** Uncompressed bytes of the member (.npy header + data). */
  bytes: number;
}

/** An opened `.npz`: its arrays listed, each read on request. */
export interface NpzArchive {
  path: string;
  arrays: NpzArrayInfo[];
  /** True when the archive has an array called `name`. */
  has(name: string): boolean;
  /** The listing of `name`. @throws DatasetError `missing-array` naming the arrays there are. */
  info(name: string): NpzArrayInfo;
  /** Decodes array `name` whole. */
  read(name: string): Promise<NdArray>;
  /**
   * Rows [start, end) of array `name` along axis 0. Only those bytes are read for a stored C-order member;
   * a deflated or Fortran-order member is decoded whole and sliced.
   */
  readRows(name: string, start: number, end: number): Promise<NdArray>;
}

interface Member {
  info: NpzArrayInfo;
  entry: ZipEntry;
  dataOffset: number;
  header: NpyHeader;
}

/**
 * Opens an `.npz`: reads the zip directory and each `.npy` member's header (members not ending in `.npy`
 * are ignored, as numpy exposes them only as raw bytes).
 * @throws DatasetError `not-found`, `directory`, `empty-file`, `corrupt-zip`, `unsupported-compression`,
 * and the .npy header errors (`bad-magic`, `truncated`, `bad-header`, `unsupported-dtype`, `size-mismatch`)
 * for a bad member, prefixed with the member name.
 */
export async function openNpz(path: string): Promise<NpzArchive> {
  const st = await stat(path).catch((e: unknown) => {
    throw fsError(e, path);
  });
  if (st.isDirectory()) throw new DatasetError('directory', path, 'expected an .npz file, found a directory');
  if (st.size === 0) throw new DatasetError('empty-file', path, 'zero bytes, expected an .npz archive');
  const fh = await open(path, 'r').catch((e: unknown) => {
    throw fsError(e, path);
  });
  const members = new Map<string, Member>();
  try {
    const entries = await readZipDirectory(fh, st.size, path);
    for (const entry of entries) {
      if (!entry.name.endsWith('.npy')) continue;
      const name = entry.name.slice(0, -4);
      const what = `array '${name}' (${entry.name}): `;
      const dataOffset = await entryDataOffset(fh, entry, st.size, path);
      let prefix = await readEntryPrefix(fh, entry, dataOffset, 256, path);
      if (prefix.length >= NPY_PREAMBLE_BYTES || prefix.length === entry.size) {
        const hlen = npyHeaderLength(prefix, path, what);
        if (hlen > prefix.length) prefix = await readEntryPrefix(fh, entry, dataOffset, hlen, path);
      }
      const header = parseNpyHeader(prefix, path, what);
      const have = entry.size - header.dataOffset;
      if (have !== header.dataBytes) throw sizeMismatch(header, have, path, what);
      members.set(name, {
        entry,
        dataOffset,
        header,
        info: {
          name,
          member: entry.name,
          dtype: header.dtype,
          shape: header.shape,
          fortranOrder: header.fortranOrder,
          compressed: entry.method !== 0,
          bytes: entry.size,
        },
      });
    }
  } finally {
    await fh.close();
  }

  const member = (name: string): Member => {
    const m = members.get(name);
    if (!m) {
      const have = [...members.keys()].map((k) => `'${k}'`).join(', ') || 'none';
      throw new DatasetError('missing-array', path, `no array '${name}' in the archive (arrays: ${have})`);
    }
    return m;
  };
  const decodeWhole = async (m: Member): Promise<NdArray> => {
    const fh2 = await open(path, 'r').catch((e: unknown) => {
      throw fsError(e, path);
    });
    try {
      const bytes = await readEntry(fh2, m.entry, m.dataOffset, path);
      return decodeNpy(bytes, path, `array '${m.info.name}' (${m.entry.name}): `);
    } finally {
      await fh2.close();
    }
  };

  return {
    path,
    arrays: [...members.values()].map((m) => m.info),
    has: (name) => members.has(name),
    info: (name) => member(name).info,
    read: async (name) => decodeWhole(member(name)),
    async readRows(name, start, end) {
      const m = member(name);
      const what = `array '${name}' (${m.entry.name}): `;
      if (m.entry.method === 0) {
        const loc: NpyLocation = { path, offset: m.dataOffset, length: m.entry.size };
        return readNpyRowsAt(loc, m.header, start, end, path, what);
      }
      const rows = m.header.shape.length === 0 ? 1 : m.header.shape[0];
      if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= rows)) {
        throw new DatasetError('out-of-range', path, `${what}row range [${start}, ${end}) is outside [0, ${rows})`);
      }
      const all = await decodeWhole(m);
      if (start === 0 && end === rows) return all;
      const rowElems = all.shape.slice(1).reduce((a, b) => a * b, 1);
      return { dtype: all.dtype, shape: [end - start, ...all.shape.slice(1)], data: all.data.slice(start * rowElems, end * rowElems) };
    },
  };
}

/** Reads every array of an `.npz` into memory, by name. @throws DatasetError as {@link openNpz}. */
export async function readNpz(path: string): Promise<Record<string, NdArray>> {
  const z = await openNpz(path);
  const out: Record<string, NdArray> = {};
  for (const a of z.arrays) out[a.name] = await z.read(a.name);
  return out;
}
