import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../doubles/manualClock';
import { Settler } from '../../../src/sync/settler';

test('re-reads every period while needed, at most maxReads times, and stops when no longer needed', () => {
  const clock = new ManualClock();
  const reads: string[] = [];
  const s = new Settler(clock, (id) => reads.push(id), 500, 3);
  s.update('w1', true);
  clock.advance(499);
  assert.deepEqual(reads, []);
  clock.advance(1);
  assert.deepEqual(reads, ['w1']);
  s.update('w1', true); // the read came back, still connecting
  s.update('w1', true);
  s.update('w1', true); // a 4th would exceed maxReads
  clock.advance(10_000);
  assert.deepEqual(reads, ['w1', 'w1']);
  s.update('w2', true);
  s.update('w2', false); // connected: the pending re-read is cancelled
  clock.advance(10_000);
  assert.deepEqual(reads, ['w1', 'w1']);
  s.update('w3', true);
  s.dispose();
  clock.advance(10_000);
  assert.deepEqual(reads, ['w1', 'w1']);
});
