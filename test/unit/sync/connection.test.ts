import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoderApiError } from '../../../src/api/errors';
import { ManualClock } from '../../doubles/manualClock';
import type { ConnectionState } from '../../../src/model/types';
import { classifyFailure, ConnectionTracker, isUnreachableClose, PROBE_MIN_INTERVAL_MS } from '../../../src/sync/connection';

const TOKEN = 'AbCdEfGhIj-abcdefghijklmnopqrstuv';

function setup() {
  const clock = new ManualClock();
  const states: ConnectionState[] = [];
  const c = new ConnectionTracker(clock, (s) => states.push(s));
  return { clock, states, c };
}

test('offline probe: 1, 2, 4, 8 s... capped at the normal period; reset once live', () => {
  const { c } = setup();
  c.set({ kind: 'connecting' });
  assert.equal(c.pollPeriod(15_000), 15_000);
  assert.equal(c.goOffline('ECONNREFUSED'), true);
  const periods: number[] = [];
  for (let i = 0; i < 6; i++) {
    periods.push(c.pollPeriod(15_000));
    c.probeFailed();
  }
  assert.deepEqual(periods, [1000, 2000, 4000, 8000, 15_000, 15_000]);
  assert.deepEqual(c.markLive(), { changed: true, wasOffline: true });
  assert.equal(c.pollPeriod(15_000), 15_000);
  assert.equal(c.goOffline('again'), true);
  assert.equal(c.pollPeriod(15_000), 1000, 'a new outage starts the backoff over');
});

test('offline is entered once per outage, with the time it started', () => {
  const { c, clock, states } = setup();
  c.set({ kind: 'live' });
  clock.advance(5000);
  const at = clock.now();
  c.goOffline('first');
  clock.advance(1000);
  assert.equal(c.goOffline('second'), false);
  assert.deepEqual(states.at(-1), { kind: 'offline', since: at, error: 'first' });
  assert.equal(states.length, 2);
  assert.deepEqual(c.markLive(), { changed: true, wasOffline: true });
  assert.deepEqual(c.markLive(), { changed: false, wasOffline: false });
  assert.equal(states.length, 3);
});

test('a failing stream probes the REST side at most every 5 s, and not while offline', () => {
  const { c, clock } = setup();
  c.set({ kind: 'live' });
  const lastPoll = clock.now();
  assert.equal(c.shouldProbe(lastPoll), false);
  clock.advance(PROBE_MIN_INTERVAL_MS);
  assert.equal(c.shouldProbe(lastPoll), true);
  c.goOffline('down');
  assert.equal(c.shouldProbe(lastPoll), false, 'the probe backoff already runs');
});

test('failures: aborted is ignored, 401/403 signs out, network/5xx/timeout is offline, other answers are errors; no secret in the text', () => {
  const err = (init: ConstructorParameters<typeof CoderApiError>[0]) => new CoderApiError({ secrets: [TOKEN], ...init });
  assert.deepEqual(classifyFailure(err({ kind: 'aborted', message: 'aborted' }), [TOKEN]), { kind: 'ignore' });
  assert.equal(classifyFailure(err({ kind: 'http', status: 401, message: 'nope' }), [TOKEN]).kind, 'signed-out');
  assert.equal(classifyFailure(err({ kind: 'network', message: `ECONNREFUSED ${TOKEN}` }), [TOKEN]).kind, 'offline');
  assert.equal(classifyFailure(err({ kind: 'http', status: 502, message: 'bad gateway' }), [TOKEN]).kind, 'offline');
  assert.equal(classifyFailure(err({ kind: 'timeout', message: 'slow' }), [TOKEN]).kind, 'offline');
  const v = classifyFailure(new Error(`boom ${TOKEN}`), [TOKEN]);
  assert.equal(v.kind, 'error');
  assert.ok(v.kind === 'error' && !v.text.includes(TOKEN));
});

test('stream closes that may mean the deployment is down', () => {
  assert.equal(isUnreachableClose({ kind: 'network', message: 'reset' }), true);
  assert.equal(isUnreachableClose({ kind: 'http', status: 503 }), true);
  assert.equal(isUnreachableClose({ kind: 'http', status: 404 }), false);
  assert.equal(isUnreachableClose({ kind: 'closed', code: 1006 }), false);
});
