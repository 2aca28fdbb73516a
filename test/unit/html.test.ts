/**
 * The one page shell (src/shared/html.ts) every Circuitscope page is built from — the three webviews and the
 * standalone report — and the spatial grid behind the graph's viewport culling (src/webview/culling.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, pageHtml } from '../../src/shared/html';
import { SpatialGrid } from '../../src/webview/culling';

describe('page shell', () => {
  it('escapes text and attribute values', () => {
    assert.equal(escapeHtml(`a<b>&"c"`), 'a&lt;b&gt;&amp;&quot;c&quot;');
    assert.equal(escapeHtml('plain'), 'plain');
  });

  it('writes the CSP, head, app root and body in order, with the title escaped', () => {
    const html = pageHtml({ csp: ["default-src 'none'", 'img-src data:'], title: 'R&D <1>', head: '<link rel="stylesheet" href="s.css">', body: '<script src="x.js"></script>', bodyClass: 'report' });
    assert.match(html, /^<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">/);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:">/);
    assert.match(html, /<title>R&amp;D &lt;1&gt;<\/title><\/head>/);
    const order = ['Content-Security-Policy', 'href="s.css"', '<title>', '<body class="report"><main id="app" aria-live="polite"></main>', '<script src="x.js"></script></body></html>'];
    const at = order.map((s) => html.indexOf(s));
    assert.ok(at.every((i) => i >= 0), `missing: ${order.filter((_, k) => at[k] < 0).join(', ')}`);
    assert.deepEqual([...at].sort((a, b) => a - b), at);
    assert.match(pageHtml({ csp: [], title: 't', head: '', body: '' }), /<body><main id="app"/);
  });
});

describe('SpatialGrid', () => {
  it('finds an item in every cell its box covers and nowhere else; remove and re-insert move it', () => {
    const g = new SpatialGrid<string>(10);
    g.insert('a', [0, 0, 25, 5]); // cells x 0..2, y 0
    g.insert('b', [-15, -15, -11, -11]); // cell (-2, -2)
    assert.deepEqual([...g.query([21, 1, 22, 2])], ['a']);
    assert.deepEqual([...g.query([30, 0, 40, 5])], []);
    assert.deepEqual([...g.query([-12, -12, -12, -12])], ['b']);
    assert.deepEqual([...g.query([-20, -20, 21, 1])].sort(), ['a', 'b']);
    g.insert('a', [100, 100, 101, 101]);
    assert.deepEqual([...g.query([0, 0, 25, 5])], []);
    assert.deepEqual([...g.query([105, 105, 109, 109])], ['a']);
    assert.equal(g.size, 2);
    g.remove('b');
    assert.deepEqual([...g.query([-20, -20, 0, 0])], []);
    assert.equal(g.size, 1);
  });
});
