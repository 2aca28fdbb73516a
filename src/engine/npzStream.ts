/**
 * Streams captured activations into an `.npz` without holding them in memory: each array is appended to a
 * temporary `.npy` as batches arrive (the header is written when the first batch fixes the per-sample
 * shape; the sample count is known up front), then the temporaries are copied into a stored (uncompressed)
 * zip chunk by chunk and removed. Written to a temporary beside `<out>`, renamed at the end (removed on failure).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Zip, ZipPassThrough } from 'fflate';
import { npyHeader, type DataDType } from '../model/datasets';
import { ioReason, OutputWriteError, tempBeside } from './atomicWrite';
import { CancelledError, throwIfAborted } from './errors';

type Chunk = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

const DTYPE_OF: [new (...a: never[]) => Chunk, DataDType][] = [
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int32Array, 'int32'],
  [BigInt64Array, 'int64'],
  [Uint8Array, 'uint8'],
  [Int8Array, 'int8'],
];

export function dtypeOfChunk(x: unknown): DataDType | undefined {
  for (const [ctor, d] of DTYPE_OF) if (x instanceof ctor) return d;
  return undefined;
}

interface Member {
  tmp: string;
  fd: number;
  dtype: DataDType;
  written: number;
  expected: number;
}

export class NpzStreamWriter {
  private readonly dir: string;
  private readonly members = new Map<string, Member>();

  constructor(
    readonly out: string,
    /** Samples every array will hold (its first dimension). */
    readonly samples: number,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-capture-'));
  }

  /** Appends `count` samples of `name` (per-sample shape `sampleShape`). */
  append(name: string, data: Chunk, sampleShape: readonly number[]): void {
    let m = this.members.get(name);
    const dtype = dtypeOfChunk(data);
    if (!dtype) throw new Error(`cannot write '${name}': unsupported element type ${data.constructor.name}`);
    if (!m) {
      const tmp = path.join(this.dir, `${this.members.size}.npy`);
      const fd = fs.openSync(tmp, 'w');
      fs.writeSync(fd, npyHeader(dtype, [this.samples, ...sampleShape]));
      const per = sampleShape.reduce((a, b) => a * b, 1);
      m = { tmp, fd, dtype, written: 0, expected: per * this.samples };
      this.members.set(name, m);
    }
    if (m.dtype !== dtype) throw new Error(`'${name}' changed element type between batches (${m.dtype} → ${dtype})`);
    fs.writeSync(m.fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    m.written += data.length;
  }

  /**
   * Writes the zip and removes the temporaries. Returns the output path. Cancelled through `signal` (checked
   * between 4 MB chunks), it leaves no file behind.
   */
  async finish(signal?: AbortSignal): Promise<string> {
    for (const [name, m] of this.members) {
      fs.closeSync(m.fd);
      if (m.written !== m.expected) throw new Error(`'${name}': wrote ${m.written} values, expected ${m.expected}`);
    }
    const partial = tempBeside(this.out);
    let fd: number | undefined;
    try {
      fd = fs.openSync(partial, 'wx');
      let failure: Error | null = null;
      const zip = new Zip((err, chunk) => {
        if (err) failure = err;
        else fs.writeSync(fd!, chunk);
      });
      const buf = new Uint8Array(1 << 22);
      for (const [name, m] of this.members) {
        const entry = new ZipPassThrough(`${name.replace(/[/\\:]/g, '_')}.npy`);
        zip.add(entry);
        const src = fs.openSync(m.tmp, 'r');
        try {
          let n: number;
          while ((n = fs.readSync(src, buf, 0, buf.length, null)) > 0) {
            throwIfAborted(signal);
            entry.push(buf.slice(0, n));
          }
        } finally {
          fs.closeSync(src);
        }
        entry.push(new Uint8Array(0), true);
        await new Promise((r) => setImmediate(r));
      }
      zip.end();
      if (failure) throw failure;
      fs.closeSync(fd);
      fd = undefined;
      fs.renameSync(partial, this.out);
    } catch (e) {
      // Whole or not at all: a failed write (full disk, …) leaves no partial file behind.
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(partial, { force: true });
      if (e instanceof CancelledError) throw e;
      throw new OutputWriteError(this.out, ioReason(e));
    } finally {
      this.cleanup();
    }
    return this.out;
  }

  /** Removes temporaries (also on failure or cancellation). */
  cleanup(): void {
    for (const m of this.members.values()) {
      try {
        fs.closeSync(m.fd);
      } catch {
        // already closed
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
