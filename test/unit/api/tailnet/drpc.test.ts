import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrpcReader, decodeErrorPacket, encodeFrame, encodeStreamingCall, encodeUvarint } from '../../../../src/api/tailnet/drpc';
import { encodeWorkspaceUpdatesRequest } from '../../../../src/api/tailnet/messages';
import { OWNER_BYTES, RPC, cat, df, hex, observedCall, toHex } from './wire';

const MESSAGE = 2;

test('the opening of the WorkspaceUpdates call is byte for byte what Coder clients send', () => {
  const bytes = encodeStreamingCall(RPC, encodeWorkspaceUpdatesRequest(OWNER_BYTES));
  assert.equal(toHex(bytes), toHex(observedCall()));
  // Spelled out: Invoke 03 01 01 2a + name, Message 05 01 02 12 0a 10 + uuid, CloseSend 0d 01 03 00.
  assert.equal(toHex(bytes.subarray(0, 4)), '0301012a');
  assert.equal(toHex(bytes.subarray(46, 52)), '050102120a10');
  assert.equal(toHex(bytes.subarray(-4)), '0d010300');
  assert.equal(bytes.length, 4 + 42 + 6 + 16 + 4);
});

test('uvarints and frames encode as drpcwire does', () => {
  assert.deepEqual(encodeUvarint(0), [0]);
  assert.deepEqual(encodeUvarint(127), [0x7f]);
  assert.deepEqual(encodeUvarint(128), [0x80, 0x01]);
  assert.deepEqual(encodeUvarint(300), [0xac, 0x02]);
  assert.equal(toHex(encodeFrame({ kind: MESSAGE, done: false, streamId: 1, messageId: 200, data: hex('ff') })), '0401c80101ff');
});

test("the server's first packet 05 01 01 <len> <data> is one Message packet", () => {
  const r = new DrpcReader();
  const body = new Uint8Array(200).fill(7);
  const p = r.push(cat(hex('05 01 01 c8 01'), body));
  assert.equal(p.length, 1);
  assert.deepEqual({ kind: p[0]!.kind, stream: p[0]!.streamId, message: p[0]!.messageId }, { kind: MESSAGE, stream: 1, message: 1 });
  assert.deepEqual(p[0]!.data, body);
  assert.equal(r.bufferedBytes, 0);
});

test('a packet split over frames with the same ids is assembled; the done frame ends it; any input split works', () => {
  const bytes = cat(
    df(MESSAGE, false, 1, 1, hex('0102')),
    df(MESSAGE, false, 1, 1, hex('')),
    df(MESSAGE, true, 1, 1, hex('03')),
    df(MESSAGE, true, 1, 2, hex('04')),
  );
  const whole = new DrpcReader().push(bytes);
  assert.deepEqual(
    whole.map((p) => [p.messageId, toHex(p.data)]),
    [
      [1, '010203'],
      [2, '04'],
    ],
  );
  const r = new DrpcReader();
  const got = [];
  for (const b of bytes) got.push(...r.push(Uint8Array.of(b)));
  assert.deepEqual(
    got.map((p) => toHex(p.data)),
    ['010203', '04'],
  );
});

test('frames with the control bit are skipped, whatever they carry', () => {
  const r = new DrpcReader();
  const p = r.push(cat(df(3, true, 0, 0, hex('ffff'), true), df(MESSAGE, true, 1, 1, hex('aa')), df(9, false, 7, 7, hex(''), true)));
  assert.deepEqual(
    p.map((x) => toHex(x.data)),
    ['aa'],
  );
});

test('a message id going backwards, or repeating a finished packet, is a protocol error', () => {
  const r = new DrpcReader();
  r.push(df(MESSAGE, true, 1, 5, hex('01')));
  assert.throws(() => r.push(df(MESSAGE, true, 1, 4, hex('02'))), /drpc: id <1,4> after <1,6>/);
  const again = new DrpcReader();
  again.push(df(MESSAGE, true, 1, 1, hex('01')));
  assert.throws(() => again.push(df(MESSAGE, true, 1, 1, hex('01'))), /id <1,1>/);
  assert.throws(() => new DrpcReader().push(df(MESSAGE, true, 0, 9, hex('01'))), /id <0,9> after <1,1>/);
});

test('a kind that changes inside a packet is a protocol error', () => {
  const r = new DrpcReader();
  assert.throws(() => r.push(cat(df(MESSAGE, false, 1, 1, hex('01')), df(3, true, 1, 1, hex('02')))), /kind changed from 2 to 3/);
});

test('a higher message id drops the unfinished packet and starts a new one', () => {
  const r = new DrpcReader();
  const p = r.push(cat(df(MESSAGE, false, 1, 1, hex('01')), df(MESSAGE, true, 1, 3, hex('03'))));
  assert.deepEqual(
    p.map((x) => [x.messageId, toHex(x.data)]),
    [[3, '03']],
  );
});

test('oversize: a frame length over 4 MiB is refused before its data arrives; a packet growing over the cap too', () => {
  const r = new DrpcReader();
  assert.throws(() => r.push(cat(hex('05 01 01'), encodeUvarint(4 * 1024 * 1024 + 1))), /over the 4194304-byte cap/);
  const exactly = new DrpcReader();
  const body = new Uint8Array(4 * 1024 * 1024);
  assert.equal(exactly.push(cat(hex('05 01 01'), encodeUvarint(body.length), body))[0]?.data.length, body.length);
  const small = new DrpcReader(10);
  assert.throws(
    () => small.push(cat(df(MESSAGE, false, 1, 1, new Uint8Array(6)), df(MESSAGE, true, 1, 1, new Uint8Array(6)))),
    /message over the 10-byte cap/,
  );
});

test('a varint longer than 10 bytes is a protocol error; a short one waits for more input', () => {
  const r = new DrpcReader();
  assert.deepEqual(r.push(hex('05 81')), []);
  assert.equal(r.bufferedBytes, 2);
  assert.throws(() => new DrpcReader().push(hex('05 ffffffffffffffffffff01 01 00')), /varint/);
});

test('an Error packet is an 8-byte big-endian code and the text', () => {
  const e = decodeErrorPacket(cat(hex('0000000000000000'), new TextEncoder().encode('protocol error: unknown rpc: "/x"')));
  assert.equal(e.code, 0n);
  assert.equal(e.message, 'protocol error: unknown rpc: "/x"');
  assert.equal(decodeErrorPacket(hex('00000000000001f4 6869')).code, 500n);
  assert.equal(decodeErrorPacket(hex('6869')).message, 'hi');
});
