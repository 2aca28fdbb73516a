/**
 * The host side of the webview channel (src/shared/channel.ts): nothing reaches the page before `ready`, the queue
 * keeps order, state messages replace their queued predecessors, a page reload queues again, and a request gets
 * exactly one reply carrying either the value or the error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageGate, settle } from '../../src/shared/channel';

type Msg = { type: 'runs'; n: number } | { type: 'clear' } | { type: 'progress'; n: number };

function gate(coalesce?: Msg['type'][]) {
  const sent: Msg[] = [];
  return { sent, g: new MessageGate<Msg>((m) => sent.push(m), { coalesce }) };
}

describe('MessageGate', () => {
  it('queues until the gate opens, then sends the queue in order; open: sends at once', () => {
    const { sent, g } = gate();
    g.post({ type: 'progress', n: 1 });
    g.post({ type: 'progress', n: 2 });
    assert.deepEqual(sent, []);
    g.openGate();
    assert.deepEqual(sent, [{ type: 'progress', n: 1 }, { type: 'progress', n: 2 }]);
    g.post({ type: 'progress', n: 3 });
    assert.equal(sent.length, 3);
    assert.equal(g.pending().length, 0);
  });
  it('a state message replaces every queued one of the coalesced types, keeping the rest', () => {
    const { sent, g } = gate(['runs', 'clear']);
    g.post({ type: 'runs', n: 1 });
    g.post({ type: 'progress', n: 1 });
    g.post({ type: 'clear' });
    g.post({ type: 'runs', n: 2 });
    g.openGate();
    assert.deepEqual(sent, [{ type: 'progress', n: 1 }, { type: 'runs', n: 2 }]);
  });
  it('first() sees the queue and is sent before it', () => {
    const { sent, g } = gate(['runs']);
    g.post({ type: 'progress', n: 1 });
    let seen: readonly Msg[] = [];
    g.openGate((q) => {
      seen = [...q];
      return q.some((m) => m.type === 'runs') ? [] : [{ type: 'runs', n: 0 }];
    });
    assert.deepEqual(seen, [{ type: 'progress', n: 1 }]);
    assert.deepEqual(sent, [{ type: 'runs', n: 0 }, { type: 'progress', n: 1 }]);
  });
  it('after close (the page was discarded) messages wait for the next open', () => {
    const { sent, g } = gate();
    g.openGate();
    g.close();
    g.post({ type: 'progress', n: 1 });
    assert.deepEqual(sent, []);
    g.openGate();
    assert.deepEqual(sent, [{ type: 'progress', n: 1 }]);
  });
});

describe('settle', () => {
  it('one reply with the value, or with the error as the wire carries it', async () => {
    assert.deepEqual(await settle(7, Promise.resolve(42), String), { id: 7, ok: true, value: 42 });
    const err = await settle(8, Promise.reject(new RangeError('no tensor w')), (e) => ({ name: (e as Error).name, message: (e as Error).message }));
    assert.deepEqual(err, { id: 8, ok: false, error: { name: 'RangeError', message: 'no tensor w' } });
  });
});
