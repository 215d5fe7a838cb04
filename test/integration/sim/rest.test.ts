import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim';
import { get, post } from './helpers';

const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';

test('buildinfo needs no auth; users/me needs the token in any of its four places', async (t) => {
  const sim = await startSimulator({ clock: 'manual' });
  t.after(() => sim.close());
  const info = await fetch(`${sim.url}/api/v2/buildinfo`).then((r) => r.json());
  assert.match(info.version, /^v2\./);
  assert.equal(typeof info.deployment_id, 'string');
  for (const headers of <Record<string, string>[]>[
    { 'Coder-Session-Token': sim.token },
    { Authorization: `Bearer ${sim.token}` },
    { Cookie: `coder_session_token=${sim.token}` },
  ]) {
    const me = await get(sim, '/users/me', headers);
    assert.equal(me.status, 200);
    assert.equal(me.body.username, 'alice');
  }
  assert.equal((await fetch(`${sim.url}/api/v2/users/me?coder_session_token=${sim.token}`)).status, 200);
  const missing = await get(sim, '/users/me', {});
  assert.equal(missing.status, 401);
  assert.equal(missing.body.message, SIGNED_OUT);
  assert.match(missing.body.detail, /must be provided/);
  const invalid = await get(sim, '/users/me', { 'Coder-Session-Token': 'abcdefghij-abcdefghijabcdefghijab' });
  assert.match(invalid.body.detail, /invalid/);
  sim.fault('expire-token');
  const expired = await get(sim, '/users/me');
  assert.equal(expired.status, 401);
  assert.match(expired.body.detail, /expired/);
});

test('workspaces: codersdk shape, filter keys, unknown key is a 400 with validations, paging', async (t) => {
  const sim = await startSimulator({ clock: 'manual' });
  t.after(() => sim.close());
  const a = sim.createWorkspace({ name: 'alpha', template: 'docker' });
  sim.createWorkspace({ name: 'beta', template: 'k8s', state: 'stopped' });
  sim.addUser('bob');
  sim.createWorkspace({ owner: 'bob', name: 'gamma' });
  const all = await get(sim, '/workspaces?q=owner:me');
  assert.equal(all.status, 200);
  assert.equal(all.body.count, 2);
  const ws = all.body.workspaces.find((w: any) => w.id === a);
  for (const k of [
    'id',
    'name',
    'owner_id',
    'owner_name',
    'organization_id',
    'template_id',
    'template_name',
    'template_display_name',
    'template_icon',
    'latest_build',
    'outdated',
    'health',
    'last_used_at',
    'automatic_updates',
    'favorite',
  ]) {
    assert.ok(k in ws, `workspace.${k}`);
  }
  const b = ws.latest_build;
  for (const k of [
    'id',
    'workspace_id',
    'build_number',
    'transition',
    'status',
    'reason',
    'initiator_name',
    'created_at',
    'job',
    'resources',
    'template_version_id',
    'template_version_name',
  ])
    assert.ok(k in b, `build.${k}`);
  const agent = b.resources[0].agents[0];
  for (const k of [
    'id',
    'parent_id',
    'name',
    'resource_id',
    'status',
    'lifecycle_state',
    'created_at',
    'connection_timeout_seconds',
    'troubleshooting_url',
    'version',
    'api_version',
    'operating_system',
    'architecture',
    'health',
    'scripts',
    'logs_length',
    'logs_overflowed',
    'display_apps',
  ])
    assert.ok(k in agent, `agent.${k}`);
  assert.equal(agent.status, 'connected');
  assert.equal(agent.lifecycle_state, 'ready');
  assert.equal(b.status, 'running');
  assert.deepEqual(
    (await get(sim, '/workspaces?q=status:stopped')).body.workspaces.map((w: any) => w.name),
    ['beta'],
  );
  assert.deepEqual(
    (await get(sim, '/workspaces?q=template:k8s')).body.workspaces.map((w: any) => w.name),
    ['beta'],
  );
  assert.deepEqual(
    (await get(sim, '/workspaces?q=owner:bob name:gam')).body.workspaces.map((w: any) => w.name),
    ['gamma'],
  );
  const paged = await get(sim, '/workspaces?limit=1&offset=1');
  assert.equal(paged.body.workspaces.length, 1);
  assert.equal(paged.body.count, 3);
  const bad = await get(sim, '/workspaces?q=colour:blue');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.validations[0].field, 'colour');
  assert.equal((await get(sim, `/workspaces/${a}`)).body.name, 'alpha');
  assert.equal((await get(sim, '/users/me/workspace/alpha')).body.id, a);
  assert.equal((await get(sim, '/users/bob/workspace/gamma')).status, 200);
  const nf = await get(sim, '/workspaces/00000000-0000-4000-8000-000000000000');
  assert.equal(nf.status, 404);
  assert.equal(nf.body.message, 'Resource not found or you do not have access to this resource');
});

