import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../doubles/manualClock';
import { YamuxSession, type YamuxStream } from '../../../../src/api/tailnet/yamux';
import type { TailnetProtocolError } from '../../../../src/api/tailnet/protocolError';
import { F, T, cat, hex, toHex, yData, yh } from './wire';

const WINDOW = 256 * 1024;

function setup(opts: { keepAliveMs?: number; pingTimeoutMs?: number; idleTimeoutMs?: number } = { keepAliveMs: 0 }) {
  const clock = new ManualClock();
  const out: string[] = [];
  const closes: (TailnetProtocolError | undefined)[] = [];
  const session = new YamuxSession({ clock, write: (b) => out.push(toHex(b)), onClose: (e) => closes.push(e), ...opts });
  const got: { data: Uint8Array[]; ends: string[] } = { data: [], ends: [] };
  const open = (): YamuxStream => session.openStream({ onData: (b) => got.data.push(b), onEnd: (how) => got.ends.push(how) });
  return { clock, out, closes, session, got, open };
}

const received = (got: { data: Uint8Array[] }) => got.data.reduce((n, d) => n + d.length, 0);

test('opening a stream sends SYN on a zero-delta window update; streams are odd from 1; data frames are 12-byte headers + payload', () => {
  const { out, open } = setup();
  const s1 = open();
  const s3 = open();
  assert.equal(s1.id, 1);
  assert.equal(s3.id, 3);
  assert.deepEqual(out, ['000100010000000100000000', '000100010000000300000000']);
  out.length = 0;
  s1.write(hex('cafe'));
  assert.deepEqual(out, ['00000000000000010000000' + '2cafe']);
  s1.closeWrite();
  assert.equal(out[1], '000100040000000100000000'); // FIN on a window update
});

test('headers and bodies split across any number of input pieces are reassembled', () => {
  const { session, got, open } = setup();
  open();
  const bytes = cat(yh(T.window, F.ack, 1, 0), yData(1, hex('0102030405')), yData(1, hex('06')));
  for (const b of bytes) session.receive(Uint8Array.of(b));
  assert.deepEqual(got.data.map(toHex), ['0102030405', '06']);
  // And several frames in one piece.
  session.receive(cat(yData(1, hex('aa')), yData(1, hex('bbcc'))));
  assert.deepEqual(got.data.slice(2).map(toHex), ['aa', 'bbcc']);
});

test('pings with SYN are answered with ACK and the same opaque value, on stream 0', () => {
  const { out, session } = setup();
  session.receive(yh(T.ping, F.syn, 0, 0));
  session.receive(yh(T.ping, F.syn, 0, 0xdeadbeef));
  assert.deepEqual(out, ['000200020000000000000000', '0002000200000000deadbeef']);
});

test('a window update is sent once half of the receive window has been consumed (hashicorp behaviour)', () => {
  const { out, session, got, open } = setup();
  open();
  out.length = 0;
  session.receive(yData(1, new Uint8Array(WINDOW / 2 - 1)));
  assert.deepEqual(out, [], 'no update before half the window');
  session.receive(yData(1, new Uint8Array(1)));
  assert.deepEqual(out, [toHex(yh(T.window, 0, 1, WINDOW / 2))]);
  // The full window is available again: 256 KiB in one frame is accepted.
  out.length = 0;
  session.receive(yData(1, new Uint8Array(WINDOW)));
  assert.deepEqual(out, [toHex(yh(T.window, 0, 1, WINDOW))]);
  assert.equal(received(got), WINDOW / 2 + WINDOW);
});

test('data beyond the receive window is a protocol error: go away 1, session closed', () => {
  const { out, closes, session, open, got } = setup();
  open();
  session.receive(yData(1, new Uint8Array(WINDOW / 2 - 1)));
  out.length = 0;
  // WINDOW/2 + 1 bytes remain; one more is beyond.
  session.receive(yData(1, new Uint8Array(WINDOW / 2 + 2)));
  assert.deepEqual(out, ['000300000000000000000001']);
  assert.equal(closes.length, 1);
  assert.equal(closes[0]?.layer, 'yamux');
  assert.match(closes[0]?.message ?? '', /receive window/);
  assert.equal(received(got), WINDOW / 2 - 1);
  assert.equal(session.isClosed, true);
});

test('a data header longer than any window is refused before its body arrives (bounded buffer)', () => {
  const { closes, session, open } = setup();
  open();
  session.receive(yh(T.data, 0, 1, 0xffffffff));
  assert.equal(closes.length, 1);
  assert.match(closes[0]?.message ?? '', /exceeds the receive window/);
  assert.equal(session.bufferedBytes, 0);
});

test('never sends beyond the peer window; the rest leaves on its window update', () => {
  const { out, session, open } = setup();
  const s = open();
  out.length = 0;
  s.write(new Uint8Array(WINDOW + 1000));
  const sentBytes = () => out.filter((h) => h.startsWith('0000')).reduce((n, h) => n + h.length / 2 - 12, 0);
  assert.equal(sentBytes(), WINDOW);
  assert.equal(session.bufferedBytes, 1000);
  s.closeWrite();
  assert.equal(out.filter((h) => h === '000100040000000100000000').length, 0, 'FIN waits for the queued bytes');
  session.receive(yh(T.window, 0, 1, 600));
  assert.equal(sentBytes(), WINDOW + 600);
  session.receive(yh(T.window, 0, 1, 10_000));
  assert.equal(sentBytes(), WINDOW + 1000);
  assert.equal(out.at(-1), '000100040000000100000000');
  assert.equal(session.bufferedBytes, 0);
});

