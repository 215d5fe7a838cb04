import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Coalescer } from '../../../src/sync/coalescer';

test('requests during a run make exactly one more run; keys are independent', async () => {
  const runs: string[] = [];
  const gates: (() => void)[] = [];
  const c = new Coalescer(
    (key) =>
      new Promise<void>((resolve) => {
        runs.push(key);
        gates.push(resolve);
      }),
    () => assert.fail('no error expected'),
  );
  void c.request('a');
  void c.request('a');
  void c.request('a');
  void c.request('b');
  assert.deepEqual(runs, ['a', 'b']);
  gates.shift()!();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(runs, ['a', 'b', 'a'], 'one more run for the three requests made meanwhile');
  gates.shift()!();
  gates.shift()!();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(runs, ['a', 'b', 'a']);
  void c.request('a');
  assert.deepEqual(runs, ['a', 'b', 'a', 'a'], 'a finished key runs again at once');
});

test('a failing run reports its error and frees the key', async () => {
  const errors: string[] = [];
  let fail = true;
  let calls = 0;
  const c = new Coalescer(
    async () => {
      calls++;
      if (fail) throw new Error('boom');
    },
    (k, e) => errors.push(`${k}: ${(e as Error).message}`),
  );
  void c.request('x');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(errors, ['x: boom']);
  fail = false;
  void c.request('x');
  await new Promise((r) => setImmediate(r));
  assert.equal(calls, 2);
});
