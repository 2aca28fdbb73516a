/**
 * A decompression bomb in an image folder: a small, valid PNG declaring 20,000 × 20,000 pixels (1.6 GB as
 * RGBA; decoding it grew past 4.6 GB before the header check). Loaded in a child process so its peak RSS can
 * be read: it must be refused with a typed `too-large` error within 1 s and 200 MB.
 */
import { crc32 } from 'node:zlib';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, it } from 'node:test';
import * as zlib from 'node:zlib';
import { readImageHeader } from '../../src/model/datasets/imageHeader';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-bomb-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid 1-bit greyscale PNG of w × h black pixels (rows of zeros deflate ≈ 1000:1). */
function bombPng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc(h * (1 + Math.ceil(w / 8))); // filter byte 0 + packed bits, all zero
  const idat = zlib.deflateSync(raw, { level: 9 });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

it('reads PNG and JPEG dimensions from the header', () => {
  assert.deepEqual(readImageHeader(bombPng(30, 7)), { format: 'PNG', width: 30, height: 7 });
  // SOI, an APP0 segment, then SOF0 declaring 600 × 400 (h × w).
  const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x02, 0x58, 0x01, 0x90, 0x01, 0x01, 0x11, 0x00]);
  assert.deepEqual(readImageHeader(jpeg), { format: 'JPEG', width: 400, height: 600 });
  assert.equal(readImageHeader(Uint8Array.from([0xff, 0xd8, 0xff, 0xd9])), undefined);
});

it('refuses a 20,000 × 20,000 PNG in an image folder from its header, within 1 s and 200 MB peak RSS', () => {
  const root = path.join(tmp, 'folder');
  fs.mkdirSync(path.join(root, 'a'), { recursive: true });
  fs.mkdirSync(path.join(root, 'b'), { recursive: true });
  const png = bombPng(20_000, 20_000);
  fs.writeFileSync(path.join(root, 'a', 'bomb.png'), png);
  fs.writeFileSync(path.join(root, 'b', 'small.png'), bombPng(4, 4));
  const script = `
    const { openDataset } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'model', 'datasets'))});
    const t0 = performance.now();
    openDataset(${JSON.stringify(root)}).then(
      () => console.log(JSON.stringify({ loaded: true })),
      (e) => console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, ms: performance.now() - t0, maxRssKb: process.resourceUsage().maxRSS })),
    );`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { name: string; code: string; message: string; ms: number; maxRssKb: number; loaded?: boolean };
  console.log(`bomb PNG (${png.length} bytes): ${r.code} after ${r.ms?.toFixed(0)} ms, peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MB`);
  assert.equal(r.loaded, undefined, 'the bomb was decoded');
  assert.equal(r.name, 'DatasetError');
  assert.equal(r.code, 'too-large');
  assert.match(r.message, /bomb\.png: the PNG header declares 20000×20000 pixels/);
  assert.ok(r.ms < 1000, `refused after ${r.ms} ms`);
  assert.ok(r.maxRssKb < 200 * 1024, `peak RSS ${r.maxRssKb} kB`);
});
