import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationSupport } from '../../../src/model/operations';

const A = 'https://a.example.com';
const B = 'https://b.example.com';

test('unknown until answered, per deployment', () => {
  const ops = new OperationSupport();
  assert.equal(ops.get(A, 'replay'), 'unknown');
  assert.equal(ops.record(A, 'replay', 'unsupported'), true);
  assert.equal(ops.record(A, 'replay', 'unsupported'), false, 'nothing new');
  ops.of(A).record('reinitialize', 'supported');
  assert.equal(ops.get(A, 'replay'), 'unsupported');
  assert.equal(ops.of(A).get('reinitialize'), 'supported');
  assert.equal(ops.get(B, 'replay'), 'unknown');
});

test('a new server version forgets what was learned; the first known version keeps it', () => {
  const ops = new OperationSupport();
  ops.record(A, 'replay', 'unsupported');
  assert.equal(ops.setServerVersion(A, 'v2.24.0'), true);
  assert.equal(ops.get(A, 'replay'), 'unsupported', 'learned before the version was known: kept');
  assert.equal(ops.setServerVersion(A, 'v2.24.0'), false);
  assert.equal(ops.setServerVersion(A, 'v2.25.0'), true);
  assert.equal(ops.get(A, 'replay'), 'unknown');
  assert.equal(ops.serverVersion(A), 'v2.25.0');
});

test('toJSON/fromJSON round trip; malformed input is skipped', () => {
  const ops = new OperationSupport();
  ops.setServerVersion(A, 'v2.24.0');
  ops.record(A, 'replay', 'unsupported');
  ops.record(B, 'reinitialize', 'supported');
  const back = OperationSupport.fromJSON(JSON.parse(JSON.stringify(ops)));
  assert.deepEqual(back.toJSON(), ops.toJSON());
  assert.equal(back.get(A, 'replay'), 'unsupported');
  assert.equal(back.serverVersion(A), 'v2.24.0');
  for (const bad of [undefined, null, 3, 'x', [], { [A]: 5 }, { [A]: { ops: { replay: 'maybe' } } }]) {
    const s = OperationSupport.fromJSON(bad);
    assert.equal(s.get(A, 'replay'), 'unknown');
  }
});

test('recordAnswer: 2xx supported, 404/405/501 unsupported, anything else says nothing; a 404 after a success is about the agent', () => {
  const ops = new OperationSupport();
  assert.equal(ops.recordAnswer(A, 'replay', 409), false);
  assert.equal(ops.recordAnswer(A, 'replay', 500), false);
  assert.equal(ops.recordAnswer(A, 'replay', 0), false, 'no answer (a network failure)');
  assert.equal(ops.get(A, 'replay'), 'unknown');
  for (const status of [404, 405, 501]) {
    const o = new OperationSupport();
    assert.equal(o.recordAnswer(A, 'reinitialize', status), true);
    assert.equal(o.get(A, 'reinitialize'), 'unsupported', String(status));
    assert.equal(o.recordAnswer(A, 'reinitialize', status), false, 'asked again: nothing new');
  }
  assert.equal(ops.recordAnswer(A, 'replay', 202), true);
  assert.equal(ops.recordAnswer(A, 'replay', 404), false);
  assert.equal(ops.get(A, 'replay'), 'supported');
});

test('describe: every operation and the version, for logs and the diagnostics report', () => {
  const ops = new OperationSupport();
  assert.equal(ops.describe(A), 'replay=unknown reinitialize=unknown');
  ops.setServerVersion(A, 'v2.24.1');
  ops.recordAnswer(A, 'replay', 404);
  assert.equal(ops.describe(A), 'replay=unsupported reinitialize=unknown (v2.24.1)');
});
