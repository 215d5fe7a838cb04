import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim';
import { openWs } from './helpers';

const fast = { agentTimings: { connectMs: 10, startingMs: 10, readyMs: 10 }, buildTimings: { pendingMs: 10, runningMs: 10 } };

test('watch-ws: ping envelope first, then the whole workspace on every event; a client frame closes with 1002', async (t) => {
  const sim = await startSimulator({ clock: 'manual', pingIntervalMs: 1000, ...fast });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const s = openWs(sim, `/workspaces/${id}/watch-ws`);
  assert.deepEqual(await s.next(), { type: 'ping', data: null });
  const first = await s.next();
  assert.equal(first.type, 'data');
  assert.equal(first.data.id, id);
  assert.equal(first.data.latest_build.resources[0].agents[0].lifecycle_state, 'ready');
  sim.setLifecycle(first.data.latest_build.resources[0].agents[0].id, 'start_error');
  const next = await s.next();
  assert.equal(next.data.latest_build.resources[0].agents[0].lifecycle_state, 'start_error');
  await sim.clock.advance(1000);
  await s.waitPing(1);
  s.ws.send('hello');
  assert.equal((await s.closed).code, 1002);
});

test('agent-connection-watch: build_update on connect and changes, agent_update only while a start succeeded, new id after rebuild', async (t) => {
  const sim = await startSimulator({ clock: 'manual', ...fast });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const oldId = sim.findAgent(id, 'main').id;
  const s = openWs(sim, `/workspaces/${id}/agent-connection-watch?agent_name=main`);
  assert.deepEqual(await s.next(), { error: null, build_update: { transition: 'start', job_status: 'succeeded' } });
  assert.deepEqual(await s.next(), { error: null, agent_update: { lifecycle: 'ready', id: oldId } });
  sim.scenario('rebuild', id);
  await sim.clock.advance(10);
  assert.deepEqual((await s.next()).build_update, { transition: 'stop', job_status: 'pending' });
  await sim.clock.advance(100);
  const frames: any[] = [];
  while (frames[frames.length - 1]?.agent_update?.lifecycle !== 'ready') frames.push(await s.next());
  const builds = frames.filter((f) => f.build_update).map((f) => `${f.build_update.transition}:${f.build_update.job_status}`);
  assert.deepEqual(builds, ['stop:running', 'stop:succeeded', 'start:pending', 'start:running', 'start:succeeded']);
  const agents = frames.filter((f) => f.agent_update).map((f) => f.agent_update);
  assert.ok(agents.length >= 2);
  assert.ok(
    agents.every((a: any) => a.id !== oldId),
    'no agent_update while the latest build is not a succeeded start',
  );
  assert.deepEqual(
    agents.map((a: any) => a.lifecycle),
    ['created', 'starting', 'ready'],
  );
});

test('agent-connection-watch errors: 1 too many agents, 2 not found, 3 no agents, 4 on shutdown; each then closes normally', async (t) => {
  const sim = await startSimulator({ clock: 'manual', ...fast });
  t.after(() => sim.close());
  const two = sim.createWorkspace({ name: 'two', agents: [{ name: 'a' }, { name: 'b' }] });
  const one = sim.createWorkspace({ name: 'one' });
  const s1 = openWs(sim, `/workspaces/${two}/agent-connection-watch`);
  assert.equal((await s1.next()).error.code, 1);
  assert.equal((await s1.closed).code, 1000);
  const s2 = openWs(sim, `/workspaces/${one}/agent-connection-watch?agent_name=nope`);
  const e2 = (await s2.next()).error;
  assert.equal(e2.code, 2);
  assert.equal(e2.retryable, false);
  const none = sim.createWorkspace({ name: 'none', agents: [] });
  const s3 = openWs(sim, `/workspaces/${none}/agent-connection-watch`);
  assert.equal((await s3.next()).error.code, 3);
  const s4 = openWs(sim, `/workspaces/${one}/agent-connection-watch?agent_name=main`);
  await s4.next();
  await s4.next();
  sim.fault('server-shutdown');
  const e4 = (await s4.next()).error;
  assert.equal(e4.code, 4);
  assert.equal(e4.retryable, true);
  assert.equal((await s4.closed).code, 1000);
});

test('SSE watch: text/event-stream, data events with compact JSON, ping events', async (t) => {
  const sim = await startSimulator({ clock: 'manual', pingIntervalMs: 500 });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const ctrl = new AbortController();
  t.after(() => ctrl.abort());
  const res = await fetch(`${sim.url}/api/v2/workspaces/${id}/watch`, {
    headers: { 'Coder-Session-Token': sim.token },
    signal: ctrl.signal,
  });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body!.getReader();
  let text = '';
  const until = async (pred: () => boolean) => {
    while (!pred()) text += new TextDecoder().decode((await reader.read()).value);
  };
  await until(() => text.includes('event: data\ndata: {'));
  assert.match(text, /^event: ping\n\n/);
  await until(() => /event: data\ndata: (\{.*\})\n\n/.test(text));
  const json = JSON.parse(/event: data\ndata: (\{.*\})\n\n/.exec(text)![1]!);
  assert.equal(json.id, id);
  text = '';
  await sim.clock.advance(500);
  await until(() => text.includes('event: ping\n\n'));
});

