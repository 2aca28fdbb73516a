import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { isOnnxPath, sniffTfjsModel, TFJS_SNIFF_BYTES } from '../shared/modelSniff';

/** Context key: the TF.js models of the workspace (keys: fsPath, URI path and URI string). */
export const TFJS_CONTEXT_KEY = 'circuitscope.tfjsModels';
/** Context key: the active editor's resource is a TF.js model. */
export const ACTIVE_TFJS_CONTEXT_KEY = 'circuitscope.activeIsTfjsModel';

const EXCLUDE = '**/{node_modules,.git,.circuitscope}/**';
/** Files read at activation (only their first {@link TFJS_SNIFF_BYTES} each). */
const SCAN_LIMIT = 5000;

/** Reads the first bytes of a file as text; undefined when it cannot be read (a folder, gone, no permission). */
export async function readHead(file: string, bytes = TFJS_SNIFF_BYTES): Promise<string | undefined> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(file, 'r');
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** True for an `.json` file whose first bytes are a TF.js model's. */
export async function isTfjsModelFile(uri: vscode.Uri): Promise<boolean> {
  if (uri.scheme !== 'file' || !/\.json$/i.test(uri.path)) return false;
  const head = await readHead(uri.fsPath);
  return head !== undefined && sniffTfjsModel(head);
}

/** True for a checkpoint the extension opens: `*.onnx`, or a JSON file holding a TF.js model. */
export async function isModelFile(uri: vscode.Uri): Promise<boolean> {
  return isOnnxPath(uri.path) || (await isTfjsModelFile(uri));
}

/**
 * Keeps the context key {@link TFJS_CONTEXT_KEY} (the workspace's TF.js models, found by content) and
 * {@link ACTIVE_TFJS_CONTEXT_KEY} current, so that the explorer and editor menus offer "Inspect Model" on
 * `emotion.json` as on `model.json`. JSON files under node_modules are not scanned; one opened in an editor is
 * sniffed then and joins the set.
 */
export class TfjsModelIndex implements vscode.Disposable {
  private readonly models = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private pending: ReturnType<typeof setTimeout> | undefined;

  static register(context: vscode.ExtensionContext): TfjsModelIndex {
    const index = new TfjsModelIndex();
    context.subscriptions.push(index);
    void index.scan();
    return index;
  }

  private constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.json');
    this.disposables.push(
      watcher,
      watcher.onDidCreate((u) => void this.check(u)),
      watcher.onDidChange((u) => void this.check(u)),
      watcher.onDidDelete((u) => this.remove(u)),
      vscode.window.onDidChangeActiveTextEditor(() => void this.checkActive()),
      vscode.window.tabGroups.onDidChangeTabs(() => void this.checkActive()),
    );
  }

  /** The TF.js models found so far (file paths). */
  list(): string[] {
    return [...this.models];
  }

  private async scan(): Promise<void> {
    const files = await vscode.workspace.findFiles('**/*.json', EXCLUDE, SCAN_LIMIT);
    for (const f of files) if (await isTfjsModelFile(f)) this.models.add(f.fsPath);
    this.publish();
    await this.checkActive();
  }

  private async check(uri: vscode.Uri): Promise<void> {
    const was = this.models.has(uri.fsPath);
    const is = await isTfjsModelFile(uri);
    if (is === was) return;
    if (is) this.models.add(uri.fsPath);
    else this.models.delete(uri.fsPath);
    this.publish();
  }

  private remove(uri: vscode.Uri): void {
    if (this.models.delete(uri.fsPath)) this.publish();
  }

  private async checkActive(): Promise<void> {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom ? input.uri : vscode.window.activeTextEditor?.document.uri;
    const is = !!uri && (await isTfjsModelFile(uri));
    if (uri && is && !this.models.has(uri.fsPath)) {
      this.models.add(uri.fsPath);
      this.publish();
    }
    void vscode.commands.executeCommand('setContext', ACTIVE_TFJS_CONTEXT_KEY, is);
  }

  /** Debounced: a checkout touching many JSON files sets the context once. */
  private publish(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      this.pending = undefined;
      const keys: Record<string, true> = {};
      for (const p of this.models) {
        const u = vscode.Uri.file(p);
        keys[p] = true;
        keys[u.path] = true;
        keys[u.toString()] = true;
      }
      void vscode.commands.executeCommand('setContext', TFJS_CONTEXT_KEY, keys);
    }, 200);
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    for (const d of this.disposables) d.dispose();
  }
}
