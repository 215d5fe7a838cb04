import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationSupport } from '../../../src/model/operations';
import { repairOffers } from '../../../src/model/repairOffers';

const URL = 'https://coder.example.com';

/** A deployment's memory after the given answers on the repair routes. */
function memory(...answers: ['replay' | 'reinitialize', number][]): OperationSupport {
  const ops = new OperationSupport();
  ops.setServerVersion(URL, 'v2.24.1');
  for (const [op, status] of answers) ops.recordAnswer(URL, op, status);
  return ops;
}

const offers = (ops: OperationSupport, devContainerRecreate: boolean, restartHelps: boolean) =>
  repairOffers({ support: (op) => ops.get(URL, op), devContainerRecreate, restartHelps });

test('before any answer: the routes are offered (the first use is the probe), then a restart', () => {
  assert.deepEqual(offers(memory(), false, true), ['replay', 'reinitialize', 'restart']);
});

test('once a deployment answered 404/405/501 a route is not offered again; only what works remains', () => {
  const ops = memory(['replay', 404], ['reinitialize', 501]);
  assert.equal(ops.get(URL, 'replay'), 'unsupported');
  assert.deepEqual(offers(ops, false, true), ['restart']);
  assert.equal(memory(['replay', 405]).get(URL, 'replay'), 'unsupported');
});

test('restart is not offered when the doctor knows it will not help; then nothing is, on a deployment without the routes', () => {
  assert.deepEqual(offers(memory(['replay', 404], ['reinitialize', 404]), false, false), []);
  assert.deepEqual(offers(memory(), false, false), ['replay', 'reinitialize']);
});

test('a dev-container sub-agent is offered the recreate first, and no workspace restart', () => {
  assert.deepEqual(offers(memory(['replay', 404], ['reinitialize', 404]), true, true), ['recreate']);
  assert.deepEqual(offers(memory(), true, false), ['recreate', 'replay', 'reinitialize']);
});

test('a route that worked is offered', () => {
  assert.deepEqual(offers(memory(['replay', 202]), false, true), ['replay', 'reinitialize', 'restart']);
});
