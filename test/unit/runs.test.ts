/**
 * Runs as files (src/shared/runs.ts) and the report page's HTML (src/cli/reportHtml.ts): envelopes are
 * checked with errors that name the file and what was found; ids sort by time and never collide; the report's
 * embedded JSON cannot close its <script>, and the CSP hashes are those of the inline script and style.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { reportHtml, scriptSafeJson, type ReportData } from '../../src/cli/reportHtml';
import type { RunRecord } from '../../src/shared/results';
import { checkEnvelope, hasCircuitGraph, makeRunRecord, parseRunFile, RunFileError, runId } from '../../src/shared/runs';

const fixtures = path.join(__dirname, '..', 'fixtures', 'envelopes');
const read = (name: string): string => fs.readFileSync(path.join(fixtures, `${name}.json`), 'utf8');

describe('run files', () => {
  it('parses every real envelope and keeps its fields', () => {
    for (const f of fs.readdirSync(fixtures)) {
      const text = fs.readFileSync(path.join(fixtures, f), 'utf8');
      const e = parseRunFile(text, f);
      const raw = JSON.parse(text) as { analysis: string; result: unknown; model: string };
      assert.equal(e.analysis, raw.analysis);
      assert.equal(e.model, raw.model);
      assert.deepEqual(e.result, raw.result);
    }
  });

  it('refuses non-envelopes with the file and what was found', () => {
    const cases: [string, RegExp][] = [
      ['{not json', /x\.json: not valid JSON/],
      ['[1,2]', /found an array of 2/],
      ['{"foo":1}', /with an "analysis" field, found an object with keys foo/],
      ['{"analysis":"pca","model":"m","result":{}}', /unknown analysis 'pca' \(known: collapse, hash/],
      ['{"analysis":"lib","model":3,"result":{}}', /"model" must be the checkpoint's path, found number 3/],
      ['{"analysis":"lib","model":"m","result":null}', /"result" must be an object, found null/],
      ['{"error":{"name":"DatasetError","message":"bad shape"}}', /records a failed run, not a result: bad shape/],
      ['{"analysis":"collapse","model":"/w/series","result":{"series":{}}}', /"result\.series" must be an array of checkpoint rows, found an object/],
      ['{"analysis":"collapse","model":"/w/series","result":{"series":[{"model":"e1.onnx"},{"model":"../../etc/x.onnx"}]}}', /"result\.series\[1\]\.model" must be a checkpoint's file name inside the series folder, found string "\.\.\/\.\.\/etc\/x\.onnx"/],
      ['{"analysis":"collapse","model":"/w/series","result":{"series":[{"model":"/etc/x.onnx"}]}}', /series\[0\]\.model" must be a checkpoint's file name/],
      ['{"analysis":"collapse","model":"/w/series","result":{"series":[{"model":".."}]}}', /series\[0\]\.model" must be a checkpoint's file name/],
      ['{"analysis":"hash","model":"/w/series","result":{"series":[{"checkpoint":1}]}}', /series\[0\]\.model" must be a checkpoint's file name inside the series folder, found nothing/],
    ];
    for (const [text, re] of cases) {
      assert.throws(
        () => parseRunFile(text, 'x.json'),
        (e: unknown) => e instanceof RunFileError && e.file === 'x.json' && re.test(e.message),
        text,
      );
    }
  });

  it('fills missing optional fields without inventing results', () => {
    const e = checkEnvelope({ analysis: 'attention', model: '/m.onnx', result: { heads: [] } }, 'f');
    assert.equal(e.backend, 'unknown');
    assert.deepEqual(e.options, {});
    assert.deepEqual(e.timings, {});
    assert.equal('warnings' in e, false);
  });

  it('makes sortable, unique, file-safe ids', () => {
    const when = new Date(2026, 10, 24, 3, 15, 2);
    assert.equal(runId('collapse', '/w/examples/mlp/mlp.onnx', when), '20261124-031502-collapse-mlp');
    assert.equal(runId('lib', 'C:\\models\\tfjs model\\model.json', when), '20261124-031502-lib-tfjs_model');
    const env = parseRunFile(read('collapse'), 'c');
    const a = makeRunRecord(env, when, new Set());
    const b = makeRunRecord(env, when, new Set([a.id]));
    const c = makeRunRecord(env, when, new Set([a.id, b.id]));
    assert.deepEqual([a.id, b.id, c.id], ['20261124-031502-collapse-mlp', '20261124-031502-collapse-mlp-2', '20261124-031502-collapse-mlp-3']);
    assert.equal(a.finishedAt, when.toISOString());
  });

  it('knows which runs the circuits view can draw', () => {
    const rec = (name: string): RunRecord => makeRunRecord(parseRunFile(read(name), name), new Date(), new Set());
    assert.deepEqual(
      ['collapse', 'collapse-series', 'hash', 'hash-widths', 'redundancy', 'lib', 'attention', 'circuit'].map((n) => [n, hasCircuitGraph(rec(n))]),
      [['collapse', false], ['collapse-series', false], ['hash', false], ['hash-widths', false], ['redundancy', true], ['lib', true], ['attention', false], ['circuit', true]],
    );
  });
});

describe('report HTML', () => {
  const data: ReportData = {
    title: 'T <b>&',
    generatedAt: '2026-11-24T00:00:00Z',
    tool: 'circuitscope test',
    runs: [makeRunRecord(checkEnvelope({ analysis: 'lib', model: '</script><script>alert(1)</script>', result: { note: '<!-- \u2028' } }, 'f'), new Date(0), new Set())],
    notes: [],
  };
  const html = reportHtml(data, { script: 'console.log("</script>")', styles: ['body{color:red}', 'p{margin:0}'] });

  it('embeds JSON that cannot end its script element and parses back exactly', () => {
    const m = /<script type="application\/json" id="circuitscope-report">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(m);
    assert.doesNotMatch(m[1], /<\/script|<!--/i);
    assert.deepEqual(JSON.parse(m[1]), JSON.parse(JSON.stringify(data)));
    assert.equal(JSON.parse(scriptSafeJson('\u2028')), '\u2028');
  });

  it('allows exactly its inline script and style by hash, and no network', () => {
    const csp = /content="([^"]+)"/.exec(html)![1];
    const script = /<script>([\s\S]*?)<\/script><\/body>/.exec(html)![1];
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const h = (t: string): string => `'sha256-${createHash('sha256').update(t).digest('base64')}'`;
    assert.ok(csp.includes(`script-src ${h(script)}`), csp);
    assert.ok(csp.includes(`style-src ${h(style)}`), csp);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'none'/);
    assert.doesNotMatch(script, /<\/script/i);
    assert.match(html, /<title>T &lt;b&gt;&amp;<\/title>/);
  });
});
