/**
 * Output files written whole or not at all: the bytes go to a temporary name in the destination's own folder
 * (so the final rename stays on one filesystem and is atomic), then the temporary is renamed over the
 * destination. On any failure — a full disk, a cancelled job, a killed process between the two steps — the
 * destination is untouched: either the previous file or nothing, never half of a new one.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A write that failed: which file, and the system's reason (ENOSPC, EACCES, …) in one line. */
export class OutputWriteError extends Error {
  override readonly name = 'OutputWriteError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`could not write ${file}: ${reason} (nothing was written there)`);
  }
}

/** A hidden temporary name beside `file`, unique to this process and call. */
export function tempBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** One line from a system error: `ENOSPC: no space left on device` rather than a stack. */
export function ioReason(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const first = e.message.split('\n')[0];
    return code && !first.startsWith(code) ? `${code}: ${first}` : first;
  }
  return String(e);
}

/**
 * Checks before a long job that `file` can be written later: its folder exists and is a folder.
 * @throws OutputWriteError
 */
export function checkWritableFolder(file: string): void {
  const dir = path.dirname(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new OutputWriteError(file, `the folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new OutputWriteError(file, `${dir} is not a folder`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new OutputWriteError(file, 'a folder of that name is in the way');
}

/**
 * Writes `data` to `file` through a temporary beside it and a rename; removes the temporary on failure.
 * @throws OutputWriteError
 */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = tempBeside(file);
  try {
    fs.writeFileSync(tmp, data, { flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new OutputWriteError(file, ioReason(e));
  }
}
