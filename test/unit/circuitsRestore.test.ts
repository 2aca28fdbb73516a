/** The Circuits panel after a window reload (src/extension/circuitsRestore.ts): which saved run it reopens. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runFileToRestore } from '../../src/extension/circuitsRestore';

const dir = path.join(__dirname, '..', 'fixtures', 'envelopes');
const file = (name: string): string => path.join(dir, `${name}.json`);
const read = async (f: string): Promise<string> => fs.promises.readFile(f, 'utf8');

describe('runFileToRestore', () => {
  it('reopens the run shown last when it is still saved and drawable', async () => {
    const saved = [file('collapse'), file('lib'), file('circuit')];
    assert.equal(await runFileToRestore(file('circuit'), saved, read), file('circuit'));
  });

  it('else the newest saved run the panel can draw (LIB, circuit, redundancy groups), skipping the others', async () => {
    const saved = [file('collapse'), file('hash'), file('redundancy'), file('lib')];
    assert.equal(await runFileToRestore(undefined, saved, read), file('redundancy'));
    assert.equal(await runFileToRestore(file('circuit'), [file('attention'), file('lib')], read), file('lib'), 'the remembered file is gone');
    assert.equal(await runFileToRestore(file('collapse'), [file('collapse'), file('circuit')], read), file('circuit'), 'the remembered run is not drawable');
  });

  it('skips unreadable and invalid files, and finds nothing among runs it cannot draw', async () => {
    const broken = [path.join(dir, 'missing.json'), path.join(__dirname, 'circuitsRestore.test.ts'), file('lib')];
    assert.equal(await runFileToRestore(broken[0], broken, read), file('lib'));
    assert.equal(await runFileToRestore(undefined, [file('collapse'), file('hash'), file('attention')], read), undefined);
    assert.equal(await runFileToRestore(undefined, [file('collapse'), file('lib')], read, 1), undefined, 'reads at most `limit` files');
  });
});