test('builds: pending -> running -> succeeded, 409 while active, new agent ids per start, old rows readable', async (t) => {
  const sim = await startSimulator({
    clock: 'manual',
    buildTimings: { pendingMs: 100, runningMs: 200 },
    agentTimings: { connectMs: 100, startingMs: 100, readyMs: 300 },
  });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const oldAgent = sim.findAgent(id, 'main');
  const stop = await post(sim, `/workspaces/${id}/builds`, { transition: 'stop' });
  assert.equal(stop.status, 201);
  assert.equal(stop.body.build_number, 2);
  assert.equal(stop.body.job.status, 'pending');
  assert.equal((await post(sim, `/workspaces/${id}/builds`, { transition: 'start' })).status, 409);
  assert.equal((await post(sim, `/workspaces/${id}/builds`, { transition: 'start' })).body.message, 'A workspace build is already active.');
  await sim.clock.advance(100);
  assert.equal((await get(sim, `/workspaces/${id}`)).body.latest_build.status, 'stopping');
  assert.equal((await get(sim, `/workspaceagents/${oldAgent.id}`)).body.lifecycle_state, 'shutting_down');
  await sim.clock.advance(200);
  const stopped = (await get(sim, `/workspaces/${id}`)).body;
  assert.equal(stopped.latest_build.status, 'stopped');
  assert.equal(stopped.latest_build.job.completed_at !== undefined, true);
  const old = (await get(sim, `/workspaceagents/${oldAgent.id}`)).body;
  assert.equal(old.lifecycle_state, 'off');
  assert.equal(old.status, 'disconnected');
  await post(sim, `/workspaces/${id}/builds`, { transition: 'start' });
  await sim.clock.advance(300);
  const fresh = sim.findAgent(id, 'main');
  assert.notEqual(fresh.id, oldAgent.id);
  assert.equal(fresh.lifecycle_state, 'created');
  assert.equal(fresh.status, 'connecting');
  await sim.clock.advance(100);
  assert.equal(sim.findAgent(id, 'main').status, 'connected');
  await sim.clock.advance(100);
  const starting = sim.findAgent(id, 'main');
  assert.equal(starting.lifecycle_state, 'starting');
  assert.ok(starting.started_at);
  assert.equal(starting.ready_at, undefined);
  await sim.clock.advance(300);
  const ready = sim.findAgent(id, 'main');
  assert.equal(ready.lifecycle_state, 'ready');
  assert.ok(ready.ready_at);
  assert.equal((await get(sim, `/workspaces/${id}`)).body.latest_build.build_number, 3);
});

test('agent status follows coderd: connecting, timeout, disconnected after 30 s of silence', async (t) => {
  const sim = await startSimulator({ clock: 'manual' });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev', agents: [{ name: 'main', connectionTimeoutSeconds: 60 }] });
  sim.scenario('never-connects', id);
  await sim.clock.advance(6000);
  assert.equal(sim.findAgent(id, 'main').status, 'connecting');
  await sim.clock.advance(60_000);
  assert.equal(sim.findAgent(id, 'main').status, 'timeout');
  const w = sim.world.findWorkspace('dev')!;
  const row = w.builds[w.builds.length - 1]!.agents[0]!;
  row.firstConnectedAt = sim.clock.now();
  row.lastConnectedAt = sim.clock.now();
  assert.equal(sim.findAgent(id, 'main').status, 'connected');
  await sim.clock.advance(31_000);
  assert.equal(sim.findAgent(id, 'main').status, 'disconnected', 'no heartbeat for more than 30 s');
});

