/**
 * Reliability under faults, against the simulator: control-plane restarts during churn, half-open
 * streams, token expiry mid-stream, and 503 storms. Each test prints its figure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim';
import { startBoundCore, startCore } from '../core';

test('control-plane restarts during churn: the model converges to the server after every recovery', async (t) => {
  const cycles = process.env['SOAK'] ? 200 : 50;
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  const ids = sim.createFleet(10, { agentsPerWorkspace: 2 });
  // Each restart is a deployment loss; its reconnect spread (tested on its own) is kept short here.
  const core = startCore(sim, {}, { spreadWindowMs: 500 });
  t.after(() => core.dispose());
  await core.until(() => core.fleet.size === 10, 'the fleet');
  const churn = sim.churn({ eventsPerSecond: 50 });
  t.after(() => churn.stop());
  let worst = 0;
  let divergences = 0;
  let duplicates = 0;
  let worstSettle = 0;
  type ServerRow = { latest_build: { resources: { agents: { id: string; lifecycle_state: string }[] }[] } };
  const diverged = () =>
    ids.flatMap((id) =>
      (sim.getWorkspace(id) as ServerRow).latest_build.resources[0]!.agents.filter(
        (a) => core.fleet.agentById(a.id)?.agent.lifecycle_state !== a.lifecycle_state,
      ),
    );
  for (let i = 0; i < cycles; i++) {
    await sim.restart();
    const restartedAt = Date.now();
    await core.until(() => ids.every((id) => (core.fleet.lastHeard(id) ?? 0) > restartedAt), 'a resync of every workspace', 40_000);
    worst = Math.max(worst, Date.now() - restartedAt);
    churn.stop();
    // A resync, then the model must equal the server agent by agent. Agents the churn set moving
    // go on changing on the server for a moment: the model must follow them there, by push.
    await core.sync.refresh();
    const settledFrom = Date.now();
    await core
      .until(() => diverged().length === 0, 'the model equal to the server', 31_000)
      .catch(() => {
        divergences += diverged().length;
      });
    worstSettle = Math.max(worstSettle, Date.now() - settledFrom);
    // One stream per live workspace on the server, never two (no workspace is bound here).
    duplicates += Math.max(0, sim.stats().openStreams - core.sync.liveWorkspaces.length);
    Object.assign(churn, sim.churn({ eventsPerSecond: 50 }));
  }
  console.log(
    `# restarts: ${cycles} cycles, ${divergences} divergences, ${duplicates} duplicate streams, worst recovery ${worst} ms, model equal to the server at most ${worstSettle} ms after the resync`,
  );
  assert.equal(divergences, 0);
  assert.equal(duplicates, 0);
  assert.ok(worst <= 31_000, `recovery within the backoff cap + 1 s: ${worst} ms`);
});

test('a half-open stream (no frames, no pings) is replaced within twice the heartbeat interval', async (t) => {
  const ping = 500;
  const sim = await startSimulator({ clock: 'real', pingIntervalMs: ping });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const core = startBoundCore(t, sim, id, {}, { pingIntervalMs: ping });
  await core.until(() => !!core.fleet.findAgent(id, 'main', null), 'the workspace');
  // The bound workspace has two streams: connection-watch and its watch-ws companion.
  const upgrades = (kind: string) => sim.stats().requestsByRoute[`WS ${kind}`] ?? 0;
  await core.until(() => sim.stats().openStreams === 2 && upgrades('connection-watch') === 1 && upgrades('watch-ws') === 1, 'both streams');
  const started = Date.now();
  sim.fault('half-open');
  const replaced: Record<string, number> = {};
  await core.until(
    () => {
      for (const kind of ['connection-watch', 'watch-ws']) if (upgrades(kind) > 1) replaced[kind] ??= Date.now() - started;
      return Object.keys(replaced).length === 2;
    },
    'both streams replaced',
    10_000,
  );
  sim.fault('clear');
  const detected = Math.max(...Object.values(replaced));
  sim.setLifecycle(sim.findAgent(id, 'main').id, 'start_error');
  await core.until(
    () => core.fleet.findAgent(id, 'main', null)?.lifecycle_state === 'start_error',
    'the change over the new stream',
    10_000,
  );
  console.log(
    `# half-open: connection-watch replaced after ${replaced['connection-watch']} ms, watch-ws after ${replaced['watch-ws']} ms (ping interval ${ping} ms)`,
  );
  assert.ok(detected <= 2 * ping + 1000, `${detected} ms`);
});

test('token expiry mid-stream: one signed-out state, no request until refresh, then recovery', async (t) => {
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  // Dropping every stream is a deployment loss: its reconnect spread is not under test here.
  const core = startBoundCore(t, sim, id, { pollIntervalMs: 500 }, { spreadWindowMs: 500 });
  await core.until(() => !!core.fleet.findAgent(id, 'main', null), 'the workspace');
  let signedOut = 0;
  core.sync.onChanges((cs) => {
    for (const c of cs) if (c.kind === 'connection-changed' && c.state.kind === 'signed-out') signedOut++;
  });
  sim.fault('expire-token');
  sim.fault('drop-streams');
  await core.until(() => core.fleet.connection.kind === 'signed-out', 'signed out', 10_000);
  const requests = sim.stats().requests;
  await new Promise((r) => setTimeout(r, 2000));
  const after = sim.stats().requests - requests;
  console.log(`# token expiry: ${signedOut} signed-out transition(s), ${after} request(s) in the 2 s after`);
  assert.equal(signedOut, 1);
  assert.equal(after, 0);
  sim.fault('clear');
  await core.sync.refresh();
  await core.until(() => core.fleet.connection.kind === 'live', 'live again', 10_000);
});

test('a 503 storm: requests stay under the backoff bound, and the model recovers', async (t) => {
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const core = startBoundCore(t, sim, id, { pollIntervalMs: 1000 });
  await core.until(() => !!core.fleet.findAgent(id, 'main', null), 'the workspace');
  const before = sim.stats().requests;
  sim.fault('http-5xx', { status: 503, durationMs: 6000 });
  sim.fault('drop-streams');
  await new Promise((r) => setTimeout(r, 6000));
  const perMinute = ((sim.stats().requests - before) / 6) * 60;
  sim.setLifecycle(sim.findAgent(id, 'main').id, 'start_timeout');
  await core.until(() => core.fleet.findAgent(id, 'main', null)?.lifecycle_state === 'start_timeout', 'recovery', 40_000);
  console.log(`# 503 storm: ${perMinute.toFixed(0)} requests/min during the outage`);
  assert.ok(perMinute < 300, `${perMinute} requests/min`);
});

test('garbage on a live stream: each kind logged once, the model untouched, the stream goes on', async (t) => {
  const sim = await startSimulator({ clock: 'real', streams: { connectionWatch: false } });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const core = startBoundCore(t, sim, id);
  // The bound agent's feed tries connection-watch first (404 here), then opens watch-ws.
  await core.until(
    () => core.log.lines.some((l) => l.includes(`watch-ws open for ${id}`)) && !!core.fleet.findAgent(id, 'main', null),
    'the watch-ws stream',
  );
  const agentId = sim.findAgent(id, 'main').id;
  const view = () => {
    const a = core.fleet.findAgent(id, 'main', null);
    return JSON.stringify([a?.id, a?.lifecycle_state, a?.status, a?.started_at, a?.ready_at, core.fleet.workspace(id)?.latest_build.id]);
  };
  const before = view();
  sim.fault('malformed-frames', { count: 300 });
  // 300 publishes (agent heartbeats), every one replaced by garbage on the wire.
  for (let i = 0; i < 300; i++) sim.setAgentConnected(agentId, true);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(view(), before, 'garbage changed nothing');
  sim.setLifecycle(agentId, 'start_error');
  await core.until(() => core.fleet.findAgent(id, 'main', null)?.lifecycle_state === 'start_error', 'a good frame after the garbage');
  const logged = core.log.lines.filter((l) => l.includes('invalid frame skipped')).length;
  console.log(`# stream garbage: 300 bad frames, ${logged} log line(s), the next good frame applied`);
  assert.ok(logged >= 1 && logged <= 2, `${logged} lines`);
});
