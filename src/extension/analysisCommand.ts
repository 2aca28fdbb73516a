import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { EngineError } from '../engine/engineError';
import type { AnalysisInfo, AnalysisRequest, LayerCandidate, OptionSpec } from '../shared/analysis';
import { checkCost, DEFAULT_MEMORY_BUDGET_MB, DEFAULT_TIME_BUDGET_MIN, formatBytes, formatDuration, timeOptionHint } from '../shared/cost';
import type { TypedEnvelope } from '../shared/results';
import { modelLabel } from '../shared/modelSniff';
import { getEngine } from './engine';
import { ResultsPanel } from './resultsPanel';
import type { Services } from './services';
import { isModelFile, isTfjsModelFile } from './tfjsModels';
import { IMAGE_GLOB, imageFolders } from './imageFolders';
import { seriesGroups } from './seriesGroups';
import { StepPicker } from './stepPicker';

/**
 * "Circuitscope: Run Analysis…": model → analysis → dataset → layer(s) → options (defaults first) → the
 * engine's cost estimate (confirm above the memory budget) → a cancellable progress notification → the run is
 * saved and shown in the results panel (and the circuits view, for graph-shaped results).
 */

const DATA_GLOB = '**/*.{npz,npy,csv,jsonl}';
const MODEL_GLOB = '**/{*.onnx,*.json}';
const EXCLUDE = '**/{node_modules,.git,.circuitscope}/**';

/** Settings that override an analysis option's default. */
const SETTING_DEFAULTS: Record<string, Record<string, string>> = {
  circuit: { target: 'circuit.target' },
  lib: { graphMass: 'lib.graphMass' },
  attention: { epsilon: 'attention.epsilon' },
  redundancy: { groupThreshold: 'redundancy.groupThreshold' },
};

interface Pick<T> extends vscode.QuickPickItem {
  value: T;
}

class Dismissed extends Error {}

function orDismiss<T>(v: T | undefined): T {
  if (v === undefined) throw new Dismissed();
  return v;
}

let infos: Promise<AnalysisInfo[]> | undefined;

/** The model named by the command's argument, the active graph editor or the active text editor (by content). */
async function modelFromArg(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && input.viewType.startsWith('circuitscope.modelGraph')) return input.uri;
  const doc = vscode.window.activeTextEditor?.document.uri;
  if (doc && (await isModelFile(doc))) return doc;
  return undefined;
}

/** A checkpoint, or a folder of checkpoints run as a series (epochs, widths). */
interface ModelPick {
  uri: vscode.Uri;
  /** The folder's checkpoints in natural order, for a series. */
  series?: string[];
}

/** Analyses that run over a checkpoint series (one result row per model). */
const SERIES_ANALYSES = new Set(['collapse', 'hash', 'redundancy']);

