import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../doubles/manualClock';
import { WorkspaceUpdatesCall } from '../../../../src/api/tailnet/call';
import type { FleetDelta } from '../../../../src/api/tailnet/messages';
import type { CloseReason } from '../../../../src/api/socket';
import { F, OWNER_BYTES, T, cat, df, hex, observedCall, pbUpdate, toHex, uuid, uvarint, yData, yh } from './wire';

function setup() {
  const clock = new ManualClock();
  const out: string[] = [];
  const updates: FleetDelta[] = [];
  const ends: CloseReason[] = [];
  const call = new WorkspaceUpdatesCall({
    clock,
    ownerId: OWNER_BYTES,
    write: (b) => out.push(toHex(b)),
    onUpdate: (d) => updates.push(d),
    onEnd: (r) => ends.push(r),
  });
  return { clock, out, updates, ends, call };
}

/** The server's answer to the SYN, then a packet as hashicorp writes it: the header and the body as two messages. */
function serverPacket(messageId: number, data: Uint8Array): Uint8Array[] {
  const packet = cat([0x05, 0x01, ...uvarint(messageId), ...uvarint(data.length)], data);
  return [yh(T.data, 0, 1, packet.length), packet];
}

const W = uuid(1);
const A = uuid(2);
const SNAPSHOT = pbUpdate({
  up: [{ id: W.bytes, name: 'dev', status: 3 }],
  upAgents: [{ id: A.bytes, name: 'main', workspaceId: W.bytes }],
});

test('the call opens stream 1 and sends the observed dRPC bytes in one data frame', () => {
  const { out } = setup();
  const call = observedCall();
  assert.deepEqual(out, ['000100010000000100000000', toHex(cat(yh(T.data, 0, 1, call.length), call))]);
});

test('replaying a server session: ACK, then packets split as header and body, decode to deltas', () => {
  const { call, updates, ends } = setup();
  call.receive(yh(T.window, F.ack, 1, 0));
  for (const m of serverPacket(1, SNAPSHOT)) call.receive(m);
  for (const m of serverPacket(2, pbUpdate({ del: [{ id: W.bytes, name: 'dev', status: 9 }] }))) call.receive(m);
  for (const m of serverPacket(3, new Uint8Array(0))) call.receive(m);
  assert.deepEqual(updates[0], {
    upsertedWorkspaces: [{ id: W.text, name: 'dev', status: 'running' }],
    upsertedAgents: [{ id: A.text, name: 'main', workspaceId: W.text }],
    deletedWorkspaces: [],
    deletedAgents: [],
  });
  assert.deepEqual(updates[1]?.deletedWorkspaces, [{ id: W.text, name: 'dev', status: 'deleting' }]);
  assert.equal(updates.length, 3);
  assert.deepEqual(ends, []);
  assert.equal(call.bufferedBytes, 0);
});

const ending: [string, Uint8Array, RegExp, CloseReason['kind']][] = [
  [
    'an Error packet',
    yData(1, df(3, true, 1, 1, cat(hex('0000000000000000'), new TextEncoder().encode('protocol error: unknown rpc')))),
    /server error 0: protocol error: unknown rpc/,
    'closed',
  ],
  ['a Close packet', yData(1, df(5, true, 1, 1, hex(''))), /server closed the call/, 'closed'],
  ['an unknown kind', yData(1, df(4, true, 1, 1, hex(''))), /unknown packet kind 4/, 'protocol'],
  ['an Invoke from the server', yData(1, df(1, true, 1, 1, hex('00'))), /invoke/, 'protocol'],
  [
    'a protobuf that does not decode',
    yData(1, df(2, true, 1, 1, hex('0a 05 01'))),
    /protobuf: WorkspaceUpdate does not decode/,
    'protocol',
  ],
  ['a packet for another dRPC stream', yData(1, df(2, true, 3, 1, hex(''))), /dRPC stream 3/, 'protocol'],
  ['a frame that does not parse (11-byte varint)', yData(1, hex('05 ffffffffffffffffffff01 01 00')), /varint/, 'protocol'],
  ['a message over 4 MiB', yData(1, cat(hex('05 01 01'), uvarint(4 * 1024 * 1024 + 1))), /cap/, 'protocol'],
  ['FIN on the call stream', yh(T.window, F.fin, 1, 0), /server ended the call/, 'closed'],
  ['RST on the call stream', yh(T.window, F.rst, 1, 0), /server reset the call/, 'closed'],
  ['a broken yamux header', hex('07 00 0000 00000001 00000000'), /yamux: unknown version 7/, 'protocol'],
];

for (const [what, bytes, message, kind] of ending) {
  test(`${what} ends the call once, with a reason, without throwing`, () => {
    const { call, ends, updates } = setup();
    call.receive(yh(T.window, F.ack, 1, 0));
    assert.doesNotThrow(() => call.receive(bytes));
    assert.equal(ends.length, 1);
    assert.equal(ends[0]?.kind, kind);
    const text = ends[0]?.kind === 'closed' ? (ends[0].reason ?? '') : ends[0]?.kind === 'protocol' ? ends[0].message : '';
    assert.match(text, message);
    assert.equal(call.isEnded, true);
    call.receive(cat(...serverPacket(1, SNAPSHOT)));
    assert.equal(updates.length, 0, 'nothing after the end');
  });
}

test('an unanswered ping ends the call as a heartbeat failure', () => {
  const { clock, ends } = setup();
  clock.advance(25_000);
  assert.equal(ends[0]?.kind, 'heartbeat');
  assert.equal(clock.pendingTimers(), 0);
});

test('close() half-closes the stream and sends go away; onEnd is not called for our own close', () => {
  const { call, out, ends, clock } = setup();
  out.length = 0;
  call.close();
  assert.deepEqual(out, ['000100040000000100000000', '000300000000000000000000']);
  assert.deepEqual(ends, []);
  assert.equal(clock.pendingTimers(), 0);
});
