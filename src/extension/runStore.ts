import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord, TypedEnvelope } from '../shared/results';
import { makeRunRecord, parseRunFile } from '../shared/runs';
import { realPathInside } from './containment';

/**
 * The analysis runs of this window. Every run is saved at once as its CLI-compatible JSON envelope in
 * `circuitscope.resultsFolder` (relative to the model's workspace folder), so closing a panel loses nothing
 * and "Open Analysis Results…" brings it back; envelopes written by the CLI open the same way.
 */
export class RunStore implements vscode.Disposable {
  private readonly runs: RunRecord[] = [];
  /** Runs whose model the user chose in this window (ran it, or picked the file for it): opened wherever it is. */
  private readonly chosen = new Set<string>();
  private readonly changed = new vscode.EventEmitter<{ runs: readonly RunRecord[]; added?: RunRecord }>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly context: vscode.ExtensionContext) {}

  dispose(): void {
    this.changed.dispose();
  }

  all(): readonly RunRecord[] {
    return this.runs;
  }

  get(id: string): RunRecord | undefined {
    return this.runs.find((r) => r.id === id);
  }

  /** The checkpoint a run belongs to on this machine. */
  modelOf(run: RunRecord): string {
    return run.modelFile ?? path.resolve(run.envelope.model);
  }

  /** The user picked `file` as the run's checkpoint. */
  setModel(run: RunRecord, file: string): void {
    run.modelFile = file;
    this.chosen.add(run.id);
    this.changed.fire({ runs: this.runs });
  }

  /** Whether the user chose this run's model in this window (a run made here, or a file picked for it). */
  userChoseModel(run: RunRecord): boolean {
    return this.chosen.has(run.id);
  }

  /** The runs whose envelope names `model` (as written in the run file), newest first. */
  runsNaming(model: string): RunRecord[] {
    return this.runs.filter((r) => r.envelope.model === model || r.modelFile === model).reverse();
  }

  /** Runs of one model file, and series runs (a folder of checkpoints) whose folder holds the file. */
  forModel(file: string): RunRecord[] {
    const f = path.resolve(file);
    return this.runs.filter((r) => {
      const m = this.modelOf(r);
      return m === f || ('series' in r.envelope.result && path.dirname(f) === m);
    });
  }

  /** Where runs of `model` are saved. */
  folderFor(model: string): vscode.Uri {
    const setting = vscode.workspace.getConfiguration('circuitscope').get<string>('resultsFolder', '.circuitscope/runs');
    if (path.isAbsolute(setting)) return vscode.Uri.file(setting);
    const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(model)) ?? vscode.workspace.workspaceFolders?.[0];
    if (ws) return vscode.Uri.joinPath(ws.uri, setting);
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'runs');
  }

  /** Every results folder of this window (one per workspace folder, or the global one). */
  folders(): vscode.Uri[] {
    const setting = vscode.workspace.getConfiguration('circuitscope').get<string>('resultsFolder', '.circuitscope/runs');
    if (path.isAbsolute(setting)) return [vscode.Uri.file(setting)];
    const ws = vscode.workspace.workspaceFolders ?? [];
    return ws.length ? ws.map((w) => vscode.Uri.joinPath(w.uri, setting)) : [vscode.Uri.joinPath(this.context.globalStorageUri, 'runs')];
  }

  /**
   * Adds a finished run and saves it: `file` is the envelope's JSON text in pieces as the engine made it (else it is
   * serialized here). A failed save is reported in the record (no `savedTo`) and thrown after adding.
   */
  async add(envelope: TypedEnvelope, data?: string, file?: Uint8Array[]): Promise<RunRecord> {
    const record = makeRunRecord(envelope, new Date(), new Set(this.runs.map((r) => r.id)), data ? { data } : {});
    this.runs.push(record);
    // The user picked this model in the Run Analysis picks.
    this.chosen.add(record.id);
    let saveError: unknown;
    try {
      const folder = this.folderFor(path.resolve(envelope.model));
      await vscode.workspace.fs.createDirectory(folder);
      const target = vscode.Uri.joinPath(folder, `${record.id}.json`);
      await vscode.workspace.fs.writeFile(target, file?.length ? joinBytes(file) : new TextEncoder().encode(`${JSON.stringify(envelope, null, 2)}\n`));
      record.savedTo = target.fsPath;
    } catch (e) {
      saveError = e;
    }
    this.changed.fire({ runs: this.runs, added: record });
    if (saveError) throw saveError;
    return record;
  }

  /** Opens a saved envelope (any file the CLI or the UI wrote); the same file twice gives the same run. */
  async open(file: vscode.Uri): Promise<RunRecord> {
    const existing = this.runs.find((r) => r.savedTo === file.fsPath);
    if (existing) return existing;
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
    const envelope = parseRunFile(text, file.fsPath);
    let when = new Date();
    try {
      when = new Date((await vscode.workspace.fs.stat(file)).mtime);
    } catch {
      // keep now
    }
    // A file this extension saved is named by its run's id: keeping it keeps what the views saved per run
    // (the Circuits panel's threshold, pins and folds) across a window reload.
    const taken = new Set(this.runs.map((r) => r.id));
    const named = path.basename(file.fsPath, '.json');
    const keep = /^\d{8}-\d{6}-/.test(named) && named.includes(`-${envelope.analysis}-`) && !taken.has(named);
    const record = makeRunRecord(envelope, when, taken, { savedTo: file.fsPath, ...(keep ? { id: named } : {}) });
    this.runs.push(record);
    this.changed.fire({ runs: this.runs, added: record });
    return record;
  }

  /** Saved run files in the results folders, newest first (files whose real path is inside their folder: no links out). */
  async savedFiles(): Promise<{ uri: vscode.Uri; mtime: number }[]> {
    const out: { uri: vscode.Uri; mtime: number }[] = [];
    for (const folder of this.folders()) {
      let entries: [string, vscode.FileType][] = [];
      try {
        entries = await vscode.workspace.fs.readDirectory(folder);
      } catch {
        continue;
      }
      for (const [name, type] of entries) {
        if (!(type & vscode.FileType.File) || !name.endsWith('.json')) continue;
        const uri = vscode.Uri.joinPath(folder, name);
        if (folder.scheme === 'file' && !(await realPathInside(uri.fsPath, [folder.fsPath]))) continue;
        try {
          out.push({ uri, mtime: (await vscode.workspace.fs.stat(uri)).mtime });
        } catch {
          // vanished
        }
      }
    }
    return out.sort((a, b) => b.mtime - a.mtime);
  }
}

function joinBytes(pieces: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of pieces) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
