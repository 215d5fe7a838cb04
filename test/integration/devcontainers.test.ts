/**
 * Dev containers end to end against the simulator: api + sync + model, the rebuild wait, and a
 * bound core following the sub-agent across the recreate (it comes back under a new ID).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DevcontainerError, recreateDevcontainer } from '../../src/api/devcontainers';
import { systemClock } from '../../src/common/clock';
import { BindingTracker } from '../../src/model/binding';
import { DevcontainerStore } from '../../src/model/devcontainers';
import type { Decision } from '../../src/model/reconnect';
import { ReconnectRunner } from '../../src/sync/reconnectRunner';
import { BindingFollower } from '../../src/sync/bindingFollower';
import { rebuildDevcontainer } from '../../src/sync/devcontainerRebuild';
import { startSimulator, type SimOptions } from '../sim';
import { startBoundCore } from './core';

const fast: SimOptions = { agentTimings: { connectMs: 30, startingMs: 30, readyMs: 100 }, buildTimings: { pendingMs: 30, runningMs: 60 } };

async function setup(t: TestContext, simOpts: SimOptions = {}) {
  const sim = await startSimulator({ ...fast, ...simOpts });
  t.after(() => sim.close());
  const id = sim.createWorkspace({
    name: 'dev',
    agents: [{ name: 'main', children: [{ name: 'app' }], devcontainers: [{ name: 'app', agent: 'app', dirty: true }] }],
  });
  const store = new DevcontainerStore();
  const core = startBoundCore(t, sim, id, {}, { devcontainers: store, agentName: 'app' });
  await core.until(() => !!core.fleet.findAgent(id, 'app', 'main'), 'the workspace');
  return { sim, id, core, store, parentId: () => core.fleet.findAgent(id, 'main', null)!.id };
}

test('the bound workspace: dev containers listed with status, dirty and the sub-agent; recreate brings the sub-agent back under a new ID and the binding follows', async (t) => {
  const { sim, id, core, store, parentId } = await setup(t);
  await core.until(() => store.of(parentId()).length === 1, 'the dev container');
  const dc = store.of(parentId())[0]!;
  assert.equal(dc.status, 'running');
  assert.equal(dc.dirty, true);
  const oldSub = core.fleet.findAgent(id, 'app', 'main')!;
  assert.equal(store.subAgentOf(dc, core.fleet.childrenOf(id, parentId())), oldSub);

  const machine = new ReconnectRunner({ clock: systemClock, support: () => 'unknown' });
  t.after(() => machine.dispose());
  const decisions: Decision[] = [];
  machine.onDecision((d) => decisions.push(d));
  const tracker = new BindingTracker(systemClock);
  const follower = new BindingFollower(core.fleet, tracker, machine);
  core.sync.onChanges((c) => follower.onChanges(c));
  follower.follow({ workspaceId: id, name: 'app', parentName: 'main' });
  assert.equal(tracker.bound?.agentId, oldSub.id);

  let second: Promise<unknown> | undefined;
  const rebuilding = rebuildDevcontainer(
    { client: core.client, fleet: core.fleet, store, clock: systemClock, onChanges: (l) => core.sync.onChanges(l) },
    { workspaceId: id, parentAgentId: parentId(), devcontainerId: dc.id, subAgentName: 'app', parentName: 'main' },
    10_000,
    {
      onRequested: () => {
        second = recreateDevcontainer(core.client, parentId(), dc.id).then(
          () => 'accepted',
          (e: unknown) => e,
        );
      },
    },
  );
  const result = await rebuilding;
  // Asked again while it was transitioning, the deployment refused: a typed 409.
  assert.ok(second);
  const refusal = await second;
  assert.ok(refusal instanceof DevcontainerError && refusal.kind === 'transitioning', String(refusal));
  assert.equal(result.kind, 'ready');
  const newSub = sim.findAgent(id, 'app');
  assert.ok(result.kind === 'ready' && result.agentId === newSub.id && result.previousAgentId === oldSub.id);
  assert.notEqual(newSub.id, oldSub.id);
  assert.equal(newSub.parent_id, parentId());
  await core.until(() => tracker.bound?.agentId === newSub.id, 'the binding on the new sub-agent');
  await core.until(() => decisions.some((d) => d.kind === 'reconnect'), 'the reconnect decision');
  const reconnect = decisions.find((d) => d.kind === 'reconnect');
  assert.ok(reconnect?.kind === 'reconnect' && reconnect.agentId === newSub.id);
  await core.until(() => store.of(parentId())[0]?.agent?.id === newSub.id, 'the list names the new sub-agent');
  assert.equal(store.of(parentId())[0]!.dirty, false);
  assert.equal(store.devcontainerOf(parentId(), core.fleet.findAgent(id, 'app', 'main')!)?.id, dc.id);
  assert.equal(core.log.lines.filter((l) => l.startsWith('error')).length, 0, core.log.lines.join('\n'));
});

test('a server without dev containers (404): the feature turns off once, logged once, nothing asked again', async (t) => {
  const { sim, id, core, store } = await setup(t, { operations: { devcontainers: false } });
  await core.until(() => store.supported === 'unsupported', 'the feature off');
  const routes = () =>
    Object.entries(sim.stats().requestsByRoute)
      .filter(([r]) => r.includes('containers'))
      .reduce((n, [, c]) => n + c, 0);
  const asked = routes();
  assert.ok(asked >= 1 && asked <= 2, `${asked} requests`);
  // A rebuild gives the parent a new ID, a row becomes visible: still nothing asked.
  sim.scenario('rebuild', id);
  await core.until(
    () =>
      sim.findAgent(id, 'app')?.lifecycle_state === 'ready' && core.fleet.findAgent(id, 'app', 'main')?.id === sim.findAgent(id, 'app').id,
    'the rebuild',
  );
  core.sync.setVisibleWorkspaces([id]);
  await core.sync.refresh();
  assert.equal(routes(), asked);
  const lines = core.log.lines.filter((l) => l.includes('does not offer them'));
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.equal(core.log.lines.filter((l) => l.startsWith('error') || l.startsWith('warn')).length, 0, core.log.lines.join('\n'));
});

test('a parent agent that is not connected (400) is a state, not an error; the list comes back when it connects', async (t) => {
  const { sim, core, store, parentId } = await setup(t);
  await core.until(() => store.of(parentId()).length === 1, 'the dev container');
  const parent = parentId();
  sim.setAgentConnected(parent, false);
  await core.until(() => store.state(parent)?.kind === 'not-connected', 'the not-connected state');
  assert.deepEqual(store.of(parent), []);
  sim.setAgentConnected(parent, true);
  await core.until(() => store.state(parent)?.kind === 'listed' && store.of(parent).length === 1, 'listed again');
  assert.equal(core.log.lines.filter((l) => l.startsWith('error') || l.startsWith('warn')).length, 0, core.log.lines.join('\n'));
});

test('an agent with dev containers turned off (403) is a state: no watch, no warning; its sibling is followed', async (t) => {
  const sim = await startSimulator(fast);
  t.after(() => sim.close());
  const id = sim.createWorkspace({
    name: 'dev',
    agents: [
      { name: 'main', devcontainersDisabled: true },
      { name: 'box', children: [{ name: 'app' }], devcontainers: [{ name: 'app', agent: 'app' }] },
    ],
  });
  const store = new DevcontainerStore();
  const core = startBoundCore(t, sim, id, {}, { devcontainers: store });
  const idOf = (name: string) => core.fleet.findAgent(id, name, null)?.id ?? '';
  await core.until(() => store.state(idOf('main'))?.kind === 'disabled' && store.of(idOf('box')).length === 1, 'both answers');
  await core.until(() => (sim.stats().requestsByRoute['WS containers'] ?? 0) === 1, 'the watch of box');
  // A refresh reads both lists again; the agent without dev containers still gets no watch.
  const lists = () => sim.stats().requestsByRoute['GET /workspaceagents/{}/containers'] ?? 0;
  const before = lists();
  await core.sync.refresh();
  await core.until(() => lists() >= before + 2, 'both lists read again');
  assert.equal(sim.stats().requestsByRoute['WS containers'], 1, 'no watch for the agent without dev containers');
  assert.equal(core.log.lines.filter((l) => l.startsWith('error') || l.startsWith('warn')).length, 0, core.log.lines.join('\n'));
});

test('only the bound and visible workspaces are followed; a workspace that leaves the set has its watches closed', async (t) => {
  const sim = await startSimulator(fast);
  t.after(() => sim.close());
  const spec = (name: string) => ({
    name,
    agents: [{ name: 'main', children: [{ name: 'app' }], devcontainers: [{ name: 'app', agent: 'app' }] }],
  });
  const a = sim.createWorkspace(spec('a'));
  const b = sim.createWorkspace(spec('b'));
  const store = new DevcontainerStore();
  const core = startBoundCore(t, sim, a, {}, { devcontainers: store });
  const parentOf = (w: string) => core.fleet.findAgent(w, 'main', null)?.id ?? '';
  await core.until(() => store.of(parentOf(a)).length === 1, 'the bound workspace listed');
  const watches = () => sim.stats().requestsByRoute['WS containers'] ?? 0;
  await core.until(() => watches() === 1, 'the watch of the bound workspace');
  assert.equal(store.state(parentOf(b)), undefined, 'b is running but not visible: not followed');
  core.sync.setVisibleWorkspaces([b]);
  await core.until(() => store.of(parentOf(b)).length === 1, 'the visible workspace listed');
  await core.until(() => watches() === 2, 'a watch for b');
  const open = sim.stats().openStreams;
  core.sync.setVisibleWorkspaces([]);
  await core.until(() => store.state(parentOf(b)) === undefined, 'b forgotten');
  await core.until(() => sim.stats().openStreams === open - 1, 'the watch of b closed (its workspace stream stays: b is running)');
});

test('a parent that leaves the set has its list read cancelled: a burst of live-set changes sends no request for forgotten parents', async (t) => {
  const sim = await startSimulator(fast);
  t.after(() => sim.close());
  const spec = (name: string) => ({ name, agents: [{ name: 'main', devcontainers: [{ name: 'app' }] }] });
  const a = sim.createWorkspace(spec('a'));
  const b = sim.createWorkspace(spec('b'));
  const store = new DevcontainerStore();
  const core = startBoundCore(t, sim, a, {}, { devcontainers: store });
  const parentOf = (w: string) => core.fleet.findAgent(w, 'main', null)?.id ?? '';
  await core.until(() => store.of(parentOf(a)).length === 1 && parentOf(b) !== '', 'the bound workspace listed');
  const watches = () => sim.stats().requestsByRoute['WS containers'] ?? 0;
  await core.until(() => watches() === 1, 'the watch of the bound workspace');
  const lists = () => sim.stats().requestsByRoute['GET /workspaceagents/{}/containers'] ?? 0;
  const before = lists();
  // Each change makes b's parent followed, then forgotten again, before any answer can come back.
  for (let i = 0; i < 50; i++) {
    core.sync.setVisibleWorkspaces([b]);
    core.sync.setVisibleWorkspaces([]);
  }
  core.sync.setVisibleWorkspaces([b]);
  await core.until(() => store.of(parentOf(b)).length === 1, 'b listed');
  await core.until(() => watches() === 2, 'a watch for b');
  await core.sync.refresh();
  // The last follow's read (and its one coalesced re-read), the read when its watch opened, and the refresh's reads.
  const sent = lists() - before;
  assert.ok(sent <= 5, `${sent} list requests for 51 follows of b`);
});
