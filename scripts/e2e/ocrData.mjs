#!/usr/bin/env node
// Writes a small labelled image batch for the PaddleOCR recognizer (x: float32 [16, 3, 48, 320], y: int64 [16])
// as an uncompressed .npz, for the engine e2e flow. Usage: node ocrData.mjs <out.npz>
import fs from 'node:fs';
import { zipSync } from 'fflate';

function npy(descr, shape, data) {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 255, header.length >> 8]);
  head.set(new TextEncoder().encode(header), 10);
  const out = new Uint8Array(head.length + data.byteLength);
  out.set(head);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), head.length);
  return out;
}

const n = 16;
const x = new Float32Array(n * 3 * 48 * 320);
for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin(i * 0.37);
const y = new BigInt64Array(n).map((_, i) => BigInt(i % 4));
fs.writeFileSync(process.argv[2], zipSync({ 'x.npy': [npy('<f4', [n, 3, 48, 320], x), { level: 0 }], 'y.npy': [npy('<i8', [n], y), { level: 0 }] }));