async function pickModel(ui: StepPicker, s: Services, arg: unknown): Promise<ModelPick> {
  const given = await modelFromArg(arg);
  if (given) return { uri: given };
  // JSON files are offered only when their first bytes are a TF.js model's (any file name: emotion.json, …).
  const found = await vscode.workspace.findFiles(MODEL_GLOB, EXCLUDE, 2000);
  const isModel = await Promise.all(found.map((f) => (/\.onnx$/i.test(f.path) ? true : isTfjsModelFile(f))));
  const files = found.filter((_, i) => isModel[i]).slice(0, 500);
  if (!files.length) {
    const chosen = await ui.aside(() => vscode.window.showOpenDialog({ canSelectMany: false, filters: { Models: ['onnx', 'json'] }, title: 'Circuitscope: choose a checkpoint' }));
    return { uri: orDismiss(chosen?.[0]) };
  }
  const items: Pick<ModelPick>[] = files.map((f) => ({
    label: f.fsPath.endsWith('.json') ? modelLabel(f.fsPath) : path.basename(f.fsPath),
    description: vscode.workspace.asRelativePath(f),
    value: { uri: f },
  }));
  // Folders holding several ONNX checkpoints of one architecture: offered as a series (NC over epochs, the hash
  // phase chart over widths). The engine compares their signatures (operators, weight names and ranks), so
  // unrelated models sharing a folder are not offered together.
  const byFolder = new Map<string, number>();
  for (const f of files) if (f.fsPath.endsWith('.onnx')) byFolder.set(path.dirname(f.fsPath), (byFolder.get(path.dirname(f.fsPath)) ?? 0) + 1);
  const candidates = files.filter((f) => f.fsPath.endsWith('.onnx') && byFolder.get(path.dirname(f.fsPath))! >= 2).map((f) => f.fsPath);
  const signed = candidates.length ? await getEngine(s.context, s.output).run({ kind: 'graphSignatures', models: candidates }) : [];
  for (const m of signed) if (m.error) s.output.warn(`model pick: ${m.model} is not offered in a series: ${m.error}`);
  for (const g of seriesGroups(signed)) {
    const series = g.files;
    items.push({
      label: `$(versions) ${path.basename(g.folder)}/ — series of ${series.length} checkpoints`,
      description: vscode.workspace.asRelativePath(g.folder),
      detail: `${path.basename(series[0])} … ${path.basename(series.at(-1)!)}: collapse, hash or redundancy on each (trends over checkpoints or widths)${g.others ? `; ${g.others} other model${g.others > 1 ? 's' : ''} of the folder left out (another architecture)` : ''}`,
      value: { uri: vscode.Uri.file(g.folder), series },
    });
  }
  const picked = await ui.pick(items, { title: 'Circuitscope: Run Analysis — model', placeHolder: 'Which checkpoint (or series of checkpoints)?', matchOnDescription: true });
  return orDismiss(picked).value;
}

async function pickAnalysis(ui: StepPicker, s: Services, model: vscode.Uri, series: boolean): Promise<AnalysisInfo> {
  infos ??= getEngine(s.context, s.output).run({ kind: 'listAnalyses' });
  const list = await infos.catch((e: unknown) => {
    infos = undefined;
    throw e;
  });
  const last = s.context.workspaceState.get<string>(`circuitscope.lastAnalysis:${model.fsPath}`);
  const items = list
    .filter((a) => !series || SERIES_ANALYSES.has(a.name))
    .map((a): Pick<AnalysisInfo> => ({ label: a.name, description: a.description.split('(')[0].trim(), detail: `Data: ${a.dataHint}`, value: a }));
  if (last) items.sort((a, b) => Number(b.value.name === last) - Number(a.value.name === last));
  // labelled as in the model pick: TF.js files with their folder (every TF.js model may be model.json), others by name
  const label = model.fsPath.endsWith('.json') ? modelLabel(model.fsPath) : path.basename(model.fsPath);
  const picked = await ui.pick(items, { title: `Circuitscope: Run Analysis on ${label}`, placeHolder: 'Which analysis?', matchOnDetail: true });
  return orDismiss(picked).value;
}

async function pickDataset(ui: StepPicker, s: Services, info: AnalysisInfo, model: vscode.Uri): Promise<string> {
  const key = `circuitscope.lastData:${info.name}`;
  const last = s.context.workspaceState.get<string>(key);
  const files = await vscode.workspace.findFiles(DATA_GLOB, EXCLUDE, 1000);
  const specs = await vscode.workspace.findFiles('**/*.dataset.json', EXCLUDE, 200);
  const items: Pick<string | null>[] = [];
  const near = (f: vscode.Uri): number => (path.dirname(f.fsPath).startsWith(path.dirname(path.dirname(model.fsPath))) ? 0 : 1);
  for (const f of [...files, ...specs].sort((a, b) => near(a) - near(b) || a.fsPath.localeCompare(b.fsPath))) {
    items.push({ label: path.basename(f.fsPath), description: vscode.workspace.asRelativePath(path.dirname(f.fsPath)), value: f.fsPath });
  }
  // Image folders (one sub-folder of PNG/JPEG images per class), found from the images in the workspace.
  const images = await vscode.workspace.findFiles(IMAGE_GLOB, EXCLUDE, 20_000);
  for (const d of imageFolders(images.map((f) => f.fsPath))) {
    const shown = d.classes.slice(0, 6).join(', ');
    items.push({
      label: `$(file-media) ${path.basename(d.root)}/`,
      description: vscode.workspace.asRelativePath(d.root),
      detail: `image folder: ${d.classes.length} classes (${shown}${d.classes.length > 6 ? ', …' : ''}), ${d.images.toLocaleString('en-US')} images${images.length >= 20_000 ? ' or more' : ''}`,
      value: d.root,
    });
  }
  if (last) {
    const i = items.findIndex((x) => x.value === last);
    if (i >= 0) items.unshift({ ...items.splice(i, 1)[0], detail: 'last used' });
  }
  items.push({ label: '$(folder-opened) Browse…', description: 'an .npz/.npy/.csv/.jsonl file, an image folder (one sub-folder per class) or a dataset spec .json', value: null, alwaysShow: true });
  const picked = orDismiss(
    await ui.pick(items, { title: `Circuitscope: ${info.name} — dataset`, placeHolder: `Data: ${info.dataHint}`, matchOnDescription: true }),
  );
  let data = picked.value;
  if (data === null) {
    const chosen = await ui.aside(() => vscode.window.showOpenDialog({ canSelectMany: false, canSelectFolders: true, canSelectFiles: true, title: `Dataset for ${info.name} (${info.dataHint})` }));
    data = orDismiss(chosen?.[0]).fsPath;
  }
  await s.context.workspaceState.update(key, data);
  return data;
}

