/** The stream ladder against the simulator: each rung is chosen when the ones above are off; push without polling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type SimOptions } from '../sim';
import { startBoundCore } from './core';

// connection-watch serves the bound workspace only (the others need connection statuses).
const cases: { streams: SimOptions['streams']; bound: string; other: string }[] = [
  { streams: {}, bound: 'connection-watch', other: 'watch-ws' },
  { streams: { connectionWatch: false }, bound: 'watch-ws', other: 'watch-ws' },
  { streams: { connectionWatch: false, watchWs: false }, bound: 'sse', other: 'sse' },
  { streams: { connectionWatch: false, watchWs: false, sse: false }, bound: 'poll', other: 'poll' },
];

for (const c of cases) {
  test(`with ${JSON.stringify(c.streams)} switched off, the bound workspace is fed by ${c.bound}, the other by ${c.other}`, async (t) => {
    const sim = await startSimulator({ clock: 'real', streams: c.streams });
    t.after(() => sim.close());
    const bound = sim.createWorkspace({ name: 'dev' });
    const other = sim.createWorkspace({ name: 'api' });
    const core = startBoundCore(t, sim, bound, { pollIntervalMs: c.bound === 'poll' ? 500 : 60_000 });
    await core
      .until(() => core.fleet.rung(bound) === c.bound, `${c.bound} for the bound workspace`, 30_000)
      .catch((e: Error) => {
        throw new Error(`${e.message}; rung is ${core.fleet.rung(bound)}`);
      });
    await core.until(() => core.fleet.rung(other) === c.other, `${c.other} for the other workspace`, 30_000);
    // A lifecycle change reaches the model by push (the list poll is a minute away), or by the poll on the last rung.
    const agentId = sim.findAgent(bound, 'main').id;
    const started = Date.now();
    sim.setLifecycle(agentId, 'start_error');
    await core.until(() => core.fleet.findAgent(bound, 'main', null)?.lifecycle_state === 'start_error', 'the change', 30_000);
    console.log(
      `# ${c.bound}: bound=${core.fleet.rung(bound)} other=${core.fleet.rung(other)}, change reached the model in ${Date.now() - started} ms`,
    );
    assert.equal(core.fleet.rung(bound), c.bound);
    assert.equal(core.fleet.rung(other), c.other, 'what the deployment lacks is remembered for its other workspaces');
  });
}

test('a ready bound agent that disconnects and comes back: both reach the model by push, with no REST read', async (t) => {
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  const bound = sim.createWorkspace({ name: 'dev' });
  const core = startBoundCore(t, sim, bound); // the list poll is a minute away
  const agent = () => core.fleet.findAgent(bound, 'main', null);
  await core.until(
    () => core.fleet.rung(bound) === 'connection-watch' && agent()?.status === 'connected' && agent()?.lifecycle_state === 'ready',
    'the bound agent ready',
  );
  const reads = () => sim.stats().requestsByRoute['GET /workspaces/{}'] ?? 0;
  const before = reads();
  for (const connected of [false, true]) {
    const started = Date.now();
    sim.setAgentConnected(sim.findAgent(bound, 'main').id, connected);
    const want = connected ? 'connected' : 'disconnected';
    await core.until(() => agent()?.status === want, want, 5000);
    console.log(`# companion: ${want} reached the model in ${Date.now() - started} ms`);
  }
  assert.equal(reads(), before, 'pushed by the watch-ws companion, not read');
});

test('WebSocket upgrades dropped on the way while REST answers (a proxy): every workspace moves down to SSE', async (t) => {
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  sim.fault('block-websockets');
  const bound = sim.createWorkspace({ name: 'dev' });
  const other = sim.createWorkspace({ name: 'api' });
  const core = startBoundCore(t, sim, bound);
  const started = Date.now();
  await core.until(() => core.fleet.rung(bound) === 'sse' && core.fleet.rung(other) === 'sse', 'SSE for both workspaces', 30_000);
  const upgrades = (sim.stats().requestsByRoute['WS connection-watch'] ?? 0) + (sim.stats().requestsByRoute['WS watch-ws'] ?? 0);
  console.log(`# blocked WebSockets: on SSE after ${Date.now() - started} ms and ${upgrades} dropped upgrades`);
  assert.equal(core.fleet.connection.kind, 'live', 'the deployment stays live: only its WebSockets are blocked');
  sim.setLifecycle(sim.findAgent(bound, 'main').id, 'start_error');
  await core.until(() => core.fleet.findAgent(bound, 'main', null)?.lifecycle_state === 'start_error', 'a change pushed over SSE');
  const later = (sim.stats().requestsByRoute['WS connection-watch'] ?? 0) + (sim.stats().requestsByRoute['WS watch-ws'] ?? 0);
  assert.equal(later, upgrades, 'no WebSocket retried once on SSE');
});

test('WebSockets that worked and then fail are retried, not abandoned (an outage, not a proxy)', async (t) => {
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  const bound = sim.createWorkspace({ name: 'dev' });
  const core = startBoundCore(t, sim, bound);
  await core.until(
    () => core.fleet.rung(bound) === 'connection-watch' && sim.stats().openStreams === 2,
    'connection-watch and its companion',
  );
  const upgrades = () => sim.stats().requestsByRoute['WS connection-watch'] ?? 0;
  const before = upgrades();
  sim.fault('block-websockets');
  await core.until(() => upgrades() >= before + 4, 'four retries', 30_000);
  assert.equal(core.fleet.rung(bound), 'connection-watch');
  sim.fault('clear');
  await core.until(() => sim.stats().openStreams === 2, 'both streams back', 30_000);
});
