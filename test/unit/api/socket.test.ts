import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../doubles/manualClock';
import {
  ReconnectingStream,
  backoffDelay,
  classifyClose,
  describeClose,
  reduce,
  type CloseReason,
  type StreamState,
  type TransportHandlers,
} from '../../../src/api/socket';

/** A transport the test drives by hand: each connect() is recorded with its handlers. */
function fakeTransport() {
  const attempts: { h: TransportHandlers<string>; closed: boolean }[] = [];
  const connect = (h: TransportHandlers<string>) => {
    const a = { h, closed: false };
    attempts.push(a);
    return {
      close: () => {
        a.closed = true;
      },
    };
  };
  const last = () => attempts[attempts.length - 1]!;
  return { attempts, connect, last };
}

function setup(random = () => 1) {
  const clock = new ManualClock();
  const t = fakeTransport();
  const frames: string[] = [];
  const opens: boolean[] = [];
  const states: StreamState[] = [];
  const s = new ReconnectingStream<string>({
    connect: t.connect,
    clock,
    random,
    onFrame: (f) => frames.push(f),
    onOpen: ({ reconnect }) => opens.push(reconnect),
    onState: (st) => states.push(st),
    pingIntervalMs: 15_000,
    stableMs: 10_000,
  });
  return { clock, t, frames, opens, states, s };
}

const policy = { baseMs: 250, capMs: 30_000, random: () => 1 };

test('backoff doubles from 250 ms up to the 30 s cap, with full jitter', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 20].map((a) => backoffDelay(a, policy)),
    [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
  assert.equal(backoffDelay(3, { ...policy, random: () => 0.5 }), 1000);
  assert.equal(backoffDelay(3, { ...policy, random: () => 0 }), 0);
});

test('close policy: auth ends as signed-out, 404 as unsupported, other failures retry', () => {
  const verdict = (r: CloseReason) => {
    const v = classifyClose(r);
    return v.retry ? 'retry' : v.reason;
  };
  assert.equal(verdict({ kind: 'http', status: 401 }), 'signed-out');
  assert.equal(verdict({ kind: 'http', status: 403 }), 'signed-out');
  assert.equal(verdict({ kind: 'http', status: 404 }), 'unsupported');
  assert.equal(verdict({ kind: 'http', status: 501 }), 'unsupported');
  assert.equal(verdict({ kind: 'http', status: 400 }), 'fatal');
  assert.equal(verdict({ kind: 'http', status: 503 }), 'retry');
  assert.equal(verdict({ kind: 'http', status: 429 }), 'retry');
  assert.equal(verdict({ kind: 'network', message: 'ECONNREFUSED' }), 'retry');
  assert.equal(verdict({ kind: 'closed', code: 1006 }), 'retry');
  assert.equal(verdict({ kind: 'closed', code: 4401 }), 'signed-out');
  assert.equal(verdict({ kind: 'watch-error', error: { code: 4, retryable: true, message: 'shutdown', details: null } }), 'retry');
  assert.equal(verdict({ kind: 'watch-error', error: { code: 2, retryable: false, message: 'no such agent', details: null } }), 'fatal');
  assert.equal(verdict({ kind: 'unsupported', message: 'text/html' }), 'unsupported');
  // A route-specific refusal (the tailnet push's 403/409/400/404) is "not offered here", never signed out.
  assert.equal(verdict({ kind: 'unavailable', status: 403 }), 'unsupported');
  assert.equal(verdict({ kind: 'protocol', message: 'yamux: unknown version 7' }), 'retry');
  assert.equal(verdict({ kind: 'heartbeat', message: 'ping not answered' }), 'retry');
});

test('describeClose keeps what the server said: message, detail, validations', () => {
  assert.equal(
    describeClose({
      kind: 'unavailable',
      status: 400,
      message: 'Unknown or unsupported API version',
      validations: [{ field: 'version', detail: 'behind 2.3' }],
    }),
    'HTTP 400 Unknown or unsupported API version version: behind 2.3',
  );
  assert.equal(describeClose({ kind: 'http', status: 401, message: 'signed out', detail: 'expired' }), 'HTTP 401 signed out (expired)');
  assert.equal(describeClose({ kind: 'protocol', message: 'drpc: varint too large' }), 'protocol error: drpc: varint too large');
  assert.equal(describeClose({ kind: 'heartbeat' }), 'no frame or ping in time');
});

test('reducer: a permanent state ignores everything', () => {
  const done: StreamState = { kind: 'closed-permanently', reason: 'signed-out', detail: 'HTTP 401' };
  for (const type of ['start', 'opened', 'backoff-elapsed', 'reconnect-now'] as const) {
    assert.deepEqual(reduce(done, { type }, policy), { state: done, effects: [] });
  }
});

