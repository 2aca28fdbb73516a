import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { openResultsCommand, runAnalysisCommand } from './analysisCommand';
import { CircuitsViewProvider } from './circuitsView';
import { registerCommands } from './commands';
import { ModelEditorProvider } from './modelEditor';
import { ResultsPanel } from './resultsPanel';
import { RunStore } from './runStore';
import type { Services } from './services';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Circuitscope', { log: true });
  context.subscriptions.push(output);
  const store = new RunStore(context);
  context.subscriptions.push(store);
  /** A path recorded in a run (maybe from another machine) → the checkpoint on this one. */
  const localModel = (model: string): string => {
    if (fs.existsSync(model)) return model;
    const run = store.all().find((r) => r.envelope.model === model);
    return run ? store.modelOf(run) : model;
  };
  const s: Services = {
    context,
    output,
    store,
    showOverlay: (model, runId, metric) => editors.showOverlay(localModel(model), runId, metric),
    reveal: (model, target) => editors.reveal(localModel(model), target),
    showCircuit: (runId) => circuits.show(runId),
    showResults: (runId) => void ResultsPanel.show(s, runId),
  };
  // Registered after `s` exists; its closures only run later, from commands and messages.
  const editors = ModelEditorProvider.register(context, output, store);
  const circuits = CircuitsViewProvider.register(s);
  registerCommands(context, output);
  context.subscriptions.push(
    vscode.commands.registerCommand('circuitscope.runAnalysis', (arg: unknown) => runAnalysisCommand(s, arg)),
    vscode.commands.registerCommand('circuitscope.openResults', (arg: unknown) => openResultsCommand(s, arg)),
    vscode.commands.registerCommand('circuitscope.clearOverlay', () => editors.clearOverlays()),
    vscode.commands.registerCommand('circuitscope.showLog', () => output.show(true)),
  );
}

export function deactivate(): void {}
