/**
 * 10,000 server sessions, valid ones mutated (flipped bytes, truncations, huge lengths, wrong
 * ids, garbage, odd splits), fed through yamux + dRPC + protobuf. Each must end without an
 * exception escaping, with bounded buffers, and with no timer left behind (no hang: a session
 * that stops making sense either ends at once or is ended by the keep-alive).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../doubles/manualClock';
import { WorkspaceUpdatesCall } from '../../../../src/api/tailnet/call';
import { F, OWNER_BYTES, T, cat, df, pbUpdate, prng, uuid, uvarint, yData, yh, type PbAgent, type PbWorkspace } from './wire';

const SESSIONS = 10_000;
/** Worst case by construction: a yamux frame (256 KiB + header), a dRPC frame and a packet (4 MiB each). */
const BOUND = 256 * 1024 + 12 + 2 * (4 * 1024 * 1024 + 31);

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);

function randomUpdate(r: Rand): Uint8Array {
  const ws = (): PbWorkspace[] =>
    Array.from({ length: int(r, 4) }, () => ({ id: uuid(int(r, 1000)).bytes, name: `w${int(r, 100)}`, status: int(r, 13) }));
  const as = (): PbAgent[] =>
    Array.from({ length: int(r, 4) }, () => ({
      id: uuid(int(r, 1000)).bytes,
      name: `a${int(r, 100)}`,
      workspaceId: uuid(int(r, 1000)).bytes,
    }));
  return pbUpdate({ up: ws(), upAgents: as(), del: ws(), delAgents: as() });
}

/** A valid server side: ACK, pings, Message packets split over dRPC frames and yamux frames, control frames. */
function validSession(r: Rand): { bytes: Uint8Array; packets: number } {
  const drpc: Uint8Array[] = [];
  const packets = 1 + int(r, 5);
  for (let m = 1; m <= packets; m++) {
    const data = randomUpdate(r);
    const cut = int(r, data.length + 1);
    if (r() < 0.3) drpc.push(df(9, false, 0, 0, Uint8Array.of(1, 2, 3), true));
    if (r() < 0.5) drpc.push(df(2, false, 1, m, data.subarray(0, cut)), df(2, true, 1, m, data.subarray(cut)));
    else drpc.push(df(2, true, 1, m, data));
  }
  const stream = cat(...drpc);
  const frames: Uint8Array[] = [yh(T.window, F.ack, 1, 0)];
  for (let at = 0; at < stream.length;) {
    const n = 1 + int(r, 300);
    frames.push(yData(1, stream.subarray(at, at + n)));
    if (r() < 0.2) frames.push(yh(T.ping, F.syn, 0, int(r, 1000)));
    if (r() < 0.05) frames.push(yh(T.window, F.syn, 2 * (1 + int(r, 5)), 0));
    at += n;
  }
  return { bytes: cat(...frames), packets };
}

function mutate(r: Rand, input: Uint8Array): Uint8Array {
  const b = input.slice();
  switch (int(r, 7)) {
    case 0: // flipped bytes
      for (let i = 0, n = 1 + int(r, 6); i < n; i++) {
        const at = int(r, b.length);
        b[at] = (b[at] ?? 0) ^ (1 << int(r, 8));
      }
      return b;
    case 1: // truncation
      return b.subarray(0, int(r, b.length));
    case 2: {
      // a huge (or just wrong) 32-bit length or id somewhere
      const at = int(r, Math.max(1, b.length - 4));
      new DataView(b.buffer).setUint32(at, r() < 0.5 ? 0xffffffff : int(r, 2 ** 32));
      return b;
    }
    case 3: // a huge dRPC length varint spliced in
      return cat(
        b.subarray(0, 12),
        yh(T.data, 0, 1, 8),
        [0x05, 0x01, 0x01, ...uvarint(2 ** 40 + int(r, 1000))].slice(0, 8),
        b.subarray(12),
      );
    case 4: {
      // wrong ids: a yamux frame for another stream, or a dRPC message id going back
      const wrong =
        r() < 0.5 ? yData(int(r, 10), df(2, true, 1, 1, Uint8Array.of(0))) : yData(1, df(2, true, int(r, 3), int(r, 3), Uint8Array.of(0)));
      const at = int(r, b.length);
      return cat(b.subarray(0, at), wrong, b.subarray(at));
    }
    case 5: {
      // garbage
      const g = Uint8Array.from({ length: 1 + int(r, 64) }, () => int(r, 256));
      const at = int(r, b.length);
      return cat(b.subarray(0, at), g, b.subarray(at));
    }
    default:
      return b; // valid
  }
}