test('streams the server tries to open are reset, with or without a body', () => {
  const { out, session, closes } = setup();
  session.receive(yh(T.window, F.syn, 2, 0));
  session.receive(yData(4, hex('0102'), F.syn));
  assert.deepEqual(out, ['000100080000000200000000', '000100080000000400000000']);
  assert.equal(closes.length, 0);
});

test('a second SYN for an open stream is a protocol error', () => {
  const { session, closes, open } = setup();
  open();
  session.receive(yh(T.window, F.syn, 1, 0));
  assert.match(closes[0]?.message ?? '', /duplicate SYN/);
});

test('go away (normal): no new streams, the open one keeps working; with an error code the session ends', () => {
  const { session, got, open, closes } = setup();
  open();
  session.receive(yh(T.goAway, 0, 0, 0));
  assert.equal(session.goneAway, true);
  assert.throws(() => open(), /go away/);
  session.receive(yData(1, hex('77')));
  assert.deepEqual(got.data.map(toHex), ['77']);
  assert.equal(closes.length, 0);
  session.receive(yh(T.goAway, 0, 0, 2));
  assert.match(closes[0]?.message ?? '', /internal error/);
});

test('FIN and RST from the server end the stream; frames for a finished stream are dropped', () => {
  const a = setup();
  a.open();
  a.session.receive(yData(1, hex('01'), F.fin));
  assert.deepEqual(a.got.data.map(toHex), ['01']);
  assert.deepEqual(a.got.ends, ['fin']);
  const b = setup();
  b.open();
  b.session.receive(yh(T.window, F.rst, 1, 0));
  b.session.receive(yData(1, hex('02')));
  assert.deepEqual(b.got.ends, ['rst']);
  assert.deepEqual(b.got.data, []);
  assert.equal(b.closes.length, 0);
});

test('unknown version or frame type is a protocol error', () => {
  const a = setup();
  a.session.receive(hex('01 00 0000 00000001 00000000'));
  assert.match(a.closes[0]?.message ?? '', /version 1/);
  assert.equal(a.out.at(-1), '000300000000000000000001');
  const b = setup();
  b.session.receive(hex('00 04 0000 00000001 00000000'));
  assert.match(b.closes[0]?.message ?? '', /frame type 4/);
});

test('an exception in the stream handler ends the session instead of escaping', () => {
  const clock = new ManualClock();
  const closes: (TailnetProtocolError | undefined)[] = [];
  const session = new YamuxSession({ clock, write: () => undefined, onClose: (e) => closes.push(e), keepAliveMs: 0 });
  session.openStream({
    onData: () => {
      throw new Error('boom');
    },
    onEnd: () => undefined,
  });
  assert.doesNotThrow(() => session.receive(yData(1, hex('00'))));
  assert.match(closes[0]?.message ?? '', /boom/);
});

test('keep-alive: own ping every 15 s; an answered ping keeps the session; an unanswered one ends it after 10 s', () => {
  const { clock, out, session, closes } = setup({});
  clock.advance(15_000);
  assert.deepEqual(out, ['000200010000000000000000']);
  clock.advance(5_000);
  session.receive(yh(T.ping, F.ack, 0, 0));
  clock.advance(10_000); // 30 s: second ping, opaque 1
  assert.equal(out.at(-1), '000200010000000000000001');
  assert.equal(closes.length, 0);
  clock.advance(9_999);
  assert.equal(closes.length, 0);
  clock.advance(1);
  assert.equal(closes.length, 1);
  assert.equal(closes[0]?.layer, 'keepalive');
  assert.match(closes[0]?.message ?? '', /not answered within 10000 ms/);
  assert.equal(clock.pendingTimers(), 0, 'no timer left behind');
});

test('keep-alive: 45 s with nothing received means half-open; any input or a WebSocket ping postpones it', () => {
  const { clock, session, closes } = setup({ keepAliveMs: 600_000 });
  clock.advance(40_000);
  session.receive(yh(T.ping, F.syn, 0, 1));
  clock.advance(40_000);
  session.noteAlive();
  clock.advance(44_999);
  assert.equal(closes.length, 0);
  clock.advance(1);
  assert.equal(closes[0]?.layer, 'keepalive');
  assert.match(closes[0]?.message ?? '', /nothing received for 45 s/);
});

test('close() sends a normal go away, stops the timers and reports no error', () => {
  const { clock, out, session, closes } = setup({});
  session.close();
  assert.deepEqual(out, ['000300000000000000000000']);
  assert.deepEqual(closes, [undefined]);
  assert.equal(clock.pendingTimers(), 0);
  session.receive(yh(T.ping, F.syn, 0, 1));
  assert.equal(out.length, 1, 'a closed session is silent');
});
