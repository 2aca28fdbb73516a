/**
 * `circuitscope report` as a user runs it (dist/cli.js): analyses chosen from the data's arrays, a standalone
 * HTML file holding the runs and the operator graph, saved runs added with --from, clear usage errors; and the
 * engine jobs the extension's quick picks read (the analysis registry as data, layer candidates).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analysesForData } from '../../src/cli/report';
import type { ReportData } from '../../src/cli/reportHtml';
import { testEngine } from '../helpers/engine';

const repo = path.join(__dirname, '..', '..');
const bin = path.join(repo, 'bin', 'circuitscope.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-report-'));

function cli(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function embedded(file: string): ReportData {
  const html = fs.readFileSync(file, 'utf8');
  const m = /<script type="application\/json" id="circuitscope-report">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the report embeds its data');
  return JSON.parse(m[1]) as ReportData;
}

describe('circuitscope report', () => {
  before(() => {
    if (!fs.existsSync(path.join(repo, 'dist', 'report.js')) || !fs.existsSync(path.join(repo, 'dist', 'cli.js'))) execFileSync(process.execPath, ['esbuild.mjs'], { cwd: repo });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('picks the analyses from the data', async () => {
    assert.deepEqual(await analysesForData(path.join(repo, 'examples/data/fmnist.npz')), ['collapse', 'hash', 'redundancy', 'lib']);
    assert.deepEqual(await analysesForData(path.join(repo, 'examples/transformer/induction.npz')), ['attention', 'circuit']);
    await assert.rejects(analysesForData(path.join(repo, 'examples/mlp/mlp_weights.npz')), /expected x and y \(labelled inputs\), tokens \(prompts\) or clean\/corrupt\/answer\/wrong/);
  });

  it('runs an analysis and writes one HTML file with the run and the operator graph', () => {
    const out = path.join(tmp, 'attention.html');
    const r = cli('report', 'examples/transformer/transformer.onnx', '--data', 'examples/transformer/induction.npz', '--analyses', 'attention', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /report: 1 run\(s\) \(attention\)/);
    const d = embedded(out);
    assert.equal(d.runs.length, 1);
    assert.equal(d.runs[0].envelope.analysis, 'attention');
    assert.equal(d.model, path.join(repo, 'examples/transformer/transformer.onnx'));
    assert.ok((d.graph?.nodes.length ?? 0) > 50);
    assert.equal(d.summary?.format, 'onnx');
    const html = fs.readFileSync(out, 'utf8');
    // Standalone: nothing loaded from outside the file (bundled libraries mention URLs in strings; the CSP's
    // default-src 'none' / connect-src 'none' keeps them from being fetched).
    const markup = html.replace(/<script[^>]*>[\s\S]*?<\/script>/g, '<script></script>').replace(/<style>[\s\S]*?<\/style>/g, '<style></style>');
    assert.doesNotMatch(markup, /<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|https?:/);
    assert.equal((markup.match(/<script/g) ?? []).length, 2, 'the data and the page script, both inline');
    assert.match(html, /default-src 'none'.*connect-src 'none'/);
  });

  it('adds saved runs with --from, without running anything', () => {
    const out = path.join(tmp, 'saved.html');
    const r = cli('report', '--from', 'test/fixtures/envelopes/lib.json', '--from', 'test/fixtures/envelopes/redundancy.json', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const d = embedded(out);
    assert.deepEqual(d.runs.map((x) => x.envelope.analysis), ['lib', 'redundancy']);
    assert.ok(d.graph, 'the runs name examples/mlp/mlp.onnx, which exists here');
  });

  it('says what is wrong with bad arguments', () => {
    let r = cli('report', 'examples/mlp/mlp.onnx');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /report needs --data/);
    r = cli('report', '--from', 'package.json');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /package\.json: expected a Circuitscope result with an "analysis" field, found an object with keys name/);
    r = cli('report', 'examples/mlp/mlp.onnx', '--data', 'examples/data/fmnist.npz', '--analyses', 'collapse,pca');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown analysis 'pca'/);
    r = cli('report', 'examples/mlp/mlp.onnx', '--data', 'examples/data/fmnist.npz', '--set', 'lib=3');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--set expects <analysis>\.<option>=<value>/);
  });
});

describe('engine jobs for the quick picks', () => {
  const engine = testEngine();
  after(() => engine.dispose());

  it('lists every analysis with its options, layer use and data', async () => {
    const list = await engine.run({ kind: 'listAnalyses' });
    assert.deepEqual(list.map((a) => a.name).sort(), ['attention', 'circuit', 'collapse', 'hash', 'lib', 'redundancy']);
    const lib = list.find((a) => a.name === 'lib')!;
    assert.equal(lib.layers.mode, 'many');
    assert.ok(lib.options.some((o) => o.name === 'graphMass' && o.default === 0.9));
    assert.equal(list.find((a) => a.name === 'redundancy')!.layers.mode, 'one');
    assert.equal(list.find((a) => a.name === 'circuit')!.layers.mode, 'none');
    for (const a of list) assert.ok(a.dataHint.length > 10, a.name);
  });

  it('offers activations and linear outputs in graph order', async () => {
    const c = await engine.run({ kind: 'layerCandidates', model: path.join(repo, 'examples/mlp/mlp.onnx') });
    const values = c.map((x) => x.value);
    for (const v of ['/flatten/Flatten_output_0', '/relu1/Relu_output_0', '/relu2/Relu_output_0']) assert.ok(values.includes(v), v);
    assert.ok(values.indexOf('/relu1/Relu_output_0') < values.indexOf('/relu2/Relu_output_0'));
    assert.equal(c.find((x) => x.value === '/relu1/Relu_output_0')?.op, 'Relu');
  });
});
