import * as vscode from 'vscode';
import { ModelEditorProvider } from './modelEditor';
import { CircuitsViewProvider } from './circuitsView';
import { registerCommands } from './commands';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Circuitscope', { log: true });
  context.subscriptions.push(output);
  ModelEditorProvider.register(context, output);
  CircuitsViewProvider.register(context);
  registerCommands(context, output);
}

export function deactivate(): void {}
