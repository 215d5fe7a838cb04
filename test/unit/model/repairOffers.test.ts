import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeRoutes,
  noteAnswer,
  parseRouteMemory,
  repairOffers,
  routesFor,
  supportOf,
  type RouteMemory,
} from '../../../src/model/repairOffers';

const fresh = (v = 'v2.24.1'): RouteMemory => routesFor(undefined, v);

test('before any answer: the routes are offered (the first use is the probe), then a restart', () => {
  assert.deepEqual(repairOffers({ routes: fresh(), devContainerRecreate: false, restartHelps: true }), [
    'replay',
    'reinitialize',
    'restart',
  ]);
});

test('once a deployment answered 404/405/501 a route is not offered again; only what works remains', () => {
  let m = fresh();
  m = noteAnswer(m, 'replay', 404);
  m = noteAnswer(m, 'reinitialize', 501);
  assert.equal(supportOf(m, 'replay'), 'unsupported');
  assert.deepEqual(repairOffers({ routes: m, devContainerRecreate: false, restartHelps: true }), ['restart']);
  assert.equal(noteAnswer(noteAnswer(fresh(), 'replay', 405), 'replay', 405).routes.replay, 'unsupported');
});

test('restart is not offered when the doctor knows it will not help; then nothing is, on a deployment without the routes', () => {
  const m = noteAnswer(noteAnswer(fresh(), 'replay', 404), 'reinitialize', 404);
  assert.deepEqual(repairOffers({ routes: m, devContainerRecreate: false, restartHelps: false }), []);
  assert.deepEqual(repairOffers({ routes: fresh(), devContainerRecreate: false, restartHelps: false }), ['replay', 'reinitialize']);
});

test('a dev-container sub-agent is offered the recreate first, and no workspace restart', () => {
  const m = noteAnswer(noteAnswer(fresh(), 'replay', 404), 'reinitialize', 404);
  assert.deepEqual(repairOffers({ routes: m, devContainerRecreate: true, restartHelps: true }), ['recreate']);
  assert.deepEqual(repairOffers({ routes: fresh(), devContainerRecreate: true, restartHelps: false }), [
    'recreate',
    'replay',
    'reinitialize',
  ]);
});

test('answers that say nothing about the route leave the memory as it was; a 404 after a success is about the agent', () => {
  const m = fresh();
  assert.equal(noteAnswer(m, 'replay', 409), m);
  assert.equal(noteAnswer(m, 'replay', 500), m);
  assert.equal(noteAnswer(m, 'replay', 0), m, 'a network failure');
  const ok = noteAnswer(m, 'replay', 202);
  assert.equal(supportOf(ok, 'replay'), 'supported');
  assert.equal(noteAnswer(ok, 'replay', 404), ok);
});

test('the memory survives a reload (JSON) and is dropped when the server version changes', () => {
  const m = noteAnswer(fresh('v2.24.1'), 'replay', 404);
  const stored: unknown = JSON.parse(JSON.stringify(m));
  assert.deepEqual(routesFor(stored, 'v2.24.1'), m);
  assert.deepEqual(routesFor(stored, undefined), m, 'version not known yet: keep what was learned');
  assert.deepEqual(routesFor(stored, 'v2.25.0'), { serverVersion: 'v2.25.0', routes: {} });
  // Learned before the version was known: adopted by the version once it is.
  const early = noteAnswer(routesFor(undefined, undefined), 'reinitialize', 404);
  assert.deepEqual(routesFor(JSON.parse(JSON.stringify(early)), 'v2.24.1'), {
    serverVersion: 'v2.24.1',
    routes: { reinitialize: 'unsupported' },
  });
  for (const bad of [null, 1, 'x', { serverVersion: 1, routes: {} }, { serverVersion: 'v', routes: null }])
    assert.equal(parseRouteMemory(bad), undefined);
  assert.deepEqual(parseRouteMemory({ serverVersion: 'v', routes: { replay: 'maybe', reinitialize: 'supported', other: 'x' } }), {
    serverVersion: 'v',
    routes: { reinitialize: 'supported' },
  });
  assert.equal(describeRoutes(m), 'replay=unsupported reinitialize=unknown (v2.24.1)');
});
