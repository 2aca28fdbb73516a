import * as vscode from 'vscode';
import { openResultsCommand, runAnalysisCommand } from './analysisCommand';
import { CircuitsViewProvider } from './circuitsView';
import { registerCommands } from './commands';
import { ModelEditorProvider } from './modelEditor';
import { ResultsPanel } from './resultsPanel';
import { RunStore } from './runStore';
import { TfjsModelIndex } from './tfjsModels';
import { modelForReveal, type Services } from './services';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Circuitscope', { log: true });
  context.subscriptions.push(output);
  const store = new RunStore(context);
  context.subscriptions.push(store);
  const s: Services = {
    context,
    output,
    store,
    showOverlay: (model, runId, metric) => editors.showOverlay(model, runId, metric),
    reveal: async (model, target) => {
      // A webview names the model as its run file wrote it: opened only as a known run's checkpoint, contained.
      const file = await modelForReveal(s, model);
      if (file) await editors.reveal(file, target);
    },
    showCircuit: (runId) => circuits.show(runId),
    showResults: (runId, preserveFocus) => void ResultsPanel.show(s, runId, preserveFocus),
  };
  // Registered after `s` exists; its closures only run later, from commands and messages.
  const editors = ModelEditorProvider.register(context, output, store);
  const circuits = CircuitsViewProvider.register(s);
  registerCommands(context, output);
  TfjsModelIndex.register(context);
  context.subscriptions.push(
    vscode.commands.registerCommand('circuitscope.runAnalysis', (arg: unknown) => runAnalysisCommand(s, arg)),
    vscode.commands.registerCommand('circuitscope.openResults', (arg: unknown) => openResultsCommand(s, arg)),
    vscode.commands.registerCommand('circuitscope.clearOverlay', () => editors.clearOverlays()),
    vscode.commands.registerCommand('circuitscope.showLog', () => output.show(true)),
    ...(['png', 'svg'] as const).flatMap((format) =>
      (['view', 'graph'] as const).map((scope) =>
        vscode.commands.registerCommand(`circuitscope.export${scope === 'view' ? 'View' : 'Graph'}${format.toUpperCase()}`, () => {
          if (!editors.requestExport(format, scope)) void vscode.window.showErrorMessage('Circuitscope: open a model graph first; the export draws the active graph editor.');
        }),
      ),
    ),
    // The graph's context menu passes its `data-vscode-context` (graph/events.ts): the name under the pointer.
    vscode.commands.registerCommand('circuitscope.copyNodeName', async (arg: unknown) => {
      const name = typeof arg === 'object' && arg !== null ? (arg as { circuitscopeName?: unknown }).circuitscopeName : undefined;
      if (typeof name !== 'string') {
        void vscode.window.showErrorMessage('Circuitscope: right-click an operator in the graph to copy its name (or select it and use the inspector\'s Copy name).');
        return;
      }
      await vscode.env.clipboard.writeText(name);
      vscode.window.setStatusBarMessage(`Circuitscope: copied ${name}`, 4000);
    }),
  );
}

export function deactivate(): void {}