test('failed connects back off exponentially and each retry connects again', () => {
  const { clock, t, s } = setup();
  s.start();
  const delays: number[] = [];
  for (let i = 0; i < 9; i++) {
    t.last().h.onClose({ kind: 'network', message: 'ECONNREFUSED' });
    assert.equal(s.state.kind, 'backoff');
    const st = s.state;
    delays.push(st.delayMs);
    clock.advance(st.delayMs - 1);
    assert.equal(t.attempts.length, i + 1, 'no reconnect before the delay');
    clock.advance(1);
    assert.equal(t.attempts.length, i + 2);
  }
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  s.dispose();
  assert.equal(clock.pendingTimers(), 0);
});

test('the backoff resets only after the connection stayed open for the stable period', () => {
  const { clock, t, s, opens } = setup();
  s.start();
  for (let i = 0; i < 4; i++) {
    t.last().h.onClose({ kind: 'network', message: 'down' });
    clock.advance(30_000);
  }
  // Opens and drops at once: the attempt count keeps growing (no storm).
  t.last().h.onOpen();
  t.last().h.onClose({ kind: 'closed', code: 1006 });
  assert.equal((s.state as { delayMs: number }).delayMs, 4000);
  clock.advance(4000);
  t.last().h.onOpen();
  clock.advance(10_000);
  t.last().h.onFrame('keep');
  t.last().h.onClose({ kind: 'closed', code: 1001 });
  assert.equal((s.state as { delayMs: number }).delayMs, 250);
  assert.deepEqual(opens, [false, true]);
  s.dispose();
});

test('heartbeat: silence for twice the ping interval closes and reconnects; frames and pings keep it alive', () => {
  const { clock, t, s, frames, opens } = setup();
  s.start();
  t.last().h.onOpen();
  clock.advance(29_000);
  t.last().h.onAlive();
  clock.advance(29_000);
  t.last().h.onFrame('a');
  clock.advance(29_999);
  assert.equal(t.attempts.length, 1);
  assert.equal(s.state.kind, 'open');
  clock.advance(1);
  assert.equal(t.attempts[0]!.closed, true, 'half-open connection closed');
  assert.equal(s.state.kind, 'backoff');
  clock.advance(30_000);
  assert.equal(t.attempts.length, 2);
  t.last().h.onOpen();
  assert.deepEqual(frames, ['a']);
  assert.deepEqual(opens, [false, true], 'the second open is a reconnect: owner resyncs');
  s.dispose();
});

test('401 on upgrade ends the stream for good; no timers, no reconnects', () => {
  const { clock, t, s, states } = setup();
  s.start();
  t.last().h.onClose({ kind: 'http', status: 401 });
  assert.deepEqual(s.state, { kind: 'closed-permanently', reason: 'signed-out', detail: 'HTTP 401', cause: { kind: 'http', status: 401 } });
  clock.advance(10 * 60_000);
  assert.equal(t.attempts.length, 1);
  assert.equal(clock.pendingTimers(), 0);
  assert.equal(states.at(-1)?.kind, 'closed-permanently');
});

test('a non-retryable WatchError ends the stream; a retryable one backs off', () => {
  const a = setup();
  a.s.start();
  a.t.last().h.onOpen();
  a.t.last().h.onClose({ kind: 'watch-error', error: { code: 4, retryable: true, message: 'server shutdown', details: null } });
  assert.equal(a.s.state.kind, 'backoff');
  a.s.dispose();
  const b = setup();
  b.s.start();
  b.t.last().h.onClose({ kind: 'watch-error', error: { code: 3, retryable: false, message: 'no agents', details: null } });
  assert.equal(b.s.state.kind, 'closed-permanently');
  assert.equal((b.s.state as { reason: string }).reason, 'fatal');
});

test('callbacks of a replaced transport are ignored', () => {
  const { clock, t, s, frames } = setup();
  s.start();
  const first = t.last();
  first.h.onOpen();
  clock.advance(30_000); // heartbeat expiry replaces it
  clock.advance(30_000);
  assert.equal(t.attempts.length, 2);
  first.h.onFrame('stale');
  first.h.onClose({ kind: 'http', status: 401 });
  assert.deepEqual(frames, []);
  assert.notEqual(s.state.kind, 'closed-permanently');
  s.dispose();
});

test('reconnectNow skips the wait; dispose closes the transport and cancels every timer', () => {
  const { clock, t, s } = setup();
  s.start();
  t.last().h.onClose({ kind: 'network', message: 'down' });
  s.reconnectNow();
  assert.equal(t.attempts.length, 2);
  t.last().h.onOpen();
  s.dispose();
  assert.equal(t.last().closed, true);
  assert.equal(clock.pendingTimers(), 0);
  assert.equal((s.state as { reason: string }).reason, 'disposed');
});

test('a transport that throws while connecting counts as a network failure', () => {
  const clock = new ManualClock();
  let calls = 0;
  const s = new ReconnectingStream<string>({
    connect: () => {
      calls++;
      throw new Error('bad url');
    },
    clock,
    random: () => 1,
    onFrame: () => {},
  });
  s.start();
  assert.equal(s.state.kind, 'backoff');
  clock.advance(250);
  assert.equal(calls, 2);
  s.dispose();
});
