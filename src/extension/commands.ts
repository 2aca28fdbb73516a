import * as vscode from 'vscode';
import { EngineError } from '../engine/engineError';
import { getEngine } from './engine';
import { isModelFile, isTfjsModelFile } from './tfjsModels';

function targetUri(uri: unknown): vscode.Uri | undefined {
  if (uri instanceof vscode.Uri) return uri;
  return vscode.window.activeTextEditor?.document.uri ?? activeCustomEditorUri();
}

function activeCustomEditorUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input.uri : undefined;
}

export function registerCommands(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('circuitscope.inspectModel', async (arg: unknown) => {
      const uri = targetUri(arg);
      if (!uri) {
        void vscode.window.showErrorMessage('Circuitscope: select an .onnx file or a TF.js model (its .json) to inspect.');
        return;
      }
      if (!(await isModelFile(uri))) {
        void vscode.window.showErrorMessage(`Circuitscope: ${uri.fsPath} is neither an .onnx file nor a TF.js model (a JSON object with modelTopology or weightsManifest).`);
        return;
      }
      const viewType = (await isTfjsModelFile(uri)) ? 'circuitscope.modelGraphJson' : 'circuitscope.modelGraph';
      await vscode.commands.executeCommand('vscode.openWith', uri, viewType);
    }),
    vscode.commands.registerCommand('circuitscope.modelInfo', async (arg: unknown) => {
      const uri = targetUri(arg);
      if (!uri) {
        void vscode.window.showErrorMessage('Circuitscope: select an .onnx file or a TF.js model (its .json).');
        return;
      }
      try {
        // Parsed and summarized in the engine process: only the text crosses to the extension host.
        const { text } = await getEngine(context, output).run({ kind: 'modelSummary', model: uri.fsPath });
        output.info(`\n${text}`);
        output.show(true);
      } catch (e) {
        const msg = e instanceof EngineError && e.payload.code ? `[${e.payload.code}] ${e.message}` : e instanceof Error ? e.message : String(e);
        output.error(msg);
        void vscode.window.showErrorMessage(`Circuitscope: ${msg}`);
      }
    }),
  );
}