test('switched-off streams and a bad token refuse the upgrade with Coder-style status codes', async (t) => {
  const sim = await startSimulator({ clock: 'manual', streams: { connectionWatch: false, watchWs: false, sse: false } });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  assert.equal(await openWs(sim, `/workspaces/${id}/agent-connection-watch`).refused, 404);
  assert.equal(await openWs(sim, `/workspaces/${id}/watch-ws`).refused, 404);
  assert.equal((await fetch(`${sim.url}/api/v2/workspaces/${id}/watch`, { headers: { 'Coder-Session-Token': sim.token } })).status, 404);
  sim.setStreams({ watchWs: true });
  assert.equal(await openWs(sim, `/workspaces/${id}/watch-ws`, {}).refused, 401);
});

test('faults on streams: malformed frames, half-open (no frames, no pings), drop-streams', async (t) => {
  const sim = await startSimulator({ clock: 'manual', pingIntervalMs: 100 });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const agentId = sim.findAgent(id, 'main').id;
  const s = openWs(sim, `/workspaces/${id}/watch-ws`);
  await s.next();
  await s.next();
  sim.fault('malformed-frames', { count: 1 });
  sim.setLifecycle(agentId, 'starting');
  await assert.rejects(s.next(), SyntaxError, 'a garbage frame');
  sim.setLifecycle(agentId, 'ready');
  assert.equal((await s.next()).data.id, id, 'the stream goes on after garbage');
  sim.fault('half-open');
  const before = s.frames.length;
  const pings = s.pings;
  sim.setLifecycle(agentId, 'starting');
  await sim.clock.advance(1000);
  assert.equal(s.frames.length, before);
  assert.equal(s.pings, pings);
  assert.equal(s.ws.readyState, s.ws.OPEN, 'TCP stays up');
  sim.fault('drop-streams');
  await s.closed;
  assert.equal(sim.stats().openStreams, 0);
});

test('agent logs: backlog frame, then new lines as arrays; after= skips', async (t) => {
  const sim = await startSimulator({ clock: 'manual', ...fast });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const agentId = sim.findAgent(id, 'main').id;
  const s = openWs(sim, `/workspaceagents/${agentId}/logs?follow&after=0`);
  const backlog = await s.next();
  assert.ok(Array.isArray(backlog) && backlog.length >= 1);
  assert.deepEqual(Object.keys(backlog[0]).sort(), ['created_at', 'id', 'level', 'output', 'source_id']);
  sim.world.reinit(agentId);
  await sim.clock.advance(50);
  const more = await s.next();
  assert.ok(Array.isArray(more) && more.length >= 1);
  assert.ok(more[0].id > backlog[backlog.length - 1].id);
});

test('scenarios: start-error, start-timeout, build-failed, delete, flapping gives a new id each interval', async (t) => {
  const sim = await startSimulator({ clock: 'manual', ...fast });
  t.after(() => sim.close());
  const a = sim.createWorkspace({ name: 'a' });
  sim.scenario('start-error', a);
  await sim.clock.advance(200);
  assert.equal(sim.findAgent(a, 'main').lifecycle_state, 'start_error');
  assert.equal(sim.findAgent(a, 'main').health.reason, 'startup script exited with code 1');
  sim.scenario('start-timeout', a);
  await sim.clock.advance(200);
  assert.equal(sim.findAgent(a, 'main').lifecycle_state, 'start_timeout');
  sim.scenario('build-failed', a);
  await sim.clock.advance(50);
  assert.equal((sim.getWorkspace(a) as any).latest_build.status, 'failed');
  const f = sim.createWorkspace({ name: 'f' });
  const ids = new Set<string>();
  sim.scenario('flapping', f, { intervalMs: 1000 });
  for (let i = 0; i < 3; i++) {
    await sim.clock.advance(1000);
    ids.add(sim.findAgent(f, 'main').id);
  }
  sim.scenario('stop-flapping', f);
  assert.equal(ids.size, 3);
  sim.scenario('delete', f);
  await sim.clock.advance(50);
  assert.equal((sim.getWorkspace(f) as any).latest_build.status, 'deleted');
});

test('scale: 2,000 workspaces x 2 agents with churn at 1,000 events/s stays responsive', async (t) => {
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  const ids = sim.createFleet(2000, { agentsPerWorkspace: 2 });
  const watchers = ids.slice(0, 20).map((id) => openWs(sim, `/workspaces/${id}/watch-ws`));
  await Promise.all(watchers.map((w) => w.opened));
  let events = 0;
  sim.onEvent(() => events++);
  const churn = sim.churn({ eventsPerSecond: 1000 });
  const started = Date.now();
  const latencies: number[] = [];
  while (Date.now() - started < 2000) {
    const t0 = performance.now();
    const res = await fetch(`${sim.url}/api/v2/workspaces/${ids[1500]}`, { headers: { 'Coder-Session-Token': sim.token } });
    await res.json();
    latencies.push(performance.now() - t0);
  }
  churn.stop();
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
  console.log(
    `# sim scale: ${(events / elapsed).toFixed(0)} events/s over 2,000 x 2, GET /workspaces/{id} p99 ${p99.toFixed(1)} ms over ${latencies.length} requests`,
  );
  for (const w of watchers) w.ws.close();
  assert.ok(events / elapsed > 500, `churn delivered ${events} events in ${elapsed}s`);
  assert.ok(p99 < 1000, 'hang bound');
});