async function pickLayers(ui: StepPicker, s: Services, info: AnalysisInfo, model: vscode.Uri): Promise<string[] | undefined> {
  if (info.layers.mode === 'none') return undefined;
  const candidates: LayerCandidate[] = await getEngine(s.context, s.output).run({ kind: 'layerCandidates', model: model.fsPath });
  const shape = (c: LayerCandidate): string => (c.shape ? `[${c.shape.map((d) => d ?? '?').join(', ')}]` : '');
  const auto: Pick<string | null> = { label: '$(sparkle) Automatic', description: 'recommended', detail: info.layers.description, value: null, picked: true };
  const items = candidates.map((c): Pick<string | null> => ({ label: c.value, description: `${c.op} ${shape(c)}`, detail: c.node !== c.value ? c.node : undefined, value: c.value }));
  if (info.layers.mode === 'one') {
    const picked = orDismiss(await ui.pick([auto, ...items], { title: `Circuitscope: ${info.name} — layer`, placeHolder: info.layers.description, matchOnDescription: true }));
    return picked.value === null ? undefined : [picked.value];
  }
  const picked = orDismiss(
    await ui.pickMany(
      items.map((i) => ({ ...i, picked: false })),
      { title: `Circuitscope: ${info.name} — layers (none checked: automatic)`, placeHolder: info.layers.description, matchOnDescription: true },
    ),
  );
  return picked.length ? picked.map((p) => p.value as string) : undefined;
}

function formatValue(v: unknown): string {
  if (v === undefined) return '(not set)';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

function parseOption(spec: OptionSpec, text: string): { value?: unknown; error?: string } {
  const t = text.trim();
  if (t === '') return { value: undefined };
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const n = Number(t);
      if (!Number.isFinite(n) || (spec.type === 'integer' && !Number.isInteger(n))) return { error: `expected ${spec.type === 'integer' ? 'an integer' : 'a number'}, found '${t}'` };
      return { value: n };
    }
    case 'boolean':
      if (t !== 'true' && t !== 'false') return { error: `expected true or false, found '${t}'` };
      return { value: t === 'true' };
    case 'strings': {
      const list = t.split(',').map((x) => x.trim()).filter(Boolean);
      const bad = spec.choices ? list.filter((x) => !spec.choices!.includes(x)) : [];
      if (bad.length) return { error: `unknown value(s) ${bad.join(', ')}; expected some of ${spec.choices!.join(', ')}` };
      return { value: list };
    }
    case 'string':
      if (spec.choices && !spec.choices.includes(t)) return { error: `expected one of ${spec.choices.join(', ')}, found '${t}'` };
      return { value: t };
  }
}

