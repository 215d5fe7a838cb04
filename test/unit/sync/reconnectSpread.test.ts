import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CloseReason, Connect, TransportHandlers } from '../../../src/api/socket';
import { ManualClock } from '../../doubles/manualClock';
import { ReconnectSpread, SPREAD_WINDOW_MS, TOGETHER_MS } from '../../../src/sync/reconnectSpread';

const RESET: CloseReason = { kind: 'network', message: 'ECONNRESET' };
const REFUSED: CloseReason = { kind: 'network', message: 'ECONNREFUSED' };

/** A stream's connect through the spread; records when each attempt reached the transport. */
function stream(spread: ReconnectSpread, clock: ManualClock) {
  const attempts: number[] = [];
  let h: TransportHandlers<unknown> | undefined;
  const raw: Connect<unknown> = (handlers) => {
    attempts.push(clock.now());
    h = handlers;
    return { close: () => undefined };
  };
  const connect = spread.wrap(raw);
  const noop: TransportHandlers<unknown> = { onOpen: () => {}, onFrame: () => {}, onAlive: () => {}, onClose: () => {} };
  return {
    attempts,
    connect: () => connect(noop),
    open: () => h!.onOpen(),
    close: (r: CloseReason = RESET) => h!.onClose(r),
  };
}

function setup(random = 0.5) {
  const clock = new ManualClock();
  const losses: { why: string; delayMs: number }[] = [];
  const spread = new ReconnectSpread({ clock, random: () => random, onLoss: (why, delayMs) => losses.push({ why, delayMs }) });
  return { clock, spread, losses };
}

test('every stream dropping together is a loss: the first reconnect waits the drawn delay, and all streams go together', () => {
  const { clock, spread, losses } = setup(0.4);
  const a = stream(spread, clock);
  const b = stream(spread, clock);
  a.connect();
  b.connect();
  a.open();
  b.open();
  const t0 = clock.now();
  a.close();
  a.connect(); // its backoff elapsed before the other stream dropped: it waits for the verdict
  assert.equal(a.attempts.length, 1);
  b.close();
  assert.equal(losses.length, 1);
  assert.equal(losses[0]!.delayMs, Math.floor(0.4 * SPREAD_WINDOW_MS));
  b.connect();
  assert.equal(spread.holding, true);
  clock.advance(losses[0]!.delayMs - 1);
  assert.deepEqual([a.attempts.length, b.attempts.length], [1, 1]);
  clock.advance(1);
  assert.deepEqual([a.attempts.slice(1), b.attempts.slice(1)], [[t0 + losses[0]!.delayMs], [t0 + losses[0]!.delayMs]]);
});

test('a single dropped stream while the others stay open comes back after at most TOGETHER_MS, with no loss', () => {
  const { clock, spread, losses } = setup();
  const a = stream(spread, clock);
  const b = stream(spread, clock);
  a.connect();
  b.connect();
  a.open();
  b.open();
  const t0 = clock.now();
  a.close();
  a.connect();
  clock.advance(TOGETHER_MS);
  assert.deepEqual(a.attempts.slice(1), [t0 + TOGETHER_MS]);
  assert.equal(losses.length, 0);
  // Open again, then dropped again past the first verdict: the same rule, no loss either.
  a.open();
  a.close();
  clock.advance(TOGETHER_MS);
  a.connect();
  assert.equal(a.attempts.length, 3);
  assert.equal(losses.length, 0);
});

test('a lone stream that drops goes back at once; its first reconnect refused is a loss, decided once', () => {
  const { clock, spread, losses } = setup(0.9);
  const a = stream(spread, clock);
  a.connect();
  a.open();
  a.close();
  a.connect();
  assert.equal(a.attempts.length, 2, 'nothing else could drop with it: at once');
  a.close(REFUSED);
  assert.deepEqual(
    losses.map((l) => l.why),
    ['the first reconnect was refused or reset'],
  );
  a.connect();
  assert.equal(a.attempts.length, 2);
  clock.advance(losses[0]!.delayMs);
  assert.equal(a.attempts.length, 3);
  // Still down after the wait: the normal backoff goes on, no second draw for the same loss.
  a.close(REFUSED);
  a.connect();
  assert.equal(a.attempts.length, 4);
  assert.equal(losses.length, 1);
  // Back, then lost again: a new loss, a new draw.
  a.open();
  a.close();
  a.connect();
  a.close(REFUSED);
  assert.equal(losses.length, 2);
});

