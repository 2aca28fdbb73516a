import * as path from 'node:path';
import * as vscode from 'vscode';
import { EngineClient, engineMemoryLimitMb, type EngineCrash } from '../engine/client';

let shared: EngineClient | undefined;
let sharedKey = '';

interface EngineSettings {
  env: Record<string, string>;
  memoryLimitMb: number;
}

function settings(): EngineSettings {
  const c = vscode.workspace.getConfiguration('circuitscope');
  const budget = c.get<number>('memoryBudgetMB', 4096);
  return {
    env: { CIRCUITSCOPE_BACKEND: c.get<string>('backend', 'auto'), CIRCUITSCOPE_BUDGET_MB: String(budget) },
    memoryLimitMb: engineMemoryLimitMb(c.get<number>('engineMemoryLimitMB', 0), budget),
  };
}

/**
 * The window's one engine process (loading, execution, analyses — never in the extension host's process, whose
 * address space WebAssembly reservations and native aborts must not reach), forked lazily on the first job from
 * the extension host's own runtime, restarted after a crash, restarted with new settings when they change,
 * stopped with the extension.
 */
export function getEngine(context: vscode.ExtensionContext, output?: vscode.LogOutputChannel): EngineClient {
  const s = settings();
  const key = JSON.stringify(s);
  if (shared && key === sharedKey) return shared;
  shared?.dispose();
  shared = new EngineClient({
    workerPath: path.join(context.extensionPath, 'dist', 'worker.js'),
    process: { memoryLimitMb: s.memoryLimitMb },
    env: s.env,
    onLog: (level, message) => output?.[level](message),
    onCrash: (c) => reportIdleCrash(c, output),
  });
  sharedKey = key;
  const client = shared;
  context.subscriptions.push({ dispose: () => client.dispose() });
  return shared;
}

/** A crash during a job is reported by whoever ran the job (with its name); one while idle is reported here. */
function reportIdleCrash(c: EngineCrash, output?: vscode.LogOutputChannel): void {
  if (c.jobs.length) return;
  void vscode.window
    .showWarningMessage(`Circuitscope: ${c.cause} while idle; the next job starts a new engine process.`, 'Show Log')
    .then((pick) => pick && output?.show(true));
}