async function pickOptions(ui: StepPicker, s: Services, info: AnalysisInfo): Promise<Record<string, unknown>> {
  const key = `circuitscope.options:${info.name}`;
  const cfg = vscode.workspace.getConfiguration('circuitscope');
  const options: Record<string, unknown> = {};
  for (const [opt, setting] of Object.entries(SETTING_DEFAULTS[info.name] ?? {})) {
    const inspected = cfg.inspect(setting);
    const v = inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
    if (v !== undefined) options[opt] = v;
  }
  Object.assign(options, s.context.workspaceState.get<Record<string, unknown>>(key, {}));
  for (;;) {
    const run: Pick<string | null> = { label: '$(play) Run', description: Object.keys(options).length ? 'with the options below' : 'with the defaults', value: null };
    const items = info.options.map((o): Pick<string | null> => {
      const set = options[o.name] !== undefined;
      return {
        label: `${set ? '$(edit) ' : ''}${o.name}`,
        description: set ? formatValue(options[o.name]) : `${formatValue(o.default)} (default)`,
        detail: o.description,
        value: o.name,
      };
    });
    const reset: Pick<string | null>[] = Object.keys(options).length ? [{ label: '$(discard) Reset all options to defaults', value: '__reset' }] : [];
    const picked = orDismiss(await ui.pick([run, ...items, ...reset], { title: `Circuitscope: ${info.name} — options`, placeHolder: 'Run now, or pick an option to change it', matchOnDetail: true }));
    if (picked.value === null) break;
    if (picked.value === '__reset') {
      for (const k of Object.keys(options)) delete options[k];
      continue;
    }
    const spec = info.options.find((o) => o.name === picked.value)!;
    const choices = spec.choices && spec.type === 'string' ? spec.choices : undefined;
    if (choices || spec.type === 'boolean') {
      const list = choices ?? ['true', 'false'];
      const c = await ui.pick(
        list.map((x) => ({ label: x, description: formatValue(spec.default) === x ? 'default' : undefined })),
        { title: `${info.name} — ${spec.name}`, placeHolder: spec.description },
      );
      if (c) options[spec.name] = parseOption(spec, c.label).value;
      continue;
    }
    const text = await ui.ask({
      title: `${info.name} — ${spec.name}`,
      prompt: `${spec.description}${spec.choices ? ` (one or more of ${spec.choices.join(', ')})` : ''}. Empty: the default (${formatValue(spec.default)}).`,
      value: options[spec.name] !== undefined ? formatValue(options[spec.name]) : '',
      validateInput: (t) => parseOption(spec, t).error,
    });
    if (text === undefined) continue;
    const parsed = parseOption(spec, text);
    if (parsed.value === undefined) delete options[spec.name];
    else options[spec.name] = parsed.value;
  }
  await s.context.workspaceState.update(key, options);
  return options;
}

