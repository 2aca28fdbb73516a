import * as vscode from 'vscode';
import type { ExportRequest } from '../shared/protocol';
import type { RevealTarget } from '../shared/results';
import { realPathInside, seriesMember } from './containment';
import { exportFolder, safeExportName } from './exportFolder';
import type { RunStore } from './runStore';

/** What the extension's parts share (created once in `activate`). */
export interface Services {
  context: vscode.ExtensionContext;
  output: vscode.LogOutputChannel;
  store: RunStore;
  /** Colour the operator graph of `model` (a checkpoint resolved by {@link ensureModel}) by a run's metric. */
  showOverlay(model: string, runId: string, metric?: string): Promise<void>;
  /** Reveal an element in the graph of `model` as a run names it (a webview's word: see {@link modelForReveal}). */
  reveal(model: string, target: RevealTarget): Promise<void>;
  /** Draw a run in the circuits side panel (and focus it). */
  showCircuit(runId: string): Promise<void>;
  /**
   * Open the results panel on a run. `preserveFocus` for a run that finished in the background: revealing a
   * webview with focus is asynchronous and would close a quick pick the user opened meanwhile.
   */
  showResults(runId?: string, preserveFocus?: boolean): void;
}

const FILTERS: Record<ExportRequest['format'], Record<string, string[]>> = {
  json: { JSON: ['json'] },
  csv: { CSV: ['csv'] },
  svg: { 'SVG image': ['svg'] },
  png: { 'PNG image': ['png'] },
};

/** What an export writes: text (JSON, CSV, SVG) or bytes (PNG). */
export type ExportContent = Pick<ExportRequest, 'format' | 'fileName' | 'content'>;

/**
 * Asks where to save an export and writes it. The dialog opens in the workspace folder holding `near` (the model
 * exported, or the model of the run shown), else the first workspace folder — not the hidden runs folder. After
 * writing, a message says where the file went, with Open and Show in Explorer. Returns the path, or undefined when
 * the dialog was dismissed.
 */
export async function saveExportFile(output: vscode.LogOutputChannel, req: ExportContent, near: string | undefined): Promise<string | undefined> {
  const folder = exportFolder(workspaceRoots(), near);
  const name = safeExportName(req.fileName, req.format);
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(vscode.Uri.file(folder), name) : undefined,
    filters: FILTERS[req.format],
    title: `Export ${req.format.toUpperCase()}`,
  });
  if (!target) return undefined;
  const bytes = typeof req.content === 'string' ? new TextEncoder().encode(req.content) : req.content;
  await vscode.workspace.fs.writeFile(target, bytes);
  output.info(`exported ${req.format.toUpperCase()} (${bytes.byteLength} bytes) to ${target.fsPath}`);
  // Not awaited: the message stays until dismissed, the export is done.
  void vscode.window.showInformationMessage(`Circuitscope: exported ${req.format.toUpperCase()} to ${target.fsPath}`, 'Open', 'Show in Explorer').then((choice) => {
    if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', target);
    else if (choice === 'Show in Explorer') void vscode.commands.executeCommand('revealInExplorer', target);
  });
  return target.fsPath;
}

/** A results or circuits view's export: the dialog opens in the workspace folder of the run's model (see {@link saveExportFile}). */
export async function saveExport(s: Services, req: ExportRequest, runId: string | undefined): Promise<string | undefined> {
  const run = runId ? s.store.get(runId) : undefined;
  return saveExportFile(s.output, req, run ? s.store.modelOf(run) : undefined);
}

/** The workspace folders on this machine's file system (the roots a run file's paths must stay inside). */
export function workspaceRoots(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

/**
 * Resolves a run's checkpoint on this machine. A run file's model is opened only when its real path lies inside
 * the workspace or the user chose it (ran the analysis here, or picked the file); otherwise — or when the path
 * does not exist here — the user is asked for the file. A series' checkpoint must lie inside the series folder.
 */
export async function ensureModel(s: Services, runId: string): Promise<string | undefined> {
  const run = s.store.get(runId);
  if (!run) throw new Error(`no run '${runId}' in this window`);
  const model = s.store.modelOf(run);
  let st: vscode.FileStat | undefined;
  try {
    st = await vscode.workspace.fs.stat(vscode.Uri.file(model));
  } catch {
    // Not on this machine: asked for below.
  }
  const allowed = st !== undefined && (s.store.userChoseModel(run) || (await realPathInside(model, workspaceRoots())) !== undefined);
  if (st && allowed && st.type & vscode.FileType.Directory) {
    // A checkpoint series: its rows name the files; the graph shown is the last checkpoint's.
    const series = (run.envelope.result as { series?: { model: string }[] }).series;
    const last = series?.at(-1)?.model;
    if (typeof last !== 'string') throw new Error(`${model} is a folder and the run lists no checkpoints`);
    return seriesMember(model, last);
  }
  if (st && allowed) return model;
  if (st) s.output.warn(`run ${run.id}: its model ${model} lies outside this workspace; not opened without the user choosing it`);
  const why = st ? 'lies outside this workspace (a run file only opens models inside it unless you choose the file)' : 'does not exist on this machine (was the run made elsewhere?)';
  const pick = await vscode.window.showWarningMessage(`Circuitscope: the run's model ${model} ${why}.`, 'Choose the model file…');
  if (!pick) return undefined;
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Models: ['onnx', 'json'] }, title: `Model for ${run.id}` });
  if (!chosen?.[0]) return undefined;
  s.store.setModel(run, chosen[0].fsPath);
  return chosen[0].fsPath;
}

/**
 * The checkpoint to open for a webview's `reveal`: the message names a model as its run file wrote it, which is
 * honoured only when it is the model of a run in this window (then resolved like {@link ensureModel}).
 */
export async function modelForReveal(s: Services, model: string): Promise<string | undefined> {
  const run = s.store.runsNaming(model)[0];
  if (!run) throw new Error(`the view asked to show '${model}', which is not the model of a run in this window; ignored`);
  return ensureModel(s, run.id);
}