test('streams closed normally by a live server are no loss; a refused first reconnect still is', () => {
  const { clock, spread, losses } = setup();
  const a = stream(spread, clock);
  const b = stream(spread, clock);
  a.connect();
  b.connect();
  a.open();
  b.open();
  a.close({ kind: 'closed', code: 1005 });
  b.close({ kind: 'closed', code: 1000 });
  a.connect();
  b.connect();
  assert.deepEqual([a.attempts.length, b.attempts.length], [2, 2]);
  assert.equal(losses.length, 0);
  a.close({ kind: 'http', status: 503 });
  assert.equal(losses.length, 1);
  // Going away (a graceful shutdown) is a drop.
  const c = setup();
  const x = stream(c.spread, c.clock);
  const y = stream(c.spread, c.clock);
  x.connect();
  y.connect();
  x.open();
  y.open();
  x.close({ kind: 'closed', code: 1001 });
  y.close({ kind: 'closed', code: 1001 });
  assert.equal(c.losses.length, 1);
});

test('a refusal that is not on the way (an HTTP 4xx) is no loss', () => {
  const { clock, spread, losses } = setup();
  const a = stream(spread, clock);
  a.connect();
  a.open();
  a.close();
  a.connect();
  a.close({ kind: 'http', status: 409 });
  assert.equal(losses.length, 0);
  a.connect();
  assert.equal(a.attempts.length, 3);
});

test('list reads wait with the streams; a refresh by the user ends the wait', async () => {
  const { clock, spread, losses } = setup(0.5);
  const a = stream(spread, clock);
  const b = stream(spread, clock);
  a.connect();
  b.connect();
  a.open();
  b.open();
  a.close();
  b.close();
  assert.equal(losses.length, 1);
  let read = false;
  const pending = spread.ready().then(() => (read = true));
  a.connect();
  await Promise.resolve();
  assert.equal(read, false);
  spread.endWait();
  await pending;
  assert.equal(read, true);
  assert.equal(a.attempts.length, 2);
  assert.equal(spread.holding, false);
});

test('closing a stream from this side is no drop; dispose lets every waiter go', async () => {
  const { clock, spread, losses } = setup();
  const a = stream(spread, clock);
  const b = stream(spread, clock);
  const ha = a.connect();
  b.connect();
  a.open();
  b.open();
  ha.close(); // e.g. the heartbeat or a rung change
  b.close();
  assert.equal(losses.length, 0, 'one drop of one open stream');
  const c = stream(spread, clock);
  c.connect();
  c.open();
  const d = stream(spread, clock);
  d.connect();
  d.open();
  c.close();
  d.close();
  assert.equal(losses.length, 1);
  const waiting = spread.ready();
  spread.dispose();
  await waiting;
  assert.equal(clock.pendingTimers(), 0);
});

test('500 clients drawing over the window: no second has more than a tenth of them start (seeded)', () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const perSecond = new Map<number, number>();
  for (let i = 0; i < 500; i++) {
    const clock = new ManualClock();
    const start = clock.now();
    const spread = new ReconnectSpread({ clock, random });
    const a = stream(spread, clock);
    const b = stream(spread, clock);
    a.connect();
    b.connect();
    a.open();
    b.open();
    a.close();
    b.close();
    a.connect();
    b.connect();
    clock.advance(SPREAD_WINDOW_MS);
    const s = Math.floor((a.attempts[1]! - start) / 1000);
    assert.equal(a.attempts[1], b.attempts[1], "a client's streams go together");
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
  }
  assert.ok(Math.max(...perSecond.values()) <= 50, JSON.stringify([...perSecond]));
  assert.ok(Math.max(...perSecond.keys()) < SPREAD_WINDOW_MS / 1000);
});

test('a hold timer that fires a millisecond early (real timers do) still lets the waiters go', () => {
  const manual = new ManualClock();
  // Timers one millisecond ahead of the wall clock.
  const clock = { now: () => manual.now(), setTimeout: (fn: () => void, ms: number) => manual.setTimeout(fn, Math.max(0, ms - 1)) };
  const spread = new ReconnectSpread({ clock, random: () => 0.5 });
  const attempts: number[] = [];
  const handlers: TransportHandlers<unknown>[] = [];
  const connect = () =>
    spread.wrap<unknown>((h) => {
      attempts.push(manual.now());
      handlers.push(h);
      return { close: () => undefined };
    });
  const [a, b] = [connect(), connect()];
  const noop: TransportHandlers<unknown> = { onOpen: () => {}, onFrame: () => {}, onAlive: () => {}, onClose: () => {} };
  a(noop);
  b(noop);
  handlers.forEach((h) => h.onOpen());
  handlers.forEach((h) => h.onClose(RESET));
  a(noop);
  manual.advance(SPREAD_WINDOW_MS);
  assert.equal(attempts.length, 3);
  assert.equal(spread.holding, false);
});