interface Outcome {
  crashed: unknown;
  reason: string;
  maxBuffered: number;
  updates: number;
  ended: boolean;
  timersLeft: number;
}

function feed(bytes: Uint8Array, r: Rand): Outcome {
  const clock = new ManualClock();
  let updates = 0;
  let ended = false;
  let reason = '';
  let crashed: unknown;
  let maxBuffered = 0;
  const call = new WorkspaceUpdatesCall({
    clock,
    ownerId: OWNER_BYTES,
    write: () => undefined,
    onUpdate: () => updates++,
    onEnd: (r) => {
      ended = true;
      // The layer and rule, without the numbers: "protocol yamux: unknown version", "heartbeat", ...
      const text = r.kind === 'protocol' ? r.message : r.kind === 'closed' ? (r.reason ?? '') : '';
      reason = `${r.kind} ${text.replace(/[\d<>,]+.*$/, '').trim()}`.trim();
    },
  });
  try {
    for (let at = 0; at < bytes.length && !ended;) {
      const n = 1 + int(r, r() < 0.5 ? 8 : 600);
      call.receive(bytes.subarray(at, at + n));
      maxBuffered = Math.max(maxBuffered, call.bufferedBytes);
      at += n;
    }
    // No more input: the keep-alive must end what the bytes did not.
    clock.advance(60_000);
  } catch (e) {
    crashed = e;
  }
  return { crashed, reason, maxBuffered, updates, ended: ended || call.isEnded, timersLeft: clock.pendingTimers() };
}

test(`${SESSIONS} mutated sessions: 0 crashes, 0 hangs, bounded buffers`, (t) => {
  const reasons = new Map<string, number>();
  let crashes = 0;
  let hangs = 0;
  let maxBuffered = 0;
  let ended = 0;
  let validChecked = 0;
  for (let seed = 1; seed <= SESSIONS; seed++) {
    const r = prng(seed);
    const session = validSession(r);
    const valid = r() < 0.1;
    const bytes = valid ? session.bytes : mutate(r, session.bytes);
    const o = feed(bytes, r);
    if (o.crashed !== undefined) {
      crashes++;
      if (crashes <= 3) console.error(`seed ${seed}:`, o.crashed);
    }
    if (!o.ended || o.timersLeft > 0) hangs++;
    if (o.ended) ended++;
    reasons.set(o.reason, (reasons.get(o.reason) ?? 0) + 1);
    maxBuffered = Math.max(maxBuffered, o.maxBuffered);
    if (valid) {
      assert.equal(o.updates, session.packets, `seed ${seed}: a valid session delivers every packet`);
      validChecked++;
    }
  }
  t.diagnostic(`fuzz: ${SESSIONS} sessions, ${crashes} crashes, ${hangs} hangs, max buffered ${maxBuffered} bytes (bound ${BOUND})`);
  t.diagnostic(
    `fuzz: how they ended: ${[...reasons]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k || '?'} ${n}`)
      .join('; ')}`,
  );
  assert.equal(crashes, 0, 'no exception escapes');
  assert.equal(hangs, 0, 'every session ends, no timer left');
  assert.ok(maxBuffered <= BOUND, `buffered ${maxBuffered} bytes`);
  assert.equal(ended, SESSIONS);
  assert.ok(validChecked > 500);
});

test('huge declared lengths never make the buffers grow past the bound, however much follows', () => {
  const r = prng(7);
  const cases = [
    cat(yh(T.window, F.ack, 1, 0), yh(T.data, 0, 1, 0xffffffff)),
    cat(yh(T.window, F.ack, 1, 0), yh(T.data, 0, 1, 200_000), [0x05, 0x01, 0x01, ...uvarint(4 * 1024 * 1024)]),
    cat(yh(T.window, F.ack, 1, 0), yData(1, Uint8Array.from([0x05, 0x01, 0x01, ...uvarint(2 ** 52)]))),
  ];
  for (const head of cases) {
    const clock = new ManualClock();
    let ended = false;
    const call = new WorkspaceUpdatesCall({
      clock,
      ownerId: OWNER_BYTES,
      write: () => undefined,
      onUpdate: () => undefined,
      onEnd: () => (ended = true),
    });
    call.receive(head);
    let max = call.bufferedBytes;
    // Up to 8 MiB of filler in 64 KiB pieces, as yamux frames when the session still stands.
    const filler = new Uint8Array(64 * 1024).map(() => int(r, 256));
    for (let i = 0; i < 128 && !ended; i++) {
      call.receive(filler);
      max = Math.max(max, call.bufferedBytes);
    }
    clock.advance(60_000);
    assert.equal(ended || call.isEnded, true);
    assert.ok(max <= BOUND, `buffered ${max}`);
  }
});