test('replay and reinit: 202 then starting -> ready; switched off they are 404', async (t) => {
  const sim = await startSimulator({
    clock: 'manual',
    agentTimings: { connectMs: 10, startingMs: 10, readyMs: 10 },
    buildTimings: { pendingMs: 10, runningMs: 10 },
  });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  sim.scenario('surviving-agent', id);
  await sim.clock.advance(60_000);
  const stuck = sim.findAgent(id, 'main');
  assert.equal(stuck.status, 'connected');
  assert.equal(stuck.lifecycle_state, 'created', 'the surviving agent never reports its lifecycle');
  const r = await post(sim, `/workspaceagents/${stuck.id}/lifecycle/replay`, {});
  assert.equal(r.status, 202);
  assert.equal(sim.findAgent(id, 'main').lifecycle_state, 'starting');
  await sim.clock.advance(10);
  assert.equal(sim.findAgent(id, 'main').lifecycle_state, 'ready');
  assert.equal((await post(sim, `/workspaceagents/${stuck.id}/reinit`, {})).status, 202);
  sim.setOperations({ replay: false, reinit: false });
  assert.equal((await post(sim, `/workspaceagents/${stuck.id}/lifecycle/replay`, {})).status, 404);
  assert.equal((await post(sim, `/workspaceagents/${stuck.id}/reinit`, {})).status, 404);
});

test('faults: 5xx for a period, extra fields with unknown enums, restart on the same port keeps state', async (t) => {
  const sim = await startSimulator({ clock: 'manual' });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  sim.fault('http-5xx', { status: 503, durationMs: 1000 });
  assert.equal((await get(sim, `/workspaces/${id}`)).status, 503);
  await sim.clock.advance(1000);
  assert.equal((await get(sim, `/workspaces/${id}`)).status, 200);
  sim.fault('extra-fields');
  const ws = (await get(sim, `/workspaces/${id}`)).body;
  assert.equal(ws.automatic_updates, 'sometimes');
  assert.ok('x_future_field' in ws.latest_build.resources[0].agents[0]);
  const url = sim.url;
  await sim.restart();
  assert.equal(sim.url, url);
  // The first request may land on a pooled connection the restart closed: one retry.
  const again = await get(sim, `/workspaces/${id}`).catch(() => get(sim, `/workspaces/${id}`));
  assert.equal(again.body.name, 'dev');
  const stats = sim.stats();
  assert.ok(stats.requests >= 4);
  assert.ok(stats.requestsByRoute['GET /workspaces/{}']! >= 4);
});

test('admin surface needs its token and drives scenarios', async (t) => {
  const sim = await startSimulator({ clock: 'manual' });
  t.after(() => sim.close());
  sim.createWorkspace({ name: 'dev' });
  const denied = await fetch(`${sim.url}/__sim/state`);
  assert.equal(denied.status, 401);
  const headers = { 'X-Sim-Admin-Token': sim.adminToken };
  const state = await fetch(`${sim.url}/__sim/state`, { headers }).then((r) => r.json());
  assert.equal(state.workspaces[0].name, 'dev');
  const res = await fetch(`${sim.url}/__sim/lifecycle`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ workspace: 'dev', agent: 'main', state: 'start_error' }),
  });
  assert.equal(res.status, 200);
  assert.equal(sim.findAgent(state.workspaces[0].id, 'main').lifecycle_state, 'start_error');
  const sc = await fetch(`${sim.url}/__sim/scenario`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: 'stop', workspace: 'dev' }),
  });
  assert.equal(sc.status, 200);
  assert.equal((sim.getWorkspace(state.workspaces[0].id) as any).latest_build.transition, 'stop');
});

test('agent logs without follow honour after=; the latency fault delays answers', async (t) => {
  const sim = await startSimulator({ clock: 'manual', agentTimings: { connectMs: 10, startingMs: 10, readyMs: 10 } });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const agentId = sim.findAgent(id, 'main').id;
  sim.world.reinit(agentId);
  await sim.clock.advance(100);
  const all = await get(sim, `/workspaceagents/${agentId}/logs`);
  assert.equal(all.status, 200);
  assert.ok(all.body.length >= 3);
  const after = await get(sim, `/workspaceagents/${agentId}/logs?after=${all.body[0].id}`);
  assert.equal(after.body.length, all.body.length - 1);
  sim.fault('latency', { ms: 150 });
  const t0 = Date.now();
  await get(sim, '/users/me');
  assert.ok(Date.now() - t0 >= 140, 'the answer waited for the injected latency');
});
