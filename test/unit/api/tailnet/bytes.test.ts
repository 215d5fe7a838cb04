import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteQueue } from '../../../../src/api/tailnet/bytes';
import { hex, toHex } from './wire';

test('frames are taken across chunk boundaries, peeked without consuming, skipped', () => {
  const q = new ByteQueue();
  q.push(hex('0102'));
  q.push(hex(''));
  q.push(hex('030405'));
  assert.equal(q.length, 5);
  assert.equal(q.at(0), 1);
  assert.equal(q.at(3), 4);
  assert.equal(q.at(5), undefined);
  assert.equal(toHex(q.peek(3)), '010203');
  assert.equal(q.length, 5);
  assert.equal(toHex(q.take(3)), '010203');
  q.skip(1);
  assert.equal(toHex(q.take(1)), '05');
  assert.equal(q.length, 0);
  assert.throws(() => q.take(1), RangeError);
});

test('a taken frame is a copy: it does not pin or alias the chunk it came from', () => {
  const q = new ByteQueue();
  const chunk = hex('aabbccdd');
  q.push(chunk);
  const f = q.take(2);
  chunk[0] = 0;
  assert.equal(toHex(f), 'aabb');
  assert.equal(f.buffer.byteLength, 2);
});

test('100,000 one-byte chunks are read in linear time', () => {
  const q = new ByteQueue();
  for (let i = 0; i < 100_000; i++) q.push(Uint8Array.of(i & 0xff));
  let sum = 0;
  while (q.length >= 7) sum += q.take(7).length;
  assert.equal(sum + q.length, 100_000);
});