/** Runs one analysis with progress and cancel; saves and shows the result. Exported for the CLI-less tests. */
export async function runAnalysis(s: Services, req: AnalysisRequest): Promise<void> {
  const engine = getEngine(s.context, s.output);
  const file = req.models?.length ? `${path.basename(path.dirname(req.model))}/ (${req.models.length} checkpoints)` : path.basename(req.model);
  const title = `${req.analysis} on ${file}`;
  const config = vscode.workspace.getConfiguration('circuitscope');
  const budgetMb = config.get<number>('memoryBudgetMB', DEFAULT_MEMORY_BUDGET_MB);
  const budgetMin = config.get<number>('timeBudgetMinutes', DEFAULT_TIME_BUDGET_MIN);

  let est;
  try {
    est = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Circuitscope: estimating the cost of ${title}…`, cancellable: true }, (_p, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      return engine.run({ kind: 'estimateAnalysis', ...req }, { signal: ac.signal });
    });
  } catch (e) {
    if (!(e instanceof EngineError && e.name === 'Cancelled')) throw e;
    s.output.info(`${title}: cancelled while estimating its cost`);
    ResultsPanel.progress({ type: 'runError', analysis: req.analysis, model: req.model, message: 'cancelled while estimating its cost', cancelled: true });
    void vscode.window.showInformationMessage(`Circuitscope: ${title} was cancelled.`);
    return;
  }
  // A series runs the same job once per checkpoint: the estimate is for one, the time for all.
  const n = req.models?.length ?? 1;
  est.expectedMs *= n;
  est.forwardPasses *= n;
  est.vjps *= n;
  const check = checkCost(est, budgetMb, budgetMin);
  s.output.info(`estimate for ${title}: ${check.summary}${n > 1 ? `, ${n} checkpoints` : ''}${est.notes.length ? `; ${est.notes.join('; ')}` : ''}`);
  const over: string[] = [];
  const change: string[] = [];
  if (check.overMemory) {
    over.push(`${formatBytes(est.peakBytes)} at its peak, above the memory budget of ${budgetMb} MB (circuitscope.memoryBudgetMB)`);
    change.push('lower circuitscope.batchSize');
  }
  if (check.overTime) {
    over.push(`≈ ${formatDuration(est.expectedMs)}, above the time budget of ${formatDuration(budgetMin * 60_000)} (circuitscope.timeBudgetMinutes)`);
    const hint = timeOptionHint(req.analysis, 'names');
    change.push(hint ? `choose cheaper options (${hint})` : 'choose cheaper options');
  }
  if (over.length) {
    const go = await vscode.window.showWarningMessage(
      `Circuitscope: ${title} is estimated to need ${over.join(', and ')}.`,
      {
        modal: true,
        detail: `Run it on fewer samples (a dataset spec with "limit"; the estimate covers ${est.samples}), ${change.join(', ')}, or raise the budget in the settings.`,
      },
      'Run anyway',
    );
    if (go !== 'Run anyway') {
      s.output.info(`${title}: not run (above the ${[check.overMemory ? 'memory' : '', check.overTime ? 'time' : ''].filter(Boolean).join(' and ')} budget)`);
      return;
    }
  }

  ResultsPanel.progress({ type: 'progress', analysis: req.analysis, model: req.model, message: `starting (≈ ${formatDuration(est.expectedMs)} expected)` });
  // The extension host must stay responsive while the worker computes: measure its event-loop delay.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  // The loop's busy fraction beside its delay: on a loaded machine the delay also counts waits for a core.
  const elu0 = performance.eventLoopUtilization();
  const t0 = Date.now();
  let envelope: TypedEnvelope | undefined;
  /** The run file's text, made by the engine (a large result is never serialized on the host's thread). */
  let fileChunks: Uint8Array[] = [];
  try {
    envelope = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Circuitscope: ${title}`, cancellable: true },
      async (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        progress.report({ message: `≈ ${formatDuration(est.expectedMs)} expected` });
        let lastFraction = 0;
        const run = await engine.run(
          { kind: 'analysisRun', ...req },
          {
            signal: ac.signal,
            onProgress: (p) => {
              const fraction = p.total ? p.done / p.total : 0;
              const increment = Math.max(0, (fraction - lastFraction) * 100);
              lastFraction = Math.max(lastFraction, fraction);
              const message = `${p.stage} ${p.done}/${p.total}`;
              progress.report({ message, increment });
              ResultsPanel.progress({ type: 'progress', analysis: req.analysis, model: req.model, message, fraction });
            },
          },
        );
        fileChunks = run.chunks;
        return run.envelope as TypedEnvelope;
      },
    );
  } catch (e) {
    const cancelled = e instanceof EngineError && e.name === 'Cancelled';
    const message = e instanceof Error ? e.message : String(e);
    ResultsPanel.progress({ type: 'runError', analysis: req.analysis, model: req.model, message, cancelled });
    if (cancelled) {
      s.output.info(`${title}: cancelled after ${formatDuration(Date.now() - t0)}`);
      void vscode.window.showInformationMessage(`Circuitscope: ${title} was cancelled.`);
    } else {
      s.output.error(`${title}: ${message}`);
      void vscode.window.showErrorMessage(`Circuitscope: ${title} failed: ${message}`, 'Show Log').then((c) => c && s.output.show(true));
    }
    return;
  } finally {
    lag.disable();
    const ms = (ns: number): string => (ns / 1e6).toFixed(1);
    const busy = (100 * performance.eventLoopUtilization(elu0).utilization).toFixed(1);
    s.output.info(`host event-loop delay during ${title}: max ${ms(lag.max)} ms, p99 ${ms(lag.percentile(99))} ms, mean ${ms(lag.mean)} ms over ${formatDuration(Date.now() - t0)}; loop busy ${busy}%`);
  }
  s.output.info(`${title}: done in ${formatDuration(Date.now() - t0)} with ${envelope.backend}`);
  for (const w of envelope.warnings ?? []) s.output.warn(`${title}: ${w}`);
  let record;
  try {
    record = await s.store.add(envelope, typeof req.data === 'string' ? req.data : undefined, fileChunks);
  } catch (e) {
    record = s.store.all().at(-1);
    void vscode.window.showWarningMessage(`Circuitscope: the run could not be saved (${e instanceof Error ? e.message : String(e)}); it is shown but will be lost when the window closes.`);
  }
  if (record?.savedTo) s.output.info(`${title}: saved to ${record.savedTo}`);
  // The run finished in the background: show it without taking the keyboard focus (the user may be typing, or
  // picking the next analysis; a webview taking the focus late closes an open quick pick).
  s.showResults(record?.id, true);
}

