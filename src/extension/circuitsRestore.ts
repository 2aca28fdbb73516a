/**
 * What the Circuits panel shows after a window reload: the run store starts empty (runs live in memory and in
 * their saved files), so without this the panel said "No graph to show" although runs were saved. The run it
 * showed last (its saved file, remembered in the workspace state) comes back; else the newest saved run it
 * can draw. No `vscode` import: the choice is tested in plain node.
 */
import { hasCircuitGraph, parseRunFile } from '../shared/runs';

/** Most saved files read to find a drawable run (newest first). */
export const RESTORE_SCAN_LIMIT = 20;

/**
 * The saved run file to reopen: `remembered` when it is among `saved` and drawable, else the first drawable
 * one of `saved` (newest first, at most `limit` read). Unreadable or invalid files are skipped.
 */
export async function runFileToRestore(remembered: string | undefined, saved: readonly string[], read: (file: string) => Promise<string>, limit = RESTORE_SCAN_LIMIT): Promise<string | undefined> {
  const drawable = async (file: string): Promise<boolean> => {
    try {
      const envelope = parseRunFile(await read(file), file);
      return hasCircuitGraph({ id: file, envelope, finishedAt: '' });
    } catch {
      return false;
    }
  };
  if (remembered !== undefined && saved.includes(remembered) && (await drawable(remembered))) return remembered;
  for (const file of saved.slice(0, limit)) if (file !== remembered && (await drawable(file))) return file;
  return undefined;
}
