import * as path from 'node:path';
import * as vscode from 'vscode';
import { EngineClient } from '../engine/client';

let shared: EngineClient | undefined;
let sharedKey = '';

function settingsEnv(): Record<string, string> {
  const c = vscode.workspace.getConfiguration('circuitscope');
  return {
    CIRCUITSCOPE_BACKEND: c.get<string>('backend', 'auto'),
    CIRCUITSCOPE_BUDGET_MB: String(c.get<number>('memoryBudgetMB', 4096)),
  };
}

/**
 * The extension's one engine worker (loading, execution, analyses — never on the extension host thread),
 * restarted with new settings when the backend setting changes, disposed with the extension.
 */
export function getEngine(context: vscode.ExtensionContext, output?: vscode.LogOutputChannel): EngineClient {
  const env = settingsEnv();
  const key = JSON.stringify(env);
  if (shared && key === sharedKey) return shared;
  shared?.dispose();
  const heapMb = Math.max(512, Number(env.CIRCUITSCOPE_BUDGET_MB) || 4096);
  shared = new EngineClient({
    workerPath: path.join(context.extensionPath, 'dist', 'worker.js'),
    resourceLimits: { maxOldGenerationSizeMb: heapMb },
    env,
    onLog: (level, message) => output?.[level](message),
  });
  sharedKey = key;
  const client = shared;
  context.subscriptions.push({ dispose: () => client.dispose() });
  return shared;
}
