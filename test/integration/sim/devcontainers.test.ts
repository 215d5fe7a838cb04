/** Conformance of the simulator's dev-container routes with coderd's (coder-api.md section 3.4). */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type SimOptions } from '../../sim';
import { get, openWs, post } from './helpers';

const timings: SimOptions = {
  clock: 'manual',
  agentTimings: { connectMs: 100, startingMs: 100, readyMs: 100 },
  buildTimings: { pendingMs: 100, runningMs: 100 },
};

async function setup(t: TestContext, opts: SimOptions = {}) {
  const sim = await startSimulator({ ...timings, ...opts });
  t.after(() => sim.close());
  const id = sim.createWorkspace({
    name: 'dev',
    agents: [
      {
        name: 'main',
        children: [{ name: 'app' }],
        devcontainers: [{ name: 'app', agent: 'app', workspaceFolder: '/src/app', dirty: true }],
      },
    ],
  });
  const parent = sim.findAgent(id, 'main');
  return { sim, id, parent };
}

test('containers list: codersdk shape, the sub-agent linked by agent and subagent_id', async (t) => {
  const { sim, id, parent } = await setup(t);
  const res = await get(sim, `/workspaceagents/${parent.id}/containers`);
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(res.body).sort(), ['containers', 'devcontainers', 'warnings']);
  const [dc] = res.body.devcontainers;
  const sub = sim.findAgent(id, 'app');
  assert.equal(sub.parent_id, parent.id);
  for (const k of ['id', 'name', 'workspace_folder', 'config_path', 'status', 'dirty']) assert.ok(k in dc, k);
  assert.equal(dc.status, 'running');
  assert.equal(dc.dirty, true);
  assert.equal(dc.workspace_folder, '/src/app');
  assert.deepEqual(dc.agent, { id: sub.id, name: 'app', directory: '/src/app' });
  assert.equal(dc.subagent_id, sub.id);
  assert.equal(dc.container.id, res.body.containers[0].id);
  assert.equal(dc.container.running, true);
});

test('recreate: 202, starting at once, 409 while transitioning, the sub-agent back under a new ID, then ready', async (t) => {
  const { sim, id, parent } = await setup(t);
  const oldSub = sim.findAgent(id, 'app');
  const dcId = (await get(sim, `/workspaceagents/${parent.id}/containers`)).body.devcontainers[0].id;
  const watch = openWs(sim, `/workspaceagents/${parent.id}/containers/watch`);
  await watch.opened;
  const path = `/workspaceagents/${parent.id}/containers/devcontainers/${dcId}/recreate`;
  const res = await post(sim, path, {});
  assert.equal(res.status, 202);
  assert.equal(res.body.message, 'Devcontainer recreation initiated');
  assert.equal(res.body.detail, 'Recreation process for devcontainer "app" has started.');
  const first = await watch.next();
  assert.equal(first.devcontainers[0].status, 'starting');
  assert.equal(first.devcontainers[0].dirty, false);
  assert.equal(first.devcontainers[0].container, undefined, 'the container went away');
  const busy = await post(sim, path, {});
  assert.equal(busy.status, 409);
  assert.equal(busy.body.message, 'Unable to recreate transitioning devcontainer');
  await sim.clock.advance(100);
  assert.equal(sim.findAgent(id, 'app'), undefined, 'the injected sub-agent is deleted');
  const gone = await watch.next();
  assert.equal(gone.devcontainers[0].agent, undefined);
  await sim.clock.advance(100);
  const back = sim.findAgent(id, 'app');
  assert.notEqual(back.id, oldSub.id, 'a new agent ID');
  assert.equal(back.parent_id, parent.id, 'the same parent');
  const running = await watch.next();
  assert.equal(running.devcontainers[0].status, 'running');
  assert.equal(running.devcontainers[0].agent.id, back.id);
  await sim.clock.advance(400);
  assert.equal(sim.findAgent(id, 'app').lifecycle_state, 'ready');
  assert.equal(sim.findAgent(id, 'app').status, 'connected');
});

