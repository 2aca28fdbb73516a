// Minimal .npy/.npz reader for the example scripts (the engine has its own dataset loaders).
// Supports little-endian float32/float64/int64/int32/uint8/bool, C order, format versions 1-3.
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';

const DTYPES = {
  '<f4': Float32Array,
  '<f8': Float64Array,
  '<i8': BigInt64Array,
  '<i4': Int32Array,
  '|u1': Uint8Array,
  '|b1': Uint8Array,
};

/** Parse one .npy file's bytes into { dtype, shape, data } (data is a fresh, aligned typed array). */
export function parseNpy(bytes, name = 'array') {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error(`${name}: not a .npy file`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1] === 'True';
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const Ctor = DTYPES[descr];
  if (!Ctor) throw new Error(`${name}: unsupported dtype ${descr}`);
  if (fortran) throw new Error(`${name}: Fortran-order arrays are not supported`);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLen;
  const raw = bytes.slice(start, start + count * Ctor.BYTES_PER_ELEMENT); // copy => aligned
  return { dtype: descr, shape, data: new Ctor(raw.buffer, 0, count) };
}

/** Read an .npz (compressed or stored) into { key: { dtype, shape, data } }. */
export function readNpz(path) {
  const files = unzipSync(new Uint8Array(readFileSync(path)));
  const out = {};
  for (const [file, bytes] of Object.entries(files)) {
    if (file.endsWith('.npy')) out[file.slice(0, -4)] = parseNpy(bytes, `${path}:${file}`);
  }
  return out;
}