/** The palette command. `arg` is the explorer/editor URI, or a webview context (the graph's context menu). */
export async function runAnalysisCommand(s: Services, arg: unknown): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage('Circuitscope: running a model on data needs a trusted workspace (viewing graphs works without).');
    return;
  }
  // The pick in progress, for the log when one is closed (Escape, or the focus moving away closes a quick pick).
  let step = 'model';
  // Every step in one quick pick kept open until the options are chosen (see StepPicker: a webview's late focus).
  const ui = new StepPicker();
  try {
    let request: AnalysisRequest;
    try {
      ui.open('Circuitscope: Run Analysis');
      const picked = await pickModel(ui, s, arg);
      const model = picked.uri;
      // A series: layers are listed from its first checkpoint (they share the architecture).
      const first = picked.series ? vscode.Uri.file(picked.series[0]) : model;
      step = 'analysis';
      ui.busy();
      const info = await pickAnalysis(ui, s, model, picked.series !== undefined);
      await s.context.workspaceState.update(`circuitscope.lastAnalysis:${model.fsPath}`, info.name);
      step = 'dataset';
      ui.busy();
      const data = info.needsData ? await pickDataset(ui, s, info, first) : undefined;
      step = 'layers';
      ui.busy();
      const layers = await pickLayers(ui, s, info, first);
      step = 'options';
      const options = await pickOptions(ui, s, info);
      const batchSize = vscode.workspace.getConfiguration('circuitscope').get<number>('batchSize');
      request = { analysis: info.name, model: first.fsPath, models: picked.series, data, layers, options, batchSize };
    } finally {
      ui.dispose();
    }
    step = 'run';
    await runAnalysis(s, request);
  } catch (e) {
    if (e instanceof Dismissed) {
      s.output.info(`Run Analysis: the ${step} pick was closed; nothing ran`);
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    s.output.error(`Run Analysis: ${msg}`);
    void vscode.window.showErrorMessage(`Circuitscope: ${msg}`);
  }
}

/** "Open Analysis Results…": saved runs of this workspace, or any envelope file. */
export async function openResultsCommand(s: Services, arg: unknown): Promise<void> {
  try {
    let uri = arg instanceof vscode.Uri && arg.path.endsWith('.json') ? arg : undefined;
    if (!uri) {
      const saved = await s.store.savedFiles();
      const items: Pick<vscode.Uri | null>[] = saved.map((f) => ({ label: path.basename(f.uri.fsPath, '.json'), description: new Date(f.mtime).toLocaleString(), value: f.uri }));
      items.push({ label: '$(folder-opened) Browse…', description: 'a JSON result written by the UI or by `circuitscope run … --out`', value: null, alwaysShow: true });
      const picked = orDismiss(await vscode.window.showQuickPick(items, { title: 'Circuitscope: open analysis results', placeHolder: saved.length ? 'A saved run' : 'No saved runs in this workspace yet' }));
      uri = picked.value ?? orDismiss((await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Circuitscope results': ['json'] } }))?.[0]);
    }
    const record = await s.store.open(uri);
    s.showResults(record.id);
  } catch (e) {
    if (e instanceof Dismissed) return;
    const msg = e instanceof Error ? e.message : String(e);
    s.output.error(`Open Analysis Results: ${msg}`);
    void vscode.window.showErrorMessage(`Circuitscope: ${msg}`);
  }
}