test('recreate of a template-defined sub-agent keeps its ID', async (t) => {
  const sim = await startSimulator(timings);
  t.after(() => sim.close());
  const id = sim.createWorkspace({
    name: 'dev',
    agents: [{ name: 'main', children: [{ name: 'app' }], devcontainers: [{ name: 'app', agent: 'app', keepsAgentId: true }] }],
  });
  const parent = sim.findAgent(id, 'main');
  const sub = sim.findAgent(id, 'app');
  const dcId = (await get(sim, `/workspaceagents/${parent.id}/containers`)).body.devcontainers[0].id;
  assert.equal((await post(sim, `/workspaceagents/${parent.id}/containers/devcontainers/${dcId}/recreate`, {})).status, 202);
  await sim.clock.advance(1000);
  assert.equal(sim.findAgent(id, 'app').id, sub.id);
  assert.equal(sim.findAgent(id, 'app').lifecycle_state, 'ready');
});

test('unknown dev container: 404; a parent that is not connected: 400 on list, watch and recreate; delete: 204', async (t) => {
  const { sim, id, parent } = await setup(t);
  const dcId = (await get(sim, `/workspaceagents/${parent.id}/containers`)).body.devcontainers[0].id;
  const unknown = await post(
    sim,
    `/workspaceagents/${parent.id}/containers/devcontainers/00000000-0000-0000-0000-000000000000/recreate`,
    {},
  );
  assert.equal(unknown.status, 404);
  const del = await fetch(`${sim.url}/api/v2/workspaceagents/${parent.id}/containers/devcontainers/${dcId}`, {
    method: 'DELETE',
    headers: { 'Coder-Session-Token': sim.token },
  });
  assert.equal(del.status, 204);
  await sim.clock.advance(100);
  assert.deepEqual((await get(sim, `/workspaceagents/${parent.id}/containers`)).body.devcontainers, []);
  assert.equal(sim.findAgent(id, 'app'), undefined);
  sim.setAgentConnected(parent.id, false);
  const list = await get(sim, `/workspaceagents/${parent.id}/containers`);
  assert.equal(list.status, 400);
  assert.equal(list.body.message, 'Agent state is "disconnected", it must be in the "connected" state.');
  assert.equal(await openWs(sim, `/workspaceagents/${parent.id}/containers/watch`).refused, 400);
  assert.equal((await post(sim, `/workspaceagents/${parent.id}/containers/devcontainers/${dcId}/recreate`, {})).status, 400);
});

test('an agent whose template turned dev containers off, and a sub-agent: 403 on list and watch', async (t) => {
  const sim = await startSimulator(timings);
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev', agents: [{ name: 'main', devcontainersDisabled: true, children: [{ name: 'app' }] }] });
  const main = sim.findAgent(id, 'main');
  const off = await get(sim, `/workspaceagents/${main.id}/containers`);
  assert.equal(off.status, 403);
  assert.equal(off.body.message, 'Dev Container feature not enabled.');
  assert.equal(await openWs(sim, `/workspaceagents/${main.id}/containers/watch`).refused, 403);
  const inside = await get(sim, `/workspaceagents/${sim.findAgent(id, 'app').id}/containers`);
  assert.equal(inside.status, 403);
  assert.equal(inside.body.message, 'Dev Container feature not supported.');
});

test('the watch closes when the parent agent disconnects', async (t) => {
  const { sim, parent } = await setup(t);
  const watch = openWs(sim, `/workspaceagents/${parent.id}/containers/watch`);
  await watch.opened;
  sim.setAgentConnected(parent.id, false);
  assert.equal((await watch.closed).code, 1011);
});

test('switched off (a server before dev containers): 404 on every route; 401 without a token', async (t) => {
  const { sim, parent } = await setup(t, { operations: { devcontainers: false } });
  assert.equal((await get(sim, `/workspaceagents/${parent.id}/containers`)).status, 404);
  assert.equal(await openWs(sim, `/workspaceagents/${parent.id}/containers/watch`).refused, 404);
  assert.equal((await post(sim, `/workspaceagents/${parent.id}/containers/devcontainers/x/recreate`, {})).status, 404);
  sim.setOperations({ devcontainers: true });
  assert.equal((await get(sim, `/workspaceagents/${parent.id}/containers`, {})).status, 401);
  assert.equal(await openWs(sim, `/workspaceagents/${parent.id}/containers/watch`, {}).refused, 401);
});
